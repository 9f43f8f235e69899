//! The engine's answers to the Compare-models and subgroup-analysis requests against
//! metafor 3.8.1's numbers (tests/fixtures/models).

use super::*;

/// The Compare-models panel's request: the engine fits the pinned intercept-only model beside
/// the current one and answers metafor 3.8.1's `anova(full, reduced)` of BCG's log risk
/// ratios by ML, ablat against intercept only (tests/fixtures/models/anova.json).
#[test]
fn the_engine_compares_the_current_model_with_each_pinned_one() {
    let fixtures: serde_json::Value =
        serde_json::from_str(include_str!("../../../../tests/fixtures/models/anova.json"))
            .expect("the fixture is JSON");
    let case_named = |name: &str| {
        fixtures["cases"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == name))
            .expect("the fixture has the case")
    };
    let case = case_named("bcg RR ML ablat vs intercept-only");
    let expected = &case["expected"];
    let larger_case = case_named("bcg RR ML ablat + year vs ablat");
    let ask = Request::Compare {
        input: bcg_input(
            case["csv"].as_str().expect("csv"),
            Some("ablat"),
            crate::stats::Tau2Method::Ml,
        ),
        pinned: vec![None, Some("ablat + year".into()), Some("nosuch".into())],
    };
    assert_eq!(ask.kind(), Kind::Compare);
    let answered = answered_through_json(&mut Mailbox::new(clock), 1, ask);
    let Record::Comparisons { comparisons } = answered else {
        panic!("expected the comparisons, got {answered:?}");
    };
    assert_eq!(comparisons.formula.as_deref(), Some("ablat"));
    close(
        comparisons.current.log_likelihood,
        &expected["full"]["log_likelihood"],
        "ℓ",
    );
    assert_eq!(comparisons.pinned.len(), 3);
    let intercept = comparisons.pinned[0].compared.as_ref().expect("compared");
    assert!(intercept.current_is_full);
    close(intercept.anova.lrt, &expected["lrt"], "LRT");
    close(intercept.anova.p_value, &expected["p_value"], "p");
    close(
        intercept.anova.reduced.aic,
        &expected["reduced"]["aic"],
        "AIC",
    );
    close(
        intercept.anova.r2.unwrap_or(f64::NAN),
        &expected["r2"],
        "R²",
    );
    // The larger pinned model is the full one; an unknown column is that row's error only.
    let larger = comparisons.pinned[1].compared.as_ref().expect("compared");
    assert!(!larger.current_is_full);
    assert_eq!(larger.anova.full.df, 4);
    close(
        larger.anova.lrt,
        &larger_case["expected"]["lrt"],
        "LRT of ablat + year",
    );
    let unknown = comparisons.pinned[2]
        .compared
        .as_ref()
        .expect_err("no such column");
    assert!(unknown.contains("nosuch"), "{unknown}");
}

/// The record `mailbox` answers to `ask`, both crossing as JSON and back unchanged.
fn answered_through_json(mailbox: &mut Mailbox, id: u64, ask: Request) -> Record {
    let envelope = Envelope { id, body: ask };
    round_trip(&envelope);
    mailbox.receive(envelope);
    let answered = record_of(mailbox.work(10));
    round_trip(&answered);
    answered
}

/// `got` agrees with metafor's `want` (a fixture's number) to six significant digits.
fn close(got: f64, want: &serde_json::Value, what: &str) {
    let want = want.as_f64().expect("a number");
    assert!(
        (got - want).abs() <= 1e-6 * want.abs().max(1e-12),
        "{what}: {got} vs metafor {want}"
    );
}

/// BCG's log risk ratios from the counts, as the models fixtures analyse them.
fn bcg_input(csv: &str, mods: Option<&str>, method: crate::stats::Tau2Method) -> Input {
    use crate::data::effect_size::{Measure, RawRole};
    let mut spec = AnalysisSpec {
        measure: Some(Measure::Rr),
        mods: mods.map(str::to_owned),
        ..AnalysisSpec::default()
    };
    spec.model.method = method;
    for (role, column) in [
        (RawRole::Ai, "tpos"),
        (RawRole::Bi, "tneg"),
        (RawRole::Ci, "cpos"),
        (RawRole::Di, "cneg"),
    ] {
        spec.columns.raw.insert(role, column.into());
    }
    Input {
        text: csv.into(),
        text_id: None,
        spec,
    }
}

/// The subgroup analysis under the forest plot is asked of the engine: metafor 3.8.1's
/// per-level REML fits of BCG by alloc and the test for subgroup differences, with a τ² per
/// subgroup and with one common τ² (tests/fixtures/models/subgroups.json).
#[test]
fn the_engine_answers_the_subgroup_analysis() {
    let fixtures: serde_json::Value = serde_json::from_str(include_str!(
        "../../../../tests/fixtures/models/subgroups.json"
    ))
    .expect("the fixture is JSON");
    let cases = fixtures["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 2);
    let mut mailbox = Mailbox::new(clock);
    for (id, case) in (1..).zip(cases) {
        let expected = &case["expected"];
        let common = case["args"]
            .as_array()
            .expect("args")
            .iter()
            .any(|a| a == "--tau2-common");
        let ask = Request::SubgroupAnalysis {
            input: bcg_input(
                case["csv"].as_str().expect("csv"),
                None,
                crate::stats::Tau2Method::Reml,
            ),
            column: "alloc".into(),
            common,
        };
        assert_eq!(ask.kind(), Kind::SubgroupAnalysis);
        let answered = answered_through_json(&mut mailbox, id, ask);
        let Record::SubgroupAnalysis { analysis } = answered else {
            panic!("expected the subgroup analysis, got {answered:?}");
        };
        assert_eq!(analysis.tau2_common, common);
        close(analysis.q_between, &expected["q_between"], "Q between");
        close(analysis.q_between_p, &expected["q_between_p"], "its p");
        close(
            analysis.qm,
            &expected["mixed_qm"],
            "the meta-regression's QM",
        );
        let groups = expected["groups"].as_array().expect("groups");
        assert_eq!(analysis.groups.len(), groups.len());
        for (got, want) in analysis.groups.iter().zip(groups) {
            close(got.estimate, &want["estimate"], "a subgroup's estimate");
            close(got.se, &want["se"], "its SE");
        }
    }
    // A column the table does not have is the engine's sentence, not a panic.
    mailbox.receive(Envelope {
        id: 9,
        body: Request::SubgroupAnalysis {
            input: bcg_input(
                cases[0]["csv"].as_str().expect("csv"),
                None,
                crate::stats::Tau2Method::Reml,
            ),
            column: "nosuch".into(),
            common: false,
        },
    });
    match mailbox.work(10).map(|e| e.body) {
        Some(Response::Failed { message }) => assert!(message.contains("nosuch"), "{message}"),
        other => panic!("expected the engine's error, got {other:?}"),
    }
}
