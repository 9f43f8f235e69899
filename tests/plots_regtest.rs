//! Egger's regression test (`Fit::regtest`) against metafor 3.8's `regtest()` on the BCG
//! vaccine trials (log risk ratios), as written by `tests/r/make_plot_fixtures.R`.

mod plots_support;

use meridian::stats::{fit, Design, ModelSpec, Tau2Method, Test};
use nalgebra::DMatrix;
use plots_support::numbers;
use serde_json::Value;

/// Relative agreement with metafor: both fit to a threshold of 1e-10 (observed: about 1e-10).
const TOLERANCE: f64 = 1e-8;

fn fixture() -> Value {
    let text = std::fs::read_to_string("tests/fixtures/plots/regtest_bcg.json")
        .expect("the fixture is committed");
    serde_json::from_str(&text).expect("the fixture is JSON")
}

fn close(name: &str, what: &str, ours: f64, theirs: &Value) {
    let theirs = theirs.as_f64().expect("a number");
    assert!(
        (ours - theirs).abs() <= TOLERANCE * theirs.abs().max(1e-3),
        "{name} {what}: ours {ours}, metafor {theirs}"
    );
}

#[test]
fn egger_test_matches_metafor_regtest_for_bcg() {
    let fx = fixture();
    let yi = numbers(&fx["yi"]);
    let vi = numbers(&fx["vi"]);
    let ablat = numbers(&fx["ablat"]);
    let k = yi.len();
    let cases = fx["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 4);
    for case in cases {
        let name = case["name"].as_str().expect("a name");
        let method = match case["method"].as_str() {
            Some("REML") => Tau2Method::Reml,
            Some("FE") => Tau2Method::Fe,
            Some("DL") => Tau2Method::Dl,
            other => panic!("{name}: method {other:?} not covered"),
        };
        let test = if case["test"] == "knha" {
            Test::KnappHartung
        } else {
            Test::Z
        };
        let design = if case["mods"].is_null() {
            Design::intercept_only(k)
        } else {
            Design {
                x: DMatrix::from_fn(k, 2, |i, j| if j == 0 { 1.0 } else { ablat[i] }),
                names: vec!["intrcpt".to_owned(), "ablat".to_owned()],
                intercept: true,
                terms: Vec::new(),
            }
        };
        let spec = ModelSpec {
            method,
            test,
            level: 0.95,
            ..ModelSpec::default()
        };
        let model = fit(&yi, &vi, &design, &spec).expect("BCG fits");
        let egger = model.regtest().expect("Egger's test fits");
        close(name, "zval", egger.slope.statistic, &case["zval"]);
        close(name, "pval", egger.slope.p_value, &case["pval"]);
        close(name, "slope", egger.slope.estimate, &case["slope"]);
        close(name, "slope se", egger.slope.se, &case["slope_se"]);
        if method.is_fixed() {
            assert_eq!(egger.tau2, 0.0, "{name}");
        } else {
            close(name, "tau2", egger.tau2, &case["tau2"]);
        }
        assert_eq!(
            egger.df.map(|d| d as u64),
            case["dfs"].as_u64(),
            "{name} dfs"
        );
        match &egger.limit {
            Some(limit) => {
                close(name, "limit estimate", limit.estimate, &case["est"]);
                close(name, "limit ci.lb", limit.ci_lower, &case["ci_lb"]);
                close(name, "limit ci.ub", limit.ci_upper, &case["ci_ub"]);
            }
            None => assert!(case["est"].is_null(), "{name}: metafor reports a limit"),
        }
    }
}

#[test]
fn egger_test_with_equal_standard_errors_is_an_error_not_a_panic() {
    let yi = [0.1, 0.3, -0.2, 0.4, 0.0];
    let vi = [0.04; 5];
    let model = fit(&yi, &vi, &Design::intercept_only(5), &ModelSpec::default()).expect("fits");
    assert!(model.regtest().is_err());
}
