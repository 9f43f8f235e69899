//! Each plot's input built from an analysis of the BCG vaccine trials (Colditz et al., 1994)
//! carries metafor's numbers (fixtures from R under tests/fixtures), and draws to SVG.

mod plots_support;

use meridian::analysis::egger::egger;
use meridian::analysis::moderator::{drawn_moderator, moderator_curve, study_values};
use meridian::analysis::subgroups::subgroups;
use meridian::analysis::{analyse, AnalysisError, AnalysisSpec, Run};
use meridian::app::PageState;
use meridian::data::effect_size::Measure;
use meridian::plots::inputs::{forest, funnel, heterogeneity, moderator, ModeratorPlot};
use meridian::plots::{
    draw_bubble, draw_categories, draw_forest, draw_funnel, draw_heterogeneity, forest_size,
    heterogeneity_size, BubblePlot, CategoryPlot, EffectScale, ForestOrder, PlotError, PlotLayout,
    Theme,
};
use meridian::stats::Test;
use plots_support::{fixture_case, numbers};
use plotters::prelude::*;
use serde_json::Value;

/// Agreement with metafor's printed-to-15-digits fixtures, after our own iterations.
const TOL: f64 = 1e-6;
/// Size of the figures with a free aspect ratio.
const FIGURE: (u32, u32) = (760, 520);

fn fixture(path: &str) -> Value {
    let text = std::fs::read_to_string(path).expect("the fixture is committed");
    serde_json::from_str(&text).expect("the fixture is JSON")
}

