//! Permutation tests for the coefficients and the omnibus test (Higgins & Thompson, 2004;
//! Follmann & Proschan, 1999), as metafor's `permutest` does them.
//!
//! With moderators the rows of X are permuted against (yᵢ, vᵢ); without (intercept only) the
//! signs of yᵢ are flipped. Each permutation refits the model, τ² included, and the p-value of a
//! statistic is the share of permutations, the observed data included, whose |z| (or t, or QM)
//! is at least the observed one. When all distinct arrangements of the rows of X (k! divided
//! by the orderings of identical rows, as metafor counts them) or all 2ᵏ sign patterns fit in
//! the number of iterations asked for, the test is exact and runs each once; otherwise it runs
//! the observed data first and then random permutations, so a result can be reproduced.
//!
//! Permutation i of a test depends on i and the seed only: random permutation i draws from
//! stream i of a ChaCha generator keyed by the seed, exact arrangement i is the i-th in
//! lexicographic order. A test can therefore be split into [`Part`]s run anywhere (one per Web
//! Worker) whose [`PermutationCounts`] add up to exactly the counts of the whole test: the same
//! seed gives the same p-values on one core and on sixteen.
//!
//! The work runs in slices through [`PermutationTest::step`] so a user interface can show
//! progress and cancel between slices; [`PermutationTest::run`] drives the slices with a
//! callback.

use std::ops::{ControlFlow, Range};

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use super::fit::Estimated;
use super::input::Inputs;
use super::objective::RAW;
use super::summary::Tests;
use super::{Fit, StatsError, ValidSpec};

mod arrange;

use arrange::{multinomial, next_permutation, nth_arrangement, row_classes, shuffle, two_to_the};

/// A permuted statistic counts as "at least as extreme" as the observed one when it is within
/// this relative distance below it, so permutations that reproduce the observed data up to
/// rounding (tied moderator values) are counted, as they are in exact arithmetic.
const TIE_TOLERANCE: f64 = 1e-8;

/// Permutations per slice of [`PermutationTest::run`] between progress reports.
const RUN_SLICE: usize = 25;

/// How many permutations to run and how to draw them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PermutationSettings {
    /// Number of permutations, the observed data included (metafor: `iter`, default 1000).
    /// If all k! row orders (2ᵏ sign patterns without moderators) number no more than this,
    /// the test is exact and runs each exactly once.
    pub iterations: usize,
    /// Seed of the random permutations; the same seed gives the same p-values.
    pub seed: u64,
}

impl Default for PermutationSettings {
    /// metafor's 1000 iterations, seed 1.
    fn default() -> Self {
        Self {
            iterations: 1000,
            seed: 1,
        }
    }
}

/// One of `of` near-equal shares of a test's permutations, in order: part 0 runs the first
/// permutations (the observed data among them), the last part the last ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    index: usize,
    of: usize,
}

impl Part {
    /// The whole test as one part.
    pub const WHOLE: Self = Self { index: 0, of: 1 };

    /// Part `index` (from 0) of `of`.
    ///
    /// # Errors
    /// [`StatsError::InvalidPart`] unless `index < of`.
    pub fn new(index: usize, of: usize) -> Result<Self, StatsError> {
        if index < of {
            Ok(Self { index, of })
        } else {
            Err(StatsError::InvalidPart { index, of })
        }
    }

    /// The 0-based part.
    pub fn index(self) -> usize {
        self.index
    }

    /// The number of parts.
    pub fn of(self) -> usize {
        self.of
    }

    /// The permutations of this part among `total`: the first `total mod of` parts take one
    /// more than the others.
    pub fn range(self, total: usize) -> Range<usize> {
        let (each, extra) = (total / self.of, total % self.of);
        let start = self.index * each + self.index.min(extra);
        start..start + each + usize::from(self.index < extra)
    }
}

/// How far a permutation test (or a part of one) has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Permutations done (the observed data included).
    pub done: usize,
    /// Permutations in all.
    pub total: usize,
}

