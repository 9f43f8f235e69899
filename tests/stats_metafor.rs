//! The engine against metafor 3.8: every estimator with z and Knapp–Hartung tests on the BCG
//! vaccine trials (Colditz et al., 1994; log risk ratios, as in Viechtbauer, 2010, JSS, sec. 4),
//! teacher expectancy (Raudenbush, 1984), conscientiousness and medication adherence
//! (Molloy et al., 2014) and the homogeneous lidocaine trials (Hine et al., 1989).
//! Reference values: tests/fixtures/stats/*.json, written by tests/r/make_stats_fixtures.R.

mod common;

use common::{fixture, method, test, Studies};
use meridian::stats::ModelSpec;
use serde::Deserialize;

/// Quantities with closed forms given τ² (coefficients, SEs, Q statistics, likelihoods).
const CLOSED_FORM_REL: f64 = 1e-6;
/// Converged iterative quantities (τ² from ML/REML/EB/PM and all that depends on it).
const ITERATIVE_REL: f64 = 1e-6;
/// Absolute slack for quantities that are zero in exact arithmetic (τ² on the boundary,
/// residuals of interpolating fits), where a relative error is meaningless.
const ZERO_ABS: f64 = 1e-9;
/// Absolute slack, in percentage points, for I² and R² when τ² is on the boundary: metafor's
/// Fisher scoring only approaches 0 (it stops near τ² ≈ 1e-11 where the engine returns exactly
/// 0), which shows in I² = 100·τ²/(τ² + ṽ) as up to about 1e-7 percent.
const PERCENT_ZERO_ABS: f64 = 1e-5;

#[derive(Deserialize)]
struct Case {
    name: String,
    #[serde(flatten)]
    studies: Studies,
    fits: Vec<Reference>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct Reference {
    method: String,
    test: String,
    beta: Vec<f64>,
    se: Vec<f64>,
    zval: Vec<f64>,
    pval: Vec<f64>,
    ci_lb: Vec<f64>,
    ci_ub: Vec<f64>,
    vcov: Vec<Vec<f64>>,
    tau2: f64,
    se_tau2: Option<f64>,
    QE: f64,
    QEp: f64,
    QM: Option<f64>,
    QMp: Option<f64>,
    I2: f64,
    H2: f64,
    R2: Option<f64>,
    s2w: f64,
    logLik: f64,
    deviance: f64,
    AIC: f64,
    BIC: f64,
    AICc: f64,
    weights: Vec<f64>,
    fitted: Vec<f64>,
    resid: Vec<f64>,
}

/// Tracks the worst relative error seen and fails on the first value out of tolerance.
struct Checker {
    worst: f64,
    worst_what: String,
}

impl Checker {
    fn new() -> Self {
        Self {
            worst: 0.0,
            worst_what: String::new(),
        }
    }

    fn close(&mut self, what: &str, actual: f64, expected: f64, rel: f64) {
        self.close_abs(what, actual, expected, rel, ZERO_ABS);
    }

    fn close_abs(&mut self, what: &str, actual: f64, expected: f64, rel: f64, abs: f64) {
        let err = (actual - expected).abs();
        assert!(
            err <= rel * expected.abs() + abs,
            "{what}: got {actual:e}, metafor {expected:e} (error {err:e})"
        );
        if expected.abs() > 1e3 * abs {
            let r = err / expected.abs();
            if r > self.worst {
                self.worst = r;
                self.worst_what = what.to_owned();
            }
        }
    }

    fn all(&mut self, what: &str, actual: &[f64], expected: &[f64], rel: f64) {
        assert_eq!(actual.len(), expected.len(), "{what}: length");
        for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
            self.close(&format!("{what}[{i}]"), *a, *e, rel);
        }
    }
}

