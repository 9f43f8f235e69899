//! The bubble plot, the picture of a meta-regression: each study's effect size against a
//! moderator, the bubble's area proportional to the study's weight 1/(vᵢ + τ²) in the model,
//! with the fitted line, its confidence band and its prediction band. For a categorical
//! moderator, [`draw_categories`] shows the studies of each level beside the level's estimate
//! with its confidence and prediction intervals.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{self, EffectScale, Tick};
use super::layout::{Mark, PlotLayout};
use super::paint::{area_scaled, polyline, px, usable_weight};
use super::panel::{check_lengths, draw_axes, draw_null_line, finish, frame, Frame, Grid, Swatch};
use super::theme::{self, Theme};
use super::PlotError;
use crate::stats::order::sort_indices_by;
use crate::stats::Prediction;

/// Bubbles drawn with an outline at most (see [`draw_bubbles`]).
const OUTLINED: usize = 2_000;
/// Largest bubble radius, in layout pixels.
const MAX_RADIUS: f64 = 18.0;
/// Smallest bubble radius, so that a study with a tiny weight stays visible.
const MIN_RADIUS: f64 = 2.5;
/// Smallest hover target around a bubble (half its side).
const MIN_TARGET: f64 = 5.0;
/// Gap between a highlighted bubble and the ring drawn around it.
const RING_GAP: f64 = 3.0;
/// Share of the range added on each side so bubbles at the extremes stay inside the frame.
const PAD: f64 = 0.06;
/// Radius of a level's estimate in the categorical plot.
const ESTIMATE_RADIUS: f64 = 5.0;
/// Width of the confidence-interval bar in the categorical plot.
const CI_WIDTH: f64 = 3.0;
/// Opacity of the confidence band.
const CI_ALPHA: f64 = 0.28;
/// Opacity of the prediction band (lighter, and wider, so the confidence band reads on top).
const PI_ALPHA: f64 = 0.22;
/// Legend entry of the studies' bubbles.
const STUDY_LEGEND: &str = "Study (area \u{221d} weight)";

/// The fitted model at one moderator value: `Fit::predict` with the other moderators at their
/// mean or reference level.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedPoint {
    /// Moderator value.
    pub x: f64,
    /// The prediction there.
    pub prediction: Prediction,
}

/// What a bubble plot shows: one bubble per study, and the fitted line with its bands.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BubblePlot {
    /// Moderator value per study (horizontal axis).
    pub x: Vec<f64>,
    /// Effect size per study on the fitted scale (vertical axis).
    pub y: Vec<f64>,
    /// Weight per study in the model (`Fit::weights`, 1/(vᵢ + τ²)); a bubble's area is
    /// proportional to it.
    pub weights: Vec<f64>,
    /// Caption of the horizontal axis (the moderator).
    pub x_label: String,
    /// Caption of the vertical axis (the effect measure).
    pub y_label: String,
    /// Vertical axis as fitted or back-transformed.
    pub scale: EffectScale,
    /// The fitted line: predictions on a grid of moderator values, in increasing order; empty
    /// for no line.
    pub fitted: Vec<FittedPoint>,
    /// A line under the plot, e.g. "Other moderators held at: year = 1966 (mean)".
    pub caption: String,
}

/// One level of a categorical moderator and the model's estimate for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// The level's name.
    pub name: String,
    /// The estimate for the level (other moderators at their mean or reference level).
    pub prediction: Prediction,
}

/// What the categorical variant of the bubble plot shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CategoryPlot {
    /// The levels, left to right.
    pub levels: Vec<Level>,
    /// Per study, the index of its level in `levels`.
    pub level_of: Vec<usize>,
    /// Effect size per study on the fitted scale.
    pub y: Vec<f64>,
    /// Weight per study in the model; a bubble's area is proportional to it.
    pub weights: Vec<f64>,
    /// Caption of the horizontal axis (the moderator).
    pub x_label: String,
    /// Caption of the vertical axis (the effect measure).
    pub y_label: String,
    /// Vertical axis as fitted or back-transformed.
    pub scale: EffectScale,
    /// A line under the plot.
    pub caption: String,
}

