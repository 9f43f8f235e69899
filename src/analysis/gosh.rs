//! GOSH (metafor: `gosh`): the records of [`crate::stats::Gosh`], the `meridian gosh --json`
//! contract. [`GoshRun`] streams: each [`GoshRun::step`] fits a slice of subsets and returns
//! their records, so the page can draw as it goes and stop between slices; the summary
//! (min, max, mean) is kept as the subsets come, in O(subsets / 1,024) memory. [`GoshPoints`]
//! is the compact form of a slice the page draws: per subset its estimate, I² and which studies
//! it holds. A run may be one part of an analysis split over Web Workers; each part ends with
//! a [`GoshPartRecord`], and the parts' records merge into the [`GoshRecord`] of the whole,
//! the same whatever the number of parts.

use serde::{Deserialize, Serialize};

use super::stages::Fitted;
use crate::stats::{
    BlockSums, Gosh, GoshFit, GoshSettings, GoshSummary, Part, Progress, Spread, StatsError,
};

/// One subset's fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoshFitRecord {
    /// The studies in the subset, 1-based as rows of the analysis's studies.
    pub included: Vec<usize>,
    /// Number of studies.
    pub k: usize,
    /// The first coefficient (the pooled effect without moderators).
    pub estimate: f64,
    /// All coefficients in design order.
    pub estimates: Vec<f64>,
    /// QE.
    pub qe: f64,
    /// I² in percent.
    pub i2: f64,
    /// H².
    pub h2: f64,
    /// τ².
    pub tau2: f64,
}

impl From<GoshFit> for GoshFitRecord {
    fn from(f: GoshFit) -> Self {
        Self {
            included: f.included.iter().map(|i| i + 1).collect(),
            k: f.k,
            estimate: f.estimates[0],
            estimates: f.estimates,
            qe: f.qe,
            i2: f.i2,
            h2: f.h2,
            tau2: f.tau2,
        }
    }
}

/// Minimum, maximum and mean of a statistic over the subsets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpreadRecord {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

impl From<Spread> for SpreadRecord {
    fn from(s: Spread) -> Self {
        Self {
            min: s.min,
            max: s.max,
            mean: s.mean,
        }
    }
}

/// The summary over all subsets fitted; each null before any subset was.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GoshSummaryRecord {
    /// The first coefficient (the pooled effect without moderators).
    pub estimate: Option<SpreadRecord>,
    /// I².
    pub i2: Option<SpreadRecord>,
    /// τ².
    pub tau2: Option<SpreadRecord>,
    /// QE.
    pub qe: Option<SpreadRecord>,
}

impl From<&GoshSummary> for GoshSummaryRecord {
    fn from(s: &GoshSummary) -> Self {
        Self {
            estimate: s.estimate().map(Into::into),
            i2: s.i2().map(Into::into),
            tau2: s.tau2().map(Into::into),
            qe: s.qe().map(Into::into),
        }
    }
}

/// A GOSH analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoshRecord {
    /// Subsets fitted (one-study subsets included).
    pub subsets: usize,
    /// Whether every non-empty subset was fitted once.
    pub exact: bool,
    /// Subsets drawn that the model could not be fitted to (fewer studies than coefficients,
    /// a rank-deficient design).
    pub skipped: usize,
    /// Summary over the subsets fitted.
    pub summary: GoshSummaryRecord,
    /// Every subset's fit, when asked for (`--all`).
    pub fits: Option<Vec<GoshFitRecord>>,
}

/// Subsets' points for the GOSH plot, column-wise so that a slice of 10⁴ subsets stays small
/// on its way from a Web Worker: each subset's estimate and I², and its studies as bits,
/// `words` 64-bit words per subset (bit i of word i / 64 for study i, from 0).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GoshPoints {
    /// Words of membership bits per subset: ⌈k / 64⌉.
    pub words: usize,
    /// The first coefficient of each subset's fit (the pooled effect without moderators).
    pub estimate: Vec<f64>,
    /// I² of each subset's fit, in percent.
    pub i2: Vec<f64>,
    /// The studies of each subset, `words` words after another.
    pub members: Vec<u64>,
}

impl GoshPoints {
    /// No points yet, for subsets of `k` studies.
    pub fn new(k: usize) -> Self {
        Self {
            words: k.div_ceil(64),
            ..Self::default()
        }
    }

    /// Number of subsets.
    pub fn len(&self) -> usize {
        self.estimate.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.estimate.is_empty()
    }

    /// Whether subset `j` holds study `study` (0-based); false for indices out of range.
    pub fn contains(&self, j: usize, study: usize) -> bool {
        self.members
            .get(j * self.words + study / 64)
            .is_some_and(|w| w >> (study % 64) & 1 == 1)
    }

    /// Adds one subset's fit.
    fn push(&mut self, fit: &GoshFit) {
        self.estimate.push(fit.estimates[0]);
        self.i2.push(fit.i2);
        let start = self.members.len();
        self.members.resize(start + self.words, 0);
        for &i in &fit.included {
            self.members[start + i / 64] |= 1 << (i % 64);
        }
    }

