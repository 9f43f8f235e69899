//! The Sensitivity view's residual plots drawn to SVG mean what they should: the normal Q–Q
//! plot and the radial plot of the BCG trials (REML, risk ratios) have one dot per study at
//! metafor's coordinates (`qqnorm(res, envelope = FALSE)`, `radial(res)`:
//! tests/fixtures/sensitivity/diagnostic_plots.json), read back from the pixels, and their
//! reference lines where they belong (y = x; the pooled slope through the origin with its band).

mod plots_support;

use meridian::analysis::residual_plots::radial;
use meridian::analysis::sensitivity::sensitivity;
use meridian::app::PageState;
use meridian::plots::{draw_scatter, inputs, PlotError, PlotLayout, ScatterPlot, Theme};
use plots_support::*;
use plotters::prelude::*;

/// metafor's coordinates of the diagnostic plots (tests/r/make_diagnostic_plot_fixtures.R).
const DIAGNOSTIC_PLOTS: &str = "tests/fixtures/sensitivity/diagnostic_plots.json";
/// Size of the figures.
const SIZE: (u32, u32) = (760, 560);
/// Pixel positions are rounded to whole pixels when drawn.
const PIXEL: f64 = 1.0;

fn draw(plot: &ScatterPlot, highlight: Option<usize>) -> (String, PlotLayout) {
    render(SIZE, |area| {
        draw_scatter(area, plot, &Theme::default(), highlight)
    })
}

/// Every dot is drawn where metafor puts the study, to within a pixel.
fn check_dots(svg: &str, layout: &PlotLayout, x: &[f64], y: &[f64]) {
    let els = elements(svg);
    let dots: Vec<_> = with(&els, "circle", "fill", colour::INK)
        .into_iter()
        .filter(|c| c.attr("opacity") == "0.85")
        .collect();
    assert_eq!(dots.len(), x.len());
    circles_at_marks(&dots, layout, (x, y), PIXEL);
}

/// The solid blue reference lines, as (start, end) in data units.
fn solid_lines(svg: &str, layout: &PlotLayout) -> Vec<((f64, f64), (f64, f64))> {
    let (x_axis, y_axis) = (layout.x_axis.expect("x"), layout.y_axis.expect("y"));
    with(&elements(svg), "polyline", "stroke", colour::BLUE)
        .iter()
        .map(|l| {
            let p = l.points();
            let data = |(x, y): (f64, f64)| (x_axis.to_data(x), y_axis.to_data(y));
            (data(p[0]), data(p[p.len() - 1]))
        })
        .collect()
}

#[test]
fn qq_plot_has_a_dot_per_study_at_metafors_quantiles_and_the_line_y_equals_x() {
    let fx = fixture_case(DIAGNOSTIC_PLOTS, "bcg_rr_reml");
    let run = PageState::default().analyse().expect("BCG analyses");
    let s = sensitivity(&run.table, &run.fitted, &run.analysis.data).expect("deletions");
    let plot = inputs::qq(&s.qq);
    let (svg, layout) = draw(&plot, Some(3));
    check_dots(
        &svg,
        &layout,
        &numbers(&fx["qq"]["x"]),
        &numbers(&fx["qq"]["y"]),
    );
    let lines = solid_lines(&svg, &layout);
    assert_eq!(lines.len(), 1 + 1, "the line and its legend swatch");
    let ((x0, y0), (x1, y1)) = lines[0];
    let slope = (y1 - y0) / (x1 - x0);
    assert!((slope - 1.0).abs() < 0.02, "slope {slope}");
    assert!((y0 - x0).abs() < 0.02);
    let rings = with(&elements(&svg), "circle", "stroke", colour::INK).len();
    assert_eq!(rings, 1, "the highlighted study's ring");
    save("qq_bcg", &svg);
}

#[test]
fn radial_plot_has_metafors_points_the_pooled_slope_and_its_band() {
    let fx = fixture_case(DIAGNOSTIC_PLOTS, "bcg_rr_reml");
    let run = PageState::default().analyse().expect("BCG analyses");
    let record = radial(&run.fitted, &run.analysis.data).expect("no moderators");
    let plot = inputs::radial(&record);
    let (svg, layout) = draw(&plot, None);
    check_dots(
        &svg,
        &layout,
        &numbers(&fx["radial"]["x"]),
        &numbers(&fx["radial"]["y"]),
    );
    let x_axis = layout.x_axis.expect("x");
    assert_eq!(x_axis.data.0, 0.0, "precision starts at 0");
    let lines = solid_lines(&svg, &layout);
    let ((x0, y0), (x1, y1)) = lines[0];
    assert!(x0.abs() < 0.01 && y0.abs() < 0.02, "through the origin");
    let slope = (y1 - y0) / (x1 - x0);
    let estimate = fx["estimate"].as_f64().unwrap();
    assert!(
        (slope - estimate).abs() < 0.01,
        "slope {slope} vs {estimate}"
    );
    // The band: dashes on both sides of the line.
    let dashes = with(&elements(&svg), "polyline", "stroke", colour::MUTED).len();
    assert!(dashes > 20, "{dashes} dashes");
    assert_eq!(
        texts(&elements(&svg), "\u{b1}1.96").len(),
        1,
        "one legend entry"
    );
    save("radial_bcg", &svg);
}

#[test]
fn a_model_with_moderators_has_no_radial_plot_and_bad_inputs_are_errors() {
    let mut state = PageState::default();
    state.model.formula = "ablat".into();
    let run = state.analyse().expect("BCG with ablat analyses");
    assert!(radial(&run.fitted, &run.analysis.data).is_err());
    let s = sensitivity(&run.table, &run.fitted, &run.analysis.data).expect("deletions");
    assert!(s.radial.is_none());
    let fx = fixture_case(DIAGNOSTIC_PLOTS, "bcg_rr_reml_ablat");
    let (svg, layout) = draw(&inputs::qq(&s.qq), None);
    check_dots(
        &svg,
        &layout,
        &numbers(&fx["qq"]["x"]),
        &numbers(&fx["qq"]["y"]),
    );

    let mut svg = String::new();
    let area = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
    let empty = ScatterPlot {
        x: vec![f64::NAN],
        y: vec![1.0],
        labels: vec!["A".into()],
        ..ScatterPlot::default()
    };
    assert!(matches!(
        draw_scatter(&area, &empty, &Theme::default(), None),
        Err(PlotError::NoData)
    ));
    let short = ScatterPlot {
        x: vec![1.0, 2.0],
        y: vec![1.0],
        labels: vec!["A".into(), "B".into()],
        ..ScatterPlot::default()
    };
    assert!(matches!(
        draw_scatter(&area, &short, &Theme::default(), None),
        Err(PlotError::LengthMismatch { .. })
    ));
}