/// Bubble radii in backend pixels, area ∝ weight, for the studies with a usable weight.
fn radii(weights: &[f64], theme: &Theme) -> Vec<f64> {
    let max_weight = weights
        .iter()
        .copied()
        .map(usable_weight)
        .fold(0.0, f64::max);
    weights
        .iter()
        .map(|&w| area_scaled(w, max_weight, theme.len(MAX_RADIUS), theme.len(MIN_RADIUS)))
        .collect()
}

/// Draws the bubbles (largest first, so small ones stay visible on top) and returns their
/// marks in study order. `points` are (study, x pixel, y pixel).
fn draw_bubbles<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    points: &[(usize, f64, f64)],
    radii: &[f64],
    highlight: Option<usize>,
    theme: &Theme,
) -> Result<Vec<Mark>, PlotError> {
    let mut by_size: Vec<usize> = (0..points.len()).collect();
    sort_indices_by(&mut by_size, &|a, b| {
        radii[points[b].0].total_cmp(&radii[points[a].0])
    });
    // Outlines only while they can be told apart: past OUTLINED bubbles they merge into one
    // blot, and stroking them was half the drawing (140 of 280 ms at k = 20,000 in Chromium);
    // the translucent fills still show where the studies crowd.
    let outlined = points.len() <= OUTLINED;
    for &(study, x, y) in by_size.iter().map(|&j| &points[j]) {
        let r = radii[study];
        let centre = px(x, y);
        area.draw(&Circle::new(
            centre,
            r.round() as i32,
            theme::BLUE.mix(0.3).filled(),
        ))?;
        if outlined {
            area.draw(&Circle::new(
                centre,
                r.round() as i32,
                theme::BLUE.stroke_width(theme.px(1.0)),
            ))?;
        }
    }
    if let Some(&(study, x, y)) = points.iter().find(|p| Some(p.0) == highlight) {
        let r = radii[study];
        let centre = px(x, y);
        area.draw(&Circle::new(
            centre,
            r.round() as i32,
            theme::INK.stroke_width(theme.px(2.0)),
        ))?;
        let ring = (r + theme.len(RING_GAP)).round() as i32;
        area.draw(&Circle::new(
            centre,
            ring,
            theme::INK.stroke_width(theme.px(2.0)),
        ))?;
    }
    Ok(points
        .iter()
        .map(|&(study, x, y)| Mark::circle(study, (x, y), radii[study], theme.len(MIN_TARGET)))
        .collect())
}

/// A band between two curves as a closed polygon: along the upper edge, back along the lower.
fn band(
    frame: &Frame,
    fitted: &[FittedPoint],
    bounds: fn(&Prediction) -> (f64, f64),
) -> Vec<(i32, i32)> {
    let upper = fitted.iter().map(|f| {
        px(
            frame.x.to_pixel(f.x),
            frame.y.to_pixel(bounds(&f.prediction).1),
        )
    });
    let lower = fitted.iter().rev().map(|f| {
        px(
            frame.x.to_pixel(f.x),
            frame.y.to_pixel(bounds(&f.prediction).0),
        )
    });
    upper.chain(lower).collect()
}

