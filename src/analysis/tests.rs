//! Tests of the pipeline run in a row: guesses and choices, prediction, errors of each stage,
//! rows left out, and the record's round trip through serde.

use std::collections::BTreeMap;

use super::*;
use crate::data::effect_size::{Measure, RawRole};
use crate::data::formula::FormulaError;
use crate::data::parse::ParseError;
use crate::data::roles::{Exclusion, Roles, RolesError};

const CSV: &str = "study,yi,sei,vi,g\nA,0.1,0.2,0.01,a\nB,0.5,0.1,0.04,b\nC,0.3,0.3,0.09,a\nD,-0.1,0.2,0.16,b\nE,NA,0.1,0.01,a\n";

fn run(text: &str, spec: &AnalysisSpec) -> Analysis {
    analyse(text, spec).expect("analyses").analysis
}

#[test]
fn guesses_are_used_and_choices_override_them() {
    let a = run(CSV, &AnalysisSpec::default());
    assert_eq!(a.studies().vi, [0.01, 0.04, 0.09, 0.16]);
    assert_eq!(a.fit_report().excluded_rows, [5]);
    let spec = AnalysisSpec {
        columns: Roles {
            sei: Some("sei".into()),
            ..Roles::default()
        },
        ..AnalysisSpec::default()
    };
    let a = run(CSV, &spec);
    // sei² replaces the guessed vi column.
    assert!((a.studies().vi[0] - 0.04).abs() < 1e-15);
    assert_eq!(a.data.roles.vi, None);
}

#[test]
fn moderators_prediction_and_references() {
    let spec = AnalysisSpec {
        mods: Some("g".into()),
        references: BTreeMap::from([("g".into(), "b".into())]),
        predict_at: Some(BTreeMap::from([("g".into(), "a".into())])),
        ..AnalysisSpec::default()
    };
    let r = analyse(CSV, &spec).unwrap();
    let a = &r.analysis;
    assert_eq!(a.model.names, ["intrcpt", "ga"]);
    let p = a.prediction.as_ref().unwrap();
    let b = &a.summary.coefficients;
    assert!((p.estimate.pred - (b[0].estimate + b[1].estimate)).abs() < 1e-12);
    assert_eq!(p.x0, [1.0, 1.0]);
    assert!(a.fit_report().tau2_ci.is_some());
    // The same prediction from the numerical core's own fit.
    let own = r.fitted.fit.predict(&[1.0, 1.0]).unwrap();
    assert_eq!(p.estimate, (&own).into());
}

#[test]
fn error_prediction_without_moderators() {
    let spec = AnalysisSpec {
        predict_at: Some(BTreeMap::from([("g".into(), "a".into())])),
        ..AnalysisSpec::default()
    };
    let e = analyse(CSV, &spec).unwrap_err();
    assert_eq!(
        e,
        AnalysisError::PredictionWithoutModerators {
            columns: vec!["g".into()]
        }
    );
}

#[test]
fn error_from_the_engine_names_the_row_in_the_file() {
    // 1/x at x = 0 is an infinite moderator value in row 3 (the second row is left out).
    let spec = AnalysisSpec {
        mods: Some("I(x^-1)".into()),
        ..AnalysisSpec::default()
    };
    let e = analyse(
        "yi,vi,x\n0.1,0.01,1\nNA,0.1,2\n0.3,0.02,0\n0.2,0.02,4\n0.4,0.03,5\n",
        &spec,
    )
    .unwrap_err();
    assert!(matches!(
        e,
        AnalysisError::Stats {
            line: Some(4),
            row: Some(3),
            ..
        }
    ));
    assert!(e.to_string().starts_with("line 4 (data row 3): "));
}

#[test]
fn a_row_with_a_zero_variance_is_left_out_and_the_rest_analysed() {
    // metafor leaves a study with vi = 0 out of rma(); so does Meridian, saying why.
    let a = run(
        "yi,vi\n0.1,0.01\nNA,0.1\n0.3,0\n0.2,0.02\n",
        &AnalysisSpec::default(),
    );
    assert_eq!(a.summary.k, 2);
    let report = a.fit_report();
    assert_eq!(report.excluded_rows, [2, 3]);
    assert_eq!(
        report.excluded[1].reason,
        "column \"vi\" is 0: expected a sampling variance or standard error above zero"
    );
    assert!(matches!(
        a.studies().excluded[1].reason,
        Exclusion::Variance { .. }
    ));
}

