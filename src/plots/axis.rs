//! Axes: the effect scale (as fitted, or back-transformed for log measures), tick positions a
//! reader can use (1 2 5 steps; 0.25 0.5 1 2 on a log axis), number formatting, and drawing.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::FontTransform;

use super::layout::AxisMap;
use super::paint::{label, polyline};
use super::theme::{self, Theme};
use super::PlotError;
use crate::format::signed;

/// Most ticks on a horizontal axis.
const MAX_X_TICKS: usize = 10;
/// Least space between two tick labels, in layout pixels.
const TICK_LABEL_SPACE: f64 = 12.0;
/// Length of a tick mark, in layout pixels.
const TICK_LENGTH: f64 = 5.0;
/// Gap between a tick mark and its label.
const TICK_LABEL_GAP: f64 = 3.0;
/// Gap between tick labels and the axis title.
const TITLE_GAP: f64 = 8.0;
/// A log axis spanning at most this ratio is labelled at linear steps of the ratio (0.8 0.9 1
/// 1.1), since it has too few powers of two to label.
const NARROW_LOG_RATIO: f64 = 3.0;

/// How effect sizes are shown on an axis and in printed numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EffectScale {
    /// As fitted (differences, standardised mean differences, correlations, log ratios shown as
    /// logs).
    #[default]
    Identity,
    /// Back-transformed with exp: the model is fitted to log risk ratios, log odds ratios or
    /// log ratios of means and the axis shows the ratios, with log spacing.
    Exp,
}

impl EffectScale {
    /// A value on the fitted scale as the reader sees it.
    pub fn display(self, value: f64) -> f64 {
        match self {
            Self::Identity => value,
            Self::Exp => value.exp(),
        }
    }

    /// A value on the fitted scale formatted with `digits` decimals, back-transformed as needed.
    pub fn format(self, value: f64, digits: usize) -> String {
        signed(self.display(value), digits)
    }

    /// The title of an effect axis named `name`: "Risk ratio (log scale)" on a log axis.
    pub fn axis_title(self, name: &str) -> String {
        match self {
            Self::Identity => name.to_owned(),
            Self::Exp => format!("{name} (log scale)"),
        }
    }
}

/// A tick: its position on the fitted scale and its label on the displayed scale.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tick {
    /// Position, on the fitted scale.
    pub value: f64,
    /// Label, on the displayed scale.
    pub label: String,
}

/// At most `max` ticks inside `[lo, hi]` (fitted scale).
pub(crate) fn ticks(lo: f64, hi: f64, scale: EffectScale, max: usize) -> Vec<Tick> {
    match scale {
        EffectScale::Identity => linear_ticks(lo, hi, max)
            .into_iter()
            .map(|(value, digits)| Tick {
                value,
                label: signed(value, digits),
            })
            .collect(),
        EffectScale::Exp => log_ticks(lo.exp(), hi.exp(), max)
            .into_iter()
            .map(|v| Tick {
                value: v.ln(),
                label: format_ratio(v),
            })
            .collect(),
    }
}

/// Ticks at 1, 2, 2.5 or 5 times a power of ten, with the decimals their step needs.
fn linear_ticks(lo: f64, hi: f64, max: usize) -> Vec<(f64, usize)> {
    let span = hi - lo;
    if span.is_nan() || span <= 0.0 || !span.is_finite() || max == 0 {
        return Vec::new();
    }
    let raw = span / max as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let (multiple, step) = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|&m| (m, m * magnitude))
        .find(|&(_, step)| span / step <= max as f64)
        .unwrap_or((10.0, 10.0 * magnitude));
    let extra = usize::from(multiple == 2.5);
    let digits = (-step.log10().floor()).max(0.0) as usize + extra;
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last)
        .map(|i| (i as f64 * step, digits))
        .filter(|(v, _)| *v >= lo - 1e-9 * span && *v <= hi + 1e-9 * span)
        .collect()
}

