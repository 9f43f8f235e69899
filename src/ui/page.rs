//! The page's signals and memos: one signal per concern of the state (text, columns, model,
//! study-level averages, plot options), one memo per stage the page itself needs (table →
//! studies → model: what the data and model panes show, with their typed errors), and the
//! records the engine computes off the main thread ([`crate::worker`]): the fit, the
//! prediction and the analysis, and each derived analysis (subgroups, the fitted line along a
//! moderator, Egger's test). Each record is a request built by a memo, so an edit asks again
//! only when the request changed; the engine keeps its stages, so a new estimator refits
//! without re-parsing and a plot option refits nothing; derived analyses are asked for only
//! when a plot shows them. While a newer answer is computed the last one stays, and
//! [`Page::updating`] says so. The Sensitivity pane's refits (the case deletions and the
//! cumulative analysis) are asked of the engine too, once the pane is opened.
//!
//! "Without this study" ([`Page::without`]) is a setting of the session, not of the saved
//! state (a share link or a reload shows every study): the analysis request, and every view
//! of it, leaves that study out, while the data table, the saved data and the Sensitivity
//! pane's refits keep every study ([`Page::full_analysis`]).
//!
//! Each stage run on the page is a User Timing measure (`meridian:parse`, …), and each stage
//! the engine ran is added as `meridian:engine:NAME` (`meridian:engine:fit`, …), so the
//! browser's performance tools, the benchmark and the end-to-end tests can see what ran where.

use std::sync::Arc;

use leptos::prelude::*;

use crate::analysis::anova::Comparisons;
use crate::analysis::component_profile::Profiles;
use crate::analysis::cumul::CumulRecord;
use crate::analysis::ipd::{IpdRecord, SubgroupInteractionRecord};
use crate::analysis::moderator::{drawn_moderator, study_values, ModeratorCurve};
use crate::analysis::record::Egger;
use crate::analysis::request::{Input, Record, Request};
use crate::analysis::sensitivity::Sensitivity;
use crate::analysis::subgroup_analysis::SubgroupAnalysis;
use crate::analysis::subgroups::Subgroups;
use crate::analysis::{stages, Analysis, AnalysisError, ModelStage, PredictionAt, StudiesStage};
use crate::app::ipd::{IpdInput, IpdState};
use crate::app::{
    analysis_spec, page_studies, Averages, ColumnState, DataState, ForestSort, ModelState,
    PageState, PlotOptions,
};
use crate::app::{PlotTab, StateError};
use crate::data::formula::Formula;
use crate::data::parse::Table;
use crate::worker::client::timed;

mod remote;

pub(super) use remote::ask;
use remote::{asked, derived, running};
pub use remote::{Refitting, RunProgress};

/// A stage's result: its record, or why the analysis stops there.
pub type Stage<T> = Result<Arc<T>, StateError>;