/// The REML fit with z tests of a `tests/fixtures/stats` fixture.
fn reml_z(name: &str) -> Value {
    let fx = fixture(&format!("tests/fixtures/stats/{name}.json"));
    fx["fits"]
        .as_array()
        .expect("fits")
        .iter()
        .find(|f| f["method"] == "REML" && f["test"] == "z")
        .expect("a REML z fit")
        .clone()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn session(formula: &str) -> PageState {
    let mut s = PageState::default();
    s.model.formula = formula.into();
    s
}

fn analysis(s: &PageState) -> Run {
    s.analyse().expect("BCG analyses")
}

fn measure(s: &PageState) -> Option<Measure> {
    s.columns.measure
}

/// The plot of the effects against `column` (the fitted line or levels of the analysis).
fn bubble(r: &Run, s: &PageState, column: &str) -> Result<ModeratorPlot, AnalysisError> {
    let a = &r.analysis;
    let curve = moderator_curve(&r.table, &a.data, &a.model, &r.fitted, column)?;
    Ok(moderator(a, &curve, measure(s)))
}

/// The forest plot of the analysis, with its subgroups by `subgroup`.
fn forest_of(
    r: &Run,
    measure: Option<Measure>,
    order: ForestOrder,
    subgroup: Option<&str>,
) -> Result<meridian::plots::ForestPlot, AnalysisError> {
    let groups = subgroup
        .map(|c| subgroups(&r.table, &r.analysis.data, &r.fitted, c))
        .transpose()?;
    Ok(forest(&r.analysis, measure, order, groups.as_ref()))
}

/// The funnel plot of the analysis with its Egger test.
fn funnel_of(r: &Run, measure: Option<Measure>, contours: bool) -> meridian::plots::FunnelPlot {
    let test = egger(&r.fitted);
    funnel(&r.analysis, measure, test.as_ref(), contours)
}

/// Each study's value of `column`.
fn values(r: &Run, column: &str) -> Result<Vec<f64>, meridian::data::parse::ParseError> {
    study_values(&r.table, r.analysis.studies(), column)
}

/// Draws into an SVG string of the given size.
fn render(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Result<PlotLayout, PlotError>,
) -> Result<(String, PlotLayout), PlotError> {
    let mut svg = String::new();
    let layout = {
        let area = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw(&area)?
    };
    Ok((svg, layout))
}

fn bubble_plot(plot: ModeratorPlot) -> BubblePlot {
    match plot {
        ModeratorPlot::Bubble(b) => b,
        ModeratorPlot::Categories(_) => panic!("expected a bubble plot"),
    }
}

fn category_plot(plot: ModeratorPlot) -> CategoryPlot {
    match plot {
        ModeratorPlot::Categories(c) => c,
        ModeratorPlot::Bubble(_) => panic!("expected a category plot"),
    }
}

#[test]
fn forest_has_a_row_per_study_metafors_weights_and_the_pooled_diamond() {
    let s = PageState::default();
    let a = analysis(&s);
    let plot = forest_of(&a, measure(&s), ForestOrder::Input, None).expect("forest input");
    // metafor: res <- rma(yi, vi, data = dat.bcg escalc'd as RR); weights(res); predict(res).
    let reml = reml_z("bcg");
    assert_eq!(plot.studies.len(), 13);
    let total: f64 = plot.studies.iter().map(|r| r.weight).sum();
    assert!(close(total, 100.0, 1e-9), "weights sum to {total}");
    for (row, w) in plot.studies.iter().zip(numbers(&reml["weights"])) {
        assert!(
            close(row.weight, w, TOL),
            "{}: {} vs {w}",
            row.label,
            row.weight
        );
    }
    assert_eq!(plot.studies[0].label, "Aronson");
    let pooled = plot.pooled.as_ref().expect("a diamond");
    assert!(close(pooled.pred, -0.714532342158168, TOL));
    assert!(close(pooled.ci_lower, -1.06689763881052, TOL));
    assert!(close(pooled.ci_upper, -0.362167045505815, TOL));
    assert!(pooled.pi_lower < pooled.ci_lower && pooled.pi_upper > pooled.ci_upper);
    // A study's interval is the Wald interval yi ± 1.96·√vi metafor's forest() draws.
    let first = &plot.studies[0];
    let half = 1.959_963_984_540_054 * a.analysis.studies().vi[0].sqrt();
    assert!(close(first.ci_upper - first.estimate, half, 1e-12));
    assert_eq!(plot.scale, EffectScale::Exp);
    assert_eq!(plot.measure, "Risk ratio");
    assert_eq!(plot.pooled_label, "Random-effects model (REML)");
    assert!(plot.notes[0].starts_with("Heterogeneity: \u{3c4}\u{b2} = 0.313, I\u{b2} = 92.2%"));

    let theme = Theme::default();
    let size = forest_size(&plot, &theme).expect("sizes");
    let (_, layout) = render(size, |area| draw_forest(area, &plot, &theme, None)).expect("draws");
    assert_eq!(layout.marks.len(), 13);
}

#[test]
fn forest_order_by_a_moderator_takes_the_studies_values() {
    let s = PageState::default();
    let a = analysis(&s);
    let ablat = values(&a, "ablat").expect("numeric");
    assert_eq!(ablat[..3], [44.0, 55.0, 42.0]);
    let plot = forest_of(&a, None, ForestOrder::Moderator(ablat.clone()), None).expect("input");
    assert_eq!(plot.order, ForestOrder::Moderator(ablat));
    // Without a measure the effects are shown as fitted.
    assert_eq!(plot.scale, EffectScale::Identity);
    assert!(matches!(
        values(&a, "alloc"),
        Err(meridian::data::parse::ParseError::NotANumber { .. })
    ));
}

#[test]
fn forest_of_a_meta_regression_has_no_diamond_and_gives_the_test_of_moderators() {
    let s = session("ablat");
    let a = analysis(&s);
    let plot = forest_of(&a, measure(&s), ForestOrder::Effect, None).expect("forest input");
    assert_eq!(plot.studies.len(), 13);
    assert!(plot.pooled.is_none());
    // metafor: QM = 16.3582 for ~ ablat (REML, z).
    assert!(
        plot.notes
            .iter()
            .any(|n| n == "Test of moderators: QM = 16.36, df = 1, p < 0.0001"),
        "{:?}",
        plot.notes
    );
    assert!(plot
        .notes
        .iter()
        .any(|n| n.starts_with("Residual heterogeneity")));
    let theme = Theme::default();
    let size = forest_size(&plot, &theme).expect("sizes");
    assert!(render(size, |area| draw_forest(area, &plot, &theme, Some(3))).is_ok());
}

#[test]
fn subgroups_by_alloc_have_their_own_models_and_metafors_test_for_differences() {
    let s = PageState::default();
    let a = analysis(&s);
    let plot = forest_of(&a, measure(&s), ForestOrder::Input, Some("alloc")).expect("input");
    let names: Vec<&str> = plot.subgroups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        names,
        ["alloc = alternate", "alloc = random", "alloc = systematic"]
    );
    let sizes: Vec<usize> = plot.subgroups.iter().map(|g| g.studies.len()).collect();
    assert_eq!(sizes, [2, 7, 4]);
    assert!(plot.subgroups.iter().all(|g| g.pooled.is_some()));
    // The subgroup of the two alternating-allocation trials is their own REML model.
    let members = &plot.subgroups[0].studies;
    let yi: Vec<f64> = members
        .iter()
        .map(|&i| a.analysis.studies().yi[i])
        .collect();
    let vi: Vec<f64> = members
        .iter()
        .map(|&i| a.analysis.studies().vi[i])
        .collect();
    let own = meridian::stats::fit(
        &yi,
        &vi,
        &meridian::stats::Design::intercept_only(2),
        &a.fitted.fit.spec,
    )
    .expect("fits")
    .predict(&[1.0])
    .expect("predicts");
    assert_eq!(plot.subgroups[0].pooled.as_ref(), Some(&own));
    // metafor: rma(yi, vi, mods = ~ factor(alloc)): QM = 1.7675, df = 2, p = 0.4132.
    let reml = reml_z("bcg_alloc");
    let test = plot.subgroup_test.as_ref().expect("a test");
    assert!(close(test.statistic, reml["QM"].as_f64().expect("QM"), TOL));
    assert!(close(test.p_value, reml["QMp"].as_f64().expect("QMp"), TOL));
    assert_eq!((test.df, test.df2), (2, None));
    // The overall diamond is still the model of all studies.
    assert!(close(
        plot.pooled.as_ref().expect("pooled").pred,
        -0.714532342158168,
        TOL
    ));

    let theme = Theme::default();
    let size = forest_size(&plot, &theme).expect("sizes");
    let (_, layout) = render(size, |area| draw_forest(area, &plot, &theme, None)).expect("draws");
    assert_eq!(layout.marks.len(), 13);
}

