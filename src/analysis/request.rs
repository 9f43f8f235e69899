//! The messages between the page and the engine when the engine runs elsewhere (a Web
//! Worker): one [`Request`] per analysis, answered by [`Response`]s, each in an [`Envelope`]
//! that carries the number of the request it belongs to. Plain serde data, posted as JSON.
//!
//! The rules both sides keep:
//! - A request carries everything it needs (the text and the [`AnalysisSpec`]), so any worker
//!   can answer any request; a worker may keep the last analysis to answer the next request on
//!   the same input without re-parsing (see [`super::session`]). The one exception is the
//!   text: a worker is sent each new text once, on its own and numbered, and the requests
//!   about it name its number ([`Input::text_id`]); a worker answers a request naming another
//!   number than its last text's with [`Response::Failed`], never with the analysis of
//!   another text.
//! - Long work answers with [`Response::Progress`] between slices and ends with one final
//!   response (the record, [`Response::Failed`] or [`Response::Cancelled`]).
//! - A newer request supersedes an older one of the same kind: the page keeps a [`Latest`] per
//!   kind, sends [`Request::Cancel`] for the request it replaces, and drops every response
//!   whose number is not the latest, so no stale result is ever shown.
//! - Embarrassingly parallel work is split into [`PartRecord`]s whose results merge into the
//!   result of the whole, whatever the number of parts ([`Gather`]).
//!
//! A new analysis adds one `Request` variant and its [`Kind`]; a quick one (answered in one
//! go) one [`Record`] variant, a long one (GOSH, leave-one-out at large k, profile likelihoods)
//! one final `Response` variant and one job in [`super::session`]; progress, cancelling,
//! superseding and splitting are shared.
//!
//! The enums are tagged the way serde tags by default, by a key around the variant's fields
//! (`{"analyse": {"input": …}}`, a bare `"cancel"`): the reader then decodes a message as it
//! goes, where a tag inside the fields would make it buffer the whole message first (10–25 ms
//! of the page's main thread for an analysis of 20,000 studies).

use serde::{Deserialize, Serialize};

use super::anova::Comparisons;
use super::component_profile::ComponentProfile;
use super::cumul::CumulRecord;
use super::gosh::{GoshPartRecord, GoshPoints, GoshRecord};
use super::ipd::{IpdRecord, IpdSettings, SubgroupInteractionRecord};
use super::lab::{LabRecord, LabSettings};
use super::moderator::ModeratorCurve;
use super::profile::ProfileRecord;
use super::record::Egger;
use super::sensitivity::Sensitivity;
use super::subgroup_analysis::SubgroupAnalysis;
use super::subgroups::Subgroups;
use super::{Analysis, AnalysisSpec};
use crate::data::ipd::{IpdColumns, SubgroupColumns};
use crate::stats::{GoshSettings, Part, PermutationCounts, PermutationSettings, StatsError};

mod gather;

pub use gather::{Gather, Gathered, Latest};

/// A message and the number of the request it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// The request's number, increasing per page.
    pub id: u64,
    /// The message.
    pub body: T,
}

/// The data and what to do with it: the input of every request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// The table as text; empty when [`Input::text_id`] stands for it.
    pub text: String,
    /// The number of a text the engine was sent before on its own ([`Mailbox::keep_text`]),
    /// standing for the text: a text of 20,000 studies (800 KB) then crosses to a worker once,
    /// not with every request about it.
    ///
    /// [`Mailbox::keep_text`]: super::session::Mailbox::keep_text
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_id: Option<u64>,
    /// The analysis asked for.
    pub spec: AnalysisSpec,
}

