//! The Baujat plot (Baujat et al., 2002): each study's contribution to the heterogeneity
//! statistic (horizontal) against its influence on the fitted result (vertical), as metafor's
//! `baujat` draws them from the records of `analysis::sensitivity`. Studies far to the right
//! add heterogeneity; studies high up move the answer; one mark per study, and a label for each
//! of the [`LABELLED`] studies standing out most.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::layout::{Mark, PlotLayout};
use super::paint::{label, px};
use super::panel::{check_lengths, finish, finite_points, plain_panel, Grid, Swatch};
use super::theme::{self, Theme};
use super::PlotError;

/// Radius of a study's dot, in layout pixels.
const DOT_RADIUS: f64 = 4.0;
/// Smallest hover target around a dot (half its side).
const MIN_TARGET: f64 = 6.0;
/// Gap between a highlighted dot and the ring drawn around it.
const RING_GAP: f64 = 3.0;
/// Share of the range added on each side.
const PAD: f64 = 0.06;
/// Offset of a study's label from its dot.
const LABEL_OFFSET: f64 = 7.0;
/// The most studies labelled. metafor labels every study, and so does this up to 40; above
/// that the labels pile into an unreadable band along the axes (and at k = 3,000 drawing them
/// took 40–48 ms of one frame), while the studies a Baujat plot is read for, far right or high
/// up, stay labelled. Every dot still names its study on hover and in the hidden study list.
pub const LABELLED: usize = 40;

/// What a Baujat plot shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BaujatPlot {
    /// Contribution of each study to the heterogeneity statistic.
    pub x: Vec<f64>,
    /// Influence of each study on the fitted result (not finite: the model cannot be refitted
    /// without it, and the study gets no mark).
    pub y: Vec<f64>,
    /// Study labels.
    pub labels: Vec<String>,
}

/// Draws `plot` onto `area`, filling it; `highlight` is a study index drawn with a ring.
///
/// # Errors
/// [`PlotError::LengthMismatch`] when `y` or `labels` do not have one entry per `x`,
/// [`PlotError::NoData`] when no study can be drawn, or a backend failure.
pub fn draw_baujat<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &BaujatPlot,
    theme: &Theme,
    highlight: Option<usize>,
) -> Result<PlotLayout, PlotError>
where
    DB::ErrorType: 'static,
{
    let k = plot.x.len();
    check_lengths(
        k,
        &[("influences", plot.y.len()), ("labels", plot.labels.len())],
    )?;
    let usable = finite_points(&plot.x, &plot.y)?;
    // Both axes start at 0: contributions and influences are squares.
    let hi = |v: &[f64]| {
        usable
            .iter()
            .map(|&i| v[i])
            .fold(0.0, f64::max)
            .max(f64::MIN_POSITIVE)
    };
    let (x_hi, y_hi) = (hi(&plot.x), hi(&plot.y));
    let legend = [(Swatch::Dot, "Study")];
    let frame = plain_panel(
        area,
        ((0.0, x_hi * (1.0 + PAD)), (0.0, y_hi * (1.0 + PAD))),
        &legend,
        false,
        (
            "Contribution to the heterogeneity statistic",
            "Influence on the fitted result",
        ),
        Grid::None,
        theme,
    )?;
    let radius = theme.len(DOT_RADIUS);
    let small = theme.text(theme::SMALL_SIZE, theme::MUTED);
    let offset = theme.len(LABEL_OFFSET);
    let width = f64::from(area.dim_in_pixel().0);
    let labelled = standing_out(plot, &usable, (x_hi, y_hi));
    let mut marks = Vec::with_capacity(usable.len());
    for &i in &usable {
        let (x, y) = (frame.x.to_pixel(plot.x[i]), frame.y.to_pixel(plot.y[i]));
        area.draw(&Circle::new(
            px(x, y),
            radius.round() as i32,
            theme::INK.mix(0.85).filled(),
        ))?;
        marks.push(Mark::circle(i, (x, y), radius, theme.len(MIN_TARGET)));
        if !labelled[i] {
            continue;
        }
        // The study adding the most heterogeneity sits at the right edge: a label that would
        // run past it goes to the dot's left.
        let text = &plot.labels[i];
        let fits = x + offset + theme.text_width(text, theme::SMALL_SIZE) <= width;
        let (at, side) = if fits {
            (x + offset, HPos::Left)
        } else {
            (x - offset, HPos::Right)
        };
        label(area, text, (at, y - offset), &small, (side, VPos::Bottom))?;
    }
    if let Some(mark) = highlight.and_then(|h| marks.iter().find(|m| m.study == h)) {
        let ring = (radius + theme.len(RING_GAP)).round() as i32;
        area.draw(&Circle::new(
            px(mark.centre.0, mark.centre.1),
            ring,
            theme::INK.stroke_width(theme.px(2.0)),
        ))?;
    }
    finish(area, &legend, "", frame, marks, theme)
}

/// Which studies get a label: every usable one up to [`LABELLED`], else the [`LABELLED`]
/// farthest from the origin in the plot's own scale (the larger of the two coordinates, each
/// over its axis's maximum `hi`), ties going to the earlier study.
fn standing_out(plot: &BaujatPlot, usable: &[usize], hi: (f64, f64)) -> Vec<bool> {
    let mut labelled = vec![false; plot.x.len()];
    let mut ranked = usable.to_vec();
    if ranked.len() > LABELLED {
        let reach = |i: usize| (plot.x[i] / hi.0).max(plot.y[i] / hi.1);
        ranked.sort_by(|&a, &b| reach(b).total_cmp(&reach(a)).then(a.cmp(&b)));
        ranked.truncate(LABELLED);
    }
    for i in ranked {
        labelled[i] = true;
    }
    labelled
}
