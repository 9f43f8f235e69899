//! Issue 13 in the engine: the profile likelihood of τ² and its interval, the location-scale
//! model's α covariance, fit statistics and τ² predictions (metafor 3.8.1 fixtures from
//! `tests/r/make_models_fixtures.R`), the typed errors of model comparisons and contrasts, and
//! properties (a unit contrast is the coefficient's test; a fit at its own τ² is the fit).

use meridian::analysis::{analyse, AnalysisSpec, Run};
use meridian::data::effect_size::{Measure, RawRole};
use meridian::data::roles::Roles;
use meridian::stats::{likelihood_ratio, ModelSpec, StatsError, Tau2Method, Test};
use serde_json::Value;

/// Agreement with metafor, whose fits here converged to 1e-10 or better.
const REL: f64 = 1e-8;
/// Location-scale models: metafor's α is about 3e-7 (relative) from the optimum.
const LS_REL: f64 = 5e-6;
/// Profile-likelihood bounds: metafor's own root search stops at its tolerance.
const PL_REL: f64 = 1e-6;
/// Identities that hold up to rounding.
const EXACT: f64 = 1e-10;

fn close(what: &str, ours: f64, theirs: f64, rel: f64) {
    assert!(
        (ours - theirs).abs() <= rel * theirs.abs().max(1e-300) + 1e-12,
        "{what}: ours {ours}, metafor {theirs}"
    );
}