#[test]
fn errors_of_each_layer_pass_through() {
    assert!(matches!(
        analyse("", &AnalysisSpec::default()),
        Err(AnalysisError::Parse(ParseError::Empty))
    ));
    let spec = AnalysisSpec {
        measure: Some(Measure::Or),
        ..AnalysisSpec::default()
    };
    assert!(matches!(
        analyse(CSV, &spec),
        Err(AnalysisError::Roles(RolesError::MissingRawColumn {
            role: RawRole::Ai,
            ..
        }))
    ));
    let spec = AnalysisSpec {
        mods: Some("h".into()),
        ..AnalysisSpec::default()
    };
    let e = analyse(CSV, &spec).unwrap_err();
    assert!(matches!(
        e,
        AnalysisError::Formula(FormulaError::UnknownColumn { .. })
    ));
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn a_factor_with_one_level_among_the_studies_is_refused_naming_the_column() {
    // Issue 10: "g" has one level once row E (no yi) is left out… here every study is "a".
    let text = "yi,vi,g,x\n0.1,0.01,a,1\n0.5,0.04,a,2\n0.3,0.09,a,3\n-0.1,0.16,a,4\n";
    let spec = AnalysisSpec {
        mods: Some("x + factor(g)".into()),
        ..AnalysisSpec::default()
    };
    let e = analyse(text, &spec).unwrap_err();
    assert!(matches!(
        e,
        AnalysisError::Formula(FormulaError::SingleLevel { ref column, studies: 4, .. }) if column == "g"
    ));
    assert!(e
        .to_string()
        .contains("column \"g\" has a single level (\"a\")"));
}

#[test]
fn the_record_survives_a_trip_through_json() {
    // What a Web Worker would post to the page, and what the page would read back.
    let spec = AnalysisSpec {
        mods: Some("g".into()),
        predict_at: Some(BTreeMap::from([("g".into(), "b".into())])),
        ..AnalysisSpec::default()
    };
    let a = run(CSV, &spec);
    let json = serde_json::to_string(&a).unwrap();
    let back: Analysis = serde_json::from_str(&json).unwrap();
    assert_eq!(back, a);
    let request: AnalysisSpec =
        serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
    assert_eq!(request, spec);
}

#[test]
fn a_row_left_out_is_as_if_it_were_not_in_the_file() {
    // BCG's third trial with a negative count (escalc cannot use it) fits as BCG without it:
    // metafor's rma() omits such a study, so its numbers are those of the twelve others.
    let bcg = include_str!("../../assets/examples/bcg.csv");
    let lines: Vec<&str> = bcg.lines().collect();
    let spoiled: String = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 3 {
                let cells: Vec<&str> = l.split(',').collect();
                let mut cells: Vec<String> = cells.iter().map(|c| (*c).to_owned()).collect();
                cells[3] = "-1".into();
                cells.join(",") + "\n"
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let without: String = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let spec = bcg_rr_ablat();
    let left_out = run(&spoiled, &spec);
    let absent = run(&without, &spec);
    assert_eq!(left_out.summary.k, 12);
    assert_eq!(left_out.studies().excluded[0].row, 3);
    assert_eq!(left_out.summary.coefficients, absent.summary.coefficients);
    assert_eq!(left_out.summary.tau2, absent.summary.tau2);
    assert_eq!(left_out.summary.intervals, absent.summary.intervals);
}

/// BCG's log risk ratios from the 2×2 tables, with latitude as moderator (REML, z).
fn bcg_rr_ablat() -> AnalysisSpec {
    AnalysisSpec {
        measure: Some(Measure::Rr),
        columns: Roles {
            raw: [
                (RawRole::Ai, "tpos"),
                (RawRole::Bi, "tneg"),
                (RawRole::Ci, "cpos"),
                (RawRole::Di, "cneg"),
            ]
            .map(|(r, c)| (r, c.to_owned()))
            .into(),
            ..Roles::default()
        },
        mods: Some("ablat".into()),
        ..AnalysisSpec::default()
    }
}

#[test]
fn a_study_left_out_by_choice_gives_metafors_refit_without_it() {
    // metafor 3.8.1, rma(yi, vi, mods = ~ ablat, subset = -7) of the BCG log risk ratios
    // (tests/r/make_sensitivity_fixtures.R, "leave1out"; the 7th trial has the largest Cook's
    // distance). REML refits are iterative: 1e-5 relative, as the fixtures' other refits.
    let fixture: serde_json::Value = serde_json::from_str(include_str!(
        "../../tests/fixtures/sensitivity/bcg_ablat_reml_z.json"
    ))
    .unwrap();
    let theirs = &fixture["leave1out"][6];
    let close = |ours: f64, theirs: &serde_json::Value, what: &str| {
        let theirs = theirs.as_f64().unwrap();
        assert!(
            ((ours - theirs) / theirs).abs() < 1e-5,
            "{what}: {ours} vs metafor {theirs}"
        );
    };
    let bcg = include_str!("../../assets/examples/bcg.csv");
    let spec = AnalysisSpec {
        without: Some(6),
        ..bcg_rr_ablat()
    };
    let a = run(bcg, &spec);
    assert_eq!(a.summary.k, 12);
    let report = a.fit_report();
    close(report.tau2, &theirs["tau2"], "τ²");
    close(report.r2.unwrap(), &theirs["r2"], "R²");
    for (j, c) in report.coefficients.iter().enumerate() {
        close(c.estimate, &theirs["coefficients"][j]["estimate"], &c.name);
        close(c.se, &theirs["coefficients"][j]["se"], &c.name);
    }
    // The study is listed among the rows left out, with the reason, and nothing else is.
    assert_eq!(report.excluded_rows, [7]);
    assert_eq!(a.studies().excluded[0].reason, Exclusion::Chosen);
    assert!(!a
        .studies()
        .labels
        .iter()
        .any(|l| l == fixture["slab"][6].as_str().unwrap()));
    // A row no study comes from changes nothing; the only study cannot be left out.
    let beyond = run(
        bcg,
        &AnalysisSpec {
            without: Some(99),
            ..bcg_rr_ablat()
        },
    );
    assert_eq!(beyond.summary.k, 13);
    let one = "study,yi,vi\nA,0.1,0.02\n";
    let only = AnalysisSpec {
        without: Some(0),
        ..AnalysisSpec::default()
    };
    assert!(matches!(
        analyse(one, &only),
        Err(AnalysisError::Roles(RolesError::NoStudies { excluded: 1 }))
    ));
}
