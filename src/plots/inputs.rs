//! From an analysis to each plot's input: the one place where the plots' glue calls the
//! engine, so that the web app's components stay free of statistics and the native tests can
//! check every plot against metafor.
//!
//! Nothing here computes a statistic itself. Subgroup models, the test for subgroup
//! differences, fitted lines and Egger's test are fits, predictions and tests of
//! [`crate::stats`]; model matrices and prediction rows come from [`Formula`], so a plot
//! codes factors exactly as the analysis did.
//!
//! Choices, with metafor as the model:
//! - **Forest plot of a meta-regression**: as metafor's `forest()` of an `rma` with
//!   moderators, each study's fitted value is drawn behind it as a grey diamond
//!   ([`ForestPlot::from_fit`]) and there is no summary diamond; the notes say why and give the
//!   test of moderators and the residual heterogeneity. The bubble plot ([`bubble`]) is the
//!   picture of the fitted line.
//! - **Funnel plot of a meta-regression**: as metafor's `funnel()`, residuals yᵢ − xᵢ'b
//!   against √vᵢ, centred at 0 and on the fitted scale; Egger's test is then the mixed-effects
//!   version (`regtest()` of the model with moderators).
//! - **Subgroups**: each subgroup gets its own intercept-only model with the analysis's
//!   estimator, test and level (metafor: `rma(yi, vi, subset = …)`), and the test for subgroup
//!   differences is the omnibus test QM of `factor(column)` in a meta-regression on the studies
//!   with a value, as metafor's `rma(yi, vi, mods = ~ factor(column))`.

use std::collections::BTreeMap;
use std::fmt;

use super::axis::{self, EffectScale};
use super::bubble::{BubblePlot, CategoryPlot, FittedPoint, Level};
use super::forest::{pooled_label, ForestOrder, ForestPlot, Subgroup};
use super::funnel::FunnelPlot;
use super::heterogeneity::HeterogeneityPlot;
use super::paint::wald_text;
use crate::data::analysis::Analysis;
use crate::data::effect_size::Measure;
use crate::data::formula::{factor_levels, Formula, FormulaError};
use crate::data::parse::{is_missing, ColumnKind, NumCell, ParseError, Table};
use crate::data::session::Session;
use crate::format::{p_journal, signed};
use crate::stats::{self, Design, Fit, Prediction, StatsError};

/// Intervals of the moderator's range on the bubble plot's fitted line: 61 points draw a
/// smooth band even where a quadratic term or an interaction bends it.
const GRID_INTERVALS: usize = 60;
/// Decimals of the values a caption says the other moderators are held at.
const CAPTION_DIGITS: usize = 2;

/// Why a plot's input could not be built.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum InputError {
    /// A model the plot needs (a prediction, the model of a subgroup's test) could not be
    /// fitted or predicted from; the engine's error.
    Stats(StatsError),
    /// A prediction row (the moderator values of a point on a fitted line) could not be built
    /// from the model's formula.
    Formula(FormulaError),
    /// A column is missing from the table or is not numeric where a number is needed.
    Column(ParseError),
    /// A bubble plot was asked of a model without moderators.
    NoModerators,
    /// A bubble plot was asked for a column the model's formula does not use.
    NotAModerator {
        /// The column asked for.
        column: String,
        /// The columns the formula uses.
        moderators: Vec<String>,
    },
    /// A study's value of a categorical moderator is not one of the column's levels (the
    /// table changed after the analysis ran).
    UnknownLevel {
        /// The moderator column.
        column: String,
        /// 1-based data row of the study.
        row: usize,
    },
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stats(e) => e.fmt(f),
            Self::Formula(e) => e.fmt(f),
            Self::Column(e) => e.fmt(f),
            Self::NoModerators => f.write_str(
                "the model has no moderators to plot against: expected a formula such as \"ablat\"",
            ),
            Self::NotAModerator { column, moderators } => write!(
                f,
                "\"{column}\" is not a moderator of the model: expected one of {}",
                moderators.join(", ")
            ),
            Self::UnknownLevel { column, row } => write!(
                f,
                "data row {row} has a value of \"{column}\" that is none of its levels: run the analysis again"
            ),
        }
    }
}

