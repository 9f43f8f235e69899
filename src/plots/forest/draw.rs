//! Drawing the forest plot: the header, the lines of no effect and of the pooled estimate,
//! then row by row (studies with squares and intervals, diamonds, the prediction interval,
//! notes) and the axis — only the rows in view when a window of a tall plot is drawn.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::columns::{
    columns, has_weights, header_text, height_for, interval_text, label_header, pi_text, shortened,
    Columns, HEADER_HEIGHT, MARGIN, PI_LABEL, ROW_HEIGHT, WEIGHT_HEADER,
};
use super::rows::{percent_of, rows, total_weight, Row};
use super::{ForestPlot, ForestStudy};
use crate::format::signed;
use crate::plots::axis;
use crate::plots::layout::{AxisMap, Mark, MarkShape, PlotLayout, Rect};
use crate::plots::paint::{area_scaled, draw_interval, label, polyline, px, usable_weight};
use crate::plots::theme::{self, Theme};
use crate::plots::PlotError;
use crate::stats::Prediction;

/// Side of the square of the study with the largest weight; below the row height so squares
/// of neighbouring rows never touch.
const MAX_SQUARE: f64 = 16.0;
/// Side of the square of a study with a tiny weight, so it stays visible.
const MIN_SQUARE: f64 = 4.0;
/// Side of every square of a plot of refits, whose rows carry no weight.
const REFIT_SQUARE: f64 = 8.0;
/// Half the height of a summary diamond.
const DIAMOND_HALF_HEIGHT: f64 = 7.0;
/// Half the height of the caps at the ends of an interval.
const CAP_HALF_HEIGHT: f64 = 3.0;
/// Gap between a highlighted study's square and the ring drawn around it.
const RING_GAP: f64 = 3.0;
/// The line at the pooled estimate: lighter than the line of no effect.
const POOLED_LINE: RGBColor = RGBColor(160, 166, 176);
/// Fill of the diamonds of fitted values: quieter than the studies drawn over them.
const FITTED_FILL: RGBColor = RGBColor(196, 200, 206);
/// Half the height of a fitted value's diamond.
const FITTED_HALF_HEIGHT: f64 = 5.0;

const LEFT_MID: (HPos, VPos) = (HPos::Left, VPos::Center);
const RIGHT_MID: (HPos, VPos) = (HPos::Right, VPos::Center);

/// What every row's drawing needs: the area, the plot, its columns and axis, and the styles.
struct Sheet<'a, DB: DrawingBackend> {
    area: &'a DrawingArea<DB, Shift>,
    plot: &'a ForestPlot,
    theme: &'a Theme,
    cols: Columns,
    map: AxisMap,
    text: TextStyle<'a>,
    bold: TextStyle<'a>,
    ink: ShapeStyle,
    row_height: f64,
}