#[test]
fn a_subgroup_of_one_study_has_no_subtotal_and_studies_without_a_value_are_listed_last() {
    let text =
        "study,yi,vi,g\nA,0.1,0.02,a\nB,0.5,0.03,a\nC,0.3,0.01,a\nD,-0.1,0.04,b\nE,0.2,0.05,\n";
    let a = analyse(text, &AnalysisSpec::default()).expect("analyses");
    let plot = forest_of(&a, None, ForestOrder::Input, Some("g")).expect("input");
    let names: Vec<&str> = plot.subgroups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["g = a", "g = b", "No value of g"]);
    assert!(plot.subgroups[0].pooled.is_some());
    assert!(plot.subgroups[1].pooled.is_none());
    assert_eq!(plot.subgroups[2].studies, [4]);
    assert!(plot
        .notes
        .iter()
        .any(|n| n.starts_with("No subtotal for g = b: ")));
    assert!(plot
        .notes
        .iter()
        .any(|n| n.starts_with("1 study without a value of g:")));
    // The test uses the four studies with a value.
    assert_eq!(plot.subgroup_test.as_ref().map(|t| t.df), Some(1));
    let theme = Theme::default();
    let size = forest_size(&plot, &theme).expect("sizes");
    assert!(render(size, |area| draw_forest(area, &plot, &theme, None)).is_ok());
    assert!(matches!(
        forest_of(&a, None, ForestOrder::Input, Some("nope")),
        Err(AnalysisError::Parse(_))
    ));
}