/// What the page asks of the engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// Every stage of the analysis of the input; answered by [`Record::Analysis`].
    Analyse {
        /// The data and the analysis.
        input: Input,
    },
    /// The analysis of every study while the page's analysis leaves one out (the Sensitivity
    /// pane's refits start from it); answered by [`Record::Analysis`] as [`Request::Analyse`],
    /// but a kind of its own, so that neither supersedes the other.
    FullAnalyse {
        /// The data and the analysis, with no study left out.
        input: Input,
    },
    /// The fitted effect along one moderator; answered by [`Record::Curve`].
    Curve {
        /// The data and the analysis.
        input: Input,
        /// The moderator column.
        column: String,
    },
    /// Subgroup fits by the levels of a column; answered by [`Record::Subgroups`].
    Subgroups {
        /// The data and the analysis.
        input: Input,
        /// The grouping column.
        column: String,
    },
    /// Egger's regression test of the fit; answered by [`Record::Egger`].
    Egger {
        /// The data and the analysis.
        input: Input,
    },
    /// The profile likelihood of the fit's τ²; answered by [`Response::Progress`] between
    /// slices of its likelihood evaluations (of its profile fits, for a multilevel model),
    /// then [`Record::Profile`], or [`Record::ComponentProfiles`] (each σ²) for a multilevel
    /// model.
    Profile {
        /// The data and the analysis.
        input: Input,
    },
    /// One part of a permutation test of the input's model; answered by progress, then
    /// [`Response::Permutation`] with the part's counts.
    Permutation {
        /// The data and the analysis whose fit is tested.
        input: Input,
        /// How many permutations and the seed.
        settings: SettingsRecord,
        /// Which share of the permutations this request runs.
        part: PartRecord,
    },
    /// The Sensitivity view's case deletions (influence, leave-one-out, Baujat, the
    /// residual plots); answered by [`Response::Progress`] between slices of its k refits, then
    /// [`Record::Sensitivity`].
    Sensitivity {
        /// The data and the analysis.
        input: Input,
    },
    /// A cumulative meta-analysis in input order or sorted by a column; answered by
    /// [`Record::Cumul`].
    Cumul {
        /// The data and the analysis.
        input: Input,
        /// The column the studies are added in order of; `None` for input order.
        order: Option<String>,
    },
    /// One part of a GOSH analysis of the input's model; answered by [`Response::GoshBatch`]es
    /// of subsets' points as they are fitted, then [`Response::Gosh`] with the part's summary.
    Gosh {
        /// The data and the analysis whose model is fitted to subsets.
        input: Input,
        /// How many subsets and the seed.
        settings: GoshSettingsRecord,
        /// Which share of the subsets this request fits.
        part: PartRecord,
    },
    /// The two-stage analysis of a table of participants (its own table, not the
    /// workspace's), studies that cannot be fitted left out; answered by [`Record::Ipd`].
    Ipd {
        /// The table of participants as text.
        text: String,
        /// Its study, treatment, outcome and covariate columns.
        columns: IpdColumns,
        /// Family, estimator and level.
        settings: IpdSettings,
    },
    /// Within- and across-study estimates from a table of subgroup effects; answered by
    /// [`Record::SubgroupInteraction`].
    SubgroupInteraction {
        /// The table of studies as text.
        text: String,
        /// Its columns.
        columns: SubgroupColumns,
        /// Estimator and level (the family is not used).
        settings: IpdSettings,
    },
    /// The subgroup analysis under the forest plot (a model per level, the test for subgroup
    /// differences and the meta-regression's); answered by [`Record::SubgroupAnalysis`].
    SubgroupAnalysis {
        /// The data and the analysis.
        input: Input,
        /// The grouping column.
        column: String,
        /// Whether every subgroup uses one common τ².
        common: bool,
    },
    /// The current model against each pinned formula (the Compare-models panel); answered by
    /// [`Record::Comparisons`].
    Compare {
        /// The data and the analysis of the current model.
        input: Input,
        /// The pinned formulas (`None`: intercept only).
        pinned: Vec<Option<String>>,
    },
    /// The ecological-bias lab's simulated trials and their analyses; answered by
    /// [`Record::Lab`].
    Lab {
        /// The simulation's settings.
        settings: LabSettings,
    },
    /// Stops the request with the envelope's number; answered by [`Response::Cancelled`] if it
    /// was still running.
    Cancel,
}

