//! The page's "model τ² too" switch, on the way the page takes it: the saved state's scale
//! formula reaches the analysis request, the engine's mailbox (the Web Worker's code) fits the
//! location-scale model, and its α, QS, τ²ᵢ and the τ² curve with its band agree with metafor
//! 3.8.1 (`tests/fixtures/models/location_scale.json`, written by
//! `tests/r/make_models_fixtures.R`: Bangert-Drowns et al. 2004, `mods = ~ ni100,
//! scale = ~ ni100`, ML and REML). Old saved states, without the switch, load with it off.

use meridian::analysis::r_script::r_script;
use meridian::analysis::request::{Envelope, Input, Record, Request, Response};
use meridian::analysis::scale_curve::ScalePoints;
use meridian::analysis::session::Mailbox;
use meridian::analysis::Analysis;
use meridian::app::{page_studies, PageState};
use meridian::stats::Tau2Method;
use serde_json::Value;

/// metafor's α is about 3e-7 (relative) from the optimum (see tests/stats_models.rs).
const LS_REL: f64 = 5e-6;
/// The normal quantile of a 95 % interval, qnorm(0.975) in R.
const Z_975: f64 = 1.959_963_984_540_054;

fn close(what: &str, ours: f64, theirs: f64, rel: f64) {
    assert!(
        (ours - theirs).abs() <= rel * theirs.abs().max(1e-300) + 1e-12,
        "{what}: ours {ours}, metafor {theirs}"
    );
}

