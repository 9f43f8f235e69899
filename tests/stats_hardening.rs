//! The engine-hardening regressions (issue 10, items 1–4) against metafor 3.8
//! (tests/fixtures/stats/hardening.json, written by tests/r/make_hardening_fixtures.R): Q-profile
//! intervals without an intercept, an equal-effects model with k = p, REML on six rows where
//! plain Fisher scoring failed, data on which plain Fisher scoring fails for ML, REML and EB
//! alike, and Knapp–Hartung when the model reproduces the effects exactly.

mod common;

use common::{fixture, method, test, Studies};
use meridian::stats::{fit, Control, Design, ModelSpec, StatsError, Tau2Method, Test};
use nalgebra::DMatrix;
use serde::Deserialize;

/// Converged iterative quantities, and closed forms given τ².
const REL: f64 = 1e-6;
/// Absolute slack for quantities that are zero in exact arithmetic.
const ZERO_ABS: f64 = 1e-9;

fn close(what: &str, actual: f64, expected: f64) {
    let err = (actual - expected).abs();
    assert!(
        err <= REL * expected.abs() + ZERO_ABS,
        "{what}: got {actual:e}, metafor {expected:e} (error {err:e})"
    );
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct QProfile {
    #[serde(flatten)]
    studies: Studies,
    method: String,
    level: f64,
    tau2: [f64; 3],
    I2: [f64; 3],
    H2: [f64; 3],
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct FitCase {
    name: String,
    method: String,
    test: String,
    #[serde(flatten)]
    studies: Studies,
    beta: Vec<f64>,
    se: Vec<f64>,
    /// As text: "Inf" where metafor's statistic is infinite.
    zval: Vec<String>,
    pval: Vec<f64>,
    ci_lb: Vec<f64>,
    ci_ub: Vec<f64>,
    tau2: f64,
    QE: f64,
    QEp: f64,
    I2: f64,
    H2: f64,
    R2: Option<f64>,
    logLik: f64,
}

#[derive(Deserialize)]
struct Fixture {
    qprofile: QProfile,
    fits: Vec<FitCase>,
}

fn cases() -> Fixture {
    fixture("hardening.json")
}

fn spec_of(c: &FitCase) -> ModelSpec {
    ModelSpec {
        method: method(&c.method),
        test: test(&c.test),
        ..ModelSpec::default()
    }
}

fn case<'a>(f: &'a Fixture, name: &str) -> &'a FitCase {
    f.fits
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("fixture has no case {name}"))
}

/// Every coefficient, τ², QE, I², H² and the log-likelihood of case `name` match metafor.
fn check_fit(f: &Fixture, name: &str) -> meridian::stats::Fit {
    let c = case(f, name);
    let fitted = c
        .studies
        .fit(&spec_of(c))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    close(
        &format!("{name} tau2"),
        fitted.tau2().expect("tau2"),
        c.tau2,
    );
    for (j, coef) in fitted.coefficients.iter().enumerate() {
        close(&format!("{name} beta[{j}]"), coef.estimate, c.beta[j]);
        close(&format!("{name} se[{j}]"), coef.se, c.se[j]);
        let z: f64 = c.zval[j].trim().parse().expect("a number or Inf");
        if z.is_finite() {
            close(&format!("{name} zval[{j}]"), coef.statistic, z);
        } else {
            assert_eq!(coef.statistic, z, "{name} zval[{j}]");
        }
        close(&format!("{name} pval[{j}]"), coef.p_value, c.pval[j]);
        close(&format!("{name} ci.lb[{j}]"), coef.ci_lower, c.ci_lb[j]);
        close(&format!("{name} ci.ub[{j}]"), coef.ci_upper, c.ci_ub[j]);
    }
    let h = &fitted.heterogeneity;
    close(&format!("{name} QE"), h.qe, c.QE);
    close(&format!("{name} QEp"), h.qe_p, c.QEp);
    close(&format!("{name} I2"), h.i2, c.I2);
    close(&format!("{name} H2"), h.h2, c.H2);
    close(
        &format!("{name} logLik"),
        fitted.fit_statistics.loglik,
        c.logLik,
    );
    fitted
}

