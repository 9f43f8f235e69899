//! The GOSH plot (Olkin, Dahabreh & Trikalinos, 2012), as metafor's `plot(gosh)` draws its
//! estimate-against-I² panel: one small translucent dot per subset of studies (the pooled
//! estimate of the model fitted to the subset, horizontally; its I², vertically), where
//! clusters show groups of studies that pull the answer apart, and a histogram of each axis in
//! the margins. Subsets that hold a chosen study are drawn in a second colour, with histograms
//! of their own (metafor: `plot(res, out = i)`).
//!
//! Both axes are fixed before the first subset comes (I² is 0–100 %, and the pooled estimate
//! of any subset lies within the studies' range), so the page can draw subsets as a Web
//! Worker sends them: [`GoshFrame`] lays the plot out once, [`draw_gosh_background`] draws the
//! axes and the legend, [`draw_gosh_points`] adds a slice of subsets over what is there, and
//! [`draw_gosh_margins`] redraws the two histograms from [`GoshHistograms`]. [`draw_gosh`]
//! draws a whole [`GoshPlot`] at once, for SVG export and the tests.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::EffectScale;
use super::layout::PlotLayout;
use super::paint::px;
use super::panel::{check_lengths, decorate, draw_axes, frame, Frame, Grid, Swatch};
use super::theme::{self, Theme};
use super::PlotError;

/// Radius of a subset's dot, in layout pixels.
const DOT_RADIUS: f64 = 1.5;
/// Opacity of a subset's dot: dense regions build up colour, lone subsets stay visible.
const DOT_ALPHA: f64 = 0.25;
/// Opacity of a marked subset's dot.
const MARKED_ALPHA: f64 = 0.5;
/// Depth of each histogram band in the margins, in layout pixels.
const BAND: f64 = 56.0;
/// Gap between a histogram band and the plotting region.
const BAND_GAP: f64 = 6.0;
/// Bars per histogram.
pub const BINS: usize = 50;
/// The I² axis: percent.
const I2_RANGE: (f64, f64) = (0.0, 100.0);

/// What a GOSH plot shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GoshPlot {
    /// The pooled estimate of each subset's fit.
    pub estimate: Vec<f64>,
    /// I² of each subset's fit, in percent.
    pub i2: Vec<f64>,
    /// Whether each subset holds the chosen study; empty when none is chosen.
    pub marked: Vec<bool>,
    /// The estimate axis's range (the studies' range holds every subset's pooled estimate).
    pub x_range: (f64, f64),
    /// Title of the estimate axis.
    pub x_label: String,
    /// Legend entry of the marked subsets ("Subsets with Aronson"), empty when none is chosen.
    pub marked_label: String,
}

/// The layout of a GOSH plot on an area: the plotting region, the two histogram bands and the
/// legend, computed once per size.
#[derive(Clone)]
pub struct GoshFrame {
    frame: Frame,
    legend: Vec<(bool, String)>,
    radius: i32,
}

impl GoshFrame {
    /// The layout for an area of `size` backend pixels, the estimate axis over `x_range`;
    /// `marked_label` names the marked subsets in the legend (empty: none are).
    pub fn new(size: (u32, u32), x_range: (f64, f64), marked_label: &str, theme: &Theme) -> Self {
        let mut legend = vec![(false, "Subsets".to_owned())];
        if !marked_label.is_empty() {
            legend.push((true, marked_label.to_owned()));
        }
        let entries = swatches(&legend);
        let mut frame = frame(
            size,
            x_range,
            I2_RANGE,
            EffectScale::Identity,
            &entries,
            false,
            theme,
        );
        // Room for the histograms: a band above the region and one to its right.
        let band = theme.len(BAND + BAND_GAP);
        frame.top = (frame.top + band).min(frame.bottom - 1.0);
        frame.y.pixels.1 = frame.top;
        frame.right = (frame.right - band).max(frame.left + 1.0);
        frame.x.pixels.1 = frame.right;
        Self {
            frame,
            legend,
            radius: theme.len(DOT_RADIUS).round().max(1.0) as i32,
        }
    }

    /// The estimate axis's range.
    pub fn x_range(&self) -> (f64, f64) {
        self.frame.x.data
    }
}