/// Permutation p-values.
#[derive(Debug, Clone, PartialEq)]
pub struct PermutationResult {
    /// Permutations the p-values are based on (the observed data included).
    pub iterations: usize,
    /// Whether every permutation was run once (an exact test).
    pub exact: bool,
    /// Whether rows of X were permuted (`true`) or signs of y flipped (intercept-only model).
    pub permuted_rows: bool,
    /// Two-sided p-value per coefficient, in design order.
    pub p_values: Vec<f64>,
    /// p-value of the omnibus test of moderators, if the model has one.
    pub qm_p: Option<f64>,
}

/// What the permutations of a test, or of some parts of it, counted: the p-values are the
/// shares of `done` counted as at least as extreme as the observed data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermutationCounts {
    /// Permutations of the whole test.
    pub total: usize,
    /// Permutations counted.
    pub done: usize,
    /// Per coefficient, the permutations whose |statistic| was at least the observed one.
    pub exceed: Vec<usize>,
    /// The permutations whose QM was at least the observed one, if the model has QM.
    pub exceed_qm: Option<usize>,
    /// Whether the test runs every arrangement once.
    pub exact: bool,
    /// Whether rows of X are permuted (otherwise signs of y are flipped).
    pub permuted_rows: bool,
}

impl PermutationCounts {
    /// The counts of two sets of permutations of the same test, or `None` when they come from
    /// different tests (other totals, plans or coefficients).
    pub fn merge(&self, other: &Self) -> Option<Self> {
        let same = self.total == other.total
            && self.exact == other.exact
            && self.permuted_rows == other.permuted_rows
            && self.exceed.len() == other.exceed.len()
            && self.exceed_qm.is_some() == other.exceed_qm.is_some();
        same.then(|| Self {
            total: self.total,
            done: self.done + other.done,
            exceed: self
                .exceed
                .iter()
                .zip(&other.exceed)
                .map(|(a, b)| a + b)
                .collect(),
            exceed_qm: self.exceed_qm.zip(other.exceed_qm).map(|(a, b)| a + b),
            exact: self.exact,
            permuted_rows: self.permuted_rows,
        })
    }

    /// Whether every permutation of the test has been counted.
    pub fn is_complete(&self) -> bool {
        self.done >= self.total
    }

    /// p-values over the permutations counted (final once [`Self::is_complete`]).
    pub fn result(&self) -> PermutationResult {
        let n = self.done.max(1) as f64;
        PermutationResult {
            iterations: self.done,
            exact: self.exact,
            permuted_rows: self.permuted_rows,
            p_values: self.exceed.iter().map(|&e| e as f64 / n).collect(),
            qm_p: self.exceed_qm.map(|e| e as f64 / n),
        }
    }
}

/// What one permutation changes.
#[derive(Debug, Clone)]
enum Plan {
    /// Every distinct arrangement of the rows of X in lexicographic order. `classes[i]` names
    /// a representative of the rows identical to row i, so identical rows are never arranged
    /// twice (a multiset permutation); `order` is the arrangement last run.
    ExactRows {
        classes: Vec<usize>,
        order: Vec<usize>,
    },
    /// Every sign pattern, bit i of the permutation's number flipping study i.
    ExactSigns,
    /// The identity first, then random row orders, permutation i from stream i.
    RandomRows { key: ChaCha8Rng },
    /// The observed signs first, then random sign patterns, permutation i from stream i.
    RandomSigns { key: ChaCha8Rng },
}

/// A permutation test (or one part of it) in progress.
#[derive(Debug, Clone)]
pub struct PermutationTest {
    data: Inputs,
    spec: ValidSpec,
    intercept: bool,
    /// τ² of the observed data: the warm start of every refit.
    tau2: f64,
    observed: Vec<f64>,
    observed_qm: Option<f64>,
    plan: Plan,
    /// Permutations of the whole test.
    total: usize,
    /// The permutations of this part.
    range: Range<usize>,
    /// The next permutation to run.
    next: usize,
    exceed: Vec<usize>,
    exceed_qm: usize,
}

impl PermutationTest {
    /// Prepares a permutation test of `fit` (same estimator, test and studies).
    ///
    /// # Errors
    /// [`StatsError::NoPermutations`] when `settings.iterations` is 0.
    pub fn new(fit: &Fit, settings: PermutationSettings) -> Result<Self, StatsError> {
        Self::part(fit, settings, Part::WHOLE)
    }

