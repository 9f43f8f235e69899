//! What the plots share below their layouts: drawing primitives in backend pixels (rounded as
//! the backends draw), area-proportional mark sizes, the confidence-level guard and label, and
//! the formatting of test results.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::PlotError;
use crate::format::{p_journal, signed};
use crate::stats::WaldTest;

/// Pixel coordinates are clamped to ± this, far outside any drawing, so that an extreme value
/// cannot overflow the backends' own integer arithmetic (offsets, widths).
const PIXEL_LIMIT: f64 = 1e7;

/// A point in backend pixels, rounded as the backends draw it (a missing value at 0).
pub(crate) fn px(x: f64, y: f64) -> (i32, i32) {
    let clamp = |v: f64| v.round().clamp(-PIXEL_LIMIT, PIXEL_LIMIT) as i32;
    (clamp(x), clamp(y))
}

/// Draws a polyline through `points` (backend pixels).
pub(crate) fn polyline<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    points: &[(f64, f64)],
    style: ShapeStyle,
) -> Result<(), PlotError> {
    let path: Vec<(i32, i32)> = points.iter().map(|&(x, y)| px(x, y)).collect();
    area.draw(&PathElement::new(path, style))?;
    Ok(())
}

/// A dashed line from `a` to `b` (backend pixels): dashes and gaps `dash` long.
pub(crate) fn dashed<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    a: (f64, f64),
    b: (f64, f64),
    dash: f64,
    style: ShapeStyle,
) -> Result<(), PlotError> {
    let length = (b.0 - a.0).hypot(b.1 - a.1);
    if !length.is_finite() || length <= 0.0 || !dash.is_finite() || dash <= 0.0 {
        return Ok(());
    }
    let at = |t: f64| (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
    let mut start = 0.0;
    while start < length {
        let end = (start + dash).min(length);
        polyline(area, &[at(start / length), at(end / length)], style)?;
        start += 2.0 * dash;
    }
    Ok(())
}

/// Draws `text` anchored at `(x, y)` (backend pixels).
pub(crate) fn label<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    (x, y): (f64, f64),
    style: &TextStyle,
    anchor: (HPos, VPos),
) -> Result<(), PlotError> {
    let style = style.pos(Pos::new(anchor.0, anchor.1));
    area.draw(&Text::new(text.to_owned(), px(x, y), style))?;
    Ok(())
}

/// A Wald-type test as metafor prints it: "QM = 18.33, df = 1, p < 0.0001" (χ²) or
/// "F(1, 11) = 18.33, p = 0.0012" (Knapp–Hartung).
pub(crate) fn wald_text(test: &WaldTest) -> String {
    let statistic = match test.df2 {
        Some(df2) => format!("F({}, {df2}) = {}", test.df, signed(test.statistic, 2)),
        None => format!("QM = {}, df = {}", signed(test.statistic, 2), test.df),
    };
    format!("{statistic}, {}", p_journal(test.p_value))
}

/// A confidence level as the plots use and print it: one outside (0, 1) is taken as 0.95, so
/// a bad level gives the usual interval rather than an infinite one or a "NaN% CI" label.
pub(crate) fn usable_level(level: f64) -> f64 {
    if level > 0.0 && level < 1.0 {
        level
    } else {
        0.95
    }
}

/// "95% CI" for a level of 0.95.
pub(crate) fn ci_label(level: f64) -> String {
    format!("{}% CI", signed(100.0 * usable_level(level), 0))
}

/// A horizontal interval from `lo` to `hi` at height `y` (backend pixels), with caps `cap`
/// above and below at its ends.
pub(crate) fn draw_interval<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (lo, hi): (f64, f64),
    y: f64,
    cap: f64,
    style: ShapeStyle,
) -> Result<(), PlotError> {
    polyline(area, &[(lo, y), (hi, y)], style)?;
    polyline(area, &[(lo, y - cap), (lo, y + cap)], style)?;
    polyline(area, &[(hi, y - cap), (hi, y + cap)], style)
}

/// A study's weight as the plots count it: non-finite and negative weights count as 0.
pub(crate) fn usable_weight(weight: f64) -> f64 {
    if weight.is_finite() && weight > 0.0 {
        weight
    } else {
        0.0
    }
}

/// The side or radius of a mark whose area is proportional to `weight`: `largest` at the
/// largest weight `max_weight`, never below `smallest` (so a tiny weight stays visible).
pub(crate) fn area_scaled(weight: f64, max_weight: f64, largest: f64, smallest: f64) -> f64 {
    let share = if max_weight > 0.0 {
        usable_weight(weight) / max_weight
    } else {
        0.0
    };
    (largest * share.sqrt()).max(smallest)
}