impl std::error::Error for InputError {}

impl From<StatsError> for InputError {
    fn from(e: StatsError) -> Self {
        Self::Stats(e)
    }
}

impl From<FormulaError> for InputError {
    fn from(e: FormulaError) -> Self {
        Self::Formula(e)
    }
}

impl From<ParseError> for InputError {
    fn from(e: ParseError) -> Self {
        Self::Column(e)
    }
}

/// A moderator's picture: a bubble plot for a numeric moderator, estimates per level for a
/// categorical one.
#[derive(Debug, Clone, PartialEq)]
pub enum ModeratorPlot {
    /// Effect size against a numeric moderator, with the fitted line.
    Bubble(BubblePlot),
    /// Effect size per level of a categorical moderator, with each level's estimate.
    Categories(CategoryPlot),
}

/// The axis scale and the name of the measure as a reader sees it: risk, odds and ratio-of-
/// means measures are fitted as logs and shown as ratios on a log axis (`"Risk ratio"`); the
/// others are shown as fitted, since [`EffectScale`] knows only the exponential (a Fisher's z
/// axis stays in z, not in correlations). Without a measure the effects were read as given.
fn measure_axis(measure: Option<Measure>) -> (EffectScale, String) {
    match measure {
        Some(m @ (Measure::Or | Measure::Rr | Measure::Rom)) => (
            EffectScale::Exp,
            capitalised(m.back_transformed_label().unwrap_or(m.label())),
        ),
        Some(m) => (EffectScale::Identity, capitalised(m.label())),
        None => (EffectScale::Identity, "Effect size".to_owned()),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Whether the model is a plain pooled estimate (intercept only).
fn intercept_only(fit: &Fit) -> bool {
    fit.p == 1 && fit.has_intercept()
}

/// "τ² = 0.313, I² = 92.2%, Q(12) = 152.23, p < 0.0001", residual with moderators.
fn heterogeneity_text(fit: &Fit) -> String {
    let h = &fit.heterogeneity;
    let tau2 = if fit.spec.method.is_fixed() {
        String::new()
    } else {
        format!(
            "\u{3c4}\u{b2} = {}, ",
            signed(fit.tau2().unwrap_or(f64::NAN), 3)
        )
    };
    let q = if intercept_only(fit) { "Q" } else { "QE" };
    let p = format!(", {}", p_journal(h.qe_p));
    format!(
        "{tau2}I\u{b2} = {}%, {q}({}) = {}{p}",
        signed(h.i2, 1),
        h.qe_df,
        signed(h.qe, 2)
    )
}

/// The value of a numeric column for each study of the analysis, in study order (`NaN` where
/// the cell is missing) — the moderator values of [`ForestOrder::Moderator`] and the bubble
/// plot's horizontal axis.
///
/// # Errors
/// [`InputError::Column`] when the column does not exist or is not numeric.
pub fn study_values(analysis: &Analysis, column: &str) -> Result<Vec<f64>, InputError> {
    let cells = analysis.table.numeric(column)?;
    Ok(analysis
        .studies
        .rows
        .iter()
        .map(|&r| match cells.get(r) {
            Some(NumCell::Value(v)) => *v,
            _ => f64::NAN,
        })
        .collect())
}

/// The levels of `column` over the table rows `rows`, in R's order, and for each row the index
/// of its level (`None` for a missing cell).
fn levels_of(
    table: &Table,
    column: &str,
    rows: &[usize],
) -> Result<(Vec<String>, Vec<Option<usize>>), InputError> {
    let levels = factor_levels(table, column, rows)?;
    let col = table.column(column)?;
    let level_of = if matches!(
        col.kind,
        ColumnKind::Numeric | ColumnKind::NumericDecimalComma
    ) {
        // Levels of a numeric column are its values written as R's as.character writes them,
        // which parse back to the same number; comparing numbers avoids relying on how they
        // were written.
        let cells = table.numeric(column)?;
        rows.iter()
            .map(|&r| match cells.get(r) {
                Some(NumCell::Value(v)) => levels.iter().position(|l| l.parse() == Ok(*v)),
                _ => None,
            })
            .collect()
    } else {
        rows.iter()
            .map(|&r| {
                let cell = col.cell(r);
                if is_missing(cell) {
                    None
                } else {
                    levels.iter().position(|l| l == cell)
                }
            })
            .collect()
    };
    Ok((levels, level_of))
}

/// The forest plot of the analysis: one row per study with the Wald interval yᵢ ± z·√vᵢ at the
/// model's level and its weight in percent (metafor's `weights()`, 100·wᵢ/Σw), the pooled
/// estimate and prediction interval for a model without moderators, optionally subgroups by a
/// categorical column.
///
/// For a meta-regression there is no pooled diamond (see the module documentation); the notes
/// give the test of moderators and the residual heterogeneity. With `subgroup`, each level of
/// the column gets its own intercept-only model (a level whose model cannot be fitted, e.g. a
/// single study under a random-effects model, is listed without a subtotal and a note says
/// why), and the test for subgroup differences is QM of `factor(subgroup)`; studies without a
/// value of the column are listed last, in no subgroup's model.
///
/// # Errors
/// [`InputError::Column`] for an unknown subgroup column, [`InputError::Stats`] when the
/// pooled estimate cannot be predicted. A subgroup model or the test for subgroup differences
/// that cannot be fitted (or a column name the formula syntax cannot spell, for the test) is
/// left out with a note instead.
pub fn forest(
    analysis: &Analysis,
    measure: Option<Measure>,
    order: ForestOrder,
    subgroup: Option<&str>,
) -> Result<ForestPlot, InputError> {
    let fit = &analysis.fit;
    let studies = &analysis.studies;
    let (scale, name) = measure_axis(measure);
    let pooled = if intercept_only(fit) {
        Some(fit.predict(&[1.0])?)
    } else {
        None
    };
    let mut plot = ForestPlot::from_fit(&studies.labels, &studies.yi, &studies.vi, fit, pooled);
    // Weights in percent, as metafor's weights() reports them and the plot prints them.
    let total: f64 = fit.weights.iter().sum();
    if total > 0.0 {
        for study in &mut plot.studies {
            study.weight *= 100.0 / total;
        }
    }
    plot.order = order;
    plot.scale = scale;
    plot.measure = name;
    if intercept_only(fit) {
        plot.notes
            .push(format!("Heterogeneity: {}", heterogeneity_text(fit)));
    } else {
        let moderators = analysis
            .formula
            .as_ref()
            .map(|f| f.term_labels().join(" + "))
            .unwrap_or_default();
        plot.notes.push(format!(
            "{} with moderators {moderators}: no single pooled estimate; the bubble plot shows the fitted effects",
            pooled_label(fit.spec.method)
        ));
        if let Some(test) = &fit.moderators {
            plot.notes
                .push(format!("Test of moderators: {}", wald_text(test)));
        }
        plot.notes.push(format!(
            "Residual heterogeneity: {}",
            heterogeneity_text(fit)
        ));
    }
    if let Some(column) = subgroup {
        add_subgroups(&mut plot, analysis, column)?;
    }
    Ok(plot)
}

/// Adds the subgroups by `column`, their models and the test for subgroup differences.
fn add_subgroups(
    plot: &mut ForestPlot,
    analysis: &Analysis,
    column: &str,
) -> Result<(), InputError> {
    let fit = &analysis.fit;
    let studies = &analysis.studies;
    let (levels, level_of) = levels_of(&analysis.table, column, &studies.rows)?;
    for (index, level) in levels.iter().enumerate() {
        let members: Vec<usize> = (0..studies.k())
            .filter(|&i| level_of[i] == Some(index))
            .collect();
        let yi: Vec<f64> = members.iter().map(|&i| studies.yi[i]).collect();
        let vi: Vec<f64> = members.iter().map(|&i| studies.vi[i]).collect();
        let pooled = fit_pooled(&yi, &vi, fit);
        if let Err(e) = &pooled {
            plot.notes
                .push(format!("No subtotal for {column} = {level}: {e}"));
        }
        plot.subgroups.push(Subgroup {
            name: format!("{column} = {level}"),
            studies: members,
            pooled: pooled.ok(),
        });
    }
    let missing: Vec<usize> = (0..studies.k())
        .filter(|&i| level_of[i].is_none())
        .collect();
    if !missing.is_empty() {
        let studies = if missing.len() == 1 {
            "1 study".to_owned()
        } else {
            format!("{} studies", missing.len())
        };
        plot.notes.push(format!(
            "{studies} without a value of {column}: in no subgroup and not in the test for subgroup differences"
        ));
        plot.subgroups.push(Subgroup {
            name: format!("No value of {column}"),
            studies: missing,
            pooled: None,
        });
    }

    // The test for subgroup differences: QM of factor(column) on the studies with a value.
    let with_value: Vec<usize> = (0..studies.k())
        .filter(|&i| level_of[i].is_some())
        .collect();
    let rows: Vec<usize> = with_value.iter().map(|&i| studies.rows[i]).collect();
    let yi: Vec<f64> = with_value.iter().map(|&i| studies.yi[i]).collect();
    let vi: Vec<f64> = with_value.iter().map(|&i| studies.vi[i]).collect();
    // A column name the formula syntax cannot spell (a space, a hyphen) costs only the test:
    // the subgroups and their models stand without it.
    let design = Formula::parse(&format!("factor({column})"))
        .and_then(|f| f.design(&analysis.table, &rows, &BTreeMap::new()));
    let design = match design {
        Ok(design) => design,
        Err(e) => {
            plot.notes
                .push(format!("No test for subgroup differences: {e}"));
            return Ok(());
        }
    };
    match stats::fit(&yi, &vi, &design, &fit.spec) {
        Ok(by_level) if by_level.moderators.is_some() => {
            plot.subgroup_test = by_level.moderators;
        }
        Ok(_) => plot.notes.push(format!(
            "No test for subgroup differences: {column} has a single level"
        )),
        Err(e) => plot
            .notes
            .push(format!("No test for subgroup differences: {e}")),
    }
    Ok(())
}

/// The pooled estimate of an intercept-only model of some studies, fitted as `like` was.
fn fit_pooled(yi: &[f64], vi: &[f64], like: &Fit) -> Result<Prediction, StatsError> {
    stats::fit(yi, vi, &Design::intercept_only(yi.len()), &like.spec)?.predict(&[1.0])
}

/// The first moderator column of the model's formula that a bubble plot can show as a line (a
/// numeric one), else the first moderator column; `None` without moderators.
pub fn default_bubble_column(analysis: &Analysis, session: &Session) -> Option<String> {
    let columns = analysis.formula.as_ref()?.columns();
    columns
        .iter()
        .find(|c| !session.is_categorical(c, &analysis.table))
        .or_else(|| columns.first())
        .map(|c| (*c).to_owned())
}

/// A moderator held fixed while another varies: its column, the value given to
/// [`Formula::predictor_row`], and how a caption says it. The results pane starts its
/// prediction form from the same values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The moderator column.
    pub column: String,
    /// The value as [`Formula::predictor_row`] takes it: a number or a level.
    pub value: String,
    /// How a caption says it, e.g. `"year = 1966.23 (mean)"`.
    pub caption: String,
}

/// The plot of the effect sizes against one moderator of the model, with the model's fitted
/// effect: for a numeric moderator a [`BubblePlot`] whose fitted line is `Fit::predict` on a
/// grid of 61 values across the studies' range, for a categorical one (written `factor(…)` or
/// a text column, as [`Session::is_categorical`] decides) a [`CategoryPlot`] with the estimate
/// of each level. The other moderators are held at their mean over the studies (numeric) or
/// at their reference level (categorical), and the caption says so. Bubbles are sized by the
/// model's weights 1/(vᵢ + τ²); the vertical axis follows the session's measure.
///
/// `session` must be the one the analysis ran with: its references code the factors as the
/// analysis did.
///
/// # Errors
/// [`InputError::NoModerators`], [`InputError::NotAModerator`], or an error of building a
/// prediction row or predicting ([`InputError::Formula`], [`InputError::Stats`]).
pub fn bubble(
    analysis: &Analysis,
    session: &Session,
    column: &str,
) -> Result<ModeratorPlot, InputError> {
    let formula = analysis.formula.as_ref().ok_or(InputError::NoModerators)?;
    let columns = formula.columns();
    if !columns.contains(&column) {
        return Err(InputError::NotAModerator {
            column: column.to_owned(),
            moderators: columns.iter().map(|c| (*c).to_owned()).collect(),
        });
    }
    // The references Session::spec passes to the analysis: only those of columns in use.
    let references: BTreeMap<String, String> = session
        .references
        .iter()
        .filter(|(c, _)| columns.contains(&c.as_str()))
        .map(|(c, l)| (c.clone(), l.clone()))
        .collect();
    let table = &analysis.table;
    let rows = &analysis.studies.rows;
    let held = columns
        .iter()
        .filter(|c| **c != column)
        .map(|c| held_value(analysis, session, &references, c))
        .collect::<Result<Vec<Held>, InputError>>()?;
    let caption = if held.is_empty() {
        "No other moderators in the model".to_owned()
    } else {
        let parts: Vec<&str> = held.iter().map(|h| h.caption.as_str()).collect();
        format!("Other moderators held at: {}", parts.join(", "))
    };
    let predict_at = |value: String| -> Result<Prediction, InputError> {
        let mut at: BTreeMap<String, String> = held
            .iter()
            .map(|h| (h.column.clone(), h.value.clone()))
            .collect();
        at.insert(column.to_owned(), value);
        let x0 = formula.predictor_row(table, rows, &references, &at)?;
        Ok(analysis.fit.predict(&x0)?)
    };
    let measure = session.measure.as_deref().and_then(|m| m.parse().ok());
    let (scale, name) = measure_axis(measure);
    let y_label = scale.axis_title(&name);

    if session.is_categorical(column, table) {
        let (names, level_of) = levels_of(table, column, rows)?;
        let level_of = level_of
            .iter()
            .zip(rows)
            .map(|(level, &r)| {
                level.ok_or(InputError::UnknownLevel {
                    column: column.to_owned(),
                    row: r + 1,
                })
            })
            .collect::<Result<Vec<usize>, InputError>>()?;
        let levels = names
            .into_iter()
            .map(|name| {
                Ok(Level {
                    prediction: predict_at(name.clone())?,
                    name,
                })
            })
            .collect::<Result<Vec<Level>, InputError>>()?;
        return Ok(ModeratorPlot::Categories(CategoryPlot {
            levels,
            level_of,
            y: analysis.studies.yi.clone(),
            weights: analysis.fit.weights.clone(),
            x_label: column.to_owned(),
            y_label,
            scale,
            caption,
        }));
    }

    let x = study_values(analysis, column)?;
    // One point when every study has the same value, none when no study has one: no line to
    // draw either way.
    let grid: Vec<f64> = match axis::extent(x.iter().copied()) {
        Some((lo, hi)) if hi > lo => (0..=GRID_INTERVALS)
            .map(|i| lo + (hi - lo) * i as f64 / GRID_INTERVALS as f64)
            .collect(),
        Some((lo, _)) => vec![lo],
        None => Vec::new(),
    };
    let fitted = grid
        .into_iter()
        .map(|x| {
            // Rust prints the shortest text that parses back to the same number.
            Ok(FittedPoint {
                prediction: predict_at(format!("{x}"))?,
                x,
            })
        })
        .collect::<Result<Vec<FittedPoint>, InputError>>()?;
    Ok(ModeratorPlot::Bubble(BubblePlot {
        x,
        y: analysis.studies.yi.clone(),
        weights: analysis.fit.weights.clone(),
        x_label: column.to_owned(),
        y_label,
        scale,
        fitted,
        caption,
    }))
}

/// The value a moderator is held at: its mean over the studies if numeric, its reference
/// level (the session's choice, else the first in R's order) if categorical.
pub fn held_value(
    analysis: &Analysis,
    session: &Session,
    references: &BTreeMap<String, String>,
    column: &str,
) -> Result<Held, InputError> {
    if session.is_categorical(column, &analysis.table) {
        let level = match references.get(column) {
            Some(level) => level.clone(),
            None => factor_levels(&analysis.table, column, &analysis.studies.rows)?
                .into_iter()
                .next()
                .ok_or(InputError::UnknownLevel {
                    column: column.to_owned(),
                    row: analysis.studies.rows.first().map_or(1, |r| r + 1),
                })?,
        };
        return Ok(Held {
            column: column.to_owned(),
            caption: format!("{column} = {level} (reference)"),
            value: level,
        });
    }
    let values = study_values(analysis, column)?;
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    Ok(Held {
        column: column.to_owned(),
        value: format!("{mean}"),
        caption: format!("{column} = {} (mean)", signed(mean, CAPTION_DIGITS)),
    })
}

/// The funnel plot of the analysis with Egger's regression test (`Fit::regtest`, metafor's
/// `regtest()`), optionally contour-enhanced.
///
/// Without moderators: the effect sizes against √vᵢ around the pooled estimate, on the
/// measure's scale. With moderators, as metafor's `funnel()`: the residuals yᵢ − xᵢ'b against
/// √vᵢ around 0, on the fitted scale (a residual of a log ratio is read as a log), with the
/// mixed-effects Egger test. Egger's test is left out (`egger: None`) when its model cannot be
/// fitted, e.g. with too few studies or standard errors that are all equal.
///
/// # Errors
/// [`InputError::Stats`] when the pooled estimate cannot be predicted.
pub fn funnel(
    analysis: &Analysis,
    measure: Option<Measure>,
    contours: bool,
) -> Result<FunnelPlot, InputError> {
    let fit = &analysis.fit;
    let (scale, name) = measure_axis(measure);
    let sei = fit.vi().iter().map(|v| v.sqrt()).collect();
    let egger = fit.regtest().ok();
    if intercept_only(fit) {
        return Ok(FunnelPlot {
            yi: fit.yi().to_vec(),
            sei,
            estimate: fit.predict(&[1.0])?.pred,
            contours,
            egger,
            x_label: scale.axis_title(&name),
            scale,
        });
    }
    let fitted_name = measure.map_or(name, |m| m.label().to_owned());
    Ok(FunnelPlot {
        yi: fit.residuals.clone(),
        sei,
        estimate: 0.0,
        contours,
        egger,
        x_label: format!("Residual ({fitted_name})"),
        scale: EffectScale::Identity,
    })
}

/// The heterogeneity picture of the analysis: I² (residual I² with moderators) and, for a
/// meta-regression, R², with the Q-profile intervals the analysis already computed
/// (`analysis.report`; none for FE/EE models or when k = p).
pub fn heterogeneity(analysis: &Analysis) -> HeterogeneityPlot {
    let mut plot = HeterogeneityPlot::from_fit(&analysis.fit, None);
    if let (Some([lower, upper]), Some([i2_lower, i2_upper])) =
        (analysis.report.tau2_ci, analysis.report.i2_ci)
    {
        plot.tau2.lower = lower;
        plot.tau2.upper = upper;
        plot.i2.lower = i2_lower;
        plot.i2.upper = i2_upper;
    }
    plot
}
