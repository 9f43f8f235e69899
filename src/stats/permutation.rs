//! Permutation tests for the coefficients and the omnibus test (Higgins & Thompson, 2004;
//! Follmann & Proschan, 1999), as metafor's `permutest` does them.
//!
//! With moderators the rows of X are permuted against (yᵢ, vᵢ); without (intercept only) the
//! signs of yᵢ are flipped. Each permutation refits the model, τ² included, and the p-value of a
//! statistic is the share of permutations, the observed data included, whose |z| (or t, or QM)
//! is at least the observed one. When all distinct arrangements of the rows of X (k! divided
//! by the orderings of identical rows, as metafor counts them) or all 2ᵏ sign patterns fit in
//! the number of iterations asked for, the test is exact and runs each once; otherwise it runs
//! the observed data first and then random permutations from a seeded ChaCha generator, so a
//! result can be reproduced.
//!
//! The work runs in slices through [`PermutationTest::step`] so a user interface can show
//! progress and cancel between slices; [`PermutationTest::run`] drives the slices with a
//! callback.

use std::collections::HashMap;
use std::ops::ControlFlow;

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use super::fit::Estimated;
use super::input::Inputs;
use super::objective::RAW;
use super::summary::Tests;
use super::{Fit, StatsError, ValidSpec};

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

/// How far a permutation test has got.
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

/// What one permutation changes.
#[derive(Debug, Clone)]
enum Plan {
    /// Every distinct arrangement of the rows of X in lexicographic order. `order[i]` names a
    /// representative of the rows identical to the one study i receives, so identical rows are
    /// never arranged twice (a multiset permutation).
    ExactRows { order: Vec<usize> },
    /// Every sign pattern, bit i of the counter flipping study i, starting with none.
    ExactSigns { pattern: u64 },
    /// The identity first, then random row orders.
    RandomRows { rng: ChaCha8Rng },
    /// The observed signs first, then random sign patterns.
    RandomSigns { rng: ChaCha8Rng },
}

/// A permutation test in progress.
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
    total: usize,
    done: usize,
    exceed: Vec<usize>,
    exceed_qm: usize,
}