fn swatches(legend: &[(bool, String)]) -> Vec<(Swatch, &str)> {
    legend
        .iter()
        .map(|(marked, name)| {
            let swatch = if *marked {
                Swatch::Band(theme::VERMILLION, MARKED_ALPHA)
            } else {
                Swatch::Band(theme::BLUE, DOT_ALPHA)
            };
            (swatch, name.as_str())
        })
        .collect()
}

/// The bar of `value` on an axis over `(lo, hi)` cut into [`BINS`] bars; values outside go to
/// the end bars, values that are not numbers to none.
fn bin(value: f64, (lo, hi): (f64, f64)) -> Option<usize> {
    if !value.is_finite() || hi <= lo {
        return None;
    }
    let at = ((value - lo) / (hi - lo) * BINS as f64).floor();
    Some(at.clamp(0.0, (BINS - 1) as f64) as usize)
}

/// Counts of subsets per histogram bar, on both axes, of all subsets and of the marked ones,
/// kept as subsets come.
#[derive(Debug, Clone, PartialEq)]
pub struct GoshHistograms {
    x_range: (f64, f64),
    x: [Vec<u32>; 2],
    y: [Vec<u32>; 2],
}

impl GoshHistograms {
    /// Empty histograms, the estimate's over `x_range`.
    pub fn new(x_range: (f64, f64)) -> Self {
        let empty = || [vec![0; BINS], vec![0; BINS]];
        Self {
            x_range,
            x: empty(),
            y: empty(),
        }
    }

    /// Counts one subset.
    pub fn add(&mut self, estimate: f64, i2: f64, marked: bool) {
        for (counts, bar) in [
            (&mut self.x, bin(estimate, self.x_range)),
            (&mut self.y, bin(i2, I2_RANGE)),
        ] {
            if let Some(b) = bar {
                counts[0][b] += 1;
                if marked {
                    counts[1][b] += 1;
                }
            }
        }
    }

    /// Subsets counted per bar of the estimate's histogram: all, and the marked.
    pub fn estimate_counts(&self) -> &[Vec<u32>; 2] {
        &self.x
    }

    /// The same for I².
    pub fn i2_counts(&self) -> &[Vec<u32>; 2] {
        &self.y
    }
}

/// Fills the area and draws the axes and the legend of `frame`: the empty plot the subsets
/// are drawn onto. The area is not presented: the caller presents it once drawn.
///
/// # Errors
/// A backend failure.
pub fn draw_gosh_background<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    frame: &GoshFrame,
    x_label: &str,
    theme: &Theme,
) -> Result<PlotLayout, PlotError>
where
    DB::ErrorType: 'static,
{
    area.fill(&theme::PAPER)?;
    draw_axes(
        area,
        &frame.frame,
        EffectScale::Identity,
        (x_label, "I\u{b2} (%)"),
        Grid::None,
        theme,
    )?;
    decorate(
        area,
        &swatches(&frame.legend),
        "",
        frame.frame.clone(),
        Vec::new(),
        theme,
    )
}

/// Draws subsets over what is drawn: one dot each at (estimate, I²), in the second colour
/// where `marked` (empty: none is). Subsets with a coordinate that is not a number, or outside
/// the frame's range, get no dot.
///
/// # Errors
/// [`PlotError::LengthMismatch`] when `i2` (or a non-empty `marked`) does not have one entry
/// per estimate, or a backend failure.
pub fn draw_gosh_points<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    frame: &GoshFrame,
    estimate: &[f64],
    i2: &[f64],
    marked: &[bool],
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    let n = estimate.len();
    check_lengths(n, &[("I² values", i2.len())])?;
    if !marked.is_empty() {
        check_lengths(n, &[("marks", marked.len())])?;
    }
    let f = &frame.frame;
    let (x_lo, x_hi) = f.x.data;
    let plain = theme::BLUE.mix(DOT_ALPHA).filled();
    let second = theme::VERMILLION.mix(MARKED_ALPHA).filled();
    for j in 0..n {
        let (x, y) = (estimate[j], i2[j]);
        if !(x >= x_lo && x <= x_hi && (I2_RANGE.0..=I2_RANGE.1).contains(&y)) {
            continue;
        }
        let style = if marked.get(j).copied().unwrap_or(false) {
            second
        } else {
            plain
        };
        area.draw(&Circle::new(
            px(f.x.to_pixel(x), f.y.to_pixel(y)),
            frame.radius,
            style,
        ))?;
    }
    Ok(())
}

