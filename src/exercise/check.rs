//! Checking a step: whether the page is in the step's state ([`Mismatch`]es if not), and
//! whether the student's answer is right ([`Verdict`]). A number is compared with the live
//! analysis, not with the file, so that the student's own model is the judge; the file's
//! `expected` value is what the native tests hold the engine to.

use std::fmt;

use super::{Check, Exercise, Setup, Step};
use crate::analysis::Analysis;
use crate::app::{is_average, Averages, ColumnState, DataState, ModelState};
use crate::data::effect_size::Measure;
use crate::data::parse::{ColumnKind, Table};
use crate::guidance::warnings;
use crate::stats::{Tau2Method, Test};

/// The page as a check sees it.
#[derive(Debug, Clone, Copy)]
pub struct Live<'a> {
    /// The data (which example, while unchanged).
    pub data: &'a DataState,
    /// The column roles and measure.
    pub columns: &'a ColumnState,
    /// The model settings.
    pub model: &'a ModelState,
    /// The answers about study-level averages.
    pub averages: &'a Averages,
    /// The parsed table, if the text is one: it says which columns are text (always coded
    /// as factors, whether the formula writes `tester` or `factor(tester)`).
    pub table: Option<&'a Table>,
    /// The analysis shown, if there is one (and it is up to date).
    pub analysis: Option<&'a Analysis>,
}

/// The student's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The text typed for a number.
    Number(String),
    /// The option chosen.
    Choice(usize),
    /// Nothing to type: a state check.
    None,
}

/// Something the page shows differently from what the step needs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Mismatch {
    /// Another dataset is loaded (or the example was edited).
    Dataset {
        /// The example needed.
        expected: String,
    },
    /// Another effect-size measure.
    Measure {
        /// The measure needed.
        expected: Measure,
    },
    /// Other model terms.
    Terms {
        /// The terms needed; empty for intercept-only.
        expected: Vec<String>,
    },
    /// Another τ² estimator.
    Method {
        /// The estimator needed.
        expected: Tau2Method,
    },
    /// Another test.
    Test {
        /// The test needed.
        expected: Test,
    },
    /// Another confidence level.
    Level {
        /// The level needed, in percent.
        expected: f64,
    },
    /// A warning is not shown.
    Warning {
        /// The start of its title.
        expected: String,
    },
    /// The analysis is not there yet (computing, or it failed).
    NoAnalysis,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dataset { expected } => write!(
                f,
                "load the exercise's dataset ({expected}) with \"Load the exercise's data\""
            ),
            Self::Measure { expected } => {
                write!(f, "compute the effect sizes as {}", expected.name())
            }
            Self::Terms { expected } if expected.is_empty() => {
                f.write_str("remove every moderator (an intercept-only model)")
            }
            Self::Terms { expected } => {
                write!(f, "use exactly these model terms: {}", expected.join(", "))
            }
            Self::Method { expected } => {
                write!(f, "choose the estimator of τ² {}", expected.metafor_name())
            }
            Self::Test { expected } => f.write_str(match expected {
                Test::KnappHartung => "choose the Knapp–Hartung test",
                _ => "choose the z test",
            }),
            Self::Level { expected } => write!(f, "set the confidence level to {expected} %"),
            Self::Warning { expected } => {
                write!(f, "make the results show the warning \"{expected}…\"")
            }
            Self::NoAnalysis => f.write_str("wait for the analysis to finish"),
        }
    }
}

/// What a check says.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The answer is right.
    Right,
    /// The answer is wrong.
    Wrong,
    /// The page is not in the step's state; the answer was not judged.
    NotSetUp(Vec<Mismatch>),
    /// The typed text is not a number, or no option was chosen.
    NoAnswer,
}

