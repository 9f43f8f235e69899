//! The records of the Sensitivity view's residual plots: the normal Q–Q plot of the internally
//! standardized residuals (metafor: `qqnorm(res, envelope = FALSE)`) and the radial
//! (Galbraith) plot (metafor: `radial`), each a function of the fitted stage.

use serde::{Deserialize, Serialize};

use super::sensitivity::InfluenceRecord;
use super::stages::{Fitted, StudiesStage};
use crate::stats::{self, StatsError};

/// One study's point of the normal Q–Q plot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QqPoint {
    /// Study label.
    pub slab: String,
    /// The normal quantile of the study's rank among the residuals (R: `qnorm(ppoints(k))`).
    pub theoretical: f64,
    /// Its internally standardized residual (metafor: `rstandard(res)$z`).
    pub z: f64,
}

/// The normal Q–Q plot's points, one per study in study order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QqRecord {
    /// One point per study.
    pub studies: Vec<QqPoint>,
}

/// The Q–Q record of the residuals of an influence record.
pub fn qq(influence: &InfluenceRecord) -> QqRecord {
    let z: Vec<f64> = influence.studies.iter().map(|s| s.rstandard.z).collect();
    let scores = stats::normal_scores(&z);
    QqRecord {
        studies: influence
            .studies
            .iter()
            .zip(scores)
            .map(|(s, theoretical)| QqPoint {
                slab: s.slab.clone(),
                theoretical,
                z: s.rstandard.z,
            })
            .collect(),
    }
}

/// One study's point of the radial plot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RadialRow {
    /// Study label.
    pub slab: String,
    /// Precision 1/√(vᵢ + τ²).
    pub x: f64,
    /// Standardized effect yᵢ/√(vᵢ + τ²).
    pub y: f64,
}

/// The radial plot: the studies' points and the pooled estimate, the slope of the line
/// through the origin, with its confidence interval and the critical value of the band
/// ±crit around the line (normal at the model's level, as Galbraith's ±2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RadialRecord {
    /// One point per study.
    pub studies: Vec<RadialRow>,
    /// Pooled estimate: the slope of the line.
    pub estimate: f64,
    /// Lower confidence bound of the slope.
    pub ci_lower: f64,
    /// Upper confidence bound.
    pub ci_upper: f64,
    /// Half the width of the band around the line, in standardized units.
    pub crit: f64,
}

/// The radial record of an intercept-only fitted model.
///
/// # Errors
/// [`StatsError::NeedsInterceptOnly`] for a model with moderators (as metafor's `radial`).
pub fn radial(fitted: &Fitted, data: &StudiesStage) -> Result<RadialRecord, StatsError> {
    let fit = &fitted.fit;
    let radial = fit.radial()?;
    // An intercept-only model has exactly one coefficient: `radial` refused any other.
    let pooled = &fit.coefficients[0];
    Ok(RadialRecord {
        studies: radial
            .points
            .into_iter()
            .zip(&data.studies.labels)
            .map(|(p, slab)| RadialRow {
                slab: slab.to_owned(),
                x: p.x,
                y: p.y,
            })
            .collect(),
        estimate: pooled.estimate,
        ci_lower: pooled.ci_lower,
        ci_upper: pooled.ci_upper,
        crit: radial.crit,
    })
}
