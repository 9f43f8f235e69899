//! Guided exercises (issue 16): a short sequence of steps on a bundled dataset, each a
//! question, what to do in the app, and an answer the app checks against the live analysis.
//!
//! Exercises are data, not code: one JSON file per exercise under `assets/exercises/`, in the
//! format `assets/exercises/README.md` documents. This module is pure (no web, no storage):
//!
//! - [`parse`]: text → [`Exercise`], validated, with errors that name the exercise and step;
//! - [`Quantity`]: the numbers a step can check or cite, read from an [`Analysis`] record;
//! - [`check`]: a student's answer and the page's state → a [`Verdict`];
//! - [`progress`]: what a student has done (kept in local storage by the page) and the URL
//!   fragment that links to an exercise or a step;
//! - [`bundled`]: the eight exercises compiled into the program.
//!
//! [`Analysis`]: crate::analysis::Analysis

mod bundled;
pub mod check;
mod error;
mod parse;
pub mod progress;
mod quantity;

pub use bundled::{bundled, BUNDLED_FILES};
pub use check::{check, Answer, Live, Mismatch, Verdict};
pub use error::ExerciseError;
pub use parse::parse;
pub use quantity::{MultilevelQuantity, Quantity};

use crate::data::clusters::RandomTerm;
use crate::data::effect_size::Measure;
use crate::stats::{Tau2Method, Test};

/// The version of the exercise format this program reads (the file's `"format"`).
pub const FORMAT: u32 = 1;

/// One exercise: a dataset, the model it starts from, and its steps in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Exercise {
    /// Short name used in links and in saved progress (`heterogeneity`).
    pub id: String,
    /// Title shown at the top of the panel.
    pub title: String,
    /// The bundled example (`bcg.csv`) the exercise works on.
    pub dataset: String,
    /// What the exercise is about, shown before the first step.
    pub summary: String,
    /// The state "Load the exercise's data" sets up; complete (terms, method, test given).
    pub start: Setup,
    /// The steps, at least one.
    pub steps: Vec<Step>,
}

impl Exercise {
    /// The state a step needs: the exercise's start with the step's own settings over it.
    pub fn required(&self, step: &Step) -> Setup {
        self.start.overlay(&step.setup)
    }

    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }
}

/// One step: the question, the task in the app, how the answer is checked, hints, and the
/// explanation shown once the answer is checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Short name, unique in the exercise (`q`, `tau2`).
    pub id: String,
    /// Title of the step.
    pub title: String,
    /// What the student is asked.
    pub question: String,
    /// What to do in the app to find the answer.
    pub task: String,
    /// The state the step needs, over the exercise's start (only what changes).
    pub setup: Setup,
    /// How the answer is checked.
    pub check: Check,
    /// Hints, shown one at a time on request.
    pub hints: Vec<String>,
    /// The worked explanation, shown after the answer is checked (or on request).
    pub explanation: String,
    /// Numbers the question or explanation cites, checked against the engine by the native
    /// tests only (so that an explanation cannot teach a wrong number).
    pub figures: Vec<Figure>,
}

/// How a step's answer is checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// A number the student reads off the app, compared with the live analysis.
    Number(NumberCheck),
    /// One option among several.
    Choice(ChoiceCheck),
    /// The app itself in the step's state (a model with `ablat` and Knapp–Hartung, say).
    State,
}

/// A number read off the app, right when it is within `tolerance` of the live analysis's
/// value, the app being in the step's state.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberCheck {
    /// What to read.
    pub quantity: Quantity,
    /// Whether the number is on the reading scale (a risk ratio, not a log risk ratio).
    pub reading: bool,
    /// Its value in the step's state, as metafor computes it (checked by the native tests).
    pub expected: f64,
    /// How far an answer may be from the live value and still be right.
    pub tolerance: f64,
}

/// A choice among options.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceCheck {
    /// The options, at least two.
    pub options: Vec<String>,
    /// The index of the right one.
    pub answer: usize,
}

/// A number a step cites, with the state it is computed in.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// What it is.
    pub quantity: Quantity,
    /// Whether it is on the reading scale.
    pub reading: bool,
    /// Its value.
    pub expected: f64,
    /// How close the engine must come.
    pub tolerance: f64,
    /// The state it is computed in, over the exercise's start.
    pub setup: Setup,
    /// Random-effects terms of a multilevel model (`~ 1 | paper/id`), for the multilevel
    /// quantities only.
    pub random: Vec<RandomTerm>,
}

/// A state of the app. Fields left `None` are not asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Setup {
    /// The effect-size measure; `None` for the example's own.
    pub measure: Option<Measure>,
    /// The model's terms as R labels them (`ablat`, `factor(alloc)`, `ablat:year`), in any
    /// order; empty for intercept-only.
    pub terms: Option<Vec<String>>,
    /// The τ² estimator.
    pub method: Option<Tau2Method>,
    /// The test of coefficients.
    pub test: Option<Test>,
    /// The confidence level in percent.
    pub level: Option<f64>,
    /// A warning whose title starts with this text must be shown (`Ecological bias`).
    pub warning: Option<String>,
}

impl Setup {
    /// This setup with `over`'s settings replacing its own where `over` gives them.
    pub fn overlay(&self, over: &Setup) -> Setup {
        Setup {
            measure: over.measure.or(self.measure),
            terms: over.terms.clone().or_else(|| self.terms.clone()),
            method: over.method.or(self.method),
            test: over.test.or(self.test),
            level: over.level.or(self.level),
            warning: over.warning.clone().or_else(|| self.warning.clone()),
        }
    }

    /// The formula's right-hand side of these terms; `None` for intercept-only (or unset).
    pub fn formula(&self) -> Option<String> {
        self.terms
            .as_ref()
            .filter(|t| !t.is_empty())
            .map(|t| t.join(" + "))
    }
}

#[cfg(test)]
mod tests;
