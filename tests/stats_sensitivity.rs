//! Sensitivity analyses (issue 12) against metafor 3.8.1: influence diagnostics, rstandard,
//! leave-one-out, cumulative meta-analysis by year, Baujat coordinates, BLUPs and random
//! effects for the BCG trials (Colditz et al., 1994; log risk ratios) without moderators, with
//! latitude and with the allocation factor, REML and DL, z and Knapp–Hartung; exact GOSH on the
//! first ten trials (every one of the 1,023 subsets). Reference values:
//! tests/fixtures/sensitivity/*.json from tests/r/make_sensitivity_fixtures.R. Then the
//! cross-checks that need no R: leave-one-out is a fresh fit without the study, Cook's distance
//! and DFFITS from their definitions, GOSH's subset of all studies is the fit.

mod common;

use std::collections::HashMap;

use common::{fixture_in, method, test, Studies};
use meridian::stats::{
    baujat, cumulative, leave_one_out, Control, Deletions, Fit, Gosh, GoshSettings, Influence,
    ModelSpec, Tau2Method, Test,
};
use serde::Deserialize;
use serde_json::Value;

/// Closed forms given τ² (DL refits, hat values, weights, residuals, BLUPs at the fit).
const CLOSED_FORM_REL: f64 = 1e-6;
/// Quantities from iterative refits (REML without each study, in each cumulative step or
/// subset).
const ITERATIVE_REL: f64 = 1e-5;
/// Absolute slack for quantities that are 0 in exact arithmetic (τ² on the boundary, where
/// metafor's Fisher scoring stops near 1e-11 and the engine returns 0, and what follows from it
/// such as I² in percent).
const ZERO_ABS: f64 = 1e-6;

const CASES: [&str; 14] = [
    "bcg_reml_z",
    "bcg_ablat_reml_z",
    "bcg_alloc_reml_z",
    "bcg_reml_knha",
    "bcg_ablat_reml_knha",
    "bcg_alloc_reml_knha",
    "bcg_dl_z",
    "bcg_ablat_dl_z",
    "bcg_alloc_dl_z",
    "bcg_dl_knha",
    "bcg_ablat_dl_knha",
    "bcg_alloc_dl_knha",
    // metafor flags trials 4, 6 and 8 under the first, trial 4 under the second.
    "bcg_ablat_fe_z",
    "bcg_ablat_year_reml_z",
];

#[derive(Deserialize)]
struct Case {
    method: String,
    test: String,
    #[serde(flatten)]
    studies: Studies,
    year: Vec<f64>,
    influence: Vec<Value>,
    rstandard: Vec<Value>,
    leave1out: Vec<Value>,
    cumul: Option<Vec<Value>>,
    baujat: Vec<Value>,
    blup: Vec<Value>,
    ranef: Vec<Value>,
}

impl Case {
    fn load(name: &str) -> Self {
        fixture_in("sensitivity", &format!("{name}.json"))
    }

    fn spec(&self) -> ModelSpec {
        ModelSpec {
            method: method(&self.method),
            test: test(&self.test),
            control: Control {
                tol: 1e-12,
                max_iter: 10_000,
            },
            ..ModelSpec::default()
        }
    }

    fn fit(&self) -> Fit {
        self.studies.fit(&self.spec()).expect("the BCG models fit")
    }

    /// The tolerance of quantities from refits under this case's estimator.
    fn refit_rel(&self) -> f64 {
        if matches!(method(&self.method), Tau2Method::Dl | Tau2Method::Fe) {
            CLOSED_FORM_REL
        } else {
            ITERATIVE_REL
        }
    }
}

/// Collects mismatches so a failing case lists all of them.
struct Checker {
    failures: Vec<String>,
    compared: usize,
}

impl Checker {
    fn new() -> Self {
        Self {
            failures: Vec::new(),
            compared: 0,
        }
    }

    fn num(&mut self, path: &str, ours: f64, theirs: &Value, rel: f64) {
        let Some(b) = theirs.as_f64() else {
            self.failures
                .push(format!("{path}: metafor has {theirs}, ours {ours}"));
            return;
        };
        self.compared += 1;
        // NaN (ours) fails too: the comparison is false.
        let close = (ours - b).abs() <= ZERO_ABS.max(rel * b.abs());
        if !close {
            self.failures
                .push(format!("{path}: ours {ours}, metafor {b}"));
        }
    }