    /// Prepares `part` of a permutation test of `fit`: its counts, merged with those of the
    /// other parts, are the counts of the whole test.
    ///
    /// # Errors
    /// [`StatsError::NoPermutations`] when `settings.iterations` is 0.
    pub fn part(fit: &Fit, settings: PermutationSettings, part: Part) -> Result<Self, StatsError> {
        if settings.iterations == 0 {
            return Err(StatsError::NoPermutations);
        }
        let k = fit.k;
        let rows = fit.p > 1 || !fit.intercept;
        let classes = row_classes(&fit.data.x);
        let count = if rows {
            multinomial(&classes)
        } else {
            two_to_the(k)
        };
        let exact = count.filter(|&c| c <= settings.iterations as u64);
        let key = ChaCha8Rng::seed_from_u64(settings.seed);
        let plan = match (rows, exact) {
            (true, Some(_)) => Plan::ExactRows {
                classes,
                order: Vec::new(),
            },
            (false, Some(_)) => Plan::ExactSigns,
            (true, None) => Plan::RandomRows { key },
            (false, None) => Plan::RandomSigns { key },
        };
        // An exact count is at most `iterations`, a usize.
        let total = exact.map_or(settings.iterations, |c| c as usize);
        let range = part.range(total);
        Ok(Self {
            data: fit.data.clone(),
            spec: *fit.valid_spec(),
            intercept: fit.intercept,
            tau2: fit.tau2_or_zero(),
            observed: fit.coefficients.iter().map(|c| c.statistic.abs()).collect(),
            observed_qm: fit.moderators.as_ref().map(|m| m.statistic),
            plan,
            total,
            next: range.start,
            range,
            exceed: vec![0; fit.p],
            exceed_qm: 0,
        })
    }

    /// Runs up to `n` more permutations and reports progress.
    ///
    /// # Errors
    /// A refit that fails (for example a non-converging τ² estimate on a permuted data set)
    /// stops the test with that error; the permutations done so far stay counted.
    pub fn step(&mut self, n: usize) -> Result<Progress, StatsError> {
        let end = self.range.end.min(self.next.saturating_add(n));
        while self.next < end {
            let data = self.data_of(self.next);
            let (stats, qm) = self.statistics(&data)?;
            for ((e, s), o) in self.exceed.iter_mut().zip(&stats).zip(&self.observed) {
                *e += usize::from(at_least(s.abs(), *o));
            }
            if let (Some(q), Some(o)) = (qm, self.observed_qm) {
                self.exceed_qm += usize::from(at_least(q, o));
            }
            self.next += 1;
        }
        Ok(self.progress())
    }

    /// Runs the whole test (or part) in slices, calling `on_progress` after each; returning
    /// `ControlFlow::Break` from it cancels the test and `run` returns `Ok(None)`.
    ///
    /// # Errors
    /// As [`PermutationTest::step`].
    pub fn run(
        mut self,
        mut on_progress: impl FnMut(Progress) -> ControlFlow<()>,
    ) -> Result<Option<PermutationResult>, StatsError> {
        while !self.is_finished() {
            let progress = self.step(RUN_SLICE)?;
            if on_progress(progress).is_break() {
                return Ok(None);
            }
        }
        Ok(Some(self.result()))
    }

    /// Permutations of this part done and in all.
    pub fn progress(&self) -> Progress {
        Progress {
            done: self.next - self.range.start,
            total: self.range.len(),
        }
    }

    /// Whether every permutation of this part has been run.
    pub fn is_finished(&self) -> bool {
        self.next >= self.range.end
    }

    /// What the permutations run so far counted.
    pub fn counts(&self) -> PermutationCounts {
        PermutationCounts {
            total: self.total,
            done: self.next - self.range.start,
            exceed: self.exceed.clone(),
            exceed_qm: self.observed_qm.map(|_| self.exceed_qm),
            exact: matches!(self.plan, Plan::ExactRows { .. } | Plan::ExactSigns),
            permuted_rows: matches!(self.plan, Plan::ExactRows { .. } | Plan::RandomRows { .. }),
        }
    }

