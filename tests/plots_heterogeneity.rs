//! The heterogeneity picture drawn to SVG means what it should: the between-study segment is
//! I² of the bar, the explained segment R², and the whiskers are the confidence intervals.

mod plots_support;

use meridian::plots::{
    draw_heterogeneity, heterogeneity_size, HeterogeneityPlot, PlotError, PlotLayout, Theme,
};
use plots_support::*;
use plotters::prelude::*;

/// Pixel positions are rounded to whole pixels when drawn.
const PIXEL: f64 = 1.0;

fn draw(plot: &HeterogeneityPlot) -> (String, PlotLayout) {
    let theme = Theme::default();
    let (w, h) = heterogeneity_size(plot, &theme);
    render((w.max(760), h), |area| {
        draw_heterogeneity(area, plot, &theme)
    })
}

/// The widest rectangle of a colour (the bar segment, not the key's square).
fn segment(els: &[Element], colour: &str) -> (f64, f64) {
    with(els, "rect", "fill", colour)
        .iter()
        .map(|r| (r.num("x"), r.num("x") + r.num("width")))
        .max_by(|a, b| (a.1 - a.0).total_cmp(&(b.1 - b.0)))
        .expect("a segment")
}

#[test]
fn between_study_segment_is_i2_of_the_bar() {
    let d = bcg();
    let model = fit_intercept(&d.yi, &d.vi);
    let intervals = model.confint_tau2(0.95).expect("Q-profile");
    let plot = HeterogeneityPlot::from_fit(&model, Some(&intervals));
    assert!(plot.explained.is_none());
    let (svg, layout) = draw(&plot);
    let els = elements(&svg);
    let percent = layout.x_axis.expect("0–100 %");
    let (sampling, between) = (
        segment(&els, colour::SKY_BLUE),
        segment(&els, colour::ORANGE),
    );
    // Sampling error first, then the between-study share, meeting at 100 − I².
    let i2 = model.heterogeneity.i2;
    assert!((percent.to_data(between.1 - between.0 + percent.pixels.0) - i2).abs() < 0.5);
    assert!((sampling.1 - between.0).abs() <= PIXEL);
    assert!((sampling.1 - percent.to_pixel(100.0 - i2)).abs() <= PIXEL);
    // metafor: I² = 92.22 % for BCG (REML); the key prints it with its CI.
    assert!((i2 - 92.22).abs() < 0.01);
    assert!(els.iter().any(|e| e.tag == "text"
        && e.text.contains("I\u{b2} = 92%")
        && e.text.contains("[95% CI")));
    // The whisker: the CI of the boundary, at 100 − upper … 100 − lower.
    let whiskers: Vec<_> = with(&els, "polyline", "stroke", colour::INK)
        .into_iter()
        .filter(|e| {
            let p = e.points();
            e.attr("stroke-width") == "2" && p.len() == 2 && p[0].1 == p[1].1
        })
        .collect();
    assert_eq!(whiskers.len(), 1);
    let w = whiskers[0].points();
    assert!((w[0].0 - percent.to_pixel(100.0 - intervals.i2.upper)).abs() <= PIXEL);
    assert!((w[1].0 - percent.to_pixel(100.0 - intervals.i2.lower)).abs() <= PIXEL);
}

#[test]
fn with_moderators_a_second_bar_shows_r2_and_the_residual() {
    let d = bcg();
    let model = fit_slope(&d.yi, &d.vi, &d.ablat, "ablat");
    let intervals = model.confint_tau2(0.95).expect("Q-profile");
    let plot = HeterogeneityPlot::from_fit(&model, Some(&intervals));
    let explained = plot.explained.expect("R² with moderators");
    // metafor: R² = 75.62 % for yi ~ ablat (REML).
    assert!((explained.r2 - 75.62).abs() < 0.01);
    let (svg, layout) = draw(&plot);
    let els = elements(&svg);
    let percent = layout.x_axis.expect("0–100 %");
    let green = segment(&els, colour::BLUISH_GREEN);
    assert!((percent.to_data(green.1) - explained.r2).abs() < 0.5);
    assert!(els
        .iter()
        .any(|e| e.tag == "text" && e.text.contains("R\u{b2} = 76%")));
    assert!(els
        .iter()
        .any(|e| e.tag == "text" && e.text.starts_with("How the residual variance")));
}

#[test]
fn without_intervals_no_whiskers_are_drawn() {
    let d = bcg();
    let model = fit_intercept(&d.yi, &d.vi);
    let plot = HeterogeneityPlot::from_fit(&model, None);
    let (svg, _) = draw(&plot);
    let els = elements(&svg);
    assert!(!els.iter().any(|e| e.tag == "text" && e.text.contains("CI")));
}

#[test]
fn too_small_an_area_is_an_error() {
    let d = bcg();
    let model = fit_intercept(&d.yi, &d.vi);
    let plot = HeterogeneityPlot::from_fit(&model, None);
    let mut svg = String::new();
    let area = SVGBackend::with_string(&mut svg, (200, 100)).into_drawing_area();
    assert!(matches!(
        draw_heterogeneity(&area, &plot, &Theme::default()),
        Err(PlotError::AreaTooSmall { .. })
    ));
}

#[test]
fn a_fixed_effect_model_takes_i2_from_q_and_prints_no_tau2() {
    let d = bcg();
    let spec = meridian::stats::ModelSpec {
        method: meridian::stats::Tau2Method::Fe,
        ..reml()
    };
    let model = meridian::stats::fit(
        &d.yi,
        &d.vi,
        &meridian::stats::Design::intercept_only(13),
        &spec,
    )
    .expect("fits");
    let plot = HeterogeneityPlot::from_fit(&model, None);
    assert!(plot.fixed);
    let (svg, layout) = draw(&plot);
    let els = elements(&svg);
    // (Q − df)/Q = (152.23 − 12)/152.23.
    let i2 = 100.0 * (model.heterogeneity.qe - 12.0) / model.heterogeneity.qe;
    assert!((model.heterogeneity.i2 - i2).abs() < 1e-9);
    let percent = layout.x_axis.expect("0–100 %");
    let between = segment(&els, colour::ORANGE);
    assert!((percent.to_data(between.0) - (100.0 - i2)).abs() < 0.5);
    assert!(!els.iter().any(|e| e.text.contains('\u{3c4}')));
    assert!(els.iter().any(|e| e.text.contains("from Q")));
}
