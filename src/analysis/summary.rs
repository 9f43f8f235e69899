//! The fitted model as the page reads it: [`Summary`], a typed record of the estimates, tests,
//! heterogeneity and its Q-profile intervals, weights and fitted values — everything a view
//! shows, computed once when the model is fitted. This is the one module that reads the
//! numerical core's `Fit`, so a change of its shape is met here.

use serde::{Deserialize, Serialize};

use super::names;
use super::record::{Bounds, CoefficientRecord, Estimate, WaldRecord};
use crate::stats::{Fit, HeterogeneityIntervals, ModelSpec, PseudoR2, StatsError};

/// The Q-profile confidence intervals of τ², I² and H² (metafor's `confint`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HeterogeneityCi {
    /// Confidence level, e.g. 0.95.
    pub level: f64,
    /// τ².
    pub tau2: Bounds,
    /// I² in percent.
    pub i2: Bounds,
    /// H².
    pub h2: Bounds,
}

impl From<&HeterogeneityIntervals> for HeterogeneityCi {
    fn from(ci: &HeterogeneityIntervals) -> Self {
        Self {
            level: ci.level,
            tau2: (&ci.tau2).into(),
            i2: (&ci.i2).into(),
            h2: (&ci.h2).into(),
        }
    }
}

/// Whether a model of `p` coefficients, the first an intercept if `intercept`, is a plain
/// pooled estimate: the one rule every view and the command line ask (through
/// [`Summary::intercept_only`] where they have a summary).
pub fn is_intercept_only(p: usize, intercept: bool) -> bool {
    p == 1 && intercept
}

/// A fitted model, as plain data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Estimator, test and level.
    #[serde(with = "names::model_spec")]
    pub spec: ModelSpec,
    /// Number of studies.
    pub k: usize,
    /// Number of coefficients.
    pub p: usize,
    /// Whether the first coefficient is an intercept.
    pub intercept: bool,
    /// Coefficients in design order.
    pub coefficients: Vec<CoefficientRecord>,
    /// Between-study variance τ² (residual with moderators); NaN, printed null, where one τ²
    /// is not defined (a location-scale model), as τ, I² and H².
    #[serde(deserialize_with = "crate::data::report::null_as_nan")]
    pub tau2: f64,
    /// Its standard error; `None` for FE/EE.
    pub tau2_se: Option<f64>,
    /// τ.
    #[serde(deserialize_with = "crate::data::report::null_as_nan")]
    pub tau: f64,
    /// I² in percent.
    #[serde(deserialize_with = "crate::data::report::null_as_nan")]
    pub i2: f64,
    /// H².
    #[serde(deserialize_with = "crate::data::report::null_as_nan")]
    pub h2: f64,
    /// Pseudo-R² in percent; `None` without moderators or without an intercept.
    pub r2: Option<f64>,
    /// τ²₀ of the model without moderators on the same studies, when R² is defined.
    pub tau2_without_moderators: Option<f64>,
    /// The typical sampling variance ṽ that I² compares τ² with.
    pub typical_variance: f64,
    /// QE, the test of (residual) heterogeneity.
    pub qe: f64,
    /// Its degrees of freedom, k − p.
    pub qe_df: usize,
    /// Its p-value (1 when k = p, QE being 0 on 0 df).
    pub qe_p: f64,
    /// The test of moderators; `None` for an intercept-only model.
    pub moderators: Option<WaldRecord>,
    /// Q-profile intervals of τ², I² and H²; `None` for FE/EE or when k = p.
    pub intervals: Option<HeterogeneityCi>,
    /// Log-likelihood (restricted for REML).
    pub log_likelihood: f64,
    /// Each study's weight in the model, wᵢ = 1/(vᵢ + τ²).
    pub weights: Vec<f64>,
    /// Residuals yᵢ − xᵢ'b.
    pub residuals: Vec<f64>,
    /// The pooled effect of a model without moderators.
    pub pooled: Option<Estimate>,
    /// With moderators: each study's fitted value with its confidence interval (metafor's
    /// `forest()` draws it behind the study).
    #[serde(with = "columns")]
    pub fitted: Option<Vec<Estimate>>,
}

/// [`Summary::fitted`] as JSON: one array per field (`{"pred": […], "se": […], …}`) rather than
/// one object per study. The summary crosses from the engine's worker to the page as JSON (it
/// is printed by no command), and at 20,000 studies the objects' keys made 1.2 of its 5 MB,
/// each key matched anew on the page's main thread.
mod columns {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Estimate;

