//! The ecological-bias lab's plot: each simulated trial's effect against its participants'
//! mean score, the bubble's area proportional to its weight in the across-trial
//! meta-regression, with up to three lines over them — the across-trial fit, the
//! individual-level truth and the within-trial estimate — each in its own colour and dash so
//! that they read apart without colour too. The lines come from `analysis::lab`; nothing is
//! computed here but pixels.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis;
use super::layout::{Mark, PlotLayout};
use super::paint::{area_scaled, polyline, usable_weight};
use super::panel::{
    check_lengths, draw_null_line, finish, finite_points, plain_panel, Grid, Swatch,
};
use super::theme::{self, Theme};
use super::PlotError;

/// Largest bubble radius, in layout pixels.
const MAX_RADIUS: f64 = 16.0;
/// Smallest bubble radius.
const MIN_RADIUS: f64 = 2.5;
/// Smallest hover target around a bubble (half its side).
const MIN_TARGET: f64 = 5.0;
/// Share of the range added on each side.
const PAD: f64 = 0.06;
/// Dash and gap of a dashed line, in layout pixels.
const DASH: f64 = 7.0;

/// Which of the lab's lines a line is: its colour and dash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabLineKind {
    /// The across-trial meta-regression (solid vermillion).
    Across,
    /// The individual-level truth (dashed ink).
    Truth,
    /// The within-trial estimate (solid bluish green).
    Within,
}

impl LabLineKind {
    fn colour(self) -> RGBColor {
        match self {
            Self::Across => theme::VERMILLION,
            Self::Truth => theme::INK,
            Self::Within => theme::BLUISH_GREEN,
        }
    }
}

/// One line: points in data units, ascending in x.
#[derive(Debug, Clone, PartialEq)]
pub struct LabLine {
    /// Which line.
    pub kind: LabLineKind,
    /// Its legend entry.
    pub name: String,
    /// Points (x, y).
    pub points: Vec<(f64, f64)>,
}

/// What the lab's plot shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabPlot {
    /// Mean score per trial.
    pub x: Vec<f64>,
    /// Effect per trial.
    pub y: Vec<f64>,
    /// Weight per trial in the across-trial model.
    pub weights: Vec<f64>,
    /// The lines, drawn over the bubbles in order.
    pub lines: Vec<LabLine>,
    /// Title of the horizontal axis.
    pub x_label: String,
    /// Title of the vertical axis.
    pub y_label: String,
    /// A line under the plot, or empty.
    pub caption: String,
}

/// Draws `plot` onto `area`, filling it; `highlight` is a trial drawn with a ring.
///
/// # Errors
/// [`PlotError::LengthMismatch`] when `y` or `weights` do not have one value per `x`,
/// [`PlotError::NoData`] when no trial can be drawn, or a backend failure.
pub fn draw_lab<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &LabPlot,
    theme: &Theme,
    highlight: Option<usize>,
) -> Result<PlotLayout, PlotError>
where
    DB::ErrorType: 'static,
{
    let k = plot.x.len();
    check_lengths(
        k,
        &[("y values", plot.y.len()), ("weights", plot.weights.len())],
    )?;
    let usable = finite_points(&plot.x, &plot.y)?;
    let line_points = || {
        plot.lines
            .iter()
            .flat_map(|l| l.points.iter().copied())
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    };
    let xs = usable.iter().map(|&i| plot.x[i]);
    let (x_lo, x_hi) = axis::extent(xs).unwrap_or((0.0, 1.0));
    let x_range = axis::padded(x_lo, x_hi, PAD, 1.0);
    let ys = usable
        .iter()
        .map(|&i| plot.y[i])
        .chain(line_points().map(|(_, y)| y));
    let (y_lo, y_hi) = axis::extent(ys).unwrap_or((-1.0, 1.0));
    let y_range = axis::padded(y_lo, y_hi, PAD, 1.0);

    let mut legend: Vec<(Swatch, &str)> = vec![(Swatch::Dot, "Trial (area \u{221d} weight)")];
    legend.extend(
        plot.lines
            .iter()
            .map(|l| (Swatch::Line(l.kind.colour()), l.name.as_str())),
    );
    let frame = plain_panel(
        area,
        (x_range, y_range),
        &legend,
        !plot.caption.is_empty(),
        (&plot.x_label, &plot.y_label),
        Grid::Both,
        theme,
    )?;
    draw_null_line(area, &frame, theme)?;

    let max_weight = plot
        .weights
        .iter()
        .copied()
        .map(usable_weight)
        .fold(0.0, f64::max);
    let mut marks = Vec::with_capacity(usable.len());
    for &i in &usable {
        let r = area_scaled(
            plot.weights[i],
            max_weight,
            theme.len(MAX_RADIUS),
            theme.len(MIN_RADIUS),
        );
        let (x, y) = (frame.x.to_pixel(plot.x[i]), frame.y.to_pixel(plot.y[i]));
        let centre = super::paint::px(x, y);
        area.draw(&Circle::new(
            centre,
            r.round() as i32,
            theme::SKY_BLUE.mix(0.35).filled(),
        ))?;
        let ring = if highlight == Some(i) {
            theme::INK.stroke_width(theme.px(2.5))
        } else {
            theme::BLUE.stroke_width(theme.px(1.0))
        };
        area.draw(&Circle::new(centre, r.round() as i32, ring))?;
        marks.push(Mark::circle(i, (x, y), r, theme.len(MIN_TARGET)));
    }
    for line in &plot.lines {
        let pixels: Vec<(f64, f64)> = line
            .points
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|&(x, y)| (frame.x.to_pixel(x), frame.y.to_pixel(y)))
            .collect();
        let style = line.kind.colour().stroke_width(theme.px(2.5));
        if line.kind == LabLineKind::Truth {
            dashed(area, &pixels, style, theme)?;
        } else {
            polyline(area, &pixels, style)?;
        }
    }
    finish(area, &legend, &plot.caption, frame, marks, theme)
}

/// A dashed polyline through `points` (backend pixels): dashes of [`DASH`] along its length.
fn dashed<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    points: &[(f64, f64)],
    style: ShapeStyle,
    theme: &Theme,
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    let dash = theme.len(DASH);
    // Distance along the line at which the current dash or gap ends, and whether it is a dash.
    let (mut left, mut on) = (dash, true);
    for pair in points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let length = (b.0 - a.0).hypot(b.1 - a.1);
        if !length.is_finite() || length <= 0.0 {
            continue;
        }
        let at = |t: f64| (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
        let mut start = 0.0;
        while start < length {
            let end = (start + left).min(length);
            if on {
                polyline(area, &[at(start / length), at(end / length)], style)?;
            }
            left -= end - start;
            if left <= 0.0 {
                left = dash;
                on = !on;
            }
            start = end;
        }
    }
    Ok(())
}
