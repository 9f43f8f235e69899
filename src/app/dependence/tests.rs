//! The dependence settings: saved and restored under their names, old sessions load as the
//! independent analysis they were, the request they make, and the record the page gets for
//! it (through the engine's mailbox, as from a Web Worker) equal to metafor's and
//! clubSandwich's numbers for `dat.konstantopoulos2011`.

use serde_json::Value;

use super::*;
use crate::analysis::request::{Envelope, Input, Record, Request, Response};
use crate::analysis::session::Mailbox;
use crate::app::PageState;
use crate::data::examples::example;
use crate::data::report::FitReport;

/// metafor 3.8.1 `rma.mv(yi, vi, random = ~ 1 | district/study)` (REML) and clubSandwich
/// 0.5.8 CR2 by district, written by tests/r/make_multilevel_fixtures.R.
const FIXTURE: &str = include_str!("../../../tests/fixtures/multilevel/konstantopoulos_reml.json");
/// Converged estimates agree to this relative error (the fixtures' tolerance).
const RTOL: f64 = 1e-6;

fn close(actual: f64, expected: &Value, what: &str) {
    let expected = expected.as_f64().expect("a number in the fixture");
    let scale = expected.abs().max(1e-12);
    assert!(
        (actual - expected).abs() / scale < RTOL,
        "{what}: {actual} vs {expected}"
    );
}

/// The example with studies clustered by district, each study one effect.
fn konstantopoulos(within: Within, robust: Robust) -> PageState {
    let mut s = PageState::default();
    s.load_example(example("konstantopoulos2011.csv").expect("bundled"));
    s.columns.cluster = Some("district".into());
    s.columns.effect_id = Some("study".into());
    s.model.dependence = DependenceState {
        within,
        robust,
        ..DependenceState::default()
    };
    s
}

fn check_against_metafor(report: &FitReport) {
    let f: Value = serde_json::from_str(FIXTURE).expect("fixture");
    let (result, cr2) = (&f["result"], &f["robust"]["cr2"]);
    assert_eq!(report.model, "rma.mv");
    let sigma2 = report.sigma2.as_ref().expect("σ² components");
    for (j, s) in sigma2.iter().enumerate() {
        assert_eq!(s.name, result["sigma2_names"][j]);
        assert_eq!(s.nlvls as u64, result["sigma2_nlvls"][j].as_u64().unwrap());
        close(s.estimate, &result["sigma2"][j], &s.name);
        close(s.ci_lower.unwrap(), &result["sigma2_ci"][j][0], "σ² lower");
        close(s.ci_upper.unwrap(), &result["sigma2_ci"][j][1], "σ² upper");
    }
    close(
        report.coefficients[0].se,
        &result["se"][0],
        "model-based SE",
    );
    let robust = report.robust.as_ref().expect("robust results");
    assert_eq!((robust.kind.as_str(), robust.clusters), ("CR2", 11));
    close(robust.coefficients[0].se, &cr2["se"][0], "CR2 SE");
    close(robust.coefficients[0].df, &cr2["df"][0], "CR2 df");
    close(robust.coefficients[0].p_value, &cr2["p_value"][0], "CR2 p");
}