impl PermutationTest {
    /// Prepares a permutation test of `fit` (same estimator, test and studies).
    ///
    /// # Errors
    /// [`StatsError::NoPermutations`] when `settings.iterations` is 0.
    pub fn new(fit: &Fit, settings: PermutationSettings) -> Result<Self, StatsError> {
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
        let exact = count.is_some_and(|c| c <= settings.iterations as u64);
        let rng = ChaCha8Rng::seed_from_u64(settings.seed);
        let (plan, total) = match (rows, exact) {
            (true, true) => (
                Plan::ExactRows {
                    order: {
                        let mut order = classes;
                        order.sort_unstable();
                        order
                    },
                },
                count,
            ),
            (false, true) => (Plan::ExactSigns { pattern: 0 }, count),
            (true, false) => (Plan::RandomRows { rng }, None),
            (false, false) => (Plan::RandomSigns { rng }, None),
        };
        let total = total.map_or(settings.iterations, |c| c as usize);
        Ok(Self {
            data: fit.data.clone(),
            spec: *fit.valid_spec(),
            intercept: fit.intercept,
            tau2: fit.tau2_or_zero(),
            observed: fit.coefficients.iter().map(|c| c.statistic.abs()).collect(),
            observed_qm: fit.moderators.as_ref().map(|m| m.statistic),
            plan,
            total,
            done: 0,
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
        let end = self.total.min(self.done.saturating_add(n));
        while self.done < end {
            let data = self.next_data();
            let (stats, qm) = self.statistics(&data)?;
            for ((e, s), o) in self.exceed.iter_mut().zip(&stats).zip(&self.observed) {
                *e += usize::from(at_least(s.abs(), *o));
            }
            if let (Some(q), Some(o)) = (qm, self.observed_qm) {
                self.exceed_qm += usize::from(at_least(q, o));
            }
            self.done += 1;
        }
        Ok(self.progress())
    }

    /// Runs the whole test in slices, calling `on_progress` after each; returning
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

    /// Permutations done and in all.
    pub fn progress(&self) -> Progress {
        Progress {
            done: self.done,
            total: self.total,
        }
    }

    /// Whether every permutation has been run.
    pub fn is_finished(&self) -> bool {
        self.done >= self.total
    }

    /// p-values over the permutations done so far (final once [`Self::is_finished`]).
    pub fn result(&self) -> PermutationResult {
        let n = self.done.max(1) as f64;
        PermutationResult {
            iterations: self.done,
            exact: matches!(self.plan, Plan::ExactRows { .. } | Plan::ExactSigns { .. }),
            permuted_rows: matches!(self.plan, Plan::ExactRows { .. } | Plan::RandomRows { .. }),
            p_values: self.exceed.iter().map(|&e| e as f64 / n).collect(),
            qm_p: self.observed_qm.map(|_| self.exceed_qm as f64 / n),
        }
    }

    /// The data of the next permutation: the observed data first, except in an exact row test,
    /// which starts from the lexicographically first arrangement and meets the observed one on
    /// the way.
    fn next_data(&mut self) -> Inputs {
        let first = self.done == 0;
        let k = self.data.k();
        match &mut self.plan {
            Plan::ExactRows { order } => {
                if !first {
                    next_permutation(order);
                }
                self.data.with_rows(order)
            }
            Plan::ExactSigns { pattern } => {
                if !first {
                    *pattern += 1;
                }
                let p = *pattern;
                self.data.with_signs(|i| p >> i & 1 == 1)
            }
            Plan::RandomRows { rng } => {
                let mut order: Vec<usize> = (0..k).collect();
                if !first {
                    shuffle(&mut order, rng);
                }
                self.data.with_rows(&order)
            }
            Plan::RandomSigns { rng } => {
                let flips: Vec<bool> = (0..k).map(|_| !first && rng.next_u32() & 1 == 1).collect();
                self.data.with_signs(|i| flips[i])
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

/// Whether a permuted statistic is at least the observed one, up to rounding.
fn at_least(permuted: f64, observed: f64) -> bool {
    permuted >= observed - TIE_TOLERANCE * observed.abs()
}

/// For each row of X, the index of the first row identical to it: one pass with a hash map
/// from the row's values (−0 read as 0, so equal numbers hash alike), O(k·p).
fn row_classes(x: &nalgebra::DMatrix<f64>) -> Vec<usize> {
    let mut first: HashMap<Vec<u64>, usize> = HashMap::with_capacity(x.nrows());
    (0..x.nrows())
        .map(|i| {
            let key = x.row(i).iter().map(|v| (v + 0.0).to_bits()).collect();
            *first.entry(key).or_insert(i)
        })
        .collect()
}

/// The number of distinct arrangements of `labels`, k!/∏ mᵢ! for multiplicities mᵢ, or `None`
/// when it does not fit in a u64. Built as a product of binomial coefficients, one factor at a
/// time, so every intermediate value is an integer.
fn multinomial(labels: &[usize]) -> Option<u64> {
    let mut sorted = labels.to_vec();
    sorted.sort_unstable();
    let mut acc: u128 = 1;
    let mut n: u128 = 0;
    let mut run: u128 = 0;
    for (i, label) in sorted.iter().enumerate() {
        run = if i > 0 && sorted[i - 1] == *label {
            run + 1
        } else {
            1
        };
        n += 1;
        acc = acc.checked_mul(n)? / run;
        if acc > u128::from(u64::MAX) {
            return None;
        }
    }
    u64::try_from(acc).ok()
}

/// 2ᵏ, or `None` when it does not fit in a u64.
fn two_to_the(k: usize) -> Option<u64> {
    u32::try_from(k).ok().and_then(|k| 1u64.checked_shl(k))
}

/// Advances `order` to the next distinct permutation in lexicographic order (repeated values
/// are arranged once; wraps to the first after the last, which the caller never reaches because
/// it stops after counting them all).
fn next_permutation(order: &mut [usize]) {
    let n = order.len();
    let Some(i) = (1..n).rev().find(|&i| order[i - 1] < order[i]) else {
        order.reverse();
        return;
    };
    let j = (i..n)
        .rev()
        .find(|&j| order[j] > order[i - 1])
        .expect("order[i] > order[i - 1]");
    order.swap(i - 1, j);
    order[i..].reverse();
}

/// Fisher–Yates shuffle with unbiased bounded draws.
fn shuffle(order: &mut [usize], rng: &mut ChaCha8Rng) {
    for i in (1..order.len()).rev() {
        let j = below(rng, i as u64 + 1) as usize;
        order.swap(i, j);
    }
}

/// A uniform integer in 0..n (n ≥ 1): draws below 2⁶⁴ mod n are rejected so every residue is
/// equally likely.
fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    let reject_below = n.wrapping_neg() % n;
    loop {
        let x = rng.next_u64();
        if x >= reject_below {
            return x % n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multinomial_counts_distinct_arrangements() {
        assert_eq!(multinomial(&[0, 1, 2, 3]), Some(24));
        // Two identical rows among six: 6!/2! = 360 (the BCG trials 1 and 6 share a latitude).
        assert_eq!(multinomial(&[0, 1, 2, 3, 4, 0]), Some(360));
        assert_eq!(multinomial(&[0, 0, 0, 1, 1]), Some(10));
        assert_eq!(
            multinomial(&(0..21).collect::<Vec<_>>()),
            None,
            "21! overflows u64"
        );
    }

    #[test]
    fn identical_rows_share_the_first_index() {
        let x = nalgebra::DMatrix::from_row_slice(
            5,
            2,
            &[1.0, 0.0, 1.0, 2.0, 1.0, -0.0, 1.0, 2.0, 1.0, 3.0],
        );
        assert_eq!(row_classes(&x), vec![0, 1, 0, 1, 4]);
    }

    #[test]
    fn next_permutation_visits_each_distinct_arrangement_once() {
        let mut order = vec![0, 0, 1, 2];
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..12 {
            assert!(seen.insert(order.clone()), "{order:?} repeated");
            next_permutation(&mut order);
        }
        assert_eq!(
            order,
            vec![0, 0, 1, 2],
            "wraps to the first after 4!/2! = 12"
        );
    }

    #[test]
    fn bounded_draws_cover_the_range_evenly() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut counts = [0usize; 6];
        for _ in 0..60_000 {
            counts[below(&mut rng, 6) as usize] += 1;
        }
        // Each count is Binomial(60 000, 1/6): mean 10 000, SD about 91.
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
    }
}