    /// p-values over the permutations done so far (final once [`Self::is_finished`] for the
    /// whole test).
    pub fn result(&self) -> PermutationResult {
        self.counts().result()
    }

    /// The data of permutation `i`: the observed data is permutation 0, except in an exact row
    /// test, which starts from the lexicographically first arrangement and meets the observed
    /// one on the way. Called for consecutive `i` from the part's start.
    fn data_of(&mut self, i: usize) -> Inputs {
        let k = self.data.k();
        let first = i == self.range.start;
        match &mut self.plan {
            Plan::ExactRows { classes, order } => {
                if first {
                    *order = nth_arrangement(classes, i as u64)
                        .expect("i < total, the number of arrangements");
                } else {
                    next_permutation(order);
                }
                self.data.with_rows(order)
            }
            Plan::ExactSigns => self.data.with_signs(|j| i >> j & 1 == 1),
            Plan::RandomRows { key } => {
                let mut order: Vec<usize> = (0..k).collect();
                if i > 0 {
                    shuffle(&mut order, &mut stream(key, i));
                }
                self.data.with_rows(&order)
            }
            Plan::RandomSigns { key } => {
                let mut rng = stream(key, i);
                let flips: Vec<bool> = (0..k).map(|_| i > 0 && rng.next_u32() & 1 == 1).collect();
                self.data.with_signs(|j| flips[j])
            }
        }
    }

    /// Refits τ² and the coefficients through the fit's own estimation and summary path: their
    /// z (or t) statistics and QM.
    fn statistics(&self, data: &Inputs) -> Result<(Vec<f64>, Option<f64>), StatsError> {
        let est = Estimated::new(data, &self.spec, Some(self.tau2))?;
        let beta = est.gls.coef_or_zero(RAW);
        let vcov = est.gls.inverse_xtmx();
        let r = est.gls.r_factor();
        let tests = Tests::new(
            &est.estimates(&beta, &vcov, &r, self.intercept),
            self.spec.test().into(),
        );
        let columns = tests.moderator_columns(beta.len());
        let qm = if columns.is_empty() {
            None
        } else {
            Some(tests.wald(&beta, &columns, est.tau2.tau2)?.statistic)
        };
        Ok((tests.statistics(&beta), qm))
    }
}

impl Fit {
    /// A permutation test of this fit, to be run with [`PermutationTest::step`] or
    /// [`PermutationTest::run`]; metafor: `permutest(res)`.
    ///
    /// # Errors
    /// As [`PermutationTest::new`].
    pub fn permutation_test(
        &self,
        settings: PermutationSettings,
    ) -> Result<PermutationTest, StatsError> {
        PermutationTest::new(self, settings)
    }
}

/// The generator of permutation `i`: stream `i` of the seed's key, from its start.
fn stream(key: &ChaCha8Rng, i: usize) -> ChaCha8Rng {
    let mut rng = key.clone();
    rng.set_stream(i as u64);
    rng.set_word_pos(0);
    rng
}

/// Whether a permuted statistic is at least the observed one, up to rounding.
fn at_least(permuted: f64, observed: f64) -> bool {
    permuted >= observed - TIE_TOLERANCE * observed.abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_permutations_once_in_order() {
        for (total, of) in [(10, 3), (3, 4), (1000, 1), (7, 7)] {
            let mut next = 0;
            for index in 0..of {
                let range = Part::new(index, of).expect("index < of").range(total);
                assert_eq!(range.start, next, "{total} in {of}: part {index} starts");
                assert!(range.len() <= total / of + 1);
                next = range.end;
            }
            assert_eq!(next, total, "{total} in {of}: the parts end at the total");
        }
        assert_eq!(
            Part::new(4, 4),
            Err(StatsError::InvalidPart { index: 4, of: 4 })
        );
    }

    #[test]
    fn each_random_permutation_has_its_own_stream() {
        let key = ChaCha8Rng::seed_from_u64(5);
        let mut used = key.clone();
        used.next_u64();
        assert_eq!(
            stream(&used, 3).next_u64(),
            stream(&key, 3).next_u64(),
            "a stream does not depend on what the key drew before"
        );
        assert_ne!(stream(&key, 3).next_u64(), stream(&key, 4).next_u64());
    }
}
