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
    if fit.p != 1 || !fit.has_intercept() {
        return Err(StatsError::NeedsInterceptOnly {
            analysis: "a cumulative meta-analysis",
        });
    }
    let mut seen = vec![false; fit.k];
    for &i in order {
        if i >= fit.k || std::mem::replace(&mut seen[i], true) {
            return Err(StatsError::InvalidOrder { k: fit.k });
        }
    }
    if order.len() != fit.k {
        return Err(StatsError::InvalidOrder { k: fit.k });
    }
    Ok((1..=fit.k)
        .map(|k| {
            let step = refit_rows(fit, &order[..k])?;
            let h = &step.heterogeneity;
            Ok(CumulativeStep {
                study: order[k - 1],
                k,
                estimate: step.coefficients[0].clone(),
                q: h.qe,
                q_p: h.qe_p,
                tau2: step.tau2_or_zero(),
                i2: h.i2,
                h2: h.h2,
            })
        })
        .collect())
}
