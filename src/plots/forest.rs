//! The forest plot: one row per study with its estimate, confidence interval and weight, drawn
//! and printed, the pooled estimate as a diamond with its prediction interval, and optionally
//! subgroups with a diamond each and the test for subgroup differences.
//!
//! Rows have a fixed height, so the plot grows with the number of studies ([`forest_size`])
//! and its text never overlaps; a page shows a tall forest plot by scrolling.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use statrs::distribution::{ContinuousCDF, Normal};

use super::axis::{self, EffectScale};
use super::layout::{AxisMap, Mark, MarkShape, PlotLayout, Rect};
use super::paint::{
    area_scaled, ci_label, draw_interval, label, polyline, px, usable_level, usable_weight,
    wald_text,
};
use super::theme::{self, Theme};
use super::PlotError;
use crate::stats::{Fit, Prediction, Tau2Method, WaldTest};

/// Margin around the figure, in layout pixels.
const MARGIN: f64 = 16.0;
/// Height of one row; comfortably more than a line of text at [`theme::TEXT_SIZE`].
const ROW_HEIGHT: f64 = 22.0;
/// Height of the header row.
const HEADER_HEIGHT: f64 = 30.0;
/// Gap between columns.
const COLUMN_GAP: f64 = 14.0;
/// The plotting column is never narrower than this.
const MIN_PANEL_WIDTH: f64 = 220.0;
/// Side of the square of the study with the largest weight; below the row height so squares
/// of neighbouring rows never touch.
const MAX_SQUARE: f64 = 16.0;
/// Side of the square of a study with a tiny weight, so it stays visible.
const MIN_SQUARE: f64 = 4.0;
/// Half the height of a summary diamond.
const DIAMOND_HALF_HEIGHT: f64 = 7.0;
/// Half the height of the caps at the ends of an interval.
const CAP_HALF_HEIGHT: f64 = 3.0;
/// Gap between a highlighted study's square and the ring drawn around it.
const RING_GAP: f64 = 3.0;
/// The line at the pooled estimate: lighter than the line of no effect.
const POOLED_LINE: RGBColor = RGBColor(160, 166, 176);
/// Longest label printed in full; longer ones are shortened with an ellipsis.
const MAX_LABEL_CHARS: usize = 40;
/// Decimals of printed estimates.
const DIGITS: usize = 2;
/// Header of the label column.
const STUDY_HEADER: &str = "Study";
/// Header of the weight column.
const WEIGHT_HEADER: &str = "Weight";
/// What the grey diamonds of a meta-regression are.
const FITTED_NOTE: &str =
    "Grey diamonds: the fitted value of each study under the model, with its CI";
