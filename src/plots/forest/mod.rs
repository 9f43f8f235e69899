//! The forest plot: one row per study with its estimate, confidence interval and weight, drawn
//! and printed, the pooled estimate as a diamond with its prediction interval, and optionally
//! subgroups with a diamond each and the test for subgroup differences.
//!
//! The same plot draws a model per row ([`ForestKind::Refits`]): metafor's `forest()` of a
//! `leave1out` or `cumul` result, each row a model's pooled effect with its CI.
//!
//! Rows have a fixed height, so the plot grows with the number of studies ([`forest_size`])
//! and its text never overlaps; a page shows a tall forest plot by scrolling. One file per
//! concern: what the plot shows (here), its rows in drawing order ([`rows`]), the columns'
//! positions and printed text ([`columns`]), and the drawing ([`draw`]).

use plotters::coord::Shift;
use plotters::prelude::*;
use statrs::distribution::{ContinuousCDF, Normal};

use super::axis::EffectScale;
use super::layout::PlotLayout;
use super::paint::usable_level;
use super::theme::Theme;
use super::PlotError;
use crate::analysis::is_intercept_only;
use crate::stats::{Fit, Prediction, Tau2Method, WaldTest};

mod columns;
mod draw;
mod rows;

use columns::{columns, height_for};
use draw::draw_part;
use rows::rows;

/// One study's row.
#[derive(Debug, Clone, PartialEq)]
pub struct ForestStudy {
    /// Study label.
    pub label: String,
    /// Effect size on the fitted scale.
    pub estimate: f64,
    /// Lower confidence bound on the fitted scale.
    pub ci_lower: f64,
    /// Upper confidence bound on the fitted scale.
    pub ci_upper: f64,
    /// The study's weight in the model (any positive scale; printed as a percentage of the
    /// total weight of the plot's studies).
    pub weight: f64,
    /// The model's fitted value for the study with its confidence interval, for a
    /// meta-regression: drawn behind the study as a grey diamond, as metafor's `forest()` does.
    pub fitted: Option<Prediction>,
}

/// The order of the study rows (within each subgroup, if any).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ForestOrder {
    /// As given.
    #[default]
    Input,
    /// By effect size, smallest first.
    Effect,
    /// By weight, largest first.
    Weight,
    /// By a moderator's value per study, smallest first; missing values last.
    Moderator(Vec<f64>),
}

/// What a forest plot's rows are.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ForestKind {
    /// Studies: squares sized by their weights, the weights printed in their own column.
    #[default]
    Studies,
    /// Models fitted to some of the studies (leave-one-out, cumulative): each row a model's
    /// estimate and CI, every point one size and no weight column (the models' weights are
    /// not shares of one total); `header` heads the label column, e.g. `"Study left out"`.
    Refits {
        /// The label column's header.
        header: String,
    },
}

/// A subgroup: some studies and the model fitted to them alone.
#[derive(Debug, Clone, PartialEq)]
pub struct Subgroup {
    /// The level of the grouping moderator.
    pub name: String,
    /// Indices of its studies in [`ForestPlot::studies`].
    pub studies: Vec<usize>,
    /// The pooled estimate of the subgroup's own model (`None` when it could not be fitted,
    /// e.g. a single study).
    pub pooled: Option<Prediction>,
}

/// What a forest plot shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ForestPlot {
    /// One row per study.
    pub studies: Vec<ForestStudy>,
    /// The pooled estimate with its confidence and prediction intervals, drawn as a diamond.
    pub pooled: Option<Prediction>,
    /// Label of the pooled row, e.g. `"Random-effects model (REML)"`.
    pub pooled_label: String,
    /// Subgroups; when empty, the studies are listed without grouping. Studies in no subgroup
    /// are not drawn.
    pub subgroups: Vec<Subgroup>,
    /// The test for subgroup differences (the omnibus test of the grouping moderator).
    pub subgroup_test: Option<WaldTest>,
    /// Lines printed under the pooled row (heterogeneity statistics, model notes).
    pub notes: Vec<String>,
    /// Row order.
    pub order: ForestOrder,
    /// Axis and printed numbers as fitted or back-transformed.
    pub scale: EffectScale,
    /// Name of the effect measure, e.g. `"Risk ratio"`.
    pub measure: String,
    /// Confidence level of the intervals, e.g. 0.95 (printed in the header).
    pub level: f64,
    /// Studies, or a model per row.
    pub kind: ForestKind,
}

impl ForestStudy {
    /// A study's row from its effect size and sampling variance, with the Wald interval
    /// yᵢ ± z·√vᵢ that metafor's `forest()` draws for every study whatever the model's test.
    pub fn from_variance(label: String, yi: f64, vi: f64, weight: f64, level: f64) -> Self {
        let half = normal_quantile(level) * vi.sqrt();
        Self {
            label,
            estimate: yi,
            ci_lower: yi - half,
            ci_upper: yi + half,
            weight,
            fitted: None,
        }
    }
}