/// The page: its state and everything derived from it. `Copy`, so every component takes it
/// by value.
#[derive(Clone, Copy)]
pub struct Page {
    /// The data text, committed (typing in the data box is debounced before it lands here).
    pub data: RwSignal<DataState>,
    /// The column roles and the measure.
    pub columns: RwSignal<ColumnState>,
    /// Formula, references, estimator, test, level and the prediction form.
    pub model: RwSignal<ModelState>,
    /// Answers about study-level averages.
    pub averages: RwSignal<Averages>,
    /// The Plots pane's options.
    pub plots: RwSignal<PlotOptions>,
    /// The study highlighted in every plot and in the table (an index into [`Page::studies`],
    /// every study; see [`PlotCanvas`](super::PlotCanvas)'s `left_out` for the views of an
    /// analysis without one).
    pub highlight: RwSignal<Option<usize>>,
    /// The study under the pointer in a plot or the influence table, if any (an index into
    /// [`Page::studies`]): shown like the highlight while the pointer stays.
    pub hover: RwSignal<Option<usize>>,
    /// The study the user chose to leave out of the analysis, if any.
    pub without: RwSignal<Option<WithoutStudy>>,
    /// The study left out, while [`Page::without`]'s row still holds it: its index into
    /// [`Page::studies`] and its table row.
    pub left_out: Memo<Option<LeftOut>>,
    /// The parsed table.
    pub table: Memo<Stage<Table>>,
    /// The studies and the columns used: every study of the data, the one left out included.
    pub studies: Memo<Stage<StudiesStage>>,
    /// The studies the analysis uses: [`Page::studies`] without the one left out.
    pub used: Memo<Stage<StudiesStage>>,
    /// The design and the model's encoding.
    pub design: Memo<Stage<ModelStage>>,
    /// The formulas pinned in the Compare-models panel (`None`: intercept only), for as long
    /// as the page lives.
    pub pinned: RwSignal<Vec<Option<String>>>,
    /// The current model against each pinned one, from the engine, while any is pinned.
    pub comparisons: Memo<Option<Stage<Comparisons>>>,
    /// Whether the subgroup analysis uses one common τ² in every subgroup.
    pub subgroup_common: RwSignal<bool>,
    /// The subgroup analysis under the forest plot, from the engine, while the plot groups
    /// the studies by a column.
    pub subgroup_analysis: Memo<Option<Stage<SubgroupAnalysis>>>,
    /// The prediction of the results pane's form (the pooled effect without moderators).
    pub prediction: Memo<Result<Option<Arc<PredictionAt>>, StateError>>,
    /// The complete record the views read.
    pub analysis: Memo<Result<Analysis, StateError>>,
    /// The analysis of every study, the one left out included: what the Sensitivity pane's
    /// refits start from (the same record as [`Page::analysis`] while no study is left out).
    pub full_analysis: Memo<Result<Analysis, StateError>>,
    /// The moderator the bubble plot draws (and its menu shows).
    pub moderator: Memo<Option<String>>,
    /// The fitted effect along that moderator, once the bubble plot asks.
    pub curve: Memo<Option<Stage<ModeratorCurve>>>,
    /// The forest plot's subgroups, when a column is chosen.
    pub subgroups: Memo<Option<Stage<Subgroups>>>,
    /// Egger's test, once the funnel plot asks.
    pub egger: Memo<Option<Arc<Egger>>>,
    /// The profile likelihood of τ² (of each σ² of a multilevel model), once the profile plot
    /// asks.
    pub profile: Memo<Option<Stage<Profiles>>>,
    /// How far the profile likelihood's evaluations (profile fits) are, while they run.
    pub profile_progress: Memo<Option<RunProgress>>,
    /// Whether the profile likelihood was cancelled: it is not asked for again until the
    /// reader asks for it.
    pub profile_cancelled: RwSignal<bool>,
    /// The values of the column the forest plot is sorted by.
    pub sort_values: Memo<Option<Result<Vec<f64>, StateError>>>,
    /// Whether the engine is computing a newer analysis than the one shown.
    pub updating: Memo<bool>,
    /// Whether the Sensitivity pane has been opened (its refits run only then).
    pub sensitivity_shown: RwSignal<bool>,
    /// Influence, leave-one-out, Baujat and the residual plots, once the Sensitivity
    /// pane is open.
    pub sensitivity: Memo<Option<Stage<Sensitivity>>>,
    /// Which of the Sensitivity pane's refits the engine is computing, and how far it is.
    pub sensitivity_progress: Memo<Option<(Refitting, RunProgress)>>,
    /// The column the cumulative meta-analysis adds the studies in order of (`None`: input
    /// order).
    pub cumul_order: RwSignal<Option<String>>,
    /// The cumulative meta-analysis, once the Sensitivity pane is open.
    pub cumul: Memo<Option<Stage<CumulRecord>>>,
    /// Whether the ecological-bias lab is shown instead of the workspace.
    pub lab: RwSignal<bool>,
    /// Whether the participant-data (IPD) view is shown instead of the workspace.
    pub ipd: RwSignal<bool>,
    /// The IPD view's table, columns and settings.
    pub ipd_state: RwSignal<IpdState>,
    /// The two-stage analysis of the view's participants, while the view shows them.
    pub ipd_record: Memo<Option<Stage<IpdRecord>>>,
    /// Within- and across-study estimates of the view's subgroup effects, while it shows them.
    pub subgroup_interaction: Memo<Option<Stage<SubgroupInteractionRecord>>>,
}

