//! The heterogeneity picture: stacked bars that show, at a glance, how the variance of the
//! observed effects splits into sampling error and true between-study variance (I²), and, for
//! a meta-regression, how much of the between-study variance τ² the moderators account for
//! (R²) and how much is left, with the confidence intervals as whiskers on the boundaries.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::layout::{AxisMap, PlotLayout};
use super::paint::{ci_label, draw_interval, label, polyline, px};
use super::theme::{self, Theme};
use super::PlotError;
use crate::format::signed;
use crate::stats::{Fit, HeterogeneityIntervals, Interval};

/// Margin around the figure, in layout pixels.
const MARGIN: f64 = 16.0;
/// Height of a bar's title row.
const TITLE_HEIGHT: f64 = 24.0;
/// Room above a bar for its confidence whisker.
const WHISKER_ROOM: f64 = 16.0;
/// Height of a bar.
const BAR_HEIGHT: f64 = 34.0;
/// Height of the percentage scale under a bar.
const SCALE_HEIGHT: f64 = 20.0;
/// Height of a key line under a bar.
const KEY_HEIGHT: f64 = 20.0;
/// Space between the two blocks.
const BLOCK_GAP: f64 = 18.0;
/// Side of a key's colour square.
const KEY_SQUARE: f64 = 11.0;
/// Half the height of a whisker's caps.
const CAP_HALF_HEIGHT: f64 = 4.0;
/// Length of a tick of the percentage scale.
const TICK_LENGTH: f64 = 4.0;
/// Narrowest bar that still reads as a proportion.
const MIN_BAR_WIDTH: f64 = 240.0;
/// Width needed to print a percentage inside a segment.
const INSIDE_LABEL_WIDTH: f64 = 44.0;
/// Decimals of printed variances.
const DIGITS: usize = 2;

/// How much of τ² the moderators explain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Explained {
    /// τ²₀ of the model without moderators, fitted to the same studies.
    pub tau2_without_moderators: f64,
    /// Pseudo-R² in percent.
    pub r2: f64,
}

/// What the heterogeneity picture shows.
#[derive(Debug, Clone, PartialEq)]
pub struct HeterogeneityPlot {
    /// τ² (residual τ² with moderators) with its confidence interval; bounds that are not
    /// finite draw no whisker.
    pub tau2: Interval,
    /// I² in percent with its confidence interval.
    pub i2: Interval,
    /// The typical sampling variance ṽ that I² compares τ² with.
    pub typical_variance: f64,
    /// The share of τ² explained by the moderators; `None` without moderators.
    pub explained: Option<Explained>,
    /// Whether the model has moderators (the first bar then shows residual variance).
    pub residual: bool,
    /// Whether the model fixes τ² at 0 (FE/EE): I² then comes from Q, as (Q − df)/Q, and no τ²
    /// is printed.
    pub fixed: bool,
    /// Confidence level of the intervals.
    pub level: f64,
}

impl HeterogeneityPlot {
    /// The picture of a fit, with the Q-profile intervals of `Fit::confint_tau2` if available.
    pub fn from_fit(fit: &Fit, intervals: Option<&HeterogeneityIntervals>) -> Self {
        let h = &fit.heterogeneity;
        let no_interval = |estimate: f64| Interval {
            estimate,
            lower: f64::NAN,
            upper: f64::NAN,
        };
        // R² needs the intercept-only fit; a failure of that fit leaves the bar out.
        let explained = if fit.spec.method.is_fixed() {
            None
        } else {
            fit.pseudo_r2().ok().flatten().map(|r| Explained {
                tau2_without_moderators: r.reduced,
                r2: r.r2,
            })
        };
        Self {
            tau2: intervals.map_or(no_interval(fit.tau2().unwrap_or(f64::NAN)), |ci| ci.tau2),
            i2: intervals.map_or(no_interval(h.i2), |ci| ci.i2),
            typical_variance: h.typical_variance,
            explained,
            residual: fit.p > 1 || !fit.has_intercept(),
            fixed: fit.spec.method.is_fixed(),
            level: intervals.map_or(fit.spec.level, |ci| ci.level),
        }
    }
}

/// Heights of the two blocks, in layout pixels.
fn block_height(with_scale: bool) -> f64 {
    TITLE_HEIGHT
        + WHISKER_ROOM
        + BAR_HEIGHT
        + if with_scale { SCALE_HEIGHT } else { 0.0 }
        + 2.0 * KEY_HEIGHT
}

/// The smallest drawing area, in backend pixels (width, height), that keeps the labels apart.
pub fn heterogeneity_size(plot: &HeterogeneityPlot, theme: &Theme) -> (u32, u32) {
    let mut height = 2.0 * MARGIN + block_height(true) + KEY_HEIGHT;
    if plot.explained.is_some() {
        height += BLOCK_GAP + block_height(false);
    }
    (
        theme.len(2.0 * MARGIN + MIN_BAR_WIDTH).ceil() as u32,
        theme.len(height).ceil() as u32,
    )
}