fn cases(file: &str) -> Vec<Value> {
    let path = format!(
        "{}/tests/fixtures/models/{file}",
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

/// BCG's risk ratios from the counts, as the fixtures compute them.
fn bcg_spec(mods: Option<&str>, method: Tau2Method, test: Test) -> AnalysisSpec {
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
        mods: mods.map(str::to_owned),
        model: ModelSpec {
            method,
            test,
            ..ModelSpec::default()
        },
        ..AnalysisSpec::default()
    }
}

fn run(csv: &str, spec: &AnalysisSpec) -> Run {
    analyse(csv, spec).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn profile_likelihood_of_tau2_matches_metafor_profile_and_pl_interval() {
    for case in cases("profile.json") {
        let name = case["name"].as_str().unwrap();
        let mods = case["mods"].as_str().unwrap();
        let method = Tau2Method::from_metafor_name(case["method"].as_str().unwrap()).unwrap();
        let spec = bcg_spec((mods != "1").then_some(mods), method, Test::Z);
        let r = run(case["csv"].as_str().unwrap(), &spec);
        let e = &case["expected"];
        let grid = numbers(&e["grid"]);
        let profile = r.fitted.fit.profile_tau2(&grid, 0).unwrap();
        for (point, ll) in profile.points.iter().zip(numbers(&e["ll"])) {
            close(
                &format!("{name} ll({})", point.tau2),
                point.log_likelihood,
                ll,
                REL,
            );
        }
        close(
            &format!("{name} τ²"),
            profile.maximum.tau2,
            e["tau2"].as_f64().unwrap(),
            REL,
        );
        let pl = numbers(&e["profile_likelihood"]);
        close(
            &format!("{name} PL lower"),
            profile.interval.lower,
            pl[0],
            PL_REL,
        );
        close(
            &format!("{name} PL upper"),
            profile.interval.upper,
            pl[1],
            PL_REL,
        );
        let qp = numbers(&e["q_profile"]);
        let ci = r.fitted.fit.confint_tau2(0.95).unwrap();
        close(&format!("{name} QP lower"), ci.tau2.lower, qp[0], PL_REL);
        // The default grid spans the interval and peaks at τ̂².
        let default = r.fitted.fit.profile_tau2(&[], 25).unwrap();
        assert_eq!(default.points.len(), 25);
        assert!(default
            .points
            .iter()
            .all(|p| p.log_likelihood <= profile.maximum.log_likelihood + EXACT));
    }
}

#[test]
fn location_scale_alpha_covariance_statistics_and_tau2_predictions_match_metafor() {
    for case in cases("location_scale.json") {
        let name = case["name"].as_str().unwrap();
        let e = &case["expected"];
        let method = Tau2Method::from_metafor_name(e["method"].as_str().unwrap()).unwrap();
        let spec = AnalysisSpec {
            mods: Some("ni100".into()),
            scale: Some("ni100".into()),
            model: ModelSpec {
                method,
                ..ModelSpec::default()
            },
            ..AnalysisSpec::default()
        };
        let csv = case["csv"].as_str().unwrap();
        let table = meridian::analysis::stages::table(csv).unwrap();
        let r = run(csv, &spec);
        let data = &r.analysis.data.studies;
        let formula = meridian::data::formula::Formula::parse("ni100").unwrap();
        let z = formula
            .encode(&table, &data.rows, &Default::default())
            .unwrap()
            .design;
        let ls = ModelSpec {
            method,
            ..ModelSpec::default()
        }
        .check()
        .unwrap()
        .fit_location_scale(&data.yi, &data.vi, &r.model.design, &z)
        .unwrap();
        let va = e["vcov_alpha"].as_array().unwrap();
        for (i, row) in va.iter().enumerate() {
            for (j, v) in numbers(row).into_iter().enumerate() {
                close(
                    &format!("{name} va[{i},{j}]"),
                    ls.scale.vcov[(i, j)],
                    v,
                    LS_REL,
                );
            }
        }
        let s = &ls.fit.fit_statistics;
        close(
            &format!("{name} deviance"),
            s.deviance,
            e["deviance"].as_f64().unwrap(),
            LS_REL,
        );
        close(
            &format!("{name} AICc"),
            s.aicc,
            e["aicc"].as_f64().unwrap(),
            LS_REL,
        );
        let pred = &e["tau2_predicted"];
        let at = numbers(&pred["ni100"]);
        for (i, x) in at.iter().enumerate() {
            let p = ls.scale.predict_tau2(&[1.0, *x]).unwrap();
            close(
                &format!("{name} τ²({x})"),
                p.estimate,
                numbers(&pred["tau2"])[i],
                LS_REL,
            );
            close(
                &format!("{name} τ²({x}) lower"),
                p.lower,
                numbers(&pred["ci_lower"])[i],
                LS_REL,
            );
            close(
                &format!("{name} τ²({x}) upper"),
                p.upper,
                numbers(&pred["ci_upper"])[i],
                LS_REL,
            );
        }
        // The location part has a τ² per study and no single τ².
        assert!(ls.fit.tau2().is_none());
        assert_eq!(ls.fit.estimated_parameters(), 4);
    }
}

#[test]
fn a_location_scale_model_needs_a_likelihood() {
    let case = &cases("location_scale.json")[0];
    let spec = AnalysisSpec {
        mods: Some("ni100".into()),
        scale: Some("ni100".into()),
        model: ModelSpec {
            method: Tau2Method::Dl,
            ..ModelSpec::default()
        },
        ..AnalysisSpec::default()
    };
    let err = analyse(case["csv"].as_str().unwrap(), &spec).unwrap_err();
    assert!(
        err.to_string().contains("maximum likelihood, not DL"),
        "{err}"
    );
}

#[test]
fn comparisons_refuse_non_nested_models_and_reml_fits_with_other_moderators() {
    let csv = cases("anova.json")[0]["csv"].as_str().unwrap().to_owned();
    let fit = |mods: Option<&str>, method| {
        run(&csv, &bcg_spec(mods, method, Test::Z))
            .fitted
            .fit
            .clone()
    };
    let ablat = fit(Some("ablat"), Tau2Method::Ml);
    let year = fit(Some("year"), Tau2Method::Ml);
    assert_eq!(
        likelihood_ratio(&ablat, &year).unwrap_err(),
        StatsError::NotNested {
            column: "year".into()
        }
    );
    let both_reml = fit(Some("ablat + year"), Tau2Method::Reml);
    let ablat_reml = fit(Some("ablat"), Tau2Method::Reml);
    assert_eq!(
        likelihood_ratio(&both_reml, &ablat_reml).unwrap_err(),
        StatsError::RemlFixedEffectsDiffer
    );
    assert!(matches!(
        likelihood_ratio(&both_reml, &ablat).unwrap_err(),
        StatsError::NoCommonLikelihood { .. }
    ));
    assert!(matches!(
        likelihood_ratio(&ablat, &ablat).unwrap_err(),
        StatsError::NotFewerParameters {
            full: 3,
            reduced: 3
        }
    ));
    // The same comparison from the other side is refused, not reported with a negative LRT.
    let pooled = fit(None, Tau2Method::Ml);
    assert!(likelihood_ratio(&pooled, &ablat).is_err());
    let c = likelihood_ratio(&ablat, &pooled).unwrap();
    assert_eq!((c.df, c.full.df, c.reduced.df), (1, 3, 2));
}

#[test]
fn a_unit_contrast_is_the_coefficients_own_test_and_dependent_rows_are_refused() {
    let csv = cases("contrasts.json")[0]["csv"]
        .as_str()
        .unwrap()
        .to_owned();
    for test in [Test::Z, Test::KnappHartung] {
        let r = run(
            &csv,
            &bcg_spec(Some("factor(alloc)"), Tau2Method::Reml, test),
        );
        let f = &r.fitted.fit;
        let h = f.linear_hypotheses(&[vec![0.0, 1.0, 0.0]]).unwrap();
        let c = &f.coefficients[1];
        close("estimate", h.rows[0].estimate, c.estimate, EXACT);
        close("se", h.rows[0].se, c.se, EXACT);
        close("p", h.rows[0].p_value, c.p_value, EXACT);
        close("ci", h.rows[0].ci_lower, c.ci_lower, EXACT);
        // The joint test of the two dummies is the omnibus test of the factor.
        let both = f
            .linear_hypotheses(&[vec![0.0, 1.0, 0.0], vec![0.0, 0.0, 1.0]])
            .unwrap();
        let qm = f.moderators.as_ref().unwrap();
        close("joint", both.joint.statistic, qm.statistic, EXACT);
        assert_eq!(both.joint.df2, qm.df2);
        assert_eq!(
            f.linear_hypotheses(&[vec![0.0, 1.0, -1.0], vec![0.0, 2.0, -2.0]])
                .unwrap_err(),
            StatsError::DependentContrasts { rows: 2 }
        );
        assert_eq!(
            f.linear_hypotheses(&[vec![0.0, 1.0]]).unwrap_err(),
            StatsError::InvalidContrast {
                row: 0,
                expected: 3,
                got: 2
            }
        );
    }
}

#[test]
fn a_fit_at_its_own_tau2_reproduces_the_fit_but_estimates_one_parameter_less() {
    let csv = cases("anova.json")[0]["csv"].as_str().unwrap().to_owned();
    let r = run(&csv, &bcg_spec(Some("ablat"), Tau2Method::Reml, Test::Z));
    let f = &r.fitted.fit;
    let at = f
        .valid_spec()
        .fit_at_tau2(f.yi(), f.vi(), &r.model.design, f.tau2().unwrap())
        .unwrap();
    for (a, b) in at.coefficients.iter().zip(&f.coefficients) {
        close("estimate", a.estimate, b.estimate, EXACT);
        close("se", a.se, b.se, EXACT);
    }
    close(
        "loglik",
        at.fit_statistics.loglik,
        f.fit_statistics.loglik,
        EXACT,
    );
    assert_eq!(at.estimated_parameters() + 1, f.estimated_parameters());
    assert_eq!(at.tau2_se(), None);
}
