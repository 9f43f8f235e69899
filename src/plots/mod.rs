//! Plots drawn with plotters, generic over its `DrawingBackend`: the same function draws to a
//! canvas in the page, to SVG for export, and to an SVG string in native tests.
//!
//! Plot functions only read what the data and stats layers computed (fits, predictions,
//! subgroup fits, Egger's test); they never fit models themselves. Each returns a
//! [`PlotLayout`] with every study's mark in backend pixels, for hover and click, and takes an
//! optional study to highlight, drawn with a ring and bold text rather than by colour alone.

pub mod axis;
pub mod baujat;
pub mod bubble;
pub mod figure;
pub mod forest;
pub mod funnel;
pub mod gosh;
pub mod heterogeneity;
pub mod inputs;
pub mod lab;
pub mod labbe;
pub mod layout;
mod paint;
mod panel;
pub mod profile;
pub mod scale;
pub mod scatter;
pub mod theme;

pub use axis::EffectScale;
pub use baujat::{draw_baujat, BaujatPlot};
pub use bubble::{draw_bubble, draw_categories, BubblePlot, CategoryPlot, FittedPoint, Level};
pub use figure::Figure;
pub use forest::{
    draw_forest, draw_forest_window, forest_size, ForestKind, ForestOrder, ForestPlot, ForestStudy,
    Subgroup,
};
pub use funnel::{draw_funnel, FunnelPlot};
pub use gosh::{
    draw_gosh, draw_gosh_background, draw_gosh_margins, draw_gosh_points, GoshFrame,
    GoshHistograms, GoshPlot,
};
pub use heterogeneity::{draw_heterogeneity, heterogeneity_size, Explained, HeterogeneityPlot};
pub use lab::{draw_lab, LabLine, LabLineKind, LabPlot};
pub use labbe::{draw_labbe, LabbePlot};
pub use layout::{AxisMap, Mark, MarkShape, PlotLayout, Rect};
pub use profile::{draw_profile, ProfilePlot};
pub use scale::{draw_scale, ScalePlot, Tau2Point};
pub use scatter::{draw_scatter, ReferenceLine, ScatterPlot};
pub use theme::Theme;

use std::fmt;

/// A plot could not be drawn.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PlotError {
    /// There is nothing to draw: no study has both coordinates.
    NoData,
    /// Inputs that belong together per study have different lengths.
    LengthMismatch {
        /// The input that disagrees, e.g. `"weights"`.
        what: &'static str,
        /// Number of studies.
        expected: usize,
        /// Its length.
        got: usize,
    },
    /// An index into the plot's studies (a subgroup member) or levels (a study's level) is
    /// out of range.
    IndexOutOfRange {
        /// The index given.
        index: usize,
        /// Number of studies or levels.
        len: usize,
    },
    /// The drawing area is smaller than the plot needs to keep every label readable (a forest
    /// plot's height grows with the number of studies); sizes in backend pixels.
    AreaTooSmall {
        /// Width and height needed.
        needed: (u32, u32),
        /// Width and height given.
        available: (u32, u32),
    },
    /// The drawing backend failed (a canvas lost, a write error); the backend's own message.
    Backend(String),
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoData => f.write_str("there are no studies with values to plot"),
            Self::LengthMismatch {
                what,
                expected,
                got,
            } => write!(
                f,
                "the plot has {expected} studies but {got} {what}: expected one per study"
            ),
            Self::IndexOutOfRange { index, len } => write!(
                f,
                "index {index} is used but the plot has only {len} studies or levels: expected an index below {len}"
            ),
            Self::AreaTooSmall { needed, available } => write!(
                f,
                "the plot needs {}×{} pixels to keep its labels apart but has {}×{}: enlarge it or let it scroll",
                needed.0, needed.1, available.0, available.1
            ),
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
