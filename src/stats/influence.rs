//! Case-deletion diagnostics of a fitted model (Viechtbauer & Cheung, 2010), as metafor's
//! `influence.rma.uni` defines them, and the internally standardized residuals (`rstandard`).
//!
//! With b, V the full fit's coefficients and covariance under its test, hᵢ its hat values, and
//! b₍ᵢ₎, V₍ᵢ₎, τ²₍ᵢ₎, s²₍ᵢ₎ those of the refit without study i (s² the Knapp–Hartung scale, 1
//! under z tests):
//!
//! - externally standardized residual (`rstudent`): (yᵢ − xᵢ'b₍ᵢ₎) / √((vᵢ + τ²₍ᵢ₎)s²₍ᵢ₎ + xᵢ'V₍ᵢ₎xᵢ);
//! - DFFITS: (xᵢ'b − xᵢ'b₍ᵢ₎) / √(s²₍ᵢ₎ hᵢ (τ²₍ᵢ₎ + vᵢ));
//! - Cook's distance: (b − b₍ᵢ₎)' V⁻¹ (b − b₍ᵢ₎);
//! - covariance ratio: det V₍ᵢ₎ / det V;
//! - DFBETAS: (bⱼ − b₍ᵢ₎ⱼ) / √(s²₍ᵢ₎ [(X'W₍ᵢ₎X)⁻¹]ⱼⱼ), W₍ᵢ₎ = diag 1/(vⱼ + τ²₍ᵢ₎) over all k
//!   studies;
//! - metafor's rule: a study is influential when |DFFITS| > 3√(p/(k − p)), the χ²ₚ
//!   distribution function at Cook's distance exceeds 0.5, hᵢ > 3p/k, or some |DFBETAS| > 1.

use nalgebra::{DMatrix, DVector};
use statrs::distribution::ContinuousCDF;

use super::deletion::{Deletion, Deletions};
use super::fit::Fit;
use super::summary::chi_squared;
use super::StatsError;

/// One of metafor's criteria for an influential study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InfluenceCriterion {
    /// |DFFITS| > 3√(p/(k − p)): the study moves its own fitted value.
    Dffits,
    /// The χ²ₚ distribution function at Cook's distance exceeds 0.5: the study moves the
    /// coefficients as a whole.
    CookDistance,
    /// hᵢ > 3p/k: the study has high leverage.
    Hat,
    /// Some |DFBETAS| > 1: the study moves one coefficient by more than its standard error.
    Dfbetas,
}

/// The diagnostics of one study; the deletion statistics are `None` when the model cannot be
/// refitted without it.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyInfluence {
    /// Externally standardized residual (metafor: `rstudent`).
    pub rstudent: Option<f64>,
    /// DFFITS.
    pub dffits: Option<f64>,
    /// Cook's distance.
    pub cook_d: Option<f64>,
    /// Covariance ratio det V₍ᵢ₎ / det V.
    pub cov_r: Option<f64>,
    /// τ² without the study.
    pub tau2_del: Option<f64>,
    /// QE without the study.
    pub qe_del: Option<f64>,
    /// Hat value (a proportion).
    pub hat: f64,
    /// Weight in percent of the total.
    pub weight: f64,
    /// DFBETAS per coefficient, in design order (empty when the refit failed).
    pub dfbetas: Vec<f64>,
    /// The criteria the study meets; influential when not empty (metafor: `is.infl`).
    pub criteria: Vec<InfluenceCriterion>,
}

impl StudyInfluence {
    /// Whether metafor flags the study as influential.
    pub fn influential(&self) -> bool {
        !self.criteria.is_empty()
    }
}

/// The influence diagnostics of every study of a fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Influence {
    /// One entry per study, in study order.
    pub studies: Vec<StudyInfluence>,
}

/// An internally standardized residual (metafor: `rstandard`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StandardizedResidual {
    /// yᵢ − xᵢ'b.
    pub resid: f64,
    /// Its standard error √(vᵢ + τ² − xᵢ'(X'M⁻¹X)⁻¹xᵢ) (model-based under every test).
    pub se: f64,
    /// resid / se.
    pub z: f64,
}

