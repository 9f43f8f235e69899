//! The bubble plot drawn to SVG means what it should: the fitted line's slope read back from
//! pixels is the coefficient, the prediction band is wider than the confidence band, bubble
//! areas are proportional to the weights the fit used; and the categorical variant.

mod plots_support;

use meridian::plots::{
    draw_bubble, draw_categories, BubblePlot, CategoryPlot, EffectScale, FittedPoint, Level,
    MarkShape, PlotError, PlotLayout, Theme,
};
use meridian::stats::Fit;
use plots_support::*;
use plotters::prelude::*;

/// Size of the figures.
const SIZE: (u32, u32) = (760, 520);
/// Points on the fitted line's grid.
const GRID: usize = 40;
/// Pixel positions are rounded to whole pixels when drawn.
const PIXEL: f64 = 1.0;

fn latitude_plot() -> (BubblePlot, Fit) {
    let d = bcg();
    let model = fit_slope(&d.yi, &d.vi, &d.ablat, "ablat");
    let fitted = (0..=GRID)
        .map(|i| {
            let x = 10.0 + 50.0 * i as f64 / GRID as f64;
            FittedPoint {
                x,
                prediction: model.predict(&[1.0, x]).expect("predicts"),
            }
        })
        .collect();
    let plot = BubblePlot {
        x: d.ablat,
        y: d.yi,
        weights: model.weights.clone(),
        x_label: "Absolute latitude".to_owned(),
        y_label: "Log risk ratio".to_owned(),
        scale: EffectScale::Identity,
        fitted,
        caption: "No other moderators".to_owned(),
    };
    (plot, model)
}

fn draw(plot: &BubblePlot, highlight: Option<usize>) -> (String, PlotLayout) {
    render(SIZE, |area| {
        draw_bubble(area, plot, &Theme::default(), highlight)
    })
}

#[test]
fn fitted_line_slope_read_from_pixels_is_the_coefficient() {
    let (plot, model) = latitude_plot();
    let (svg, layout) = draw(&plot, None);
    let els = elements(&svg);
    let lines: Vec<_> = with(&els, "polyline", "stroke", colour::BLUE)
        .into_iter()
        .filter(|e| e.attr("stroke-width") == "2" && e.points().len() == GRID + 1)
        .collect();
    assert_eq!(lines.len(), 1);
    let pts = lines[0].points();
    let (x_axis, y_axis) = (layout.x_axis.expect("x"), layout.y_axis.expect("y"));
    let (first, last) = (pts[0], pts[GRID]);
    let slope = (y_axis.to_data(last.1) - y_axis.to_data(first.1))
        / (x_axis.to_data(last.0) - x_axis.to_data(first.0));
    let b1 = model.coefficients[1].estimate;
    // metafor: rma(yi, vi, mods = ~ ablat) gives b₁ = −0.0291; a pixel of rounding at each end.
    assert!((b1 - (-0.0291)).abs() < 5e-4);
    let pixel_in_data = (y_axis.to_data(0.0) - y_axis.to_data(1.0)).abs();
    let span = x_axis.to_data(last.0) - x_axis.to_data(first.0);
    assert!(
        (slope - b1).abs() <= 2.0 * pixel_in_data / span,
        "slope {slope} vs b1 {b1}"
    );
    // And the intercept: the line at latitude 0 is b₀.
    let b0 = model.coefficients[0].estimate;
    let at_zero = y_axis.to_data(first.1) - slope * x_axis.to_data(first.0);
    assert!((at_zero - b0).abs() < 0.02, "{at_zero} vs {b0}");
}

#[test]
fn prediction_band_is_wider_than_confidence_band_everywhere() {
    let (plot, _) = latitude_plot();
    let (svg, _) = draw(&plot, None);
    let els = elements(&svg);
    let band = |colour: &str| {
        let found = with(&els, "polygon", "fill", colour);
        assert_eq!(found.len(), 1, "one band in {colour}");
        found[0].points()
    };
    let (pi, ci) = (band(colour::SKY_BLUE), band(colour::BLUE));
    assert_eq!(pi.len(), 2 * (GRID + 1));
    assert_eq!(ci.len(), 2 * (GRID + 1));
    for i in 0..=GRID {
        // Upper edge left to right, then the lower edge back.
        let height = |b: &[(f64, f64)]| b[2 * GRID + 1 - i].1 - b[i].1;
        assert!(height(&pi) > height(&ci) + PIXEL, "at grid point {i}");
        assert!(pi[i].1 <= ci[i].1 && pi[2 * GRID + 1 - i].1 >= ci[2 * GRID + 1 - i].1);
    }
}

