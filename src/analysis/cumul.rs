//! Cumulative meta-analysis (metafor: `cumul`): the record of [`crate::stats::cumulative`] in
//! input order or sorted by a column (ascending, ties in input order; numbers by value, text
//! by its characters), the `meridian cumul --json` contract.

use std::cmp::Ordering;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::record::PooledRecord;
use super::stages::{stats_error, Fitted, StudiesStage};
use super::AnalysisError;
use crate::data::parse::{ColumnKind, Table};
use crate::stats;
use crate::stats::order::sort_indices_by;

/// The model fitted to the first `k` studies of the order; the numbers are null when that
/// step's model could not be fitted (`error` says why).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CumulStep {
    /// The label of the study added at this step.
    pub slab: String,
    /// The step number: studies so far.
    pub k: usize,
    /// The number of the study added among the model's studies, from 1 (as `gosh`'s
    /// `included`), so a view can link the step to the study.
    pub study: usize,
    /// The model of the first k studies (z at the first step, as metafor; there Q = 0, its
    /// p-value 1, τ² = 0, I² = 0 and H² = 1).
    #[serde(flatten)]
    pub pooled: PooledRecord,
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
            sort_indices_by(&mut order, &|a, b| match (key(a), key(b)) {
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            });
        }
        ColumnKind::Text | ColumnKind::Empty => {
            sort_indices_by(&mut order, &|a, b| col.cell(rows[a]).cmp(col.cell(rows[b])));
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
    let order = studies_in_order(table, data, column)?;
    let steps =
        stats::cumulative(&fitted.fit, &order).map_err(|e| stats_error(e, &data.studies, table))?;
    Ok(record(data, column, &order, steps))
}

/// The studies in input order, or sorted by `column`.
fn studies_in_order(
    table: &Table,
    data: &StudiesStage,
    column: Option<&str>,
) -> Result<Vec<usize>, AnalysisError> {
    match column {
        Some(c) => order_by(table, data, c),
        None => Ok((0..data.studies.k()).collect()),
    }
}

/// The record of the `steps` of adding the studies of `data` in `order`.
fn record(
    data: &StudiesStage,
    column: Option<&str>,
    order: &[usize],
    steps: Vec<Result<stats::CumulativeStep, stats::StatsError>>,
) -> CumulRecord {
    let steps = steps
        .into_iter()
        .zip(order)
        .enumerate()
        .map(|(j, (step, &study))| {
            let slab = data.studies.labels[study].to_owned();
            match step {
                Ok(s) => CumulStep {
                    slab,
                    k: s.k,
                    study: study + 1,
                    pooled: PooledRecord::fitted(
                        Some(&s.estimate),
                        [s.q, s.q_p, s.tau2, s.i2, s.h2],
                    ),
                    error: None,
                },
                Err(e) => CumulStep {
                    slab,
                    k: j + 1,
                    study: study + 1,
                    pooled: PooledRecord::default(),
                    error: Some(e.to_string()),
                },
            }
        })
        .collect();
    CumulRecord {
        order: column.map(str::to_owned),
        steps,
    }
}

/// [`cumul`] a few steps at a time, so that the page's worker reports progress between
/// slices and can stop.
#[derive(Debug, Clone)]
pub struct CumulRun {
    fitted: Arc<Fitted>,
    data: Arc<StudiesStage>,
    column: Option<String>,
    order: Vec<usize>,
    run: stats::CumulativeRun,
}

impl CumulRun {
    /// The run of `fitted`'s cumulative meta-analysis, adding the studies `data` of `table`
    /// in input order or sorted by `column`.
    ///
    /// # Errors
    /// As [`cumul`].
    pub fn new(
        table: &Table,
        data: Arc<StudiesStage>,
        fitted: Arc<Fitted>,
        column: Option<String>,
    ) -> Result<Self, AnalysisError> {
        let order = studies_in_order(table, &data, column.as_deref())?;
        let run = stats::CumulativeRun::new(&fitted.fit, order.clone())
            .map_err(|e| stats_error(e, &data.studies, table))?;
        Ok(Self {
            fitted,
            data,
            column,
            order,
            run,
        })
    }

    /// Fits up to `n` more steps.
    pub fn step(&mut self, n: usize) {
        self.run.step(&self.fitted.fit, n);
    }

    /// Steps done and in all.
    pub fn progress(&self) -> (usize, usize) {
        (self.run.done(), self.order.len())
    }

    /// The record, from the steps done (which it takes: call it once).
    pub fn finish(&mut self) -> CumulRecord {
        let steps = self.run.finish();
        record(&self.data, self.column.as_deref(), &self.order, steps)
    }
}