/// Redraws the two histogram bands from `histograms`: bars of all subsets, and over them bars
/// of the marked ones, both scaled to the tallest bar of all.
///
/// # Errors
/// A backend failure.
pub fn draw_gosh_margins<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    frame: &GoshFrame,
    histograms: &GoshHistograms,
    theme: &Theme,
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    let f = &frame.frame;
    let (gap, band) = (theme.len(BAND_GAP), theme.len(BAND));
    // Above the region: x from left to right, bars rising from its top edge (less the gap).
    let base_x = f.top - gap;
    let top_band = [px(f.left, base_x - band), px(f.right + 1.0, base_x + 1.0)];
    // Right of the region: bars growing rightwards from its right edge (plus the gap).
    let base_y = f.right + gap;
    let side_band = [px(base_y - 1.0, f.top), px(base_y + band, f.bottom + 1.0)];
    for corners in [top_band, side_band] {
        area.draw(&Rectangle::new(corners, theme::PAPER.filled()))?;
    }
    let tallest = |counts: &[Vec<u32>; 2]| counts[0].iter().copied().max().unwrap_or(0).max(1);
    let colours = [
        theme::BLUE.mix(0.35).filled(),
        theme::VERMILLION.mix(0.7).filled(),
    ];
    let x_counts = histograms.estimate_counts();
    let (x_lo, x_hi) = f.x.data;
    let x_tall = f64::from(tallest(x_counts));
    let y_counts = histograms.i2_counts();
    let y_tall = f64::from(tallest(y_counts));
    for (series, colour) in colours.iter().enumerate() {
        for b in 0..BINS {
            let edge = |i: usize| x_lo + (x_hi - x_lo) * i as f64 / BINS as f64;
            let count = f64::from(x_counts[series][b]);
            if count > 0.0 {
                let height = band * count / x_tall;
                area.draw(&Rectangle::new(
                    [
                        px(f.x.to_pixel(edge(b)), base_x - height),
                        px(f.x.to_pixel(edge(b + 1)), base_x),
                    ],
                    *colour,
                ))?;
            }
            let edge = |i: usize| I2_RANGE.1 * i as f64 / BINS as f64;
            let count = f64::from(y_counts[series][b]);
            if count > 0.0 {
                let width = band * count / y_tall;
                area.draw(&Rectangle::new(
                    [
                        px(base_y, f.y.to_pixel(edge(b + 1))),
                        px(base_y + width, f.y.to_pixel(edge(b))),
                    ],
                    *colour,
                ))?;
            }
        }
    }
    Ok(())
}

/// Draws `plot` onto `area`, filling it; the layout has the axes' maps and no marks (a dot
/// is a subset, not a study).
///
/// # Errors
/// [`PlotError::LengthMismatch`] when `i2` or a non-empty `marked` do not have one entry per
/// estimate, [`PlotError::NoData`] when there are no subsets, or a backend failure.
pub fn draw_gosh<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &GoshPlot,
    theme: &Theme,
) -> Result<PlotLayout, PlotError>
where
    DB::ErrorType: 'static,
{
    if plot.estimate.is_empty() {
        return Err(PlotError::NoData);
    }
    let frame = GoshFrame::new(area.dim_in_pixel(), plot.x_range, &plot.marked_label, theme);
    let layout = draw_gosh_background(area, &frame, &plot.x_label, theme)?;
    draw_gosh_points(area, &frame, &plot.estimate, &plot.i2, &plot.marked)?;
    let mut histograms = GoshHistograms::new(frame.x_range());
    for j in 0..plot.estimate.len() {
        let marked = plot.marked.get(j).copied().unwrap_or(false);
        histograms.add(plot.estimate[j], plot.i2[j], marked);
    }
    draw_gosh_margins(area, &frame, &histograms, theme)?;
    area.present()?;
    Ok(layout)
}