/// Draws `plot` onto `area`, filling it; `highlight` is a study index drawn with a ring.
///
/// Studies whose coordinates or weight are not finite are left out (they get no mark); grid
/// points of the fitted line that are not finite are dropped.
///
/// # Errors
/// [`PlotError::LengthMismatch`] when `y` or `weights` do not have one value per `x`,
/// [`PlotError::NoData`] when no study can be drawn, or a backend failure.
pub fn draw_bubble<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &BubblePlot,
    theme: &Theme,
    highlight: Option<usize>,
) -> Result<PlotLayout, PlotError>
where
    DB::ErrorType: 'static,
{
    let k = plot.x.len();
    check_lengths(
        k,
        &[
            ("effect sizes", plot.y.len()),
            ("weights", plot.weights.len()),
        ],
    )?;
    let usable: Vec<usize> = (0..k)
        .filter(|&i| plot.x[i].is_finite() && plot.y[i].is_finite() && plot.weights[i].is_finite())
        .collect();
    if usable.is_empty() {
        return Err(PlotError::NoData);
    }
    let fitted: Vec<FittedPoint> = plot
        .fitted
        .iter()
        .filter(|f| {
            let p = &f.prediction;
            [f.x, p.pred, p.ci_lower, p.ci_upper, p.pi_lower, p.pi_upper]
                .iter()
                .all(|v| v.is_finite())
        })
        .cloned()
        .collect();
    let x_values = usable
        .iter()
        .map(|&i| plot.x[i])
        .chain(fitted.iter().map(|f| f.x));
    let y_values = usable.iter().map(|&i| plot.y[i]).chain(
        fitted
            .iter()
            .flat_map(|f| [f.prediction.pi_lower, f.prediction.pi_upper]),
    );
    let (x_lo, x_hi) = axis::extent(x_values).unwrap_or((0.0, 1.0));
    let (y_lo, y_hi) = axis::extent(y_values).unwrap_or((0.0, 1.0));
    let mut legend = Vec::new();
    if fitted.len() >= 2 {
        legend.extend([
            (Swatch::Line(theme::BLUE), "Fitted line"),
            (Swatch::Band(theme::BLUE, CI_ALPHA), "Confidence band"),
            (Swatch::Band(theme::SKY_BLUE, PI_ALPHA), "Prediction band"),
        ]);
    }
    legend.push((Swatch::Bubble, STUDY_LEGEND));
    let frame = frame(
        area.dim_in_pixel(),
        axis::padded(x_lo, x_hi, PAD, 1.0),
        axis::padded(y_lo, y_hi, PAD, 1.0),
        plot.scale,
        &legend,
        !plot.caption.is_empty(),
        theme,
    );

    area.fill(&theme::PAPER)?;
    draw_axes(
        area,
        &frame,
        EffectScale::Identity,
        (&plot.x_label, &plot.y_label),
        Grid::Both,
        theme,
    )?;

    draw_null_line(area, &frame, theme)?;

    if fitted.len() >= 2 {
        area.draw(&Polygon::new(
            band(&frame, &fitted, |p| (p.pi_lower, p.pi_upper)),
            theme::SKY_BLUE.mix(PI_ALPHA).filled(),
        ))?;
        area.draw(&Polygon::new(
            band(&frame, &fitted, |p| (p.ci_lower, p.ci_upper)),
            theme::BLUE.mix(CI_ALPHA).filled(),
        ))?;
        let line: Vec<(f64, f64)> = fitted
            .iter()
            .map(|f| (frame.x.to_pixel(f.x), frame.y.to_pixel(f.prediction.pred)))
            .collect();
        polyline(area, &line, theme::BLUE.stroke_width(theme.px(2.0)))?;
    }

    let radii = radii(&plot.weights, theme);
    let points: Vec<(usize, f64, f64)> = usable
        .iter()
        .map(|&i| (i, frame.x.to_pixel(plot.x[i]), frame.y.to_pixel(plot.y[i])))
        .collect();
    let marks = draw_bubbles(area, &points, &radii, highlight, theme)?;
    finish(area, &legend, &plot.caption, frame, marks, theme)
}

