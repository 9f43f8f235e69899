//! The profile-likelihood plot of τ² (issue 13): the record the page draws matches metafor
//! 3.8.1's `profile(res, steps = 9)` on its grid, its maximum and both intervals
//! (`tests/fixtures/models/profile.json`, written by `tests/r/make_models_fixtures.R`: BCG
//! risk ratios, REML without moderators and ML with `ablat`); drawn to SVG, the curve, the
//! maximum and the bounds of both intervals sit at their values on the axes.

mod plots_support;

use meridian::analysis::profile::{profile, ProfileRecord, STEPS};
use meridian::analysis::{analyse, AnalysisSpec, Run};
use meridian::data::effect_size::{Measure, RawRole};
use meridian::data::roles::Roles;
use meridian::plots::{draw_profile, inputs, AxisMap, PlotError, ProfilePlot, Theme};
use meridian::stats::{ModelSpec, Tau2Method};
use plots_support::*;
use plotters::prelude::*;
use serde_json::Value;

/// The tolerance for the curve: 1e-6 relative.
const CURVE_REL: f64 = 1e-6;
/// Profile-likelihood bounds: metafor's own root search stops at its tolerance.
const PL_REL: f64 = 1e-6;
/// Size of the figures.
const SIZE: (u32, u32) = (800, 600);
/// Pixel positions are rounded to whole pixels when drawn.
const PIXEL: f64 = 1.0;

fn close(what: &str, ours: f64, theirs: f64, rel: f64) {
    assert!(
        (ours - theirs).abs() <= rel * theirs.abs().max(1e-300),
        "{what}: ours {ours}, metafor {theirs}"
    );
}

fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string("tests/fixtures/models/profile.json")
        .expect("the fixture is committed");
    let fixture: Value = serde_json::from_str(&text).expect("the fixture is JSON");
    fixture["cases"].as_array().expect("cases").clone()
}

/// The case's analysis spec: BCG's risk ratios from the counts, its formula and estimator.
fn spec(case: &Value) -> AnalysisSpec {
    let mods = case["mods"].as_str().unwrap();
    AnalysisSpec {
        measure: Some(Measure::Rr),
        columns: Roles {
            raw: [
                ("ai", "tpos"),
                ("bi", "tneg"),
                ("ci", "cpos"),
                ("di", "cneg"),
            ]
            .map(|(r, c)| (RawRole::from_name(r).unwrap(), c.to_owned()))
            .into(),
            ..Roles::default()
        },
        mods: (mods != "1").then(|| mods.to_owned()),
        model: ModelSpec {
            method: Tau2Method::from_metafor_name(case["method"].as_str().unwrap()).unwrap(),
            ..ModelSpec::default()
        },
        ..AnalysisSpec::default()
    }
}

fn run(case: &Value, spec: &AnalysisSpec) -> Run {
    analyse(case["csv"].as_str().unwrap(), spec).expect("BCG analyses")
}

fn record(case: &Value, grid: &[f64]) -> ProfileRecord {
    let r = run(case, &spec(case));
    profile(&r.table, &r.analysis.data, &r.fitted, grid).expect("a profile")
}

