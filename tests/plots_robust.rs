//! Awkward inputs never panic: missing values, infinities, zero and negative weights, a single
//! study, identical values, and areas too small; each plot draws or returns a `PlotError`.

use meridian::plots::{
    draw_bubble, draw_categories, draw_forest, draw_funnel, draw_heterogeneity, forest_size,
    BubblePlot, CategoryPlot, EffectScale, FittedPoint, ForestOrder, ForestPlot, ForestStudy,
    FunnelPlot, HeterogeneityPlot, Level, Theme,
};
use meridian::stats::{Interval, Prediction};
use plotters::prelude::*;

/// Values a careless table can produce.
const AWKWARD: [f64; 8] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    0.0,
    -1.0,
    1e300,
    -1e-300,
    0.5,
];
/// Sizes from roomy to a single pixel.
const SIZES: [(u32, u32); 3] = [(800, 2000), (120, 90), (1, 1)];

fn prediction(v: f64) -> Prediction {
    Prediction {
        pred: v,
        se: v.abs(),
        ci_lower: v - 1.0,
        ci_upper: v + 1.0,
        pi_lower: v - 2.0,
        pi_upper: v + 2.0,
    }
}

/// Draws with every size; only checks that nothing panics.
fn each_size(draw: impl Fn(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> bool) -> usize {
    SIZES
        .iter()
        .filter(|&&size| {
            let mut svg = String::new();
            let area = SVGBackend::with_string(&mut svg, size).into_drawing_area();
            // Also on a sub-area, whose offset the backend adds to every coordinate.
            let inner = area.margin(3, 3, 3, 3);
            draw(&area) & draw(&inner)
        })
        .count()
}

#[test]
fn no_plot_panics_on_awkward_values() {
    let theme = Theme::default();
    for (n, &a) in AWKWARD.iter().enumerate() {
        let values: Vec<f64> = AWKWARD.iter().map(|&b| a * b + b).collect();
        let forest = ForestPlot {
            studies: values
                .iter()
                .map(|&v| ForestStudy {
                    label: format!("{v}"),
                    estimate: v,
                    ci_lower: v - a,
                    ci_upper: v + a,
                    weight: a,
                    fitted: Some(prediction(v)),
                })
                .collect(),
            pooled: Some(prediction(a)),
            order: ForestOrder::Moderator(vec![a; 3]),
            scale: if n % 2 == 0 {
                EffectScale::Exp
            } else {
                EffectScale::Identity
            },
            level: a,
            ..ForestPlot::default()
        };
        let _ = forest_size(&forest, &theme);
        each_size(|area| draw_forest(area, &forest, &theme, Some(n)).is_ok());

        let bubble = BubblePlot {
            x: values.clone(),
            y: values.iter().rev().copied().collect(),
            weights: vec![a; values.len()],
            fitted: values
                .iter()
                .map(|&x| FittedPoint {
                    x,
                    prediction: prediction(a),
                })
                .collect(),
            scale: EffectScale::Exp,
            ..BubblePlot::default()
        };
        each_size(|area| draw_bubble(area, &bubble, &theme, Some(0)).is_ok());

        let categories = CategoryPlot {
            levels: vec![
                Level {
                    name: String::new(),
                    prediction: prediction(a),
                },
                Level {
                    name: "b".to_owned(),
                    prediction: prediction(-a),
                },
            ],
            level_of: (0..values.len()).map(|i| i % 2).collect(),
            y: values.clone(),
            weights: vec![a; values.len()],
            ..CategoryPlot::default()
        };
        each_size(|area| draw_categories(area, &categories, &theme, None).is_ok());

        let funnel = FunnelPlot {
            yi: values.clone(),
            sei: values.iter().map(|v| v.abs()).collect(),
            estimate: a,
            contours: n % 2 == 1,
            scale: EffectScale::Exp,
            ..FunnelPlot::default()
        };
        each_size(|area| draw_funnel(area, &funnel, &theme, Some(1)).is_ok());

        let interval = Interval {
            estimate: a,
            lower: -a,
            upper: a * 2.0,
        };
        let picture = HeterogeneityPlot {
            tau2: interval,
            i2: interval,
            typical_variance: a,
            explained: None,
            residual: false,
            fixed: false,
            level: a,
        };
        each_size(|area| draw_heterogeneity(area, &picture, &theme).is_ok());
    }
}

#[test]
fn a_single_study_and_identical_values_draw() {
    let theme = Theme::default();
    let forest = ForestPlot {
        studies: vec![ForestStudy {
            label: "Only".to_owned(),
            estimate: 0.0,
            ci_lower: 0.0,
            ci_upper: 0.0,
            weight: 1.0,
            fitted: None,
        }],
        ..ForestPlot::default()
    };
    let size = forest_size(&forest, &theme).expect("sizes");
    let mut svg = String::new();
    let area = SVGBackend::with_string(&mut svg, size).into_drawing_area();
    assert!(draw_forest(&area, &forest, &theme, None).is_ok());
    let bubble = BubblePlot {
        x: vec![3.0; 4],
        y: vec![0.2; 4],
        weights: vec![1.0; 4],
        ..BubblePlot::default()
    };
    assert_eq!(
        each_size(|area| draw_bubble(area, &bubble, &theme, None).is_ok()),
        SIZES.len()
    );
    let funnel = FunnelPlot {
        yi: vec![0.1],
        sei: vec![0.0],
        ..FunnelPlot::default()
    };
    assert_eq!(
        each_size(|area| draw_funnel(area, &funnel, &theme, None).is_ok()),
        SIZES.len()
    );
}