/// The whole plot (`scroll` = `None`, the area must hold it) or the part from `scroll` down.
pub(super) fn draw_part<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &ForestPlot,
    theme: &Theme,
    highlight: Option<usize>,
    scroll: Option<f64>,
) -> Result<PlotLayout, PlotError>
where
    DB::ErrorType: 'static,
{
    if plot.studies.is_empty() {
        return Err(PlotError::NoData);
    }
    let rows = rows(plot)?;
    let (width, height) = area.dim_in_pixel();
    let cols = columns(plot, &rows, f64::from(width), theme);
    let needed = (
        cols.min_width.ceil() as u32,
        height_for(rows.len(), theme).ceil() as u32,
    );
    let too_short = scroll.is_none() && height < needed.1;
    if width < needed.0 || too_short {
        return Err(PlotError::AreaTooSmall {
            needed,
            available: (width, height),
        });
    }
    let scroll = scroll.unwrap_or(0.0);
    let map = AxisMap {
        data: x_extent(plot, &rows),
        pixels: cols.panel,
    };
    let sheet = Sheet {
        area,
        plot,
        theme,
        cols,
        map,
        text: theme.text(theme::TEXT_SIZE, theme::INK),
        bold: theme.bold(theme::TEXT_SIZE, theme::INK),
        ink: theme::INK.stroke_width(theme.px(1.0)),
        row_height: theme.len(ROW_HEIGHT),
    };
    let top = theme.len(MARGIN + HEADER_HEIGHT) - scroll;
    let row_centre = |i: usize| top + (i as f64 + 0.5) * sheet.row_height;
    let panel_bottom = top + (rows.len() as f64 + 0.5) * sheet.row_height;
    // Rows wholly outside the area are skipped: the rows of a tall plot are most of its cost.
    let in_view = |y: f64| y >= -sheet.row_height && y <= f64::from(height) + sheet.row_height;

    area.fill(&theme::PAPER)?;
    sheet.header(top, scroll)?;
    // The highlighted row's band goes under everything else.
    let highlighted_row = highlight.and_then(|h| rows.iter().position(|r| *r == Row::Study(h)));
    if let Some(i) = highlighted_row {
        sheet.band(row_centre(i))?;
    }
    // The reference lines run down to the last study or diamond (not through the prediction
    // interval and notes below).
    let last_mark = rows
        .iter()
        .rposition(|r| matches!(r, Row::Study(_) | Row::Summary { .. }))
        .map_or(panel_bottom, |i| row_centre(i) + sheet.row_height / 2.0);
    sheet.reference_lines(top, last_mark)?;

    let max_weight = plot
        .studies
        .iter()
        .map(|s| usable_weight(s.weight))
        .fold(0.0, f64::max);
    let total_weight = total_weight(plot);
    let mut marks = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let y = row_centre(i);
        if !in_view(y) {
            continue;
        }
        match row {
            Row::Heading(name) => {
                let at = (sheet.cols.label_left, y);
                label(area, &shortened(name), at, &sheet.bold, LEFT_MID)?;
            }
            Row::Study(index) => {
                let share = percent_of(usable_weight(plot.studies[*index].weight), total_weight);
                let highlighted = highlight == Some(*index);
                if let Some(mark) = sheet.study(*index, y, share, max_weight, highlighted)? {
                    marks.push(mark);
                }
            }
            Row::Summary {
                label: name,
                prediction,
                weight_share,
                hollow,
            } => sheet.summary(name, prediction, *weight_share, *hollow, y)?,
            Row::PredictionInterval(p) => sheet.prediction_interval(p, y)?,
            Row::Note(note) => {
                let small = theme.text(theme::SMALL_SIZE, theme::MUTED);
                label(area, note, (sheet.cols.label_left, y), &small, LEFT_MID)?;
            }
            Row::Gap => {}
        }
    }

    let ticks = axis::x_ticks(&sheet.map, plot.scale, theme);
    let title = plot.scale.axis_title(&plot.measure);
    axis::draw_x_axis(area, &sheet.map, &ticks, panel_bottom, None, &title, theme)?;
    area.present()?;
    Ok(PlotLayout {
        marks,
        x_axis: Some(sheet.map),
        y_axis: None,
    }
    .offset(area.get_base_pixel()))
}

