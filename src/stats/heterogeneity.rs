//! Heterogeneity statistics: QE, I², H² and the pseudo-R² of meta-regression.

use statrs::distribution::ContinuousCDF;

use super::wls::Wls;

/// How much the studies disagree beyond sampling error, as metafor reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Heterogeneity {
    /// QE = Σ (yᵢ − xᵢ'b_FE)²/vᵢ: the test of residual heterogeneity (Cochran's Q without
    /// moderators), weights 1/vᵢ whatever the τ² estimator. As metafor does, y is first
    /// centred at its unweighted mean, which changes nothing when the columns of X span a
    /// constant (any model with an intercept) and reproduces metafor's QE without one.
    pub qe: f64,
    /// Degrees of freedom of QE, k − p.
    pub qe_df: usize,
    /// p-value of QE against χ² with k − p df; `None` when k = p.
    pub qe_p: Option<f64>,
    /// I² in percent: the share of the total variance that is between studies.
    /// Random effects: 100·τ²/(τ² + ṽ) with the "typical" sampling variance
    /// ṽ = (k − p)/tr(P), P with weights 1/vᵢ (Higgins & Thompson, 2002, as metafor generalises
    /// it to meta-regression). FE/EE: 100·max(0, (QE − (k − p))/QE).
    pub i2: f64,
    /// H²: (τ² + ṽ)/ṽ for random effects, QE/(k − p) for FE/EE.
    pub h2: f64,
    /// The typical sampling variance ṽ = (k − p)/tr(P) used by I² and H².
    pub typical_variance: f64,
    /// Pseudo-R² in percent (Raudenbush, 2009): 100·max(0, (τ²₀ − τ²)/τ²₀) with τ²₀ from the
    /// intercept-only model with the same estimator on the same studies, 0 when τ²₀ = 0.
    /// For FE/EE models, as metafor reports it there: 100·max(0, (H²₀ − H²)/H²₀) with H²₀ of
    /// the intercept-only model. `None` without moderators or without an intercept.
    pub r2: Option<f64>,
    /// τ²₀ of the intercept-only model used for R², when R² is defined.
    pub tau2_reduced: Option<f64>,
}

/// QE, its df and p-value, and ṽ, from the fixed-effect fit (weights 1/vᵢ).
pub(crate) struct ResidualQ {
    pub qe: f64,
    pub df: usize,
    pub p: Option<f64>,
    pub typical_variance: f64,
}

impl ResidualQ {
    /// From the fit with weights 1/vᵢ, the weighted residual sum of squares of the
    /// mean-centred effects with the same weights, and the number of studies and coefficients.
    pub fn new(fe: &Wls, qe: f64, k: usize, p: usize) -> Self {
        let df = k - p;
        let p_value = (df > 0).then(|| super::inference::chi_squared(df as f64).sf(qe));
        // With k = p the model interpolates the data and there is no residual variance to
        // compare τ² with; ṽ is then undefined and reported as NaN.
        let typical_variance = if df > 0 {
            df as f64 / fe.trace_p()
        } else {
            f64::NAN
        };
        Self {
            qe,
            df,
            p: p_value,
            typical_variance,
        }
    }

    /// I² and H² for a fit with this τ² (random effects) or, for FE/EE, from QE.
    pub fn i2_h2(&self, tau2: f64, fixed: bool) -> (f64, f64) {
        if fixed {
            let df = self.df as f64;
            let i2 = if self.qe > 0.0 {
                100.0 * ((self.qe - df) / self.qe).max(0.0)
            } else {
                0.0
            };
            let h2 = if self.df > 0 { self.qe / df } else { f64::NAN };
            (i2, h2)
        } else {
            i2_h2_from_tau2(tau2, self.typical_variance)
        }
    }
}

/// I² (percent) and H² of a given τ² with typical sampling variance ṽ.
pub(crate) fn i2_h2_from_tau2(tau2: f64, vt: f64) -> (f64, f64) {
    (100.0 * tau2 / (vt + tau2), (vt + tau2) / vt)
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