#[test]
fn bubble_line_has_metafors_intercept_and_slope_for_ablat() {
    let s = session("ablat");
    let a = analysis(&s);
    assert_eq!(
        drawn_moderator(&a.analysis.model, None).as_deref(),
        Some("ablat")
    );
    let plot = bubble_plot(bubble(&a, &s, "ablat").expect("input"));
    // metafor: rma(yi, vi, mods = ~ ablat): b = 0.2515 (intercept), −0.0291 (ablat).
    let beta = numbers(&reml_z("bcg_ablat")["beta"]);
    assert_eq!(plot.fitted.len(), 61);
    let (first, last) = (&plot.fitted[0], &plot.fitted[60]);
    assert_eq!((first.x, last.x), (13.0, 55.0));
    let slope = (last.prediction.pred - first.prediction.pred) / (last.x - first.x);
    let at_zero = first.prediction.pred - slope * first.x;
    assert!(close(slope, beta[1], TOL), "slope {slope}");
    assert!(close(at_zero, beta[0], TOL), "intercept {at_zero}");
    assert!(plot.fitted.windows(2).all(|w| w[0].x < w[1].x));
    assert_eq!(plot.weights, a.analysis.summary.weights);
    assert_eq!(plot.x[..2], [44.0, 55.0]);
    assert_eq!(plot.y, a.analysis.studies().yi);
    assert_eq!(plot.y_label, "Risk ratio (log scale)");
    assert_eq!(plot.caption, "No other moderators in the model");
    let theme = Theme::default();
    let (_, layout) =
        render(FIGURE, |area| draw_bubble(area, &plot, &theme, Some(7))).expect("draws");
    assert_eq!(layout.marks.len(), 13);
}

#[test]
fn bubble_holds_the_other_numeric_moderator_at_its_mean() {
    let s = session("ablat + year");
    let a = analysis(&s);
    let plot = bubble_plot(bubble(&a, &s, "ablat").expect("input"));
    let beta = numbers(&reml_z("bcg_ablat_year")["beta"]);
    let years = values(&a, "year").expect("numeric");
    let mean_year = years.iter().sum::<f64>() / 13.0;
    for point in &plot.fitted {
        let expected = beta[0] + beta[1] * point.x + beta[2] * mean_year;
        assert!(close(point.prediction.pred, expected, TOL));
    }
    assert_eq!(
        plot.caption,
        "Other moderators held at: year = 1966.23 (mean)"
    );
}

#[test]
fn categorical_moderator_gives_metafors_estimate_per_level() {
    let s = session("factor(alloc)");
    let a = analysis(&s);
    assert_eq!(
        drawn_moderator(&a.analysis.model, None).as_deref(),
        Some("alloc")
    );
    let plot = category_plot(bubble(&a, &s, "alloc").expect("input"));
    let beta = numbers(&reml_z("bcg_alloc")["beta"]);
    let names: Vec<&str> = plot.levels.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["alternate", "random", "systematic"]);
    let expected = [beta[0], beta[0] + beta[1], beta[0] + beta[2]];
    for (level, e) in plot.levels.iter().zip(expected) {
        assert!(close(level.prediction.pred, e, TOL), "{}", level.name);
    }
    assert_eq!(plot.level_of[..5], [1, 1, 1, 1, 0]);
    assert_eq!(plot.level_of[12], 2);
    let theme = Theme::default();
    let (_, layout) =
        render(FIGURE, |area| draw_categories(area, &plot, &theme, None)).expect("draws");
    assert_eq!(layout.marks.len(), 13);
}