impl<DB: DrawingBackend> Sheet<'_, DB>
where
    DB::ErrorType: 'static,
{
    /// The header row and the rule under it, whose top is `top`.
    fn header(&self, top: f64, scroll: f64) -> Result<(), PlotError> {
        let (area, cols, theme) = (self.area, &self.cols, self.theme);
        let header_y = theme.len(MARGIN + HEADER_HEIGHT / 2.0) - scroll;
        // Scrolled out of a window: plotters places text that starts above the area at its top
        // edge, over the first rows in view, so the header is simply not drawn.
        if header_y + theme.len(HEADER_HEIGHT / 2.0) > 0.0 {
            let bold = &self.bold;
            label(
                area,
                label_header(self.plot),
                (cols.label_left, header_y),
                bold,
                LEFT_MID,
            )?;
            let estimate = header_text(self.plot);
            label(
                area,
                &estimate,
                (cols.estimate_right, header_y),
                bold,
                RIGHT_MID,
            )?;
            if has_weights(self.plot) {
                label(
                    area,
                    WEIGHT_HEADER,
                    (cols.weight_right, header_y),
                    bold,
                    RIGHT_MID,
                )?;
            }
        }
        polyline(
            area,
            &[(cols.label_left, top), (cols.weight_right, top)],
            self.ink,
        )
    }

    /// The tinted band behind the highlighted row centred at `y`.
    fn band(&self, y: f64) -> Result<(), PlotError> {
        let half = self.row_height / 2.0;
        self.area.draw(&Rectangle::new(
            [
                px(self.cols.label_left, y - half),
                px(self.cols.weight_right, y + half),
            ],
            theme::YELLOW.mix(0.3).filled(),
        ))?;
        Ok(())
    }

    /// The line of no effect and a light line at the pooled estimate, from `top` to `bottom`
    /// (solid: a dashed line is one element per dash, which at k = 1 000 doubled the drawing
    /// time).
    fn reference_lines(&self, top: f64, bottom: f64) -> Result<(), PlotError> {
        let null_x = self.map.to_pixel(0.0);
        polyline(self.area, &[(null_x, top), (null_x, bottom)], self.ink)?;
        if let Some(p) = &self.plot.pooled {
            let x = self.map.to_pixel(p.pred);
            let light = POOLED_LINE.stroke_width(self.theme.px(1.0));
            polyline(self.area, &[(x, top), (x, bottom)], light)?;
        }
        Ok(())
    }

    /// Study `index`'s row at height `y`: label, printed interval and weight, the fitted
    /// value's diamond, the interval and the weighted square; its mark for hover and click,
    /// if it has an interval to draw.
    fn study(
        &self,
        index: usize,
        y: f64,
        share: f64,
        max_weight: f64,
        highlighted: bool,
    ) -> Result<Option<Mark>, PlotError> {
        let (area, cols, theme) = (self.area, &self.cols, self.theme);
        let study: &ForestStudy = &self.plot.studies[index];
        let style = if highlighted { &self.bold } else { &self.text };
        let indent = if self.plot.subgroups.is_empty() {
            0.0
        } else {
            theme.len(8.0)
        };
        let name = shortened(&study.label);
        label(area, &name, (cols.label_left + indent, y), style, LEFT_MID)?;
        let printed = interval_text(
            self.cols.numbers,
            study.estimate,
            study.ci_lower,
            study.ci_upper,
        );
        label(area, &printed, (cols.estimate_right, y), style, RIGHT_MID)?;
        let weighted = has_weights(self.plot);
        if weighted {
            let weight = format!("{}%", signed(share, 1));
            label(area, &weight, (cols.weight_right, y), style, RIGHT_MID)?;
        }
        if let Some(p) = &study.fitted {
            self.fitted(p, y)?;
        }
        let drawable = [study.estimate, study.ci_lower, study.ci_upper]
            .iter()
            .all(|v| v.is_finite());
        if !drawable {
            return Ok(None);
        }
        let (lo, hi) = (
            self.map.to_pixel(study.ci_lower),
            self.map.to_pixel(study.ci_upper),
        );
        draw_interval(area, (lo, hi), y, theme.len(CAP_HALF_HEIGHT), self.ink)?;
        let side = if weighted {
            area_scaled(
                study.weight,
                max_weight,
                theme.len(MAX_SQUARE),
                theme.len(MIN_SQUARE),
            )
        } else {
            theme.len(REFIT_SQUARE)
        };
        let x = self.map.to_pixel(study.estimate);
        let half = side / 2.0;
        area.draw(&Rectangle::new(
            [px(x - half, y - half), px(x + half, y + half)],
            theme::BLUE.filled(),
        ))?;
        if highlighted {
            let r = half + theme.len(RING_GAP);
            let ring = [
                (x - r, y - r),
                (x + r, y - r),
                (x + r, y + r),
                (x - r, y + r),
                (x - r, y - r),
            ];
            polyline(area, &ring, theme::INK.stroke_width(theme.px(2.0)))?;
        }
        Ok(Some(Mark {
            study: index,
            centre: (x, y),
            shape: MarkShape::Box {
                half_width: half,
                half_height: half,
            },
            target: Rect {
                left: cols.label_left,
                top: y - self.row_height / 2.0,
                right: cols.weight_right,
                bottom: y + self.row_height / 2.0,
            },
        }))
    }

    /// A pooled estimate's row: its label, printed interval and weight share, and its diamond.
    fn summary(
        &self,
        name: &str,
        p: &Prediction,
        weight_share: f64,
        hollow: bool,
        y: f64,
    ) -> Result<(), PlotError> {
        let (area, cols, bold) = (self.area, &self.cols, &self.bold);
        label(area, &shortened(name), (cols.label_left, y), bold, LEFT_MID)?;
        let printed = interval_text(self.cols.numbers, p.pred, p.ci_lower, p.ci_upper);
        label(area, &printed, (cols.estimate_right, y), bold, RIGHT_MID)?;
        if has_weights(self.plot) {
            let weight = format!("{}%", signed(weight_share, 1));
            label(area, &weight, (cols.weight_right, y), bold, RIGHT_MID)?;
        }
        self.diamond(p, y, hollow)
    }

    /// The prediction interval's row.
    fn prediction_interval(&self, p: &Prediction, y: f64) -> Result<(), PlotError> {
        let (area, cols) = (self.area, &self.cols);
        label(area, PI_LABEL, (cols.label_left, y), &self.text, LEFT_MID)?;
        let printed = pi_text(self.cols.numbers, p);
        label(
            area,
            &printed,
            (cols.estimate_right, y),
            &self.text,
            RIGHT_MID,
        )?;
        let (lo, hi) = (self.map.to_pixel(p.pi_lower), self.map.to_pixel(p.pi_upper));
        draw_interval(
            area,
            (lo, hi),
            y,
            self.theme.len(CAP_HALF_HEIGHT),
            theme::VERMILLION.stroke_width(self.theme.px(2.0)),
        )
    }

    /// A study's fitted value: a grey diamond as wide as its confidence interval, centred at it.
    fn fitted(&self, p: &Prediction, y: f64) -> Result<(), PlotError> {
        let corners = diamond(&self.map, p, y, self.theme.len(FITTED_HALF_HEIGHT));
        let corners: Vec<(i32, i32)> = corners.iter().map(|&(x, y)| px(x, y)).collect();
        self.area
            .draw(&Polygon::new(corners, FITTED_FILL.filled()))?;
        Ok(())
    }

    /// A summary diamond: its width is the confidence interval, its centre the estimate.
    fn diamond(&self, p: &Prediction, y: f64, hollow: bool) -> Result<(), PlotError> {
        let corners = diamond(&self.map, p, y, self.theme.len(DIAMOND_HALF_HEIGHT));
        let fill = if hollow { theme::PAPER } else { theme::INK };
        self.area.draw(&Polygon::new(
            corners.iter().map(|&(x, y)| px(x, y)).collect::<Vec<_>>(),
            fill.filled(),
        ))?;
        let mut outline = corners.to_vec();
        outline.push(corners[0]);
        polyline(
            self.area,
            &outline,
            theme::INK.stroke_width(self.theme.px(1.0)),
        )
    }
}

