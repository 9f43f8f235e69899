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
    assert_eq!(layout.marks.len(), 13);
    let dots: Vec<_> = with(&els, "circle", "fill", colour::INK)
        .into_iter()
        .filter(|c| c.attr("opacity") == "0.85")
        .collect();
    assert_eq!(dots.len(), 13);
    // Read back from the drawn pixels, to within a pixel's worth of data.
    circles_at_marks(&dots, &layout, (&plot.x, &plot.y), PIXEL);
    for label in &plot.labels {
        assert_eq!(texts(&els, label).len(), 1, "{label}");
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
    // Its label would run past the right edge: it ends left of the dot. The others start
    // right of theirs.
    for (i, mark) in layout.marks.iter().enumerate() {
        let text = texts(&els, &plot.labels[i])[0];
        let (x, anchor) = (text.num("x"), text.attr("text-anchor"));
        if i == rightmost {
            assert_eq!(anchor, "end", "{}", plot.labels[i]);
            assert!(x < mark.centre.0, "{}", plot.labels[i]);
        } else {
            assert!(x > mark.centre.0, "{}: {anchor}", plot.labels[i]);
        }
    }
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

#[test]
fn above_forty_studies_only_the_forty_standing_out_are_labelled() {
    // 200 studies: 160 in a cloud near the origin (both coordinates at most a tenth of the
    // axis maximum), 40 far out along one axis or the other (at least half of it). The 40
    // are the ones a reader of the plot looks for; the cloud's labels would only pile up.
    let mut plot = BaujatPlot::default();
    for i in 0..200 {
        let t = f64::from(i) / 200.0;
        let (x, y) = match i % 5 {
            0 if i % 10 == 0 => (0.5 + 0.5 * t, 0.05 * t),
            0 => (0.05 * t, 0.5 + 0.5 * t),
            _ => (0.1 * t, 0.1 * (1.0 - t)),
        };
        plot.x.push(x);
        plot.y.push(y);
        plot.labels.push(format!("Study {i}"));
    }
    let (svg, layout) = draw(&plot, None);
    let els = elements(&svg);
    assert_eq!(layout.marks.len(), 200, "every study keeps its dot");
    for (i, label) in plot.labels.iter().enumerate() {
        let expected = usize::from(i % 5 == 0);
        assert_eq!(texts(&els, label).len(), expected, "{label}");
    }
}