/// Ratio ticks inside `[lo, hi]` (both positive): powers of two (0.25 0.5 1 2 4) when they fit,
/// else 1 2 5 per decade, else powers of four, else decades, thinned to at most `max`; a narrow range gets linear
/// steps.
fn log_ticks(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo && hi.is_finite()) || max == 0 {
        return Vec::new();
    }
    if hi / lo <= NARROW_LOG_RATIO {
        return linear_ticks(lo, hi, max)
            .into_iter()
            .map(|(v, _)| v)
            .filter(|v| *v > 0.0)
            .collect();
    }
    let inside = |v: &f64| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9);
    let powers_of_two: Vec<f64> = ((lo.log2().floor() as i32)..=(hi.log2().ceil() as i32))
        .map(|e| 2f64.powi(e))
        .filter(inside)
        .collect();
    if powers_of_two.len() <= max {
        return powers_of_two;
    }
    let decades = (lo.log10().floor() as i32)..=(hi.log10().ceil() as i32);
    let one_two_five: Vec<f64> = decades
        .clone()
        .flat_map(|e| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(e)))
        .filter(inside)
        .collect();
    if one_two_five.len() <= max {
        return one_two_five;
    }
    // Powers of four keep 1 and the halving/doubling reading (0.25 1 4 16).
    let powers_of_four: Vec<f64> = powers_of_two
        .iter()
        .copied()
        .filter(|v| v.log2().round() as i64 % 2 == 0)
        .collect();
    if powers_of_four.len() <= max {
        return powers_of_four;
    }
    let tens: Vec<f64> = decades.map(|e| 10f64.powi(e)).filter(inside).collect();
    let every = tens.len().div_ceil(max).max(1);
    tens.into_iter().step_by(every).collect()
}