/// Draws the categorical variant onto `area`, filling it: per level, its studies as bubbles on
/// the left and its estimate with confidence interval (thick bar) and prediction interval
/// (thin bar) on the right; `highlight` is a study index drawn with a ring.
///
/// The layout's horizontal axis maps level i to data value i.
///
/// # Errors
/// [`PlotError::LengthMismatch`], [`PlotError::IndexOutOfRange`] when a study's level is not
/// among `levels`, [`PlotError::NoData`] without levels, or a backend failure.
pub fn draw_categories<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &CategoryPlot,
    theme: &Theme,
    highlight: Option<usize>,
) -> Result<PlotLayout, PlotError>
where
    DB::ErrorType: 'static,
{
    let k = plot.y.len();
    check_lengths(
        k,
        &[
            ("levels", plot.level_of.len()),
            ("weights", plot.weights.len()),
        ],
    )?;
    let n = plot.levels.len();
    if n == 0 {
        return Err(PlotError::NoData);
    }
    if let Some(&index) = plot.level_of.iter().find(|&&l| l >= n) {
        return Err(PlotError::IndexOutOfRange { index, len: n });
    }
    let usable: Vec<usize> = (0..k)
        .filter(|&i| plot.y[i].is_finite() && plot.weights[i].is_finite())
        .collect();
    let y_values = usable
        .iter()
        .map(|&i| plot.y[i])
        .chain(plot.levels.iter().flat_map(|l| {
            [
                l.prediction.pi_lower,
                l.prediction.pi_upper,
                l.prediction.pred,
            ]
        }));
    let (y_lo, y_hi) = axis::extent(y_values).ok_or(PlotError::NoData)?;
    let legend = [
        (Swatch::Line(theme::INK), "Estimate and CI"),
        (Swatch::Line(theme::VERMILLION), "Prediction interval"),
        (Swatch::Bubble, STUDY_LEGEND),
    ];
    // Level i sits at data value i; half a slot of room either side.
    let frame = frame(
        area.dim_in_pixel(),
        (-0.5, n as f64 - 0.5),
        axis::padded(y_lo, y_hi, PAD, 1.0),
        plot.scale,
        &legend,
        !plot.caption.is_empty(),
        theme,
    );

    area.fill(&theme::PAPER)?;
    let level_ticks: Vec<Tick> = plot
        .levels
        .iter()
        .enumerate()
        .map(|(i, l)| Tick {
            value: i as f64,
            label: l.name.clone(),
        })
        .collect();
    axis::draw_y_axis(
        area,
        &frame.y,
        &frame.y_ticks,
        frame.left,
        Some((frame.left, frame.right)),
        &plot.y_label,
        theme,
    )?;
    axis::draw_x_axis(
        area,
        &frame.x,
        &level_ticks,
        frame.bottom,
        None,
        &plot.x_label,
        theme,
    )?;
    draw_null_line(area, &frame, theme)?;

    let slot = (frame.right - frame.left) / n as f64;
    for (i, level) in plot.levels.iter().enumerate() {
        let x = frame.x.to_pixel(i as f64 + 0.2);
        let p = &level.prediction;
        let (pi_lo, pi_hi) = (frame.y.to_pixel(p.pi_lower), frame.y.to_pixel(p.pi_upper));
        let (ci_lo, ci_hi) = (frame.y.to_pixel(p.ci_lower), frame.y.to_pixel(p.ci_upper));
        polyline(
            area,
            &[(x, pi_lo), (x, pi_hi)],
            theme::VERMILLION.stroke_width(theme.px(1.0)),
        )?;
        polyline(
            area,
            &[(x, ci_lo), (x, ci_hi)],
            theme::INK.stroke_width(theme.px(CI_WIDTH)),
        )?;
        let centre = px(x, frame.y.to_pixel(p.pred));
        area.draw(&Circle::new(
            centre,
            theme.px(ESTIMATE_RADIUS) as i32,
            theme::INK.filled(),
        ))?;
    }

    // Studies of a level spread evenly over the left part of its slot, so they do not hide
    // each other; the position within the slot carries no meaning.
    let radii = radii(&plot.weights, theme);
    let mut seen = vec![0usize; n];
    let counts: Vec<usize> = (0..n)
        .map(|l| usable.iter().filter(|&&i| plot.level_of[i] == l).count())
        .collect();
    let points: Vec<(usize, f64, f64)> = usable
        .iter()
        .map(|&i| {
            let l = plot.level_of[i];
            let rank = seen[l] as f64;
            seen[l] += 1;
            let spread = (rank + 0.5) / counts[l] as f64;
            let x = frame.x.to_pixel(l as f64 - 0.35) + spread * 0.45 * slot;
            (i, x, frame.y.to_pixel(plot.y[i]))
        })
        .collect();
    let marks = draw_bubbles(area, &points, &radii, highlight, theme)?;
    finish(area, &legend, &plot.caption, frame, marks, theme)
}