/// A study to leave out of the analysis, as the user chose it: its 0-based table row and its
/// label, so that new data with another study in that row leave nothing out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithoutStudy {
    /// 0-based table row.
    pub row: usize,
    /// The study's label.
    pub label: String,
}

/// The study left out of the analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeftOut {
    /// Its index into every study ([`Page::studies`]).
    pub study: usize,
    /// Its 0-based table row.
    pub row: usize,
}

/// The index among the studies used of `study` (an index into every study) when the study
/// `left_out` is left out: the studies after it move up one; `None` for the one left out.
pub fn used_index(left_out: Option<usize>, study: usize) -> Option<usize> {
    match left_out {
        Some(l) if study == l => None,
        Some(l) if study > l => Some(study - 1),
        _ => Some(study),
    }
}

/// The index into every study of study `used` of the studies used, the inverse of
/// [`used_index`].
pub fn study_index(left_out: Option<usize>, used: usize) -> usize {
    match left_out {
        Some(l) if used >= l => used + 1,
        _ => used,
    }
}

impl Page {
    /// The page of `state`, with default plot options.
    pub fn new(state: PageState) -> Self {
        let PageState {
            data,
            columns,
            model,
            averages,
        } = state;
        let data = RwSignal::new(data);
        let columns = RwSignal::new(columns);
        let model = RwSignal::new(model);
        let plots = RwSignal::new(PlotOptions::default());

        let table = Memo::new(move |_| {
            data.with(|d| timed("parse", || Ok(Arc::new(stages::table(&d.text)?))))
        });
        // The formula parses on its own: the studies need its columns, the design its terms.
        let mods = Memo::new(move |_| model.with(ModelState::mods));
        let formula = Memo::new(move |_| -> Result<Option<Arc<Formula>>, StateError> {
            mods.with(|m| Ok(stages::formula(m.as_deref())?.map(Arc::new)))
        });
        // The scale formula (while τ² is modelled) leaves rows out too, as the worker does.
        let scale_text = Memo::new(move |_| model.with(ModelState::scale));
        let scale = Memo::new(move |_| -> Result<Option<Arc<Formula>>, StateError> {
            scale_text.with(|m| Ok(stages::formula(m.as_deref())?.map(Arc::new)))
        });
        let studies = Memo::new(move |_| -> Stage<StudiesStage> {
            let table = table.get()?;
            let (formula, scale) = (formula.get()?, scale.get()?);
            columns.with(|c| {
                timed("studies", || {
                    let s = page_studies(&table, c, formula.as_deref(), scale.as_deref())?;
                    Ok(Arc::new(s))
                })
            })
        });
        let without = RwSignal::new(None::<WithoutStudy>);
        let left_out = Memo::new(move |_| {
            let w = without.get()?;
            studies.with(|s| {
                let s = &s.as_ref().ok()?.studies;
                let study = s.rows.iter().position(|&r| r == w.row)?;
                (s.labels[study] == w.label).then_some(LeftOut { study, row: w.row })
            })
        });
        let used = Memo::new(move |_| -> Stage<StudiesStage> {
            let all = studies.get()?;
            match left_out.get() {
                None => Ok(all),
                Some(l) => {
                    let table = table.get()?;
                    let s = stages::without(&table, (*all).clone(), Some(l.row))?;
                    Ok(Arc::new(s))
                }
            }
        });
        // The table with the columns the formulas derive (cluster-mean centring): what the
        // design reads.
        let model_table = Memo::new(move |_| -> Stage<Table> {
            let (table, formula, scale) = (table.get()?, formula.get()?, scale.get()?);
            Ok(stages::centred(
                &table,
                &[formula.as_deref(), scale.as_deref()],
            )?)
        });
        let references = Memo::new(move |_| model.with(ModelState::used_references));
        let design = Memo::new(move |_| -> Stage<ModelStage> {
            let (table, studies, formula) = (model_table.get()?, used.get()?, formula.get()?);
            references.with(|r| {
                timed("design", || {
                    Ok(Arc::new(stages::model(
                        &table,
                        &studies,
                        formula.as_deref(),
                        r,
                    )?))
                })
            })
        });
        // What the engine is asked: the text and the analysis the state specifies, of every
        // study (`input`, for the Sensitivity pane's refits) and of the studies used.
        let input = Memo::new(move |_| -> Result<Input, StateError> {
            let spec = columns.with(|c| model.with(|m| analysis_spec(c, m)))?;
            Ok(Input {
                text: data.with(|d| d.text.clone()),
                text_id: None,
                spec,
            })
        });
        let used_input = Memo::new(move |_| -> Result<Input, StateError> {
            let mut input = input.get()?;
            input.spec.without = left_out.get().map(|l| l.row);
            Ok(input)
        });
        let analysis_request = Memo::new(move |_| {
            // The page's own stages first: their errors are typed (a formula's error is shown
            // under the formula box).
            Some(
                design
                    .get()
                    .and_then(|_| used_input.get())
                    .map(|input| Request::Analyse { input }),
            )
        });
        let remote = ask(analysis_request, |record| match record {
            Record::Analysis {
                analysis,
                prediction_error,
            } => Some((analysis, prediction_error)),
            _ => None,
        });
        let analysis = Memo::new(move |_| {
            analysis_request.with(|r| match r {
                Some(Err(e)) => Err(e.clone()),
                _ => remote.with(|r| r.last.clone().map(|a| a.0)),
            })
        });
        let prediction = Memo::new(move |_| {
            remote.with(|r| match r.last.clone() {
                Ok((a, None)) => Ok(a.prediction),
                Ok((_, Some(message))) => Err(StateError::Engine { message }),
                Err(e) => Err(e),
            })
        });
        let updating = Memo::new(move |_| remote.with(|r| r.updating));
        // Asked for only while a study is left out; else the analysis is of every study.
        let full_remote = derived(
            Memo::new(move |_| {
                left_out
                    .with(Option::is_some)
                    .then(|| input.get().map(|input| Request::FullAnalyse { input }))
            }),
            |record| match record {
                Record::Analysis { analysis, .. } => Some(analysis),
                _ => None,
            },
        );
        let full_analysis = Memo::new(move |_| match full_remote.get() {
            Some(full) => full,
            None => analysis.get(),
        });

        let moderator = Memo::new(move |_| {
            let chosen = plots.with(|p| p.moderator.clone());
            design.with(|d| {
                d.as_ref()
                    .ok()
                    .and_then(|d| drawn_moderator(&d.record, chosen.as_deref()))
            })
        });
        let curve = derived(
            Memo::new(move |_| {
                if plots.with(|p| p.tab) != PlotTab::Moderator {
                    return None;
                }
                let column = moderator.get()?;
                Some(
                    used_input
                        .get()
                        .map(|input| Request::Curve { input, column }),
                )
            }),
            |record| match record {
                Record::Curve { curve } => Some(Arc::new(curve)),
                _ => None,
            },
        );
        let subgroups = derived(
            Memo::new(move |_| {
                let column =
                    plots.with(|p| (p.tab == PlotTab::Forest).then(|| p.subgroup.clone()))??;
                Some(
                    used_input
                        .get()
                        .map(|input| Request::Subgroups { input, column }),
                )
            }),
            |record| match record {
                Record::Subgroups { subgroups } => Some(Arc::new(subgroups)),
                _ => None,
            },
        );
        let egger_answer = derived(
            Memo::new(move |_| {
                (plots.with(|p| p.tab) == PlotTab::Funnel)
                    .then(|| used_input.get().map(|input| Request::Egger { input }))
            }),
            |record| match record {
                Record::Egger { egger } => Some(egger.map(Arc::new)),
                _ => None,
            },
        );
        let egger = Memo::new(move |_| egger_answer.get().and_then(Result::ok).flatten());
        let subgroup_common = RwSignal::new(false);
        let subgroup_analysis = derived(
            Memo::new(move |_| {
                let column =
                    plots.with(|p| (p.tab == PlotTab::Forest).then(|| p.subgroup.clone()))??;
                let common = subgroup_common.get();
                Some(used_input.get().map(|input| Request::SubgroupAnalysis {
                    input,
                    column,
                    common,
                }))
            }),
            |record| match record {
                Record::SubgroupAnalysis { analysis } => Some(Arc::new(analysis)),
                _ => None,
            },
        );
        let pinned = RwSignal::new(Vec::<Option<String>>::new());
        let comparisons = derived(
            Memo::new(move |_| {
                let pinned = pinned.get();
                (!pinned.is_empty()).then(|| {
                    used_input
                        .get()
                        .map(|input| Request::Compare { input, pinned })
                })
            }),
            |record| match record {
                Record::Comparisons { comparisons } => Some(Arc::new(comparisons)),
                _ => None,
            },
        );
        let profile_cancelled = RwSignal::new(false);
        let profile_request = Memo::new(move |_| {
            (plots.with(|p| p.tab) == PlotTab::Profile && !profile_cancelled.get())
                .then(|| used_input.get().map(|input| Request::Profile { input }))
        });
        let profile_remote = ask(profile_request, |record| match record {
            Record::Profile { profile } => Some(Arc::new(Profiles::Tau2(profile))),
            Record::ComponentProfiles { profiles } => Some(Arc::new(Profiles::Sigma2(profiles))),
            _ => None,
        });
        let profile = asked(profile_request, profile_remote);
        let profile_progress = Memo::new(move |_| profile_remote.with(running));
        let sort_values = Memo::new(move |_| {
            let column = plots.with(|p| match &p.sort {
                ForestSort::Column(c) => Some(c.clone()),
                _ => None,
            })?;
            Some(values_of(table, used, &column))
        });

        let sensitivity_shown = RwSignal::new(false);
        let sensitivity_request = Memo::new(move |_| {
            sensitivity_shown
                .get()
                .then(|| input.get().map(|input| Request::Sensitivity { input }))
        });
        let sensitivity_remote = ask(sensitivity_request, |record| match record {
            Record::Sensitivity { sensitivity } => Some(Arc::new(sensitivity)),
            _ => None,
        });
        let sensitivity = asked(sensitivity_request, sensitivity_remote);
        let cumul_order = RwSignal::new(None::<String>);
        let cumul_request = Memo::new(move |_| {
            let order = cumul_order.get();
            sensitivity_shown
                .get()
                .then(|| input.get().map(|input| Request::Cumul { input, order }))
        });
        let cumul_remote = ask(cumul_request, |record| match record {
            Record::Cumul { cumul } => Some(Arc::new(cumul)),
            _ => None,
        });
        let cumul = asked(cumul_request, cumul_remote);
        // The pane's refits, the case deletions' first: the engine runs one after the other.
        let sensitivity_progress = Memo::new(move |_| {
            sensitivity_remote
                .with(running)
                .map(|p| (Refitting::CaseDeletions, p))
                .or_else(|| {
                    cumul_remote
                        .with(running)
                        .map(|p| (Refitting::Cumulative, p))
                })
        });

        let ipd = RwSignal::new(false);
        let ipd_state = RwSignal::new(IpdState::default());
        // The view's request of one kind of table, asked only while the view is open.
        let ipd_request = move |kind: IpdInput| {
            Memo::new(move |_| {
                if !ipd.get() {
                    return None;
                }
                ipd_state.with(|s| (s.input == kind).then(|| s.request()).flatten())
            })
        };
        let ipd_record = derived(ipd_request(IpdInput::Participants), |record| match record {
            Record::Ipd { ipd } => Some(Arc::new(ipd)),
            _ => None,
        });
        let subgroup_interaction =
            derived(ipd_request(IpdInput::Subgroups), |record| match record {
                Record::SubgroupInteraction { interaction } => Some(Arc::new(interaction)),
                _ => None,
            });

        Self {
            data,
            columns,
            model,
            averages: RwSignal::new(averages),
            plots,
            highlight: RwSignal::new(None),
            hover: RwSignal::new(None),
            without,
            left_out,
            table,
            studies,
            used,
            design,
            pinned,
            comparisons,
            subgroup_common,
            subgroup_analysis,
            prediction,
            analysis,
            full_analysis,
            moderator,
            curve,
            subgroups,
            egger,
            profile,
            profile_progress,
            profile_cancelled,
            sort_values,
            updating,
            sensitivity_shown,
            sensitivity,
            sensitivity_progress,
            cumul_order,
            cumul,
            lab: RwSignal::new(false),
            ipd,
            ipd_state,
            ipd_record,
            subgroup_interaction,
        }
    }

