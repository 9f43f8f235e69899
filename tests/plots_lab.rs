//! The lab's plot drawn to SVG means what it should: the across-trial line read back from its
//! pixels has the meta-regression's slope, the within-trial line is drawn in its own colour,
//! the truth dashed, one bubble per trial; no trials is an error.

mod plots_support;

use meridian::analysis::lab::{run, Preset};
use meridian::plots::{draw_lab, LabLine, LabLineKind, LabPlot, PlotError, Theme};
use plots_support::*;

/// Size of the figure.
const SIZE: (u32, u32) = (760, 520);

fn preset_plot() -> (LabPlot, f64) {
    let r = run(&Preset::NonCollapsibility.settings()).expect("the preset runs");
    let or = &r.measures[0];
    let plot = LabPlot {
        x: r.trials.iter().map(|t| t.covariate_mean).collect(),
        y: or.yi.clone(),
        weights: or.vi.iter().map(|v| 1.0 / v).collect(),
        lines: vec![
            LabLine {
                kind: LabLineKind::Across,
                name: "Across".to_owned(),
                points: or.across_line.points.clone(),
            },
            LabLine {
                kind: LabLineKind::Truth,
                name: "Truth".to_owned(),
                points: or.truth_line.points.clone(),
            },
            LabLine {
                kind: LabLineKind::Within,
                name: "Within".to_owned(),
                points: r.within.line.points.clone(),
            },
        ],
        x_label: "Mean score".to_owned(),
        y_label: "Log odds ratio".to_owned(),
        caption: String::new(),
    };
    (plot, or.across.slope.estimate)
}

#[test]
fn the_across_line_has_the_meta_regression_slope_and_each_line_its_colour() {
    let (plot, slope) = preset_plot();
    let (svg, layout) = render(SIZE, |area| draw_lab(area, &plot, &Theme::default(), None));
    save("lab", &svg);
    let els = elements(&svg);
    let across: Vec<_> = with(&els, "polyline", "stroke", colour::VERMILLION)
        .into_iter()
        .filter(|e| e.points().len() > 2)
        .collect();
    assert_eq!(across.len(), 1, "one across-trial line");
    let pts = across[0].points();
    let (x, y) = (layout.x_axis.expect("x"), layout.y_axis.expect("y"));
    let (a, b) = (pts[0], pts[pts.len() - 1]);
    let read = (y.to_data(b.1) - y.to_data(a.1)) / (x.to_data(b.0) - x.to_data(a.0));
    // Rounding to whole pixels at both ends of a line some 700 pixels long.
    let pixel = (y.to_data(0.0) - y.to_data(1.0)).abs() / (x.to_data(b.0) - x.to_data(a.0));
    assert!((read - slope).abs() <= 2.0 * pixel, "{read} vs {slope}");
    assert!(slope < 0.0);
    assert_eq!(
        with(&els, "polyline", "stroke", colour::BLUISH_GREEN)
            .iter()
            .filter(|e| e.points().len() > 2)
            .count(),
        1,
        "one within-trial line"
    );
    // The truth is dashed: many short ink segments along the level ln 5 (no interaction).
    let level = y.to_pixel(5f64.ln());
    let dashes = with(&els, "polyline", "stroke", colour::INK)
        .iter()
        .filter(|e| {
            let p = e.points();
            p.len() == 2 && p.iter().all(|q| (q.1 - level).abs() <= 1.5)
        })
        .count();
    assert!(dashes > 20, "{dashes} dashes");
    assert_eq!(layout.marks.len(), 20, "one bubble per trial");
}

#[test]
fn no_trials_is_an_error() {
    let plot = LabPlot::default();
    let mut svg = String::new();
    let area = plotters::prelude::SVGBackend::with_string(&mut svg, SIZE);
    let area = plotters::prelude::IntoDrawingArea::into_drawing_area(area);
    assert_eq!(
        draw_lab(&area, &plot, &Theme::default(), None),
        Err(PlotError::NoData)
    );
}
