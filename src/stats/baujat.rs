//! Baujat et al.'s (2002) plot coordinates, as metafor's `baujat` computes them for a fitted
//! model: horizontally each study's contribution to the heterogeneity, eᵢ²/(vᵢ + τ²) with the
//! fit's residual eᵢ and τ²; vertically its influence on the fitted value,
//! (xᵢ'b − xᵢ'b₍ᵢ₎)² / (xᵢ'V₍ᵢ₎xᵢ), from the refit without it (V₍ᵢ₎ under the fit's test).

use super::deletion::Deletions;
use super::fit::Fit;

/// One study's point of the Baujat plot; `y` is `None` when the model cannot be refitted
/// without the study.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BaujatPoint {
    /// Contribution to the heterogeneity statistic.
    pub x: f64,
    /// Influence on the fitted value.
    pub y: Option<f64>,
}

/// The Baujat coordinates of every study of `fit`, in study order.
pub fn baujat(fit: &Fit, deletions: &Deletions) -> Vec<BaujatPoint> {
    let tau2 = fit.tau2_or_zero();
    let x = fit.x();
    (0..fit.k)
        .map(|i| {
            let xi = x.row(i).transpose();
            let e = fit.residuals[i];
            let y = deletions.refits[i].as_ref().ok().map(|d| {
                let shift = fit.fitted[i] - xi.dot(&d.beta());
                shift * shift / xi.dot(&(&d.vcov * &xi))
            });
            BaujatPoint {
                x: e * e / (fit.vi()[i] + tau2),
                y,
            }
        })
        .collect()
}