    /// The fields of the fitted values, each one array over the studies.
    #[derive(Serialize, Deserialize)]
    struct Columns {
        pred: Vec<f64>,
        se: Vec<f64>,
        ci_lower: Vec<f64>,
        ci_upper: Vec<f64>,
        pi_lower: Vec<f64>,
        pi_upper: Vec<f64>,
    }

    pub fn serialize<S: Serializer>(
        fitted: &Option<Vec<Estimate>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let field = |f: fn(&Estimate) -> f64, all: &[Estimate]| all.iter().map(f).collect();
        fitted
            .as_deref()
            .map(|all| Columns {
                pred: field(|e| e.pred, all),
                se: field(|e| e.se, all),
                ci_lower: field(|e| e.ci_lower, all),
                ci_upper: field(|e| e.ci_upper, all),
                pi_lower: field(|e| e.pi_lower, all),
                pi_upper: field(|e| e.pi_upper, all),
            })
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Estimate>>, D::Error> {
        let Some(c) = Option::<Columns>::deserialize(d)? else {
            return Ok(None);
        };
        let k = c.pred.len();
        let lengths = [&c.se, &c.ci_lower, &c.ci_upper, &c.pi_lower, &c.pi_upper];
        if lengths.iter().any(|v| v.len() != k) {
            return Err(D::Error::custom(
                "the fitted values' columns differ in length",
            ));
        }
        Ok(Some(
            (0..k)
                .map(|i| Estimate {
                    pred: c.pred[i],
                    se: c.se[i],
                    ci_lower: c.ci_lower[i],
                    ci_upper: c.ci_upper[i],
                    pi_lower: c.pi_lower[i],
                    pi_upper: c.pi_upper[i],
                })
                .collect(),
        ))
    }
}

impl Summary {
    /// The summary of `fit`, with its Q-profile intervals (see [`Summary::intervals_of`]) and
    /// its pseudo-R² ([`Fit::pseudo_r2`]).
    ///
    /// # Errors
    /// When the pooled effect or a fitted value cannot be predicted.
    pub fn of(
        fit: &Fit,
        intervals: Option<&HeterogeneityIntervals>,
        r2: Option<&PseudoR2>,
    ) -> Result<Self, StatsError> {
        let h = &fit.heterogeneity;
        let intercept_only = is_intercept_only(fit.p, fit.has_intercept());
        let intervals = intervals.map(Into::into);
        let pooled = if intercept_only {
            Some((&fit.predict(&[1.0])?).into())
        } else {
            None
        };
        let fitted = if intercept_only {
            None
        } else {
            Some(fit.predict_rows().map(|p| (&p).into()).collect())
        };
        Ok(Self {
            spec: fit.spec,
            k: fit.k,
            p: fit.p,
            intercept: fit.has_intercept(),
            coefficients: fit.coefficients.iter().map(Into::into).collect(),
            // NaN for a model without a single τ², as the command line's record has it.
            tau2: fit.tau2().unwrap_or(f64::NAN),
            tau2_se: fit.tau2_se(),
            tau: fit.tau().unwrap_or(f64::NAN),
            i2: h.i2,
            h2: h.h2,
            r2: r2.map(|r| r.r2),
            // The reduced model's τ²₀ (its H²₀ for FE/EE, which the picture does not show).
            tau2_without_moderators: r2
                .filter(|_| !fit.spec.method.is_fixed())
                .map(|r| r.reduced),
            typical_variance: h.typical_variance,
            qe: h.qe,
            qe_df: h.qe_df,
            qe_p: h.qe_p,
            moderators: fit.moderators.as_ref().map(Into::into),
            intervals,
            log_likelihood: fit.fit_statistics.loglik,
            weights: fit.weights.clone(),
            residuals: fit.residuals.clone(),
            pooled,
            fitted,
        })
    }

    /// The Q-profile intervals of `fit`, which exist only when τ² is estimated and Q has
    /// degrees of freedom.
    ///
    /// # Errors
    /// When the profile cannot be solved.
    pub fn intervals_of(fit: &Fit) -> Result<Option<HeterogeneityIntervals>, StatsError> {
        // A location-scale model has a τ² per study and no single τ² to profile.
        if !fit.spec.method.is_fixed() && fit.k > fit.p && fit.tau2().is_some() {
            fit.confint_tau2(fit.spec.level).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Whether the model is a plain pooled estimate: an intercept and nothing else. The one
    /// place this is decided; every view asks here.
    pub fn intercept_only(&self) -> bool {
        is_intercept_only(self.p, self.intercept)
    }

    /// Whether the model has moderators (a meta-regression, or a model without intercept).
    pub fn has_moderators(&self) -> bool {
        !self.intercept_only()
    }
}
