//! The Baujat plot drawn to SVG means what it should: one dot per study at metafor's
//! coordinates (tests/fixtures/sensitivity/bcg_ablat_reml_z.json, `baujat()`), read back from
//! the pixels; a study's label beside its dot; a study without a refit gets no mark.

mod plots_support;

use meridian::plots::{draw_baujat, BaujatPlot, PlotError, PlotLayout, Theme};
use plots_support::*;
use plotters::prelude::*;
use serde_json::Value;

/// Size of the figures.
const SIZE: (u32, u32) = (760, 520);
/// Pixel positions are rounded to whole pixels when drawn.
const PIXEL: f64 = 1.0;

fn metafor_baujat() -> BaujatPlot {
    let text = std::fs::read_to_string("tests/fixtures/sensitivity/bcg_ablat_reml_z.json")
        .expect("the fixture is committed");
    let fx: Value = serde_json::from_str(&text).expect("the fixture is JSON");
    let points = fx["baujat"].as_array().expect("points");
    BaujatPlot {
        x: points.iter().map(|p| p["x"].as_f64().unwrap()).collect(),
        y: points.iter().map(|p| p["y"].as_f64().unwrap()).collect(),
        labels: fx["slab"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect(),
    }
}

fn draw(plot: &BaujatPlot, highlight: Option<usize>) -> (String, PlotLayout) {
    render(SIZE, |area| {
        draw_baujat(area, plot, &Theme::default(), highlight)
    })
}

fn try_draw(plot: &BaujatPlot) -> Result<PlotLayout, PlotError> {
    let mut svg = String::new();
    let area = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
    draw_baujat(&area, plot, &Theme::default(), None)
}

#[test]
fn one_dot_per_study_at_its_coordinates() {
    let plot = metafor_baujat();
    let (svg, layout) = draw(&plot, None);
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
        let dot = dots
            .iter()
            .find(|c| {
                (c.num("cx") - mark.centre.0).abs() <= PIXEL
                    && (c.num("cy") - mark.centre.1).abs() <= PIXEL
            })
            .unwrap_or_else(|| panic!("no dot for study {i}"));
        // Read back from the drawn pixels, to within a pixel's worth of data.
        let dx = x_axis.to_data(dot.num("cx")) - plot.x[i];
        let dy = y_axis.to_data(dot.num("cy")) - plot.y[i];
        let x_pixel = (x_axis.to_data(1.0) - x_axis.to_data(0.0)).abs();
        let y_pixel = (y_axis.to_data(1.0) - y_axis.to_data(0.0)).abs();
        assert!(dx.abs() <= x_pixel, "study {i}: x off by {dx}");
        assert!(dy.abs() <= y_pixel, "study {i}: y off by {dy}");
        assert_eq!(texts(&els, &plot.labels[i]).len(), 1, "{}", plot.labels[i]);
    }
    // Vandiviere et al. adds the most heterogeneity: the rightmost dot.
    let rightmost = (0..13)
        .max_by(|&a, &b| {
            layout.marks[a]
                .centre
                .0
                .total_cmp(&layout.marks[b].centre.0)
        })
        .unwrap();
    assert_eq!(plot.labels[rightmost], "Vandiviere et al, 1973");
    save("baujat_bcg_ablat", &svg);
}

#[test]
fn a_study_without_a_refit_gets_no_mark_and_the_highlight_a_ring() {
    let mut plot = metafor_baujat();
    plot.y[3] = f64::NAN;
    let (svg, layout) = draw(&plot, Some(5));
    assert_eq!(layout.marks.len(), 12);
    assert!(layout.marks.iter().all(|m| m.study != 3));
    let rings = with(&elements(&svg), "circle", "stroke", colour::INK).len();
    assert_eq!(rings, 1);
    let empty = BaujatPlot {
        x: vec![f64::NAN],
        y: vec![1.0],
        labels: vec!["A".into()],
    };
    assert!(matches!(try_draw(&empty), Err(PlotError::NoData)));
    let short = BaujatPlot {
        x: vec![1.0, 2.0],
        y: vec![1.0],
        labels: vec!["A".into(), "B".into()],
    };
    assert!(matches!(
        try_draw(&short),
        Err(PlotError::LengthMismatch { .. })
    ));
}
