//! The funnel plot: each study's effect size against its standard error, the most precise
//! studies at the top, inside the pseudo-confidence region where they would fall without
//! heterogeneity or small-study effects. Optionally contour-enhanced (Peters et al., 2008):
//! shading marks where a study's own test would be significant at p < .10, .05 and .01, so
//! asymmetry from missing non-significant studies can be told from other causes. Egger's
//! regression test, computed by the caller with `Fit::regtest`, is drawn as its fitted line
//! and reported.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{self, EffectScale};
use super::layout::{Mark, PlotLayout};
use super::paint::{polyline, px};
use super::panel::{check_lengths, draw_axes, finish, frame, Grid, Swatch};
use super::theme::{self, Theme};
use super::PlotError;
use crate::format::{p_journal, signed};
use crate::stats::regtest::Regtest;

/// Two-sided standard normal critical value at p = .10.
const Z_10: f64 = 1.644_853_626_951_472_2;
/// … at p = .05 (also the half-width of the 95 % pseudo-confidence region, in standard errors).
const Z_05: f64 = 1.959_963_984_540_054;
/// … at p = .01.
const Z_01: f64 = 2.575_829_303_548_900_4;
/// Radius of a study's dot, in layout pixels.
const DOT_RADIUS: f64 = 4.0;
/// Smallest hover target around a dot (half its side).
const MIN_TARGET: f64 = 6.0;
/// Gap between a highlighted dot and the ring drawn around it.
const RING_GAP: f64 = 3.0;
/// Share of the range added on each side.
const PAD: f64 = 0.04;
/// Decimals of printed statistics.
const DIGITS: usize = 2;
/// Shade of the contour-enhanced funnel where p < .01: darker is more significant (grey
/// levels, so they read the same to every reader and in print).
const SHADE_01: RGBColor = RGBColor(160, 164, 170);
/// Shade where .01 ≤ p < .05.
const SHADE_05: RGBColor = RGBColor(196, 199, 204);
/// Shade where .05 ≤ p < .10.
const SHADE_10: RGBColor = RGBColor(229, 231, 235);
/// Fill of the pseudo-confidence region when the funnel is not contour-enhanced.
const REGION: RGBColor = RGBColor(238, 241, 246);

/// What a funnel plot shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FunnelPlot {
    /// Effect size per study on the fitted scale.
    pub yi: Vec<f64>,
    /// Standard error per study, √vᵢ.
    pub sei: Vec<f64>,
    /// The pooled estimate the pseudo-confidence region is centred at (usually that of the
    /// model without moderators).
    pub estimate: f64,
    /// Shade the regions where a study would be significant at p < .10, .05, .01 (centred at
    /// the null effect, 0 on the fitted scale).
    pub contours: bool,
    /// Egger's test of the same model, drawn as its line (when it has a limit estimate, i.e.
    /// the model has no moderators) and reported under the plot.
    pub egger: Option<Regtest>,
    /// Caption of the horizontal axis (the effect measure).
    pub x_label: String,
    /// Horizontal axis as fitted or back-transformed.
    pub scale: EffectScale,
}

/// "Egger's test: z = −0.80, p = 0.4218; limit estimate 0.60 [0.33, 1.10]".
fn egger_text(egger: &Regtest, scale: EffectScale) -> String {
    let statistic = match egger.df {
        Some(df) => format!("t({df})"),
        None => "z".to_owned(),
    };
    let mut text = format!(
        "Egger's test: {statistic} = {}, {}",
        signed(egger.slope.statistic, DIGITS),
        p_journal(egger.slope.p_value)
    );
    if let Some(limit) = &egger.limit {
        text.push_str(&format!(
            "; limit estimate {} [{}, {}]",
            scale.format(limit.estimate, DIGITS),
            scale.format(limit.ci_lower, DIGITS),
            scale.format(limit.ci_upper, DIGITS)
        ));
    }
    text
}

