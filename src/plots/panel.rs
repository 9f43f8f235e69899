//! The frame shared by the plots with two numeric axes (bubble, categories, funnel): the
//! plotting region inside margins, axes, a legend row above and a caption line below.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::{self, EffectScale, Tick};
use super::layout::{AxisMap, Mark, PlotLayout};
use super::paint::{label, polyline, px};
use super::theme::{self, Theme};
use super::PlotError;

/// Margin around the figure, in layout pixels.
const MARGIN: f64 = 16.0;
/// Height of the legend row above the plotting region.
const LEGEND_HEIGHT: f64 = 26.0;
/// Width of a legend swatch.
const SWATCH: f64 = 18.0;
/// Half the height of a legend swatch.
const SWATCH_HALF_HEIGHT: f64 = 5.0;
/// Gap between a legend swatch and its text.
const SWATCH_GAP: f64 = 5.0;
/// Gap between the legend and the plotting region, so the top tick label stays clear.
const LEGEND_GAP_BELOW: f64 = 10.0;
/// Gap after a legend entry.
const LEGEND_GAP: f64 = 16.0;
/// Height of the caption line under the axis title.
const CAPTION_HEIGHT: f64 = 20.0;
/// Room per tick label along the vertical axis.
const Y_TICK_SPACING: f64 = 48.0;
/// Radius of a legend dot.
const DOT_RADIUS: f64 = 4.0;

/// The plotting region and the axes' maps, in backend pixels.
#[derive(Clone)]
pub(crate) struct Frame {
    pub x: AxisMap,
    pub y: AxisMap,
    pub y_ticks: Vec<Tick>,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
    /// Where each legend entry starts (swatch's left edge, row's centre).
    legend_at: Vec<(f64, f64)>,
}

/// Width of a legend entry's swatch, gap and text.
fn entry_width(name: &str, theme: &Theme) -> f64 {
    theme.len(SWATCH + SWATCH_GAP) + theme.text_width(name, theme::SMALL_SIZE)
}

/// Places legend entries left to right from the margin, wrapping onto further rows rather
/// than running past the right edge.
/// Also returns the number of rows (at least 1, so every plot has the same top margin).
fn legend_positions(
    entries: &[(Swatch, &str)],
    width: f64,
    theme: &Theme,
) -> (Vec<(f64, f64)>, usize) {
    let left = theme.len(MARGIN);
    let right = width - theme.len(MARGIN);
    let mut row = 0usize;
    let mut x = left;
    let positions = entries
        .iter()
        .map(|(_, name)| {
            let w = entry_width(name, theme);
            if x > left && x + w > right {
                row += 1;
                x = left;
            }
            let at = (x, theme.len(MARGIN + (row as f64 + 0.5) * LEGEND_HEIGHT));
            x += w + theme.len(LEGEND_GAP);
            at
        })
        .collect();
    (positions, row + 1)
}

/// Lays out a frame for the data ranges on an area of `(width, height)` backend pixels, with
/// room for the legend `entries` above and a caption line below if `caption`.
pub(crate) fn frame(
    (width, height): (u32, u32),
    x_range: (f64, f64),
    y_range: (f64, f64),
    scale: EffectScale,
    legend: &[(Swatch, &str)],
    caption: bool,
    theme: &Theme,
) -> Frame {
    let (width, height) = (f64::from(width), f64::from(height));
    let (legend_at, legend_rows) = legend_positions(legend, width, theme);
    let top = theme.len(MARGIN + legend_rows as f64 * LEGEND_HEIGHT + LEGEND_GAP_BELOW);
    let caption_height = if caption {
        theme.len(CAPTION_HEIGHT)
    } else {
        0.0
    };
    let bottom =
        (height - theme.len(MARGIN) - axis::x_axis_height(theme) - caption_height).max(top + 1.0);
    let y_ticks = axis::ticks(
        y_range.0,
        y_range.1,
        scale,
        ((bottom - top) / theme.len(Y_TICK_SPACING))
            .floor()
            .clamp(2.0, 10.0) as usize,
    );
    let left = theme.len(MARGIN) + axis::y_axis_width(&y_ticks, theme);
    let right = (width - theme.len(MARGIN)).max(left + 1.0);
    Frame {
        x: AxisMap {
            data: x_range,
            pixels: (left, right),
        },
        y: AxisMap {
            data: y_range,
            pixels: (bottom, top),
        },
        y_ticks,
        left,
        right,
        top,
        bottom,
        legend_at,
    }
}

