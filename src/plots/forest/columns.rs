//! The forest plot's columns: where the labels, the plotting panel, the printed estimates and
//! the weights go, sized to their widest text, and the text printed in them.

use super::rows::Row;
use super::{ForestKind, ForestPlot};
use crate::format;
use crate::plots::axis::{self, EffectScale};
use crate::plots::paint::ci_label;
use crate::plots::theme::{self, Theme};
use crate::stats::Prediction;

/// Margin around the figure, in layout pixels.
pub(super) const MARGIN: f64 = 16.0;
/// Height of one row; comfortably more than a line of text at [`theme::TEXT_SIZE`].
pub(super) const ROW_HEIGHT: f64 = 22.0;
/// Height of the header row.
pub(super) const HEADER_HEIGHT: f64 = 30.0;
/// Gap between columns.
const COLUMN_GAP: f64 = 14.0;
/// The plotting column is never narrower than this.
const MIN_PANEL_WIDTH: f64 = 220.0;
/// Longest label printed in full; longer ones are shortened with an ellipsis.
const MAX_LABEL_CHARS: usize = 40;
/// Decimals of printed estimates.
const DIGITS: usize = 2;
/// Most decimals of a plot of refits whose estimates are all small (a slope per unit).
const MAX_DIGITS: usize = 6;
/// Header of the label column.
pub(super) const STUDY_HEADER: &str = "Study";
/// Header of the weight column.
pub(super) const WEIGHT_HEADER: &str = "Weight";
/// Label of the prediction interval's row.
pub(super) const PI_LABEL: &str = "Prediction interval";

/// A label cut to [`MAX_LABEL_CHARS`].
pub(super) fn shortened(text: &str) -> String {
    if text.chars().count() <= MAX_LABEL_CHARS {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(MAX_LABEL_CHARS - 1).collect();
        format!("{cut}…")
    }
}

/// The number of characters of [`shortened`]`(text)`.
fn shortened_chars(text: &str) -> usize {
    text.chars().count().min(MAX_LABEL_CHARS)
}

/// Decimals of the printed numbers: two, or for a plot of refits as many as keep two
/// significant digits of its largest displayed value (a coefficient of −0.029 per degree of
/// latitude would print as −0.03 everywhere).
fn digits(plot: &ForestPlot) -> usize {
    if has_weights(plot) {
        return DIGITS;
    }
    let largest = plot
        .studies
        .iter()
        .flat_map(|s| [s.estimate, s.ci_lower, s.ci_upper])
        .map(|v| plot.scale.display(v).abs())
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold(0.0, f64::max);
    if largest == 0.0 {
        return DIGITS;
    }
    // 1 − ⌊log₁₀ x⌋ decimals print two significant digits of x.
    let wanted = 1.0 - largest.log10().floor();
    (wanted.max(DIGITS as f64) as usize).min(MAX_DIGITS)
}

/// "0.41 [0.13, 1.26]" on the displayed scale; a dash when a value is missing.
pub(super) fn interval_text(
    (scale, digits): (EffectScale, usize),
    estimate: f64,
    lower: f64,
    upper: f64,
) -> String {
    if [estimate, lower, upper].iter().all(|v| v.is_finite()) {
        format!(
            "{} [{}, {}]",
            scale.format(estimate, digits),
            scale.format(lower, digits),
            scale.format(upper, digits)
        )
    } else {
        "\u{2014}".to_owned()
    }
}

/// The number of characters of [`interval_text`], counted without writing it.
fn interval_chars(
    (scale, digits): (EffectScale, usize),
    estimate: f64,
    lower: f64,
    upper: f64,
) -> usize {
    let values = [estimate, lower, upper];
    if values.iter().all(|v| v.is_finite()) {
        // "a [b, c]": the three numbers, " [", ", " and "]".
        values
            .iter()
            .map(|&v| format::signed_chars(scale.display(v), digits))
            .sum::<usize>()
            + 5
    } else {
        1
    }
}

/// Column positions and sizes in backend pixels.
pub(super) struct Columns {
    /// Left edge of the labels.
    pub(super) label_left: f64,
    /// Left and right edge of the plotting panel.
    pub(super) panel: (f64, f64),
    /// Right edge of the printed estimates.
    pub(super) estimate_right: f64,
    /// Right edge of the printed weights.
    pub(super) weight_right: f64,
    /// Minimum total width.
    pub(super) min_width: f64,
    /// The scale and decimals of the printed numbers.
    pub(super) numbers: (EffectScale, usize),
}

