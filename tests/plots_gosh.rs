//! The GOSH plot drawn to SVG means what it should: for the ten BCG trials of
//! tests/fixtures/sensitivity/bcg10.csv (REML, all 2¹⁰ − 1 = 1023 subsets) one dot per
//! subset at metafor's (estimate, I²) of that subset (`gosh(res, subsets = 1023)`:
//! gosh_bcg10_reml.json), read back from the pixels; the subsets that hold a chosen study in
//! the second colour; a histogram of each axis in the margins; and drawing slice by slice
//! (as the page does while the worker sends subsets) gives the same picture as drawing all;
//! the subsets and the summary download as CSV with metafor's numbers.

mod plots_support;

use std::collections::HashMap;

use meridian::analysis::gosh::{GoshPoints, GoshRun, GoshSummaryRecord};
use meridian::analysis::sensitivity_tables::{gosh_subsets_csv, gosh_summary_csv};
use meridian::analysis::{analyse, AnalysisSpec, Run};
use meridian::plots::{
    draw_gosh, draw_gosh_background, draw_gosh_margins, draw_gosh_points, inputs, GoshFrame,
    GoshHistograms, GoshPlot, PlotError, Theme,
};
use meridian::stats::GoshSettings;
use plots_support::*;
use plotters::prelude::*;
use serde_json::Value;

/// The subsets' fits are iterative (REML) refits: metafor's to this relative tolerance (issue
/// 12), and to this absolute one near zero (an I² of 0).
const REFIT_REL: f64 = 1e-5;
const ZERO_ABS: f64 = 1e-8;

fn close(ours: f64, theirs: f64) -> bool {
    (ours - theirs).abs() <= ZERO_ABS.max(REFIT_REL * theirs.abs())
}

/// Size of the figures.
const SIZE: (u32, u32) = (760, 600);

/// Every subset of the ten trials, fitted by the engine: the run (with its summary), the
/// subsets' points and the analysis.
fn bcg10_gosh() -> (GoshRun, GoshPoints, Run) {
    let text = std::fs::read_to_string("tests/fixtures/sensitivity/bcg10.csv").expect("committed");
    let run = analyse(&text, &AnalysisSpec::default()).expect("bcg10 analyses");
    let settings = GoshSettings {
        subsets: 1023,
        seed: 1,
    };
    let mut gosh = GoshRun::new(&run.fitted, settings).expect("subsets");
    let points = gosh.step_points(1023);
    (gosh, points, run)
}

/// The engine's points of every subset of the ten trials, and the trials' effects.
fn bcg10_points() -> (GoshPoints, Vec<f64>) {
    let (_, points, run) = bcg10_gosh();
    (points, run.analysis.data.studies.yi.clone())
}

/// metafor's (estimate, I²) per subset, keyed by the subset's studies (0-based).
fn metafor_subsets() -> HashMap<Vec<u64>, (f64, f64)> {
    let text = std::fs::read_to_string("tests/fixtures/sensitivity/gosh_bcg10_reml.json")
        .expect("the fixture is committed");
    let fx: Value = serde_json::from_str(&text).expect("JSON");
    fx["fits"]
        .as_array()
        .expect("fits")
        .iter()
        .map(|f| {
            let included = f["included"]
                .as_array()
                .expect("included")
                .iter()
                .map(|i| i.as_u64().expect("a row"))
                .collect();
            let at = (f["estimate"].as_f64().unwrap(), f["i2"].as_f64().unwrap());
            (included, at)
        })
        .collect()
}

fn studies_of(points: &GoshPoints, j: usize) -> Vec<u64> {
    (0..10u64)
        .filter(|&i| points.contains(j, i as usize))
        .collect()
}