/// Whether [`draw_axes`] draws grid lines at the ticks of both axes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grid {
    /// Axes and ticks only (scatter-like plots, where grid lines would hide small marks).
    None,
    /// Grid lines across the plotting region at every tick of both axes.
    Both,
}

/// Draws `frame`'s x axis (ticks on `scale`) and y axis with their titles: the axes of every
/// plot with two numeric axes, drawn over whatever the plot has already filled in.
pub(crate) fn draw_axes<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    frame: &Frame,
    scale: EffectScale,
    (x_title, y_title): (&str, &str),
    grid: Grid,
    theme: &Theme,
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    let x_ticks = axis::x_ticks(&frame.x, scale, theme);
    let (horizontal, vertical) = match grid {
        Grid::None => (None, None),
        Grid::Both => (
            Some((frame.left, frame.right)),
            Some((frame.top, frame.bottom)),
        ),
    };
    axis::draw_y_axis(
        area,
        &frame.y,
        &frame.y_ticks,
        frame.left,
        horizontal,
        y_title,
        theme,
    )?;
    axis::draw_x_axis(
        area,
        &frame.x,
        &x_ticks,
        frame.bottom,
        vertical,
        x_title,
        theme,
    )
}

/// Lays out the frame of a plot on plain axes (x and y on the identity scale) over
/// `(x_range, y_range)`, with the `legend` above and room for a caption line below if
/// `caption`, fills the paper and draws the axes with their `titles`: the start of every
/// scatter-like plot (Baujat, L'Abbé, Q–Q and radial, the lab, the profile and scale plots).
pub(crate) fn plain_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x_range, y_range): ((f64, f64), (f64, f64)),
    legend: &[(Swatch, &str)],
    caption: bool,
    titles: (&str, &str),
    grid: Grid,
    theme: &Theme,
) -> Result<Frame, PlotError>
where
    DB::ErrorType: 'static,
{
    let frame = frame(
        area.dim_in_pixel(),
        x_range,
        y_range,
        EffectScale::Identity,
        legend,
        caption,
        theme,
    );
    area.fill(&theme::PAPER)?;
    draw_axes(area, &frame, EffectScale::Identity, titles, grid, theme)?;
    Ok(frame)
}

