//! Best linear unbiased predictions (Raudenbush & Bryk, 1985), as metafor's `blup` and
//! `ranef`: with λᵢ = τ²/(τ² + vᵢ), the fitted value ŷᵢ = xᵢ'b and V the coefficients'
//! covariance under the fit's test,
//!
//! - the study's true effect θᵢ: λᵢyᵢ + (1 − λᵢ)ŷᵢ, SE √(λᵢvᵢ + (1 − λᵢ)² xᵢ'Vxᵢ);
//! - its random effect uᵢ: λᵢ(yᵢ − ŷᵢ), SE √(λᵢvᵢ + λᵢ² xᵢ'Vxᵢ);
//!
//! each with the interval ± crit·SE (normal, or t on k − p df under Knapp–Hartung).

use super::fit::Fit;
use super::summary::Tests;

/// A predicted value with its standard error and prediction interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Blup {
    /// The prediction.
    pub pred: f64,
    /// Its standard error.
    pub se: f64,
    /// Lower bound of the prediction interval.
    pub pi_lower: f64,
    /// Upper bound.
    pub pi_upper: f64,
}

impl Fit {
    /// The BLUPs of the true effects of the studies (metafor: `blup`), in study order.
    pub fn blup(&self) -> Vec<Blup> {
        self.predictions(|lambda, e, fitted, vi, xvx| {
            (
                fitted + lambda * e,
                lambda * vi + (1.0 - lambda).powi(2) * xvx,
            )
        })
    }

    /// The BLUPs of the random effects uᵢ (metafor: `ranef`), in study order.
    pub fn ranef(&self) -> Vec<Blup> {
        self.predictions(|lambda, e, _, vi, xvx| (lambda * e, lambda * vi + lambda * lambda * xvx))
    }

    /// Each study's prediction and its variance from λᵢ, eᵢ, ŷᵢ, vᵢ and xᵢ'Vxᵢ.
    fn predictions(&self, of: impl Fn(f64, f64, f64, f64, f64) -> (f64, f64)) -> Vec<Blup> {
        let tau2 = self.tau2_or_zero();
        let crit = Tests::new(&self.estimates(), self.spec.test.into())
            .reference()
            .critical(self.spec.level);
        let x = self.x();
        (0..self.k)
            .map(|i| {
                let xi = x.row(i).transpose();
                let vi = self.vi()[i];
                let lambda = tau2 / (tau2 + vi);
                let xvx = xi.dot(&(&self.vcov * &xi));
                let (pred, var) = of(lambda, self.residuals[i], self.fitted[i], vi, xvx);
                let se = var.max(0.0).sqrt();
                Blup {
                    pred,
                    se,
                    pi_lower: pred - crit * se,
                    pi_upper: pred + crit * se,
                }
            })
            .collect()
    }
}
