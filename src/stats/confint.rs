//! Q-profile confidence intervals for τ², τ, I² and H² (Viechtbauer, 2007).
//!
//! The generalised Q statistic Q(τ²) = Σ wᵢ(τ²)(yᵢ − xᵢ'b(τ²))² with wᵢ = 1/(vᵢ + τ²) follows a
//! χ² distribution with k − p df at the true τ² and decreases in τ², so the interval is
//! { τ² ≥ 0 : χ²_{α/2} ≤ Q(τ²) ≤ χ²_{1−α/2} }. I² and H² intervals are the τ² bounds mapped
//! through I² = 100·τ²/(τ² + ṽ) and H² = (τ² + ṽ)/ṽ.
//!
//! With an intercept the residuals of the centred and the raw effects are the same; without
//! one the profile uses the raw effects, as metafor's `confint` does (centring would profile
//! a different model).

use statrs::distribution::ContinuousCDF;

use super::heterogeneity::i2_h2_from_tau2;
use super::objective::{ESTIMATION, RAW};
use super::spec::check_level;
use super::summary::chi_squared;
use super::tau2::{tau2_scale, QSearch};
use super::{Fit, StatsError};

/// An estimate with its confidence bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// The point estimate of the fit.
    pub estimate: f64,
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
}

/// Q-profile intervals for the heterogeneity parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct HeterogeneityIntervals {
    /// Confidence level.
    pub level: f64,
    /// τ².
    pub tau2: Interval,
    /// τ = √τ².
    pub tau: Interval,
    /// I² in percent.
    pub i2: Interval,
    /// H².
    pub h2: Interval,
    /// The lower bound is 0 because even Q(0) is below the upper critical value: the data are
    /// compatible with homogeneity.
    pub lower_at_zero: bool,
    /// Both bounds fall below 0 (Q(0) is below the lower critical value): the interval is the
    /// empty set, reported as [0, 0] (the data are more homogeneous than sampling error
    /// alone would make them).
    pub empty: bool,
}

impl Fit {
    /// Q-profile confidence intervals for τ², τ, I² and H² at `level` (e.g. 0.95), with or
    /// without moderators; metafor: `confint(res)` for `rma.uni` fits.
    ///
    /// # Errors
    /// [`StatsError::InvalidLevel`], [`StatsError::TooFewStudies`] when k = p (Q has no
    /// degrees of freedom), or a non-converging root search.
    pub fn confint_tau2(&self, level: f64) -> Result<HeterogeneityIntervals, StatsError> {
        check_level(level)?;
        if self.k <= self.p {
            return Err(StatsError::TooFewStudies {
                k: self.k,
                p: self.p,
            });
        }
        let df = (self.k - self.p) as f64;
        let alpha = 1.0 - level;
        let chi2 = chi_squared(df);
        let response = if self.intercept { ESTIMATION } else { RAW };
        let control = self.spec.control;
        let method = self.spec.method;
        let scale = tau2_scale(self.heterogeneity.typical_variance, &self.data);
        let mut search = QSearch::new(&self.data, self.q0, scale, response);
        let (lower, _) = search.root(chi2.inverse_cdf(1.0 - alpha / 2.0), &control, method)?;
        let (upper, _) = search.root(chi2.inverse_cdf(alpha / 2.0), &control, method)?;
        let tau2 = Interval {
            estimate: self.tau2_or_zero(),
            lower,
            upper,
        };
        let vt = self.heterogeneity.typical_variance;
        let map = |f: fn((f64, f64)) -> f64| Interval {
            estimate: f(i2_h2_from_tau2(tau2.estimate, vt)),
            lower: f(i2_h2_from_tau2(tau2.lower, vt)),
            upper: f(i2_h2_from_tau2(tau2.upper, vt)),
        };
        Ok(HeterogeneityIntervals {
            level,
            tau2,
            tau: Interval {
                estimate: tau2.estimate.sqrt(),
                lower: lower.sqrt(),
                upper: upper.sqrt(),
            },
            i2: map(|(i2, _)| i2),
            h2: map(|(_, h2)| h2),
            lower_at_zero: lower == 0.0,
            empty: upper == 0.0,
        })
    }
}