/// Draws `plot` onto `area`, filling it; `highlight` is a study index drawn with a ring.
///
/// Studies whose effect or standard error is not finite, or whose standard error is negative,
/// are left out (they get no mark).
///
/// # Errors
/// [`PlotError::LengthMismatch`] when `sei` does not have one value per `yi`,
/// [`PlotError::NoData`] when no study can be drawn, or a backend failure.
pub fn draw_funnel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &FunnelPlot,
    theme: &Theme,
    highlight: Option<usize>,
) -> Result<PlotLayout, PlotError>
where
    DB::ErrorType: 'static,
{
    let k = plot.yi.len();
    check_lengths(k, &[("standard errors", plot.sei.len())])?;
    let usable: Vec<usize> = (0..k)
        .filter(|&i| plot.yi[i].is_finite() && plot.sei[i].is_finite() && plot.sei[i] >= 0.0)
        .collect();
    if usable.is_empty() {
        return Err(PlotError::NoData);
    }
    let max_se = usable.iter().map(|&i| plot.sei[i]).fold(0.0, f64::max);
    // The standard-error axis starts at 0 (top) and ends a little below the least precise
    // study; a set of studies with no sampling error at all still gets a visible funnel.
    let se_bottom = if max_se > 0.0 {
        max_se * (1.0 + PAD)
    } else {
        1.0
    };
    let centre = if plot.estimate.is_finite() {
        plot.estimate
    } else {
        0.0
    };
    let mut x_values: Vec<f64> = usable.iter().map(|&i| plot.yi[i]).collect();
    x_values.extend([centre - Z_05 * se_bottom, centre + Z_05 * se_bottom]);
    if plot.contours {
        x_values.extend([-Z_01 * se_bottom, Z_01 * se_bottom]);
    }
    let (x_lo, x_hi) = axis::extent(x_values).unwrap_or((-1.0, 1.0));
    let caption = plot
        .egger
        .as_ref()
        .map(|e| egger_text(e, plot.scale))
        .unwrap_or_default();
    let mut legend = vec![(Swatch::Dot, "Study")];
    if plot.contours {
        legend.extend([
            (Swatch::Band(theme::PAPER, 1.0), "p \u{2265} .10"),
            (Swatch::Band(SHADE_10, 1.0), ".05 \u{2264} p < .10"),
            (Swatch::Band(SHADE_05, 1.0), ".01 \u{2264} p < .05"),
            (Swatch::Band(SHADE_01, 1.0), "p < .01"),
        ]);
    }
    legend.push((Swatch::Line(theme::MUTED), "95% pseudo-confidence region"));
    let egger_line = plot
        .egger
        .as_ref()
        .and_then(|e| e.limit.as_ref().map(|l| (l.estimate, e.slope.estimate)));
    if egger_line.is_some() {
        legend.push((Swatch::Line(theme::VERMILLION), "Egger's regression line"));
    }
    let mut frame = frame(
        area.dim_in_pixel(),
        axis::padded(x_lo, x_hi, PAD, 1.0),
        (0.0, se_bottom),
        EffectScale::Identity,
        &legend,
        !caption.is_empty(),
        theme,
    );
    // Reversed: standard error 0 at the top.
    frame.y.pixels = (frame.top, frame.bottom);

    area.fill(&theme::PAPER)?;
    let wedge = |at: f64, z: f64| {
        vec![
            px(frame.x.to_pixel(at), frame.top),
            px(frame.x.to_pixel(at + z * se_bottom), frame.bottom),
            px(frame.x.to_pixel(at - z * se_bottom), frame.bottom),
        ]
    };
    if plot.contours {
        // Outside the widest wedge p < .01; each narrower wedge is less significant.
        area.draw(&Rectangle::new(
            [px(frame.left, frame.top), px(frame.right, frame.bottom)],
            SHADE_01.filled(),
        ))?;
        for (z, shade) in [(Z_01, SHADE_05), (Z_05, SHADE_10), (Z_10, theme::PAPER)] {
            area.draw(&Polygon::new(wedge(0.0, z), shade.filled()))?;
        }
    } else {
        area.draw(&Polygon::new(wedge(centre, Z_05), REGION.filled()))?;
    }

    draw_axes(
        area,
        &frame,
        plot.scale,
        (&plot.x_label, "Standard error"),
        Grid::None,
        theme,
    )?;

    // The pseudo-confidence region's edges and the estimate it is centred at.
    let apex = (frame.x.to_pixel(centre), frame.top);
    let region = [
        (frame.x.to_pixel(centre - Z_05 * se_bottom), frame.bottom),
        apex,
        (frame.x.to_pixel(centre + Z_05 * se_bottom), frame.bottom),
    ];
    polyline(area, &region, theme::MUTED.stroke_width(theme.px(1.0)))?;
    polyline(
        area,
        &[apex, (apex.0, frame.bottom)],
        theme::INK.stroke_width(theme.px(1.0)),
    )?;

    if let Some((intercept, slope)) = egger_line {
        // Egger's line: the expected effect at each standard error, b₀ + b₁·se.
        let at = |se: f64| intercept + slope * se;
        let line = [
            (frame.x.to_pixel(at(0.0)), frame.top),
            (frame.x.to_pixel(at(se_bottom)), frame.bottom),
        ];
        polyline(area, &line, theme::VERMILLION.stroke_width(theme.px(2.0)))?;
    }

    let radius = theme.len(DOT_RADIUS);
    let mut marks = Vec::with_capacity(usable.len());
    for &i in &usable {
        let (x, y) = (frame.x.to_pixel(plot.yi[i]), frame.y.to_pixel(plot.sei[i]));
        area.draw(&Circle::new(
            px(x, y),
            radius.round() as i32,
            theme::INK.mix(0.85).filled(),
        ))?;
        marks.push(Mark::circle(i, (x, y), radius, theme.len(MIN_TARGET)));
    }
    if let Some(mark) = highlight.and_then(|h| marks.iter().find(|m| m.study == h)) {
        let ring = (radius + theme.len(RING_GAP)).round() as i32;
        let centre = px(mark.centre.0, mark.centre.1);
        area.draw(&Circle::new(
            centre,
            ring,
            theme::INK.stroke_width(theme.px(2.0)),
        ))?;
    }
    finish(area, &legend, &caption, frame, marks, theme)
}
