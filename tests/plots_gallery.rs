//! Every plot for the BCG example, written to `target/plots/*.svg` to look at (convert with
//! `rsvg-convert`); each must draw without error and mark every study.

mod plots_support;

use meridian::plots::{
    draw_bubble, draw_categories, draw_forest, draw_funnel, draw_heterogeneity, forest_size,
    heterogeneity_size, BubblePlot, CategoryPlot, EffectScale, FittedPoint, ForestPlot, FunnelPlot,
    HeterogeneityPlot, Level, Theme,
};
use meridian::stats::{fit, Design};
use nalgebra::DMatrix;
use plots_support::*;

/// Size of the figures with a free aspect ratio.
const FIGURE: (u32, u32) = (760, 520);
/// Points on the fitted line's grid.
const GRID: usize = 60;

#[test]
fn bcg_gallery() {
    let theme = Theme::default();
    let d = bcg();
    let model = fit_intercept(&d.yi, &d.vi);
    let pooled = model.predict(&[1.0]).expect("predicts");

    let forest = ForestPlot {
        scale: EffectScale::Exp,
        measure: "Risk ratio".to_owned(),
        pooled_label: "Random-effects model (REML)".to_owned(),
        notes: vec![format!(
            "Heterogeneity: \u{3c4}\u{b2} = {:.3}, I\u{b2} = {:.1}%, Q({}) = {:.2}",
            model.tau2().expect("one tau2"),
            model.heterogeneity.i2,
            model.heterogeneity.qe_df,
            model.heterogeneity.qe
        )],
        ..ForestPlot::from_fit(&d.author, &d.yi, &d.vi, &model, Some(pooled.clone()))
    };
    let (w, h) = forest_size(&forest, &theme).expect("sizes");
    let (svg, layout) = render((w.max(820), h), |a| {
        draw_forest(a, &forest, &theme, Some(5))
    });
    assert_eq!(layout.marks.len(), 13);
    save("forest", &svg);
    let by_alloc = forest_by_alloc();
    let (w, h) = forest_size(&by_alloc, &theme).expect("sizes");
    let (svg, _) = render((w.max(820), h), |a| draw_forest(a, &by_alloc, &theme, None));
    save("forest_subgroups", &svg);
    let k = 100;
    // Labels like real ones, so the picture shows the label column at a realistic width.
    let (_, yi, vi) = many_studies(k);
    let labels: Vec<String> = (0..k)
        .map(|i| format!("Study {} et al. ({})", i + 1, 1950 + i % 60))
        .collect();
    let many = fit_intercept(&yi, &vi);
    let many_plot = ForestPlot {
        measure: "Standardised mean difference".to_owned(),
        pooled_label: "Random-effects model (REML)".to_owned(),
        ..ForestPlot::from_fit(
            &labels,
            &yi,
            &vi,
            &many,
            Some(many.predict(&[1.0]).expect("predicts")),
        )
    };
    let (w, h) = forest_size(&many_plot, &theme).expect("sizes");
    let (svg, layout) = render((w.max(820), h), |a| {
        draw_forest(a, &many_plot, &theme, None)
    });
    assert_eq!(layout.marks.len(), k);
    save("forest_k100", &svg);

    let slope = fit_slope(&d.yi, &d.vi, &d.ablat, "ablat");
    let regression = ForestPlot {
        scale: EffectScale::Exp,
        measure: "Risk ratio".to_owned(),
        order: meridian::plots::ForestOrder::Moderator(d.ablat.clone()),
        ..ForestPlot::from_fit(&d.author, &d.yi, &d.vi, &slope, None)
    };
    let (w, h) = forest_size(&regression, &theme).expect("sizes");
    let (svg, _) = render((w.max(820), h), |a| {
        draw_forest(a, &regression, &theme, None)
    });
    save("forest_regression", &svg);
    let (lo, hi) = (10.0, 60.0);
    let fitted: Vec<FittedPoint> = (0..=GRID)
        .map(|i| {
            let x = lo + (hi - lo) * i as f64 / GRID as f64;
            FittedPoint {
                x,
                prediction: slope.predict(&[1.0, x]).expect("predicts"),
            }
        })
        .collect();
    let bubble = BubblePlot {
        x: d.ablat.clone(),
        y: d.yi.clone(),
        weights: slope.weights.clone(),
        x_label: "Absolute latitude (degrees)".to_owned(),
        y_label: "Risk ratio (log scale)".to_owned(),
        scale: EffectScale::Exp,
        fitted,
        caption: "Fitted by REML: log RR = b\u{2080} + b\u{2081}\u{b7}ablat; no other moderators"
            .to_owned(),
    };
    let (svg, layout) = render(FIGURE, |a| draw_bubble(a, &bubble, &theme, Some(7)));
    assert_eq!(layout.marks.len(), 13);
    save("bubble", &svg);

    let names = ["alternate", "random", "systematic"];
    let level_of: Vec<usize> = d
        .alloc
        .iter()
        .map(|a| names.iter().position(|n| n == a).expect("known level"))
        .collect();
    let design = Design {
        x: DMatrix::from_fn(13, 3, |i, j| match j {
            0 => 1.0,
            j => f64::from(u8::from(level_of[i] == j)),
        }),
        names: vec![
            "intrcpt".into(),
            "allocrandom".into(),
            "allocsystematic".into(),
        ],
        intercept: true,
        terms: Vec::new(),
    };
    let by_alloc = fit(&d.yi, &d.vi, &design, &reml()).expect("fits");
    let categories = CategoryPlot {
        levels: (0..3)
            .map(|l| {
                let mut x0 = [1.0, 0.0, 0.0];
                if l > 0 {
                    x0[l] = 1.0;
                }
                Level {
                    name: names[l].to_owned(),
                    prediction: by_alloc.predict(&x0).expect("predicts"),
                }
            })
            .collect(),
        level_of,
        y: d.yi.clone(),
        weights: by_alloc.weights.clone(),
        x_label: "Allocation".to_owned(),
        y_label: "Risk ratio (log scale)".to_owned(),
        scale: EffectScale::Exp,
        caption: "Estimates per level from the model with factor(alloc)".to_owned(),
    };
    let (svg, layout) = render(FIGURE, |a| draw_categories(a, &categories, &theme, None));
    assert_eq!(layout.marks.len(), 13);
    save("categories", &svg);

    let funnel = FunnelPlot {
        yi: d.yi.clone(),
        sei: d.vi.iter().map(|v| v.sqrt()).collect(),
        estimate: pooled.pred,
        contours: false,
        egger: Some(model.regtest().expect("Egger's test")),
        x_label: "Risk ratio (log scale)".to_owned(),
        scale: EffectScale::Exp,
    };
    let (svg, layout) = render(FIGURE, |a| draw_funnel(a, &funnel, &theme, None));
    assert_eq!(layout.marks.len(), 13);
    save("funnel", &svg);
    let contour = FunnelPlot {
        contours: true,
        ..funnel
    };
    let (svg, _) = render(FIGURE, |a| draw_funnel(a, &contour, &theme, Some(2)));
    save("funnel_contours", &svg);

    let intervals = model.confint_tau2(0.95).expect("Q-profile");
    let picture = HeterogeneityPlot::from_fit(&model, Some(&intervals));
    let (w, h) = heterogeneity_size(&picture, &theme);
    let (svg, _) = render((w.max(760), h), |a| draw_heterogeneity(a, &picture, &theme));
    save("heterogeneity", &svg);
    let intervals = slope.confint_tau2(0.95).expect("Q-profile");
    let picture = HeterogeneityPlot::from_fit(&slope, Some(&intervals));
    let (w, h) = heterogeneity_size(&picture, &theme);
    let (svg, _) = render((w.max(760), h), |a| draw_heterogeneity(a, &picture, &theme));
    save("heterogeneity_moderators", &svg);
}
