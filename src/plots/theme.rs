//! Colours, fonts and sizes shared by every plot: a light style fit for a journal figure, with
//! the Okabe–Ito palette, which stays distinguishable under the common colour-vision deficiencies.

use plotters::style::RGBColor;

/// Okabe & Ito (2008), "Color Universal Design": blue.
pub const BLUE: RGBColor = RGBColor(0, 114, 178);
/// Axis and text colour: near-black, softer on screen than pure black.
pub const INK: RGBColor = RGBColor(34, 38, 46);
/// Grid lines.
pub const GRID: RGBColor = RGBColor(226, 229, 235);

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
            font: "sans-serif",
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

    /// A length in layout pixels converted to device pixels.
    pub fn px(&self, layout_px: f64) -> u32 {
        // Rounding to whole pixels is what the backends draw anyway.
        (layout_px * self.scale).round().max(1.0) as u32
    }
}