#[test]
fn q_profile_without_intercept_does_not_centre() {
    // metafor: τ² [0.05208, 2.2735], I² [55.32, 98.18]; centring gave [0.7035, 17.143].
    let q = cases().qprofile;
    let spec = ModelSpec {
        method: method(&q.method),
        ..ModelSpec::default()
    };
    let f = q.studies.fit(&spec).expect("fits");
    let ci = f.confint_tau2(q.level).expect("interval");
    for (what, got, want) in [
        ("tau2", ci.tau2, q.tau2),
        ("I2", ci.i2, q.I2),
        ("H2", ci.h2, q.H2),
    ] {
        close(&format!("{what} estimate"), got.estimate, want[0]);
        close(&format!("{what} lower"), got.lower, want[1]);
        close(&format!("{what} upper"), got.upper, want[2]);
    }
}

#[test]
fn equal_effects_with_as_many_studies_as_coefficients_have_no_residual_heterogeneity() {
    // metafor: QE(df = 0) = 0, p = 1, I² = 0, H² = 1, R² NA.
    let f = cases();
    let fitted = check_fit(&f, "fe_k_equals_p");
    assert_eq!(
        fitted.heterogeneity.qe, 0.0,
        "exactly 0, not rounding residue"
    );
    assert_eq!(case(&f, "fe_k_equals_p").R2, None);
    assert_eq!(fitted.pseudo_r2().expect("no refit needed"), None);
}

#[test]
fn reml_converges_on_the_six_rows_where_fisher_scoring_did_not() {
    // metafor: τ² = 0.001992563.
    check_fit(&cases(), "reml_six_rows");
}

#[test]
fn data_that_trip_plain_fisher_scoring_converge_for_ml_reml_and_eb() {
    let f = cases();
    for name in ["trip_ml", "trip_reml", "trip_eb", "trip_pm"] {
        check_fit(&f, name);
    }
    // EB is Paule–Mandel's estimate (the same estimating equation): equal to the tolerance.
    let eb = case(&f, "trip_eb")
        .studies
        .fit(&spec_of(case(&f, "trip_eb")));
    let pm = case(&f, "trip_pm")
        .studies
        .fit(&spec_of(case(&f, "trip_pm")));
    let (eb, pm) = (eb.expect("EB fits"), pm.expect("PM fits"));
    let (a, b) = (eb.tau2().expect("tau2"), pm.tau2().expect("tau2"));
    assert!((a - b).abs() <= 1e-9 * b, "EB {a:e} vs PM {b:e}");
}

#[test]
fn knapp_hartung_on_an_exact_fit_gives_zero_standard_errors_and_infinite_statistics() {
    let f = cases();
    for name in ["knha_exact_factor", "knha_exact_equal_dl"] {
        let fitted = check_fit(&f, name);
        assert_eq!(fitted.knha_scale, Some(0.0), "{name}: s² is exactly 0");
        for c in &fitted.coefficients {
            assert_eq!(c.se, 0.0, "{name}");
            assert_eq!(c.statistic, f64::INFINITY, "{name}");
            assert_eq!(c.p_value, 0.0, "{name}");
            assert_eq!((c.ci_lower, c.ci_upper), (c.estimate, c.estimate), "{name}");
        }
        // metafor reports QM as NA; the engine reports its limit +∞ with p = 0 (no moderators
        // are tested in an intercept-only model).
        if let Some(qm) = &fitted.moderators {
            assert_eq!((qm.statistic, qm.p_value), (f64::INFINITY, 0.0), "{name}");
        }
    }
}

#[test]
fn a_coefficient_that_is_zero_in_an_exact_fit_has_no_statistic_whatever_its_rounding() {
    // Issue 10 item 4 with an intercept: three identical studies coded a, b, a. The contrast gb
    // is 0 in exact arithmetic; double precision leaves ~1e-16 of either sign (metafor: +9.4e-16,
    // statistic +Inf; this engine's Householder QR gave -Inf). The 200-bit recomputation says
    // 0/0: no statistic, no p-value, and QM (of gb alone) likewise.
    let design = Design {
        x: DMatrix::from_row_slice(3, 2, &[1.0, 0.0, 1.0, 1.0, 1.0, 0.0]),
        names: vec!["intrcpt".into(), "gb".into()],
        intercept: true,
        terms: Vec::new(),
    };
    for method in [Tau2Method::Reml, Tau2Method::Dl] {
        let spec = ModelSpec {
            method,
            test: Test::KnappHartung,
            ..ModelSpec::default()
        };
        let f = fit(&[1.0; 3], &[0.1; 3], &design, &spec).expect("fits");
        assert_eq!(f.knha_scale, Some(0.0), "{method:?}");
        let (b0, gb) = (&f.coefficients[0], &f.coefficients[1]);
        assert_eq!((b0.se, b0.statistic, b0.p_value), (0.0, f64::INFINITY, 0.0));
        assert!(
            (b0.estimate - 1.0).abs() < 1e-14,
            "{method:?}: {}",
            b0.estimate
        );
        assert_eq!(
            (gb.estimate, gb.se, gb.ci_lower, gb.ci_upper),
            (0.0, 0.0, 0.0, 0.0)
        );
        assert!(
            gb.statistic.is_nan() && gb.p_value.is_nan(),
            "{method:?}: {gb:?}"
        );
        let qm = f.moderators.as_ref().expect("gb is tested");
        assert!(
            qm.statistic.is_nan() && qm.p_value.is_nan(),
            "{method:?}: {qm:?}"
        );
    }
}