    /// The state as saved: every part but the plot options.
    pub fn state(&self) -> PageState {
        PageState {
            data: self.data.get(),
            columns: self.columns.get(),
            model: self.model.get(),
            averages: self.averages.get(),
        }
    }

    /// The state as saved, without tracking it.
    pub fn state_untracked(&self) -> PageState {
        PageState {
            data: self.data.get_untracked(),
            columns: self.columns.get_untracked(),
            model: self.model.get_untracked(),
            averages: self.averages.get_untracked(),
        }
    }

    /// Applies an edit that may touch several parts of the state (new data, an example, a
    /// fresh start); only the parts it changed notify, so the others' memos stay.
    pub fn edit(&self, edit: impl FnOnce(&mut PageState)) {
        let mut state = self.state_untracked();
        edit(&mut state);
        let PageState {
            data,
            columns,
            model,
            averages,
        } = state;
        set_if_changed(self.data, data);
        set_if_changed(self.columns, columns);
        set_if_changed(self.model, model);
        set_if_changed(self.averages, averages);
    }
}

/// Sets `signal` to `value` unless it already holds it, so its readers are not rerun.
fn set_if_changed<T: PartialEq + Send + Sync + 'static>(signal: RwSignal<T>, value: T) {
    if signal.with_untracked(|v| *v != value) {
        signal.set(value);
    }
}

/// Each study's value of the numeric `column`.
fn values_of(
    table: Memo<Stage<Table>>,
    studies: Memo<Stage<StudiesStage>>,
    column: &str,
) -> Result<Vec<f64>, StateError> {
    let (table, studies) = (table.get()?, studies.get()?);
    study_values(&table, &studies.studies, column).map_err(|e| AnalysisError::from(e).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_of_the_studies_used_skip_the_one_left_out() {
        // Five studies, the third (index 2) left out: the used ones are 0, 1, 3, 4.
        let left = Some(2);
        let used: Vec<Option<usize>> = (0..5).map(|s| used_index(left, s)).collect();
        assert_eq!(used, [Some(0), Some(1), None, Some(2), Some(3)]);
        let back: Vec<usize> = (0..4).map(|u| study_index(left, u)).collect();
        assert_eq!(back, [0, 1, 3, 4]);
        assert_eq!(used_index(None, 3), Some(3));
        assert_eq!(study_index(None, 3), 3);
    }
}
