//! τ² along one scale moderator of a location-scale model (log τ²ᵢ = zᵢ'α): each study's
//! τ²ᵢ and the fitted τ² with its confidence band, exp(z₀'α̂ ± z·SE), on a grid of 61 values
//! for a numeric moderator, at each level for a categorical one — what the page draws beside
//! the α table. metafor: `predict(res, newscale = …, transf = exp)`.
//!
//! The moderator drawn is the scale formula's first numeric column (else its first column);
//! the other scale moderators are held where the location model's plots hold theirs: at their
//! mean, or at their reference level.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::moderator::{grid_over, held_values, study_values};
use super::record::Bounds;
use super::stages::StudiesStage;
use super::AnalysisError;
use crate::data::formula::encoding::factor_codes;
use crate::data::formula::Encoding;
use crate::data::parse::Table;
use crate::stats::{ScaleModel, StatsError};

/// Where the fitted τ² is drawn along the scale moderator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ScalePoints {
    /// A numeric moderator: each study's value, and τ² at evenly spaced values across their
    /// range.
    Line {
        /// Each study's value of the moderator (`NaN` where missing), in study order.
        x: Vec<f64>,
        /// τ² with its confidence interval at each grid value.
        grid: Vec<(f64, Bounds)>,
    },
    /// A categorical moderator: τ² at each level.
    Levels {
        /// Each level (in the factor's order) with τ² and its confidence interval.
        levels: Vec<(String, Bounds)>,
        /// Each study's level, as an index into `levels`.
        level_of: Vec<usize>,
    },
}

/// τ² along one scale moderator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleCurve {
    /// The scale moderator column drawn.
    pub column: String,
    /// τ²ᵢ = exp(zᵢ'α̂) of each study, in study order.
    pub tau2_i: Vec<f64>,
    /// The fitted τ² along the moderator.
    pub points: ScalePoints,
    /// Where the other scale moderators are held.
    pub caption: String,
}

/// The curve of the location-scale model's scale part `scale`, whose scale formula coded the
/// studies of `data` as `encoding`; `None` for a scale model without moderators.
///
/// # Errors
/// An error of reading the moderator's column or building a row; none for a fitted model.
pub fn scale_curve(
    table: &Table,
    data: &StudiesStage,
    encoding: &Encoding,
    scale: &ScaleModel,
) -> Result<Option<ScaleCurve>, AnalysisError> {
    let columns = encoding.columns();
    let Some(column) = columns
        .iter()
        .copied()
        .find(|c| !encoding.is_factor(c))
        .or_else(|| columns.first().copied())
    else {
        return Ok(None);
    };
    let rows = &data.studies.rows;
    let held: Vec<_> = held_values(table, rows, encoding)?
        .into_iter()
        .filter(|h| h.column != column)
        .collect();
    let caption = if held.is_empty() {
        "No other scale moderators in the model".to_owned()
    } else {
        let parts: Vec<&str> = held.iter().map(|h| h.caption.as_str()).collect();
        format!("Other scale moderators held at: {}", parts.join(", "))
    };
    let mut at: BTreeMap<String, String> = held.into_iter().map(|h| (h.column, h.value)).collect();
    let mut tau2_at = |value: String| -> Result<Bounds, AnalysisError> {
        at.insert(column.to_owned(), value);
        let z0 = encoding.row(&at)?;
        let interval = scale.predict_tau2(&z0).map_err(stats)?;
        Ok((&interval).into())
    };

    let points = if encoding.is_factor(column) {
        let (codes, names) = factor_codes(table, column, rows)?;
        let level_of = codes
            .iter()
            .zip(rows)
            .map(|(code, &r)| {
                code.ok_or(AnalysisError::UnknownLevel {
                    column: column.to_owned(),
                    row: r + 1,
                })
            })
            .collect::<Result<Vec<usize>, AnalysisError>>()?;
        let levels = names
            .into_iter()
            .map(|name| Ok((name.clone(), tau2_at(name)?)))
            .collect::<Result<Vec<_>, AnalysisError>>()?;
        ScalePoints::Levels { levels, level_of }
    } else {
        let x = study_values(table, &data.studies, column)?;
        let grid = grid_over(&x)
            .into_iter()
            // Rust prints the shortest text that parses back to the same number.
            .map(|v| Ok((v, tau2_at(format!("{v}"))?)))
            .collect::<Result<Vec<_>, AnalysisError>>()?;
        ScalePoints::Line { x, grid }
    };
    Ok(Some(ScaleCurve {
        column: column.to_owned(),
        tau2_i: scale.tau2.clone(),
        points,
        caption,
    }))
}

fn stats(error: StatsError) -> AnalysisError {
    AnalysisError::Stats {
        error,
        line: None,
        row: None,
    }
}