impl ForestPlot {
    /// The studies' rows from their labels, effects, sampling variances and weights (any
    /// positive scale), with Wald intervals at `level`; no pooled estimate, fitted values,
    /// subgroups or notes yet.
    pub fn from_studies(
        labels: &[String],
        yi: &[f64],
        vi: &[f64],
        weights: &[f64],
        level: f64,
    ) -> Self {
        let studies = labels
            .iter()
            .zip(yi)
            .zip(vi)
            .zip(weights)
            .map(|(((l, &y), &v), &w)| ForestStudy::from_variance(l.clone(), y, v, w, level))
            .collect();
        Self {
            studies,
            level,
            ..Self::default()
        }
    }

    /// The studies of a fitted model, each weighted as the model weighted it, at the model's
    /// confidence level; `pooled` is the model's pooled prediction (`fit.predict(&[1.0])` for a
    /// model without moderators). For a model with moderators each study also gets its fitted
    /// value with its CI (`Fit::predict` at its own row of the design). Labels, effects and
    /// variances are the ones the model was fitted to, in the same order. (The page builds its
    /// plot from the analysis records instead, in [`super::inputs::forest`].)
    pub fn from_fit(
        labels: &[String],
        yi: &[f64],
        vi: &[f64],
        fit: &Fit,
        pooled: Option<Prediction>,
    ) -> Self {
        let with_moderators = !is_intercept_only(fit.p, fit.has_intercept());
        let mut plot = Self::from_studies(labels, yi, vi, &fit.weights, fit.spec.level);
        if with_moderators {
            let x = fit.x();
            for (i, study) in plot.studies.iter_mut().enumerate() {
                let row: Vec<f64> = x.row(i).iter().copied().collect();
                study.fitted = fit.predict(&row).ok();
            }
        }
        plot.pooled = pooled;
        plot.pooled_label = pooled_label(fit.spec.method);
        plot
    }
}

/// metafor's name for the model a method fits, with the method: "Random-effects model (REML)".
pub(crate) fn pooled_label(method: Tau2Method) -> String {
    let model = match method {
        Tau2Method::Fe => "Fixed-effect model",
        Tau2Method::Ee => "Equal-effects model",
        _ => "Random-effects model",
    };
    format!("{model} ({})", method.metafor_name())
}

/// The two-sided standard normal critical value at `level` (1.96 at 0.95).
fn normal_quantile(level: f64) -> f64 {
    Normal::standard().inverse_cdf(0.5 + usable_level(level) / 2.0)
}

/// The smallest drawing area, in backend pixels (width, height), that keeps every label of
/// `plot` apart: the height grows with the number of rows.
///
/// # Errors
/// [`PlotError::IndexOutOfRange`] when a subgroup names a study that is not in the plot.
pub fn forest_size(plot: &ForestPlot, theme: &Theme) -> Result<(u32, u32), PlotError> {
    let rows = rows(plot)?;
    let columns = columns(plot, &rows, 0.0, theme);
    Ok((
        columns.min_width.ceil() as u32,
        height_for(rows.len(), theme).ceil() as u32,
    ))
}

/// Draws the forest plot onto `area`, which must be at least [`forest_size`]; `highlight` is
/// a study index drawn with a ring, a tinted row and a bold label.
///
/// # Errors
/// [`PlotError::NoData`] without studies, [`PlotError::AreaTooSmall`],
/// [`PlotError::IndexOutOfRange`] for a subgroup naming an unknown study, or a backend failure.
pub fn draw_forest<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &ForestPlot,
    theme: &Theme,
    highlight: Option<usize>,
) -> Result<PlotLayout, PlotError>
where
    DB::ErrorType: 'static,
{
    draw_part(area, plot, theme, highlight, None)
}

/// Draws the part of the forest plot that starts `scroll` backend pixels below its top and is
/// as tall as `area` (which needs the plot's width, not its height): a canvas the size of the
/// page's viewport, redrawn as the page scrolls, shows a plot of any number of studies quickly
/// and without exceeding the browser's largest canvas. Only the rows in view are drawn, and
/// the layout has only their marks, in `area`'s pixels.
///
/// # Errors
/// As [`draw_forest`]; [`PlotError::AreaTooSmall`] only for the width.
pub fn draw_forest_window<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &ForestPlot,
    theme: &Theme,
    highlight: Option<usize>,
    scroll: f64,
) -> Result<PlotLayout, PlotError>
where
    DB::ErrorType: 'static,
{
    let scroll = if scroll.is_finite() { scroll } else { 0.0 };
    draw_part(area, plot, theme, highlight, Some(scroll))
}
