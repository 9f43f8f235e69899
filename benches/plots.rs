//! Benchmarks of the plots: forest and bubble plots of k = 1 000 studies drawn into an SVG
//! string (the native stand-in for the page's canvas; the goal there is a redraw within a
//! 16 ms frame), and the viewport-sized window of the forest plot a scrolling page redraws.
//!
//! Run with `cargo bench --bench plots`. The studies are deterministic: effects and variances
//! from a fixed low-discrepancy sequence, a REML fit with one moderator for the weights.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use meridian::plots::{
    draw_bubble, draw_forest, draw_forest_window, forest_size, BubblePlot, FittedPoint, ForestPlot,
    PlotError, PlotLayout, Theme,
};
use meridian::stats::{fit, Design, ModelSpec};
use nalgebra::DMatrix;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Number of studies.
const K: usize = 1_000;
/// Points on the bubble plot's fitted line.
const GRID: usize = 100;
/// Height of a page's viewport showing part of a forest plot.
const VIEWPORT_HEIGHT: u32 = 900;
/// Size of the bubble plot.
const BUBBLE_SIZE: (u32, u32) = (900, 600);

/// The fractional part of i·φ: an evenly spread sequence in [0, 1) without a random generator.
fn spread(i: usize, shift: f64) -> f64 {
    ((i as f64 + shift) * 0.618_033_988_749_895).fract()
}

struct Data {
    labels: Vec<String>,
    yi: Vec<f64>,
    vi: Vec<f64>,
    x: Vec<f64>,
}

fn data() -> Data {
    let x: Vec<f64> = (0..K).map(|i| 60.0 * spread(i, 0.0)).collect();
    Data {
        labels: (0..K)
            .map(|i| format!("Study {} et al. ({})", i + 1, 1950 + i % 70))
            .collect(),
        yi: x
            .iter()
            .enumerate()
            .map(|(i, x)| 0.2 - 0.02 * x + (spread(i, 0.5) - 0.5))
            .collect(),
        vi: (0..K).map(|i| 0.01 + 0.2 * spread(i, 0.25)).collect(),
        x,
    }
}

/// Draws with `draw` into a fresh SVG string of `size` pixels, as a redraw of the page does.
fn to_svg(
    size: (u32, u32),
    capacity: usize,
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<PlotLayout, PlotError>,
) -> String {
    let mut svg = String::with_capacity(capacity);
    {
        let area = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        black_box(draw(&area).expect("draws"));
    }
    svg
}

fn plots(c: &mut Criterion) {
    let d = data();
    let theme = Theme::default();
    let intercept = fit(
        &d.yi,
        &d.vi,
        &Design::intercept_only(K),
        &ModelSpec::default(),
    )
    .expect("the simulated studies fit");
    let pooled = intercept.predict(&[1.0]).expect("predicts");
    let forest = ForestPlot::from_fit(&d.labels, &d.yi, &d.vi, &intercept, Some(pooled));
    let size = forest_size(&forest, &theme).expect("sizes");
    c.bench_function("forest k=1000 to SVG", |b| {
        b.iter(|| {
            black_box(to_svg(size, 1 << 20, |area| {
                draw_forest(area, &forest, &theme, Some(10))
            }))
        });
    });

    // What a page shows: a viewport-sized canvas scrolled to the middle of the plot.
    let viewport = (size.0, VIEWPORT_HEIGHT);
    let scroll = f64::from(size.1) / 2.0;
    c.bench_function("forest k=1000 viewport to SVG", |b| {
        b.iter(|| {
            black_box(to_svg(viewport, 1 << 16, |area| {
                draw_forest_window(area, &forest, &theme, Some(10), scroll)
            }))
        });
    });

    let design = Design {
        x: DMatrix::from_fn(K, 2, |i, j| if j == 0 { 1.0 } else { d.x[i] }),
        names: vec!["intrcpt".to_owned(), "x".to_owned()],
        intercept: true,
        terms: Vec::new(),
    };
    let slope = fit(&d.yi, &d.vi, &design, &ModelSpec::default()).expect("fits");
    let bubble = BubblePlot {
        x: d.x.clone(),
        y: d.yi.clone(),
        weights: slope.weights.clone(),
        x_label: "Moderator".to_owned(),
        y_label: "Effect size".to_owned(),
        fitted: (0..=GRID)
            .map(|i| {
                let x = 60.0 * i as f64 / GRID as f64;
                FittedPoint {
                    x,
                    prediction: slope.predict(&[1.0, x]).expect("predicts"),
                }
            })
            .collect(),
        ..BubblePlot::default()
    };
    c.bench_function("bubble k=1000 to SVG", |b| {
        b.iter(|| {
            black_box(to_svg(BUBBLE_SIZE, 1 << 20, |area| {
                draw_bubble(area, &bubble, &theme, Some(10))
            }))
        });
    });
}

criterion_group!(benches, plots);
criterion_main!(benches);
