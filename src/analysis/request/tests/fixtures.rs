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

/// The progress of a slice's answer, or the final record.
enum Slice {
    Progress(usize, usize),
    Done(Box<Record>),
}

fn slice(answer: Option<Envelope<Response>>) -> Slice {
    match answer.map(|e| e.body) {
        Some(Response::Progress { done, total }) => Slice::Progress(done, total),
        Some(Response::Record { record, .. }) => Slice::Done(record),
        other => panic!("expected progress or a record, got {other:?}"),
    }
}

/// Runs request `id` of `mailbox` to its end, `n` units a slice: the progress reported after
/// each slice and the record.
fn sliced(mailbox: &mut Mailbox, id: u64, ask: Request, n: usize) -> (Vec<(usize, usize)>, Record) {
    mailbox.receive(Envelope { id, body: ask });
    let mut progress = Vec::new();
    loop {
        match slice(mailbox.work(n)) {
            Slice::Progress(done, total) => progress.push((done, total)),
            Slice::Done(record) => return (progress, *record),
        }
    }
}

/// Each slice's progress: `n` more units each, never all of them; the total an estimate
/// that holds at least one more unit.
fn check_steps(progress: &[(usize, usize)], n: usize) {
    assert!(progress.len() >= 2, "{progress:?}");
    for (i, &(done, total)) in progress.iter().enumerate() {
        assert_eq!(done, n * (i + 1), "{progress:?}");
        assert!(done < total, "{progress:?}");
    }
}

/// Starts request `id` of `mailbox`, runs one slice of `n` units and cancels it: the run
/// answers the cancel and nothing more.
fn cancel_midway(mailbox: &mut Mailbox, id: u64, ask: Request, n: usize) {
    mailbox.receive(Envelope { id, body: ask });
    assert!(matches!(slice(mailbox.work(n)), Slice::Progress(done, _) if done == n));
    let cancel = Envelope {
        id,
        body: Request::Cancel,
    };
    let cancelled = Envelope {
        id,
        body: Response::Cancelled,
    };
    assert_eq!(mailbox.receive(cancel), Some(cancelled));
    assert!(mailbox.is_idle());
    assert!(mailbox.work(n).is_none());
}

/// The profile plot's request of BCG's risk ratios (REML without moderators, ML with
/// latitude) runs in slices of a few likelihood evaluations, with progress between them, and
/// ends with the record made in one go: metafor 3.8.1's profile-likelihood interval
/// (`confint(res, type = "PL")`, tests/fixtures/models/profile.json); cancelled midway, it
/// answers nothing more.
#[test]
fn the_profile_of_tau2_runs_in_slices_to_the_one_go_record() {
    use crate::analysis::profile::profile;
    let fixtures: serde_json::Value = serde_json::from_str(include_str!(
        "../../../../tests/fixtures/models/profile.json"
    ))
    .expect("the fixture is JSON");
    let cases = fixtures["cases"].as_array().expect("cases");
    for case in cases {
        let csv = case["csv"].as_str().expect("csv");
        let mods = case["mods"].as_str().filter(|m| *m != "1");
        let method =
            crate::stats::Tau2Method::from_metafor_name(case["method"].as_str().expect("a method"))
                .expect("metafor's name");
        let input = bcg_input(csv, mods, method);
        let ask = Request::Profile {
            input: input.clone(),
        };
        assert!(ask.is_long());
        assert_eq!(ask.kind(), Kind::Profile);
        let run = analyse(csv, &input.spec).expect("BCG analyses");
        let direct = profile(&run.table, &run.analysis.data, &run.fitted, &[]).expect("a profile");
        let mut mailbox = Mailbox::new(clock);
        let (progress, record) = sliced(&mut mailbox, 1, ask.clone(), 10);
        check_steps(&progress, 10);
        let Record::Profile { profile } = record else {
            panic!("expected the profile, got {record:?}");
        };
        assert_eq!(profile, direct, "{}: sliced as in one go", case["name"]);
        let expected = &case["expected"]["profile_likelihood"];
        close(profile.profile_likelihood.lower, &expected[0], "PL lower");
        close(profile.profile_likelihood.upper, &expected[1], "PL upper");
        // Once the interval is found the total is exact: the last slice makes the rest.
        let &(done, total) = progress.last().expect("progress");
        assert!(total - done <= 10, "{progress:?}");
        assert!(total > profile.tau2.len(), "{progress:?}");
        // One slice of every unit is the same run.
        let (none, whole) = sliced(&mut mailbox, 2, ask.clone(), usize::MAX);
        assert!(none.is_empty());
        assert_eq!(whole, Record::Profile { profile });
        // Cancelled midway, a run answers nothing more.
        cancel_midway(&mut mailbox, 3, ask, 7);
    }
}

/// The profile of each σ² of Konstantopoulos's (2011) three-level model
/// (`rma.mv(yi, vi, random = ~ 1 | district/study)`) runs two profile fits a slice and ends
/// with the profiles of the run in one slice; cancelled midway, it answers nothing more.
#[test]
fn the_profiles_of_each_sigma2_run_in_slices_to_the_one_go_record() {
    use crate::analysis::multilevel::Dependence;
    use crate::data::clusters::RandomTerm;
    let input = Input {
        text: include_str!("../../../../assets/examples/konstantopoulos2011.csv").into(),
        text_id: None,
        spec: AnalysisSpec {
            dependence: Dependence {
                random: vec![RandomTerm {
                    inner: None,
                    outer: vec!["district".into(), "study".into()],
                }],
                ..Dependence::default()
            },
            ..AnalysisSpec::default()
        },
    };
    let ask = Request::Profile { input };
    let mut mailbox = Mailbox::new(clock);
    let (progress, record) = sliced(&mut mailbox, 1, ask.clone(), 2);
    check_steps(&progress, 2);
    let Record::ComponentProfiles { profiles } = &record else {
        panic!("expected the σ² profiles, got {record:?}");
    };
    // Their values against metafor: the one-go run's test,
    // app::dependence::tests::the_profile_plot_of_a_multilevel_model_profiles_each_sigma2.
    let names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["district", "district/study"]);
    for p in profiles {
        // 31 even points with the estimate and both bounds.
        assert!((31..=34).contains(&p.sigma2.len()), "{}", p.sigma2.len());
    }
    // The total estimated along the way stays near the fits made.
    let &(done, total) = progress.last().expect("progress");
    assert!(total <= done + 2 * 60, "{done} of {total}");
    let (none, whole) = sliced(&mut mailbox, 2, ask.clone(), usize::MAX);
    assert!(none.is_empty());
    assert_eq!(whole, record, "sliced as in one go");
    cancel_midway(&mut mailbox, 3, ask, 3);
}