#[test]
fn gosh_plot_has_a_dot_per_subset_at_metafors_estimate_and_i2() {
    let (points, yi) = bcg10_points();
    assert_eq!(points.len(), 1023);
    let theirs = metafor_subsets();
    let range = inputs::gosh_range(&yi);
    let plot = inputs::gosh(&points, range, "Log risk ratio", None);
    let (svg, layout) = render(SIZE, |area| draw_gosh(area, &plot, &Theme::default()));
    let (x_axis, y_axis) = (layout.x_axis.expect("x"), layout.y_axis.expect("y"));
    assert_eq!(y_axis.data, (0.0, 100.0));
    let els = elements(&svg);
    let dots = with(&els, "circle", "fill", colour::BLUE);
    assert_eq!(dots.len(), 1023, "one dot per subset, drawn in order");
    // A pixel in data units, and the half pixel the SVG's rounding may add.
    let x_pixel = (x_axis.to_data(1.0) - x_axis.to_data(0.0)).abs();
    let y_pixel = (y_axis.to_data(1.0) - y_axis.to_data(0.0)).abs();
    for (j, dot) in dots.iter().enumerate() {
        let (estimate, i2) = theirs[&studies_of(&points, j)];
        let x = x_axis.to_data(dot.num("cx"));
        let y = y_axis.to_data(dot.num("cy"));
        assert!(
            (x - estimate).abs() <= x_pixel,
            "subset {j}: x {x} vs {estimate}"
        );
        assert!((y - i2).abs() <= y_pixel, "subset {j}: I² {y} vs {i2}");
    }
    // The histograms: the tallest bar of each fills its 56-pixel band.
    let bars: Vec<_> = with(&els, "rect", "fill", colour::BLUE)
        .into_iter()
        .filter(|r| r.attr("opacity") == "0.35")
        .collect();
    assert!(bars.len() > 10, "{} bars", bars.len());
    let tallest = bars.iter().map(|r| r.num("height")).fold(0.0, f64::max);
    let widest = bars.iter().map(|r| r.num("width")).fold(0.0, f64::max);
    assert!((tallest - 56.0).abs() <= 1.0 && (widest - 56.0).abs() <= 1.0);
    save("gosh_bcg10", &svg);
}

#[test]
fn subsets_holding_the_chosen_study_are_drawn_in_the_second_colour() {
    let (points, yi) = bcg10_points();
    let plot = inputs::gosh(
        &points,
        inputs::gosh_range(&yi),
        "Log risk ratio",
        Some((2, "Rosenthal")),
    );
    let (svg, _) = render(SIZE, |area| draw_gosh(area, &plot, &Theme::default()));
    let els = elements(&svg);
    // Of the 1023 subsets, 2⁹ = 512 hold study 3.
    assert_eq!(with(&els, "circle", "fill", colour::VERMILLION).len(), 512);
    assert_eq!(with(&els, "circle", "fill", colour::BLUE).len(), 511);
    assert_eq!(texts(&els, "Subsets with Rosenthal").len(), 1);
}

#[test]
fn drawing_slice_by_slice_gives_the_picture_of_drawing_all_at_once() {
    let (points, yi) = bcg10_points();
    let range = inputs::gosh_range(&yi);
    let plot = inputs::gosh(&points, range, "Log risk ratio", Some((0, "Aronson")));
    let (whole, _) = render(SIZE, |area| draw_gosh(area, &plot, &Theme::default()));
    let (sliced, _) = render(SIZE, |area| {
        let theme = Theme::default();
        let frame = GoshFrame::new(area.dim_in_pixel(), range, &plot.marked_label, &theme);
        let layout = draw_gosh_background(area, &frame, &plot.x_label, &theme)?;
        let mut histograms = GoshHistograms::new(range);
        for start in (0..1023).step_by(100) {
            let end = (start + 100).min(1023);
            let s = start..end;
            draw_gosh_points(
                area,
                &frame,
                &plot.estimate[s.clone()],
                &plot.i2[s.clone()],
                &plot.marked[s.clone()],
            )?;
            for j in s {
                histograms.add(plot.estimate[j], plot.i2[j], plot.marked[j]);
            }
            draw_gosh_margins(area, &frame, &histograms, &theme)?;
        }
        area.present()?;
        Ok(layout)
    });
    // The same dots; the margins were cleared and redrawn each slice, so their last state
    // equals the whole picture's.
    let dots = |svg: &str| -> Vec<(String, String)> {
        elements(svg)
            .iter()
            .filter(|e| e.tag == "circle")
            .map(|e| (e.attr("cx").to_owned(), e.attr("cy").to_owned()))
            .collect()
    };
    assert_eq!(dots(&whole), dots(&sliced));
    let last_bars = |svg: &str| {
        let els = elements(svg);
        let bars: Vec<String> = with(&els, "rect", "fill", colour::VERMILLION)
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {}",
                    r.attr("x"),
                    r.attr("y"),
                    r.attr("width"),
                    r.attr("height")
                )
            })
            .collect();
        bars
    };
    // Both start with the legend's swatch; the sliced picture ends with the last slice's bars.
    let (a, b) = (last_bars(&whole), last_bars(&sliced));
    assert!(a.len() > 10);
    assert!(
        b.ends_with(&a[1..]),
        "the last slice's bars are the whole's"
    );
}

