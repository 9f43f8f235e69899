//! The plain records an analysis hands to the page, the plots and the exports: every field is
//! data (no fitted-model object, no table), and every record derives serde, so that a Web
//! Worker can compute them and post them to the page unchanged.
//!
//! The numerical core's result types (`Prediction`, `Coefficient`, `WaldTest`, `Interval`,
//! `Regtest`) have no serde; each has a record here with the same fields and a conversion both
//! ways, so the plots keep their inputs in the core's types.

use serde::{Deserialize, Serialize};

use crate::stats::regtest::Regtest;
use crate::stats::{Coefficient, Interval, Prediction, WaldTest};

/// A predicted (or pooled) effect with its confidence and prediction intervals; the record of
/// `stats::Prediction`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The estimate, x₀'b.
    pub pred: f64,
    /// Its standard error.
    pub se: f64,
    /// Lower confidence bound.
    pub ci_lower: f64,
    /// Upper confidence bound.
    pub ci_upper: f64,
    /// Lower prediction-interval bound (where a new study's true effect is expected).
    pub pi_lower: f64,
    /// Upper prediction-interval bound.
    pub pi_upper: f64,
}

impl From<&Prediction> for Estimate {
    fn from(p: &Prediction) -> Self {
        Self {
            pred: p.pred,
            se: p.se,
            ci_lower: p.ci_lower,
            ci_upper: p.ci_upper,
            pi_lower: p.pi_lower,
            pi_upper: p.pi_upper,
        }
    }
}

impl From<&Estimate> for Prediction {
    fn from(e: &Estimate) -> Self {
        Self {
            pred: e.pred,
            se: e.se,
            ci_lower: e.ci_lower,
            ci_upper: e.ci_upper,
            pi_lower: e.pi_lower,
            pi_upper: e.pi_upper,
        }
    }
}

/// One coefficient with its test and interval; the record of `stats::Coefficient`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoefficientRecord {
    /// Name as R writes it (`intrcpt`, `ablat`, `factor(alloc)random`).
    pub name: String,
    /// Estimate.
    pub estimate: f64,
    /// Standard error.
    pub se: f64,
    /// z or t statistic.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Lower confidence bound.
    pub ci_lower: f64,
    /// Upper confidence bound.
    pub ci_upper: f64,
}

impl From<&Coefficient> for CoefficientRecord {
    fn from(c: &Coefficient) -> Self {
        Self {
            name: c.name.clone(),
            estimate: c.estimate,
            se: c.se,
            statistic: c.statistic,
            p_value: c.p_value,
            ci_lower: c.ci_lower,
            ci_upper: c.ci_upper,
        }
    }
}

impl From<&CoefficientRecord> for Coefficient {
    fn from(c: &CoefficientRecord) -> Self {
        Self {
            name: c.name.clone(),
            estimate: c.estimate,
            se: c.se,
            statistic: c.statistic,
            p_value: c.p_value,
            ci_lower: c.ci_lower,
            ci_upper: c.ci_upper,
        }
    }
}

/// A Wald-type test of several coefficients (the test of moderators, the test for subgroup
/// differences); the record of `stats::WaldTest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaldRecord {
    /// The design columns tested.
    pub columns: Vec<usize>,
    /// QM (χ²) or F.
    pub statistic: f64,
    /// Its (numerator) degrees of freedom.
    pub df: usize,
    /// Denominator degrees of freedom under Knapp–Hartung; `None` for χ².
    pub df2: Option<usize>,
    /// Its p-value.
    pub p_value: f64,
}

impl From<&WaldTest> for WaldRecord {
    fn from(t: &WaldTest) -> Self {
        Self {
            columns: t.columns.clone(),
            statistic: t.statistic,
            df: t.df,
            df2: t.df2,
            p_value: t.p_value,
        }
    }
}

impl From<&WaldRecord> for WaldTest {
    fn from(t: &WaldRecord) -> Self {
        Self {
            columns: t.columns.clone(),
            statistic: t.statistic,
            df: t.df,
            df2: t.df2,
            p_value: t.p_value,
        }
    }
}

/// An estimate with a confidence interval; the record of `stats::Interval`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    /// The estimate.
    pub estimate: f64,
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
}

impl From<&Interval> for Bounds {
    fn from(i: &Interval) -> Self {
        Self {
            estimate: i.estimate,
            lower: i.lower,
            upper: i.upper,
        }
    }
}

impl From<&Bounds> for Interval {
    fn from(b: &Bounds) -> Self {
        Self {
            estimate: b.estimate,
            lower: b.lower,
            upper: b.upper,
        }
    }
}

/// Egger's regression test for funnel-plot asymmetry; the record of `stats::Regtest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Egger {
    /// The standard error's coefficient: its statistic and p-value are the test.
    pub slope: CoefficientRecord,
    /// Degrees of freedom of the t test under Knapp–Hartung; `None` for z tests.
    pub df: Option<usize>,
    /// The limit estimate (the effect at standard error 0), without moderators only.
    pub limit: Option<CoefficientRecord>,
    /// τ² of the test model.
    pub tau2: f64,
}

impl From<&Regtest> for Egger {
    fn from(r: &Regtest) -> Self {
        Self {
            slope: (&r.slope).into(),
            df: r.df,
            limit: r.limit.as_ref().map(Into::into),
            tau2: r.tau2,
        }
    }
}

impl From<&Egger> for Regtest {
    fn from(e: &Egger) -> Self {
        Self {
            slope: (&e.slope).into(),
            df: e.df,
            limit: e.limit.as_ref().map(Into::into),
            tau2: e.tau2,
        }
    }
}

/// One pooled model as leave-one-out and cumulative meta-analysis report it (metafor's
/// `leave1out` and `cumul` columns): the pooled effect, null where the model has no single
/// pooled effect (moderators), and the model's heterogeneity; every key null when the model
/// could not be fitted. Flattened into its row, so the JSON keys are its field names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PooledRecord {
    /// Pooled effect.
    pub estimate: Option<f64>,
    /// Its standard error.
    pub se: Option<f64>,
    /// z or t statistic.
    pub statistic: Option<f64>,
    /// Its p-value.
    pub p_value: Option<f64>,
    /// Lower confidence bound.
    pub ci_lower: Option<f64>,
    /// Upper confidence bound.
    pub ci_upper: Option<f64>,
    /// Q of the model.
    pub q: Option<f64>,
    /// Its p-value.
    pub q_p: Option<f64>,
    /// τ².
    pub tau2: Option<f64>,
    /// I² in percent.
    pub i2: Option<f64>,
    /// H².
    pub h2: Option<f64>,
}

impl PooledRecord {
    /// The record of a fitted model: its pooled effect `pooled` (if it has one) and its
    /// heterogeneity `[q, q_p, tau2, i2, h2]`.
    pub fn fitted(pooled: Option<&Coefficient>, [q, q_p, tau2, i2, h2]: [f64; 5]) -> Self {
        Self {
            estimate: pooled.map(|c| c.estimate),
            se: pooled.map(|c| c.se),
            statistic: pooled.map(|c| c.statistic),
            p_value: pooled.map(|c| c.p_value),
            ci_lower: pooled.map(|c| c.ci_lower),
            ci_upper: pooled.map(|c| c.ci_upper),
            q: Some(q),
            q_p: Some(q_p),
            tau2: Some(tau2),
            i2: Some(i2),
            h2: Some(h2),
        }
    }
}
