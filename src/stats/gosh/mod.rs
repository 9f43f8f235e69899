//! GOSH, the graphical display of study heterogeneity (Olkin, Dahabreh & Trikalinos, 2012), as
//! metafor's `gosh`: the model fitted to subsets of the studies, reporting per subset k, the
//! estimates, QE, I², H² and τ².
//!
//! When all 2ᵏ − 1 non-empty subsets number no more than the subsets asked for, each is fitted
//! once (exact); otherwise that many random subsets are drawn from a seeded ChaCha generator,
//! each study included with probability ½ (an empty draw is drawn again), so a run can be
//! reproduced. Subset j is drawn from stream j of the seed's generator (as permutation j of a
//! permutation test is), and exact subset j is the bits of j + 1, so any range of subsets can
//! be drawn on its own: an analysis splits into [`Part`]s (one per Web Worker) whose subsets,
//! and whose merged [`GoshSummary`], are exactly those of the whole analysis.
//!
//! [`Gosh`] is an iterator: it computes a subset only when asked for the next, so a caller
//! streams the results (a plot drawn as it goes), stops whenever it likes (cancel), and memory
//! stays O(k) whatever the number of subsets.
//!
//! Each subset is fitted by the estimation step every fit shares, warm-started from the full
//! fit's τ², without the tests and likelihood a [`Fit`] adds. A single study is fitted as
//! metafor fits one (τ² = 0, QE = 0, I² = 0, H² = 1). As metafor's `gosh` reports them, I² and
//! H² are the Q-based ones, 100·max(0, (QE − df)/QE) and QE/df, under FE, EE and DL, and the
//! model's own (from τ²) under the other estimators. A subset the model cannot be fitted to
//! (fewer studies than coefficients, a rank-deficient design) is skipped and counted.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use super::fit::{Estimated, Fit};
use super::heterogeneity::Heterogeneity;
use super::input::Inputs;
use super::objective::RAW;
use super::permutation::{Part, Progress};
use super::{StatsError, Tau2Method, ValidSpec};

mod summary;

use summary::BLOCK;
pub use summary::{BlockSums, GoshSummary, Spread};

/// How many subsets to fit and how to draw them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoshSettings {
    /// Number of subsets (metafor: `subsets`, default 10⁶). If all 2ᵏ − 1 non-empty subsets
    /// number no more than this, each is fitted once.
    pub subsets: usize,
    /// Seed of the random subsets.
    pub seed: u64,
}

impl Default for GoshSettings {
    /// metafor's 10⁶ subsets, seed 1.
    fn default() -> Self {
        Self {
            subsets: 1_000_000,
            seed: 1,
        }
    }
}

/// The model fitted to one subset.
#[derive(Debug, Clone, PartialEq)]
pub struct GoshFit {
    /// The studies in the subset (0-based, ascending).
    pub included: Vec<usize>,
    /// Number of studies in the subset.
    pub k: usize,
    /// Coefficient estimates in design order (the pooled effect alone without moderators).
    pub estimates: Vec<f64>,
    /// QE.
    pub qe: f64,
    /// I² in percent.
    pub i2: f64,
    /// H².
    pub h2: f64,
    /// τ² (0 for FE/EE).
    pub tau2: f64,
}

/// Which subsets are drawn.
#[derive(Debug, Clone)]
enum Plan {
    /// Every non-empty subset, bit i of j + 1 including study i in subset j.
    Exact,
    /// Random subsets, subset j from stream j of this generator (boxed: its state is 40 times
    /// a counter's).
    Random { key: Box<ChaCha8Rng> },
}

/// A GOSH analysis (or a part of one) in progress: an iterator over the fits of its subsets,
/// keeping the summary of those it yields.
#[derive(Debug, Clone)]
pub struct Gosh {
    data: Inputs,
    names: Vec<String>,
    spec: ValidSpec,
    /// The fixed-effect z-test settings a single study is fitted with.
    single: ValidSpec,
    /// τ² of the full fit: every subset's warm start.
    tau2: f64,
    plan: Plan,
    /// The place of the part's first subset in the whole analysis.
    first: usize,
    total: usize,
    done: usize,
    skipped: usize,
    summary: GoshSummary,
    rows: Vec<usize>,
}

impl Gosh {
    /// Prepares the GOSH analysis of `fit` (same estimator and studies).
    ///
    /// # Errors
    /// [`StatsError::NoSubsets`] when `settings.subsets` is 0.
    pub fn new(fit: &Fit, settings: GoshSettings) -> Result<Self, StatsError> {
        Self::part(fit, settings, Part::WHOLE)
    }

