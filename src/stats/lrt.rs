//! Likelihood-ratio tests between nested models (metafor: `anova(full, reduced)`): each
//! model's log-likelihood, deviance, information criteria, QE and τ², the LRT statistic
//! 2(ℓ_full − ℓ_reduced) against χ² with the difference in estimated parameters as df, and the
//! share of the reduced model's τ² the full model accounts for.
//!
//! The models must be fitted to the same studies by the same likelihood: ML fits, whose fixed
//! effects may differ, or REML fits with the same fixed effects (the restricted likelihood is
//! that of the residual contrasts of X, so REML fits with different X are likelihoods of
//! different data). The reduced model's columns must lie in the span of the full model's.

use statrs::distribution::ContinuousCDF;

use super::heterogeneity::pseudo_r2;
use super::summary::chi_squared;
use super::{Fit, StatsError, Tau2Method};

/// A column counts as inside the span of the full design when its least-squares residual on
/// it is below this fraction of its norm (the tolerance of the design's rank test).
const SPAN_TOLERANCE: f64 = 1e-9;

/// What a comparison reports of one model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFit {
    /// Estimated parameters (coefficients and variance parameters; metafor's `parms`).
    pub df: usize,
    /// Log-likelihood (restricted for REML).
    pub log_likelihood: f64,
    /// Deviance.
    pub deviance: f64,
    /// AIC.
    pub aic: f64,
    /// BIC.
    pub bic: f64,
    /// AICc.
    pub aicc: f64,
    /// The test of residual heterogeneity QE.
    pub qe: f64,
    /// τ²; `None` for a model without a single τ² (a location-scale model).
    pub tau2: Option<f64>,
}

impl From<&Fit> for ModelFit {
    fn from(f: &Fit) -> Self {
        let s = &f.fit_statistics;
        Self {
            df: f.estimated_parameters(),
            log_likelihood: s.loglik,
            deviance: s.deviance,
            aic: s.aic,
            bic: s.bic,
            aicc: s.aicc,
            qe: f.heterogeneity.qe,
            tau2: f.tau2(),
        }
    }
}

/// The likelihood-ratio test of a reduced model against a full one.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The full model.
    pub full: ModelFit,
    /// The reduced model.
    pub reduced: ModelFit,
    /// LRT = 2(ℓ_full − ℓ_reduced), at least 0.
    pub lrt: f64,
    /// Its degrees of freedom, the difference in estimated parameters.
    pub df: usize,
    /// p-value against χ² with `df` degrees of freedom.
    pub p_value: f64,
    /// Pseudo-R² in percent: the share of the reduced model's τ² that the full model
    /// accounts for, 100·max(0, (τ²_r − τ²_f)/τ²_r); `None` unless both have a single τ².
    pub r2: Option<f64>,
}

/// The likelihood-ratio test of `reduced` against `full` (metafor: `anova(full, reduced)`).
///
/// # Errors
/// [`StatsError::DifferentStudies`] when the models were fitted to different studies,
/// [`StatsError::NoCommonLikelihood`] unless both are ML or both REML fits,
/// [`StatsError::RemlFixedEffectsDiffer`] for REML fits with different fixed effects,
/// [`StatsError::NotNested`] when a column of the reduced model is outside the full model, and
/// [`StatsError::NotFewerParameters`] when the full model does not have more parameters.
pub fn likelihood_ratio(full: &Fit, reduced: &Fit) -> Result<Comparison, StatsError> {
    if full.yi() != reduced.yi() || full.vi() != reduced.vi() {
        return Err(StatsError::DifferentStudies);
    }
    let (mf, mr) = (full.spec.method, reduced.spec.method);
    if mf != mr || !matches!(mf, Tau2Method::Ml | Tau2Method::Reml) {
        return Err(StatsError::NoCommonLikelihood {
            full: mf,
            reduced: mr,
        });
    }
    check_nested(full, reduced)?;
    if mf == Tau2Method::Reml && full.p != reduced.p {
        return Err(StatsError::RemlFixedEffectsDiffer);
    }
    let (f, r) = (ModelFit::from(full), ModelFit::from(reduced));
    if f.df <= r.df {
        return Err(StatsError::NotFewerParameters {
            full: f.df,
            reduced: r.df,
        });
    }
    let df = f.df - r.df;
    // At both optima the nested model cannot fit better; a tiny negative value is rounding.
    let lrt = (2.0 * (f.log_likelihood - r.log_likelihood)).max(0.0);
    let p_value = chi_squared(df as f64).sf(lrt);
    let r2 = match (f.tau2, r.tau2) {
        (Some(tf), Some(tr)) => Some(pseudo_r2(tr, tf)),
        _ => None,
    };
    Ok(Comparison {
        full: f,
        reduced: r,
        lrt,
        df,
        p_value,
        r2,
    })
}

/// Checks that every column of the reduced design is a linear combination of the full
/// design's columns.
fn check_nested(full: &Fit, reduced: &Fit) -> Result<(), StatsError> {
    let x = full.x();
    let svd = x.clone().svd(true, true);
    let names = reduced.names();
    for (j, column) in reduced.x().column_iter().enumerate() {
        let c = column.clone_owned();
        let norm = c.norm();
        if norm == 0.0 {
            continue;
        }
        let b = svd
            .solve(&c, f64::EPSILON)
            .map_err(|_| StatsError::NotNested {
                column: names[j].clone(),
            })?;
        let residual = (x * b - &c).norm();
        if residual > SPAN_TOLERANCE * norm {
            return Err(StatsError::NotNested {
                column: names[j].clone(),
            });
        }
    }
    Ok(())
}
