//! Unit tests of the exercise format: the bundled files read, each kind of mistake gives an
//! error naming its exercise, step and field, answers are judged against a live analysis, and
//! progress and links round-trip.

use serde_json::{json, Value};

use super::check::parse_number;
use super::progress::{fragment_of, place_of, Place, Progress};
use super::*;
use crate::app::PageState;
use crate::data::examples::example;
use crate::data::parse::parse as parse_table;

/// A valid exercise with a number, a choice and a state step.
fn valid() -> Value {
    json!({
        "format": 1,
        "id": "demo",
        "title": "Demo",
        "dataset": "bcg.csv",
        "summary": "A demonstration.",
        "start": { "terms": [], "method": "REML", "test": "z" },
        "steps": [
            {
                "id": "q", "title": "Q", "question": "Q?", "task": "Read Q.",
                "check": { "number": { "quantity": "qe", "expected": 152.23, "tolerance": 0.05 } },
                "hints": ["Look."], "explanation": "Because."
            },
            {
                "id": "pick", "title": "Pick", "question": "Which?", "task": "Think.",
                "check": { "choice": { "options": ["a", "b"], "answer": 1 } },
                "hints": ["b."], "explanation": "b."
            },
            {
                "id": "model", "title": "Model", "question": "Fit it.", "task": "Tick ablat.",
                "setup": { "terms": ["ablat"], "test": "knha" },
                "check": { "state": {} },
                "hints": ["Tick."], "explanation": "Done."
            }
        ]
    })
}

fn read(v: &Value) -> Result<Exercise, ExerciseError> {
    parse("demo.json", &v.to_string())
}

/// The error of `valid()` changed by `edit`, as text.
fn error_of(edit: impl FnOnce(&mut Value)) -> String {
    let mut v = valid();
    edit(&mut v);
    read(&v)
        .expect_err("the edit makes the exercise invalid")
        .to_string()
}

#[test]
fn every_bundled_exercise_reads() {
    let all = bundled();
    assert_eq!(all.len(), 8);
    let ids: Vec<&str> = all
        .iter()
        .map(|e| {
            e.as_ref()
                .map(|e| e.id.as_str())
                .unwrap_or_else(|err| panic!("{err}"))
        })
        .collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 8, "ids are unique: {ids:?}");
    for (file, _) in BUNDLED_FILES {
        assert!(
            ids.iter().any(|id| format!("{id}.json") == file),
            "{file} is named after its id"
        );
    }
}

#[test]
fn a_valid_exercise_reads_with_its_defaults() {
    let e = read(&valid()).unwrap();
    assert_eq!(e.steps.len(), 3);
    // The level defaults to 95 % and the measure to the example's.
    assert_eq!(e.start.level, Some(95.0));
    assert_eq!(e.start.measure, Some("RR".parse().unwrap()));
    let required = e.required(&e.steps[2]);
    assert_eq!(required.terms, Some(vec!["ablat".to_owned()]));
    assert_eq!(required.test, Some(Test::KnappHartung));
    assert_eq!(required.method, Some(Tau2Method::Reml));
    assert!(matches!(e.steps[0].check, Check::Number(_)));
}

#[test]
fn text_that_is_not_json_names_the_file() {
    let e = parse("broken.json", "{ \"id\": ").unwrap_err();
    assert!(matches!(e, ExerciseError::Json { .. }));
    assert!(e
        .to_string()
        .starts_with("exercise file broken.json is not a JSON object"));
    let e = parse("list.json", "[1, 2]").unwrap_err();
    assert!(e.to_string().contains("expected an object"));
}

#[test]
fn an_unknown_field_in_a_step_names_the_step() {
    let text = error_of(|v| v["steps"][1]["hint"] = json!("typo"));
    assert!(
        text.starts_with("exercise \"demo\", step 2 (\"pick\"): unknown field `hint`"),
        "{text}"
    );
}

