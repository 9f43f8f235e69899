//! The picture of a location-scale model's scale part: each study's τ²ᵢ = exp(zᵢ'α̂) against a
//! numeric scale moderator, with the fitted τ² and its confidence band (metafor:
//! `predict(res, newscale = …, transf = exp)`), so that "does heterogeneity grow with this
//! characteristic?" can be seen as well as read from QS.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis;
use super::layout::{Mark, PlotLayout};
use super::paint::{polyline, px};
use super::panel::{check_lengths, finish, plain_panel, Grid, Swatch};
use super::theme::{self, Theme};
use super::PlotError;

/// Radius of a study's dot, in layout pixels.
const DOT_RADIUS: f64 = 4.0;
/// Smallest hover target around a dot (half its side).
const MIN_TARGET: f64 = 6.0;
/// Gap between a highlighted dot and the ring drawn around it.
const RING_GAP: f64 = 3.0;
/// Share of the range added on each side so dots at the extremes stay inside the frame.
const PAD: f64 = 0.06;
/// Opacity of the confidence band.
const CI_ALPHA: f64 = 0.28;

/// The fitted τ² at one value of the scale moderator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tau2Point {
    /// The moderator value.
    pub x: f64,
    /// τ² there.
    pub tau2: f64,
    /// Lower confidence bound.
    pub lower: f64,
    /// Upper confidence bound.
    pub upper: f64,
}

/// What the scale plot shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScalePlot {
    /// Scale moderator value per study (horizontal axis).
    pub x: Vec<f64>,
    /// τ²ᵢ per study (vertical axis).
    pub tau2: Vec<f64>,
    /// The fitted τ² on a grid of moderator values, in increasing order; empty for no curve.
    pub fitted: Vec<Tau2Point>,
    /// Caption of the horizontal axis (the scale moderator).
    pub x_label: String,
    /// Caption of the vertical axis.
    pub y_label: String,
    /// The legend's name of the band, e.g. "95% confidence band".
    pub band_label: String,
    /// A line under the plot, e.g. where other scale moderators are held.
    pub caption: String,
}

/// Draws `plot` onto `area`, filling it; `highlight` is a study index drawn with a ring.
/// Studies and grid points with a value that is not finite are left out.
///
/// # Errors
/// [`PlotError::LengthMismatch`] when `tau2` does not have one value per `x`,
/// [`PlotError::NoData`] when no study can be drawn, or a backend failure.
pub fn draw_scale<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &ScalePlot,
    theme: &Theme,
    highlight: Option<usize>,
) -> Result<PlotLayout, PlotError>
where
    DB::ErrorType: 'static,
{
    let k = plot.x.len();
    check_lengths(k, &[("τ² values", plot.tau2.len())])?;
    let usable: Vec<usize> = (0..k)
        .filter(|&i| plot.x[i].is_finite() && plot.tau2[i].is_finite())
        .collect();
    if usable.is_empty() {
        return Err(PlotError::NoData);
    }
    let fitted: Vec<Tau2Point> = plot
        .fitted
        .iter()
        .filter(|p| {
            [p.x, p.tau2, p.lower, p.upper]
                .iter()
                .all(|v| v.is_finite())
        })
        .copied()
        .collect();
    let x_values = usable
        .iter()
        .map(|&i| plot.x[i])
        .chain(fitted.iter().map(|p| p.x));
    // τ² is never negative: the axis starts at 0, so the band's width reads against it.
    let y_values = usable
        .iter()
        .map(|&i| plot.tau2[i])
        .chain(fitted.iter().flat_map(|p| [p.lower, p.upper]))
        .chain([0.0]);
    let (x_lo, x_hi) = axis::extent(x_values).unwrap_or((0.0, 1.0));
    let (_, y_hi) = axis::extent(y_values).unwrap_or((0.0, 1.0));
    let mut legend = Vec::new();
    if fitted.len() >= 2 {
        legend.extend([
            (Swatch::Line(theme::BLUE), "Fitted \u{3c4}\u{b2}"),
            (
                Swatch::Band(theme::BLUE, CI_ALPHA),
                plot.band_label.as_str(),
            ),
        ]);
    }
    legend.push((Swatch::Dot, "Study's \u{3c4}\u{b2}"));
    let (_, y_top) = axis::padded(0.0, y_hi, PAD, 1.0);
    let frame = plain_panel(
        area,
        (axis::padded(x_lo, x_hi, PAD, 1.0), (0.0, y_top)),
        &legend,
        !plot.caption.is_empty(),
        (&plot.x_label, &plot.y_label),
        Grid::Both,
        theme,
    )?;

    if fitted.len() >= 2 {
        let upper = fitted
            .iter()
            .map(|p| px(frame.x.to_pixel(p.x), frame.y.to_pixel(p.upper)));
        let lower = fitted
            .iter()
            .rev()
            .map(|p| px(frame.x.to_pixel(p.x), frame.y.to_pixel(p.lower)));
        area.draw(&Polygon::new(
            upper.chain(lower).collect::<Vec<_>>(),
            theme::BLUE.mix(CI_ALPHA).filled(),
        ))?;
        let line: Vec<(f64, f64)> = fitted
            .iter()
            .map(|p| (frame.x.to_pixel(p.x), frame.y.to_pixel(p.tau2)))
            .collect();
        polyline(area, &line, theme::BLUE.stroke_width(theme.px(2.0)))?;
    }

    let radius = theme.len(DOT_RADIUS);
    let mut marks = Vec::with_capacity(usable.len());
    for &i in &usable {
        let centre = (frame.x.to_pixel(plot.x[i]), frame.y.to_pixel(plot.tau2[i]));
        let at = px(centre.0, centre.1);
        area.draw(&Circle::new(at, radius.round() as i32, theme::INK.filled()))?;
        if highlight == Some(i) {
            let ring = (radius + theme.len(RING_GAP)).round() as i32;
            area.draw(&Circle::new(
                at,
                ring,
                theme::INK.stroke_width(theme.px(2.0)),
            ))?;
        }
        marks.push(Mark::circle(i, centre, radius, theme.len(MIN_TARGET)));
    }
    finish(area, &legend, &plot.caption, frame, marks, theme)
}
