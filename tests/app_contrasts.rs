//! The page's contrast builder (issue 13): two levels of a factor become the L row the user
//! would write (treatment coding: a level against the reference is its dummy, level B against
//! level C is dummy_B − dummy_C), the page's worker tests the rows, and each contrast and the
//! joint test equal metafor 3.8.1's `anova(res, X = L)` for BCG `factor(alloc)` under z and
//! Knapp–Hartung (`tests/fixtures/models/contrasts.json`, written by
//! `tests/r/make_models_fixtures.R`); the R script tests the same rows.

use meridian::analysis::r_script::r_script;
use meridian::analysis::request::{Envelope, Input, Record, Request, Response};
use meridian::analysis::session::Mailbox;
use meridian::analysis::terms::{level_contrast_row, LevelContrast};
use meridian::analysis::Analysis;
use meridian::app::PageState;
use meridian::stats::Test;
use serde_json::Value;

/// Agreement with metafor, whose fits here converged to 1e-10 or better.
const REL: f64 = 1e-8;

fn close(what: &str, ours: f64, theirs: f64) {
    assert!(
        (ours - theirs).abs() <= REL * theirs.abs() + 1e-12,
        "{what}: ours {ours}, metafor {theirs}"
    );
}

fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string("tests/fixtures/models/contrasts.json")
        .expect("the fixture is committed");
    let fixture: Value = serde_json::from_str(&text).expect("JSON");
    fixture["cases"].as_array().expect("cases").clone()
}

fn contrast(column: &str, level: &str, versus: &str) -> LevelContrast {
    LevelContrast {
        column: column.into(),
        level: level.into(),
        versus: versus.into(),
    }
}

/// BCG (the page's first example, risk ratios) with `formula`.
fn bcg(formula: &str) -> PageState {
    let mut s = PageState::default();
    s.model.formula = formula.into();
    s
}

/// The analysis as the page's worker answers it, after the JSON trip to the page.
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
    let json = serde_json::to_string(&answer).unwrap();
    let answer: Envelope<Response> = serde_json::from_str(&json).unwrap();
    match answer.body {
        Response::Record { record, .. } => match *record {
            Record::Analysis { analysis, .. } => analysis,
            other => panic!("not an analysis: {other:?}"),
        },
        other => panic!("the analysis failed: {other:?}"),
    }
}

#[test]
fn level_pairs_are_written_as_treatment_coded_l_rows() {
    let run = bcg("factor(alloc)").analyse().unwrap();
    let model = &run.analysis.model;
    assert_eq!(
        model.names,
        ["intrcpt", "factor(alloc)random", "factor(alloc)systematic"]
    );
    let row = |level: &str, versus: &str| {
        level_contrast_row(model, &contrast("alloc", level, versus)).unwrap()
    };
    // alternate is the reference (first in C-locale order).
    assert_eq!(row("random", "systematic"), [0.0, 1.0, -1.0]);
    assert_eq!(row("random", "alternate"), [0.0, 1.0, 0.0]);
    assert_eq!(row("alternate", "systematic"), [0.0, 0.0, -1.0]);
    // Another reference level moves the dummies, not the comparison: systematic − random.
    let mut s = bcg("factor(alloc)");
    s.model.references.insert("alloc".into(), "random".into());
    let run = s.analyse().unwrap();
    assert_eq!(
        run.analysis.model.names,
        [
            "intrcpt",
            "factor(alloc)alternate",
            "factor(alloc)systematic"
        ]
    );
    assert_eq!(
        level_contrast_row(
            &run.analysis.model,
            &contrast("alloc", "systematic", "random")
        )
        .unwrap(),
        [0.0, 0.0, 1.0]
    );
    // With an interaction the row is the difference at the held ablat (its mean over the 13
    // trials, 33.4615…): the main-effect dummies and ablat times the interaction dummies.
    let run = bcg("ablat * factor(alloc)").analyse().unwrap();
    let m = &run.analysis.model;
    let w = level_contrast_row(m, &contrast("alloc", "random", "systematic")).unwrap();
    let mean = 435.0 / 13.0;
    let names = &m.names;
    let at = |name: &str| w[names.iter().position(|n| n == name).unwrap()];
    assert_eq!((at("intrcpt"), at("ablat")), (0.0, 0.0));
    assert_eq!(at("factor(alloc)random"), 1.0);
    assert_eq!(at("factor(alloc)systematic"), -1.0);
    assert!((at("ablat:factor(alloc)random") - mean).abs() < 1e-12);
    assert!((at("ablat:factor(alloc)systematic") + mean).abs() < 1e-12);
    // A column that is no factor of the model, a level the factor lacks.
    let run = bcg("ablat").analyse().unwrap();
    assert!(level_contrast_row(&run.analysis.model, &contrast("ablat", "1", "2")).is_err());
    let run = bcg("factor(alloc)").analyse().unwrap();
    let e = level_contrast_row(&run.analysis.model, &contrast("alloc", "random", "blinded"))
        .unwrap_err();
    assert!(e.to_string().contains("blinded"), "{e}");
}