#[test]
fn an_unknown_quantity_names_the_field_and_the_choices() {
    let text = error_of(|v| v["steps"][0]["check"]["number"]["quantity"] = json!("tau3"));
    assert!(text.starts_with("exercise \"demo\", step 1 (\"q\"), field \"check.quantity\": unknown quantity \"tau3\""), "{text}");
    assert!(text.contains("estimate:NAME"));
}

#[test]
fn a_tolerance_must_be_positive() {
    let text = error_of(|v| v["steps"][0]["check"]["number"]["tolerance"] = json!(0));
    assert!(
        text.contains("step 1 (\"q\"), field \"check.tolerance\": 0 is not a tolerance"),
        "{text}"
    );
}

#[test]
fn a_choice_answer_must_be_an_option() {
    let text = error_of(|v| v["steps"][1]["check"]["choice"]["answer"] = json!(2));
    assert!(
        text.contains("field \"check.answer\": 2 is not an option: expected 0 to 1"),
        "{text}"
    );
    let text = error_of(|v| v["steps"][1]["check"]["choice"]["options"] = json!(["only"]));
    assert!(text.contains("field \"check.options\""), "{text}");
}

#[test]
fn a_dataset_must_be_bundled() {
    let text = error_of(|v| v["dataset"] = json!("mine.csv"));
    assert!(
        text.starts_with(
            "exercise \"demo\", field \"dataset\": \"mine.csv\" is not a bundled example"
        ),
        "{text}"
    );
}

#[test]
fn the_start_names_terms_method_and_test() {
    let text = error_of(|v| {
        v["start"].as_object_mut().unwrap().remove("method");
    });
    assert!(
        text.contains("field \"start.method\": is missing"),
        "{text}"
    );
    let text = error_of(|v| v["start"]["method"] = json!("XYZ"));
    assert!(
        text.contains("field \"start.method\": unknown estimator \"XYZ\""),
        "{text}"
    );
}

#[test]
fn step_ids_are_unique_and_usable_in_links() {
    let text = error_of(|v| v["steps"][1]["id"] = json!("q"));
    assert!(
        text.contains("step 2 (\"q\"), field \"id\": \"q\" is the id of an earlier step"),
        "{text}"
    );
    let text = error_of(|v| v["steps"][1]["id"] = json!("Has Space"));
    assert!(
        text.contains("step 2 (\"Has Space\"), field \"id\""),
        "{text}"
    );
}

#[test]
fn a_step_without_an_id_is_named_by_its_number() {
    let text = error_of(|v| {
        v["steps"][2].as_object_mut().unwrap().remove("id");
    });
    assert!(
        text.starts_with("exercise \"demo\", step 3: missing field `id`"),
        "{text}"
    );
}

#[test]
fn empty_texts_and_missing_hints_are_refused() {
    let text = error_of(|v| v["steps"][0]["question"] = json!("  "));
    assert!(text.contains("field \"question\": is empty"), "{text}");
    let text = error_of(|v| v["steps"][0]["hints"] = json!([]));
    assert!(
        text.contains("field \"hints\": expected at least one hint"),
        "{text}"
    );
}

#[test]
fn a_state_check_needs_a_setup() {
    let text = error_of(|v| {
        v["steps"][2].as_object_mut().unwrap().remove("setup");
    });
    assert!(
        text.contains("step 3 (\"model\"), field \"setup\""),
        "{text}"
    );
}

#[test]
fn terms_must_be_single_formula_terms() {
    let text = error_of(|v| v["steps"][2]["setup"]["terms"] = json!(["ablat + year"]));
    assert!(
        text.contains("field \"setup.terms\": \"ablat + year\" is not one term"),
        "{text}"
    );
    let e = read(&{
        let mut v = valid();
        v["steps"][2]["setup"]["terms"] = json!(["ablat", "factor(alloc)", "ablat:year"]);
        v
    });
    assert!(e.is_ok(), "{e:?}");
}