impl Request {
    /// Share `part` of the request, if it splits over the workers (a permutation test, a GOSH
    /// analysis): the same request naming that part.
    pub fn share(&self, part: PartRecord) -> Option<Self> {
        match self {
            Self::Permutation {
                input, settings, ..
            } => Some(Self::Permutation {
                input: input.clone(),
                settings: *settings,
                part,
            }),
            Self::Gosh {
                input, settings, ..
            } => Some(Self::Gosh {
                input: input.clone(),
                settings: *settings,
                part,
            }),
            _ => None,
        }
    }

    /// Whether the request is answered in slices with progress (else in one go, before the
    /// next slice of a long request).
    pub fn is_long(&self) -> bool {
        matches!(
            self,
            Self::Permutation { .. }
                | Self::Gosh { .. }
                | Self::Sensitivity { .. }
                | Self::Cumul { .. }
                | Self::Profile { .. }
        )
    }

    /// The input of a request about the workspace's data, if it is one.
    pub fn input_mut(&mut self) -> Option<&mut Input> {
        match self {
            Self::Analyse { input }
            | Self::FullAnalyse { input }
            | Self::Curve { input, .. }
            | Self::Subgroups { input, .. }
            | Self::Egger { input }
            | Self::Profile { input }
            | Self::Permutation { input, .. }
            | Self::Sensitivity { input }
            | Self::Cumul { input, .. }
            | Self::Compare { input, .. }
            | Self::SubgroupAnalysis { input, .. }
            | Self::Gosh { input, .. } => Some(input),
            Self::Ipd { .. }
            | Self::SubgroupInteraction { .. }
            | Self::Lab { .. }
            | Self::Cancel => None,
        }
    }

    /// Its kind: a newer request supersedes an older one of the same kind.
    pub fn kind(&self) -> Kind {
        match self {
            Self::Analyse { .. } | Self::Cancel => Kind::Analysis,
            Self::FullAnalyse { .. } => Kind::FullAnalysis,
            Self::Curve { .. } => Kind::Curve,
            Self::Subgroups { .. } => Kind::Subgroups,
            Self::Egger { .. } => Kind::Egger,
            Self::Profile { .. } => Kind::Profile,
            Self::Permutation { .. } => Kind::Permutation,
            Self::Sensitivity { .. } => Kind::Sensitivity,
            Self::Cumul { .. } => Kind::Cumul,
            Self::Gosh { .. } => Kind::Gosh,
            Self::Ipd { .. } => Kind::Ipd,
            Self::SubgroupInteraction { .. } => Kind::SubgroupInteraction,
            Self::Compare { .. } => Kind::Compare,
            Self::SubgroupAnalysis { .. } => Kind::SubgroupAnalysis,
            Self::Lab { .. } => Kind::Lab,
        }
    }
}

/// The kinds of request, one record each; the page shows the latest request's answer per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// The analysis.
    Analysis,
    /// The analysis of every study, while the page's leaves one out.
    FullAnalysis,
    /// The fitted effect along a moderator.
    Curve,
    /// Subgroup fits.
    Subgroups,
    /// Egger's test.
    Egger,
    /// The profile likelihood of τ².
    Profile,
    /// A permutation test.
    Permutation,
    /// The case deletions of the Sensitivity view.
    Sensitivity,
    /// A cumulative meta-analysis.
    Cumul,
    /// A GOSH analysis.
    Gosh,
    /// A two-stage IPD analysis.
    Ipd,
    /// Within- and across-study estimates from subgroup effects.
    SubgroupInteraction,
    /// The ecological-bias lab's simulation.
    Lab,
    /// The Compare-models panel's comparisons.
    Compare,
    /// The subgroup analysis under the forest plot.
    SubgroupAnalysis,
}

