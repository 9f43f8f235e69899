//! The bubble plot: each study's effect size against a moderator, the bubble's area
//! proportional to the study's weight in the model, so the studies that drive the fit stand out.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::theme::{self, Theme};
use super::PlotError;

/// What a bubble plot shows: one bubble per study.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BubblePlot {
    /// Moderator value per study (horizontal axis).
    pub x: Vec<f64>,
    /// Effect size per study (vertical axis).
    pub y: Vec<f64>,
    /// Weight per study; a bubble's area is proportional to it.
    pub weights: Vec<f64>,
    /// Caption of the horizontal axis (the moderator).
    pub x_label: String,
    /// Caption of the vertical axis (the effect measure).
    pub y_label: String,
}

/// Largest bubble radius, in layout pixels.
const MAX_RADIUS: f64 = 18.0;
/// Smallest bubble radius, so that a study with a tiny weight stays visible.
const MIN_RADIUS: f64 = 2.5;

/// Draws `plot` onto `area`, filling it.
///
/// Studies whose coordinates or weight are not finite are left out; if none is left,
/// [`PlotError::NoData`].
pub fn draw_bubble<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &BubblePlot,
    theme: &Theme,
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    let points: Vec<(f64, f64, f64)> = plot
        .x
        .iter()
        .zip(&plot.y)
        .zip(&plot.weights)
        .map(|((&x, &y), &w)| (x, y, w))
        .filter(|(x, y, w)| x.is_finite() && y.is_finite() && w.is_finite() && *w > 0.0)
        .collect();
    if points.is_empty() {
        return Err(PlotError::NoData);
    }
    let x_range = padded_range(points.iter().map(|p| p.0));
    let y_range = padded_range(points.iter().map(|p| p.1));
    let max_weight = points.iter().map(|p| p.2).fold(0.0, f64::max);

    area.fill(&WHITE)?;
    let font_size = f64::from(theme.px(14.0));
    let mut chart = ChartBuilder::on(area)
        .margin(theme.px(16.0))
        .x_label_area_size(theme.px(44.0))
        .y_label_area_size(theme.px(64.0))
        .build_cartesian_2d(x_range, y_range)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(theme::GRID)
        .x_labels(8)
        .y_labels(8)
        .x_label_formatter(&|v| tick_label(*v))
        .y_label_formatter(&|v| tick_label(*v))
        .axis_style(theme::INK)
        .x_desc(plot.x_label.as_str())
        .y_desc(plot.y_label.as_str())
        .label_style((theme.font, font_size).into_font().color(&theme::INK))
        .axis_desc_style((theme.font, font_size).into_font().color(&theme::INK))
        .draw()?;

    // The line of no effect (0 on the log or difference scale), when it is in view.
    let (x_lo, x_hi) = (chart.x_range().start, chart.x_range().end);
    if chart.y_range().contains(&0.0) {
        chart.draw_series(LineSeries::new(
            [(x_lo, 0.0), (x_hi, 0.0)],
            theme::INK.stroke_width(theme.px(1.0)),
        ))?;
    }

    let max_radius = f64::from(theme.px(MAX_RADIUS));
    let min_radius = f64::from(theme.px(MIN_RADIUS));
    // Area ∝ weight, so the radius grows with the square root of the weight.
    let bubbles: Vec<((f64, f64), i32)> = points
        .iter()
        .map(|&(x, y, w)| {
            let radius = (max_radius * (w / max_weight).sqrt()).max(min_radius);
            ((x, y), radius.round() as i32)
        })
        .collect();
    chart.draw_series(
        bubbles
            .iter()
            .map(|&(centre, r)| Circle::new(centre, r, theme::BLUE.mix(0.35).filled())),
    )?;
    chart.draw_series(
        bubbles
            .iter()
            .map(|&(centre, r)| Circle::new(centre, r, theme::BLUE.stroke_width(theme.px(1.0)))),
    )?;
    area.present()?;
    Ok(())
}

/// The range of `values` widened by 8 % on each side (or by 1 when all values are equal), so
/// that bubbles at the extremes are not cut by the axes.
fn padded_range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let pad = if hi > lo { 0.08 * (hi - lo) } else { 1.0 };
    (lo - pad)..(hi + pad)
}

/// A tick label without trailing zeros: `10`, `-0.5`, `0.25`.
fn tick_label(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}
