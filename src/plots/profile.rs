//! The profile-likelihood plot of τ² (metafor: `profile(res)`): the (restricted)
//! log-likelihood over a grid of τ² with β profiled out, its maximum at τ̂² marked, the line
//! χ²₁,level / 2 below the maximum, and the two confidence intervals of τ² marked and named in
//! the legend: the profile-likelihood interval (where the curve crosses that line) and the
//! Q-profile interval. The curve and both intervals come from `analysis::profile`; nothing
//! is computed here but pixels.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis;
use super::paint::{dashed, label, polyline, px};
use super::panel::{check_lengths, finish, plain_panel, Grid, Swatch};
use super::theme::{self, Theme};
use super::PlotError;

/// Share of the range added on each side.
const PAD: f64 = 0.06;
/// Radius of the maximum's dot, in layout pixels.
const DOT_RADIUS: f64 = 5.0;
/// Length of a dash of the threshold and the Q-profile bounds, in layout pixels.
const DASH: f64 = 6.0;
/// Gap between the maximum's dot and its label, in layout pixels.
const LABEL_GAP: f64 = 8.0;

/// What the profile plot shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProfilePlot {
    /// τ² at each grid point, increasing.
    pub tau2: Vec<f64>,
    /// The log-likelihood at each grid point.
    pub log_likelihood: Vec<f64>,
    /// τ̂² and the maximised log-likelihood.
    pub maximum: (f64, f64),
    /// The label beside the maximum, e.g. "τ̂² = 0.3132".
    pub maximum_label: String,
    /// The log-likelihood the profile-likelihood bounds lie on.
    pub threshold: f64,
    /// The profile-likelihood interval of τ².
    pub profile_ci: [f64; 2],
    /// Its legend entry, e.g. "95% profile-likelihood CI 0.1153 to 0.9647".
    pub profile_label: String,
    /// The Q-profile interval of τ², if any.
    pub q_profile_ci: Option<[f64; 2]>,
    /// Its legend entry.
    pub q_profile_label: String,
    /// Title of the horizontal axis.
    pub x_label: String,
    /// Title of the vertical axis.
    pub y_label: String,
    /// A line under the plot (what the dashed line is), or empty.
    pub caption: String,
}

/// Draws `plot` onto `area`, filling it. Grid points with a value that is not finite are left
/// out of the curve.
///
/// # Errors
/// [`PlotError::LengthMismatch`] when `log_likelihood` does not have one value per grid
/// point, [`PlotError::NoData`] for fewer than two usable points, or a backend failure.
pub fn draw_profile<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &ProfilePlot,
    theme: &Theme,
) -> Result<super::PlotLayout, PlotError>
where
    DB::ErrorType: 'static,
{
    check_lengths(
        plot.tau2.len(),
        &[("log-likelihoods", plot.log_likelihood.len())],
    )?;
    let curve: Vec<(f64, f64)> = plot
        .tau2
        .iter()
        .zip(&plot.log_likelihood)
        .filter(|(t, l)| t.is_finite() && l.is_finite())
        .map(|(&t, &l)| (t, l))
        .collect();
    if curve.len() < 2 {
        return Err(PlotError::NoData);
    }
    let bounds = plot
        .profile_ci
        .iter()
        .chain(plot.q_profile_ci.iter().flatten());
    let xs = curve
        .iter()
        .map(|p| p.0)
        .chain(bounds.copied())
        .chain([plot.maximum.0]);
    let (x_lo, x_hi) = axis::extent(xs).unwrap_or((0.0, 1.0));
    let (x_lo, x_hi) = axis::padded(x_lo, x_hi, PAD, 1.0);
    // τ² is never negative: the axis stops at 0.
    let x_range = (x_lo.max(0.0), x_hi);
    let ys = curve
        .iter()
        .map(|p| p.1)
        .chain([plot.maximum.1, plot.threshold]);
    let (y_lo, y_hi) = axis::extent(ys).unwrap_or((-1.0, 0.0));
    let y_range = axis::padded(y_lo, y_hi, PAD, 1.0);

    let mut legend: Vec<(Swatch, &str)> = vec![
        (Swatch::Line(theme::BLUE), "Profile log-likelihood"),
        (Swatch::Dot, "Maximum"),
        (Swatch::Line(theme::VERMILLION), &plot.profile_label),
    ];
    if plot.q_profile_ci.is_some() {
        legend.push((Swatch::Line(theme::BLUISH_GREEN), &plot.q_profile_label));
    }
    let frame = plain_panel(
        area,
        (x_range, y_range),
        &legend,
        !plot.caption.is_empty(),
        (&plot.x_label, &plot.y_label),
        Grid::Both,
        theme,
    )?;
    let at = |(t, l): (f64, f64)| (frame.x.to_pixel(t), frame.y.to_pixel(l));
    let dash = theme.len(DASH);

    // The line the profile-likelihood bounds lie on, across the plot.
    let threshold = frame.y.to_pixel(plot.threshold);
    let muted = theme::MUTED.stroke_width(theme.px(1.5));
    dashed(
        area,
        (frame.left, threshold),
        (frame.right, threshold),
        dash,
        muted,
    )?;
    // The Q-profile bounds: dashed, the height of the plot (they are not on the curve).
    if let Some(q) = plot.q_profile_ci {
        let green = theme::BLUISH_GREEN.stroke_width(theme.px(2.0));
        for bound in q {
            let x = frame.x.to_pixel(bound);
            dashed(area, (x, frame.top), (x, frame.bottom), dash, green)?;
        }
    }
    // The profile-likelihood interval: along the threshold between the crossings, and down
    // from each crossing to the axis.
    let [lower, upper] = plot.profile_ci.map(|b| frame.x.to_pixel(b));
    let red = theme::VERMILLION.stroke_width(theme.px(2.5));
    polyline(area, &[(lower, threshold), (upper, threshold)], red)?;
    for x in [lower, upper] {
        polyline(area, &[(x, threshold), (x, frame.bottom)], red)?;
    }

    let line: Vec<(f64, f64)> = curve.iter().map(|&p| at(p)).collect();
    polyline(area, &line, theme::BLUE.stroke_width(theme.px(2.0)))?;

    let top = at(plot.maximum);
    let radius = theme.len(DOT_RADIUS).round() as i32;
    area.draw(&Circle::new(px(top.0, top.1), radius, theme::INK.filled()))?;
    let gap = theme.len(DOT_RADIUS + LABEL_GAP);
    // Beside the dot, on the side with more room.
    let (x, anchor) = if top.0 - frame.left > frame.right - top.0 {
        (top.0 - gap, HPos::Right)
    } else {
        (top.0 + gap, HPos::Left)
    };
    label(
        area,
        &plot.maximum_label,
        (x, top.1 + gap),
        &theme.text(theme::SMALL_SIZE, theme::INK),
        (anchor, VPos::Top),
    )?;
    finish(area, &legend, &plot.caption, frame, Vec::new(), theme)
}