/// How the page differs from `setup` on `exercise`'s dataset; empty when it matches.
pub fn mismatches(exercise: &Exercise, setup: &Setup, live: &Live) -> Vec<Mismatch> {
    let mut out = Vec::new();
    if live.data.example.as_deref() != Some(exercise.dataset.as_str()) {
        out.push(Mismatch::Dataset {
            expected: exercise.dataset.clone(),
        });
    }
    if let Some(m) = setup.measure {
        if live.columns.measure != Some(m) {
            out.push(Mismatch::Measure { expected: m });
        }
    }
    if let Some(terms) = &setup.terms {
        let mut want: Vec<String> = terms.iter().map(|t| same_term(t, live.table)).collect();
        let mut have: Vec<String> = live
            .model
            .terms()
            .iter()
            .map(|t| same_term(t, live.table))
            .collect();
        want.sort_unstable();
        have.sort_unstable();
        if want != have {
            out.push(Mismatch::Terms {
                expected: terms.clone(),
            });
        }
    }
    if let Some(m) = setup.method.filter(|&m| m != live.model.method) {
        out.push(Mismatch::Method { expected: m });
    }
    if let Some(t) = setup.test.filter(|&t| t != live.model.test) {
        out.push(Mismatch::Test { expected: t });
    }
    if let Some(l) = setup.level.filter(|l| (l - live.model.level).abs() > 1e-9) {
        out.push(Mismatch::Level { expected: l });
    }
    let needs_analysis = setup.warning.is_some();
    match (live.analysis, &setup.warning) {
        (None, _) if needs_analysis => out.push(Mismatch::NoAnalysis),
        (Some(a), Some(title)) => {
            let averages: Vec<String> = a
                .model
                .columns()
                .into_iter()
                .filter(|c| is_average(live.averages, c))
                .map(str::to_owned)
                .collect();
            if !warnings(a, &averages)
                .iter()
                .any(|w| w.title.starts_with(title.as_str()))
            {
                out.push(Mismatch::Warning {
                    expected: title.clone(),
                });
            }
        }
        _ => {}
    }
    out
}

/// A term label with `factor(c)` written `c` for a text column `c`, which a formula codes as
/// a factor either way: `weeks:factor(tester)` and `weeks:tester` are the same term.
fn same_term(label: &str, table: Option<&Table>) -> String {
    let is_text =
        |c: &str| table.is_some_and(|t| t.column(c).is_ok_and(|c| c.kind == ColumnKind::Text));
    label
        .split(':')
        .map(|part| {
            match part
                .strip_prefix("factor(")
                .and_then(|p| p.strip_suffix(')'))
            {
                Some(c) if is_text(c) => c,
                _ => part,
            }
        })
        .collect::<Vec<_>>()
        .join(":")
}

/// Judges `answer` to `step` of `exercise` on the page `live`.
pub fn check(exercise: &Exercise, step: &Step, answer: &Answer, live: &Live) -> Verdict {
    match &step.check {
        Check::Choice(c) => match answer {
            Answer::Choice(i) if *i == c.answer => Verdict::Right,
            Answer::Choice(_) => Verdict::Wrong,
            _ => Verdict::NoAnswer,
        },
        Check::State => {
            let missing = mismatches(exercise, &exercise.required(step), live);
            if missing.is_empty() {
                Verdict::Right
            } else {
                Verdict::NotSetUp(missing)
            }
        }
        Check::Number(n) => {
            let Answer::Number(text) = answer else {
                return Verdict::NoAnswer;
            };
            let Some(typed) = parse_number(text) else {
                return Verdict::NoAnswer;
            };
            let mut missing = mismatches(exercise, &exercise.required(step), live);
            let value = live
                .analysis
                .and_then(|a| n.quantity.of(a, live.columns.measure, n.reading));
            match value {
                _ if !missing.is_empty() => Verdict::NotSetUp(missing),
                None => {
                    missing.push(Mismatch::NoAnalysis);
                    Verdict::NotSetUp(missing)
                }
                Some(v) if (typed - v).abs() <= n.tolerance => Verdict::Right,
                Some(_) => Verdict::Wrong,
            }
        }
    }
}

/// A number as a student types it: `0.31`, `0,31` (decimal comma), `−0.03` (a typographic
/// minus), `92.2 %`, ` 152.2 `; `None` for anything else.
pub fn parse_number(text: &str) -> Option<f64> {
    let t = text
        .trim()
        .trim_end_matches('%')
        .trim()
        .replace(['\u{2212}', '\u{2013}'], "-");
    // A lone comma is a decimal comma; with a point too it separates thousands.
    let t = if t.contains('.') {
        t.replace(',', "")
    } else {
        t.replace(',', ".")
    };
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}