#[test]
fn cited_only_quantities_cannot_be_asked() {
    let text = error_of(|v| v["steps"][0]["check"]["number"]["quantity"] = json!("mv_se"));
    assert!(text.contains("is a cited-only quantity"), "{text}");
}

#[test]
fn multilevel_figures_need_random_terms() {
    let text = error_of(|v| {
        v["steps"][0]["figures"] =
            json!([{ "quantity": "mv_se", "expected": 0.02, "tolerance": 0.001 }]);
    });
    assert!(
        text.contains("field \"figures[0].random\": a multilevel quantity needs"),
        "{text}"
    );
    let text = error_of(|v| {
        v["steps"][0]["figures"] = json!([{ "quantity": "mv_se", "expected": 0.02, "tolerance": 0.001, "random": ["paper"] }]);
    });
    assert!(text.contains("field \"figures[0].random\""), "{text}");
}

#[test]
fn another_format_version_is_refused() {
    let text = error_of(|v| v["format"] = json!(2));
    assert!(
        text.contains("field \"format\": format 2: this version of the app reads format 1"),
        "{text}"
    );
}

#[test]
fn numbers_are_read_as_students_type_them() {
    assert_eq!(parse_number(" 152.23 "), Some(152.23));
    assert_eq!(parse_number("0,31"), Some(0.31));
    assert_eq!(parse_number("92.2 %"), Some(92.2));
    assert_eq!(parse_number("\u{2212}0.029"), Some(-0.029));
    assert_eq!(parse_number("1,234.5"), Some(1234.5));
    assert_eq!(parse_number("about 3"), None);
    assert_eq!(parse_number(""), None);
}

#[test]
fn quantities_read_back_their_names() {
    for name in [
        "tau2",
        "estimate:factor(alloc)random",
        "weight:8",
        "mv_sigma2:2",
        "permutation_p:ablat",
    ] {
        assert!(name.parse::<Quantity>().is_ok(), "{name}");
    }
    for name in ["weight:0", "mv_sigma2:x", "estimate:", "nope"] {
        assert!(name.parse::<Quantity>().is_err(), "{name}");
    }
}

/// The page of `state`, analysed, as a check sees it.
fn judge(exercise: &Exercise, step: usize, answer: Answer, state: &PageState) -> Verdict {
    let run = state.analyse().expect("the state analyses");
    let table = parse_table(&state.data.text).ok();
    let live = Live {
        data: &state.data,
        columns: &state.columns,
        model: &state.model,
        averages: &state.averages,
        table: table.as_ref(),
        analysis: Some(&run.analysis),
    };
    check(exercise, &exercise.steps[step], &answer, &live)
}

fn bcg_state() -> PageState {
    let mut s = PageState::default();
    s.load_example(example("bcg.csv").unwrap());
    s.model.formula.clear();
    s
}

#[test]
fn a_number_is_judged_against_the_live_analysis() {
    let e = read(&valid()).unwrap();
    let state = bcg_state();
    assert_eq!(
        judge(&e, 0, Answer::Number("152.2".into()), &state),
        Verdict::Right
    );
    assert_eq!(
        judge(&e, 0, Answer::Number("12".into()), &state),
        Verdict::Wrong
    );
    assert_eq!(
        judge(&e, 0, Answer::Number("twelve".into()), &state),
        Verdict::NoAnswer
    );
    let mut fe = state.clone();
    fe.model.method = Tau2Method::Fe;
    assert_eq!(
        judge(&e, 0, Answer::Number("152.2".into()), &fe),
        Verdict::NotSetUp(vec![Mismatch::Method {
            expected: Tau2Method::Reml
        }])
    );
}