impl Kind {
    /// Every kind, in order.
    pub const ALL: [Self; 15] = [
        Self::Analysis,
        Self::FullAnalysis,
        Self::Curve,
        Self::Subgroups,
        Self::Egger,
        Self::Profile,
        Self::Permutation,
        Self::Sensitivity,
        Self::Cumul,
        Self::Gosh,
        Self::Ipd,
        Self::SubgroupInteraction,
        Self::Lab,
        Self::Compare,
        Self::SubgroupAnalysis,
    ];
}

/// A record the engine computes in one go, with no progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    /// The analysis, and why the prediction asked for cannot be made when the rest can.
    Analysis {
        /// The analysis.
        analysis: Analysis,
        /// The prediction form's error, if any.
        prediction_error: Option<String>,
    },
    /// The fitted effect along a moderator.
    Curve {
        /// The curve or levels.
        curve: ModeratorCurve,
    },
    /// Subgroup fits.
    Subgroups {
        /// The subgroups and the test of their difference.
        subgroups: Subgroups,
    },
    /// Egger's test, when the model allows it.
    Egger {
        /// The test.
        egger: Option<Egger>,
    },
    /// The profile likelihood of τ².
    Profile {
        /// The curve, its maximum and both intervals.
        profile: ProfileRecord,
    },
    /// The profile likelihood of each σ² of a multilevel model (the answer to
    /// [`Request::Profile`] when the effects within studies are modelled as dependent).
    ComponentProfiles {
        /// One profile per component, in metafor's order.
        profiles: Vec<ComponentProfile>,
    },
    /// The Sensitivity view's records.
    Sensitivity {
        /// Influence, leave-one-out, Baujat and the residual plots.
        sensitivity: Sensitivity,
    },
    /// A cumulative meta-analysis.
    Cumul {
        /// Its steps.
        cumul: CumulRecord,
    },
    /// A two-stage IPD analysis.
    Ipd {
        /// The studies, both slopes, their difference and the studies left out.
        ipd: IpdRecord,
    },
    /// Within- and across-study estimates from subgroup effects.
    SubgroupInteraction {
        /// The studies, both slopes and their difference.
        interaction: SubgroupInteractionRecord,
    },
    /// The lab's trials, their analyses on each scale and the within-trial truth.
    Lab {
        /// The simulation's record.
        lab: LabRecord,
    },
    /// The subgroup analysis by one column.
    SubgroupAnalysis {
        /// Each subgroup's model and the tests of their differences.
        analysis: SubgroupAnalysis,
    },
    /// The current model and each pinned one compared with it.
    Comparisons {
        /// The current model's fit and the comparisons.
        comparisons: Comparisons,
    },
}

/// A stage the engine ran for a request, and how long it took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTime {
    /// The stage, as the page names its measures (`parse`, `fit`, `subgroups`, …).
    pub name: String,
    /// Milliseconds.
    pub ms: f64,
}

/// What the engine answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    /// The engine has loaded and takes requests (sent once, with number 0).
    Ready,
    /// Work done so far of a long request.
    Progress {
        /// Units done (permutations, subsets, refits).
        done: usize,
        /// Units in all.
        total: usize,
    },
    /// The record of a quick request, and the stages run for it (those kept from earlier
    /// requests are not listed).
    Record {
        /// The record.
        record: Box<Record>,
        /// The stages run.
        stages: Vec<StageTime>,
    },
    /// The counts of one part of a permutation test.
    Permutation {
        /// What the part's permutations counted.
        counts: CountsRecord,
    },
    /// Subsets of a GOSH analysis fitted since the last batch, and the progress.
    GoshBatch {
        /// Their points.
        points: GoshPoints,
        /// Subsets drawn so far.
        done: usize,
        /// Subsets in all.
        total: usize,
    },
    /// The end of a part of a GOSH analysis: the last subsets' points and the part's summary.
    Gosh {
        /// The last subsets' points.
        points: GoshPoints,
        /// The part's summary, to merge with the other parts'; boxed, as the largest answer.
        part: Box<GoshPartRecord>,
    },
    /// The request failed; the sentence says why.
    Failed {
        /// The error, as the page shows it.
        message: String,
    },
    /// The request was cancelled before it finished.
    Cancelled,
}

