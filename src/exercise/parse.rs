//! Reading an exercise file: JSON → [`Exercise`], validated field by field, so that a teacher's
//! mistake gives an error naming the exercise, the step and the field
//! (`assets/exercises/README.md` documents the format).

use serde::Deserialize;
use serde_json::Value;

use super::{
    Check, ChoiceCheck, Exercise, ExerciseError, Figure, NumberCheck, Quantity, Setup, Step, FORMAT,
};
use crate::data::clusters::RandomTerm;
use crate::data::examples::example;
use crate::data::formula::Formula;
use crate::stats::{Tau2Method, Test};

/// The exercise itself, as written (steps read one by one, so that an error names its step).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExercise {
    /// Checked from the JSON value before the fields are read, so that a file of another
    /// format is named as such rather than by its first unknown field.
    #[serde(rename = "format")]
    _format: u32,
    id: String,
    title: String,
    dataset: String,
    summary: String,
    start: RawSetup,
    steps: Vec<Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSetup {
    measure: Option<String>,
    terms: Option<Vec<String>>,
    method: Option<String>,
    test: Option<String>,
    level: Option<f64>,
    warning: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: String,
    title: String,
    question: String,
    task: String,
    #[serde(default)]
    setup: RawSetup,
    check: RawCheck,
    hints: Vec<String>,
    explanation: String,
    #[serde(default)]
    figures: Vec<RawFigure>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
enum RawCheck {
    Number {
        quantity: String,
        #[serde(default)]
        reading: bool,
        expected: f64,
        tolerance: f64,
    },
    Choice {
        options: Vec<String>,
        answer: usize,
    },
    State {},
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFigure {
    quantity: String,
    #[serde(default)]
    reading: bool,
    expected: f64,
    tolerance: f64,
    #[serde(default)]
    setup: RawSetup,
    #[serde(default)]
    random: Vec<String>,
}

/// Reads the exercise in `text`, from the file `file` (named in errors until the exercise's
/// id is known).
///
/// # Errors
/// [`ExerciseError::Json`] for text that is not a JSON object of the format's fields,
/// [`ExerciseError::Exercise`] for a wrong field of the exercise, [`ExerciseError::Step`] for a
/// wrong step: an unknown field, quantity, estimator or test, a term that is not a formula
/// term, a tolerance that is not positive, a choice's answer that is not one of its options.
pub fn parse(file: &str, text: &str) -> Result<Exercise, ExerciseError> {
    let json = |message: String| ExerciseError::Json {
        file: file.to_owned(),
        message,
    };
    let value: Value = serde_json::from_str(text).map_err(|e| json(e.to_string()))?;
    if !value.is_object() {
        return Err(json("expected an object {…} at the top".to_owned()));
    }
    if let Some(found) = value.get("format").and_then(Value::as_u64) {
        if found != u64::from(FORMAT) {
            return Err(ExerciseError::Exercise {
                exercise: file.to_owned(),
                field: "format".to_owned(),
                reason: format!("format {found}: this version of the app reads format {FORMAT}"),
            });
        }
    }
    let raw: RawExercise = serde_json::from_value(value).map_err(|e| json(e.to_string()))?;
    let id = raw.id.clone();
    let field = |field: &str, reason: String| ExerciseError::Exercise {
        exercise: id.clone(),
        field: field.to_owned(),
        reason,
    };
    if !is_id(&raw.id) {
        return Err(field(
            "id",
            format!(
                "\"{}\" is not a usable id: expected lower-case letters, digits and '-'",
                raw.id
            ),
        ));
    }
    for (name, text) in [("title", &raw.title), ("summary", &raw.summary)] {
        if text.trim().is_empty() {
            return Err(field(name, "is empty".to_owned()));
        }
    }
    let Some(data) = example(&raw.dataset) else {
        return Err(field(
            "dataset",
            format!(
                "\"{}\" is not a bundled example: expected a file of assets/examples/index.json",
                raw.dataset
            ),
        ));
    };
    let mut start =
        setup(&raw.start).map_err(|(f, reason)| field(&format!("start.{f}"), reason))?;
    for (name, given) in [
        ("terms", start.terms.is_some()),
        ("method", start.method.is_some()),
        ("test", start.test.is_some()),
    ] {
        if !given {
            return Err(field(
                &format!("start.{name}"),
                "is missing: the start names the model's terms, method and test".to_owned(),
            ));
        }
    }
    start.level = start.level.or(Some(95.0));
    if start.measure.is_none() {
        start.measure = data.measure.as_deref().and_then(|m| m.parse().ok());
    }
    if raw.steps.is_empty() {
        return Err(field(
            "steps",
            "has no steps: expected at least one".to_owned(),
        ));
    }
    let mut steps: Vec<Step> = Vec::with_capacity(raw.steps.len());
    for (i, value) in raw.steps.into_iter().enumerate() {
        let step_id = value.get("id").and_then(Value::as_str).map(str::to_owned);
        let error = |field: &str, reason: String| ExerciseError::Step {
            exercise: id.clone(),
            number: i + 1,
            id: step_id.clone(),
            field: field.to_owned(),
            reason,
        };
        let raw: RawStep = serde_json::from_value(value).map_err(|e| error("", e.to_string()))?;
        let step = step(raw).map_err(|(f, reason)| error(&f, reason))?;
        if steps.iter().any(|s| s.id == step.id) {
            return Err(error(
                "id",
                format!("\"{}\" is the id of an earlier step", step.id),
            ));
        }
        steps.push(step);
    }
    Ok(Exercise {
        id: raw.id,
        title: raw.title,
        dataset: raw.dataset,
        summary: raw.summary,
        start,
        steps,
    })
}

/// A field's error: its name within the step and what is wrong.
type FieldError = (String, String);

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn step(raw: RawStep) -> Result<Step, FieldError> {
    let err = |f: &str, r: &str| (f.to_owned(), r.to_owned());
    if !is_id(&raw.id) {
        return Err(err(
            "id",
            "expected lower-case letters, digits and '-' (it is part of links)",
        ));
    }
    for (name, text) in [
        ("title", &raw.title),
        ("question", &raw.question),
        ("task", &raw.task),
        ("explanation", &raw.explanation),
    ] {
        if text.trim().is_empty() {
            return Err(err(name, "is empty"));
        }
    }
    if raw.hints.is_empty() || raw.hints.iter().any(|h| h.trim().is_empty()) {
        return Err(err("hints", "expected at least one hint, none empty"));
    }
    let own = setup(&raw.setup).map_err(|(f, r)| (format!("setup.{f}"), r))?;
    let check = match raw.check {
        RawCheck::Number {
            quantity,
            reading,
            expected,
            tolerance,
        } => {
            let quantity = quantity_of(&quantity).map_err(|r| ("check.quantity".to_owned(), r))?;
            if !quantity.is_live() {
                return Err(err(
                    "check.quantity",
                    "is a cited-only quantity (permutation or multilevel): a step can cite it \
                     under \"figures\" but not ask for it",
                ));
            }
            number(expected, tolerance).map_err(|(f, r)| (format!("check.{f}"), r))?;
            Check::Number(NumberCheck {
                quantity,
                reading,
                expected,
                tolerance,
            })
        }
        RawCheck::Choice { options, answer } => {
            if options.len() < 2 || options.iter().any(|o| o.trim().is_empty()) {
                return Err(err(
                    "check.options",
                    "expected at least two options, none empty",
                ));
            }
            if answer >= options.len() {
                return Err((
                    "check.answer".to_owned(),
                    format!(
                        "{answer} is not an option: expected 0 to {} (the options count from 0)",
                        options.len() - 1
                    ),
                ));
            }
            Check::Choice(ChoiceCheck { options, answer })
        }
        RawCheck::State {} => {
            if own == Setup::default() {
                return Err(err(
                    "setup",
                    "a \"state\" check needs a setup saying what the app should show",
                ));
            }
            Check::State
        }
    };
    let figures = raw
        .figures
        .into_iter()
        .enumerate()
        .map(|(i, f)| figure(f).map_err(|(field, r)| (format!("figures[{i}].{field}"), r)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Step {
        id: raw.id,
        title: raw.title,
        question: raw.question,
        task: raw.task,
        setup: own,
        check,
        hints: raw.hints,
        explanation: raw.explanation,
        figures,
    })
}

fn figure(raw: RawFigure) -> Result<Figure, FieldError> {
    let quantity = quantity_of(&raw.quantity).map_err(|r| ("quantity".to_owned(), r))?;
    number(raw.expected, raw.tolerance)?;
    let own = setup(&raw.setup).map_err(|(f, r)| (format!("setup.{f}"), r))?;
    let random = raw
        .random
        .iter()
        .map(|t| RandomTerm::parse(t).map_err(|e| ("random".to_owned(), e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let multilevel = matches!(quantity, Quantity::Multilevel(_));
    if multilevel && random.is_empty() {
        return Err((
            "random".to_owned(),
            "a multilevel quantity needs its random-effects terms, e.g. [\"~ 1 | paper/id\"]"
                .to_owned(),
        ));
    }
    if !multilevel && !random.is_empty() {
        return Err((
            "random".to_owned(),
            "only the mv_ quantities are of a multilevel model".to_owned(),
        ));
    }
    Ok(Figure {
        quantity,
        reading: raw.reading,
        expected: raw.expected,
        tolerance: raw.tolerance,
        setup: own,
        random,
    })
}

fn quantity_of(name: &str) -> Result<Quantity, String> {
    name.parse()
        .map_err(|e: super::quantity::UnknownQuantity| e.to_string())
}

fn number(expected: f64, tolerance: f64) -> Result<(), FieldError> {
    if !expected.is_finite() {
        return Err(("expected".to_owned(), "expected a finite number".to_owned()));
    }
    if !(tolerance.is_finite() && tolerance > 0.0) {
        return Err((
            "tolerance".to_owned(),
            format!("{tolerance} is not a tolerance: expected a positive number"),
        ));
    }
    Ok(())
}

fn setup(raw: &RawSetup) -> Result<Setup, FieldError> {
    let measure = raw
        .measure
        .as_deref()
        .map(|m| {
            m.parse()
                .map_err(|e: crate::data::effect_size::UnknownMeasure| {
                    ("measure".to_owned(), e.to_string())
                })
        })
        .transpose()?;
    let method = raw
        .method
        .as_deref()
        .map(|m| {
            Tau2Method::from_metafor_name(m).ok_or_else(|| {
                (
                    "method".to_owned(),
                    format!("unknown estimator \"{m}\": expected metafor's name (REML, ML, DL, PM, EB, HE, HS, SJ, FE, EE)"),
                )
            })
        })
        .transpose()?;
    let test = raw
        .test
        .as_deref()
        .map(|t| {
            Test::from_metafor_name(t).ok_or_else(|| {
                (
                    "test".to_owned(),
                    format!("unknown test \"{t}\": expected \"z\" or \"knha\""),
                )
            })
        })
        .transpose()?;
    if let Some(level) = raw.level {
        if !(level > 0.0 && level < 100.0) {
            return Err((
                "level".to_owned(),
                format!("{level} is not a confidence level: expected a percentage such as 95"),
            ));
        }
    }
    if let Some(terms) = &raw.terms {
        if let Some(bad) = terms.iter().find(|t| !is_term(t)) {
            return Err((
                "terms".to_owned(),
                format!("\"{bad}\" is not one term of a model formula, as R labels it (ablat, factor(alloc), ablat:year)"),
            ));
        }
    }
    Ok(Setup {
        measure,
        terms: raw.terms.clone(),
        method,
        test,
        level: raw.level,
        warning: raw.warning.clone(),
    })
}

/// Whether `label` is a formula term as R labels it: a formula of that term alone has that
/// one term.
fn is_term(label: &str) -> bool {
    Formula::parse(label).is_ok() && crate::data::formula::edit::terms(label) == [label.to_owned()]
}
