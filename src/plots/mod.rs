//! Plots drawn with plotters, generic over its `DrawingBackend`: the same function draws to a
//! canvas in the page, to SVG for export, and to an SVG string in native tests.
//!
//! Plot functions only read what the data and stats layers computed; they never compute
//! statistics themselves.

pub mod bubble;
pub mod theme;

pub use bubble::{draw_bubble, BubblePlot};
pub use theme::Theme;

use std::fmt;

/// A plot could not be drawn.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PlotError {
    /// There is nothing to draw: no study has both coordinates.
    NoData,
    /// The drawing backend failed (a canvas lost, a write error); the backend's own message.
    Backend(String),
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoData => f.write_str("there are no studies with values to plot"),
            Self::Backend(msg) => write!(f, "the plot could not be drawn: {msg}"),
        }
    }
}

impl std::error::Error for PlotError {}

impl<E: std::error::Error + Send + Sync> From<plotters::drawing::DrawingAreaErrorKind<E>>
    for PlotError
{
    fn from(err: plotters::drawing::DrawingAreaErrorKind<E>) -> Self {
        Self::Backend(err.to_string())
    }
}
