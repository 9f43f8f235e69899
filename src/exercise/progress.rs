//! A student's progress, as the page keeps it in local storage (nothing leaves the browser),
//! and the URL fragment a teacher links with: `#exercise=ID` or `#exercise=ID&step=N`
//! (N from 1). Both plain data here; the page reads and writes the browser.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Exercise;

/// What a student has done in every exercise they opened.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Progress {
    /// The exercise open when the page was left, if any.
    pub open: Option<String>,
    /// Per exercise id.
    pub exercises: BTreeMap<String, ExerciseProgress>,
}

/// What a student has done in one exercise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExerciseProgress {
    /// The step shown, from 0.
    pub step: usize,
    /// Per step id.
    pub steps: BTreeMap<String, StepProgress>,
}

/// What a student has done in one step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StepProgress {
    /// Answers checked (right or wrong; not those refused for a wrong setup).
    pub attempts: u32,
    /// Whether the step has been answered right.
    pub done: bool,
    /// Whether it was right at the first attempt.
    pub first_try: bool,
    /// Hints shown.
    pub hints: u32,
}

/// Steps done and right at the first try, of how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Steps answered right.
    pub done: usize,
    /// Of those, right at the first attempt.
    pub first_try: usize,
    /// Steps in the exercise.
    pub total: usize,
}

impl Progress {
    /// Progress saved by [`Progress::to_json`]; anything unreadable starts afresh, since
    /// losing a student's ticks is better than a page that does not open.
    pub fn from_json(text: &str) -> Self {
        serde_json::from_str(text).unwrap_or_default()
    }

    /// The progress as JSON, for local storage.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .expect("the progress is strings, integers and booleans, which always serialise")
    }

    /// The progress in exercise `id` (empty if never opened).
    pub fn of(&self, id: &str) -> ExerciseProgress {
        self.exercises.get(id).cloned().unwrap_or_default()
    }

    /// Records an answer judged right or wrong.
    pub fn answered(&mut self, exercise: &str, step: &str, right: bool) {
        let s = self.step_mut(exercise, step);
        if !s.done {
            if right && s.attempts == 0 {
                s.first_try = true;
            }
            s.done = right;
        }
        s.attempts += 1;
    }

    /// Records a hint shown.
    pub fn hint(&mut self, exercise: &str, step: &str) {
        self.step_mut(exercise, step).hints += 1;
    }

    /// Moves exercise `id` to step `index`.
    pub fn go_to(&mut self, exercise: &str, index: usize) {
        self.exercises.entry(exercise.to_owned()).or_default().step = index;
    }

    /// Forgets everything done in exercise `id`.
    pub fn restart(&mut self, exercise: &str) {
        self.exercises.remove(exercise);
    }

    /// The tally of `exercise`.
    pub fn tally(&self, exercise: &Exercise) -> Tally {
        let p = self.of(&exercise.id);
        let of = |f: fn(&StepProgress) -> bool| {
            exercise
                .steps
                .iter()
                .filter(|s| p.steps.get(&s.id).is_some_and(f))
                .count()
        };
        Tally {
            done: of(|s| s.done),
            first_try: of(|s| s.first_try),
            total: exercise.steps.len(),
        }
    }

    fn step_mut(&mut self, exercise: &str, step: &str) -> &mut StepProgress {
        self.exercises
            .entry(exercise.to_owned())
            .or_default()
            .steps
            .entry(step.to_owned())
            .or_default()
    }
}

/// A place in the exercises a link points to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The exercise id.
    pub exercise: String,
    /// The step, from 0, when the link names one.
    pub step: Option<usize>,
}

/// The place in a URL fragment (`#exercise=fixed-random&step=2`, with or without `#`);
/// `None` for any other fragment (a share link's `#s=…` among them).
pub fn place_of(fragment: &str) -> Option<Place> {
    let f = fragment.strip_prefix('#').unwrap_or(fragment);
    let mut exercise = None;
    let mut step = None;
    for pair in f.split('&') {
        match pair.split_once('=') {
            Some(("exercise", id)) if !id.is_empty() => exercise = Some(id.to_owned()),
            Some(("step", n)) => {
                step = n.parse::<usize>().ok().filter(|&n| n >= 1).map(|n| n - 1);
            }
            _ => {}
        }
    }
    Some(Place {
        exercise: exercise?,
        step,
    })
}

/// The fragment of a place, with its `#`.
pub fn fragment_of(place: &Place) -> String {
    match place.step {
        Some(i) => format!("#exercise={}&step={}", place.exercise, i + 1),
        None => format!("#exercise={}", place.exercise),
    }
}