/// The header of the label column: "Study", or what a refit's row is.
pub(super) fn label_header(plot: &ForestPlot) -> &str {
    match &plot.kind {
        ForestKind::Studies => STUDY_HEADER,
        ForestKind::Refits { header } => header,
    }
}

/// Whether the plot has a weight column (studies do; refits are not shares of one total).
pub(super) fn has_weights(plot: &ForestPlot) -> bool {
    plot.kind == ForestKind::Studies
}

pub(super) fn header_text(plot: &ForestPlot) -> String {
    let measure = if plot.measure.is_empty() {
        "Estimate"
    } else {
        plot.measure.as_str()
    };
    format!("{measure} [{}]", ci_label(plot.level))
}

pub(super) fn columns(plot: &ForestPlot, rows: &[Row<'_>], width: f64, theme: &Theme) -> Columns {
    let w = |t: &str| theme.text_width(t, theme::TEXT_SIZE);
    // Study rows are counted, not written: there may be 20,000 of them at every redraw.
    let chars = |n: usize| theme.chars_width(n, theme::TEXT_SIZE);
    let label_width = rows
        .iter()
        .map(|row| match row {
            Row::Heading(name) => w(&shortened(name)),
            Row::Study(i) => chars(shortened_chars(&plot.studies[*i].label)),
            Row::Summary { label, .. } => w(&shortened(label)),
            Row::PredictionInterval(_) => w(PI_LABEL),
            Row::Note(_) | Row::Gap => 0.0,
        })
        .fold(w(label_header(plot)), f64::max);
    let numbers = (plot.scale, digits(plot));
    let estimate_width = rows
        .iter()
        .map(|row| match row {
            Row::Study(i) => {
                let s = &plot.studies[*i];
                chars(interval_chars(numbers, s.estimate, s.ci_lower, s.ci_upper))
            }
            Row::Summary { prediction: p, .. } => {
                w(&interval_text(numbers, p.pred, p.ci_lower, p.ci_upper))
            }
            Row::PredictionInterval(p) => w(&pi_text(numbers, p)),
            _ => 0.0,
        })
        .fold(w(&header_text(plot)), f64::max);
    let gap = theme.len(COLUMN_GAP);
    // Without weights the column and the gap before it go.
    let (weight_width, weight_gap) = if has_weights(plot) {
        (w(WEIGHT_HEADER).max(w("100.0%")), gap)
    } else {
        (0.0, 0.0)
    };
    let margin = theme.len(MARGIN);
    let label_left = margin;
    let fixed = 2.0 * margin + label_width + estimate_width + weight_width + 2.0 * gap + weight_gap;
    let min_width = fixed + theme.len(MIN_PANEL_WIDTH);
    let panel_width = (width - fixed).max(theme.len(MIN_PANEL_WIDTH));
    let panel_left = label_left + label_width + gap;
    let panel_right = panel_left + panel_width;
    let estimate_right = panel_right + gap + estimate_width;
    Columns {
        label_left,
        panel: (panel_left, panel_right),
        estimate_right,
        weight_right: estimate_right + weight_gap + weight_width,
        min_width,
        numbers,
    }
}

pub(super) fn pi_text((scale, digits): (EffectScale, usize), p: &Prediction) -> String {
    format!(
        "[{}, {}]",
        scale.format(p.pi_lower, digits),
        scale.format(p.pi_upper, digits)
    )
}

/// Height of the figure in backend pixels for `rows` rows.
pub(super) fn height_for(rows: usize, theme: &Theme) -> f64 {
    theme.len(2.0 * MARGIN + HEADER_HEIGHT + (rows as f64 + 0.5) * ROW_HEIGHT)
        + axis::x_axis_height(theme)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_are_counted_as_written() {
        let cases = [
            (0.25, -0.1, 0.6),
            (-1.995, -2.5, -1.49),
            (9.996, 0.004, 99.999),
            (-0.004, -0.009, 0.001),
            (f64::NAN, 0.0, 1.0),
        ];
        for scale in [EffectScale::Identity, EffectScale::Exp] {
            for digits in [2, 4] {
                for (e, l, u) in cases {
                    let text = interval_text((scale, digits), e, l, u);
                    assert_eq!(
                        interval_chars((scale, digits), e, l, u),
                        text.chars().count(),
                        "{text}"
                    );
                }
            }
        }
        assert_eq!(
            shortened_chars(&"x".repeat(90)),
            shortened(&"x".repeat(90)).chars().count()
        );
        assert_eq!(shortened_chars("Aronson (1948)"), 14);
    }
}