fn check_case(file: &str) -> Checker {
    let case: Case = fixture(&format!("{file}.json"));
    let mut c = Checker::new();
    for r in &case.fits {
        let spec = ModelSpec {
            method: method(&r.method),
            test: test(&r.test),
            level: 0.95,
            ..ModelSpec::default()
        };
        let f = case
            .studies
            .fit(&spec)
            .unwrap_or_else(|e| panic!("{} {} {}: {e}", case.name, r.method, r.test));
        let tag = format!("{} {} {}", case.name, r.method, r.test);
        let rel = if spec.method.is_fixed() {
            CLOSED_FORM_REL
        } else {
            ITERATIVE_REL
        };
        let est: Vec<f64> = f.coefficients.iter().map(|c| c.estimate).collect();
        c.all(&format!("{tag} beta"), &est, &r.beta, rel);
        let se: Vec<f64> = f.coefficients.iter().map(|c| c.se).collect();
        c.all(&format!("{tag} se"), &se, &r.se, rel);
        let z: Vec<f64> = f.coefficients.iter().map(|c| c.statistic).collect();
        c.all(&format!("{tag} zval"), &z, &r.zval, rel);
        let pv: Vec<f64> = f.coefficients.iter().map(|c| c.p_value).collect();
        c.all(&format!("{tag} pval"), &pv, &r.pval, rel);
        let lb: Vec<f64> = f.coefficients.iter().map(|c| c.ci_lower).collect();
        c.all(&format!("{tag} ci.lb"), &lb, &r.ci_lb, rel);
        let ub: Vec<f64> = f.coefficients.iter().map(|c| c.ci_upper).collect();
        c.all(&format!("{tag} ci.ub"), &ub, &r.ci_ub, rel);
        for (i, row) in r.vcov.iter().enumerate() {
            let got: Vec<f64> = (0..f.p).map(|j| f.vcov[(i, j)]).collect();
            c.all(&format!("{tag} vcov row {i}"), &got, row, rel);
        }
        c.close(&format!("{tag} tau2"), f.tau2().expect("tau2"), r.tau2, rel);
        match (f.tau2_se(), r.se_tau2) {
            (Some(a), Some(e)) => c.close(&format!("{tag} se.tau2"), a, e, rel),
            (None, None) => {}
            (a, e) => panic!("{tag} se.tau2: got {a:?}, metafor {e:?}"),
        }
        let h = &f.heterogeneity;
        c.close(&format!("{tag} QE"), h.qe, r.QE, CLOSED_FORM_REL);
        c.close(&format!("{tag} QEp"), h.qe_p, r.QEp, CLOSED_FORM_REL);
        match (&f.moderators, r.QM, r.QMp) {
            (Some(m), Some(qm), Some(qmp)) => {
                c.close(&format!("{tag} QM"), m.statistic, qm, rel);
                c.close(&format!("{tag} QMp"), m.p_value, qmp, rel);
            }
            (None, _, _) if f.p == 1 && case.studies.intercept => {}
            (m, qm, _) => panic!("{tag} QM: got {m:?}, metafor {qm:?}"),
        }
        c.close_abs(&format!("{tag} I2"), h.i2, r.I2, rel, PERCENT_ZERO_ABS);
        c.close(&format!("{tag} H2"), h.h2, r.H2, rel);
        let r2 = f.pseudo_r2().expect("R2 refit").map(|r| r.r2);
        match (r2, r.R2) {
            (Some(a), Some(e)) => c.close_abs(&format!("{tag} R2"), a, e, rel, PERCENT_ZERO_ABS),
            (None, None) => {}
            (a, e) => panic!("{tag} R2: got {a:?}, metafor {e:?}"),
        }
        c.close(
            &format!("{tag} s2w"),
            f.knha_scale.unwrap_or(1.0),
            r.s2w,
            rel,
        );
        let fs = &f.fit_statistics;
        c.close(&format!("{tag} logLik"), fs.loglik, r.logLik, rel);
        c.close(&format!("{tag} deviance"), fs.deviance, r.deviance, rel);
        c.close(&format!("{tag} AIC"), fs.aic, r.AIC, rel);
        c.close(&format!("{tag} BIC"), fs.bic, r.BIC, rel);
        c.close(&format!("{tag} AICc"), fs.aicc, r.AICc, rel);
        let sw: f64 = f.weights.iter().sum();
        let pct: Vec<f64> = f.weights.iter().map(|w| 100.0 * w / sw).collect();
        c.all(&format!("{tag} weights"), &pct, &r.weights, rel);
        c.all(&format!("{tag} fitted"), &f.fitted, &r.fitted, rel);
        c.all(&format!("{tag} resid"), &f.residuals, &r.resid, rel);
    }
    eprintln!(
        "{file}: worst relative error {:.2e} ({})",
        c.worst, c.worst_what
    );
    c
}

#[test]
fn bcg_intercept_only_matches_metafor_for_every_method() {
    check_case("bcg");
}

#[test]
fn bcg_latitude_matches_metafor_for_every_method() {
    check_case("bcg_ablat");
}

#[test]
fn bcg_latitude_and_year_matches_metafor_for_every_method() {
    check_case("bcg_ablat_year");
}

#[test]
fn bcg_allocation_factor_matches_metafor_for_every_method() {
    check_case("bcg_alloc");
}

#[test]
fn bcg_without_intercept_matches_metafor_for_every_method() {
    check_case("bcg_ablat_noint");
}

#[test]
fn teacher_expectancy_factor_interaction_matches_metafor() {
    check_case("raudenbush_setting_x_weeks");
}

#[test]
fn teacher_expectancy_quadratic_matches_metafor() {
    check_case("raudenbush_weeks_quadratic");
}

#[test]
fn molloy_quadratic_and_factor_matches_metafor() {
    check_case("molloy_quality_quadratic_design");
}

#[test]
fn molloy_factor_interaction_near_boundary_matches_metafor() {
    check_case("molloy_controls_x_year");
}

#[test]
fn homogeneous_trials_put_tau2_exactly_on_the_boundary() {
    check_case("hine_homogeneous");
}

#[test]
fn homogeneous_trials_with_moderator_match_metafor() {
    check_case("hine_homogeneous_size");
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct WaldCase {
    name: String,
    method: String,
    test: String,
    #[serde(flatten)]
    studies: Studies,
    columns: Vec<usize>,
    QM: f64,
    QMdf: (usize, Option<usize>),
    QMp: f64,
}

#[test]
fn subset_wald_tests_match_metafor_anova() {
    let cases: Vec<WaldCase> = fixture("wald.json");
    let mut c = Checker::new();
    for w in &cases {
        let spec = ModelSpec {
            method: method(&w.method),
            test: test(&w.test),
            level: 0.95,
            ..ModelSpec::default()
        };
        let f = w.studies.fit(&spec).expect("fits");
        let t = f.wald_test(&w.columns).expect("valid columns");
        c.close(&format!("{} QM", w.name), t.statistic, w.QM, ITERATIVE_REL);
        c.close(&format!("{} QMp", w.name), t.p_value, w.QMp, ITERATIVE_REL);
        assert_eq!((t.df, t.df2), w.QMdf, "{}", w.name);
    }
    eprintln!(
        "wald: worst relative error {:.2e} ({})",
        c.worst, c.worst_what
    );
}