#[test]
fn categorical_moderator_holds_a_numeric_one_at_its_mean_and_a_factor_at_its_reference() {
    let mut s = session("ablat + factor(alloc)");
    s.model.references.insert("alloc".into(), "random".into());
    let a = analysis(&s);
    assert_eq!(
        drawn_moderator(&a.analysis.model, None).as_deref(),
        Some("ablat")
    );
    let b = &a.analysis.summary.coefficients;
    // Design: intrcpt, ablat, factor(alloc)alternate, factor(alloc)systematic.
    let mean_ablat = values(&a, "ablat").expect("numeric").iter().sum::<f64>() / 13.0;
    let by_level = category_plot(bubble(&a, &s, "alloc").expect("input"));
    let random = &by_level.levels[1];
    assert_eq!(random.name, "random");
    assert!(close(
        random.prediction.pred,
        b[0].estimate + b[1].estimate * mean_ablat,
        1e-12
    ));
    assert!(by_level.caption.contains("ablat = 33.46 (mean)"));
    let by_latitude = bubble_plot(bubble(&a, &s, "ablat").expect("input"));
    assert_eq!(
        by_latitude.caption,
        "Other moderators held at: alloc = random (reference)"
    );
    let p = &by_latitude.fitted[0].prediction;
    assert!(close(p.pred, b[0].estimate + b[1].estimate * 13.0, 1e-12));
}

#[test]
fn bubble_asks_for_a_moderator_of_the_model() {
    let s = PageState::default();
    let a = analysis(&s);
    assert_eq!(drawn_moderator(&a.analysis.model, None), None);
    assert_eq!(bubble(&a, &s, "ablat"), Err(AnalysisError::NoModerators));
    let s = session("ablat");
    let a = analysis(&s);
    let err = bubble(&a, &s, "year").expect_err("year is not in the model");
    assert_eq!(
        err,
        AnalysisError::NotAModerator {
            column: "year".into(),
            moderators: vec!["ablat".into()]
        }
    );
    assert!(err.to_string().contains("expected one of ablat"));
}

#[test]
fn funnel_carries_metafors_egger_test() {
    let case = |name: &str| fixture_case("tests/fixtures/plots/regtest_bcg.json", name);
    let s = PageState::default();
    let a = analysis(&s);
    let plot = funnel_of(&a, measure(&s), true);
    let egger = plot.egger.as_ref().expect("Egger's test");
    let reml = case("bcg_reml");
    assert!(close(
        egger.slope.p_value,
        reml["pval"].as_f64().expect("p"),
        TOL
    ));
    assert!(close(
        egger.slope.statistic,
        reml["zval"].as_f64().expect("z"),
        TOL
    ));
    assert!(close(plot.estimate, -0.714532342158168, TOL));
    assert_eq!(plot.yi, a.analysis.studies().yi);
    assert!(close(plot.sei[0], a.analysis.studies().vi[0].sqrt(), 1e-15));
    assert_eq!(plot.scale, EffectScale::Exp);
    assert!(plot.contours);
    let theme = Theme::default();
    let (_, layout) = render(FIGURE, |area| draw_funnel(area, &plot, &theme, None)).expect("draws");
    assert_eq!(layout.marks.len(), 13);

    // With moderators: residuals around 0 and the mixed-effects Egger test (metafor:
    // regtest(rma(yi, vi, mods = ~ ablat))).
    let s = session("ablat");
    let a = analysis(&s);
    let plot = funnel_of(&a, measure(&s), false);
    let egger = plot.egger.as_ref().expect("Egger's test");
    let with_ablat = case("bcg_reml_ablat");
    assert!(close(
        egger.slope.p_value,
        with_ablat["pval"].as_f64().expect("p"),
        TOL
    ));
    assert!(egger.limit.is_none());
    assert_eq!(plot.estimate, 0.0);
    assert_eq!(plot.yi, a.analysis.summary.residuals);
    assert_eq!(plot.scale, EffectScale::Identity);
    assert_eq!(plot.x_label, "Residual (log risk ratio)");
    assert!(render(FIGURE, |area| draw_funnel(area, &plot, &theme, Some(2))).is_ok());
}