impl Influence {
    /// The diagnostics of `fit` from its case deletions.
    ///
    /// # Errors
    /// [`StatsError::NumericallySingular`] when the fit's covariance is not positive definite
    /// in floating point (Cook's distance needs V⁻¹).
    pub fn new(fit: &Fit, deletions: &Deletions) -> Result<Self, StatsError> {
        let (k, p) = (fit.k, fit.p);
        let tau2 = fit.tau2_or_zero();
        let chol = fit
            .vcov
            .clone()
            .cholesky()
            .ok_or(StatsError::NumericallySingular { tau2 })?;
        let det = fit.vcov.determinant();
        let total: f64 = fit.weights.iter().sum();
        let x = fit.x();
        let b = &fit.beta;
        let hat = fit.hat_values();
        let dffits_cut = 3.0 * (p as f64 / (k - p) as f64).sqrt();
        let cook = chi_squared(p as f64);
        let studies = (0..k)
            .map(|i| {
                let weight = 100.0 * fit.weights[i] / total;
                let Ok(del) = &deletions.refits[i] else {
                    let criteria = if hat[i] > 3.0 * p as f64 / k as f64 {
                        vec![InfluenceCriterion::Hat]
                    } else {
                        Vec::new()
                    };
                    return StudyInfluence {
                        rstudent: None,
                        dffits: None,
                        cook_d: None,
                        cov_r: None,
                        tau2_del: None,
                        qe_del: None,
                        hat: hat[i],
                        weight,
                        dfbetas: Vec::new(),
                        criteria,
                    };
                };
                let xi = x.row(i).transpose();
                let bi = del.beta();
                let diff = b - &bi;
                let (yi, vi) = (fit.yi()[i], fit.vi()[i]);
                let rstudent = (yi - xi.dot(&bi))
                    / ((vi + del.tau2) * del.scale + xi.dot(&(&del.vcov * &xi))).sqrt();
                let dffits = xi.dot(&diff) / (del.scale * hat[i] * (del.tau2 + vi)).sqrt();
                let cook_d = diff.dot(&chol.solve(&diff));
                let cov_r = del.vcov.determinant() / det;
                let dfbetas = dfbetas(fit, del, &diff);
                let mut criteria = Vec::new();
                if dffits.abs() > dffits_cut {
                    criteria.push(InfluenceCriterion::Dffits);
                }
                if cook.cdf(cook_d) > 0.5 {
                    criteria.push(InfluenceCriterion::CookDistance);
                }
                if hat[i] > 3.0 * p as f64 / k as f64 {
                    criteria.push(InfluenceCriterion::Hat);
                }
                if dfbetas.iter().any(|d| d.abs() > 1.0) {
                    criteria.push(InfluenceCriterion::Dfbetas);
                }
                StudyInfluence {
                    rstudent: Some(rstudent),
                    dffits: Some(dffits),
                    cook_d: Some(cook_d),
                    cov_r: Some(cov_r),
                    tau2_del: Some(del.tau2),
                    qe_del: Some(del.heterogeneity.qe),
                    hat: hat[i],
                    weight,
                    dfbetas,
                    criteria,
                }
            })
            .collect();
        Ok(Self { studies })
    }
}

/// DFBETAS of one deletion: b − b₍ᵢ₎ over √(s²₍ᵢ₎ diag (X'W₍ᵢ₎X)⁻¹), with all k studies
/// weighted at τ²₍ᵢ₎.
fn dfbetas(fit: &Fit, del: &Deletion, diff: &DVector<f64>) -> Vec<f64> {
    let x = fit.x();
    let p = fit.p;
    let mut xtwx = DMatrix::<f64>::zeros(p, p);
    for (i, v) in fit.vi().iter().enumerate() {
        let w = 1.0 / (v + del.tau2);
        for a in 0..p {
            for c in a..p {
                xtwx[(a, c)] += w * x[(i, a)] * x[(i, c)];
            }
        }
    }
    xtwx.fill_lower_triangle_with_upper_triangle();
    // X'WX of a full-rank design with positive weights is positive definite; a failure in
    // floating point leaves the DFBETAS undefined (NaN), as an infinite condition would.
    match xtwx.cholesky() {
        Some(chol) => {
            let inv = chol.inverse();
            (0..p)
                .map(|j| diff[j] / (del.scale * inv[(j, j)]).sqrt())
                .collect()
        }
        None => vec![f64::NAN; p],
    }
}

impl Fit {
    /// The internally standardized residuals of every study (metafor: `rstandard`).
    pub fn rstandard(&self) -> Vec<StandardizedResidual> {
        let x = self.x();
        let tau2 = self.tau2_or_zero();
        let vb = self.model_vcov();
        (0..self.k)
            .map(|i| {
                let xi = x.row(i).transpose();
                let resid = self.residuals[i];
                // Var(eᵢ) = vᵢ + τ² − xᵢ'(X'M⁻¹X)⁻¹xᵢ ≥ 0 in exact arithmetic; rounding can
                // push a leverage-one study a hair below 0.
                let se = (self.vi()[i] + tau2 - xi.dot(&(vb * &xi))).max(0.0).sqrt();
                StandardizedResidual {
                    resid,
                    se,
                    z: resid / se,
                }
            })
            .collect()
    }
}