/// A percentage: "72%".
fn percent(value: f64) -> String {
    format!("{}%", signed(value, 0))
}

/// "[95% CI 45%, 92%]" or nothing when the bounds are not finite.
fn ci_text(level: f64, lower: String, upper: String, finite: bool) -> String {
    if finite {
        format!(" [{} {lower}, {upper}]", ci_label(level))
    } else {
        String::new()
    }
}

/// One bar: its segments (share in percent, colour, key text) left to right, and a whisker
/// over the boundary between the first two (its ends as percentages of the bar).
struct Bar {
    title: String,
    segments: [(f64, RGBColor, String); 2],
    whisker: Option<(f64, f64)>,
    scale: bool,
}

/// Draws `plot` onto `area`, which must be at least [`heterogeneity_size`]. The layout's
/// horizontal axis maps 0–100 % of a bar to pixels; there are no study marks.
///
/// # Errors
/// [`PlotError::AreaTooSmall`], [`PlotError::NoData`] when I² or ṽ is not finite (a model
/// that interpolates its studies), or a backend failure.
pub fn draw_heterogeneity<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &HeterogeneityPlot,
    theme: &Theme,
) -> Result<PlotLayout, PlotError>
where
    DB::ErrorType: 'static,
{
    if !(plot.i2.estimate.is_finite() && plot.typical_variance.is_finite()) {
        return Err(PlotError::NoData);
    }
    let (width, height) = area.dim_in_pixel();
    let needed = heterogeneity_size(plot, theme);
    if width < needed.0 || height < needed.1 {
        return Err(PlotError::AreaTooSmall {
            needed,
            available: (width, height),
        });
    }
    let map = AxisMap {
        data: (0.0, 100.0),
        pixels: (theme.len(MARGIN), f64::from(width) - theme.len(MARGIN)),
    };
    let i2 = plot.i2.estimate.clamp(0.0, 100.0);
    let i2_finite = plot.i2.lower.is_finite() && plot.i2.upper.is_finite();
    let what = if plot.residual { "residual " } else { "" };
    let mut bars = vec![Bar {
        title: format!("How the {what}variance of the observed effects splits"),
        segments: [
            (
                100.0 - i2,
                theme::SKY_BLUE,
                format!(
                    "Sampling error (typical within-study variance {}): {}",
                    signed(plot.typical_variance, DIGITS + 1),
                    percent(100.0 - i2)
                ),
            ),
            (
                i2,
                theme::ORANGE,
                format!(
                    "{}: I\u{b2} = {}{}",
                    if plot.fixed {
                        "Variation beyond sampling error (from Q)".to_owned()
                    } else {
                        format!(
                            "True differences between studies (\u{3c4}\u{b2} = {})",
                            signed(plot.tau2.estimate, DIGITS + 1)
                        )
                    },
                    percent(i2),
                    ci_text(
                        plot.level,
                        percent(plot.i2.lower),
                        percent(plot.i2.upper),
                        i2_finite
                    )
                ),
            ),
        ],
        whisker: i2_finite.then(|| {
            (
                100.0 - plot.i2.upper.clamp(0.0, 100.0),
                100.0 - plot.i2.lower.clamp(0.0, 100.0),
            )
        }),
        scale: true,
    }];
    if let Some(explained) = plot.explained {
        let r2 = explained.r2.clamp(0.0, 100.0);
        let t0 = explained.tau2_without_moderators;
        let tau2_finite = plot.tau2.lower.is_finite() && plot.tau2.upper.is_finite() && t0 > 0.0;
        let residual_share = |tau2: f64| (100.0 * tau2 / t0).clamp(0.0, 100.0);
        bars.push(Bar {
            title: format!(
                "How much of the between-study variance (\u{3c4}\u{b2} = {} without moderators) the moderators explain",
                signed(t0, DIGITS + 1)
            ),
            segments: [
                (
                    r2,
                    theme::BLUISH_GREEN,
                    format!("Explained by the moderators: R\u{b2} = {}", percent(r2)),
                ),
                (
                    100.0 - r2,
                    theme::ORANGE,
                    format!(
                        "Left unexplained: residual \u{3c4}\u{b2} = {}{}",
                        signed(plot.tau2.estimate, DIGITS + 1),
                        ci_text(
                            plot.level,
                            signed(plot.tau2.lower, DIGITS + 1),
                            signed(plot.tau2.upper, DIGITS + 1),
                            tau2_finite
                        )
                    ),
                ),
            ],
            whisker: tau2_finite.then(|| {
                (
                    100.0 - residual_share(plot.tau2.upper),
                    100.0 - residual_share(plot.tau2.lower),
                )
            }),
            scale: false,
        });
    }

    area.fill(&theme::PAPER)?;
    let mut y = theme.len(MARGIN);
    for bar in &bars {
        y = draw_bar(area, bar, &map, y, plot.level, theme)?;
        y += theme.len(BLOCK_GAP);
    }
    area.present()?;
    Ok(PlotLayout {
        marks: Vec::new(),
        x_axis: Some(map),
        y_axis: None,
    }
    .offset(area.get_base_pixel()))
}