#[test]
fn funnel_without_egger_when_its_model_cannot_be_fitted() {
    // Two studies: the test model has two coefficients and no residual degrees of freedom.
    let a = analyse("yi,vi\n0.1,0.01\n0.4,0.04\n", &AnalysisSpec::default()).expect("analyses");
    let plot = funnel_of(&a, None, false);
    assert!(plot.egger.is_none());
    assert_eq!(plot.yi.len(), 2);
}

#[test]
fn heterogeneity_takes_the_q_profile_intervals_of_the_analysis() {
    let s = PageState::default();
    let a = analysis(&s);
    let plot = heterogeneity(&a.analysis);
    let [lower, upper] = a.analysis.fit_report().i2_ci.expect("an I² interval");
    assert_eq!((plot.i2.lower, plot.i2.upper), (lower, upper));
    assert!(close(plot.i2.estimate, 92.2213845212761, TOL));
    assert!(plot.explained.is_none());
    let theme = Theme::default();
    let size = heterogeneity_size(&plot, &theme);
    assert!(render(size, |area| draw_heterogeneity(area, &plot, &theme)).is_ok());

    let s = session("ablat");
    let a = analysis(&s);
    let plot = heterogeneity(&a.analysis);
    let r2 = reml_z("bcg_ablat")["R2"].as_f64().expect("R2");
    assert!(close(plot.explained.expect("R²").r2, r2, 1e-4));
    assert!(plot.residual);
    let size = heterogeneity_size(&plot, &theme);
    assert!(render(size, |area| draw_heterogeneity(area, &plot, &theme)).is_ok());
}

#[test]
fn subgroup_test_under_knapp_hartung_is_metafors_f_test() {
    let mut s = PageState::default();
    s.model.test = Test::KnappHartung;
    let a = analysis(&s);
    let plot = forest_of(&a, measure(&s), ForestOrder::Input, Some("alloc")).expect("input");
    // metafor: rma(yi, vi, mods = ~ factor(alloc), test = "knha"): F(2, 10) = 0.9662.
    let knha = fixture("tests/fixtures/stats/bcg_alloc.json")["fits"]
        .as_array()
        .expect("fits")
        .iter()
        .find(|f| f["method"] == "REML" && f["test"] == "knha")
        .expect("a REML knha fit")
        .clone();
    let test = plot.subgroup_test.as_ref().expect("a test");
    assert_eq!((test.df, test.df2), (2, Some(10)));
    assert!(close(test.statistic, knha["QM"].as_f64().expect("QM"), TOL));
    assert!(close(test.p_value, knha["QMp"].as_f64().expect("QMp"), TOL));
}

#[test]
fn bubble_line_follows_a_quadratic_term_of_the_same_column() {
    let s = session("ablat + I(ablat^2)");
    let a = analysis(&s);
    let plot = bubble_plot(bubble(&a, &s, "ablat").expect("input"));
    let b: Vec<f64> = a
        .analysis
        .summary
        .coefficients
        .iter()
        .map(|c| c.estimate)
        .collect();
    for point in &plot.fitted {
        let expected = b[0] + b[1] * point.x + b[2] * point.x * point.x;
        assert!(close(point.prediction.pred, expected, 1e-12));
    }
    assert_eq!(plot.caption, "No other moderators in the model");
}

#[test]
fn a_subgroup_column_the_formula_cannot_spell_costs_only_the_test() {
    let text = "study,yi,vi,my group\nA,0.1,0.02,a\nB,0.5,0.03,a\nC,0.3,0.01,b\nD,-0.1,0.04,b\n";
    let a = analyse(text, &AnalysisSpec::default()).expect("analyses");
    let plot = forest_of(&a, None, ForestOrder::Input, Some("my group")).expect("input");
    assert_eq!(plot.subgroups.len(), 2);
    assert!(plot.subgroups.iter().all(|g| g.pooled.is_some()));
    assert!(plot.subgroup_test.is_none());
    assert!(plot
        .notes
        .iter()
        .any(|n| n.starts_with("No test for subgroup differences: ")));
}
