//! A scatter of one dot per study with straight reference lines: the Sensitivity view's
//! normal Q–Q plot of the standardized residuals (metafor's `qqnorm`, against the line
//! y = x) and radial (Galbraith) plot (metafor's `radial`: standardized effect against
//! precision, the line through the origin whose slope is the pooled estimate, and the band
//! ±crit around it). The points and lines come from `analysis::residual_plots` through
//! `plots::inputs`; nothing is computed here but pixels.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis;
use super::layout::{Mark, PlotLayout};
use super::paint::{dashed, polyline, px};
use super::panel::{check_lengths, finish, finite_points, plain_panel, Grid, Swatch};
use super::theme::{self, Theme};
use super::PlotError;

/// Radius of a study's dot, in layout pixels.
const DOT_RADIUS: f64 = 4.0;
/// Smallest hover target around a dot (half its side).
const MIN_TARGET: f64 = 6.0;
/// Gap between a highlighted dot and the ring drawn around it.
const RING_GAP: f64 = 3.0;
/// Share of the range added on each side.
const PAD: f64 = 0.06;
/// Length of a dash of a dashed line and of the gap after it, in layout pixels.
const DASH: f64 = 6.0;

/// A straight line y = intercept + slope·x across the plotting region.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceLine {
    /// Where it crosses x = 0.
    pub intercept: f64,
    /// Its slope.
    pub slope: f64,
    /// Drawn dashed (a band's edge) rather than solid.
    pub dashed: bool,
    /// What it is, for the legend; lines with the same name share one entry.
    pub name: String,
}

/// What a scatter plot shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScatterPlot {
    /// Horizontal coordinate of each study.
    pub x: Vec<f64>,
    /// Vertical coordinate of each study (a study with a coordinate that is not finite gets
    /// no mark).
    pub y: Vec<f64>,
    /// Study labels.
    pub labels: Vec<String>,
    /// Reference lines, drawn under the dots.
    pub lines: Vec<ReferenceLine>,
    /// Title of the horizontal axis.
    pub x_label: String,
    /// Title of the vertical axis.
    pub y_label: String,
    /// Whether the horizontal axis starts at 0 (the radial plot's precision).
    pub x_from_zero: bool,
    /// A line under the axis title (what the lines are), or empty.
    pub caption: String,
}

/// The ends of `line` across `(x0, x1)`.
fn ends(line: &ReferenceLine, (x0, x1): (f64, f64)) -> [(f64, f64); 2] {
    [
        (x0, line.intercept + line.slope * x0),
        (x1, line.intercept + line.slope * x1),
    ]
}

/// Draws `plot` onto `area`, filling it; `highlight` is a study index drawn with a ring.
///
/// # Errors
/// [`PlotError::LengthMismatch`] when `y` or `labels` do not have one entry per `x`,
/// [`PlotError::NoData`] when no study can be drawn, or a backend failure.
pub fn draw_scatter<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &ScatterPlot,
    theme: &Theme,
    highlight: Option<usize>,
) -> Result<PlotLayout, PlotError>
where
    DB::ErrorType: 'static,
{
    let k = plot.x.len();
    check_lengths(
        k,
        &[("y values", plot.y.len()), ("labels", plot.labels.len())],
    )?;
    let usable = finite_points(&plot.x, &plot.y)?;
    let xs = usable.iter().map(|&i| plot.x[i]);
    let zero = plot.x_from_zero.then_some(0.0);
    let (x_lo, x_hi) = axis::extent(xs.chain(zero)).unwrap_or((-1.0, 1.0));
    let (x_lo, x_hi) = axis::padded(x_lo, x_hi, PAD, 1.0);
    let x_range = (if plot.x_from_zero { 0.0 } else { x_lo }, x_hi);
    // The lines' ends count toward the vertical range, so a band is seen whole.
    let line_ys = plot
        .lines
        .iter()
        .flat_map(|l| ends(l, x_range).map(|(_, y)| y));
    let ys = usable.iter().map(|&i| plot.y[i]).chain(line_ys);
    let (y_lo, y_hi) = axis::extent(ys).unwrap_or((-1.0, 1.0));
    let y_range = axis::padded(y_lo, y_hi, PAD, 1.0);

    let mut legend: Vec<(Swatch, &str)> = vec![(Swatch::Dot, "Study")];
    for line in &plot.lines {
        if !legend.iter().any(|(_, n)| *n == line.name) {
            let colour = if line.dashed {
                theme::MUTED
            } else {
                theme::BLUE
            };
            legend.push((Swatch::Line(colour), &line.name));
        }
    }
    let frame = plain_panel(
        area,
        (x_range, y_range),
        &legend,
        !plot.caption.is_empty(),
        (&plot.x_label, &plot.y_label),
        Grid::None,
        theme,
    )?;
    // The vertical range holds every line's ends, so the lines stay inside the frame.
    for line in &plot.lines {
        let [(x0, y0), (x1, y1)] = ends(line, x_range);
        let a = (frame.x.to_pixel(x0), frame.y.to_pixel(y0));
        let b = (frame.x.to_pixel(x1), frame.y.to_pixel(y1));
        if line.dashed {
            let style = theme::MUTED.stroke_width(theme.px(1.5));
            dashed(area, a, b, theme.len(DASH), style)?;
        } else {
            polyline(area, &[a, b], theme::BLUE.stroke_width(theme.px(2.0)))?;
        }
    }
    let radius = theme.len(DOT_RADIUS);
    let mut marks = Vec::with_capacity(usable.len());
    for &i in &usable {
        let (x, y) = (frame.x.to_pixel(plot.x[i]), frame.y.to_pixel(plot.y[i]));
        area.draw(&Circle::new(
            px(x, y),
            radius.round() as i32,
            theme::INK.mix(0.85).filled(),
        ))?;
        marks.push(Mark::circle(i, (x, y), radius, theme.len(MIN_TARGET)));
    }
    if let Some(mark) = highlight.and_then(|h| marks.iter().find(|m| m.study == h)) {
        let ring = (radius + theme.len(RING_GAP)).round() as i32;
        area.draw(&Circle::new(
            px(mark.centre.0, mark.centre.1),
            ring,
            theme::INK.stroke_width(theme.px(2.0)),
        ))?;
    }
    finish(area, &legend, &plot.caption, frame, marks, theme)
}