#[test]
fn a_gosh_plot_of_nothing_or_of_mismatched_inputs_is_an_error() {
    let mut svg = String::new();
    let area = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
    assert!(matches!(
        draw_gosh(&area, &GoshPlot::default(), &Theme::default()),
        Err(PlotError::NoData)
    ));
    let short = GoshPlot {
        estimate: vec![0.1, 0.2],
        i2: vec![10.0],
        x_range: (0.0, 1.0),
        ..GoshPlot::default()
    };
    assert!(matches!(
        draw_gosh(&area, &short, &Theme::default()),
        Err(PlotError::LengthMismatch { .. })
    ));
}

#[test]
fn gosh_subsets_and_summary_download_as_csv_with_metafors_numbers() {
    let (gosh, points, run) = bcg10_gosh();
    let labels = &run.analysis.data.studies.labels;
    let theirs = metafor_subsets();

    // One row per subset: metafor's estimate and I² of the subset its 0/1 columns name.
    let csv = gosh_subsets_csv(&points, &labels.to_vec());
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    assert_eq!(header[..2], ["estimate", "I2"]);
    assert_eq!(header.len(), 2 + labels.len());
    let mut rows = 0;
    let mut holding = vec![0usize; labels.len()];
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let included: Vec<u64> = (0..labels.len() as u64)
            .filter(|&i| cells[2 + i as usize] == "1")
            .collect();
        for &i in &included {
            holding[i as usize] += 1;
        }
        let (estimate, i2) = theirs[&included];
        let ours: (f64, f64) = (cells[0].parse().unwrap(), cells[1].parse().unwrap());
        assert!(
            close(ours.0, estimate),
            "{line}: estimate vs metafor's {estimate}"
        );
        assert!(close(ours.1, i2), "{line}: I² vs metafor's {i2}");
        rows += 1;
    }
    assert_eq!(rows, 1023);
    // Of the 1,023 subsets, 2⁹ = 512 hold any one trial.
    assert!(holding.iter().all(|&n| n == 512), "{holding:?}");

    // The summary: the range and mean of metafor's estimates over every subset.
    let summary = gosh_summary_csv(&gosh.record(None).summary);
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(lines[0], "statistic,min,max,mean");
    let estimate: Vec<f64> = lines[1]
        .split(',')
        .skip(1)
        .map(|c| c.parse().unwrap())
        .collect();
    let of_theirs: Vec<f64> = theirs.values().map(|v| v.0).collect();
    let min = of_theirs.iter().copied().fold(f64::INFINITY, f64::min);
    let max = of_theirs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean = of_theirs.iter().sum::<f64>() / of_theirs.len() as f64;
    for (ours, theirs) in estimate.iter().zip([min, max, mean]) {
        assert!(close(*ours, theirs), "{ours} vs metafor's {theirs}");
    }
    assert!(lines[1].starts_with("estimate,"));
    assert!(
        lines[2].starts_with("I2,") && lines[3].starts_with("tau2,") && lines[4].starts_with("QE,")
    );
    assert_eq!(
        gosh_summary_csv(&GoshSummaryRecord {
            estimate: None,
            i2: None,
            tau2: None,
            qe: None
        }),
        "statistic,min,max,mean\nestimate,NA,NA,NA\nI2,NA,NA,NA\ntau2,NA,NA,NA\nQE,NA,NA,NA\n"
    );
}
