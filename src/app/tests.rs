//! Tests of the page state: defaults, the analysis request, the Model pane's formula edits,
//! new data and examples, and saved state of this and of the first release.

use std::collections::BTreeMap;

use super::*;
use crate::analysis::AnalysisError;
use crate::data::effect_size::{Measure, RawRole};
use crate::data::examples::{example, examples};
use crate::data::parse::parse;
use crate::stats::{Tau2Method, Test};

fn with_formula(formula: &str) -> PageState {
    let mut s = PageState::default();
    s.model.formula = formula.to_owned();
    s
}

#[test]
fn default_is_bcg_log_risk_ratios_intercept_only() {
    let s = PageState::default();
    assert_eq!(s.data.example.as_deref(), Some("bcg.csv"));
    assert_eq!(s.columns.measure, Some(Measure::Rr));
    assert_eq!(s.columns.raw[&RawRole::Ai], "tpos");
    assert_eq!(s.columns.raw[&RawRole::Di], "cneg");
    assert_eq!(s.columns.slab.as_deref(), Some("author"));
    assert_eq!(
        (s.model.formula.as_str(), s.model.method),
        ("", Tau2Method::Reml)
    );
    assert_eq!((s.model.test, s.model.level), (Test::Z, 95.0));
    let a = s.analyse().unwrap().analysis;
    // metafor: rma(measure = "RR", ai = tpos, ...) on dat.bcg, estimate -0.7145, tau^2 0.3132.
    assert!((a.summary.coefficients[0].estimate - -0.7145).abs() < 5e-5);
    assert!((a.summary.tau2 - 0.3132).abs() < 5e-5);
}

#[test]
fn spec_types_every_setting() {
    let mut s = with_formula("ablat");
    s.model.method = Tau2Method::Dl;
    s.model.test = Test::KnappHartung;
    s.model.level = 90.0;
    let spec = s.spec().unwrap();
    assert_eq!(spec.model.method, Tau2Method::Dl);
    assert_eq!(spec.model.test, Test::KnappHartung);
    assert!((spec.model.level - 0.9).abs() < 1e-15);
    assert_eq!(spec.measure, Some(Measure::Rr));
    assert_eq!(spec.columns.raw[&RawRole::Bi], "tneg");
    assert_eq!(spec.mods.as_deref(), Some("ablat"));
    // The page's prediction form starts at the held values: nothing typed yet.
    assert_eq!(spec.predict_at, Some(BTreeMap::new()));
    assert!(spec.predict_held);
}

#[test]
fn spec_passes_references_and_prediction_values_for_used_columns_only() {
    let mut s = with_formula("ablat + alloc");
    s.model.references = BTreeMap::from([
        ("alloc".into(), "random".into()),
        ("year".into(), "1950".into()),
    ]);
    s.model.predict_at = BTreeMap::from([("ablat".into(), "30".into())]);
    let spec = s.spec().unwrap();
    assert_eq!(spec.references.keys().collect::<Vec<_>>(), ["alloc"]);
    // A half-filled form predicts at the held value of the rest: alloc at its reference.
    let run = s.analyse().unwrap();
    let a = &run.analysis;
    let b: Vec<f64> = a.summary.coefficients.iter().map(|c| c.estimate).collect();
    let p = a.prediction.as_ref().unwrap();
    assert_eq!(p.at["alloc"], "random");
    assert!((p.estimate.pred - (b[0] + 30.0 * b[1])).abs() < 1e-12);
    s.model
        .predict_at
        .insert("alloc".into(), "systematic".into());
    s.model.predict_at.insert("year".into(), "1960".into());
    let at = s.spec().unwrap().predict_at.unwrap();
    assert_eq!(at.keys().collect::<Vec<_>>(), ["ablat", "alloc"]);
    let a = s.analyse().unwrap().analysis;
    assert_eq!(
        a.model.names,
        ["intrcpt", "ablat", "allocalternate", "allocsystematic"]
    );
    let p = a.fit_report().prediction.unwrap();
    assert!((p.pred - (b[0] + 30.0 * b[1] + b[3])).abs() < 1e-12);
}

