//! Model comparison (metafor: `anova(full, reduced)`): the analysis's model against a reduced
//! formula fitted to the same studies, by a likelihood-ratio test, with each model's
//! log-likelihood, deviance, information criteria, QE and τ², and the R² of the full model
//! against the reduced one. Under the `meridian anova --json` keys.

use serde::{Deserialize, Serialize};

use super::stages::{self, Fitted, ModelStage, StudiesStage};
use super::{AnalysisError, AnalysisSpec};
use crate::data::parse::Table;
use crate::stats::{self, Comparison, Fit, ModelFit};

/// What the comparison reports of one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFitRecord {
    /// Estimated parameters (coefficients and variance parameters).
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
    /// τ²; null for a model with a τ² per study.
    pub tau2: Option<f64>,
}

impl From<&ModelFit> for ModelFitRecord {
    fn from(m: &ModelFit) -> Self {
        Self {
            df: m.df,
            log_likelihood: m.log_likelihood,
            deviance: m.deviance,
            aic: m.aic,
            bic: m.bic,
            aicc: m.aicc,
            qe: m.qe,
            tau2: m.tau2,
        }
    }
}

/// The likelihood-ratio test of a reduced model against the full one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anova {
    /// The full model (the analysis's).
    pub full: ModelFitRecord,
    /// The reduced model.
    pub reduced: ModelFitRecord,
    /// LRT = 2(ℓ_full − ℓ_reduced).
    pub lrt: f64,
    /// Its degrees of freedom.
    pub lrt_df: usize,
    /// Its p-value (χ² with `lrt_df` df).
    pub p_value: f64,
    /// Pseudo-R² in percent of the full model against the reduced one; null unless both have
    /// one τ².
    pub r2: Option<f64>,
}

impl From<&Comparison> for Anova {
    fn from(c: &Comparison) -> Self {
        Self {
            full: (&c.full).into(),
            reduced: (&c.reduced).into(),
            lrt: c.lrt,
            lrt_df: c.df,
            p_value: c.p_value,
            r2: c.r2,
        }
    }
}

/// Compares the fitted model `full` with the model of formula `reduced` (`"1"` or empty: the
/// intercept-only model) fitted to the same studies with the same settings.
///
/// # Errors
/// [`AnalysisError::Formula`] for a reduced formula that does not parse or fit the table;
/// [`AnalysisError::Stats`] for models that are not nested, REML fits with different
/// moderators, or estimators without a likelihood.
pub fn anova(
    table: &Table,
    data: &StudiesStage,
    full: &Fit,
    reduced: &str,
    spec: &AnalysisSpec,
) -> Result<Anova, AnalysisError> {
    let text = reduced.trim();
    let formula = if text == "1" {
        None
    } else {
        stages::formula(Some(text))?
    };
    let model: ModelStage = stages::model(table, data, formula.as_ref(), &spec.references)?;
    let reduced_fit = stages::fit(table, data, &model, &spec.model)?;
    let comparison =
        stats::likelihood_ratio(full, &reduced_fit.fit).map_err(|error| AnalysisError::Stats {
            error,
            line: None,
            row: None,
        })?;
    Ok((&comparison).into())
}

/// Two models of the same studies, compared: the current model and one pinned earlier,
/// whichever has more parameters taken as the full one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pinned {
    /// The pinned model's formula (`None`: intercept only).
    pub formula: Option<String>,
    /// The likelihood-ratio test, with the larger model as the full one.
    pub anova: Anova,
    /// Whether the current model is the full (larger) one.
    pub current_is_full: bool,
}

/// Compares the current model `current` with the model of formula `pinned` fitted to the same
/// studies with the same settings (metafor: `anova(larger, smaller)`).
///
/// # Errors
/// As [`anova`]: a formula that does not fit the studies, models that are not nested, REML
/// fits with different moderators, estimators without a likelihood.
pub fn compare_pinned(
    table: &Table,
    data: &StudiesStage,
    current: &Fitted,
    pinned: Option<&str>,
    spec: &AnalysisSpec,
) -> Result<Pinned, AnalysisError> {
    let formula = stages::formula(pinned)?;
    let model = stages::model(table, data, formula.as_ref(), &spec.references)?;
    let other = stages::fit(table, data, &model, &spec.model)?;
    let current_is_full = current.fit.estimated_parameters() >= other.fit.estimated_parameters();
    let (full, reduced) = if current_is_full {
        (&current.fit, &other.fit)
    } else {
        (&other.fit, &current.fit)
    };
    let comparison =
        stats::likelihood_ratio(full, reduced).map_err(|error| AnalysisError::Stats {
            error,
            line: None,
            row: None,
        })?;
    Ok(Pinned {
        formula: pinned.map(str::to_owned),
        anova: (&comparison).into(),
        current_is_full,
    })
}

/// What the Compare-models panel shows: the current model's fit and each pinned model
/// compared with it, all from one fit of the current model (the engine's, off the page's main
/// thread).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparisons {
    /// The current model's formula (`None`: intercept only).
    pub formula: Option<String>,
    /// The current model.
    pub current: ModelFitRecord,
    /// One entry per pinned formula, in pinning order.
    pub pinned: Vec<PinnedComparison>,
}

/// One pinned model against the current one, or why the two cannot be compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PinnedComparison {
    /// The pinned model's formula (`None`: intercept only).
    pub formula: Option<String>,
    /// The comparison, or the reason there is none (shown in the pinned model's row).
    pub compared: Result<Pinned, String>,
}

/// The current model `current` against each of the `pinned` formulas, as [`compare_pinned`].
pub fn compare_all(
    table: &Table,
    data: &StudiesStage,
    current: &Fitted,
    pinned: &[Option<String>],
    spec: &AnalysisSpec,
) -> Comparisons {
    Comparisons {
        formula: spec.mods.clone(),
        current: (&ModelFit::from(&current.fit)).into(),
        pinned: pinned
            .iter()
            .map(|formula| PinnedComparison {
                formula: formula.clone(),
                compared: compare_pinned(table, data, current, formula.as_deref(), spec)
                    .map_err(|e| e.to_string()),
            })
            .collect(),
    }
}