/// Checks that per-study inputs have one value per study.
pub(crate) fn check_lengths(k: usize, inputs: &[(&'static str, usize)]) -> Result<(), PlotError> {
    match inputs.iter().find(|(_, len)| *len != k) {
        Some(&(what, got)) => Err(PlotError::LengthMismatch {
            what,
            expected: k,
            got,
        }),
        None => Ok(()),
    }
}

/// The studies whose x and y are both finite, in order: the points a scatter-like plot can
/// draw (`x` and `y` have one value per study, as [`check_lengths`] checked).
///
/// # Errors
/// [`PlotError::NoData`] when there is none.
pub(crate) fn finite_points(x: &[f64], y: &[f64]) -> Result<Vec<usize>, PlotError> {
    let usable: Vec<usize> = (0..x.len())
        .filter(|&i| x[i].is_finite() && y[i].is_finite())
        .collect();
    if usable.is_empty() {
        return Err(PlotError::NoData);
    }
    Ok(usable)
}

/// One legend entry: what its swatch shows.
pub(crate) enum Swatch {
    /// A line in a colour.
    Line(RGBColor),
    /// A filled box in a colour with an opacity.
    Band(RGBColor, f64),
    /// A study's bubble.
    Bubble,
    /// A study's dot (funnel plot).
    Dot,
}

/// Draws the legend where [`frame`] placed it; `entries` are the ones the frame was laid out
/// with.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(Swatch, &str)],
    frame: &Frame,
    theme: &Theme,
) -> Result<(), PlotError> {
    let text = theme.text(theme::SMALL_SIZE, theme::INK);
    let half = theme.len(SWATCH_HALF_HEIGHT);
    for ((swatch, name), &(x, y)) in entries.iter().zip(&frame.legend_at) {
        let w = theme.len(SWATCH);
        match swatch {
            Swatch::Line(colour) => {
                polyline(
                    area,
                    &[(x, y), (x + w, y)],
                    colour.stroke_width(theme.px(2.0)),
                )?;
            }
            Swatch::Band(colour, alpha) => {
                let corners = [px(x, y - half), px(x + w, y + half)];
                area.draw(&Rectangle::new(corners, colour.mix(*alpha).filled()))?;
                // An outline, so a white or faint swatch still shows.
                area.draw(&Rectangle::new(corners, theme::MUTED.mix(0.6)))?;
            }
            Swatch::Bubble => {
                let centre = px(x + w / 2.0, y);
                let r = half.round() as i32;
                area.draw(&Circle::new(centre, r, theme::BLUE.mix(0.3).filled()))?;
                area.draw(&Circle::new(
                    centre,
                    r,
                    theme::BLUE.stroke_width(theme.px(1.0)),
                ))?;
            }
            Swatch::Dot => {
                let centre = px(x + w / 2.0, y);
                area.draw(&Circle::new(
                    centre,
                    theme.px(DOT_RADIUS) as i32,
                    theme::INK.filled(),
                ))?;
            }
        }
        let at = (x + w + theme.len(SWATCH_GAP), y);
        label(area, name, at, &text, (HPos::Left, VPos::Center))?;
    }
    Ok(())
}

/// The caption under the axis title, if any.
fn draw_caption<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    frame: &Frame,
    theme: &Theme,
) -> Result<(), PlotError> {
    if caption.is_empty() {
        return Ok(());
    }
    let y = frame.bottom + axis::x_axis_height(theme) + theme.len(CAPTION_HEIGHT / 2.0);
    let style = theme.text(theme::SMALL_SIZE, theme::MUTED);
    label(
        area,
        caption,
        ((frame.left + frame.right) / 2.0, y),
        &style,
        (HPos::Center, VPos::Center),
    )
}

/// The line of no effect across the plotting region, when 0 is inside the vertical range.
pub(crate) fn draw_null_line<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    frame: &Frame,
    theme: &Theme,
) -> Result<(), PlotError> {
    if frame.y.data.0 < 0.0 && frame.y.data.1 > 0.0 {
        let y = frame.y.to_pixel(0.0);
        polyline(
            area,
            &[(frame.left, y), (frame.right, y)],
            theme::MUTED.stroke_width(theme.px(1.0)),
        )?;
    }
    Ok(())
}

/// Draws the legend and the caption over everything else, presents the area and returns the
/// layout of `marks` with the frame's axes, in the pixels of `area`'s backend.
pub(crate) fn finish<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    legend: &[(Swatch, &str)],
    caption: &str,
    frame: Frame,
    marks: Vec<Mark>,
    theme: &Theme,
) -> Result<PlotLayout, PlotError> {
    let layout = decorate(area, legend, caption, frame, marks, theme)?;
    area.present()?;
    Ok(layout)
}

/// [`finish`] without presenting the area: for a plot drawn in steps (GOSH), whose later steps
/// draw onto the same area (an SVG backend closes its document when presented).
pub(crate) fn decorate<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    legend: &[(Swatch, &str)],
    caption: &str,
    frame: Frame,
    marks: Vec<Mark>,
    theme: &Theme,
) -> Result<PlotLayout, PlotError> {
    draw_legend(area, legend, &frame, theme)?;
    draw_caption(area, caption, &frame, theme)?;
    Ok(PlotLayout {
        marks,
        x_axis: Some(frame.x),
        y_axis: Some(frame.y),
    }
    .offset(area.get_base_pixel()))
}