    /// Prepares part `part` of the GOSH analysis of `fit`: its share of the whole analysis's
    /// blocks of [`BLOCK`] subsets (the first parts take one block more when they do not
    /// divide evenly; a part may have none).
    ///
    /// # Errors
    /// [`StatsError::NoSubsets`] when `settings.subsets` is 0.
    pub fn part(fit: &Fit, settings: GoshSettings, part: Part) -> Result<Self, StatsError> {
        if settings.subsets == 0 {
            return Err(StatsError::NoSubsets);
        }
        let k = fit.k;
        // 2ᵏ − 1 ≤ subsets; for k ≥ 64 it never is (usize has at most 64 bits).
        let exact = k < 64 && (1u64 << k) - 1 <= settings.subsets as u64;
        let (plan, whole) = if exact {
            (Plan::Exact, ((1u64 << k) - 1) as usize)
        } else {
            (
                Plan::Random {
                    key: Box::new(ChaCha8Rng::seed_from_u64(settings.seed)),
                },
                settings.subsets,
            )
        };
        let blocks = part.range(whole.div_ceil(BLOCK));
        let first = (blocks.start * BLOCK).min(whole);
        let end = (blocks.end * BLOCK).min(whole);
        let single = fit.single_study_spec();
        Ok(Self {
            data: fit.data.clone(),
            names: fit.names(),
            spec: *fit.valid_spec(),
            single,
            tau2: fit.tau2_or_zero(),
            plan,
            first,
            total: end - first,
            done: 0,
            skipped: 0,
            summary: GoshSummary::default(),
            rows: Vec::with_capacity(k),
        })
    }

    /// Whether every non-empty subset is fitted once.
    pub fn is_exact(&self) -> bool {
        matches!(self.plan, Plan::Exact)
    }

    /// Subsets of this part drawn so far and in all (fitted and skipped).
    pub fn progress(&self) -> Progress {
        Progress {
            done: self.done,
            total: self.total,
        }
    }

    /// Subsets the model could not be fitted to so far.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// The summary of the subsets fitted so far.
    pub fn summary(&self) -> &GoshSummary {
        &self.summary
    }

    /// Puts the studies of subset `index` in `self.rows`.
    fn draw(&mut self, index: usize) {
        let k = self.data.k();
        self.rows.clear();
        match &self.plan {
            Plan::Exact => {
                let bits = index as u64 + 1;
                self.rows.extend((0..k).filter(|&i| bits >> i & 1 == 1));
            }
            Plan::Random { key } => {
                let mut rng = ChaCha8Rng::clone(key);
                rng.set_stream(index as u64);
                rng.set_word_pos(0);
                while self.rows.is_empty() {
                    let mut word = 0;
                    for i in 0..k {
                        if i % 64 == 0 {
                            word = rng.next_u64();
                        }
                        if word >> (i % 64) & 1 == 1 {
                            self.rows.push(i);
                        }
                    }
                }
            }
        }
    }

    /// The model fitted to the studies in `self.rows`.
    fn fit_rows(&self) -> Result<GoshFit, StatsError> {
        let data = self.data.subset(&self.rows, &self.names)?;
        let (k, p) = (data.k(), data.p());
        let spec = if k == 1 { &self.single } else { &self.spec };
        let est = Estimated::new(&data, spec, Some(self.tau2))?;
        let method = spec.method();
        let tau2 = est.tau2.tau2;
        let q_based = method.is_fixed() || method == Tau2Method::Dl;
        let h = Heterogeneity::new(&est.fe, k, p, tau2, q_based);
        Ok(GoshFit {
            included: self.rows.clone(),
            k,
            estimates: est.gls.coef(RAW).iter().copied().collect(),
            qe: h.qe,
            i2: h.i2,
            h2: h.h2,
            tau2,
        })
    }
}

impl Iterator for Gosh {
    type Item = GoshFit;

    /// The next subset's fit; subsets the model cannot be fitted to are skipped and counted
    /// ([`Gosh::skipped`]).
    fn next(&mut self) -> Option<GoshFit> {
        while self.done < self.total {
            let index = self.first + self.done;
            self.draw(index);
            self.done += 1;
            match self.fit_rows() {
                Ok(fit) => {
                    self.summary.add(index, &fit);
                    return Some(fit);
                }
                Err(_) => self.skipped += 1,
            }
        }
        None
    }
}