    fn finish(self, what: &str, at_least: usize) {
        assert!(
            self.failures.is_empty(),
            "{what}: {} mismatches:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
        assert!(
            self.compared >= at_least,
            "{what}: only {} numbers compared",
            self.compared
        );
    }
}

#[test]
fn influence_diagnostics_match_metafor() {
    for name in CASES {
        let case = Case::load(name);
        let fit = case.fit();
        let deletions = Deletions::without_r2(&fit);
        let influence = Influence::new(&fit, &deletions).unwrap();
        let rel = case.refit_rel();
        let mut c = Checker::new();
        for (i, (ours, theirs)) in influence.studies.iter().zip(&case.influence).enumerate() {
            let at = |key: &str| format!("{name}[{i}].{key}");
            for (key, value) in [
                ("rstudent", ours.rstudent),
                ("dffits", ours.dffits),
                ("cook_d", ours.cook_d),
                ("cov_r", ours.cov_r),
                ("tau2_del", ours.tau2_del),
                ("qe_del", ours.qe_del),
            ] {
                c.num(
                    &at(key),
                    value.expect("every BCG deletion fits"),
                    &theirs[key],
                    rel,
                );
            }
            c.num(&at("hat"), ours.hat, &theirs["hat"], CLOSED_FORM_REL);
            c.num(
                &at("weight"),
                ours.weight,
                &theirs["weight"],
                CLOSED_FORM_REL,
            );
            let dfbetas = theirs["dfbetas"].as_array().unwrap();
            assert_eq!(ours.dfbetas.len(), dfbetas.len(), "{}", at("dfbetas"));
            for (j, (a, b)) in ours.dfbetas.iter().zip(dfbetas).enumerate() {
                c.num(&at(&format!("dfbetas[{j}]")), *a, b, rel);
            }
            assert_eq!(
                Some(ours.influential()),
                theirs["influential"].as_bool(),
                "{}",
                at("influential")
            );
        }
        c.finish(name, case.influence.len() * 9);
    }
}

#[test]
fn metafor_flags_the_same_influential_studies() {
    // At least one case must flag a study, or the rule is never exercised.
    let flagged: usize = CASES
        .iter()
        .map(|name| {
            let case = Case::load(name);
            case.influence
                .iter()
                .filter(|s| s["influential"].as_bool() == Some(true))
                .count()
        })
        .sum();
    assert_eq!(
        flagged, 4,
        "metafor flags trials 4, 6, 8 (FE) and 4 (ablat + year)"
    );
}

#[test]
fn standardized_residuals_match_rstandard() {
    for name in CASES {
        let case = Case::load(name);
        let fit = case.fit();
        let mut c = Checker::new();
        for (i, (ours, theirs)) in fit.rstandard().iter().zip(&case.rstandard).enumerate() {
            c.num(
                &format!("{name}[{i}].resid"),
                ours.resid,
                &theirs["resid"],
                CLOSED_FORM_REL,
            );
            c.num(
                &format!("{name}[{i}].se"),
                ours.se,
                &theirs["se"],
                CLOSED_FORM_REL,
            );
            c.num(
                &format!("{name}[{i}].z"),
                ours.z,
                &theirs["z"],
                CLOSED_FORM_REL,
            );
        }
        c.finish(name, 39);
    }
}

#[test]
fn leave_one_out_matches_metafor() {
    for name in CASES {
        let case = Case::load(name);
        let fit = case.fit();
        let rel = case.refit_rel();
        let rows = leave_one_out(&Deletions::new(&fit).unwrap());
        let mut c = Checker::new();
        for (i, (ours, theirs)) in rows.iter().zip(&case.leave1out).enumerate() {
            let ours = ours.as_ref().expect("every BCG deletion fits");
            let at = |key: &str| format!("{name}[{i}].{key}");
            c.num(&at("q"), ours.q, &theirs["q"], rel);
            c.num(&at("q_p"), ours.q_p, &theirs["q_p"], rel);
            c.num(&at("tau2"), ours.tau2, &theirs["tau2"], rel);
            c.num(&at("i2"), ours.i2, &theirs["i2"], rel);
            c.num(&at("h2"), ours.h2, &theirs["h2"], rel);
            if let Some(coefs) = theirs["coefficients"].as_array() {
                for (j, (a, b)) in ours.coefficients.iter().zip(coefs).enumerate() {
                    for (key, v) in [
                        ("estimate", a.estimate),
                        ("se", a.se),
                        ("statistic", a.statistic),
                        ("p_value", a.p_value),
                        ("ci_lower", a.ci_lower),
                        ("ci_upper", a.ci_upper),
                    ] {
                        c.num(&at(&format!("coefficients[{j}].{key}")), v, &b[key], rel);
                    }
                }
                c.num(
                    &at("r2"),
                    ours.r2.expect("moderators: R²"),
                    &theirs["r2"],
                    rel,
                );
            } else {
                let a = &ours.coefficients[0];
                for (key, v) in [
                    ("estimate", a.estimate),
                    ("se", a.se),
                    ("statistic", a.statistic),
                    ("p_value", a.p_value),
                    ("ci_lower", a.ci_lower),
                    ("ci_upper", a.ci_upper),
                ] {
                    c.num(&at(key), v, &theirs[key], rel);
                }
            }
        }
        c.finish(name, 13 * 11);
    }
}

/// Studies sorted by year, ties in input order (metafor 3.8: `cumul(res, order = year)`).
fn by_year(year: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..year.len()).collect();
    order.sort_by(|&a, &b| year[a].total_cmp(&year[b]));
    order
}

