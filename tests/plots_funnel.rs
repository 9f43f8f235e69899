//! The funnel plot drawn to SVG means what it should: standard error 0 at the top, the
//! pseudo-confidence region symmetric about the estimate, one dot per study at its effect and
//! standard error, contours, and Egger's line starting at the limit estimate.

mod plots_support;

use meridian::plots::{draw_funnel, EffectScale, FunnelPlot, PlotError, PlotLayout, Theme};
use plots_support::*;
use plotters::prelude::*;

/// Size of the figures.
const SIZE: (u32, u32) = (760, 520);
/// Pixel positions are rounded to whole pixels when drawn.
const PIXEL: f64 = 1.0;
/// 95 % two-sided normal critical value.
const Z_95: f64 = 1.959_963_984_540_054;

fn bcg_funnel(contours: bool) -> FunnelPlot {
    let d = bcg();
    let model = fit_intercept(&d.yi, &d.vi);
    FunnelPlot {
        sei: d.vi.iter().map(|v| v.sqrt()).collect(),
        yi: d.yi,
        estimate: model.predict(&[1.0]).expect("predicts").pred,
        contours,
        egger: Some(model.regtest().expect("Egger's test")),
        x_label: "Risk ratio (log scale)".to_owned(),
        scale: EffectScale::Exp,
    }
}

fn draw(plot: &FunnelPlot) -> (String, PlotLayout) {
    render(SIZE, |area| {
        draw_funnel(area, plot, &Theme::default(), None)
    })
}

#[test]
fn region_is_symmetric_about_the_estimate_with_zero_at_the_top() {
    let plot = bcg_funnel(false);
    let (svg, layout) = draw(&plot);
    let els = elements(&svg);
    let (x_axis, y_axis) = (layout.x_axis.expect("x"), layout.y_axis.expect("y"));
    // Standard error 0 at the top.
    assert!(y_axis.to_pixel(0.0) < y_axis.to_pixel(0.5));
    let regions: Vec<_> = with(&els, "polyline", "stroke", colour::MUTED)
        .into_iter()
        .filter(|e| e.points().len() == 3)
        .collect();
    assert_eq!(regions.len(), 1);
    let [left, apex, right] = regions[0].points()[..] else {
        unreachable!("three points")
    };
    assert!((apex.0 - x_axis.to_pixel(plot.estimate)).abs() <= PIXEL);
    assert!((apex.1 - y_axis.to_pixel(0.0)).abs() <= PIXEL);
    assert!(((apex.0 - left.0) - (right.0 - apex.0)).abs() <= 2.0 * PIXEL);
    // Its half-width at the bottom is 1.96 standard errors.
    let se = y_axis.to_data(left.1);
    let half = x_axis.to_data(right.0) - plot.estimate;
    assert!((half - Z_95 * se).abs() < 0.01, "{half} vs {}", Z_95 * se);
}

#[test]
fn one_dot_per_study_at_its_effect_and_standard_error() {
    let plot = bcg_funnel(false);
    let (svg, layout) = draw(&plot);
    let els = elements(&svg);
    let (x_axis, y_axis) = (layout.x_axis.expect("x"), layout.y_axis.expect("y"));
    assert_eq!(layout.marks.len(), 13);
    let dots: Vec<_> = with(&els, "circle", "fill", colour::INK)
        .into_iter()
        .filter(|c| c.attr("opacity") == "0.85")
        .collect();
    assert_eq!(dots.len(), 13);
    for (i, mark) in layout.marks.iter().enumerate() {
        assert_eq!(mark.study, i);
        assert!((x_axis.to_data(mark.centre.0) - plot.yi[i]).abs() < 1e-9);
        assert!((y_axis.to_data(mark.centre.1) - plot.sei[i]).abs() < 1e-9);
        assert!(dots
            .iter()
            .any(|c| (c.num("cx") - mark.centre.0).abs() <= PIXEL
                && (c.num("cy") - mark.centre.1).abs() <= PIXEL));
    }
}

#[test]
fn eggers_line_starts_at_the_limit_estimate_and_the_test_is_reported() {
    let plot = bcg_funnel(false);
    let egger = plot.egger.clone().expect("Egger");
    let (svg, layout) = draw(&plot);
    let els = elements(&svg);
    let (x_axis, y_axis) = (layout.x_axis.expect("x"), layout.y_axis.expect("y"));
    let lines: Vec<_> = with(&els, "polyline", "stroke", colour::VERMILLION)
        .into_iter()
        .filter(|e| e.points().len() == 2 && e.attr("stroke-width") == "2")
        .collect();
    // The line and its legend swatch.
    assert_eq!(lines.len(), 2);
    let line = lines
        .iter()
        .map(|l| l.points())
        .find(|p| (p[0].1 - y_axis.to_pixel(0.0)).abs() <= PIXEL)
        .expect("the line starts at standard error 0");
    let limit = egger.limit.expect("a limit estimate").estimate;
    assert!((x_axis.to_data(line[0].0) - limit).abs() < 0.01);
    // Slope in data units: the coefficient of the standard error.
    let slope = (x_axis.to_data(line[1].0) - x_axis.to_data(line[0].0))
        / (y_axis.to_data(line[1].1) - y_axis.to_data(line[0].1));
    assert!((slope - egger.slope.estimate).abs() < 0.05, "{slope}");
    // metafor regtest(): z = −0.8033, p = 0.4218; limit estimate exp(−0.5104) = 0.60.
    assert_eq!(
        texts(
            &els,
            "Egger's test: z = \u{2212}0.80, p = 0.4218; limit estimate 0.60 [0.33, 1.10]"
        )
        .len(),
        1
    );
}

#[test]
fn contours_shade_three_significance_regions_around_the_null() {
    let plot = bcg_funnel(true);
    let (svg, layout) = draw(&plot);
    let els = elements(&svg);
    let x_axis = layout.x_axis.expect("x");
    let wedges: Vec<_> = els
        .iter()
        .filter(|e| e.tag == "polygon" && e.points().len() == 3)
        .collect();
    assert_eq!(wedges.len(), 3);
    for wedge in &wedges {
        let apex = wedge.points()[0];
        // Centred at the null effect (log RR 0), whatever the estimate.
        assert!((apex.0 - x_axis.to_pixel(0.0)).abs() <= PIXEL);
    }
    // Widest first: p < .01 outside, then .05, then .10.
    let widths: Vec<f64> = wedges
        .iter()
        .map(|w| {
            let p = w.points();
            p[1].0 - p[2].0
        })
        .collect();
    assert!(widths[0] > widths[1] && widths[1] > widths[2]);
    assert!((widths[0] / widths[2] - 2.575_829_303_548_9 / 1.644_853_626_951_47).abs() < 0.02);
    for text in [
        "p < .01",
        ".01 \u{2264} p < .05",
        ".05 \u{2264} p < .10",
        "p \u{2265} .10",
    ] {
        assert_eq!(texts(&els, text).len(), 1, "{text}");
    }
}

#[test]
fn bad_inputs_are_errors() {
    let mut plot = bcg_funnel(false);
    plot.sei.truncate(5);
    let mut svg = String::new();
    let area = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
    assert!(matches!(
        draw_funnel(&area, &plot, &Theme::default(), None),
        Err(PlotError::LengthMismatch { .. })
    ));
    plot.yi = vec![f64::NAN; 5];
    assert_eq!(
        draw_funnel(&area, &plot, &Theme::default(), None),
        Err(PlotError::NoData)
    );
}