impl Response {
    /// Whether this is the last response to its request.
    pub fn is_final(&self) -> bool {
        !matches!(self, Self::Ready) && !self.is_progress()
    }

    /// Whether this reports the progress of a long request (the slices' sizes follow these).
    pub fn is_progress(&self) -> bool {
        matches!(self, Self::Progress { .. } | Self::GoshBatch { .. })
    }

    /// Reads the next part of its record that a worker's answer left as text
    /// ([`super::later::Later`]): whether there was one.
    pub fn read_next_part(&self) -> bool {
        match self {
            Self::Record { record, .. } => match record.as_ref() {
                Record::Sensitivity { sensitivity } => sensitivity.read_next_part(),
                _ => false,
            },
            _ => false,
        }
    }
}

/// The record of `stats::PermutationSettings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsRecord {
    /// Permutations, the observed data included.
    pub iterations: usize,
    /// Seed of the random permutations.
    pub seed: u64,
}

impl From<PermutationSettings> for SettingsRecord {
    fn from(s: PermutationSettings) -> Self {
        Self {
            iterations: s.iterations,
            seed: s.seed,
        }
    }
}

impl From<SettingsRecord> for PermutationSettings {
    fn from(s: SettingsRecord) -> Self {
        Self {
            iterations: s.iterations,
            seed: s.seed,
        }
    }
}

/// The record of `stats::GoshSettings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoshSettingsRecord {
    /// Subsets to fit; all 2ᵏ − 1 when that is no more.
    pub subsets: usize,
    /// Seed of the random subsets.
    pub seed: u64,
}

impl From<GoshSettingsRecord> for GoshSettings {
    fn from(s: GoshSettingsRecord) -> Self {
        Self {
            subsets: s.subsets,
            seed: s.seed,
        }
    }
}

/// The record of `stats::Part`: share `index` (from 0) of `of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRecord {
    /// The 0-based part.
    pub index: usize,
    /// The number of parts.
    pub of: usize,
}

impl PartRecord {
    /// The part in the core's type.
    ///
    /// # Errors
    /// [`StatsError::InvalidPart`] unless `index < of`.
    pub fn part(self) -> Result<Part, StatsError> {
        Part::new(self.index, self.of)
    }
}

/// The record of `stats::PermutationCounts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountsRecord {
    /// Permutations of the whole test.
    pub total: usize,
    /// Permutations counted.
    pub done: usize,
    /// Per coefficient, the permutations at least as extreme as the observed data.
    pub exceed: Vec<usize>,
    /// The same for the test of moderators, if the model has one.
    pub exceed_qm: Option<usize>,
    /// Whether the test runs every arrangement once.
    pub exact: bool,
    /// Whether rows of X are permuted (otherwise signs are flipped).
    pub permuted_rows: bool,
}

impl From<PermutationCounts> for CountsRecord {
    fn from(c: PermutationCounts) -> Self {
        Self {
            total: c.total,
            done: c.done,
            exceed: c.exceed,
            exceed_qm: c.exceed_qm,
            exact: c.exact,
            permuted_rows: c.permuted_rows,
        }
    }
}

impl From<CountsRecord> for PermutationCounts {
    fn from(c: CountsRecord) -> Self {
        Self {
            total: c.total,
            done: c.done,
            exceed: c.exceed,
            exceed_qm: c.exceed_qm,
            exact: c.exact,
            permuted_rows: c.permuted_rows,
        }
    }
}

#[cfg(test)]
mod tests;