#[test]
fn bubble_area_is_proportional_to_the_random_effects_weight() {
    let (plot, model) = latitude_plot();
    let (svg, layout) = draw(&plot, None);
    assert_eq!(layout.marks.len(), 13);
    let radius = |i: usize| match layout.marks[i].shape {
        MarkShape::Circle { radius } => radius,
        MarkShape::Box { .. } => unreachable!(),
    };
    let heaviest = (0..13)
        .max_by(|&a, &b| model.weights[a].total_cmp(&model.weights[b]))
        .expect("studies");
    for i in 0..13 {
        let area_ratio = (radius(i) / radius(heaviest)).powi(2);
        let weight_ratio = model.weights[i] / model.weights[heaviest];
        assert!((area_ratio - weight_ratio).abs() < 1e-9, "study {i}");
    }
    // The weights are 1/(vᵢ + τ²), not 1/vᵢ.
    let d = bcg();
    assert!((model.weights[0] - 1.0 / (d.vi[0] + model.tau2().expect("one tau2"))).abs() < 1e-12);
    // One filled circle per study, centred on its mark.
    let els = elements(&svg);
    let bubbles: Vec<_> = with(&els, "circle", "fill", colour::BLUE)
        .into_iter()
        .filter(|c| c.attr("opacity") == "0.3")
        .collect();
    // One per study plus the legend's.
    assert_eq!(bubbles.len(), 14);
    for mark in &layout.marks {
        assert!(bubbles
            .iter()
            .any(|c| (c.num("cx") - mark.centre.0).abs() <= PIXEL
                && (c.num("cy") - mark.centre.1).abs() <= PIXEL));
    }
}

#[test]
fn caption_and_legend_say_what_is_shown() {
    let (plot, _) = latitude_plot();
    let (svg, _) = draw(&plot, None);
    let els = elements(&svg);
    for text in [
        "No other moderators",
        "Fitted line",
        "Confidence band",
        "Prediction band",
        "Study (area \u{221d} weight)",
    ] {
        assert_eq!(texts(&els, text).len(), 1, "{text}");
    }
}

#[test]
fn highlighted_bubble_gets_a_ring_and_hit_testing_finds_it() {
    let (plot, _) = latitude_plot();
    let (svg, layout) = draw(&plot, Some(4));
    let els = elements(&svg);
    let mark = layout.marks[4];
    let rings: Vec<_> = with(&els, "circle", "stroke", colour::INK)
        .into_iter()
        .filter(|c| (c.num("cx") - mark.centre.0).abs() <= PIXEL && c.attr("stroke-width") == "2")
        .collect();
    assert_eq!(rings.len(), 2, "a thicker outline and a ring");
    assert_eq!(layout.hit(mark.centre.0, mark.centre.1), Some(4));
}

#[test]
fn mismatched_lengths_and_no_data_are_errors() {
    let (mut plot, _) = latitude_plot();
    plot.weights.pop();
    let mut svg = String::new();
    let area = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
    assert_eq!(
        draw_bubble(&area, &plot, &Theme::default(), None),
        Err(PlotError::LengthMismatch {
            what: "weights",
            expected: 13,
            got: 12
        })
    );
    let empty = BubblePlot {
        x: vec![f64::NAN],
        y: vec![0.1],
        weights: vec![1.0],
        ..BubblePlot::default()
    };
    assert_eq!(
        draw_bubble(&area, &empty, &Theme::default(), None),
        Err(PlotError::NoData)
    );
}