/// Draws one bar block from `top`; returns its bottom.
fn draw_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    bar: &Bar,
    map: &AxisMap,
    top: f64,
    level: f64,
    theme: &Theme,
) -> Result<f64, PlotError> {
    let bold = theme.bold(theme::TEXT_SIZE, theme::INK);
    let text = theme.text(theme::TEXT_SIZE, theme::INK);
    let ink = theme::INK.stroke_width(theme.px(1.0));
    let left_mid = (HPos::Left, VPos::Center);
    label(
        area,
        &bar.title,
        (map.pixels.0, top + theme.len(TITLE_HEIGHT / 2.0)),
        &bold,
        left_mid,
    )?;
    let bar_top = top + theme.len(TITLE_HEIGHT + WHISKER_ROOM);
    let bar_bottom = bar_top + theme.len(BAR_HEIGHT);
    let mid = (bar_top + bar_bottom) / 2.0;
    let mut start = 0.0;
    for (share, colour, _) in &bar.segments {
        let (x0, x1) = (map.to_pixel(start), map.to_pixel(start + share));
        if x1 > x0 {
            area.draw(&Rectangle::new(
                [px(x0, bar_top), px(x1, bar_bottom)],
                colour.filled(),
            ))?;
            if x1 - x0 >= theme.len(INSIDE_LABEL_WIDTH) {
                let at = ((x0 + x1) / 2.0, mid);
                label(
                    area,
                    &percent(*share),
                    at,
                    &bold,
                    (HPos::Center, VPos::Center),
                )?;
            }
        }
        start += share;
    }
    let outline = [
        (map.pixels.0, bar_top),
        (map.pixels.1, bar_top),
        (map.pixels.1, bar_bottom),
        (map.pixels.0, bar_bottom),
        (map.pixels.0, bar_top),
    ];
    polyline(area, &outline, ink)?;
    // The boundary between the segments, drawn across the bar so it reads without colour.
    let boundary = map.to_pixel(bar.segments[0].0);
    polyline(
        area,
        &[(boundary, bar_top), (boundary, bar_bottom)],
        theme::INK.stroke_width(theme.px(2.0)),
    )?;
    if let Some((lo, hi)) = bar.whisker {
        let y = bar_top - theme.len(WHISKER_ROOM / 2.0);
        let (x0, x1) = (map.to_pixel(lo), map.to_pixel(hi));
        let style = theme::INK.stroke_width(theme.px(2.0));
        draw_interval(area, (x0, x1), y, theme.len(CAP_HALF_HEIGHT), style)?;
        polyline(area, &[(boundary, y), (boundary, bar_top)], ink)?;
        let small = theme.text(theme::SMALL_SIZE, theme::MUTED);
        let ci = ci_label(level);
        // Right of the whisker, or left of it, whichever stays over the bar; when neither does
        // the key below still gives the interval.
        let gap = theme.len(6.0);
        let ci_width = theme.text_width(&ci, theme::SMALL_SIZE);
        if x1 + gap + ci_width <= map.pixels.1 {
            label(area, &ci, (x1 + gap, y), &small, left_mid)?;
        } else if x0 - gap - ci_width >= map.pixels.0 {
            let right_mid = (HPos::Right, VPos::Center);
            label(area, &ci, (x0 - gap, y), &small, right_mid)?;
        }
    }
    let mut y = bar_bottom;
    if bar.scale {
        let small = theme.text(theme::SMALL_SIZE, theme::MUTED);
        for tick in [0.0, 25.0, 50.0, 75.0, 100.0] {
            let x = map.to_pixel(tick);
            polyline(area, &[(x, y), (x, y + theme.len(TICK_LENGTH))], ink)?;
            let anchor = if tick == 0.0 {
                HPos::Left
            } else if tick == 100.0 {
                HPos::Right
            } else {
                HPos::Center
            };
            label(
                area,
                &percent(tick),
                (x, y + theme.len(TICK_LENGTH)),
                &small,
                (anchor, VPos::Top),
            )?;
        }
        y += theme.len(SCALE_HEIGHT);
    }
    for (_, colour, key) in &bar.segments {
        let centre = y + theme.len(KEY_HEIGHT / 2.0);
        let half = theme.len(KEY_SQUARE / 2.0);
        let x = map.pixels.0;
        area.draw(&Rectangle::new(
            [px(x, centre - half), px(x + 2.0 * half, centre + half)],
            colour.filled(),
        ))?;
        label(
            area,
            key,
            (x + 2.0 * half + theme.len(6.0), centre),
            &text,
            left_mid,
        )?;
        y += theme.len(KEY_HEIGHT);
    }
    Ok(y)
}
