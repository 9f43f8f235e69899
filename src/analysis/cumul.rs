//! Cumulative meta-analysis (metafor: `cumul`): the record of [`crate::stats::cumulative`] in
//! input order or sorted by a column (ascending, ties in input order; numbers by value, text
//! by its characters), the `meridian cumul --json` contract.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::stages::{stats_error, Fitted, StudiesStage};
use super::AnalysisError;
use crate::data::parse::{ColumnKind, Table};
use crate::stats;

/// The model fitted to the first `k` studies of the order; the numbers are null when that
/// step's model could not be fitted (`error` says why).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CumulStep {
    /// The label of the study added at this step.
    pub slab: String,
    /// The step number: studies so far.
    pub k: usize,
    /// Pooled effect of the first k studies.
    pub estimate: Option<f64>,
    /// Its standard error.
    pub se: Option<f64>,
    /// z or t statistic (z at the first step, as metafor).
    pub statistic: Option<f64>,
    /// Its p-value.
    pub p_value: Option<f64>,
    /// Lower confidence bound.
    pub ci_lower: Option<f64>,
    /// Upper confidence bound.
    pub ci_upper: Option<f64>,
    /// Q of the first k studies (0 at the first step).
    pub q: Option<f64>,
    /// Its p-value (1 at the first step).
    pub q_p: Option<f64>,
    /// τ² (0 at the first step).
    pub tau2: Option<f64>,
    /// I² in percent (0 at the first step).
    pub i2: Option<f64>,
    /// H² (1 at the first step).
    pub h2: Option<f64>,
    /// Why this step's model could not be fitted, if it could not.
    pub error: Option<String>,
}

/// A cumulative meta-analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CumulRecord {
    /// The column the studies were sorted by; null for input order.
    pub order: Option<String>,
    /// One step per study.
    pub steps: Vec<CumulStep>,
}

/// The studies (0-based, in the model) sorted by `column` ascending, ties in input order.
///
/// # Errors
/// [`AnalysisError::Parse`] for a column the table does not have.
pub fn order_by(
    table: &Table,
    data: &StudiesStage,
    column: &str,
) -> Result<Vec<usize>, AnalysisError> {
    let rows = &data.studies.rows;
    let col = table.column(column)?;
    let mut order: Vec<usize> = (0..rows.len()).collect();
    match col.kind {
        ColumnKind::Numeric | ColumnKind::NumericDecimalComma => {
            let cells = table.numeric(column)?;
            // Missing values sort last, as R's order() puts NA last.
            let key = |i: usize| cells[rows[i]].value();
            order.sort_by(|&a, &b| match (key(a), key(b)) {
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            });
        }
        ColumnKind::Text | ColumnKind::Empty => {
            order.sort_by(|&a, &b| col.cell(rows[a]).cmp(col.cell(rows[b])));
        }
    }
    Ok(order)
}

/// The cumulative meta-analysis of an intercept-only fitted model, adding studies in input
/// order or sorted by `column`.
///
/// # Errors
/// [`AnalysisError::Parse`] for an unknown column; [`AnalysisError::Stats`] for a model with
/// moderators.
pub fn cumul(
    table: &Table,
    data: &StudiesStage,
    fitted: &Fitted,
    column: Option<&str>,
) -> Result<CumulRecord, AnalysisError> {
    let order = match column {
        Some(c) => order_by(table, data, c)?,
        None => (0..data.studies.k()).collect(),
    };
    let steps =
        stats::cumulative(&fitted.fit, &order).map_err(|e| stats_error(e, &data.studies, table))?;
    let steps = steps
        .into_iter()
        .zip(&order)
        .enumerate()
        .map(|(j, (step, &study))| {
            let slab = data.studies.labels[study].clone();
            match step {
                Ok(s) => CumulStep {
                    slab,
                    k: s.k,
                    estimate: Some(s.estimate.estimate),
                    se: Some(s.estimate.se),
                    statistic: Some(s.estimate.statistic),
                    p_value: Some(s.estimate.p_value),
                    ci_lower: Some(s.estimate.ci_lower),
                    ci_upper: Some(s.estimate.ci_upper),
                    q: Some(s.q),
                    q_p: Some(s.q_p),
                    tau2: Some(s.tau2),
                    i2: Some(s.i2),
                    h2: Some(s.h2),
                    error: None,
                },
                Err(e) => CumulStep {
                    slab,
                    k: j + 1,
                    estimate: None,
                    se: None,
                    statistic: None,
                    p_value: None,
                    ci_lower: None,
                    ci_upper: None,
                    q: None,
                    q_p: None,
                    tau2: None,
                    i2: None,
                    h2: None,
                    error: Some(e.to_string()),
                },
            }
        })
        .collect();
    Ok(CumulRecord {
        order: column.map(str::to_owned),
        steps,
    })
}