#[test]
fn categories_show_each_level_estimate_at_its_value() {
    let d = bcg();
    let model = fit_intercept(&d.yi, &d.vi);
    let names = ["alternate", "random", "systematic"];
    let level_of: Vec<usize> = d
        .alloc
        .iter()
        .map(|a| names.iter().position(|n| n == a).expect("known"))
        .collect();
    // Any predictions will do for the geometry: shift the pooled one per level.
    let pooled = model.predict(&[1.0]).expect("predicts");
    let levels: Vec<Level> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let shift = 0.2 * i as f64;
            let mut p = pooled.clone();
            for v in [
                &mut p.pred,
                &mut p.ci_lower,
                &mut p.ci_upper,
                &mut p.pi_lower,
                &mut p.pi_upper,
            ] {
                *v += shift;
            }
            Level {
                name: (*n).to_owned(),
                prediction: p,
            }
        })
        .collect();
    let plot = CategoryPlot {
        levels: levels.clone(),
        level_of,
        y: d.yi.clone(),
        weights: model.weights.clone(),
        y_label: "Log risk ratio".to_owned(),
        x_label: "Allocation".to_owned(),
        ..CategoryPlot::default()
    };
    let (svg, layout) = render(SIZE, |area| {
        draw_categories(area, &plot, &Theme::default(), None)
    });
    assert_eq!(layout.marks.len(), 13);
    let els = elements(&svg);
    let y_axis = layout.y_axis.expect("y");
    let x_axis = layout.x_axis.expect("x");
    let estimates: Vec<_> = with(&els, "circle", "fill", colour::INK)
        .into_iter()
        .filter(|c| c.attr("opacity") == "1")
        .collect();
    // One per level plus none in the legend (it shows lines).
    assert_eq!(estimates.len(), 3);
    for (i, level) in levels.iter().enumerate() {
        assert!(estimates.iter().any(|c| {
            (c.num("cy") - y_axis.to_pixel(level.prediction.pred)).abs() <= PIXEL
                && (x_axis.to_data(c.num("cx")) - i as f64).abs() < 0.5
        }));
        assert_eq!(texts(&els, &level.name).len(), 1);
    }
    // Every study sits in its level's slot.
    for mark in &layout.marks {
        let slot = x_axis.to_data(mark.centre.0);
        assert!((slot - plot.level_of[mark.study] as f64).abs() < 0.5);
    }
    let bad = CategoryPlot {
        level_of: vec![3; 13],
        ..plot
    };
    let mut svg = String::new();
    let area = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
    assert!(matches!(
        draw_categories(&area, &bad, &Theme::default(), None),
        Err(PlotError::IndexOutOfRange { index: 3, len: 3 })
    ));
}

#[test]
fn layout_is_in_backend_pixels_when_drawn_on_a_sub_area() {
    let (plot, _) = latitude_plot();
    let (svg, layout) = render(SIZE, |area| {
        let inner = area.margin(40, 0, 30, 0);
        draw_bubble(&inner, &plot, &Theme::default(), None)
    });
    let els = elements(&svg);
    let bubbles = with(&els, "circle", "fill", colour::BLUE);
    for mark in &layout.marks {
        assert!(bubbles
            .iter()
            .any(|c| (c.num("cx") - mark.centre.0).abs() <= PIXEL
                && (c.num("cy") - mark.centre.1).abs() <= PIXEL));
        assert!(mark.centre.0 >= 30.0 && mark.centre.1 >= 40.0);
    }
    let x_axis = layout.x_axis.expect("x");
    assert!((x_axis.to_data(layout.marks[0].centre.0) - plot.x[0]).abs() < 1e-9);
}

/// Each bubble has an outline up to 2,000 studies; past that only the translucent fills are
/// drawn (the outlines would merge into one blot), one per study either way.
#[test]
fn bubbles_lose_their_outlines_past_two_thousand_studies() {
    let (small, _) = latitude_plot();
    let outlines = |plot: &BubblePlot| {
        let (svg, _) = draw(plot, None);
        let els = elements(&svg);
        let fills = with(&els, "circle", "fill", colour::BLUE)
            .into_iter()
            .filter(|c| c.attr("opacity") == "0.3")
            .count();
        let strokes = with(&els, "circle", "stroke", colour::BLUE).len();
        (fills, strokes)
    };
    // 13 studies: 13 fills and 13 outlines (the legend adds its own fill).
    let (fills, outlined) = outlines(&small);
    assert_eq!(fills, 14);
    // 2,001 studies along a line: a fill each, no study outlined.
    let k = 2_001;
    let large = BubblePlot {
        x: (0..k).map(|i| i as f64).collect(),
        y: (0..k).map(|i| 0.001 * i as f64).collect(),
        weights: vec![1.0; k],
        fitted: Vec::new(),
        ..small
    };
    let (fills, strokes) = outlines(&large);
    assert_eq!(fills, k + 1);
    // What is left is the legend's: the small plot's strokes less its 13 studies'.
    assert_eq!(strokes, outlined - 13);
}