/// A ratio tick label with the decimals it needs and no trailing zeros: 0.125, 0.5, 1, 20.
fn format_ratio(value: f64) -> String {
    let digits = if value >= 1.0 {
        2
    } else {
        (-value.log10()).ceil() as usize + 2
    };
    let text = format!("{value:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// The smallest and largest finite value, or `None` without one.
pub(crate) fn extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// `(lo, hi)` widened by `fraction` of its span on each side, or by `fallback` each side when
/// the span is zero, so marks at the extremes are not cut by the frame.
pub(crate) fn padded(lo: f64, hi: f64, fraction: f64, fallback: f64) -> (f64, f64) {
    let pad = if hi > lo {
        fraction * (hi - lo)
    } else {
        fallback
    };
    (lo - pad, hi + pad)
}

/// The most ticks (at most [`MAX_X_TICKS`]) along a horizontal axis whose labels keep at least
/// [`TICK_LABEL_SPACE`] apart.
pub(crate) fn x_ticks(map: &AxisMap, scale: EffectScale, theme: &Theme) -> Vec<Tick> {
    let (lo, hi) = map.data;
    (2..=MAX_X_TICKS)
        .rev()
        .map(|max| ticks(lo, hi, scale, max))
        .find(|t| labels_apart(map, t, theme))
        .unwrap_or_else(|| ticks(lo, hi, scale, 2))
}

/// Whether centred tick labels leave room between each other.
fn labels_apart(map: &AxisMap, ticks: &[Tick], theme: &Theme) -> bool {
    ticks.windows(2).all(|pair| {
        let distance = (map.to_pixel(pair[1].value) - map.to_pixel(pair[0].value)).abs();
        let half_widths = (theme.text_width(&pair[0].label, theme::TEXT_SIZE)
            + theme.text_width(&pair[1].label, theme::TEXT_SIZE))
            / 2.0;
        distance >= half_widths + theme.len(TICK_LABEL_SPACE)
    })
}

/// Room a horizontal axis needs below the plotting region: ticks, labels and title.
pub(crate) fn x_axis_height(theme: &Theme) -> f64 {
    theme.len(TICK_LENGTH + TICK_LABEL_GAP + TITLE_GAP) + theme.text_height(theme::TEXT_SIZE) * 2.4
}

/// Room a vertical axis needs left of the plotting region for these tick labels and a title.
pub(crate) fn y_axis_width(ticks: &[Tick], theme: &Theme) -> f64 {
    let widest = ticks
        .iter()
        .map(|t| theme.text_width(&t.label, theme::TEXT_SIZE))
        .fold(0.0, f64::max);
    theme.len(TICK_LENGTH + TICK_LABEL_GAP + TITLE_GAP)
        + widest
        + theme.text_height(theme::TEXT_SIZE) * 1.4
}

/// Draws a horizontal axis along `y` from `map`'s pixel range, with ticks, labels and a title
/// centred below; with `grid = Some((top, bottom))`, light vertical grid lines at the ticks.
pub(crate) fn draw_x_axis<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    map: &AxisMap,
    ticks: &[Tick],
    y: f64,
    grid: Option<(f64, f64)>,
    title: &str,
    theme: &Theme,
) -> Result<(), PlotError> {
    let ink = theme::INK.stroke_width(theme.px(1.0));
    let (x0, x1) = map.pixels;
    polyline(area, &[(x0, y), (x1, y)], ink)?;
    let text = theme.text(theme::TEXT_SIZE, theme::INK);
    for tick in ticks {
        let x = map.to_pixel(tick.value);
        if let Some((top, bottom)) = grid {
            polyline(
                area,
                &[(x, top), (x, bottom)],
                theme::GRID.stroke_width(theme.px(1.0)),
            )?;
        }
        polyline(area, &[(x, y), (x, y + theme.len(TICK_LENGTH))], ink)?;
        let at = (x, y + theme.len(TICK_LENGTH + TICK_LABEL_GAP));
        label(area, &tick.label, at, &text, (HPos::Center, VPos::Top))?;
    }
    let title_y = y
        + theme.len(TICK_LENGTH + TICK_LABEL_GAP + TITLE_GAP)
        + theme.text_height(theme::TEXT_SIZE);
    label(
        area,
        title,
        ((x0 + x1) / 2.0, title_y),
        &text,
        (HPos::Center, VPos::Top),
    )
}

/// Draws a vertical axis along `x` from `map`'s pixel range, with ticks, labels and a rotated
/// title left of them; with `grid = Some((left, right))`, light horizontal grid lines.
pub(crate) fn draw_y_axis<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    map: &AxisMap,
    ticks: &[Tick],
    x: f64,
    grid: Option<(f64, f64)>,
    title: &str,
    theme: &Theme,
) -> Result<(), PlotError> {
    let ink = theme::INK.stroke_width(theme.px(1.0));
    let (y0, y1) = map.pixels;
    polyline(area, &[(x, y0), (x, y1)], ink)?;
    let text = theme.text(theme::TEXT_SIZE, theme::INK);
    let mut widest: f64 = 0.0;
    for tick in ticks {
        let y = map.to_pixel(tick.value);
        if let Some((left, right)) = grid {
            polyline(
                area,
                &[(left, y), (right, y)],
                theme::GRID.stroke_width(theme.px(1.0)),
            )?;
        }
        polyline(area, &[(x - theme.len(TICK_LENGTH), y), (x, y)], ink)?;
        let at = (x - theme.len(TICK_LENGTH + TICK_LABEL_GAP), y);
        label(area, &tick.label, at, &text, (HPos::Right, VPos::Center))?;
        widest = widest.max(theme.text_width(&tick.label, theme::TEXT_SIZE));
    }
    let title_x = x - theme.len(TICK_LENGTH + TICK_LABEL_GAP + TITLE_GAP) - widest;
    let rotated = text.transform(FontTransform::Rotate270);
    label(
        area,
        title,
        (title_x, (y0 + y1) / 2.0),
        &rotated,
        (HPos::Center, VPos::Bottom),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(lo: f64, hi: f64, scale: EffectScale, max: usize) -> Vec<String> {
        ticks(lo, hi, scale, max)
            .into_iter()
            .map(|t| t.label)
            .collect()
    }

    #[test]
    fn log_axis_ticks_are_powers_of_two_when_they_fit() {
        let found = labels(0.2f64.ln(), 3.0f64.ln(), EffectScale::Exp, 8);
        assert_eq!(found, ["0.25", "0.5", "1", "2"]);
        for t in ticks(0.2f64.ln(), 3.0f64.ln(), EffectScale::Exp, 8) {
            assert!((t.value.exp() - t.label.parse::<f64>().unwrap()).abs() < 1e-12);
        }
    }

    #[test]
    fn wide_log_axes_fall_back_to_one_two_five_then_powers_of_four_then_decades() {
        assert_eq!(
            labels(0.01f64.ln(), 60f64.ln(), EffectScale::Exp, 9),
            ["0.0156", "0.0625", "0.25", "1", "4", "16"]
        );
        assert_eq!(
            labels(1e-4f64.ln(), 1e4f64.ln(), EffectScale::Exp, 5),
            ["0.0001", "0.01", "1", "100", "10000"]
        );
    }

    #[test]
    fn narrow_log_axes_get_linear_steps() {
        assert_eq!(
            labels(0.75f64.ln(), 1.3f64.ln(), EffectScale::Exp, 8),
            ["0.8", "0.9", "1", "1.1", "1.2", "1.3"]
        );
    }

    #[test]
    fn linear_ticks_use_the_decimals_of_their_step_and_a_true_minus() {
        assert_eq!(
            labels(-1.2, 0.6, EffectScale::Identity, 8),
            [
                "\u{2212}1.00",
                "\u{2212}0.75",
                "\u{2212}0.50",
                "\u{2212}0.25",
                "0.00",
                "0.25",
                "0.50"
            ]
        );
        assert!(ticks(1.0, 1.0, EffectScale::Identity, 5).is_empty());
        assert!(ticks(0.0, f64::INFINITY, EffectScale::Exp, 5).is_empty());
    }
}
