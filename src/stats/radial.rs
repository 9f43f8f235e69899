//! Coordinates of two residual plots of a fitted model: the radial (Galbraith) plot
//! (Galbraith, 1988; metafor: `radial`) and the normal scores of a normal Q–Q plot (metafor:
//! `qqnorm`, R's `qqnorm(qnorm(ppoints(n)))`).

use statrs::distribution::{ContinuousCDF, Normal};

use super::fit::Fit;
use super::order::sort_indices_by_key;
use super::StatsError;

/// One study's point of the radial plot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RadialPoint {
    /// Precision 1/√(vᵢ + τ²).
    pub x: f64,
    /// Standardized effect yᵢ/√(vᵢ + τ²).
    pub y: f64,
}

/// The radial plot of a model without moderators.
#[derive(Debug, Clone, PartialEq)]
pub struct Radial {
    /// One point per study.
    pub points: Vec<RadialPoint>,
    /// The two-sided standard normal critical value at the model's level: the band
    /// y = b·x ± crit around the line (Galbraith's ±2 at 95 %).
    pub crit: f64,
}

impl Fit {
    /// The radial plot (metafor: `radial`): each study's precision xᵢ = 1/√(vᵢ + τ²) against
    /// its standardized effect yᵢ·xᵢ (τ² = 0 for FE/EE). The pooled estimate is the slope of
    /// the weighted line through the origin.
    ///
    /// # Errors
    /// [`StatsError::NeedsInterceptOnly`] for a model with moderators (as metafor's `radial`).
    pub fn radial(&self) -> Result<Radial, StatsError> {
        if self.p != 1 || !self.has_intercept() {
            return Err(StatsError::NeedsInterceptOnly {
                analysis: "a radial plot",
            });
        }
        let tau2 = self.tau2_or_zero();
        let points = self
            .yi()
            .iter()
            .zip(self.vi())
            .map(|(&y, &v)| {
                let x = 1.0 / (v + tau2).sqrt();
                RadialPoint { x, y: y * x }
            })
            .collect();
        let level = self.spec.level;
        Ok(Radial {
            points,
            crit: Normal::standard().inverse_cdf(0.5 + level / 2.0),
        })
    }
}

/// The normal scores of `values` as R's `qqnorm` places them: the i-th smallest value gets
/// Φ⁻¹(pᵢ) with pᵢ = (i − a)/(n + 1 − 2a), a = 3/8 for n ≤ 10 and 1/2 above (`ppoints`); ties
/// keep their order of position. Values that are not numbers rank last.
pub fn normal_scores(values: &[f64]) -> Vec<f64> {
    let n = values.len();
    let a = if n <= 10 { 3.0 / 8.0 } else { 0.5 };
    let key = |v: f64| if v.is_nan() { f64::INFINITY } else { v };
    let mut order: Vec<usize> = (0..n).collect();
    sort_indices_by_key(&mut order, &|i| key(values[i]));
    let normal = Normal::standard();
    let mut scores = vec![0.0; n];
    for (rank, &i) in order.iter().enumerate() {
        let p = (rank as f64 + 1.0 - a) / (n as f64 + 1.0 - 2.0 * a);
        scores[i] = normal.inverse_cdf(p);
    }
    scores
}
