//! The fitted effect along one moderator, with the others held fixed: a line on a grid of 61
//! values for a numeric moderator, an estimate per level for a categorical one — what the
//! bubble plot draws. Each point's model-matrix row comes from the model's encoding, so the
//! line costs 61 predictions, not 61 passes over the studies.
//!
//! The line is the `rma.uni` fit's, or the multilevel fit's when the effects within studies
//! are modelled as dependent.
//!
//! The other moderators are held at their mean over the studies (numeric) or at their
//! reference level (categorical); the results pane's prediction form starts from the same
//! values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::record::Estimate;
use super::stages::{Fitted, ModelRecord, StudiesStage};
use super::AnalysisError;
use crate::data::formula::encoding::factor_codes;
use crate::data::formula::Encoding;
use crate::data::parse::{ParseError, Table};
use crate::data::roles::Studies;
use crate::format::signed;
use crate::stats::{MvFit, Prediction, StatsError};

/// Intervals of the moderator's range on the fitted line: 61 points draw a smooth band even
/// where a quadratic term or an interaction bends it.
const GRID_INTERVALS: usize = 60;
/// Decimals of the values a caption says the other moderators are held at.
const CAPTION_DIGITS: usize = 2;

/// A moderator held fixed while another varies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    /// The moderator column.
    pub column: String,
    /// The value as [`Encoding::row`] takes it: a number or a level.
    pub value: String,
    /// How a caption says it, e.g. `"year = 1966.23 (mean)"`.
    pub caption: String,
}

/// The value each moderator column of `encoding` is held at over the table rows `rows`: its
/// reference level if it is a factor, else its mean.
pub(crate) fn held_values(
    table: &Table,
    rows: &[usize],
    encoding: &Encoding,
) -> Result<Vec<Held>, AnalysisError> {
    encoding
        .columns()
        .into_iter()
        .map(|column| {
            if let Some(level) = encoding.levels(column).and_then(|l| l.first()) {
                return Ok(Held {
                    column: column.to_owned(),
                    caption: format!("{column} = {level} (reference)"),
                    value: level.clone(),
                });
            }
            let values = table.numeric(column)?;
            let sum: f64 = rows.iter().filter_map(|&r| values[r].value()).sum();
            let mean = sum / rows.len() as f64;
            Ok(Held {
                column: column.to_owned(),
                value: format!("{mean}"),
                caption: format!("{column} = {} (mean)", signed(mean, CAPTION_DIGITS)),
            })
        })
        .collect()
}

/// The fitted effect along one moderator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ModeratorCurve {
    /// A numeric moderator: each study's value and the fitted line.
    Line {
        /// The moderator column.
        column: String,
        /// Each study's value of it (`NaN` where missing), in study order.
        x: Vec<f64>,
        /// The fitted effect at evenly spaced values across the studies' range.
        grid: Vec<(f64, Estimate)>,
        /// Where the other moderators are held.
        caption: String,
        /// The studies' weights in percent when another model than the `rma.uni` fit drew
        /// the line (a multilevel model's); `None` for the fit's own.
        #[serde(default)]
        weights: Option<Vec<f64>>,
    },
    /// A categorical moderator: each level's fitted effect.
    Levels {
        /// The moderator column.
        column: String,
        /// Each level (in the factor's order) with its fitted effect.
        levels: Vec<(String, Estimate)>,
        /// Each study's level, as an index into `levels`.
        level_of: Vec<usize>,
        /// Where the other moderators are held.
        caption: String,
        /// As [`ModeratorCurve::Line`]'s.
        #[serde(default)]
        weights: Option<Vec<f64>>,
    },
}

impl ModeratorCurve {
    /// The curve of another model than the `rma.uni` fit: its name heads the caption and
    /// its weights size the studies.
    fn of_model(mut self, name: &str, model_weights: Vec<f64>) -> Self {
        let (Self::Line {
            caption, weights, ..
        }
        | Self::Levels {
            caption, weights, ..
        }) = &mut self;
        *caption = format!("{name}. {caption}");
        *weights = Some(model_weights);
        self
    }
}

/// The moderator a bubble plot draws: `chosen` if the model uses it, else the first numeric
/// moderator, else the first one; `None` without moderators. The menu of moderators shows
/// this one, so the menu and the plot always agree.
pub fn drawn_moderator(model: &ModelRecord, chosen: Option<&str>) -> Option<String> {
    let columns = model.columns();
    chosen
        .filter(|c| columns.contains(c))
        .or_else(|| columns.iter().copied().find(|c| !model.is_factor(c)))
        .or_else(|| columns.first().copied())
        .map(str::to_owned)
}