#[test]
fn cumulative_meta_analysis_by_year_matches_metafor() {
    let mut cases = 0;
    for name in CASES {
        let case = Case::load(name);
        let Some(reference) = &case.cumul else {
            continue;
        };
        cases += 1;
        let fit = case.fit();
        let rel = case.refit_rel();
        let steps = cumulative(&fit, &by_year(&case.year)).unwrap();
        let mut c = Checker::new();
        for (i, (ours, theirs)) in steps.iter().zip(reference).enumerate() {
            let s = ours.as_ref().expect("every cumulative step fits");
            assert_eq!(Some(s.k as u64), theirs["k"].as_u64());
            let at = |key: &str| format!("{name}[{i}].{key}");
            let e = &s.estimate;
            for (key, v) in [
                ("estimate", e.estimate),
                ("se", e.se),
                ("statistic", e.statistic),
                ("p_value", e.p_value),
                ("ci_lower", e.ci_lower),
                ("ci_upper", e.ci_upper),
                ("q", s.q),
                ("q_p", s.q_p),
                ("tau2", s.tau2),
                ("i2", s.i2),
                ("h2", s.h2),
            ] {
                c.num(&at(key), v, &theirs[key], rel);
            }
        }
        c.finish(name, 13 * 11);
    }
    assert_eq!(
        cases, 4,
        "the intercept-only cases have a cumulative analysis"
    );
}

#[test]
fn cumulative_analysis_refuses_moderators_and_bad_orders() {
    let case = Case::load("bcg_ablat_reml_z");
    let fit = case.fit();
    assert!(cumulative(&fit, &by_year(&case.year)).is_err());
    let case = Case::load("bcg_reml_z");
    let fit = case.fit();
    assert!(cumulative(&fit, &[0, 1, 2]).is_err());
    let mut twice = by_year(&case.year);
    twice[1] = twice[0];
    assert!(cumulative(&fit, &twice).is_err());
}

#[test]
fn baujat_blup_and_ranef_match_metafor() {
    for name in CASES {
        let case = Case::load(name);
        let fit = case.fit();
        let rel = case.refit_rel();
        let mut c = Checker::new();
        let points = baujat(&fit, &Deletions::without_r2(&fit));
        for (i, (ours, theirs)) in points.iter().zip(&case.baujat).enumerate() {
            c.num(
                &format!("{name}.baujat[{i}].x"),
                ours.x,
                &theirs["x"],
                CLOSED_FORM_REL,
            );
            c.num(
                &format!("{name}.baujat[{i}].y"),
                ours.y.unwrap(),
                &theirs["y"],
                rel,
            );
        }
        for (what, ours, reference) in [
            ("blup", fit.blup(), &case.blup),
            ("ranef", fit.ranef(), &case.ranef),
        ] {
            for (i, (o, t)) in ours.iter().zip(reference).enumerate() {
                let at = |key: &str| format!("{name}.{what}[{i}].{key}");
                c.num(&at("pred"), o.pred, &t["pred"], CLOSED_FORM_REL);
                c.num(&at("se"), o.se, &t["se"], CLOSED_FORM_REL);
                c.num(&at("pi_lower"), o.pi_lower, &t["pi_lower"], CLOSED_FORM_REL);
                c.num(&at("pi_upper"), o.pi_upper, &t["pi_upper"], CLOSED_FORM_REL);
            }
        }
        c.finish(name, 13 * 10);
    }
}

