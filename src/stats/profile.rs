//! The profile (restricted) log-likelihood of τ² (metafor: `profile(res)`) for a profile
//! plot, and the profile-likelihood confidence interval of τ² (metafor:
//! `confint(res, type = "PL")`): { τ² ≥ 0 : 2(ℓ(τ̂²) − ℓ(τ²)) ≤ χ²₁,level }, β profiled out
//! at each τ², for ML and REML fits with one τ².

use statrs::distribution::ContinuousCDF;

use super::summary::chi_squared;
use super::{Fit, Interval, StatsError, Tau2Method};

/// Bisection steps of an interval bound: each halves the bracket, so 200 reach the
/// resolution of a double from any bracket a double can hold.
const BISECTIONS: usize = 200;
/// Doublings of the upper end before concluding that the likelihood never falls far enough
/// (it flattens out for a τ² far beyond any sampling variance only when k is tiny).
const DOUBLINGS: usize = 200;

/// One point of the profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProfilePoint {
    /// τ².
    pub tau2: f64,
    /// The log-likelihood there (restricted for REML), β at its GLS estimate.
    pub log_likelihood: f64,
}

/// The profile of τ² on a grid with the maximum and the profile-likelihood interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The profile at each grid point, in the grid's order.
    pub points: Vec<ProfilePoint>,
    /// τ̂² and its maximised log-likelihood.
    pub maximum: ProfilePoint,
    /// The profile-likelihood confidence interval of τ² at the fit's level.
    pub interval: Interval,
    /// The log-likelihood at the interval's bounds: the maximum less χ²₁,level / 2.
    pub threshold: f64,
}

impl Fit {
    /// The profile log-likelihood of τ² at each of `grid` and the profile-likelihood
    /// interval; an empty grid takes `steps` points evenly from half the lower bound of the
    /// interval to 1.5 times its upper bound.
    ///
    /// # Errors
    /// [`StatsError::ScaleNeedsLikelihood`] for a fit other than ML or REML,
    /// [`StatsError::InvalidParameters`] for a model without one τ² or a negative grid value,
    /// and a numerically singular design at some τ².
    pub fn profile_tau2(&self, grid: &[f64], steps: usize) -> Result<Profile, StatsError> {
        let method = self.spec.method;
        if !matches!(method, Tau2Method::Ml | Tau2Method::Reml) {
            return Err(StatsError::ScaleNeedsLikelihood { method });
        }
        let Some(tau2) = self.tau2() else {
            return Err(StatsError::InvalidParameters {
                given: self
                    .variance_components()
                    .iter()
                    .map(|c| c.estimate)
                    .collect(),
            });
        };
        let maximum = ProfilePoint {
            tau2,
            log_likelihood: self.fit_statistics.loglik,
        };
        let threshold = maximum.log_likelihood - self.profile_drop();
        let interval = self.profile_interval(maximum, threshold)?;
        let grid: Vec<f64> = if grid.is_empty() {
            let (lo, hi) = (0.5 * interval.lower, 1.5 * interval.upper.max(tau2));
            let n = steps.max(2);
            (0..n)
                .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
                .collect()
        } else {
            grid.to_vec()
        };
        Ok(Profile {
            points: self.profile_at(&grid)?,
            maximum,
            interval,
            threshold,
        })
    }

    /// The profile log-likelihood of τ² at each of `grid`, without the interval (whose bounds
    /// cost hundreds of evaluations): for a second grid once [`Fit::profile_tau2`] has given
    /// the interval.
    ///
    /// # Errors
    /// As [`Fit::profile_tau2`].
    pub fn profile_at(&self, grid: &[f64]) -> Result<Vec<ProfilePoint>, StatsError> {
        grid.iter()
            .map(|&t| {
                Ok(ProfilePoint {
                    tau2: t,
                    log_likelihood: self.log_likelihood_at(&[t])?,
                })
            })
            .collect()
    }

    /// How far the profile falls from its maximum at the interval's bounds: χ²₁,level / 2.
    fn profile_drop(&self) -> f64 {
        chi_squared(1.0).inverse_cdf(self.spec.level) / 2.0
    }

    /// The bounds where the profile falls to `target` (χ²₁/2 below its maximum), by
    /// bisection: the likelihood of τ² is unimodal in the models it is used for, so each side
    /// has one root.
    fn profile_interval(&self, maximum: ProfilePoint, target: f64) -> Result<Interval, StatsError> {
        let below =
            |t: f64| -> Result<bool, StatsError> { Ok(self.log_likelihood_at(&[t])? < target) };
        let bisect = |mut inside: f64, mut outside: f64| -> Result<f64, StatsError> {
            for _ in 0..BISECTIONS {
                let mid = 0.5 * (inside + outside);
                if mid == inside || mid == outside {
                    break;
                }
                if below(mid)? {
                    outside = mid;
                } else {
                    inside = mid;
                }
            }
            Ok(0.5 * (inside + outside))
        };
        let t = maximum.tau2;
        let lower = if t == 0.0 || !below(0.0)? {
            0.0
        } else {
            bisect(t, 0.0)?
        };
        let typical = self.heterogeneity.typical_variance;
        let mut hi = if t > 0.0 { 2.0 * t } else { typical.max(1e-8) };
        let mut doublings = 0;
        while !below(hi)? {
            doublings += 1;
            if doublings > DOUBLINGS {
                return Err(StatsError::NoConvergence {
                    method: self.spec.method,
                    iterations: doublings,
                    last_tau2: hi,
                });
            }
            hi *= 2.0;
        }
        let upper = bisect(t, hi)?;
        Ok(Interval {
            estimate: t,
            lower,
            upper,
        })
    }
}