/// The fitted effect along `column` (see the module documentation).
///
/// # Errors
/// [`AnalysisError::NoModerators`], [`AnalysisError::NotAModerator`], or an error of
/// building a row or predicting.
pub fn moderator_curve(
    table: &Table,
    data: &StudiesStage,
    model: &ModelRecord,
    fitted: &Fitted,
    column: &str,
) -> Result<ModeratorCurve, AnalysisError> {
    curve_of(table, data, model, &|x0| fitted.fit.predict(x0), column)
}

/// The fitted effect along `column` of the multilevel fit `mv` of the same design: its line
/// and bands (metafor's `predict()` of the `rma.mv` fit), the studies sized by its weights.
///
/// # Errors
/// As [`moderator_curve`]; a multivariate model with several τ² has no prediction interval
/// without an outcome ([`StatsError::PredictionNeedsLevel`]).
pub fn multilevel_curve(
    table: &Table,
    data: &StudiesStage,
    model: &ModelRecord,
    mv: &MvFit,
    column: &str,
) -> Result<ModeratorCurve, AnalysisError> {
    let curve = curve_of(table, data, model, &|x0| mv.predict(x0), column)?;
    Ok(curve.of_model("Multilevel model (rma.mv)", mv.weights()))
}

/// The curve of a model that predicts at a model-matrix row with `predict`.
fn curve_of(
    table: &Table,
    data: &StudiesStage,
    model: &ModelRecord,
    predict: &dyn Fn(&[f64]) -> Result<Prediction, StatsError>,
    column: &str,
) -> Result<ModeratorCurve, AnalysisError> {
    let encoding = model.encoding.as_ref().ok_or(AnalysisError::NoModerators)?;
    let columns = encoding.columns();
    if !columns.contains(&column) {
        return Err(AnalysisError::NotAModerator {
            column: column.to_owned(),
            moderators: columns.iter().map(|c| (*c).to_owned()).collect(),
        });
    }
    let held: Vec<&Held> = model.held.iter().filter(|h| h.column != column).collect();
    let caption = if held.is_empty() {
        "No other moderators in the model".to_owned()
    } else {
        let parts: Vec<&str> = held.iter().map(|h| h.caption.as_str()).collect();
        format!("Other moderators held at: {}", parts.join(", "))
    };
    let mut at: BTreeMap<String, String> = held
        .iter()
        .map(|h| (h.column.clone(), h.value.clone()))
        .collect();
    let mut predict_at = |value: String| -> Result<Estimate, AnalysisError> {
        at.insert(column.to_owned(), value);
        let x0 = encoding.row(&at)?;
        let p = predict(&x0).map_err(stats)?;
        Ok((&p).into())
    };
    let rows = &data.studies.rows;

    if encoding.is_factor(column) {
        // The levels in R's order (as the plot lists them, the reference not moved first) and
        // each study's level among them.
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
            .map(|name| Ok((name.clone(), predict_at(name)?)))
            .collect::<Result<Vec<_>, AnalysisError>>()?;
        return Ok(ModeratorCurve::Levels {
            column: column.to_owned(),
            levels,
            level_of,
            caption,
            weights: None,
        });
    }

    let x = study_values(table, &data.studies, column)?;
    let grid = grid_over(&x)
        .into_iter()
        // Rust prints the shortest text that parses back to the same number.
        .map(|v| Ok((v, predict_at(format!("{v}"))?)))
        .collect::<Result<Vec<_>, AnalysisError>>()?;
    Ok(ModeratorCurve::Line {
        column: column.to_owned(),
        x,
        grid,
        caption,
        weights: None,
    })
}

fn stats(error: StatsError) -> AnalysisError {
    AnalysisError::Stats {
        error,
        line: None,
        row: None,
    }
}

/// Each study's value of the numeric `column` (`NaN` where the cell is missing), in study
/// order: the horizontal axis of the bubble plot, and the forest plot's order by a column.
///
/// # Errors
/// When the column does not exist or is not numeric.
pub fn study_values(
    table: &Table,
    studies: &Studies,
    column: &str,
) -> Result<Vec<f64>, ParseError> {
    let values = table.numeric(column)?;
    Ok(studies
        .rows
        .iter()
        .map(|&r| values[r].value().unwrap_or(f64::NAN))
        .collect())
}

/// GRID_INTERVALS + 1 evenly spaced points over the range of the finite values `x`: one
/// point when every study has the same value, none when no study has one.
pub(super) fn grid_over(x: &[f64]) -> Vec<f64> {
    let extent =
        x.iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(None, |acc: Option<(f64, f64)>, v| match acc {
                None => Some((v, v)),
                Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
            });
    match extent {
        Some((lo, hi)) if hi > lo => (0..=GRID_INTERVALS)
            .map(|i| lo + (hi - lo) * i as f64 / GRID_INTERVALS as f64)
            .collect(),
        Some((lo, _)) => vec![lo],
        None => Vec::new(),
    }
}
