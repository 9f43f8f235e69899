//! Colours, fonts and sizes shared by every plot: a light style fit for a journal figure, with
//! the Okabe–Ito palette, which stays distinguishable under the common colour-vision deficiencies.
//!
//! Every length in the plot modules is in layout pixels (CSS pixels); [`Theme::px`] and
//! [`Theme::len`] turn them into device pixels so a canvas on a high-density screen stays sharp.

use plotters::style::{FontStyle, IntoFont, RGBColor, TextStyle};

/// Okabe & Ito (2008), "Color Universal Design": blue.
pub const BLUE: RGBColor = RGBColor(0, 114, 178);
/// Okabe–Ito sky blue.
pub const SKY_BLUE: RGBColor = RGBColor(86, 180, 233);
/// Okabe–Ito orange.
pub const ORANGE: RGBColor = RGBColor(230, 159, 0);
/// Okabe–Ito vermillion.
pub const VERMILLION: RGBColor = RGBColor(213, 94, 0);
/// Okabe–Ito bluish green.
pub const BLUISH_GREEN: RGBColor = RGBColor(0, 158, 115);
/// Okabe–Ito yellow, used only as a faint background behind a highlighted study.
pub const YELLOW: RGBColor = RGBColor(240, 228, 66);
/// Axis and text colour: near-black, softer on screen than pure black.
pub const INK: RGBColor = RGBColor(34, 38, 46);
/// Secondary text (captions, notes).
pub const MUTED: RGBColor = RGBColor(95, 101, 112);
/// Grid lines.
pub const GRID: RGBColor = RGBColor(226, 229, 235);
/// The page behind the plot.
pub const PAPER: RGBColor = RGBColor(255, 255, 255);

/// Font size of ordinary labels, in layout pixels as plotters measures them. plotters' canvas
/// backend draws text at this size, its SVG backend at this divided by 1.24; layout reserves
/// room for the larger, so neither overlaps.
pub const TEXT_SIZE: f64 = 15.0;
/// Font size of captions and notes.
pub const SMALL_SIZE: f64 = 13.0;
/// Average advance of a character of Helvetica or Arial as a fraction of the em; an upper
/// estimate (lower case averages about 0.5, digits 0.56), so columns sized with it never
/// collide.
const CHAR_WIDTH_EM: f64 = 0.6;

/// How a plot is drawn: the font and a scale for high-density screens.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    /// Font family for every label.
    pub font: &'static str,
    /// Device pixels per layout pixel: a canvas on a 2× screen is drawn at twice the size so it
    /// stays sharp; SVG output uses 1.
    pub scale: f64,
}

impl Default for Theme {
    fn default() -> Self {
        Self {
            // Fonts with known metrics first, so the room reserved for text fits; the generic
            // family last.
            font: "Helvetica, Arial, sans-serif",
            scale: 1.0,
        }
    }
}

impl Theme {
    /// The theme at a given device-pixel ratio (non-finite or non-positive ratios count as 1).
    pub fn with_scale(scale: f64) -> Self {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        Self {
            scale,
            ..Self::default()
        }
    }

    /// A length in layout pixels converted to whole device pixels, at least 1 (stroke widths,
    /// radii).
    pub fn px(&self, layout_px: f64) -> u32 {
        // Rounding to whole pixels is what the backends draw anyway.
        (layout_px * self.scale).round().max(1.0) as u32
    }

    /// A length in layout pixels converted to device pixels, unrounded (positions).
    pub fn len(&self, layout_px: f64) -> f64 {
        layout_px * self.scale
    }

    /// The text style of a label of `size` layout pixels (plotters' measure) in `colour`.
    pub fn text(&self, size: f64, colour: RGBColor) -> TextStyle<'static> {
        (self.font, self.len(size)).into_font().color(&colour)
    }

    /// As [`Theme::text`], in bold.
    pub fn bold(&self, size: f64, colour: RGBColor) -> TextStyle<'static> {
        (self.font, self.len(size), FontStyle::Bold)
            .into_font()
            .color(&colour)
    }

    /// The height of a line of text of `size`, in device pixels: the em of the backend that
    /// draws it largest (the canvas).
    pub fn text_height(&self, size: f64) -> f64 {
        self.len(size)
    }

    /// An upper estimate of the width of `text` at `size`, in device pixels. The backends give
    /// no reliable measure without a font file (the SVG is measured by whoever views it), so
    /// layout reserves room by character count.
    pub fn text_width(&self, text: &str, size: f64) -> f64 {
        self.chars_width(text.chars().count(), size)
    }

    /// [`Theme::text_width`] of a text of `chars` characters.
    pub fn chars_width(&self, chars: usize, size: f64) -> f64 {
        chars as f64 * CHAR_WIDTH_EM * self.text_height(size)
    }
}
