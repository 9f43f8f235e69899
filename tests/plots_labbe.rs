//! The L'Abbé plot drawn to SVG means what it should: for the BCG trials (risk ratios, REML)
//! one point per study at metafor's coordinates (`labbe(res)`:
//! tests/fixtures/sensitivity/diagnostic_plots.json), read back from the pixels, with radii in
//! the ratio of the record's sizes; the line of no effect y = x and the pooled estimate's line
//! y = x + b at 45°, offset by metafor's estimate.

mod plots_support;

use meridian::analysis::labbe::labbe;
use meridian::app::PageState;
use meridian::data::effect_size::Measure;
use meridian::plots::{draw_labbe, inputs, Figure, LabbePlot, PlotError, PlotLayout, Theme};
use plots_support::*;
use plotters::prelude::*;

/// metafor's coordinates of the diagnostic plots (tests/r/make_diagnostic_plot_fixtures.R).
const DIAGNOSTIC_PLOTS: &str = "tests/fixtures/sensitivity/diagnostic_plots.json";
/// Size of the figures.
const SIZE: (u32, u32) = (760, 600);
/// Pixel positions and radii are rounded to whole pixels when drawn.
const PIXEL: f64 = 1.0;

fn draw(plot: &LabbePlot, highlight: Option<usize>) -> (String, PlotLayout) {
    render(SIZE, |area| {
        draw_labbe(area, plot, &Theme::default(), highlight)
    })
}

fn bcg_plot() -> LabbePlot {
    let run = PageState::default().analyse().expect("BCG analyses");
    let record = labbe(&run.table, &run.analysis.data, &run.fitted).expect("2×2 tables");
    inputs::labbe(&record, Some(Measure::Rr))
}

#[test]
fn labbe_plot_has_a_point_per_study_at_metafors_group_outcomes_sized_by_precision() {
    let fx = fixture_case(DIAGNOSTIC_PLOTS, "bcg_rr_reml");
    let (x, y) = (numbers(&fx["labbe"]["x"]), numbers(&fx["labbe"]["y"]));
    let plot = bcg_plot();
    assert_eq!(plot.x_label, "Log risk (control group)");
    let (svg, layout) = draw(&plot, Some(5));
    let els = elements(&svg);
    let (x_axis, y_axis) = (layout.x_axis.expect("x"), layout.y_axis.expect("y"));
    assert_eq!(x_axis.data, y_axis.data, "both axes share one range");
    let points = with(&els, "circle", "fill", colour::BLUE);
    assert_eq!(
        points.len(),
        x.len() + 1,
        "a point per study and the legend's"
    );
    let drawn = circles_at_marks(&points, &layout, (&x, &y), PIXEL);
    for (i, point) in drawn.iter().enumerate() {
        // Radius 4 px per unit of size (0.5 → 2 px, 3.5 → 14 px), rounded to the pixel.
        assert!(
            (point.num("r") - 4.0 * plot.size[i]).abs() <= 0.5,
            "radius of {i}"
        );
    }
    let rings = with(&els, "circle", "stroke", colour::INK).len();
    assert_eq!(rings, 1, "the highlighted study's ring");
    save("labbe_bcg", &svg);
}

#[test]
fn labbe_plot_draws_no_effect_and_the_pooled_line_offset_by_metafors_estimate() {
    let fx = fixture_case(DIAGNOSTIC_PLOTS, "bcg_rr_reml");
    let estimate = fx["estimate"].as_f64().unwrap();
    let (svg, layout) = draw(&bcg_plot(), None);
    let (x_axis, y_axis) = (layout.x_axis.expect("x"), layout.y_axis.expect("y"));
    let data = |(x, y): (f64, f64)| (x_axis.to_data(x), y_axis.to_data(y));
    let els = elements(&svg);
    let solid: Vec<_> = with(&els, "polyline", "stroke", colour::BLUE)
        .into_iter()
        .map(|l| l.points())
        .filter(|p| p.len() == 2)
        .collect();
    // The pooled line is the longest solid blue line (the legend's swatch is 18 px).
    let pooled = solid
        .iter()
        .max_by(|a, b| (a[1].0 - a[0].0).abs().total_cmp(&(b[1].0 - b[0].0).abs()))
        .expect("the pooled line");
    let ((x0, y0), (x1, y1)) = (data(pooled[0]), data(pooled[1]));
    let slope = (y1 - y0) / (x1 - x0);
    assert!((slope - 1.0).abs() < 0.01, "slope {slope}");
    assert!(
        ((y0 - x0) - estimate).abs() < 0.02,
        "offset {} vs {estimate}",
        y0 - x0
    );
    // The line of no effect: muted dashes, every one inside the region on y = x (the
    // legend's swatch is above it).
    let inside = |(x, y): (f64, f64)| {
        (x_axis.data.0..=x_axis.data.1).contains(&x) && (y_axis.data.0..=y_axis.data.1).contains(&y)
    };
    let dashes: Vec<_> = with(&els, "polyline", "stroke", colour::MUTED)
        .into_iter()
        .map(|d| data(d.points()[0]))
        .filter(|&p| inside(p))
        .collect();
    assert!(dashes.len() > 20, "{} dashes", dashes.len());
    for (x, y) in dashes {
        assert!((y - x).abs() < 0.02, "dash at ({x}, {y})");
    }
    // The figure exports like the others.
    let svg = Figure::Labbe(bcg_plot()).to_svg(900).expect("an SVG");
    assert!(svg.starts_with("<svg"));
}

#[test]
fn labbe_plot_of_nothing_or_of_mismatched_inputs_is_an_error() {
    let mut svg = String::new();
    let area = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
    let empty = LabbePlot {
        x: vec![f64::NAN],
        y: vec![1.0],
        size: vec![1.0],
        labels: vec!["A".into()],
        ..LabbePlot::default()
    };
    assert!(matches!(
        draw_labbe(&area, &empty, &Theme::default(), None),
        Err(PlotError::NoData)
    ));
    let short = LabbePlot {
        size: vec![],
        ..empty
    };
    assert!(matches!(
        draw_labbe(&area, &short, &Theme::default(), None),
        Err(PlotError::LengthMismatch { .. })
    ));
}