#[test]
fn too_few_iterations_are_a_typed_error_with_the_last_value() {
    let f = cases();
    let c = case(&f, "trip_reml");
    let spec = ModelSpec {
        method: Tau2Method::Reml,
        control: Control {
            tol: 1e-10,
            max_iter: 1,
        },
        ..ModelSpec::default()
    };
    match c.studies.fit(&spec) {
        Err(StatsError::NoConvergence {
            method,
            iterations,
            last_tau2,
        }) => {
            assert_eq!(method, Tau2Method::Reml);
            assert_eq!(iterations, 1);
            assert!(last_tau2.is_finite() && last_tau2 >= 0.0, "{last_tau2}");
        }
        other => panic!("expected non-convergence, got {other:?}"),
    }
}

/// Runs `meridian fit` on `csv` with `args` and returns its JSON record.
fn fit_json(name: &str, csv: &str, args: &[&str]) -> serde_json::Value {
    let dir = std::env::temp_dir().join(format!("meridian-hardening-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{name}.csv"));
    std::fs::write(&path, csv).expect("writes the data");
    let file = path.to_str().expect("a UTF-8 path");
    let mut all = vec!["fit", file, "--json"];
    all.extend_from_slice(args);
    let out = common::run_cli(&all);
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn the_command_line_reports_the_reproducers_as_metafor_does() {
    // Item 1: τ² [0.05208, 2.2735], I² [55.32, 98.18].
    let q = fit_json(
        "noint",
        "yi,vi,x\n0.9,0.04,1\n1.6,0.05,2\n2.1,0.03,3\n4.4,0.06,4\n4.2,0.04,5\n",
        &["--mods", "x - 1"],
    );
    let ci = |key: &str, i: usize| q[key][i].as_f64().expect("a bound");
    assert!((ci("tau2_ci", 0) - 0.0520843301998402).abs() < 1e-6);
    assert!((ci("tau2_ci", 1) - 2.27353490338709).abs() < 1e-5);
    assert!((ci("i2_ci", 0) - 55.3218429972027).abs() < 1e-4);
    // Item 2: QE 0, p 1, I² 0, H² 1, no R².
    let kp = fit_json(
        "kp",
        "yi,vi,x1,x2\n0.1,0.02,1,3\n0.5,0.05,2,1\n-0.2,0.03,4,2\n",
        &["--mods", "x1 + x2", "--method", "FE"],
    );
    assert_eq!(kp["qe"], 0.0);
    assert_eq!(kp["qe_p"], 1.0);
    assert_eq!(kp["i2"], 0.0);
    assert_eq!(kp["h2"], 1.0);
    assert!(kp["r2"].is_null());
    // Item 4: SE 0, the infinite statistic printed as null (as every non-finite number),
    // p-value 0, the interval the estimate itself.
    let kh = fit_json(
        "exact",
        "yi,vi,g\n1,0.1,a\n1,0.1,b\n1,0.1,a\n",
        &["--mods", "factor(g) - 1", "--test", "knha"],
    );
    for c in kh["coefficients"].as_array().expect("coefficients") {
        assert_eq!(c["se"], 0.0, "{c}");
        assert!(c["statistic"].is_null(), "{c}");
        assert_eq!(c["p_value"], 0.0, "{c}");
        assert_eq!(c["ci_lower"], c["estimate"], "{c}");
    }
    assert!(kh["qm"].is_null() && kh["qm_p"] == 0.0, "{kh}");
}