#[test]
fn state_errors_are_sentences_naming_the_setting() {
    // Unknown names are refused when saved state is read (the settings are typed).
    let cases = [
        (r#"{"method": "BLUP"}"#, "unknown estimator \"BLUP\": expected one of FE, EE, DL, HE, HS, SJ, ML, REML, EB, PM"),
        (r#"{"test": "t"}"#, "unknown test \"t\": expected z or knha"),
        (r#"{"measure": "HR"}"#, "unknown effect-size measure \"HR\": expected one of OR, RR, RD, SMD, MD, ROM, ZCOR, COR, PLO, PR"),
        (r#"{"raw": {"events": "tpos"}}"#, "unknown raw-data role \"events\": expected one of ai, bi, ci, di, m1i, sd1i, n1i, m2i, sd2i, n2i, ri, ni, xi"),
    ];
    for (json, message) in cases {
        let e = PageState::from_json(json).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("the saved session cannot be read: {message}")),
            "{e}"
        );
    }
    let mut s = PageState::default();
    s.model.level = 100.0;
    assert_eq!(
        s.spec().unwrap_err().to_string(),
        "confidence level 100 %: expected a level between 0 and 100, such as 95"
    );
    s.model.level = f64::NAN;
    assert!(matches!(s.spec(), Err(StateError::InvalidLevel { .. })));
}

#[test]
fn analysis_errors_pass_through() {
    let s = with_formula("latitude");
    let e = s.analyse().unwrap_err();
    assert!(matches!(e, StateError::Analysis(AnalysisError::Formula(_))));
    assert!(e.to_string().contains("there is no column \"latitude\""));
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn terms_are_r_labels_and_empty_for_no_or_broken_formulas() {
    assert_eq!(with_formula("").model.terms(), Vec::<String>::new());
    assert_eq!(
        with_formula("ablat * year + factor(alloc)").model.terms(),
        ["ablat", "year", "factor(alloc)", "ablat:year"]
    );
    assert_eq!(with_formula("ablat +").model.terms(), Vec::<String>::new());
    assert_eq!(
        with_formula("`mean age` + I(ablat^2)").model.terms(),
        ["mean age", "I(ablat^2)"]
    );
}

#[test]
fn has_moderator_and_is_categorical() {
    let table = parse(PageState::default().data.text.as_str()).unwrap();
    let s = with_formula("ablat:year + factor(year)").model;
    assert!(!s.has_moderator("ablat"));
    assert!(s.has_moderator("year"));
    assert!(s.is_categorical("year", &table));
    assert!(!s.is_categorical("ablat", &table));
    // A text column is a factor however it is written.
    let d = PageState::default().model;
    assert!(d.is_categorical("alloc", &table));
    assert!(!d.is_categorical("nonexistent", &table));
}

#[test]
fn set_moderator_adds_switches_and_removes_with_interactions() {
    let mut s = PageState::default().model;
    s.set_moderator("ablat", true, false);
    assert_eq!(s.formula, "ablat");
    s.set_moderator("alloc", true, true);
    assert_eq!(s.formula, "ablat + factor(alloc)");
    s.set_moderator("alloc", true, false);
    assert_eq!(s.formula, "ablat + alloc");
    s.add_interaction("ablat", "year");
    assert_eq!(s.formula, "ablat + alloc + year + ablat:year");
    s.set_moderator("year", false, false);
    assert_eq!(s.formula, "ablat + alloc");
    s.set_moderator("ablat", false, false);
    s.set_moderator("alloc", false, false);
    assert_eq!(s.formula, "");
}

#[test]
fn edits_keep_the_typed_formula_unless_they_change_it() {
    let mut s = with_formula("ablat*year").model;
    s.set_moderator("ablat", true, false);
    s.add_interaction("year", "ablat");
    s.set_moderator("alloc", false, false);
    s.remove_term("nothing");
    assert_eq!(s.formula, "ablat*year");
    s.remove_term("ablat:year");
    assert_eq!(s.formula, "ablat + year");
}

#[test]
fn no_intercept_is_kept_as_written() {
    let mut s = with_formula("ablat - 1").model;
    s.set_moderator("year", true, false);
    assert_eq!(s.formula, "ablat + year - 1");
    let mut s = with_formula("~ 0 + factor(alloc)").model;
    s.set_moderator("ablat", true, false);
    assert_eq!(s.formula, "0 + factor(alloc) + ablat");
    // Removing the last term leaves the intercept-only model, the only fittable one.
    s.remove_term("ablat");
    s.remove_term("factor(alloc)");
    assert_eq!(s.formula, "");
}

#[test]
fn set_categorical_switches_every_use_and_forgets_the_reference() {
    let mut s = with_formula("year * ablat + I(year^2)").model;
    s.set_categorical("year", true);
    assert_eq!(
        s.formula,
        "factor(year) + ablat + I(year^2) + factor(year):ablat"
    );
    s.references.insert("year".into(), "1948".into());
    s.set_categorical("year", false);
    assert_eq!(s.formula, "year + ablat + I(year^2) + year:ablat");
    assert!(s.references.is_empty());
    // Nothing to switch, nothing forgotten: a text column keeps its reference.
    let mut s = with_formula("alloc").model;
    s.references.insert("alloc".into(), "random".into());
    s.set_moderator("alloc", true, false);
    assert_eq!(s.references["alloc"], "random");
}

#[test]
fn add_interaction_adds_missing_main_effects_in_their_coding() {
    let mut s = with_formula("factor(alloc)").model;
    s.add_interaction("ablat", "alloc");
    assert_eq!(s.formula, "factor(alloc) + ablat + ablat:factor(alloc)");
    // R names an interaction in the order its variables first appear in the formula.
    assert_eq!(s.terms(), ["factor(alloc)", "ablat", "factor(alloc):ablat"]);
    s.add_interaction("alloc", "ablat");
    s.add_interaction("ablat", "ablat");
    assert_eq!(s.formula, "factor(alloc) + ablat + ablat:factor(alloc)");
}

#[test]
fn odd_column_names_are_backticked_when_written() {
    let mut s = with_formula("`mean age`").model;
    s.add_interaction("mean age", "x:y");
    assert_eq!(s.formula, "`mean age` + `x:y` + `mean age`:`x:y`");
    assert_eq!(s.terms(), ["mean age", "x:y", "mean age:x:y"]);
    s.set_categorical("x:y", true);
    assert_eq!(
        s.formula,
        "`mean age` + factor(`x:y`) + `mean age`:factor(`x:y`)"
    );
}

#[test]
fn edits_leave_a_formula_that_does_not_parse_untouched() {
    for typed in ["ablat +", "log(ablat)", "(ablat", "`ablat"] {
        let mut s = with_formula(typed).model;
        s.set_moderator("ablat", true, false);
        s.set_moderator("ablat", false, false);
        s.set_categorical("ablat", true);
        s.add_interaction("ablat", "year");
        s.remove_term("ablat");
        assert_eq!(s.formula, typed);
        assert!(!s.has_moderator("ablat"));
    }
}

#[test]
fn load_text_drops_what_names_missing_columns_and_picks_a_measure() {
    let mut s = with_formula("ablat * year + alloc");
    s.model.references.insert("alloc".into(), "random".into());
    s.model.predict_at.insert("year".into(), "1950".into());
    s.averages.insert("ablat".into(), true);
    s.model.method = Tau2Method::Dl;
    let mut text = String::new();
    for line in s.data.text.lines() {
        let cells: Vec<&str> = line.split(',').collect();
        // Keep author and the 2×2 table and ablat, drop year and alloc.
        text += &format!("{}\n", [1, 3, 4, 5, 6, 7].map(|i| cells[i]).join(","));
    }
    s.load_text(text);
    assert_eq!(s.data.example, None);
    assert_eq!(s.model.formula, "ablat");
    assert!(s.model.references.is_empty() && s.model.predict_at.is_empty());
    assert_eq!(s.averages, BTreeMap::from([("ablat".into(), true)]));
    assert_eq!(
        (s.columns.measure, s.model.method),
        (Some(Measure::Rr), Tau2Method::Dl)
    );
    assert_eq!(s.columns.slab.as_deref(), Some("author"));
    s.analyse().unwrap();

    s.load_text("study,yi,vi,dose\nA,0.1,0.01,1\nB,0.3,0.02,2\nC,0.2,0.03,3\n".into());
    assert_eq!(
        (
            s.columns.measure,
            s.columns.slab.as_deref(),
            s.model.formula.as_str()
        ),
        (None, None, "")
    );
    assert!(s.columns.raw.is_empty());
    s.analyse().unwrap();

    s.load_text("id,m1i,sd1i,n1i,m2i,sd2i,n2i\n1,5,1,10,4,1,10\n2,6,2,20,5,2,20\n".into());
    assert_eq!(s.columns.measure, Some(Measure::Smd));

    // Not a table yet: only the text changes.
    let before = s.clone();
    s.load_text(String::new());
    let mut same = s.clone();
    same.data.text.clone_from(&before.data.text);
    assert_eq!(same, before);
}

#[test]
fn load_example_takes_its_suggestions_and_keeps_model_settings() {
    let mut s = PageState::default();
    s.model.test = Test::KnappHartung;
    s.model.references.insert("alloc".into(), "random".into());
    s.load_example(example("hackshaw1998.csv").unwrap());
    assert_eq!(s.data.example.as_deref(), Some("hackshaw1998.csv"));
    assert_eq!(
        (s.columns.yi.as_deref(), s.columns.vi.as_deref()),
        (Some("yi"), Some("vi"))
    );
    assert!(s.columns.raw.is_empty() && s.model.references.is_empty());
    assert_eq!(
        (s.columns.measure, s.model.formula.as_str(), s.model.test),
        (None, "design", Test::KnappHartung)
    );
}

#[test]
fn every_example_analyses_with_its_suggestions() {
    for e in examples() {
        let mut s = PageState::default();
        s.load_example(e);
        let a = s
            .analyse()
            .unwrap_or_else(|err| panic!("{}: {err}", e.file))
            .analysis;
        assert_eq!(a.summary.p > 1, e.mods.is_some(), "{}", e.file);
    }
}

#[test]
fn the_users_answer_overrides_the_guessed_study_level_average() {
    let mut s = PageState::default();
    assert!(s.is_average("mean age") && !s.is_average("ablat"));
    s.averages.insert("ablat".into(), true);
    s.averages.insert("mean age".into(), false);
    assert!(!s.is_average("mean age") && s.is_average("ablat"));
}

#[test]
fn json_round_trip_and_missing_fields_default() {
    let mut s = with_formula("ablat + factor(alloc)");
    s.model.references.insert("alloc".into(), "random".into());
    s.averages.insert("ablat".into(), false);
    assert_eq!(PageState::from_json(&s.to_json()).unwrap(), s);
    let old = PageState::from_json(r#"{"text":"yi,vi\n1,1\n","method":"DL"}"#).unwrap();
    assert_eq!(
        (old.data.text.as_str(), old.model.method),
        ("yi,vi\n1,1\n", Tau2Method::Dl)
    );
    assert_eq!(old.model.level, 95.0);
    let mut cleared = PageState::default();
    cleared.model.level = f64::NAN;
    assert_eq!(
        PageState::from_json(&cleared.to_json())
            .unwrap()
            .model
            .level,
        95.0
    );
    let e = PageState::from_json("{\"level\": \"high\"}").unwrap_err();
    assert!(e
        .to_string()
        .starts_with("the saved session cannot be read: invalid type"));
}

#[test]
fn state_saved_by_the_first_release_loads_into_typed_settings() {
    // What the first release wrote to local storage (and packed into share links): every
    // setting a string, under metafor's names, lower case where the user typed it.
    let json = r#"{"text":"study,yi,vi\nA,0.1,0.02\nB,0.3,0.04\nC,0.2,0.03\n","example":null,
        "slab":"study","yi":null,"vi":null,"sei":null,"raw":{"ai":"tpos","n1i":"n"},
        "measure":"RR","formula":"ablat","references":{"alloc":"random"},"method":"reml",
        "test":"knha","level":90.0,"predict_at":{"ablat":"30"},"averages":{"ablat":true}}"#;
    let s = PageState::from_json(json).unwrap();
    assert_eq!(s.model.method, Tau2Method::Reml);
    assert_eq!(s.model.test, Test::KnappHartung);
    assert_eq!(s.columns.measure, Some(Measure::Rr));
    assert_eq!(
        s.columns.raw,
        BTreeMap::from([(RawRole::Ai, "tpos".into()), (RawRole::N1i, "n".into())])
    );
    assert_eq!(s.columns.slab.as_deref(), Some("study"));
    assert_eq!((s.model.level, s.model.formula.as_str()), (90.0, "ablat"));
    assert_eq!(s.model.predict_at["ablat"], "30");
    assert!(s.averages["ablat"]);
    // And it is saved again under the same names, so links stay readable by either version.
    let saved: serde_json::Value = serde_json::from_str(&s.to_json()).unwrap();
    assert_eq!(
        (&saved["method"], &saved["test"], &saved["measure"]),
        (&"REML".into(), &"knha".into(), &"RR".into())
    );
    assert_eq!(saved["raw"]["ai"], "tpos");
}
