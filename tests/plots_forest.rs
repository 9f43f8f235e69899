//! The forest plot drawn to SVG means what it should: one square per study at its estimate,
//! the diamond centred at the pooled estimate, a log axis labelled 0.25 0.5 1 2, subgroups,
//! and rows that never overlap at k = 100.

mod plots_support;

use meridian::plots::{
    draw_forest, draw_forest_window, forest_size, EffectScale, ForestOrder, ForestPlot, MarkShape,
    PlotError, Subgroup, Theme,
};
use plots_support::*;
use plotters::prelude::*;

/// Pixel positions are rounded to whole pixels when drawn.
const PIXEL: f64 = 1.0;

fn bcg_forest_on(scale: EffectScale) -> ForestPlot {
    ForestPlot {
        scale,
        ..bcg_forest()
    }
}

fn draw(plot: &ForestPlot, highlight: Option<usize>) -> (String, meridian::plots::PlotLayout) {
    let theme = Theme::default();
    let (w, h) = forest_size(plot, &theme).expect("sizes");
    render((w.max(900), h), |area| {
        draw_forest(area, plot, &theme, highlight)
    })
}

#[test]
fn one_square_per_study_at_its_estimate() {
    let plot = bcg_forest_on(EffectScale::Exp);
    let (svg, layout) = draw(&plot, None);
    let els = elements(&svg);
    let squares = with(&els, "rect", "fill", colour::BLUE);
    assert_eq!(squares.len(), 13);
    assert_eq!(layout.marks.len(), 13);
    let x_axis = layout.x_axis.expect("a forest plot has an x axis");
    for (study, mark) in layout.marks.iter().enumerate() {
        assert_eq!(mark.study, study);
        let expected_x = x_axis.to_pixel(plot.studies[study].estimate);
        assert!((mark.centre.0 - expected_x).abs() < 1e-9);
        // The square drawn there, the right size.
        let MarkShape::Box { half_width, .. } = mark.shape else {
            panic!("forest marks are boxes")
        };
        assert!(squares.iter().any(|r| {
            (r.num("x") + r.num("width") / 2.0 - mark.centre.0).abs() <= PIXEL
                && (r.num("y") + r.num("height") / 2.0 - mark.centre.1).abs() <= PIXEL
                && (r.num("width") - 2.0 * half_width).abs() <= 2.0 * PIXEL
        }));
    }
}

#[test]
fn square_area_is_proportional_to_weight() {
    let plot = bcg_forest_on(EffectScale::Exp);
    let (_, layout) = draw(&plot, None);
    let side = |i: usize| match layout.marks[i].shape {
        MarkShape::Box { half_width, .. } => 2.0 * half_width,
        MarkShape::Circle { .. } => unreachable!(),
    };
    let heaviest = (0..13)
        .max_by(|&a, &b| plot.studies[a].weight.total_cmp(&plot.studies[b].weight))
        .expect("13 studies");
    for i in 0..13 {
        let area_ratio = (side(i) / side(heaviest)).powi(2);
        let weight_ratio = plot.studies[i].weight / plot.studies[heaviest].weight;
        assert!((area_ratio - weight_ratio).abs() < 1e-9, "study {i}");
    }
}

#[test]
fn diamond_is_centred_at_the_pooled_estimate() {
    let plot = bcg_forest_on(EffectScale::Exp);
    let pooled = plot.pooled.clone().expect("pooled");
    let (svg, layout) = draw(&plot, None);
    let els = elements(&svg);
    let x_axis = layout.x_axis.expect("x axis");
    let diamonds = with(&els, "polygon", "fill", colour::INK);
    assert_eq!(diamonds.len(), 1);
    let pts = diamonds[0].points();
    assert_eq!(pts.len(), 4);
    // Left, top, right, bottom corners: the CI bounds and the estimate.
    assert!((pts[0].0 - x_axis.to_pixel(pooled.ci_lower)).abs() <= PIXEL);
    assert!((pts[1].0 - x_axis.to_pixel(pooled.pred)).abs() <= PIXEL);
    assert!((pts[2].0 - x_axis.to_pixel(pooled.ci_upper)).abs() <= PIXEL);
    assert!((pts[3].0 - x_axis.to_pixel(pooled.pred)).abs() <= PIXEL);
    // Back from pixels: metafor's pooled log risk ratio for BCG (REML) is −0.7145.
    assert!((x_axis.to_data(pts[1].0) - (-0.7145)).abs() < 0.01);
    // The pooled estimate, its CI and its PI are printed, back-transformed.
    assert_eq!(texts(&els, "0.49 [0.34, 0.70]").len(), 1);
    assert_eq!(texts(&els, "[0.15, 1.55]").len(), 1);
}