#[derive(Deserialize)]
struct GoshCase {
    method: String,
    yi: Vec<f64>,
    vi: Vec<f64>,
    subsets: usize,
    fits: Vec<Value>,
}

#[test]
fn exact_gosh_matches_metafor_in_every_subset() {
    for file in ["gosh_bcg10_reml.json", "gosh_bcg10_dl.json"] {
        let case: GoshCase = fixture_in("sensitivity", file);
        let spec = ModelSpec {
            method: method(&case.method),
            control: Control {
                tol: 1e-12,
                max_iter: 10_000,
            },
            ..ModelSpec::default()
        };
        let k = case.yi.len();
        let fit = meridian::stats::fit(
            &case.yi,
            &case.vi,
            &meridian::stats::Design::intercept_only(k),
            &spec,
        )
        .unwrap();
        let reference: HashMap<Vec<usize>, &Value> = case
            .fits
            .iter()
            .map(|f| {
                let included = f["included"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i.as_u64().unwrap() as usize)
                    .collect();
                (included, f)
            })
            .collect();
        assert_eq!(reference.len(), case.subsets);
        let mut gosh = Gosh::new(
            &fit,
            GoshSettings {
                subsets: 1023,
                seed: 1,
            },
        )
        .unwrap();
        assert!(gosh.is_exact());
        let rel = if spec.method == Tau2Method::Dl {
            CLOSED_FORM_REL
        } else {
            ITERATIVE_REL
        };
        let mut c = Checker::new();
        let mut seen = 0;
        for f in gosh.by_ref() {
            let theirs = reference
                .get(&f.included)
                .unwrap_or_else(|| panic!("{file}: metafor has no subset {:?}", f.included));
            seen += 1;
            let at = |key: &str| format!("{file}{:?}.{key}", f.included);
            assert_eq!(Some(f.k as u64), theirs["k"].as_u64());
            c.num(&at("estimate"), f.estimates[0], &theirs["estimate"], rel);
            c.num(&at("qe"), f.qe, &theirs["qe"], rel);
            c.num(&at("i2"), f.i2, &theirs["i2"], rel);
            c.num(&at("h2"), f.h2, &theirs["h2"], rel);
            c.num(&at("tau2"), f.tau2, &theirs["tau2"], rel);
        }
        assert_eq!(seen, 1023, "{file}: every subset once");
        assert_eq!(gosh.skipped(), 0);
        c.finish(file, 1023 * 5);
    }
}

// ---- cross-checks that need no R --------------------------------------------------------------

fn bcg_ablat_knha() -> (Case, Fit) {
    let case = Case::load("bcg_ablat_reml_knha");
    let fit = case.fit();
    (case, fit)
}

#[test]
fn leave_one_out_equals_a_fresh_fit_without_the_study() {
    let (case, fit) = bcg_ablat_knha();
    let rows = leave_one_out(&Deletions::new(&fit).unwrap());
    let k = case.studies.yi.len();
    for (i, ours) in rows.iter().enumerate() {
        let keep: Vec<usize> = (0..k).filter(|&j| j != i).collect();
        let studies = Studies {
            yi: keep.iter().map(|&j| case.studies.yi[j]).collect(),
            vi: keep.iter().map(|&j| case.studies.vi[j]).collect(),
            x: keep.iter().map(|&j| case.studies.x[j].clone()).collect(),
            names: case.studies.names.clone(),
            intercept: case.studies.intercept,
        };
        let fresh = studies.fit(&case.spec()).unwrap();
        let ours = ours.as_ref().unwrap();
        for (a, b) in ours.coefficients.iter().zip(&fresh.coefficients) {
            assert!((a.estimate - b.estimate).abs() <= ITERATIVE_REL * b.estimate.abs());
            assert!((a.se - b.se).abs() <= ITERATIVE_REL * b.se);
        }
        assert!((ours.tau2 - fresh.tau2().unwrap()).abs() <= ITERATIVE_REL * fresh.tau2().unwrap());
        assert!((ours.q - fresh.heterogeneity.qe).abs() <= CLOSED_FORM_REL * ours.q);
    }
}