/// The horizontal extent on the fitted scale: every interval drawn, and the line of no effect.
fn x_extent(plot: &ForestPlot, rows: &[Row<'_>]) -> (f64, f64) {
    let values = rows.iter().flat_map(|row| match row {
        Row::Study(i) => {
            let s = &plot.studies[*i];
            let fitted = s
                .fitted
                .as_ref()
                .map_or([f64::NAN; 2], |p| [p.ci_lower, p.ci_upper]);
            vec![s.estimate, s.ci_lower, s.ci_upper, fitted[0], fitted[1]]
        }
        Row::Summary { prediction: p, .. } => vec![p.ci_lower, p.ci_upper],
        Row::PredictionInterval(p) => vec![p.pi_lower, p.pi_upper],
        _ => Vec::new(),
    });
    let (lo, hi) = axis::extent(values.chain([0.0])).unwrap_or((-1.0, 1.0));
    axis::padded(lo, hi, 0.04, 1.0)
}

/// The corners of a diamond at height `y` spanning `p`'s confidence interval, its top and
/// bottom corners at the estimate, `half_height` above and below: left, top, right, bottom.
fn diamond(map: &AxisMap, p: &Prediction, y: f64, half_height: f64) -> [(f64, f64); 4] {
    let (lo, mid, hi) = (
        map.to_pixel(p.ci_lower),
        map.to_pixel(p.pred),
        map.to_pixel(p.ci_upper),
    );
    [
        (lo, y),
        (mid, y - half_height),
        (hi, y),
        (mid, y + half_height),
    ]
}