#[test]
fn log_axis_has_ticks_at_half_one_and_two() {
    let plot = bcg_forest_on(EffectScale::Exp);
    let (svg, layout) = draw(&plot, None);
    let els = elements(&svg);
    let x_axis = layout.x_axis.expect("x axis");
    let tick_x = |label: &str| {
        let found = texts(&els, label);
        assert_eq!(found.len(), 1, "one tick labelled {label}");
        found[0].num("x")
    };
    for value in [0.5_f64, 1.0, 2.0] {
        let label = format!("{value}");
        assert!((tick_x(&label) - x_axis.to_pixel(value.ln())).abs() <= PIXEL);
    }
    // Log spacing: 0.5 → 1 is as long as 1 → 2.
    let (half, one, two) = (tick_x("0.5"), tick_x("1"), tick_x("2"));
    assert!(((one - half) - (two - one)).abs() <= 2.0 * PIXEL);
    assert!(texts(&els, "Risk ratio (log scale)").len() == 1);
}

#[test]
fn identity_axis_prints_log_risk_ratios() {
    let mut plot = bcg_forest_on(EffectScale::Identity);
    plot.measure = "Log risk ratio".to_owned();
    let (svg, layout) = draw(&plot, None);
    let els = elements(&svg);
    assert_eq!(
        texts(&els, "\u{2212}0.71 [\u{2212}1.07, \u{2212}0.36]").len(),
        1
    );
    // Linear ticks: the one labelled 0 sits at 0, and negative labels use a true minus sign.
    let x_axis = layout.x_axis.expect("x axis");
    let ticks: Vec<(f64, f64)> = els
        .iter()
        .filter(|e| e.tag == "text" && e.attr("text-anchor") == "middle")
        .filter_map(|e| {
            Some((
                e.text.replace('\u{2212}', "-").parse::<f64>().ok()?,
                e.num("x"),
            ))
        })
        .collect();
    assert!(ticks.len() >= 3, "{ticks:?}");
    for (value, x) in ticks {
        assert!(
            (x - x_axis.to_pixel(value)).abs() <= PIXEL,
            "tick {value} at {x}"
        );
    }
}

#[test]
fn rows_never_overlap_at_k_100_and_height_grows_with_k() {
    let theme = Theme::default();
    let make = |k: usize| {
        let (labels, yi, vi) = many_studies(k);
        let model = fit_intercept(&yi, &vi);
        let pooled = model.predict(&[1.0]).expect("predicts");
        ForestPlot::from_fit(&labels, &yi, &vi, &model, Some(pooled))
    };
    let plot = make(100);
    let (_, h100) = forest_size(&plot, &theme).expect("sizes");
    let (_, h10) = forest_size(&make(10), &theme).expect("sizes");
    assert!(f64::from(h100 - h10) >= 90.0 * 20.0, "{h10} → {h100}");
    let (svg, layout) = draw(&plot, None);
    assert_eq!(layout.marks.len(), 100);
    let els = elements(&svg);
    // The study labels, top to bottom: consecutive baselines at least a font height apart.
    let mut labels: Vec<(f64, f64)> = els
        .iter()
        .filter(|e| e.tag == "text" && e.text.starts_with("Study number"))
        .map(|e| (e.num("y"), e.num("font-size")))
        .collect();
    assert_eq!(labels.len(), 100);
    labels.sort_by(|a, b| a.0.total_cmp(&b.0));
    for pair in labels.windows(2) {
        let font = pair[0].1.max(pair[1].1);
        assert!(pair[1].0 - pair[0].0 >= font, "rows {pair:?} overlap");
    }
    // Nothing is drawn below the area.
    let height = f64::from(forest_size(&plot, &theme).expect("sizes").1);
    assert!(els
        .iter()
        .filter(|e| e.tag == "text")
        .all(|e| e.num("y") < height));
}

#[test]
fn too_small_an_area_is_an_error_not_overlapping_text() {
    let plot = bcg_forest_on(EffectScale::Exp);
    let mut svg = String::new();
    let area = SVGBackend::with_string(&mut svg, (900, 200)).into_drawing_area();
    let err = draw_forest(&area, &plot, &Theme::default(), None).expect_err("too small");
    assert!(matches!(err, PlotError::AreaTooSmall { .. }), "{err}");
}

#[test]
fn sorting_by_effect_orders_rows_top_to_bottom() {
    let mut plot = bcg_forest_on(EffectScale::Exp);
    plot.order = ForestOrder::Effect;
    let (_, layout) = draw(&plot, None);
    let mut by_row: Vec<_> = layout.marks.clone();
    by_row.sort_by(|a, b| a.centre.1.total_cmp(&b.centre.1));
    let effects: Vec<f64> = by_row
        .iter()
        .map(|m| plot.studies[m.study].estimate)
        .collect();
    assert!(effects.windows(2).all(|w| w[0] <= w[1]), "{effects:?}");

    plot.order = ForestOrder::Moderator(bcg().ablat);
    let (_, layout) = draw(&plot, None);
    let mut by_row = layout.marks.clone();
    by_row.sort_by(|a, b| a.centre.1.total_cmp(&b.centre.1));
    let ablat = bcg().ablat;
    assert!(by_row
        .windows(2)
        .all(|w| ablat[w[0].study] <= ablat[w[1].study]));
}