#[test]
fn cook_distance_and_dffits_follow_their_definitions() {
    let (case, fit) = bcg_ablat_knha();
    let deletions = Deletions::without_r2(&fit);
    let influence = Influence::new(&fit, &deletions).unwrap();
    let inverse = fit.vcov.clone().try_inverse().unwrap();
    let hat = fit.hat_values();
    for (i, s) in influence.studies.iter().enumerate() {
        let d = deletions.refits[i].as_ref().unwrap();
        let x = &case.studies.x[i];
        let diff: Vec<f64> = fit
            .coefficients
            .iter()
            .zip(&d.coefficients)
            .map(|(a, b)| a.estimate - b.estimate)
            .collect();
        // Cook's distance: (b − b₍ᵢ₎)'V⁻¹(b − b₍ᵢ₎) with V the full fit's covariance.
        let mut cook = 0.0;
        for a in 0..diff.len() {
            for b in 0..diff.len() {
                cook += diff[a] * inverse[(a, b)] * diff[b];
            }
        }
        assert!((s.cook_d.unwrap() - cook).abs() <= 1e-9 * cook.max(1e-12));
        // DFFITS: the change in the study's fitted value over √(s²₍ᵢ₎ hᵢ (τ²₍ᵢ₎ + vᵢ)).
        let shift: f64 = x.iter().zip(&diff).map(|(x, d)| x * d).sum();
        let scale = d.scale * hat[i] * (d.tau2 + case.studies.vi[i]);
        assert!((s.dffits.unwrap() - shift / scale.sqrt()).abs() <= 1e-9);
    }
}

#[test]
fn gosh_of_all_studies_is_the_fit_and_random_subsets_repeat_with_their_seed() {
    for spec in [
        ModelSpec::default(),
        ModelSpec {
            method: Tau2Method::Dl,
            test: Test::KnappHartung,
            ..ModelSpec::default()
        },
    ] {
        let case = Case::load("bcg_ablat_reml_z");
        let fit = case.studies.fit(&spec).unwrap();
        let k = fit.k;
        let all: Vec<usize> = (0..k).collect();
        let exact = Gosh::new(
            &fit,
            GoshSettings {
                subsets: (1 << k) - 1,
                seed: 1,
            },
        )
        .unwrap();
        let full = exact.last().expect("the last subset has every study");
        assert_eq!(full.included, all);
        for (a, b) in full.estimates.iter().zip(&fit.coefficients) {
            assert!((a - b.estimate).abs() <= 1e-9 * b.estimate.abs());
        }
        assert!((full.tau2 - fit.tau2().unwrap()).abs() <= 1e-9 * fit.tau2().unwrap());
        assert!((full.qe - fit.heterogeneity.qe).abs() <= 1e-9 * full.qe);

        let settings = GoshSettings {
            subsets: 500,
            seed: 7,
        };
        let first: Vec<_> = Gosh::new(&fit, settings).unwrap().collect();
        let mut again = Gosh::new(&fit, settings).unwrap();
        assert!(!again.is_exact());
        let second: Vec<_> = again.by_ref().collect();
        assert_eq!(first, second);
        // Subsets with fewer than three studies cannot be fitted with two coefficients and τ².
        assert_eq!(first.len() + again.skipped(), 500);
        assert!(first.iter().all(|f| f.k > 2 && f.k <= k));
        let other: Vec<_> = Gosh::new(
            &fit,
            GoshSettings {
                seed: 8,
                ..settings
            },
        )
        .unwrap()
        .collect();
        assert_ne!(first, other);
    }
}

#[test]
fn the_last_cumulative_step_is_the_fit() {
    let case = Case::load("bcg_reml_knha");
    let fit = case.fit();
    let steps = cumulative(&fit, &by_year(&case.year)).unwrap();
    let last = steps.last().unwrap().as_ref().unwrap();
    let pooled = &fit.coefficients[0];
    assert_eq!(last.k, fit.k);
    assert!((last.estimate.estimate - pooled.estimate).abs() <= 1e-9 * pooled.estimate.abs());
    assert!((last.estimate.se - pooled.se).abs() <= 1e-9 * pooled.se);
    assert!((last.tau2 - fit.tau2().unwrap()).abs() <= 1e-9 * fit.tau2().unwrap());
    // The first step is one study, fitted with τ² = 0 and a z test, as metafor does.
    let first = steps[0].as_ref().unwrap();
    assert_eq!(
        (first.q, first.q_p, first.tau2, first.i2, first.h2),
        (0.0, 1.0, 0.0, 0.0, 1.0)
    );
}