fn cases() -> Vec<Value> {
    let path = format!(
        "{}/tests/fixtures/models/location_scale.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let fixture: Value = serde_json::from_str(&text).unwrap();
    fixture["cases"].as_array().unwrap().clone()
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// The state a user reaches by pasting the case's table, ticking `ni100`, choosing the
/// estimator and switching "model τ² too" on.
fn state_of(case: &Value) -> PageState {
    let mut s = PageState::default();
    s.load_text(case["csv"].as_str().unwrap().to_owned());
    s.columns.yi = Some("yi".into());
    s.columns.vi = Some("vi".into());
    s.model.formula = "ni100".into();
    s.model.method =
        Tau2Method::from_metafor_name(case["expected"]["method"].as_str().unwrap()).unwrap();
    s.model.set_scale_on(true);
    s
}

/// The analysis as the page's worker answers it.
fn through_the_mailbox(state: &PageState) -> Analysis {
    let mut mailbox = Mailbox::new(|| 0.0);
    let input = Input {
        text: state.data.text.clone(),
        text_id: None,
        spec: state.spec().unwrap(),
    };
    mailbox.receive(Envelope {
        id: 1,
        body: Request::Analyse { input },
    });
    let answer = mailbox.work(1).expect("the analysis is answered");
    // The worker posts its answer as JSON and the page reads it back (worker::client): a
    // record that does not survive the trip never reaches the page.
    let json = serde_json::to_string(&answer).expect("answers serialise");
    let answer: Envelope<Response> = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("the page cannot read the worker's answer: {e}"));
    match answer.body {
        Response::Record { record, .. } => match *record {
            Record::Analysis { analysis, .. } => analysis,
            other => panic!("not an analysis: {other:?}"),
        },
        other => panic!("the analysis failed: {other:?}"),
    }
}

#[test]
fn switching_tau2_on_starts_from_the_location_formula_and_reaches_the_request() {
    let mut s = PageState::default();
    s.model.formula = "ablat".into();
    assert_eq!(s.spec().unwrap().scale, None);
    s.model.set_scale_on(true);
    assert_eq!(s.spec().unwrap().scale.as_deref(), Some("ablat"));
    s.model.set_scale_moderator("year", true, false);
    assert_eq!(s.model.scale_formula, "ablat + year");
    // Off keeps the formula for the next time, and fits one τ².
    s.model.set_scale_on(false);
    assert_eq!(s.spec().unwrap().scale, None);
    s.model.set_scale_on(true);
    assert_eq!(s.spec().unwrap().scale.as_deref(), Some("ablat + year"));
}

#[test]
fn the_scale_formula_is_saved_and_old_states_load_with_one_tau2() {
    let case = &cases()[0];
    let mut s = state_of(case);
    s.model.references.insert("alloc".into(), "random".into());
    assert_eq!(PageState::from_fragment(&s.to_fragment()).unwrap(), s);
    assert_eq!(PageState::from_json(&s.to_json()).unwrap(), s);
    let saved: Value = serde_json::from_str(&s.to_json()).unwrap();
    assert_eq!(
        (&saved["scale_on"], &saved["scale_formula"]),
        (&true.into(), &"ni100".into())
    );
    let old = PageState::from_json(r#"{"text":"yi,vi\n1,1\n","formula":"x"}"#).unwrap();
    assert!(!old.model.scale_on);
    assert_eq!(old.spec().unwrap().scale, None);
}

#[test]
fn the_worker_fits_the_location_scale_model_as_metafor_does() {
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let e = &case["expected"];
        let state = state_of(&case);
        let a = through_the_mailbox(&state);
        // The command line's record of the same analysis is the worker's (compared as JSON,
        // where the location-scale model's undefined single τ² is null, not NaN ≠ NaN).
        let cli = state.analyse().unwrap().analysis;
        assert_eq!(
            serde_json::to_value(&*a.report).unwrap(),
            serde_json::to_value(&*cli.report).unwrap(),
            "{name}"
        );
        assert_eq!(a.report.model, "rma.ls");
        let scale = a.report.scale.as_ref().expect("a scale part");
        for (ours, theirs) in scale.alpha.iter().zip(e["alpha"].as_array().unwrap()) {
            for key in ["estimate", "se", "ci_lower", "ci_upper"] {
                let ours = match key {
                    "estimate" => ours.estimate,
                    "se" => ours.se,
                    "ci_lower" => ours.ci_lower,
                    _ => ours.ci_upper,
                };
                close(
                    &format!("{name} α {key}"),
                    ours,
                    theirs[key].as_f64().unwrap(),
                    LS_REL,
                );
            }
        }
        close(
            &format!("{name} QS"),
            scale.qs.unwrap(),
            e["qs"].as_f64().unwrap(),
            LS_REL,
        );
        close(
            &format!("{name} QS p"),
            scale.qs_p.unwrap(),
            e["qs_p"].as_f64().unwrap(),
            LS_REL,
        );
        // The Heterogeneity section of a location-scale fit: no single τ², I², H²; the range
        // of τ²ᵢ, QE and QS instead (metafor's print of rma.ls).
        assert!(a.summary.tau2.is_nan() && a.summary.i2.is_nan() && a.summary.h2.is_nan());
        let tau2_i = numbers(&e["tau2_i"]);
        let [lo, hi] = scale.tau2_range().expect("48 studies");
        let min = tau2_i.iter().copied().fold(f64::INFINITY, f64::min);
        let max = tau2_i.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        close(&format!("{name} min τ²ᵢ"), lo, min, LS_REL);
        close(&format!("{name} max τ²ᵢ"), hi, max, LS_REL);
        close(
            &format!("{name} QE"),
            a.summary.qe,
            e["qe"].as_f64().unwrap(),
            1e-10,
        );
        assert_eq!(a.summary.qe_df as u64, e["qe_df"].as_u64().unwrap());
        close(
            &format!("{name} QE p"),
            a.summary.qe_p,
            e["qe_p"].as_f64().unwrap(),
            1e-8,
        );
        assert_eq!(scale.qs_df.map(|d| d as u64), e["qs_df"].as_u64());
        let curve = a.scale_curve.as_ref().expect("a τ² curve");
        assert_eq!(curve.column, "ni100");
        for (i, (ours, theirs)) in curve.tau2_i.iter().zip(numbers(&e["tau2_i"])).enumerate() {
            close(&format!("{name} τ²[{i}]"), *ours, theirs, LS_REL);
        }
        // The band from metafor's α and its covariance: exp(z'α ± 1.96·SE) at z = (1, x).
        let alpha: Vec<f64> = e["alpha"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["estimate"].as_f64().unwrap())
            .collect();
        let va: Vec<Vec<f64>> = e["vcov_alpha"]
            .as_array()
            .unwrap()
            .iter()
            .map(numbers)
            .collect();
        let ScalePoints::Line { x, grid } = &curve.points else {
            panic!("{name}: ni100 is numeric");
        };
        assert_eq!(x.len(), 48);
        assert_eq!(grid.len(), 61);
        let lo = x.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!((grid[0].0, grid[60].0), (lo, hi));
        for (at, b) in grid {
            let eta = alpha[0] + alpha[1] * at;
            let se = (va[0][0] + 2.0 * at * va[0][1] + at * at * va[1][1]).sqrt();
            // A relative error in α of 5e-6 moves exp(z'α) by about 5e-6·|z'α|.
            close(&format!("{name} τ²({at})"), b.estimate, eta.exp(), 1e-4);
            close(
                &format!("{name} τ²({at}) lower"),
                b.lower,
                (eta - Z_975 * se).exp(),
                1e-4,
            );
            close(
                &format!("{name} τ²({at}) upper"),
                b.upper,
                (eta + Z_975 * se).exp(),
                1e-4,
            );
        }
    }
}

#[test]
fn the_r_script_of_the_page_fits_the_same_location_scale_model() {
    let case = &cases()[1];
    let state = state_of(case);
    let run = state.analyse().unwrap();
    let spec = state.spec().unwrap();
    let script = r_script(&state.data.text, Ok((&run.table, &run.analysis, &spec)));
    assert!(
        script.contains("rma(yi = yi, vi = vi, mods = ~ ni100, scale = ~ ni100, method = \"REML\""),
        "{script}"
    );
}

#[test]
fn a_row_missing_a_scale_moderator_is_left_out_in_the_data_pane_as_by_the_worker() {
    // Row 2 lacks z, which only the scale formula reads; row 3 lacks x, the location
    // moderator. The page's own studies stage (what the Data pane marks) must leave out both,
    // naming the column, exactly as the worker's fit does.
    let text = "study,yi,vi,x,z\nA,0.1,0.02,1,0.5\nB,0.5,0.03,2,NA\nC,0.3,0.01,NA,1.5\n\
        D,-0.1,0.04,4,2\nE,0.9,0.05,5,2.5\nF,0.4,0.02,6,3\nG,-0.6,0.03,7,3.5\nH,1.2,0.02,8,4\n\
        I,0.0,0.04,9,4.5\nJ,0.7,0.01,10,5\n";
    let mut s = PageState::default();
    s.load_text(text.to_owned());
    s.columns.yi = Some("yi".into());
    s.columns.vi = Some("vi".into());
    s.model.formula = "x".into();
    s.model.scale_formula = "z".into();
    let table = meridian::data::parse::parse(text).unwrap();
    let formula =
        |f: Option<String>| f.map(|f| meridian::data::formula::Formula::parse(&f).unwrap());
    let page = |s: &PageState| {
        let (location, scale) = (formula(s.model.mods()), formula(s.model.scale()));
        page_studies(&table, &s.columns, location.as_ref(), scale.as_ref()).unwrap()
    };
    // With one τ² the scale formula is kept but not used: only row 3 is left out.
    let one = page(&s);
    assert_eq!(
        one.studies
            .excluded
            .iter()
            .map(|e| e.row)
            .collect::<Vec<_>>(),
        [3]
    );
    s.model.set_scale_on(true);
    let ls = page(&s);
    let notes: Vec<(usize, String)> = ls
        .studies
        .excluded
        .iter()
        .map(|e| (e.row, e.reason.to_string()))
        .collect();
    assert_eq!(
        notes,
        [
            (2, "no value for z".to_owned()),
            (3, "no value for x".to_owned())
        ]
    );
    assert_eq!(ls.studies.labels, ["A", "D", "E", "F", "G", "H", "I", "J"]);
    let worker = through_the_mailbox(&s);
    assert_eq!(worker.fit_report().excluded_rows, [2, 3]);
    assert_eq!(worker.summary.k, 8);
}
