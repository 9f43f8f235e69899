//! Every bundled exercise teaches the engine's numbers (issue 16): each number a step checks
//! and each figure its explanation cites is computed here with the engine, in the state the
//! step sets up, and compared with the exercise file's expected value and tolerance. The same
//! quantities from metafor 3.8.1 (`tests/r/make_exercise_fixtures.R`, which reads the exercise
//! files) are in `tests/fixtures/exercises.json`; the engine must match them to 1e-6 relative,
//! and the file's expected value must lie within its tolerance of metafor's.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use serde::Deserialize;

use meridian::analysis::multilevel::{fit_dependent, Dependence, Staged};
use meridian::analysis::Run;
use meridian::app::PageState;
use meridian::data::clusters::RandomTerm;
use meridian::data::examples::example;
use meridian::exercise::{
    bundled, Check, Exercise, MultilevelQuantity, Quantity, Setup, BUNDLED_FILES,
};
use meridian::stats::PermutationSettings;

/// Relative agreement with metafor asked of the engine.
const METAFOR_RELATIVE: f64 = 1e-6;
/// Absolute agreement for numbers near 0 (p-values, tiny slopes).
const METAFOR_ABSOLUTE: f64 = 1e-8;
/// The permutation panel's settings (src/ui/permutation_panel.rs: 1000 permutations, its
/// seed); the bundled exercises cite only exact tests, which the seed does not change.
const PERMUTATIONS: PermutationSettings = PermutationSettings {
    iterations: 1000,
    seed: 20_260_101,
};

/// One number an exercise states, with the state it holds in.
struct Claim<'a> {
    /// `exercise/step/check` or `exercise/step/figures[i]`, as the fixture names it.
    key: String,
    quantity: &'a Quantity,
    reading: bool,
    expected: f64,
    tolerance: f64,
    setup: Setup,
    random: &'a [RandomTerm],
}

fn claims(e: &Exercise) -> Vec<Claim<'_>> {
    let mut out = Vec::new();
    for step in &e.steps {
        let required = e.required(step);
        if let Check::Number(n) = &step.check {
            out.push(Claim {
                key: format!("{}/{}/check", e.id, step.id),
                quantity: &n.quantity,
                reading: n.reading,
                expected: n.expected,
                tolerance: n.tolerance,
                setup: required.clone(),
                random: &[],
            });
        }
        for (i, f) in step.figures.iter().enumerate() {
            out.push(Claim {
                key: format!("{}/{}/figures[{i}]", e.id, step.id),
                quantity: &f.quantity,
                reading: f.reading,
                expected: f.expected,
                tolerance: f.tolerance,
                setup: e.start.overlay(&f.setup),
                random: &f.random,
            });
        }
    }
    out
}

/// The page's analysis of exercise `e`'s dataset in state `setup`, as the page runs it.
fn run_in(e: &Exercise, setup: &Setup) -> (PageState, Run) {
    let mut state = PageState::default();
    state.load_example(example(&e.dataset).expect("the parser checked the dataset"));
    state.columns.measure = setup.measure.or(state.columns.measure);
    state.model.formula = setup.formula().unwrap_or_default();
    state.model.method = setup.method.expect("the start names a method");
    state.model.test = setup.test.expect("the start names a test");
    state.model.level = setup.level.expect("the parser defaults the level");
    let run = state
        .analyse()
        .unwrap_or_else(|err| panic!("{}: {err}", e.id));
    (state, run)
}

/// The engine's value of a claim.
fn engine_value(e: &Exercise, c: &Claim) -> f64 {
    let (state, run) = run_in(e, &c.setup);
    let measure = state.columns.measure;
    let value = match c.quantity {
        Quantity::PermutationP(name) => {
            let position = run
                .analysis
                .summary
                .coefficients
                .iter()
                .position(|k| &k.name == name)
                .unwrap_or_else(|| panic!("{}: no coefficient {name}", c.key));
            let result = run
                .fitted
                .fit
                .permutation_test(PERMUTATIONS)
                .and_then(|t| t.run(|_| ControlFlow::Continue(())))
                .expect("the permutation test runs")
                .expect("not cancelled");
            result.p_values[position]
        }
        Quantity::Multilevel(q) => {
            let dep = Dependence {
                random: c.random.to_vec(),
                ..Dependence::default()
            };
            let mv = fit_dependent(Staged::of(&run), &dep).expect("the multilevel model fits");
            let pooled = || mv.predict(&[1.0]).expect("an intercept-only prediction");
            match q {
                MultilevelQuantity::Pooled => pooled().pred,
                MultilevelQuantity::Se => pooled().se,
                MultilevelQuantity::CiLower => pooled().ci_lower,
                MultilevelQuantity::CiUpper => pooled().ci_upper,
                MultilevelQuantity::Sigma2(i) => mv.sigma2[i - 1].estimate,
            }
        }
        live => {
            return live
                .of(&run.analysis, measure, c.reading)
                .unwrap_or_else(|| panic!("{}: the analysis has no such number", c.key))
        }
    };
    c.quantity.scaled(value, measure, c.reading)
}

#[derive(Deserialize)]
struct Fixture {
    values: BTreeMap<String, f64>,
}

fn metafor() -> BTreeMap<String, f64> {
    let text = include_str!("fixtures/exercises.json");
    serde_json::from_str::<Fixture>(text)
        .expect("the fixture is JSON")
        .values
}

#[test]
fn every_bundled_exercise_reads() {
    assert_eq!(bundled().len(), BUNDLED_FILES.len());
    for e in bundled() {
        if let Err(err) = e {
            panic!("{err}");
        }
    }
}

#[test]
fn every_number_an_exercise_states_is_the_engines() {
    let mut checked = 0;
    let mut wrong = Vec::new();
    for e in bundled().iter().flatten() {
        for c in claims(e) {
            let value = engine_value(e, &c);
            if (value - c.expected).abs() > c.tolerance {
                wrong.push(format!(
                    "{}: the file says {} ± {}, the engine gives {value}",
                    c.key, c.expected, c.tolerance
                ));
            }
            checked += 1;
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(
        checked,
        metafor().len(),
        "every number of the fixture is checked"
    );
}

#[test]
fn every_number_an_exercise_states_is_metafors() {
    let reference = metafor();
    let mut wrong = Vec::new();
    let mut keys = Vec::new();
    for e in bundled().iter().flatten() {
        for c in claims(e) {
            let Some(&r) = reference.get(&c.key) else {
                wrong.push(format!(
                    "{}: not in tests/fixtures/exercises.json (rerun the R script)",
                    c.key
                ));
                continue;
            };
            let value = engine_value(e, &c);
            if (value - r).abs() > METAFOR_ABSOLUTE.max(METAFOR_RELATIVE * r.abs()) {
                wrong.push(format!("{}: metafor {r}, engine {value}", c.key));
            }
            if (c.expected - r).abs() > c.tolerance {
                wrong.push(format!(
                    "{}: the file says {} ± {}, metafor {r}",
                    c.key, c.expected, c.tolerance
                ));
            }
            keys.push(c.key);
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(
        keys.len(),
        reference.len(),
        "the fixture has numbers no exercise states"
    );
}