#[test]
fn a_choice_and_a_state_are_judged() {
    let e = read(&valid()).unwrap();
    let mut state = bcg_state();
    assert_eq!(judge(&e, 1, Answer::Choice(1), &state), Verdict::Right);
    assert_eq!(judge(&e, 1, Answer::Choice(0), &state), Verdict::Wrong);
    let Verdict::NotSetUp(missing) = judge(&e, 2, Answer::None, &state) else {
        panic!("not set up yet");
    };
    assert_eq!(missing.len(), 2);
    assert_eq!(
        missing[0].to_string(),
        "use exactly these model terms: ablat"
    );
    assert_eq!(missing[1].to_string(), "choose the Knapp–Hartung test");
    state.model.formula = "ablat".into();
    state.model.test = Test::KnappHartung;
    assert_eq!(judge(&e, 2, Answer::None, &state), Verdict::Right);
    state.load_text(state.data.text.clone() + "\n");
    assert!(matches!(
        judge(&e, 2, Answer::None, &state),
        Verdict::NotSetUp(m) if m[0] == Mismatch::Dataset { expected: "bcg.csv".into() }
    ));
}

#[test]
fn a_text_column_is_the_same_term_with_or_without_factor() {
    let e = bundled()
        .iter()
        .flatten()
        .find(|e| e.id == "interaction")
        .unwrap();
    let mut state = PageState::default();
    state.load_example(example(&e.dataset).unwrap());
    state.model.formula = "weeks*tester".into();
    let at = |id: &str| e.steps.iter().position(|s| s.id == id).unwrap();
    assert_eq!(
        judge(e, at("interaction"), Answer::None, &state),
        Verdict::Right
    );
    // The coefficient is found under the name the formula gave it (weeks:testerblind).
    let step = &e.steps[at("interaction-coefficient")];
    let Check::Number(n) = &step.check else {
        panic!("a number step")
    };
    let typed = format!("{}", n.expected);
    assert_eq!(
        judge(
            e,
            at("interaction-coefficient"),
            Answer::Number(typed),
            &state
        ),
        Verdict::Right
    );
    let run = state.analyse().unwrap();
    let q: Quantity = "estimate:weeks:factor(tester)blind".parse().unwrap();
    assert!(q.of(&run.analysis, None, false).is_some());
}

#[test]
fn the_ecological_warning_is_a_state() {
    let e = bundled()
        .iter()
        .flatten()
        .find(|e| e.id == "ecological-bias")
        .unwrap();
    let mut state = PageState::default();
    state.load_example(example(&e.dataset).unwrap());
    state.model.formula = "meanage".into();
    assert_eq!(judge(e, 0, Answer::None, &state), Verdict::Right);
    state.averages.insert("meanage".into(), false);
    assert_eq!(
        judge(e, 0, Answer::None, &state),
        Verdict::NotSetUp(vec![Mismatch::Warning {
            expected: "Ecological bias".into()
        }])
    );
}

#[test]
fn progress_counts_steps_done_and_first_tries() {
    let e = read(&valid()).unwrap();
    let mut p = Progress::default();
    p.answered("demo", "q", false);
    p.answered("demo", "q", true);
    p.answered("demo", "pick", true);
    p.hint("demo", "model");
    let t = p.tally(&e);
    assert_eq!((t.done, t.first_try, t.total), (2, 1, 3));
    // A later wrong answer does not undo a step done.
    p.answered("demo", "pick", false);
    assert_eq!(p.tally(&e).done, 2);
    let back = Progress::from_json(&p.to_json());
    assert_eq!(back, p);
    p.restart("demo");
    assert_eq!(p.tally(&e).done, 0);
    assert_eq!(Progress::from_json("not json"), Progress::default());
}

#[test]
fn links_name_an_exercise_and_a_step() {
    let place = Place {
        exercise: "few-studies".into(),
        step: Some(2),
    };
    assert_eq!(fragment_of(&place), "#exercise=few-studies&step=3");
    assert_eq!(place_of(&fragment_of(&place)), Some(place));
    assert_eq!(
        place_of("exercise=heterogeneity"),
        Some(Place {
            exercise: "heterogeneity".into(),
            step: None
        })
    );
    assert_eq!(place_of("#s=v1.abc"), None);
    assert_eq!(place_of("#exercise=x&step=0").unwrap().step, None);
}