#[test]
fn sessions_saved_before_it_load_as_independent_effects() {
    let old = PageState::from_json(r#"{"text":"yi,vi\n1,1\n2,1\n","method":"ML"}"#).unwrap();
    assert_eq!(old.model.dependence, DependenceState::default());
    assert_eq!(
        (&old.columns.cluster, &old.columns.effect_id),
        (&None, &None)
    );
    let spec = old.spec().unwrap();
    assert!(!spec.dependence.is_active());
    // And a session that does not use them saves as before.
    let saved: Value = serde_json::from_str(&PageState::default().to_json()).unwrap();
    for key in ["cluster", "effect_id", "dependence"] {
        assert!(saved.get(key).is_none(), "{key}");
    }
}

#[test]
fn settings_round_trip_under_their_names() {
    let mut s = konstantopoulos(Within::Multilevel, Robust::Cr1);
    s.model.dependence.rho = Some(0.6);
    let json: Value = serde_json::from_str(&s.to_json()).unwrap();
    assert_eq!(json["cluster"], "district");
    assert_eq!(json["effect_id"], "study");
    assert_eq!(
        json["dependence"],
        serde_json::json!({"within": "multilevel", "rho": 0.6, "robust": "CR1"})
    );
    assert_eq!(PageState::from_json(&s.to_json()).unwrap(), s);
    assert_eq!(PageState::from_fragment(&s.to_fragment()).unwrap(), s);
    let e = PageState::from_json(r#"{"dependence": {"robust": "CR9"}}"#).unwrap_err();
    assert!(e.to_string().contains("CR9"), "{e}");
}

#[test]
fn the_request_names_the_cluster_columns() {
    let mut s = konstantopoulos(Within::Multilevel, Robust::Cr2);
    s.model.dependence.rho = Some(0.5);
    let dep = s.spec().unwrap().dependence;
    assert_eq!(
        dep.random,
        vec![RandomTerm {
            inner: None,
            outer: vec!["district".into(), "study".into()]
        }]
    );
    assert_eq!(dep.rho, Some((0.5, "district".into())));
    assert_eq!(
        (dep.robust.as_deref(), dep.robust_type),
        (Some("district"), RobustType::Cr2)
    );
    let off = konstantopoulos(Within::Independent, Robust::Off)
        .spec()
        .unwrap();
    assert!(!off.dependence.is_active());
    let cr1 = konstantopoulos(Within::Independent, Robust::Cr1)
        .spec()
        .unwrap();
    assert_eq!(cr1.dependence.random, Vec::new());
    assert_eq!(cr1.dependence.robust_type, RobustType::Cr1);
    let mut no_id = konstantopoulos(Within::Multilevel, Robust::Cr2);
    no_id.columns.effect_id = None;
    assert_eq!(no_id.spec().unwrap_err(), StateError::NoEffectId);
    // Without a cluster column nothing of it applies, whatever is set.
    no_id.columns.cluster = None;
    assert!(!no_id.spec().unwrap().dependence.is_active());
}

#[test]
fn new_data_without_the_cluster_columns_forget_them() {
    let mut s = konstantopoulos(Within::Multilevel, Robust::Cr2);
    s.load_text("yi,vi,study\n1,1,a\n2,1,b\n".into());
    assert_eq!(
        (s.columns.cluster, s.columns.effect_id.as_deref()),
        (None, Some("study"))
    );
}

#[test]
fn the_three_level_model_equals_metafor_in_a_row_and_through_the_mailbox() {
    let s = konstantopoulos(Within::Multilevel, Robust::Cr2);
    let run = s.analyse().unwrap();
    let report = run
        .analysis
        .dependent_report()
        .expect("the dependent record");
    check_against_metafor(report);
    // The rma.uni results stay those of independent effects.
    assert_eq!(run.analysis.report.model, "rma.uni");

    let mut mailbox = Mailbox::new(|| 0.0);
    let input = Input {
        text: s.data.text.clone(),
        text_id: None,
        spec: s.spec().unwrap(),
    };
    mailbox.receive(Envelope {
        id: 1,
        body: Request::Analyse { input },
    });
    let Some(Envelope {
        body: Response::Record { record, stages },
        ..
    }) = mailbox.work(1)
    else {
        panic!("an analysis record");
    };
    assert!(stages.iter().any(|t| t.name == "multilevel"));
    let Record::Analysis { analysis, .. } = *record else {
        panic!("an analysis record");
    };
    // Through JSON, as a Web Worker posts it.
    let json = serde_json::to_string(&analysis).unwrap();
    let analysis: crate::analysis::Analysis = serde_json::from_str(&json).unwrap();
    check_against_metafor(analysis.dependent_report().expect("the dependent record"));
}

#[test]
fn a_failed_dependent_fit_is_a_sentence_beside_the_rma_uni_results() {
    let mut s = konstantopoulos(Within::Multilevel, Robust::Cr2);
    s.model.dependence.rho = Some(1.5);
    let run = s.analyse().unwrap();
    let message = run.analysis.dependent.clone().unwrap().unwrap_err();
    assert!(!message.is_empty());
    assert_eq!(run.analysis.summary.k, 56);
}

#[test]
fn nesting_columns_add_levels_above_the_study_and_robust_inference_takes_the_top_one() {
    let state = DependenceState {
        within: Within::Multilevel,
        nested_in: vec!["region".into(), "district".into()],
        ..DependenceState::default()
    };
    let dep = state
        .dependence(Some("study"), Some("es"))
        .expect("a model");
    // metafor's ~ 1 | region/district/study/es: four σ² levels from one term.
    assert_eq!(
        dep.random,
        vec![RandomTerm {
            inner: None,
            outer: vec![
                "region".into(),
                "district".into(),
                "study".into(),
                "es".into()
            ],
        }]
    );
    assert_eq!(dep.structure, None);
    assert_eq!(dep.robust.as_deref(), Some("region"));
}

#[test]
fn a_multivariate_model_needs_its_outcome_column_and_defaults_to_un() {
    let mut state = DependenceState {
        within: Within::Multivariate,
        ..DependenceState::default()
    };
    assert_eq!(
        state.dependence(Some("trial"), None),
        Err(StateError::NoOutcome)
    );
    state.outcome = Some("outcome".into());
    let dep = state.dependence(Some("trial"), None).expect("a model");
    assert_eq!(
        dep.random,
        vec![RandomTerm {
            inner: Some("outcome".into()),
            outer: vec!["trial".into()],
        }]
    );
    assert_eq!(dep.structure, Some(Structure::Un));
    assert_eq!(dep.robust.as_deref(), Some("trial"));
    state.structure = Some(Structure::Cs);
    let saved = serde_json::to_string(&state).expect("JSON");
    assert!(saved.contains("\"structure\":\"CS\""), "{saved}");
    let back: DependenceState = serde_json::from_str(&saved).expect("read back");
    assert_eq!(back, state);
}

/// metafor 3.8.1 `rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/study, test = "t")`:
/// `weights()` and `predict()` at 1976, 1988 and 2000.
const YEAR_T: &str = include_str!("../../../tests/fixtures/multilevel/konstantopoulos_year_t.json");

#[test]
fn the_bubble_plot_draws_the_multilevel_fit_with_its_weights() {
    let mut s = konstantopoulos(Within::Multilevel, Robust::Off);
    s.model.formula = "year".into();
    s.model.test = crate::stats::Test::KnappHartung;
    let f: Value = serde_json::from_str(YEAR_T).expect("fixture");
    let mut mailbox = Mailbox::new(|| 0.0);
    let input = Input {
        text: s.data.text.clone(),
        text_id: None,
        spec: s.spec().unwrap(),
    };
    mailbox.receive(Envelope {
        id: 1,
        body: Request::Curve {
            input,
            column: "year".into(),
        },
    });
    let Some(Envelope {
        body: Response::Record { record, .. },
        ..
    }) = mailbox.work(1)
    else {
        panic!("a curve record");
    };
    let Record::Curve {
        curve:
            crate::analysis::moderator::ModeratorCurve::Line {
                grid,
                caption,
                weights,
                ..
            },
    } = *record
    else {
        panic!("a fitted line");
    };
    assert!(
        caption.starts_with("Multilevel model (rma.mv)"),
        "{caption}"
    );
    // The grid spans 1976–2000 in 60 steps: 1976, 1988 and 2000 are its points 0, 30, 60.
    let curve = &f["curve"];
    for (j, i) in [0, 30, 60].into_iter().enumerate() {
        let (year, e) = &grid[i];
        close(*year, &curve["at"][j], "year");
        close(e.pred, &curve["pred"][j], "pred");
        close(e.se, &curve["se"][j], "se");
        close(e.ci_lower, &curve["ci_lower"][j], "ci.lb");
        close(e.ci_upper, &curve["ci_upper"][j], "ci.ub");
        close(e.pi_lower, &curve["pi_lower"][j], "pi.lb");
        close(e.pi_upper, &curve["pi_upper"][j], "pi.ub");
    }
    let weights = weights.expect("the multilevel fit's weights");
    assert_eq!(weights.len(), 56);
    for (i, w) in weights.iter().enumerate() {
        close(*w, &f["result"]["weights"][i], "weight");
    }
}

#[test]
fn the_profile_plot_of_a_multilevel_model_profiles_each_sigma2() {
    let s = konstantopoulos(Within::Multilevel, Robust::Off);
    let f: Value = serde_json::from_str(FIXTURE).expect("fixture");
    let result = &f["result"];
    let mut mailbox = Mailbox::new(|| 0.0);
    mailbox.receive(Envelope {
        id: 1,
        body: Request::Profile {
            input: Input {
                text: s.data.text.clone(),
                text_id: None,
                spec: s.spec().unwrap(),
            },
        },
    });
    // A long request: all of it in one slice.
    let Some(Envelope {
        body: Response::Record { record, .. },
        ..
    }) = mailbox.work(usize::MAX)
    else {
        panic!("a profile record");
    };
    let Record::ComponentProfiles { profiles } = *record else {
        panic!("the σ² profiles");
    };
    assert_eq!(profiles.len(), 2);
    // χ²₁(0.95) / 2 = 1.920729 below the maximum (R: qchisq(0.95, 1) / 2).
    for (j, p) in profiles.iter().enumerate() {
        assert_eq!(p.name, result["sigma2_names"][j]);
        assert!((p.max_log_likelihood - p.threshold - 1.920_729_4).abs() < 1e-6);
        close(p.max_log_likelihood, &result["log_likelihood"], "maximum");
        close(p.profile_likelihood.estimate, &result["sigma2"][j], "σ̂²");
        close(
            p.profile_likelihood.lower,
            &result["sigma2_ci"][j][0],
            "lower",
        );
        close(
            p.profile_likelihood.upper,
            &result["sigma2_ci"][j][1],
            "upper",
        );
        // The curve peaks at σ̂² and crosses the threshold at metafor's bounds.
        let at = |x: f64| {
            let i = p.sigma2.iter().position(|s| *s == x).expect("a grid point");
            p.log_likelihood[i]
        };
        let peak = at(p.profile_likelihood.estimate);
        assert!((peak - p.max_log_likelihood).abs() < 1e-8, "{peak}");
        for bound in [p.profile_likelihood.lower, p.profile_likelihood.upper] {
            assert!((at(bound) - p.threshold).abs() < 1e-6, "{}", at(bound));
        }
        assert!(p.log_likelihood.iter().all(|l| *l <= peak + 1e-9));
        assert!(p.sigma2.windows(2).all(|w| w[0] < w[1]));
    }
}