#[test]
fn the_profile_record_is_metafors_profile_on_its_grid_with_both_intervals() {
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let e = &case["expected"];
        let grid = numbers(&e["grid"]);
        let r = record(&case, &grid);
        assert_eq!(r.tau2, grid, "{name}");
        for (i, (ours, theirs)) in r.log_likelihood.iter().zip(numbers(&e["ll"])).enumerate() {
            close(&format!("{name} ll[{i}]"), *ours, theirs, CURVE_REL);
        }
        close(
            &format!("{name} τ̂²"),
            r.tau2_hat,
            e["tau2"].as_f64().unwrap(),
            CURVE_REL,
        );
        close(
            &format!("{name} max ll"),
            r.max_log_likelihood,
            e["log_likelihood"].as_f64().unwrap(),
            CURVE_REL,
        );
        // qchisq(0.95, 1) / 2 = 1.920729410347062 below the maximum.
        close(
            &format!("{name} threshold"),
            r.max_log_likelihood - r.threshold,
            1.920_729_410_347_062,
            1e-12,
        );
        let pl = numbers(&e["profile_likelihood"]);
        close(
            &format!("{name} PL lower"),
            r.profile_likelihood.lower,
            pl[0],
            PL_REL,
        );
        close(
            &format!("{name} PL upper"),
            r.profile_likelihood.upper,
            pl[1],
            PL_REL,
        );
        let qp = numbers(&e["q_profile"]);
        let q = r.q_profile.expect("Q has degrees of freedom");
        close(&format!("{name} QP lower"), q.lower, qp[0], PL_REL);
        close(&format!("{name} QP upper"), q.upper, qp[1], PL_REL);
        assert_eq!(r.method, case["method"].as_str().unwrap());
    }
}

#[test]
fn the_default_grid_holds_both_intervals_and_peaks_at_the_estimate() {
    for case in cases() {
        let r = record(&case, &[]);
        assert!(r.tau2.len() >= STEPS && r.tau2.len() <= STEPS + 5);
        assert!(r.tau2.windows(2).all(|w| w[0] < w[1]));
        // The maximum and both bounds of each interval are points of the curve.
        let q = r.q_profile.expect("a Q-profile interval");
        let pl = r.profile_likelihood;
        for t in [r.tau2_hat, pl.lower, pl.upper, q.lower, q.upper] {
            assert!(r.tau2.contains(&t), "{t} is no grid point");
        }
        let n = r.tau2.len();
        let (first, last) = (r.tau2[0], r.tau2[n - 1]);
        for bound in [
            r.profile_likelihood.lower,
            r.profile_likelihood.upper,
            q.lower,
            q.upper,
        ] {
            assert!(
                first <= bound && bound <= last,
                "{bound} outside {first}..{last}"
            );
        }
        assert!(r
            .log_likelihood
            .iter()
            .all(|&l| l <= r.max_log_likelihood + 1e-10));
        // The ends of the grid are outside the interval (below the threshold), but for a
        // lower bound of 0, where the grid starts.
        assert!(r.log_likelihood[n - 1] < r.threshold);
        if r.profile_likelihood.lower > 0.0 {
            assert!(r.log_likelihood[0] < r.threshold);
        } else {
            assert_eq!(first, 0.0);
        }
    }
}

#[test]
fn estimators_without_a_likelihood_have_no_profile() {
    let case = &cases()[0];
    let mut dl = spec(case);
    dl.model.method = Tau2Method::Dl;
    let r = run(case, &dl);
    let e = profile(&r.table, &r.analysis.data, &r.fitted, &[]).expect_err("DL has no likelihood");
    assert!(e.to_string().contains("DL"), "{e}");
}

fn draw(plot: &ProfilePlot) -> (String, AxisMap, AxisMap) {
    let (svg, layout) = render(SIZE, |area| draw_profile(area, plot, &Theme::default()));
    (svg, layout.x_axis.expect("x"), layout.y_axis.expect("y"))
}