    /// Appends `other`'s subsets (of the same studies).
    pub fn append(&mut self, other: &mut Self) {
        self.estimate.append(&mut other.estimate);
        self.i2.append(&mut other.i2);
        self.members.append(&mut other.members);
    }
}

/// The end of one part of a GOSH analysis: its summary as sums by block, which the parts'
/// records merge from ([`GoshPartRecord::merge`]) into the record of the whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoshPartRecord {
    /// Whether every non-empty subset is fitted once.
    pub exact: bool,
    /// Subsets the part drew (fitted and skipped).
    pub drawn: usize,
    /// Subsets the model could not be fitted to.
    pub skipped: usize,
    /// Subsets fitted.
    pub count: usize,
    /// The smallest first coefficient, I², τ² and QE (0 when no subset was fitted).
    pub mins: [f64; 4],
    /// The largest of each.
    pub maxs: [f64; 4],
    /// Per block of 1,024 subsets of the whole analysis: its number and the sums of the four.
    pub blocks: Vec<(usize, [f64; 4])>,
}

impl GoshPartRecord {
    fn summary(&self) -> GoshSummary {
        GoshSummary {
            count: self.count,
            mins: self.mins,
            maxs: self.maxs,
            blocks: self
                .blocks
                .iter()
                .map(|&(block, sums)| BlockSums { block, sums })
                .collect(),
        }
    }

    fn from_summary(summary: &GoshSummary, exact: bool, drawn: usize, skipped: usize) -> Self {
        Self {
            exact,
            drawn,
            skipped,
            count: summary.count,
            mins: summary.mins,
            maxs: summary.maxs,
            blocks: summary.blocks.iter().map(|b| (b.block, b.sums)).collect(),
        }
    }

    /// Two parts of one analysis together, in either order; `None` when one is exact and the
    /// other not (parts of different analyses).
    pub fn merge(&self, other: &Self) -> Option<Self> {
        (self.exact == other.exact).then(|| {
            Self::from_summary(
                &self.summary().merge(&other.summary()),
                self.exact,
                self.drawn + other.drawn,
                self.skipped + other.skipped,
            )
        })
    }

    /// The record of the subsets these parts hold, with `fits` if given.
    pub fn record(&self, fits: Option<Vec<GoshFitRecord>>) -> GoshRecord {
        let summary = self.summary();
        GoshRecord {
            subsets: summary.count(),
            exact: self.exact,
            skipped: self.skipped,
            summary: (&summary).into(),
            fits,
        }
    }
}

/// A GOSH analysis (or one part of it) in progress.
#[derive(Debug, Clone)]
pub struct GoshRun {
    gosh: Gosh,
    k: usize,
}

impl GoshRun {
    /// Prepares the GOSH analysis of the fitted model.
    ///
    /// # Errors
    /// [`StatsError::NoSubsets`] when no subsets are asked for.
    pub fn new(fitted: &Fitted, settings: GoshSettings) -> Result<Self, StatsError> {
        Self::part(fitted, settings, Part::WHOLE)
    }

    /// Prepares one part of the GOSH analysis of the fitted model.
    ///
    /// # Errors
    /// [`StatsError::NoSubsets`] when no subsets are asked for.
    pub fn part(fitted: &Fitted, settings: GoshSettings, part: Part) -> Result<Self, StatsError> {
        Ok(Self {
            gosh: Gosh::part(&fitted.fit, settings, part)?,
            k: fitted.fit.k,
        })
    }

    /// Draws up to `n` more subsets, handing each fit to `each` (fewer when subsets are
    /// skipped or the analysis ends).
    fn step_with(&mut self, n: usize, mut each: impl FnMut(GoshFit)) {
        let end = self.gosh.progress().done.saturating_add(n);
        while self.gosh.progress().done < end {
            let Some(fit) = self.gosh.next() else { break };
            each(fit);
        }
    }

    /// Fits up to `n` more subsets and returns their records (fewer when subsets are skipped
    /// or the analysis ends).
    pub fn step(&mut self, n: usize) -> Vec<GoshFitRecord> {
        let mut out = Vec::with_capacity(n.min(4096));
        self.step_with(n, |fit| out.push(fit.into()));
        out
    }

    /// Fits up to `n` more subsets and returns their points.
    pub fn step_points(&mut self, n: usize) -> GoshPoints {
        let mut points = GoshPoints::new(self.k);
        self.step_with(n, |fit| points.push(&fit));
        points
    }

    /// Fits every remaining subset, keeping only the summary.
    pub fn finish(&mut self) {
        self.gosh.by_ref().for_each(drop);
    }

    /// Subsets drawn so far and in all.
    pub fn progress(&self) -> Progress {
        self.gosh.progress()
    }

    /// Whether every subset has been drawn.
    pub fn is_finished(&self) -> bool {
        let p = self.gosh.progress();
        p.done >= p.total
    }

    /// The part's record so far.
    pub fn part_record(&self) -> GoshPartRecord {
        GoshPartRecord::from_summary(
            self.gosh.summary(),
            self.gosh.is_exact(),
            self.gosh.progress().done,
            self.gosh.skipped(),
        )
    }

    /// The record so far, with `fits` if given.
    pub fn record(&self, fits: Option<Vec<GoshFitRecord>>) -> GoshRecord {
        self.part_record().record(fits)
    }
}
