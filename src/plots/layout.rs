//! Where a drawn plot put things, in the backend's pixel coordinates: every study's mark, for
//! the web app's hover and click hit-testing, and the axes' mappings between data and pixels.
//!
//! On a canvas drawn with [`Theme::with_scale`](super::Theme::with_scale) backend pixels are
//! device pixels: multiply a pointer position in CSS pixels by the devicePixelRatio before
//! calling [`PlotLayout::hit`].

/// An axis-aligned rectangle in backend pixels (y grows downwards).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub left: f64,
    /// Top edge.
    pub top: f64,
    /// Right edge.
    pub right: f64,
    /// Bottom edge.
    pub bottom: f64,
}

impl Rect {
    /// Whether the point lies inside or on the edge.
    pub fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.left && x <= self.right && y >= self.top && y <= self.bottom
    }
}

/// The shape drawn for a study.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MarkShape {
    /// A circle (bubble and funnel plots).
    Circle {
        /// Radius in backend pixels.
        radius: f64,
    },
    /// A square or rectangle centred on the mark (forest plot).
    Box {
        /// Half the width in backend pixels.
        half_width: f64,
        /// Half the height in backend pixels.
        half_height: f64,
    },
}

/// One study as drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mark {
    /// The study's index in the plot's input.
    pub study: usize,
    /// Centre of the mark in backend pixels.
    pub centre: (f64, f64),
    /// The shape drawn.
    pub shape: MarkShape,
    /// The region that answers hover and click: the whole row in a forest plot, the mark
    /// widened to a comfortable target elsewhere.
    pub target: Rect,
}

impl Mark {
    /// A round mark of `radius` at `centre`, answering hover and click within a square of
    /// half-side `radius`, or `min_target` for a small mark.
    pub(crate) fn circle(study: usize, (x, y): (f64, f64), radius: f64, min_target: f64) -> Self {
        let half = radius.max(min_target);
        Self {
            study,
            centre: (x, y),
            shape: MarkShape::Circle { radius },
            target: Rect {
                left: x - half,
                top: y - half,
                right: x + half,
                bottom: y + half,
            },
        }
    }
}

/// A linear map between data values on one axis and backend pixels. For log measures the data
/// values are on the log scale (the axis only labels them back-transformed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AxisMap {
    /// Two data values …
    pub data: (f64, f64),
    /// … and the pixels they are drawn at.
    pub pixels: (f64, f64),
}

impl AxisMap {
    /// The pixel coordinate of a data value.
    pub fn to_pixel(&self, value: f64) -> f64 {
        let (d0, d1) = self.data;
        let (p0, p1) = self.pixels;
        p0 + (value - d0) * (p1 - p0) / (d1 - d0)
    }

    /// The data value at a pixel coordinate.
    pub fn to_data(&self, pixel: f64) -> f64 {
        let (d0, d1) = self.data;
        let (p0, p1) = self.pixels;
        d0 + (pixel - p0) * (d1 - d0) / (p1 - p0)
    }
}

/// What a draw function reports about the picture it drew.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlotLayout {
    /// One mark per study drawn, in the order of the plot's input.
    pub marks: Vec<Mark>,
    /// Horizontal axis, if the plot has a numeric one.
    pub x_axis: Option<AxisMap>,
    /// Vertical axis, if the plot has a numeric one.
    pub y_axis: Option<AxisMap>,
}

impl PlotLayout {
    /// The study under the point (backend pixels): of the marks whose target contains it, the
    /// one with the nearest centre, so overlapping bubbles resolve to the one pointed at.
    pub fn hit(&self, x: f64, y: f64) -> Option<usize> {
        self.marks
            .iter()
            .filter(|m| m.target.contains(x, y))
            .map(|m| {
                let (dx, dy) = (m.centre.0 - x, m.centre.1 - y);
                (m.study, dx * dx + dy * dy)
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(study, _)| study)
    }

    /// The layout of a plot drawn on a sub-area whose origin is at `base` in the backend: the
    /// draw functions work in the area's coordinates, the web app hit-tests in the canvas's.
    pub(crate) fn offset(mut self, base: (i32, i32)) -> Self {
        let (dx, dy) = (f64::from(base.0), f64::from(base.1));
        for mark in &mut self.marks {
            mark.centre = (mark.centre.0 + dx, mark.centre.1 + dy);
            mark.target = Rect {
                left: mark.target.left + dx,
                top: mark.target.top + dy,
                right: mark.target.right + dx,
                bottom: mark.target.bottom + dy,
            };
        }
        let shift = |map: AxisMap, d: f64| AxisMap {
            pixels: (map.pixels.0 + d, map.pixels.1 + d),
            ..map
        };
        self.x_axis = self.x_axis.map(|m| shift(m, dx));
        self.y_axis = self.y_axis.map(|m| shift(m, dy));
        self
    }

    /// The mark of a study, if it was drawn.
    pub fn mark(&self, study: usize) -> Option<&Mark> {
        self.marks.iter().find(|m| m.study == study)
    }
}
