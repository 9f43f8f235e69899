//! The Sensitivity view's forest plots of refits, built from the analysis of the BCG trials
//! and drawn to SVG, mean what they should: the leave-one-out plot has one point per study at
//! metafor's `leave1out()` estimate (tests/fixtures/sensitivity/bcg_reml_z.json, and the
//! `ablat` coefficient of bcg_ablat_reml_z.json for the meta-regression), read back from the
//! pixels, with the full model's diamond; the cumulative plot has one row per step of
//! `cumul(res, order = year)` in step order; neither has a weight column; their CSV tables
//! carry the same numbers.

mod plots_support;

use meridian::analysis::cumul::cumul;
use meridian::analysis::sensitivity::sensitivity;
use meridian::analysis::sensitivity_tables::{cumul_csv, leave1out_csv};
use meridian::analysis::Run;
use meridian::app::PageState;
use meridian::plots::inputs;
use meridian::plots::{draw_forest, forest_size, ForestPlot, MarkShape, PlotLayout, Theme};
use meridian::stats::Test;
use plots_support::*;
use serde_json::Value;

/// Iterative refits agree with metafor's to this relative tolerance (issue 12).
const TOL: f64 = 1e-5;
/// Pixel positions are rounded to whole pixels when drawn.
const PIXEL: f64 = 1.0;

fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("tests/fixtures/sensitivity/{name}.json"))
        .expect("the fixture is committed");
    serde_json::from_str(&text).expect("the fixture is JSON")
}

fn analysed(formula: &str) -> (PageState, Run) {
    let mut state = PageState::default();
    state.model.formula = formula.to_owned();
    let run = state.analyse().expect("BCG analyses");
    (state, run)
}

fn close(ours: f64, theirs: f64) -> bool {
    (ours - theirs).abs() <= TOL * theirs.abs().max(1e-3)
}

fn draw(plot: &ForestPlot, highlight: Option<usize>) -> (String, PlotLayout) {
    let theme = Theme::default();
    let (w, h) = forest_size(plot, &theme).expect("sizes");
    render((w.max(900), h), |area| {
        draw_forest(area, plot, &theme, highlight)
    })
}

/// Each mark sits at its row's estimate (read back from the pixels to within a pixel), every
/// square is the same size, and there is no weight column.
fn check_points(svg: &str, layout: &PlotLayout, plot: &ForestPlot) {
    let els = elements(svg);
    let x_axis = layout.x_axis.expect("a forest plot has an x axis");
    let squares = with(&els, "rect", "fill", colour::BLUE);
    assert_eq!(squares.len(), plot.studies.len());
    assert_eq!(layout.marks.len(), plot.studies.len());
    let pixel = (x_axis.to_data(1.0) - x_axis.to_data(0.0)).abs();
    for mark in &layout.marks {
        let row = &plot.studies[mark.study];
        let square = squares
            .iter()
            .find(|r| (r.num("y") + r.num("height") / 2.0 - mark.centre.1).abs() <= PIXEL)
            .expect("a square on the mark's row");
        let drawn = x_axis.to_data(square.num("x") + square.num("width") / 2.0);
        assert!((drawn - row.estimate).abs() <= pixel, "{}", row.label);
        let MarkShape::Box { half_width, .. } = mark.shape else {
            panic!("forest marks are boxes")
        };
        assert!((square.num("width") - squares[0].num("width")).abs() <= PIXEL);
        assert!(half_width > 0.0);
    }
    assert!(texts(&els, "Weight").is_empty(), "no weight column");
    assert!(!els.iter().any(|e| e.tag == "text" && e.text.ends_with('%')));
}

#[test]
fn leave_one_out_forest_has_metafors_refits_and_the_full_models_diamond() {
    let (state, run) = analysed("");
    let fx = fixture("bcg_reml_z");
    let s = sensitivity(&run.table, &run.fitted, &run.analysis.data).expect("deletions");
    let refits = s.leave1out.get().expect("the refits were given as a value");
    let plot = inputs::leave1out(&run.analysis, refits, None, state.columns.measure);
    let reference = fx["leave1out"].as_array().expect("leave1out");
    assert_eq!(plot.studies.len(), 13);
    for (row, r) in plot.studies.iter().zip(reference) {
        assert!(
            close(row.estimate, r["estimate"].as_f64().unwrap()),
            "{}",
            row.label
        );
        assert!(close(row.ci_lower, r["ci_lower"].as_f64().unwrap()));
        assert!(close(row.ci_upper, r["ci_upper"].as_f64().unwrap()));
    }
    let full = plot.pooled.as_ref().expect("the full model's diamond");
    assert!(close(
        full.pred,
        fx["fit"]["coefficients"][0]["estimate"].as_f64().unwrap()
    ));
    let (svg, layout) = draw(&plot, Some(5));
    check_points(&svg, &layout, &plot);
    let els = elements(&svg);
    assert_eq!(texts(&els, "Study left out").len(), 1);
    assert_eq!(texts(&els, "All 13 studies").len(), 1);
    assert_eq!(
        texts(&els, "Each row: the model refitted without that study").len(),
        1
    );
    // Rows in input order: study i on row i.
    let ys: Vec<f64> = layout.marks.iter().map(|m| m.centre.1).collect();
    assert!(ys.windows(2).all(|w| w[0] < w[1]));
    save("leave1out_bcg", &svg);
}