#[test]
fn subgroups_get_a_hollow_diamond_each_and_the_test_for_differences() {
    let plot = forest_by_alloc();
    let (svg, layout) = draw(&plot, None);
    let els = elements(&svg);
    assert_eq!(layout.marks.len(), 13);
    // The two subgroups with more than one study get a diamond; the overall one is filled.
    let hollow = with(&els, "polygon", "fill", colour::PAPER);
    let filled = with(&els, "polygon", "fill", colour::INK);
    let fitted = plot.subgroups.iter().filter(|g| g.pooled.is_some()).count();
    assert_eq!(hollow.len(), fitted);
    assert_eq!(filled.len(), 1);
    for group in &plot.subgroups {
        assert_eq!(texts(&els, &group.name).len(), 1);
    }
    // metafor: QM(df = 2) = 1.7675, p = 0.4132 (rma(yi, vi, mods = ~ alloc)).
    assert!(
        texts(
            &els,
            "Test for subgroup differences: QM = 1.77, df = 2, p = 0.4132"
        )
        .len()
            == 1,
        "{:?}",
        els.iter()
            .filter(|e| e.text.starts_with("Test"))
            .map(|e| &e.text)
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_subgroup_naming_an_unknown_study_is_an_error() {
    let mut plot = bcg_forest_on(EffectScale::Exp);
    plot.subgroups = vec![Subgroup {
        name: "g".to_owned(),
        studies: vec![0, 13],
        pooled: None,
    }];
    assert_eq!(
        forest_size(&plot, &Theme::default()),
        Err(PlotError::IndexOutOfRange { index: 13, len: 13 })
    );
}

#[test]
fn highlighted_study_gets_a_ring_and_hit_testing_finds_every_row() {
    let plot = bcg_forest_on(EffectScale::Exp);
    let (svg, layout) = draw(&plot, Some(3));
    let els = elements(&svg);
    let rings: Vec<_> = els
        .iter()
        .filter(|e| e.tag == "polyline" && e.attr("stroke-width") == "2" && e.points().len() == 5)
        .collect();
    assert_eq!(rings.len(), 1);
    let centre = layout.marks[3].centre;
    let ring = rings[0].points();
    let (cx, cy) = ((ring[0].0 + ring[2].0) / 2.0, (ring[0].1 + ring[2].1) / 2.0);
    assert!((cx - centre.0).abs() <= PIXEL && (cy - centre.1).abs() <= PIXEL);
    let label = texts(&els, &plot.studies[3].label);
    assert_eq!(label[0].attr("font-weight"), "bold");
    for mark in &layout.marks {
        // Anywhere on the row, even far from the square.
        assert_eq!(
            layout.hit(mark.target.left + 2.0, mark.centre.1),
            Some(mark.study)
        );
    }
    assert_eq!(layout.hit(-10.0, -10.0), None);
}

#[test]
fn device_pixel_ratio_two_doubles_every_length() {
    let plot = bcg_forest_on(EffectScale::Exp);
    let (one, two) = (Theme::default(), Theme::with_scale(2.0));
    let (w1, h1) = forest_size(&plot, &one).expect("sizes");
    let (w2, h2) = forest_size(&plot, &two).expect("sizes");
    assert!(w2.abs_diff(2 * w1) <= 2 && h2.abs_diff(2 * h1) <= 2);
    let (_, at_one) = render((w1, h1), |a| draw_forest(a, &plot, &one, None));
    let (_, at_two) = render((w2, h2), |a| draw_forest(a, &plot, &two, None));
    for (a, b) in at_one.marks.iter().zip(&at_two.marks) {
        assert!((2.0 * a.centre.0 - b.centre.0).abs() <= 2.0 * PIXEL);
        assert!((2.0 * a.centre.1 - b.centre.1).abs() <= 2.0 * PIXEL);
    }
    assert_eq!(Theme::with_scale(f64::NAN), Theme::default());
}

#[test]
fn from_fit_uses_wald_intervals_the_model_weights_and_names_the_model() {
    let d = bcg();
    let spec = meridian::stats::ModelSpec {
        method: meridian::stats::Tau2Method::Fe,
        ..reml()
    };
    let fe = meridian::stats::fit(
        &d.yi,
        &d.vi,
        &meridian::stats::Design::intercept_only(13),
        &spec,
    )
    .expect("fits");
    let plot = ForestPlot::from_fit(&d.author, &d.yi, &d.vi, &fe, None);
    assert_eq!(plot.pooled_label, "Fixed-effect model (FE)");
    let z = 1.959_963_984_540_054;
    for (i, s) in plot.studies.iter().enumerate() {
        assert!((s.ci_upper - (d.yi[i] + z * d.vi[i].sqrt())).abs() < 1e-12);
        assert!((s.weight - 1.0 / d.vi[i]).abs() < 1e-9);
    }
    // metafor's forest(): Aronson 0.41 [0.13, 1.26] on the risk-ratio scale.
    let a = &plot.studies[0];
    let shown: Vec<String> = [a.estimate, a.ci_lower, a.ci_upper]
        .iter()
        .map(|v| EffectScale::Exp.format(*v, 2))
        .collect();
    assert_eq!(shown, ["0.41", "0.13", "1.26"]);
}

#[test]
fn a_window_draws_only_the_rows_in_view_where_the_whole_plot_has_them() {
    let theme = Theme::default();
    let k = 300;
    let (labels, yi, vi) = many_studies(k);
    let model = fit_intercept(&yi, &vi);
    let plot = ForestPlot::from_fit(&labels, &yi, &vi, &model, model.predict(&[1.0]).ok());
    let (w, h) = forest_size(&plot, &theme).expect("sizes");
    let (_, whole) = render((w, h), |a| draw_forest(a, &plot, &theme, None));
    let scroll = whole.marks[150].centre.1 - 100.0;
    let window = (w, 400);
    let (svg, part) = render(window, |a| {
        draw_forest_window(a, &plot, &theme, Some(150), scroll)
    });
    // The rows in view, at the whole plot's positions shifted by the scroll.
    let expected: Vec<usize> = whole
        .marks
        .iter()
        .filter(|m| m.centre.1 - scroll >= 0.0 && m.centre.1 - scroll <= 400.0)
        .map(|m| m.study)
        .collect();
    assert!(expected.len() >= 15, "{}", expected.len());
    for study in &expected {
        let m = part.mark(*study).expect("drawn");
        let full = whole.mark(*study).expect("drawn");
        assert!((m.centre.1 - (full.centre.1 - scroll)).abs() < 1e-9);
        assert!((m.centre.0 - full.centre.0).abs() < 1e-9);
    }
    // A row's margin either side at most, not all 300.
    assert!(part.marks.len() <= expected.len() + 2);
    let drawn = elements(&svg)
        .iter()
        .filter(|e| e.tag == "text" && e.text.starts_with("Study number"))
        .count();
    assert_eq!(drawn, part.marks.len());
    // The whole plot still refuses an area too short for it; the window does not.
    let mut out = String::new();
    let area = SVGBackend::with_string(&mut out, window).into_drawing_area();
    assert!(matches!(
        draw_forest(&area, &plot, &theme, None),
        Err(PlotError::AreaTooSmall { .. })
    ));
}

#[test]
fn a_meta_regression_shows_each_studys_fitted_value_as_a_grey_diamond() {
    let d = bcg();
    let model = fit_slope(&d.yi, &d.vi, &d.ablat, "ablat");
    let plot = ForestPlot {
        scale: EffectScale::Exp,
        ..ForestPlot::from_fit(&d.author, &d.yi, &d.vi, &model, None)
    };
    for (i, s) in plot.studies.iter().enumerate() {
        let fitted = s.fitted.as_ref().expect("a fitted value");
        // metafor: fitted(res) is xᵢ'b.
        assert!((fitted.pred - model.fitted[i]).abs() < 1e-12);
        assert!(fitted.ci_lower < fitted.pred && fitted.pred < fitted.ci_upper);
    }
    let (svg, layout) = draw(&plot, None);
    let els = elements(&svg);
    let x_axis = layout.x_axis.expect("x axis");
    let grey: Vec<_> = with(&els, "polygon", "fill", "#C4C8CE");
    assert_eq!(grey.len(), 13);
    for mark in &layout.marks {
        let fitted = plot.studies[mark.study].fitted.as_ref().expect("fitted");
        assert!(grey.iter().any(|g| {
            let p = g.points();
            (p[1].0 - x_axis.to_pixel(fitted.pred)).abs() <= PIXEL
                && (p[0].0 - x_axis.to_pixel(fitted.ci_lower)).abs() <= PIXEL
                && (p[0].1 - mark.centre.1).abs() <= PIXEL
        }));
    }
    assert_eq!(
        texts(
            &els,
            "Grey diamonds: the fitted value of each study under the model, with its CI"
        )
        .len(),
        1
    );
    // No pooled diamond without a pooled estimate.
    assert!(with(&els, "polygon", "fill", colour::INK).is_empty());
}