#[test]
fn the_page_tests_the_builders_contrasts_as_metafor_anova_x_l() {
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let e = &case["expected"];
        let mut s = bcg("factor(alloc)");
        s.model.test = if name.ends_with("knha") {
            Test::KnappHartung
        } else {
            Test::Z
        };
        // The fixture's rows: (0, 1, −1) random vs systematic, (0, 1, 0) random vs alternate.
        s.model.add_contrast("alloc", "random", "systematic");
        s.model.add_contrast("alloc", "random", "alternate");
        // The same comparison again, either way round, or a level with itself adds nothing.
        s.model.add_contrast("alloc", "systematic", "random");
        s.model.add_contrast("alloc", "random", "random");
        assert_eq!(s.model.contrasts.len(), 2);
        let a = through_the_mailbox(&s);
        assert_eq!(a.contrast_error, None);
        let c = a.report.contrasts.as_ref().expect("contrasts tested");
        let rows = e["rows"].as_array().unwrap();
        assert_eq!(c.rows.len(), rows.len());
        for (ours, theirs) in c.rows.iter().zip(rows) {
            let weights: Vec<f64> = theirs["weights"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w.as_f64().unwrap())
                .collect();
            assert_eq!(ours.weights, weights, "{name}");
            for (key, value) in [
                ("estimate", ours.estimate),
                ("se", ours.se),
                ("statistic", ours.statistic),
                ("p_value", ours.p_value),
                ("ci_lower", ours.ci_lower),
                ("ci_upper", ours.ci_upper),
            ] {
                close(
                    &format!("{name} {key}"),
                    value,
                    theirs[key].as_f64().unwrap(),
                );
            }
        }
        close(&format!("{name} QM"), c.qm, e["qm"].as_f64().unwrap());
        close(&format!("{name} QM p"), c.qm_p, e["qm_p"].as_f64().unwrap());
        assert_eq!(c.qm_df as u64, e["qm_df"].as_u64().unwrap());
        assert_eq!(c.qm_df2.map(|d| d as u64), e["qm_df2"].as_u64());
        // The command line's record of the same analysis is the worker's.
        let cli = s.analyse().unwrap().analysis;
        assert_eq!(cli.report.contrasts, a.report.contrasts);
        // The R script tests the same rows.
        let run = s.analyse().unwrap();
        let spec = s.spec().unwrap();
        let script = r_script(&s.data.text, Ok((&run.table, &run.analysis, &spec)));
        assert!(
            script.contains("anova(res, X = rbind(c(0, 1, -1), c(0, 1, 0)))\n"),
            "{script}"
        );
        assert!(script.contains("# alloc: random vs systematic\n"));
    }
}

#[test]
fn contrasts_are_saved_and_wait_while_their_factor_is_out_of_the_model() {
    let mut s = bcg("factor(alloc)");
    s.model.add_contrast("alloc", "random", "systematic");
    assert_eq!(PageState::from_json(&s.to_json()).unwrap(), s);
    assert_eq!(PageState::from_fragment(&s.to_fragment()).unwrap(), s);
    // Without alloc in the formula the contrast is kept but not tested.
    s.model.formula = "ablat".into();
    assert_eq!(s.spec().unwrap().level_contrasts, []);
    assert_eq!(s.model.contrasts.len(), 1);
    assert!(s.analyse().unwrap().analysis.report.contrasts.is_none());
    s.model.formula = "factor(alloc) + ablat".into();
    assert_eq!(s.spec().unwrap().level_contrasts.len(), 1);
    // A level the data lacks is the builder's error; the analysis stands.
    s.model.contrasts[0].versus = "blinded".into();
    let a = through_the_mailbox(&s);
    assert!(a
        .contrast_error
        .as_deref()
        .is_some_and(|e| e.contains("blinded")));
    assert!(a.report.contrasts.is_none());
    assert_eq!(a.summary.k, 13);
    // A state saved before the builder existed loads without contrasts.
    let old = PageState::from_json(r#"{"text":"yi,vi\n1,1\n","formula":"x"}"#).unwrap();
    assert!(old.model.contrasts.is_empty());
    let mut s = bcg("factor(alloc)");
    s.model.add_contrast("alloc", "random", "systematic");
    s.model.add_contrast("alloc", "random", "alternate");
    s.model
        .remove_contrast(&contrast("alloc", "random", "systematic"));
    assert_eq!(
        s.model.contrasts,
        [contrast("alloc", "random", "alternate")]
    );
}
