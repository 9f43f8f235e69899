//! Heterogeneity statistics: QE, I², H², and the pseudo-R² of meta-regression.

use statrs::distribution::ContinuousCDF;

use super::tau2::FixedEffect;

/// How much the studies disagree beyond sampling error, as metafor reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Heterogeneity {
    /// QE = Σ (yᵢ − xᵢ'b_FE)²/vᵢ: the test of residual heterogeneity (Cochran's Q without
    /// moderators), weights 1/vᵢ whatever the τ² estimator. As metafor does, y is first
    /// centred at its unweighted mean, which changes nothing when the columns of X span a
    /// constant (any model with an intercept) and reproduces metafor's QE without one. A QE
    /// below the rounding level of the data (the model reproduces the effects, as always when
    /// k = p) is exactly 0.
    pub qe: f64,
    /// Degrees of freedom of QE, k − p.
    pub qe_df: usize,
    /// p-value of QE against χ² with k − p df; 1 when k = p (QE is 0 on 0 df), as metafor
    /// reports it.
    pub qe_p: f64,
    /// I² in percent: the share of the total variance that is between studies.
    /// Random effects: 100·τ²/(τ² + ṽ) with the "typical" sampling variance
    /// ṽ = (k − p)/tr(P), P with weights 1/vᵢ (Higgins & Thompson, 2002, as metafor generalises
    /// it to meta-regression). FE/EE: 100·max(0, (QE − (k − p))/QE), 0 when QE = 0.
    pub i2: f64,
    /// H²: (τ² + ṽ)/ṽ for random effects, QE/(k − p) for FE/EE (1 when k = p).
    pub h2: f64,
    /// The typical sampling variance ṽ = (k − p)/tr(P) used by I² and H²; NaN when k = p.
    pub typical_variance: f64,
}

impl Heterogeneity {
    /// From the fixed-effect fit, for a model with k studies and p coefficients, at this τ²
    /// (random effects) or with τ² fixed at 0 (FE/EE: I² and H² from QE).
    pub(crate) fn new(fe: &FixedEffect, k: usize, p: usize, tau2: f64, fixed: bool) -> Self {
        let df = k - p;
        let qe = fe.qe;
        let qe_p = if df > 0 {
            super::summary::chi_squared(df as f64).sf(qe)
        } else {
            1.0
        };
        let typical_variance = fe.typical_variance;
        let (i2, h2) = if fixed {
            let i2 = if qe > 0.0 {
                100.0 * ((qe - df as f64) / qe).max(0.0)
            } else {
                0.0
            };
            let h2 = if df > 0 { qe / df as f64 } else { 1.0 };
            (i2, h2)
        } else {
            i2_h2_from_tau2(tau2, typical_variance)
        };
        Self {
            qe,
            qe_df: df,
            qe_p,
            i2,
            h2,
            typical_variance,
        }
    }
}

/// I² (percent) and H² of a given τ² with typical sampling variance ṽ.
pub(crate) fn i2_h2_from_tau2(tau2: f64, vt: f64) -> (f64, f64) {
    // The share first, then the percent: τ²/(ṽ + τ²) never exceeds 1 in floating point, but
    // (100·τ²)/(ṽ + τ²) gave 100.00000000000001 when ṽ vanished beside τ² (pipeline fuzzer).
    (100.0 * (tau2 / (vt + tau2)), (vt + tau2) / vt)
}

/// The pseudo-R² of a meta-regression (Raudenbush, 2009) and the reduced model it compares
/// with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PseudoR2 {
    /// R² in percent: 100·max(0, (τ²₀ − τ²)/τ²₀), τ²₀ from the intercept-only model with the
    /// same estimator on the same studies, 0 when τ²₀ = 0. For FE/EE models, as metafor reports
    /// it there: 100·max(0, (H²₀ − H²)/H²₀) with H²₀ of the intercept-only model.
    pub r2: f64,
    /// τ²₀ of the intercept-only model (random effects), or its H²₀ (FE/EE).
    pub reduced: f64,
}

/// Pseudo-R² in percent: the share of the reduced model's `reduced` (τ²₀, or H²₀ for FE/EE)
/// that the full model's `full` no longer has, truncated at 0; 0 when there was nothing to
/// explain.
pub(crate) fn pseudo_r2(reduced: f64, full: f64) -> f64 {
    if reduced > 0.0 {
        100.0 * ((reduced - full) / reduced).max(0.0)
    } else {
        0.0
    }
}
