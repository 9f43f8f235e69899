//! Q-profile intervals for τ², I² and H² and predictions against metafor 3.8
//! (tests/fixtures/stats/confint.json and predict.json, from tests/r/make_stats_fixtures.R).

mod common;

use common::{fixture, method, test, Studies};
use meridian::stats::{ModelSpec, Test};
use serde::Deserialize;

/// Interval bounds are roots found to 1e-12 (here and in the reference): 1e-6 relative.
const ITERATIVE_REL: f64 = 1e-6;
/// Closed-form predictions given the fit.
const CLOSED_FORM_REL: f64 = 1e-6;
/// Absolute slack for bounds that are 0.
const ZERO_ABS: f64 = 1e-9;

fn close(what: &str, actual: f64, expected: f64, rel: f64) {
    let err = (actual - expected).abs();
    assert!(
        err <= rel * expected.abs() + ZERO_ABS,
        "{what}: got {actual:e}, metafor {expected:e} (error {err:e})"
    );
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct ConfintCase {
    name: String,
    method: String,
    level: f64,
    #[serde(flatten)]
    studies: Studies,
    tau2: [f64; 3],
    tau: [f64; 3],
    I2: [f64; 3],
    H2: [f64; 3],
}

#[test]
fn q_profile_intervals_match_metafor_including_zero_and_empty_bounds() {
    let cases: Vec<ConfintCase> = fixture("confint.json");
    let mut saw_zero_lower = false;
    let mut saw_empty = false;
    for c in &cases {
        let spec = ModelSpec {
            method: method(&c.method),
            test: Test::Z,
            level: 0.95,
            ..ModelSpec::default()
        };
        let f = c.studies.fit(&spec).expect("fits");
        let ci = f.confint_tau2(c.level).expect("interval");
        for (what, got, want) in [
            ("tau2", ci.tau2, c.tau2),
            ("tau", ci.tau, c.tau),
            ("I2", ci.i2, c.I2),
            ("H2", ci.h2, c.H2),
        ] {
            close(
                &format!("{} {what} estimate", c.name),
                got.estimate,
                want[0],
                ITERATIVE_REL,
            );
            close(
                &format!("{} {what} lower", c.name),
                got.lower,
                want[1],
                ITERATIVE_REL,
            );
            close(
                &format!("{} {what} upper", c.name),
                got.upper,
                want[2],
                ITERATIVE_REL,
            );
        }
        assert_eq!(ci.lower_at_zero, c.tau2[1] == 0.0, "{}", c.name);
        assert_eq!(ci.empty, c.tau2[2] == 0.0, "{}", c.name);
        saw_zero_lower |= ci.lower_at_zero && !ci.empty;
        saw_empty |= ci.empty;
    }
    assert!(
        saw_zero_lower && saw_empty,
        "fixtures cover a zero lower bound and an empty set"
    );
}

#[derive(Deserialize)]
struct PredictCase {
    name: String,
    method: String,
    test: String,
    #[serde(flatten)]
    studies: Studies,
    newx: Vec<Vec<f64>>,
    pred: Vec<f64>,
    se: Vec<f64>,
    ci_lb: Vec<f64>,
    ci_ub: Vec<f64>,
    pi_lb: Vec<f64>,
    pi_ub: Vec<f64>,
}

#[test]
fn predictions_and_prediction_intervals_match_metafor() {
    let cases: Vec<PredictCase> = fixture("predict.json");
    for c in &cases {
        let spec = ModelSpec {
            method: method(&c.method),
            test: test(&c.test),
            level: 0.95,
            ..ModelSpec::default()
        };
        let f = c.studies.fit(&spec).expect("fits");
        for (i, x0) in c.newx.iter().enumerate() {
            let p = f.predict(x0).expect("prediction");
            let tag = format!("{} row {i}", c.name);
            close(&format!("{tag} pred"), p.pred, c.pred[i], CLOSED_FORM_REL);
            close(&format!("{tag} se"), p.se, c.se[i], CLOSED_FORM_REL);
            close(
                &format!("{tag} ci.lb"),
                p.ci_lower,
                c.ci_lb[i],
                CLOSED_FORM_REL,
            );
            close(
                &format!("{tag} ci.ub"),
                p.ci_upper,
                c.ci_ub[i],
                CLOSED_FORM_REL,
            );
            close(
                &format!("{tag} pi.lb"),
                p.pi_lower,
                c.pi_lb[i],
                CLOSED_FORM_REL,
            );
            close(
                &format!("{tag} pi.ub"),
                p.pi_upper,
                c.pi_ub[i],
                CLOSED_FORM_REL,
            );
        }
    }
}

#[derive(Deserialize)]
struct LevelCase {
    name: String,
    method: String,
    test: String,
    level: f64,
    #[serde(flatten)]
    studies: Studies,
    ci_lb: Vec<f64>,
    ci_ub: Vec<f64>,
    pi_lb: Vec<f64>,
    pi_ub: Vec<f64>,
}

#[test]
fn intervals_at_other_levels_match_metafor() {
    let cases: Vec<LevelCase> = fixture("levels.json");
    for c in &cases {
        let spec = ModelSpec {
            method: method(&c.method),
            test: test(&c.test),
            level: c.level,
            ..ModelSpec::default()
        };
        let f = c.studies.fit(&spec).expect("fits");
        for (j, coef) in f.coefficients.iter().enumerate() {
            close(
                &format!("{} ci.lb[{j}]", c.name),
                coef.ci_lower,
                c.ci_lb[j],
                ITERATIVE_REL,
            );
            close(
                &format!("{} ci.ub[{j}]", c.name),
                coef.ci_upper,
                c.ci_ub[j],
                ITERATIVE_REL,
            );
        }
        for (i, row) in c.studies.x.iter().enumerate() {
            let p = f.predict(row).expect("prediction");
            close(
                &format!("{} pi.lb[{i}]", c.name),
                p.pi_lower,
                c.pi_lb[i],
                ITERATIVE_REL,
            );
            close(
                &format!("{} pi.ub[{i}]", c.name),
                p.pi_upper,
                c.pi_ub[i],
                ITERATIVE_REL,
            );
        }
    }
}