#[test]
fn the_curve_maximum_and_both_intervals_are_drawn_at_their_values() {
    let case = &cases()[0];
    let r = record(case, &[]);
    let plot = inputs::profile(&r);
    let (svg, x, y) = draw(&plot);
    save("profile_bcg_reml", &svg);
    let els = elements(&svg);
    let x_pixel = (x.to_data(1.0) - x.to_data(0.0)).abs();
    let y_pixel = (y.to_data(1.0) - y.to_data(0.0)).abs();

    // The curve: one blue polyline through every grid point.
    let curve = with(&els, "polyline", "stroke", colour::BLUE)
        .into_iter()
        .map(|e| e.points())
        .find(|p| p.len() == r.tau2.len())
        .expect("the curve");
    for ((px_x, px_y), (t, l)) in curve.iter().zip(r.tau2.iter().zip(&r.log_likelihood)) {
        assert!((x.to_data(*px_x) - t).abs() <= x_pixel, "τ² {t}");
        assert!((y.to_data(*px_y) - l).abs() <= y_pixel, "ll at {t}");
    }

    // The maximum: an ink dot at (τ̂², ℓ̂), labelled with τ̂².
    let dot = with(&els, "circle", "fill", colour::INK)
        .into_iter()
        .find(|c| (x.to_data(c.num("cx")) - r.tau2_hat).abs() <= x_pixel)
        .expect("a dot at τ̂²");
    assert!((y.to_data(dot.num("cy")) - r.max_log_likelihood).abs() <= y_pixel);
    assert_eq!(texts(&els, "\u{3c4}\u{302}\u{b2} = 0.3132").len(), 1);

    // The profile-likelihood interval: vermillion lines from the threshold down at each bound.
    let red: Vec<Vec<(f64, f64)>> = with(&els, "polyline", "stroke", colour::VERMILLION)
        .into_iter()
        .map(|e| e.points())
        .collect();
    let threshold_px = y.to_pixel(r.threshold);
    for bound in [r.profile_likelihood.lower, r.profile_likelihood.upper] {
        let bx = x.to_pixel(bound);
        assert!(
            red.iter().any(|p| p.len() == 2
                && (p[0].0 - bx).abs() <= PIXEL
                && (p[1].0 - bx).abs() <= PIXEL
                && (p[0].1 - threshold_px).abs() <= PIXEL),
            "no vertical line at the PL bound {bound}"
        );
    }
    // The Q-profile interval: green dashes at each bound, and nowhere else in the plotting
    // region (the legend's swatch is above it).
    let top = y.pixels.1;
    let green: Vec<f64> = with(&els, "polyline", "stroke", colour::BLUISH_GREEN)
        .into_iter()
        .flat_map(|e| e.points())
        .filter(|p| p.1 >= top - PIXEL)
        .map(|p| p.0)
        .collect();
    assert!(!green.is_empty());
    let q = r.q_profile.expect("a Q-profile interval");
    let (ql, qu) = (x.to_pixel(q.lower), x.to_pixel(q.upper));
    assert!(green
        .iter()
        .all(|&g| (g - ql).abs() <= PIXEL || (g - qu).abs() <= PIXEL));
    assert!(green.iter().any(|&g| (g - ql).abs() <= PIXEL));
    assert!(green.iter().any(|&g| (g - qu).abs() <= PIXEL));

    // Both intervals are named in the legend with their bounds (metafor: 0.1153 to 0.9647
    // and 0.1197 to 1.1115).
    assert_eq!(
        texts(&els, "95% CI (profile likelihood): 0.1153 to 0.9647").len(),
        1,
        "{:?}",
        els.iter()
            .filter(|e| e.tag == "text")
            .map(|e| &e.text)
            .collect::<Vec<_>>()
    );
    assert_eq!(texts(&els, "95% CI (Q-profile): 0.1197 to 1.1115").len(), 1);
    assert_eq!(texts(&els, "Restricted log-likelihood (REML)").len(), 1);
}

#[test]
fn a_profile_needs_two_points_and_one_value_per_point() {
    let mut plot = inputs::profile(&record(&cases()[1], &[]));
    plot.log_likelihood.pop();
    let mut svg = String::new();
    let area = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
    assert!(matches!(
        draw_profile(&area, &plot, &Theme::default()),
        Err(PlotError::LengthMismatch { .. })
    ));
    plot.tau2.truncate(1);
    plot.log_likelihood.truncate(1);
    assert!(matches!(
        draw_profile(&area, &plot, &Theme::default()),
        Err(PlotError::NoData)
    ));
}
