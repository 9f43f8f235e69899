//! Cumulative meta-analysis (Lau et al., 1992), as metafor's `cumul`: the intercept-only model
//! fitted to the first study, the first two, … in a given order, each step warm-started from
//! the previous one's τ². The first step is a single study, fitted as metafor fits one: τ² = 0,
//! Q = 0 with p-value 1, I² = 0, H² = 1, a z test.

use super::deletion::refit_rows;
use super::fit::Fit;
use super::summary::Coefficient;
use super::StatsError;

/// The model fitted to the first `k` studies of the order.
#[derive(Debug, Clone, PartialEq)]
pub struct CumulativeStep {
    /// The study added at this step (0-based, in study order).
    pub study: usize,
    /// The number of studies so far (the step number).
    pub k: usize,
    /// The pooled effect of the first k studies.
    pub estimate: Coefficient,
    /// Q of the first k studies.
    pub q: f64,
    /// Its p-value.
    pub q_p: f64,
    /// τ² (0 for FE/EE).
    pub tau2: f64,
    /// I² in percent.
    pub i2: f64,
    /// H².
    pub h2: f64,
}

/// The cumulative meta-analysis of an intercept-only `fit` adding studies in `order` (a
/// permutation of 0..k); a step whose model cannot be fitted carries the reason.
///
/// # Errors
/// [`StatsError::NeedsInterceptOnly`] for a model with moderators (as metafor's `cumul`),
/// [`StatsError::InvalidOrder`] when `order` is not a permutation of the studies.
pub fn cumulative(
    fit: &Fit,
    order: &[usize],
) -> Result<Vec<Result<CumulativeStep, StatsError>>, StatsError> {
    let mut run = CumulativeRun::new(fit, order.to_vec())?;
    run.step(fit, fit.k);
    Ok(run.finish())
}

/// The steps of [`cumulative`] done a few at a time, so that a caller can report progress
/// between them and stop (k fits of up to k studies: over a second at k = 3,000 in the page's
/// worker).
#[derive(Debug, Clone)]
pub struct CumulativeRun {
    order: Vec<usize>,
    steps: Vec<Result<CumulativeStep, StatsError>>,
}

impl CumulativeRun {
    /// The steps to come of `fit`'s cumulative meta-analysis in `order`.
    ///
    /// # Errors
    /// As [`cumulative`].
    pub fn new(fit: &Fit, order: Vec<usize>) -> Result<Self, StatsError> {
        if fit.p != 1 || !fit.has_intercept() {
            return Err(StatsError::NeedsInterceptOnly {
                analysis: "a cumulative meta-analysis",
            });
        }
        let mut seen = vec![false; fit.k];
        for &i in &order {
            if i >= fit.k || std::mem::replace(&mut seen[i], true) {
                return Err(StatsError::InvalidOrder { k: fit.k });
            }
        }
        if order.len() != fit.k {
            return Err(StatsError::InvalidOrder { k: fit.k });
        }
        Ok(Self {
            order,
            steps: Vec::with_capacity(fit.k),
        })
    }

    /// Fits up to `n` more steps of `fit` (the fit the run was made for).
    pub fn step(&mut self, fit: &Fit, n: usize) {
        let end = (self.steps.len() + n).min(self.order.len());
        for k in self.steps.len() + 1..=end {
            let step = refit_rows(fit, &self.order[..k]).map(|step| {
                let h = &step.heterogeneity;
                CumulativeStep {
                    study: self.order[k - 1],
                    k,
                    estimate: step.coefficients[0].clone(),
                    q: h.qe,
                    q_p: h.qe_p,
                    tau2: step.tau2_or_zero(),
                    i2: h.i2,
                    h2: h.h2,
                }
            });
            self.steps.push(step);
        }
    }

    /// Steps done so far.
    pub fn done(&self) -> usize {
        self.steps.len()
    }

    /// The steps, once [`CumulativeRun::step`] has done all; the run is left with none.
    pub fn finish(&mut self) -> Vec<Result<CumulativeStep, StatsError>> {
        std::mem::take(&mut self.steps)
    }
}