/// Fill of those diamonds: quieter than the studies drawn over them.
const FITTED_FILL: RGBColor = RGBColor(196, 200, 206);
/// Half the height of a fitted value's diamond.
const FITTED_HALF_HEIGHT: f64 = 5.0;
/// Label of the prediction interval's row.
const PI_LABEL: &str = "Prediction interval";

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
    /// The studies of a fitted model, each weighted as the model weighted it, at the model's
    /// confidence level; `pooled` is the model's pooled prediction (`fit.predict(&[1.0])` for a
    /// model without moderators). For a model with moderators each study also gets its fitted
    /// value with its CI (`Fit::predict` at its own row of the design). Labels, effects and
    /// variances are the ones the model was fitted to, in the same order.
    pub fn from_fit(
        labels: &[String],
        yi: &[f64],
        vi: &[f64],
        fit: &Fit,
        pooled: Option<Prediction>,
    ) -> Self {
        let level = fit.spec.level;
        let with_moderators = fit.p > 1 || !fit.has_intercept();
        let fitted = |i: usize| {
            let row: Vec<f64> = fit.x().row(i).iter().copied().collect();
            fit.predict(&row).ok()
        };
        let studies = labels
            .iter()
            .zip(yi)
            .zip(vi)
            .zip(&fit.weights)
            .enumerate()
            .map(|(i, (((l, &y), &v), &w))| ForestStudy {
                fitted: if with_moderators { fitted(i) } else { None },
                ..ForestStudy::from_variance(l.clone(), y, v, w, level)
            })
            .collect();
        Self {
            studies,
            pooled,
            pooled_label: pooled_label(fit.spec.method),
            level,
            ..Self::default()
        }
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

/// One row of the figure.
#[derive(Debug, Clone, PartialEq)]
enum Row<'a> {
    /// A subgroup's name.
    Heading(&'a str),
    /// A study, by index.
    Study(usize),
    /// A pooled estimate: a filled diamond for the whole model, hollow for a subgroup.
    Summary {
        label: String,
        prediction: &'a Prediction,
        weight_share: f64,
        hollow: bool,
    },
    /// The prediction interval of the whole model.
    PredictionInterval(&'a Prediction),
    /// A line of text.
    Note(String),
    /// Space between blocks.
    Gap,
}

/// The rows in drawing order.
fn rows(plot: &ForestPlot) -> Result<Vec<Row<'_>>, PlotError> {
    let k = plot.studies.len();
    let total = total_weight(plot);
    let share = |members: &[usize]| {
        let w: f64 = members
            .iter()
            .map(|&i| usable_weight(plot.studies[i].weight))
            .sum();
        percent_of(w, total)
    };
    let mut rows = Vec::new();
    if plot.subgroups.is_empty() {
        rows.extend(ordered(plot, (0..k).collect()).into_iter().map(Row::Study));
    } else {
        for group in &plot.subgroups {
            if let Some(&index) = group.studies.iter().find(|&&i| i >= k) {
                return Err(PlotError::IndexOutOfRange { index, len: k });
            }
            rows.push(Row::Heading(&group.name));
            rows.extend(
                ordered(plot, group.studies.clone())
                    .into_iter()
                    .map(Row::Study),
            );
            if let Some(prediction) = &group.pooled {
                rows.push(Row::Summary {
                    label: format!("Subtotal ({} studies)", group.studies.len()),
                    prediction,
                    weight_share: share(&group.studies),
                    hollow: true,
                });
            }
            rows.push(Row::Gap);
        }
    }
    if let Some(prediction) = &plot.pooled {
        if plot.subgroups.is_empty() {
            rows.push(Row::Gap);
        }
        let all: Vec<usize> = (0..k).collect();
        rows.push(Row::Summary {
            label: plot.pooled_label.clone(),
            prediction,
            weight_share: share(&all),
            hollow: false,
        });
        // Without between-study variance the prediction interval is the confidence interval.
        if prediction.pi_lower < prediction.ci_lower || prediction.pi_upper > prediction.ci_upper {
            rows.push(Row::PredictionInterval(prediction));
        }
    }
    if let Some(test) = &plot.subgroup_test {
        rows.push(Row::Note(format!(
            "Test for subgroup differences: {}",
            wald_text(test)
        )));
    }
    if plot.studies.iter().any(|s| s.fitted.is_some()) {
        rows.push(Row::Note(FITTED_NOTE.to_owned()));
    }
    rows.extend(plot.notes.iter().cloned().map(Row::Note));
    Ok(rows)
}

/// The total of the studies' usable weights.
fn total_weight(plot: &ForestPlot) -> f64 {
    plot.studies.iter().map(|s| usable_weight(s.weight)).sum()
}

/// `weight` as a percentage of `total`; 0 when no study has a usable weight.
fn percent_of(weight: f64, total: f64) -> f64 {
    if total > 0.0 {
        100.0 * weight / total
    } else {
        0.0
    }
}

/// `indices` in the plot's order (stable, so ties keep input order; missing values last).
fn ordered(plot: &ForestPlot, mut indices: Vec<usize>) -> Vec<usize> {
    let key = |v: f64| if v.is_nan() { f64::INFINITY } else { v };
    match &plot.order {
        ForestOrder::Input => {}
        ForestOrder::Effect => {
            indices.sort_by(|&a, &b| {
                key(plot.studies[a].estimate).total_cmp(&key(plot.studies[b].estimate))
            });
        }
        ForestOrder::Weight => {
            indices.sort_by(|&a, &b| {
                usable_weight(plot.studies[b].weight)
                    .total_cmp(&usable_weight(plot.studies[a].weight))
            });
        }
        ForestOrder::Moderator(values) => {
            let value = |i: usize| key(values.get(i).copied().unwrap_or(f64::NAN));
            indices.sort_by(|&a, &b| value(a).total_cmp(&value(b)));
        }
    }
    indices
}

/// A label cut to [`MAX_LABEL_CHARS`].
fn shortened(text: &str) -> String {
    if text.chars().count() <= MAX_LABEL_CHARS {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(MAX_LABEL_CHARS - 1).collect();
        format!("{cut}…")
    }
}

/// "0.41 [0.13, 1.26]" on the displayed scale; a dash when a value is missing.
fn interval_text(scale: EffectScale, estimate: f64, lower: f64, upper: f64) -> String {
    if [estimate, lower, upper].iter().all(|v| v.is_finite()) {
        format!(
            "{} [{}, {}]",
            scale.format(estimate, DIGITS),
            scale.format(lower, DIGITS),
            scale.format(upper, DIGITS)
        )
    } else {
        "\u{2014}".to_owned()
    }
}

/// Column positions and sizes in backend pixels.
struct Columns {
    /// Left edge of the labels.
    label_left: f64,
    /// Left and right edge of the plotting panel.
    panel: (f64, f64),
    /// Right edge of the printed estimates.
    estimate_right: f64,
    /// Right edge of the printed weights.
    weight_right: f64,
    /// Minimum total width.
    min_width: f64,
}

fn header_text(plot: &ForestPlot) -> String {
    let measure = if plot.measure.is_empty() {
        "Estimate"
    } else {
        plot.measure.as_str()
    };
    format!("{measure} [{}]", ci_label(plot.level))
}

fn columns(plot: &ForestPlot, rows: &[Row<'_>], width: f64, theme: &Theme) -> Columns {
    let w = |t: &str| theme.text_width(t, theme::TEXT_SIZE);
    let label_width = rows
        .iter()
        .map(|row| match row {
            Row::Heading(name) => w(&shortened(name)),
            Row::Study(i) => w(&shortened(&plot.studies[*i].label)),
            Row::Summary { label, .. } => w(&shortened(label)),
            Row::PredictionInterval(_) => w(PI_LABEL),
            Row::Note(_) | Row::Gap => 0.0,
        })
        .fold(w(STUDY_HEADER), f64::max);
    let estimate_width = rows
        .iter()
        .map(|row| match row {
            Row::Study(i) => {
                let s = &plot.studies[*i];
                w(&interval_text(
                    plot.scale, s.estimate, s.ci_lower, s.ci_upper,
                ))
            }
            Row::Summary { prediction: p, .. } => {
                w(&interval_text(plot.scale, p.pred, p.ci_lower, p.ci_upper))
            }
            Row::PredictionInterval(p) => w(&pi_text(plot.scale, p)),
            _ => 0.0,
        })
        .fold(w(&header_text(plot)), f64::max);
    let weight_width = w(WEIGHT_HEADER).max(w("100.0%"));
    let gap = theme.len(COLUMN_GAP);
    let margin = theme.len(MARGIN);
    let label_left = margin;
    let fixed = 2.0 * margin + label_width + estimate_width + weight_width + 3.0 * gap;
    let min_width = fixed + theme.len(MIN_PANEL_WIDTH);
    let panel_width = (width - fixed).max(theme.len(MIN_PANEL_WIDTH));
    let panel_left = label_left + label_width + gap;
    let panel_right = panel_left + panel_width;
    let estimate_right = panel_right + gap + estimate_width;
    Columns {
        label_left,
        panel: (panel_left, panel_right),
        estimate_right,
        weight_right: estimate_right + gap + weight_width,
        min_width,
    }
}

fn pi_text(scale: EffectScale, p: &Prediction) -> String {
    format!(
        "[{}, {}]",
        scale.format(p.pi_lower, DIGITS),
        scale.format(p.pi_upper, DIGITS)
    )
}

/// Height of the figure in backend pixels for `rows` rows.
fn height_for(rows: usize, theme: &Theme) -> f64 {
    theme.len(2.0 * MARGIN + HEADER_HEIGHT + (rows as f64 + 0.5) * ROW_HEIGHT)
        + axis::x_axis_height(theme)
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

/// The whole plot (`scroll` = `None`, the area must hold it) or the part from `scroll` down.
fn draw_part<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &ForestPlot,
    theme: &Theme,
    highlight: Option<usize>,
    scroll: Option<f64>,
) -> Result<PlotLayout, PlotError>
where
    DB::ErrorType: 'static,
{
    if plot.studies.is_empty() {
        return Err(PlotError::NoData);
    }
    let rows = rows(plot)?;
    let (width, height) = area.dim_in_pixel();
    let cols = columns(plot, &rows, f64::from(width), theme);
    let needed = (
        cols.min_width.ceil() as u32,
        height_for(rows.len(), theme).ceil() as u32,
    );
    let too_short = scroll.is_none() && height < needed.1;
    if width < needed.0 || too_short {
        return Err(PlotError::AreaTooSmall {
            needed,
            available: (width, height),
        });
    }
    let scroll = scroll.unwrap_or(0.0);

    let map = AxisMap {
        data: x_extent(plot, &rows),
        pixels: cols.panel,
    };
    let row_height = theme.len(ROW_HEIGHT);
    let top = theme.len(MARGIN + HEADER_HEIGHT) - scroll;
    let row_centre = |i: usize| top + (i as f64 + 0.5) * row_height;
    let panel_bottom = top + (rows.len() as f64 + 0.5) * row_height;
    // Rows wholly outside the area are skipped: the rows of a tall plot are most of its cost.
    let in_view = |y: f64| y >= -row_height && y <= f64::from(height) + row_height;

    area.fill(&theme::PAPER)?;
    let text = theme.text(theme::TEXT_SIZE, theme::INK);
    let bold = theme.bold(theme::TEXT_SIZE, theme::INK);
    let ink = theme::INK.stroke_width(theme.px(1.0));

    // Header and the rule under it.
    let header_y = theme.len(MARGIN + HEADER_HEIGHT / 2.0) - scroll;
    let left_mid = (HPos::Left, VPos::Center);
    let right_mid = (HPos::Right, VPos::Center);
    // Scrolled out of a window: plotters places text that starts above the area at its top
    // edge, over the first rows in view, so the header is simply not drawn.
    if header_y + theme.len(HEADER_HEIGHT / 2.0) > 0.0 {
        label(
            area,
            STUDY_HEADER,
            (cols.label_left, header_y),
            &bold,
            left_mid,
        )?;
        label(
            area,
            &header_text(plot),
            (cols.estimate_right, header_y),
            &bold,
            right_mid,
        )?;
        label(
            area,
            WEIGHT_HEADER,
            (cols.weight_right, header_y),
            &bold,
            right_mid,
        )?;
    }
    polyline(
        area,
        &[(cols.label_left, top), (cols.weight_right, top)],
        ink,
    )?;

    // The highlighted row's band goes under everything else.
    let highlighted_row = highlight.and_then(|h| rows.iter().position(|r| *r == Row::Study(h)));
    if let Some(i) = highlighted_row {
        let y = row_centre(i);
        area.draw(&Rectangle::new(
            [
                px(cols.label_left, y - row_height / 2.0),
                px(cols.weight_right, y + row_height / 2.0),
            ],
            theme::YELLOW.mix(0.3).filled(),
        ))?;
    }

    // Line of no effect, and a light line at the pooled estimate (solid: a dashed line is one
    // element per dash, which at k = 1 000 doubled the drawing time), down to the last study
    // or diamond (not through the prediction interval and notes below).
    let last_mark = rows
        .iter()
        .rposition(|r| matches!(r, Row::Study(_) | Row::Summary { .. }))
        .map_or(panel_bottom, |i| row_centre(i) + row_height / 2.0);
    let null_x = map.to_pixel(0.0);
    polyline(area, &[(null_x, top), (null_x, last_mark)], ink)?;
    if let Some(p) = &plot.pooled {
        let x = map.to_pixel(p.pred);
        let light = POOLED_LINE.stroke_width(theme.px(1.0));
        polyline(area, &[(x, top), (x, last_mark)], light)?;
    }

    let max_weight = plot
        .studies
        .iter()
        .map(|s| usable_weight(s.weight))
        .fold(0.0, f64::max);
    let total_weight = total_weight(plot);
    let mut marks = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let y = row_centre(i);
        if !in_view(y) {
            continue;
        }
        match row {
            Row::Heading(name) => {
                label(
                    area,
                    &shortened(name),
                    (cols.label_left, y),
                    &bold,
                    left_mid,
                )?;
            }
            Row::Study(index) => {
                let study = &plot.studies[*index];
                let is_highlighted = highlight == Some(*index);
                let style = if is_highlighted { &bold } else { &text };
                let indent = if plot.subgroups.is_empty() {
                    0.0
                } else {
                    theme.len(8.0)
                };
                label(
                    area,
                    &shortened(&study.label),
                    (cols.label_left + indent, y),
                    style,
                    left_mid,
                )?;
                let printed =
                    interval_text(plot.scale, study.estimate, study.ci_lower, study.ci_upper);
                label(area, &printed, (cols.estimate_right, y), style, right_mid)?;
                let share = percent_of(usable_weight(study.weight), total_weight);
                let weight = format!("{}%", crate::format::signed(share, 1));
                label(area, &weight, (cols.weight_right, y), style, right_mid)?;
                if let Some(p) = &study.fitted {
                    draw_fitted(area, &map, p, y, theme)?;
                }
                if [study.estimate, study.ci_lower, study.ci_upper]
                    .iter()
                    .all(|v| v.is_finite())
                {
                    let (lo, hi) = (map.to_pixel(study.ci_lower), map.to_pixel(study.ci_upper));
                    draw_interval(area, (lo, hi), y, theme.len(CAP_HALF_HEIGHT), ink)?;
                    let side = area_scaled(
                        study.weight,
                        max_weight,
                        theme.len(MAX_SQUARE),
                        theme.len(MIN_SQUARE),
                    );
                    let x = map.to_pixel(study.estimate);
                    let half = side / 2.0;
                    area.draw(&Rectangle::new(
                        [px(x - half, y - half), px(x + half, y + half)],
                        theme::BLUE.filled(),
                    ))?;
                    if is_highlighted {
                        let r = half + theme.len(RING_GAP);
                        let ring = [
                            (x - r, y - r),
                            (x + r, y - r),
                            (x + r, y + r),
                            (x - r, y + r),
                            (x - r, y - r),
                        ];
                        polyline(area, &ring, theme::INK.stroke_width(theme.px(2.0)))?;
                    }
                    marks.push(Mark {
                        study: *index,
                        centre: (x, y),
                        shape: MarkShape::Box {
                            half_width: half,
                            half_height: half,
                        },
                        target: Rect {
                            left: cols.label_left,
                            top: y - row_height / 2.0,
                            right: cols.weight_right,
                            bottom: y + row_height / 2.0,
                        },
                    });
                }
            }
            Row::Summary {
                label: name,
                prediction: p,
                weight_share,
                hollow,
            } => {
                label(
                    area,
                    &shortened(name),
                    (cols.label_left, y),
                    &bold,
                    left_mid,
                )?;
                let printed = interval_text(plot.scale, p.pred, p.ci_lower, p.ci_upper);
                label(area, &printed, (cols.estimate_right, y), &bold, right_mid)?;
                let weight = format!("{}%", crate::format::signed(*weight_share, 1));
                label(area, &weight, (cols.weight_right, y), &bold, right_mid)?;
                draw_diamond(area, &map, p, y, *hollow, theme)?;
            }
            Row::PredictionInterval(p) => {
                label(area, PI_LABEL, (cols.label_left, y), &text, left_mid)?;
                label(
                    area,
                    &pi_text(plot.scale, p),
                    (cols.estimate_right, y),
                    &text,
                    right_mid,
                )?;
                let (lo, hi) = (map.to_pixel(p.pi_lower), map.to_pixel(p.pi_upper));
                draw_interval(
                    area,
                    (lo, hi),
                    y,
                    theme.len(CAP_HALF_HEIGHT),
                    theme::VERMILLION.stroke_width(theme.px(2.0)),
                )?;
            }
            Row::Note(note) => {
                let small = theme.text(theme::SMALL_SIZE, theme::MUTED);
                label(area, note, (cols.label_left, y), &small, left_mid)?;
            }
            Row::Gap => {}
        }
    }

    let ticks = axis::x_ticks(&map, plot.scale, theme);
    let title = plot.scale.axis_title(&plot.measure);
    axis::draw_x_axis(area, &map, &ticks, panel_bottom, None, &title, theme)?;
    area.present()?;
    Ok(PlotLayout {
        marks,
        x_axis: Some(map),
        y_axis: None,
    }
    .offset(area.get_base_pixel()))
}

/// The horizontal extent on the fitted scale: every interval drawn, and the line of no effect.
fn x_extent(plot: &ForestPlot, rows: &[Row<'_>]) -> (f64, f64) {
    let values = rows.iter().flat_map(|row| match row {
        Row::Study(i) => {
            let s = &plot.studies[*i];
            let fitted = s
                .fitted
                .as_ref()
                .map_or([f64::NAN; 2], |p| [p.ci_lower, p.ci_upper]);
            vec![s.estimate, s.ci_lower, s.ci_upper, fitted[0], fitted[1]]
        }
        Row::Summary { prediction: p, .. } => vec![p.ci_lower, p.ci_upper],
        Row::PredictionInterval(p) => vec![p.pi_lower, p.pi_upper],
        _ => Vec::new(),
    });
    let (lo, hi) = axis::extent(values.chain([0.0])).unwrap_or((-1.0, 1.0));
    axis::padded(lo, hi, 0.04, 1.0)
}

/// The corners of a diamond at height `y` spanning `p`'s confidence interval, its top and
/// bottom corners at the estimate, `half_height` above and below: left, top, right, bottom.
fn diamond(map: &AxisMap, p: &Prediction, y: f64, half_height: f64) -> [(f64, f64); 4] {
    let (lo, mid, hi) = (
        map.to_pixel(p.ci_lower),
        map.to_pixel(p.pred),
        map.to_pixel(p.ci_upper),
    );
    [
        (lo, y),
        (mid, y - half_height),
        (hi, y),
        (mid, y + half_height),
    ]
}

/// A study's fitted value: a grey diamond as wide as its confidence interval, centred at it.
fn draw_fitted<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    map: &AxisMap,
    p: &Prediction,
    y: f64,
    theme: &Theme,
) -> Result<(), PlotError> {
    let corners = diamond(map, p, y, theme.len(FITTED_HALF_HEIGHT));
    let corners: Vec<(i32, i32)> = corners.iter().map(|&(x, y)| px(x, y)).collect();
    area.draw(&Polygon::new(corners, FITTED_FILL.filled()))?;
    Ok(())
}

/// A summary diamond: its width is the confidence interval, its centre the estimate.
fn draw_diamond<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    map: &AxisMap,
    p: &Prediction,
    y: f64,
    hollow: bool,
    theme: &Theme,
) -> Result<(), PlotError> {
    let corners = diamond(map, p, y, theme.len(DIAMOND_HALF_HEIGHT));
    let fill = if hollow { theme::PAPER } else { theme::INK };
    area.draw(&Polygon::new(
        corners.iter().map(|&(x, y)| px(x, y)).collect::<Vec<_>>(),
        fill.filled(),
    ))?;
    let mut outline = corners.to_vec();
    outline.push(corners[0]);
    polyline(area, &outline, theme::INK.stroke_width(theme.px(1.0)))
}