#[test]
fn leave_one_out_forest_of_a_meta_regression_draws_the_chosen_coefficient() {
    let (state, run) = analysed("ablat");
    let fx = fixture("bcg_ablat_reml_z");
    let s = sensitivity(&run.table, &run.fitted, &run.analysis.data).expect("deletions");
    assert_eq!(
        inputs::leave1out_coefficient(&run.analysis, None).as_deref(),
        Some("ablat")
    );
    let refits = s.leave1out.get().expect("the refits were given as a value");
    let plot = inputs::leave1out(&run.analysis, refits, None, state.columns.measure);
    for (row, r) in plot.studies.iter().zip(fx["leave1out"].as_array().unwrap()) {
        let ablat = &r["coefficients"][1];
        assert_eq!(ablat["name"], "ablat");
        assert!(close(row.estimate, ablat["estimate"].as_f64().unwrap()));
        assert!(close(row.ci_upper, ablat["ci_upper"].as_f64().unwrap()));
    }
    assert_eq!(plot.measure, "Coefficient of ablat");
    let intercept = inputs::leave1out(
        &run.analysis,
        s.leave1out.get().expect("the refits were given as a value"),
        Some("intrcpt"),
        state.columns.measure,
    );
    for (row, r) in intercept
        .studies
        .iter()
        .zip(fx["leave1out"].as_array().unwrap())
    {
        let c = &r["coefficients"][0];
        assert!(close(row.estimate, c["estimate"].as_f64().unwrap()));
    }
    let (svg, layout) = draw(&plot, None);
    check_points(&svg, &layout, &plot);
    // Small slopes print with enough decimals to tell the refits apart (metafor's values
    // without Aronson: −0.0293 [−0.0442, −0.0144]).
    let els = elements(&svg);
    assert_eq!(
        texts(&els, "\u{2212}0.029 [\u{2212}0.044, \u{2212}0.014]").len(),
        1
    );
    save("leave1out_bcg_ablat", &svg);
}

#[test]
fn cumulative_forest_rows_follow_the_steps_by_year() {
    let (state, run) = analysed("");
    let fx = fixture("bcg_reml_z");
    let record = cumul(&run.table, &run.analysis.data, &run.fitted, Some("year"))
        .expect("a cumulative analysis");
    let plot = inputs::cumul(&run.analysis, &record, state.columns.measure);
    let (svg, layout) = draw(&plot, None);
    check_points(&svg, &layout, &plot);
    // Top to bottom, the marks are metafor's steps in order.
    let mut marks = layout.marks.clone();
    marks.sort_by(|a, b| a.centre.1.total_cmp(&b.centre.1));
    let steps = fx["cumul"].as_array().expect("cumul");
    assert_eq!(marks.len(), steps.len());
    let years = numbers(&fx["year"]);
    for (j, (mark, step)) in marks.iter().zip(steps).enumerate() {
        let row = &plot.studies[mark.study];
        assert!(
            close(row.estimate, step["estimate"].as_f64().unwrap()),
            "step {j}"
        );
        assert!(close(row.ci_lower, step["ci_lower"].as_f64().unwrap()));
        assert_eq!(record.steps[j].study, mark.study + 1);
        if j > 0 {
            let before = marks[j - 1].study;
            assert!(years[before] <= years[mark.study], "sorted by year");
        }
    }
    let els = elements(&svg);
    assert_eq!(texts(&els, "Study added").len(), 1);
    assert_eq!(
        texts(
            &els,
            "Each row: the model of the studies up to and including that one, added in order of year"
        )
        .len(),
        1
    );
    // The last step is the model of all studies.
    let last = &plot.studies[marks[12].study];
    assert!(close(
        last.estimate,
        fx["fit"]["coefficients"][0]["estimate"].as_f64().unwrap()
    ));
    save("cumul_bcg_year", &svg);
}

#[test]
fn the_tables_download_with_metafors_column_names_and_values() {
    let (_, run) = analysed("");
    let s = sensitivity(&run.table, &run.fitted, &run.analysis.data).expect("deletions");
    let names = s.influence.get().expect("given as a value").names.clone();
    let text = leave1out_csv(
        s.leave1out.get().expect("the refits were given as a value"),
        &names,
        Test::Z,
    );
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("slab,estimate,se,zval,pval,ci.lb,ci.ub,Q,Qp,tau2,I2,H2")
    );
    let first: Vec<&str> = lines.next().expect("a row").split(',').collect();
    assert_eq!(first[0], "Aronson");
    let fx = fixture("bcg_reml_z");
    let estimate: f64 = first[1].parse().expect("a number");
    assert!(close(
        estimate,
        fx["leave1out"][0]["estimate"].as_f64().unwrap()
    ));
    assert_eq!(text.lines().count(), 14);

    let record = cumul(&run.table, &run.analysis.data, &run.fitted, None).expect("cumul");
    let text = cumul_csv(&record, Test::KnappHartung);
    assert!(text.starts_with("slab,k,estimate,se,tval,pval,ci.lb,ci.ub,Q,Qp,tau2,I2,H2\n"));
    assert_eq!(text.lines().count(), 14);

    let (_, run) = analysed("ablat");
    let s = sensitivity(&run.table, &run.fitted, &run.analysis.data).expect("deletions");
    let text = leave1out_csv(
        s.leave1out.get().expect("the refits were given as a value"),
        &s.influence.get().expect("given as a value").names,
        Test::Z,
    );
    let header = text.lines().next().expect("a header");
    assert!(header.ends_with(
        ",intrcpt,se.intrcpt,ci.lb.intrcpt,ci.ub.intrcpt,ablat,se.ablat,ci.lb.ablat,ci.ub.ablat,R2"
    ));
    let first: Vec<&str> = text.lines().nth(1).expect("a row").split(',').collect();
    assert_eq!(first[1], "NA", "no pooled effect with moderators");
    let r2: f64 = first.last().expect("R2").parse().expect("a number");
    let fx = fixture("bcg_ablat_reml_z");
    assert!(close(r2, fx["leave1out"][0]["r2"].as_f64().unwrap()));
}
