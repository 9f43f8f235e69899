//! The L'Abbé plot (L'Abbé, Detsky & O'Rourke, 1987), as metafor's `labbe` draws it: each
//! study's treatment-group outcome (vertical) against its control-group outcome (horizontal)
//! on the measure's scale, the point's area growing with the study's precision, the line of no
//! effect y = x (dashed) and the pooled estimate's line y = x + estimate. Studies above the
//! dashed line have more events under treatment. Both axes share one range, so the lines run
//! at 45°. The points come from `analysis::labbe` through `plots::inputs`.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis;
use super::layout::{Mark, PlotLayout};
use super::paint::{dashed, polyline, px};
use super::panel::{check_lengths, finish, finite_points, plain_panel, Grid, Swatch};
use super::theme::{self, Theme};
use super::PlotError;
use crate::stats::order::sort_indices_by;

/// Radius of a point of size 1, in layout pixels.
const DOT_RADIUS: f64 = 4.0;
/// Smallest hover target around a point (half its side).
const MIN_TARGET: f64 = 6.0;
/// Gap between a highlighted point and the ring drawn around it.
const RING_GAP: f64 = 3.0;
/// Share of the range added on each side.
const PAD: f64 = 0.06;
/// Length of a dash of the line of no effect and of the gap after it, in layout pixels.
const DASH: f64 = 6.0;

/// What a L'Abbé plot shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabbePlot {
    /// Control-group outcome of each study.
    pub x: Vec<f64>,
    /// Treatment-group outcome (a study with a coordinate that is not finite gets no mark).
    pub y: Vec<f64>,
    /// Point size of each study relative to a normal point.
    pub size: Vec<f64>,
    /// Study labels.
    pub labels: Vec<String>,
    /// The pooled estimate on the measure's scale: the offset of its line from y = x.
    pub estimate: f64,
    /// Title of the horizontal axis.
    pub x_label: String,
    /// Title of the vertical axis.
    pub y_label: String,
}

/// The part of y = x + offset inside the square `(lo, hi)`², if any.
fn diagonal((lo, hi): (f64, f64), offset: f64) -> Option<[(f64, f64); 2]> {
    let (x0, x1) = (lo.max(lo - offset), hi.min(hi - offset));
    (x1 > x0).then_some([(x0, x0 + offset), (x1, x1 + offset)])
}

/// Draws `plot` onto `area`, filling it; `highlight` is a study index drawn with a ring.
///
/// # Errors
/// [`PlotError::LengthMismatch`] when `y`, `size` or `labels` do not have one entry per `x`,
/// [`PlotError::NoData`] when no study can be drawn, or a backend failure.
pub fn draw_labbe<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &LabbePlot,
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
            ("treatment outcomes", plot.y.len()),
            ("sizes", plot.size.len()),
            ("labels", plot.labels.len()),
        ],
    )?;
    let mut usable = finite_points(&plot.x, &plot.y)?;
    let values = usable.iter().flat_map(|&i| [plot.x[i], plot.y[i]]);
    let (lo, hi) = axis::extent(values).unwrap_or((-1.0, 1.0));
    let range = axis::padded(lo, hi, PAD, 1.0);
    let legend = [
        (Swatch::Bubble, "Study (area: precision)"),
        (Swatch::Line(theme::MUTED), "No effect (y = x)"),
        (Swatch::Line(theme::BLUE), "Pooled estimate"),
    ];
    let frame = plain_panel(
        area,
        (range, range),
        &legend,
        false,
        (&plot.x_label, &plot.y_label),
        Grid::None,
        theme,
    )?;
    let to_pixel = |(x, y): (f64, f64)| (frame.x.to_pixel(x), frame.y.to_pixel(y));
    if let Some([a, b]) = diagonal(range, 0.0) {
        let style = theme::MUTED.stroke_width(theme.px(1.5));
        dashed(area, to_pixel(a), to_pixel(b), theme.len(DASH), style)?;
    }
    if let Some([a, b]) = diagonal(range, plot.estimate) {
        polyline(
            area,
            &[to_pixel(a), to_pixel(b)],
            theme::BLUE.stroke_width(theme.px(2.0)),
        )?;
    }
    // The largest points first, so that small ones on top of them stay in sight.
    sort_indices_by(&mut usable, &|a, b| plot.size[b].total_cmp(&plot.size[a]));
    let mut marks = Vec::with_capacity(usable.len());
    for &i in &usable {
        let (x, y) = to_pixel((plot.x[i], plot.y[i]));
        let radius = theme.len(DOT_RADIUS * plot.size[i].max(0.0));
        let r = radius.round().max(1.0) as i32;
        area.draw(&Circle::new(px(x, y), r, theme::BLUE.mix(0.3).filled()))?;
        area.draw(&Circle::new(
            px(x, y),
            r,
            theme::BLUE.stroke_width(theme.px(1.0)),
        ))?;
        marks.push(Mark::circle(i, (x, y), radius, theme.len(MIN_TARGET)));
    }
    marks.sort_by_key(|m| m.study);
    if let Some(mark) = highlight.and_then(|h| marks.iter().find(|m| m.study == h)) {
        let radius = theme.len(DOT_RADIUS * plot.size[mark.study].max(0.0));
        let ring = (radius + theme.len(RING_GAP)).round() as i32;
        area.draw(&Circle::new(
            px(mark.centre.0, mark.centre.1),
            ring,
            theme::INK.stroke_width(theme.px(2.0)),
        ))?;
    }
    finish(area, &legend, "", frame, marks, theme)
}
