//! The web app's whole state as one plain record — data, column roles, model formula and
//! settings — which the interface edits, localStorage keeps between visits and a share link
//! carries in its URL fragment.
//!
//! Settings are kept as the text the user chose (`"REML"`, `"knha"`, `"RR"`) so that the
//! record always (de)serialises, whatever was typed or stored by an older version; they are
//! checked when an analysis is asked for ([`Session::spec`]), where a wrong one becomes a
//! readable [`SessionError`]. The moderator checkboxes and the formula box edit the same
//! `formula` string: the editing methods read it as R's term labels, change the terms, and write
//! it back as `a + b + a:b`; a formula that does not parse is never rewritten.

use std::collections::BTreeMap;
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use miniz_oxide::inflate::TINFLStatus;
use serde::{Deserialize, Serialize};

use super::analysis::{analyse, Analysis, AnalysisError, AnalysisSpec};
use super::effect_size::{Measure, RawRole, UnknownMeasure};
use super::examples::{example, Example};
use super::formula::{column_source, Formula, Kind};
use super::parse::{parse, ColumnKind, Table};
use super::roles::{self, Roles};
use crate::stats::{ModelSpec, Tau2Method, Test};

/// Version tag of the share-link format, the part before the first `.` of a fragment.
const FRAGMENT_VERSION: &str = "v1";

/// Largest decompressed session a share link may expand to: far above any table pasted into a
/// page, and a bound on what a crafted link (a "deflate bomb") can make the page allocate.
pub const MAX_FRAGMENT_JSON: usize = 64 << 20;

/// Why a session cannot be analysed or restored. Each displays as one sentence.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SessionError {
    /// The τ² estimator is not one of metafor's names.
    UnknownMethod {
        /// The name stored in the session.
        name: String,
    },
    /// The test is neither `z` nor `knha`.
    UnknownTest {
        /// The name stored in the session.
        name: String,
    },
    /// The effect-size measure is not one of metafor's names.
    UnknownMeasure(UnknownMeasure),
    /// A raw-data role that `escalc` does not have.
    UnknownRole {
        /// The role name stored in the session.
        role: String,
        /// The column assigned to it.
        column: String,
    },
    /// The confidence level is not strictly between 0 and 100 percent.
    InvalidLevel {
        /// The level, in percent.
        level: f64,
    },
    /// The data or the model cannot be analysed; the layer's own error says where.
    Analysis(AnalysisError),
    /// Saved state that is not a session (from localStorage or inside a share link).
    Json {
        /// The JSON reader's message, with line and column.
        message: String,
    },
    /// A share link written by a newer version of the app, or not by the app at all.
    FragmentVersion {
        /// The version tag found.
        found: String,
    },
    /// A share link whose content is damaged (cut short when copied, or edited).
    Fragment {
        /// What is wrong with it.
        reason: String,
    },
    /// A share link that expands to more than [`MAX_FRAGMENT_JSON`] bytes: not written by the
    /// app (a "deflate bomb"), and refused before it is unpacked further.
    FragmentTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownMethod { name } => write!(
                f,
                "unknown estimator \"{name}\": expected one of {}",
                Tau2Method::ALL.map(Tau2Method::metafor_name).join(", ")
            ),
            Self::UnknownTest { name } => {
                write!(f, "unknown test \"{name}\": expected z or knha")
            }
            Self::UnknownMeasure(e) => e.fmt(f),
            Self::UnknownRole { role, column } => write!(
                f,
                "column \"{column}\" is given the unknown role \"{role}\": expected one of {}",
                RawRole::ALL.map(RawRole::name).join(", ")
            ),
            Self::InvalidLevel { level } => write!(
                f,
                "confidence level {level} %: expected a level between 0 and 100, such as 95"
            ),
            Self::Analysis(e) => e.fmt(f),
            Self::Json { message } => write!(f, "the saved session cannot be read: {message}"),
            Self::FragmentVersion { found } => write!(
                f,
                "the link holds a session in format \"{found}\": expected \"{FRAGMENT_VERSION}\" (it may come from a newer version of the app)"
            ),
            Self::Fragment { reason } => write!(
                f,
                "the link does not hold a readable session ({reason}): it may have been cut short when copied"
            ),
            Self::FragmentTooLarge { limit } => write!(
                f,
                "the link expands to more than {} MiB, more than any session the app writes: expected a link made by \"Share link\"",
                limit >> 20
            ),
        }
    }
}

impl std::error::Error for SessionError {}

impl From<AnalysisError> for SessionError {
    fn from(e: AnalysisError) -> Self {
        Self::Analysis(e)
    }
}

/// The app's whole persisted state. Column choices left `None` are guessed from the header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// A field missing from saved state (written before the field existed) takes its default.
#[serde(default)]
pub struct Session {
    /// The data as pasted, uploaded or loaded from an example.
    pub text: String,
    /// File name of the bundled example the data came from, while unchanged.
    pub example: Option<String>,
    /// Study-label column.
    pub slab: Option<String>,
    /// Effect-size column.
    pub yi: Option<String>,
    /// Sampling-variance column.
    pub vi: Option<String>,
    /// Standard-error column.
    pub sei: Option<String>,
    /// `escalc` raw-data role name (`"ai"`, `"n1i"`, …) → column.
    pub raw: BTreeMap<String, String>,
    /// Effect-size measure to compute from raw data (`"RR"`, `"SMD"`, …); `None` reads `yi`
    /// with `vi` or `sei`.
    pub measure: Option<String>,
    /// Right-hand side of the model formula in R's syntax; `""` for intercept-only.
    pub formula: String,
    /// Factor column → its reference level.
    pub references: BTreeMap<String, String>,
    /// τ² estimator, metafor's name (`"REML"`, `"DL"`, …).
    pub method: String,
    /// `"z"` or `"knha"` (Knapp–Hartung).
    pub test: String,
    /// Confidence level in percent (95.0).
    #[serde(deserialize_with = "level_or_default")]
    pub level: f64,
    /// Moderator column → the value (or factor level) to predict the effect at.
    pub predict_at: BTreeMap<String, String>,
    /// The user's answer to "is this column a study-level average of patient
    /// characteristics?", overriding [`is_study_level_average`].
    pub averages: BTreeMap<String, bool>,
}

impl Default for Session {
    /// The BCG vaccine trials as a first visit shows them: log risk ratios from the 2×2
    /// tables, no moderators yet, REML with z tests and 95 % intervals (metafor's defaults).
    fn default() -> Self {
        let mut session = Self {
            text: String::new(),
            example: None,
            slab: None,
            yi: None,
            vi: None,
            sei: None,
            raw: BTreeMap::new(),
            measure: None,
            formula: String::new(),
            references: BTreeMap::new(),
            method: ModelSpec::default().method.metafor_name().to_owned(),
            test: "z".to_owned(),
            level: 95.0,
            predict_at: BTreeMap::new(),
            averages: BTreeMap::new(),
        };
        session.load_example(
            example("bcg.csv").expect("bcg.csv is bundled; examples::tests checks the index"),
        );
        // A first visit starts from the pooled effect; moderators are the user's to add.
        session.formula.clear();
        session
    }
}

impl Session {
    /// The typed analysis settings, or the first setting that is not valid.
    ///
    /// References and prediction values are passed only for columns the formula uses, and the
    /// prediction point only once it has a value for every one of them, so that a half-filled
    /// prediction form or a setting left from an earlier model does not block the fit.
    pub fn spec(&self) -> Result<AnalysisSpec, SessionError> {
        let method = Tau2Method::from_metafor_name(self.method.trim()).ok_or_else(|| {
            SessionError::UnknownMethod {
                name: self.method.clone(),
            }
        })?;
        let test =
            Test::from_metafor_name(self.test.trim()).ok_or_else(|| SessionError::UnknownTest {
                name: self.test.clone(),
            })?;
        // Written as a positive check so that NaN is rejected too.
        if !(self.level > 0.0 && self.level < 100.0) {
            return Err(SessionError::InvalidLevel { level: self.level });
        }
        let measure = self
            .measure
            .as_deref()
            .map(str::parse::<Measure>)
            .transpose()
            .map_err(SessionError::UnknownMeasure)?;
        let raw = self
            .raw
            .iter()
            .map(|(role, column)| {
                RawRole::from_name(role)
                    .map(|r| (r, column.clone()))
                    .ok_or_else(|| SessionError::UnknownRole {
                        role: role.clone(),
                        column: column.clone(),
                    })
            })
            .collect::<Result<_, _>>()?;
        let mods = (!self.formula.trim().is_empty()).then(|| self.formula.clone());
        let used: Vec<String> = mods
            .as_deref()
            .and_then(|m| Formula::parse(m).ok())
            .map(|f| f.columns().into_iter().map(str::to_owned).collect())
            .unwrap_or_default();
        let references = self
            .references
            .iter()
            .filter(|(c, _)| used.contains(c))
            .map(|(c, l)| (c.clone(), l.clone()))
            .collect();
        let predict_at = (!used.is_empty() && used.iter().all(|c| self.predict_at.contains_key(c)))
            .then(|| {
                used.iter()
                    .map(|c| (c.clone(), self.predict_at[c].clone()))
                    .collect()
            });
        Ok(AnalysisSpec {
            columns: Roles {
                slab: self.slab.clone(),
                yi: self.yi.clone(),
                vi: self.vi.clone(),
                sei: self.sei.clone(),
                raw,
            },
            measure,
            mods,
            references,
            model: ModelSpec {
                method,
                test,
                level: self.level / 100.0,
                ..ModelSpec::default()
            },
            predict_at,
        })
    }

    /// Runs the analysis of the session's data with its settings.
    pub fn analyse(&self) -> Result<Analysis, SessionError> {
        Ok(analyse(&self.text, &self.spec()?)?)
    }

    /// The formula's term labels as R writes them, in model order (`"ablat"`,
    /// `"factor(alloc)"`, `"ablat:year"`); empty for `""` and for a formula that does not parse.
    pub fn terms(&self) -> Vec<String> {
        self.model()
            .map(|m| m.terms.iter().map(|t| label(t)).collect())
            .unwrap_or_default()
    }

    /// Whether the formula has a main effect of `column`, as `column` or `factor(column)`.
    pub fn has_moderator(&self, column: &str) -> bool {
        self.model()
            .is_some_and(|m| m.main_effect(column).is_some())
    }

    /// Whether `column` enters the model as a factor: written `factor(column)`, or a text
    /// column of `table` (which a formula always codes as a factor).
    pub fn is_categorical(&self, column: &str, table: &Table) -> bool {
        let as_factor = self.model().is_some_and(|m| {
            m.terms
                .iter()
                .flatten()
                .any(|v| v.column == column && v.kind == Kind::Factor)
        });
        as_factor
            || table
                .column(column)
                .is_ok_and(|c| c.kind == ColumnKind::Text)
    }

    /// Adds the main effect of `column` (as `factor(column)` if `categorical`), or switches an
    /// existing one to that coding; when `on` is false, removes every term that uses the
    /// column, interactions and powers included. A formula that does not parse is left as is.
    pub fn set_moderator(&mut self, column: &str, on: bool, categorical: bool) {
        let Some(mut model) = self.model() else {
            return;
        };
        if on {
            if model.main_effect(column).is_some() {
                self.set_categorical(column, categorical);
                return;
            }
            model.terms.push(vec![Var::new(column, categorical)]);
        } else {
            let before = model.terms.len();
            model.terms.retain(|t| t.iter().all(|v| v.column != column));
            if model.terms.len() == before {
                return;
            }
        }
        self.formula = model.render();
    }

    /// Writes `column` as `factor(column)` (or back as `column`) wherever the formula uses it;
    /// powers `I(column^n)` stay numeric. Turning a factor off forgets its reference level,
    /// which a numeric column cannot have.
    pub fn set_categorical(&mut self, column: &str, categorical: bool) {
        let Some(mut model) = self.model() else {
            return;
        };
        let wanted = if categorical {
            Kind::Factor
        } else {
            Kind::Plain
        };
        let mut changed = false;
        for v in model.terms.iter_mut().flatten() {
            if v.column == column
                && matches!(v.kind, Kind::Plain | Kind::Factor)
                && v.kind != wanted
            {
                v.kind = wanted.clone();
                changed = true;
            }
        }
        if changed {
            if !categorical {
                self.references.remove(column);
            }
            self.formula = model.render();
        }
    }

    /// Adds the interaction `a:b`, with the main effects of `a` and `b` when the formula lacks
    /// them (R users expect `a * b`, and an interaction without its main effects is rarely
    /// meant). Each column keeps the coding (numeric or factor) the formula already gives it.
    pub fn add_interaction(&mut self, a: &str, b: &str) {
        if a == b {
            return;
        }
        let Some(mut model) = self.model() else {
            return;
        };
        let before = model.terms.clone();
        let mut pair = Vec::with_capacity(2);
        for column in [a, b] {
            let var = match model.main_effect(column) {
                Some(v) => v.clone(),
                None => {
                    let factor = model
                        .terms
                        .iter()
                        .flatten()
                        .any(|v| v.column == column && v.kind == Kind::Factor);
                    let v = Var::new(column, factor);
                    model.terms.push(vec![v.clone()]);
                    v
                }
            };
            pair.push(var);
        }
        if !model.terms.iter().any(|t| same_term(t, &pair)) {
            model.terms.push(pair);
        }
        if model.terms != before {
            self.formula = model.render();
        }
    }

    /// Removes the term with this label (as [`Session::terms`] lists it); interactions that
    /// use it stay, as R keeps `a:b` when `a` is dropped.
    pub fn remove_term(&mut self, label_to_remove: &str) {
        let Some(mut model) = self.model() else {
            return;
        };
        let before = model.terms.len();
        model.terms.retain(|t| label(t) != label_to_remove);
        if model.terms.len() != before {
            self.formula = model.render();
        }
    }

    /// Takes new data. Model settings are kept; column choices, formula terms, reference
    /// levels, prediction values and average flags that name a column the new table lacks are
    /// dropped; the measure is kept while the table supplies its columns, else replaced by
    /// the first measure the table's column names supply, or by none when it has `yi`. Text
    /// that is not a table (yet) changes nothing but the text, so that the choices survive
    /// while the user fixes a paste.
    pub fn load_text(&mut self, text: String) {
        self.text = text;
        self.example = None;
        let Ok(table) = parse(&self.text) else {
            return;
        };
        let present = |c: &str| table.column(c).is_ok();
        for slot in [&mut self.slab, &mut self.yi, &mut self.vi, &mut self.sei] {
            if slot.as_deref().is_some_and(|c| !present(c)) {
                *slot = None;
            }
        }
        self.raw.retain(|_, c| present(c));
        if let Some(mut model) = self.model() {
            let before = model.terms.len();
            model.terms.retain(|t| t.iter().all(|v| present(&v.column)));
            if model.terms.len() != before {
                self.formula = model.render();
            }
        }
        self.references.retain(|c, _| present(c));
        self.predict_at.retain(|c, _| present(c));
        self.averages.retain(|c, _| present(c));
        self.measure = self.measure_for(&table);
    }

    /// Loads a bundled example with the roles, measure and formula it suggests; the model
    /// settings (estimator, test, level) stay as the user set them.
    pub fn load_example(&mut self, example: &Example) {
        let column = |role: &str| example.columns.get(role).cloned();
        self.text = example.text.to_owned();
        self.example = Some(example.file.clone());
        self.slab.clone_from(&example.slab);
        self.yi = column("yi");
        self.vi = column("vi");
        self.sei = column("sei");
        self.raw = example
            .columns
            .iter()
            .filter(|(role, _)| RawRole::from_name(role).is_some())
            .map(|(r, c)| (r.clone(), c.clone()))
            .collect();
        self.measure.clone_from(&example.measure);
        self.formula = example.mods.clone().unwrap_or_default();
        self.references.clear();
        self.predict_at.clear();
        self.averages.clear();
    }

    /// Whether `column` is a study-level average of patient characteristics: the user's
    /// answer if given, else the guess of [`is_study_level_average`].
    pub fn is_average(&self, column: &str) -> bool {
        self.averages
            .get(column)
            .copied()
            .unwrap_or_else(|| is_study_level_average(column))
    }

    /// The session as JSON, for localStorage.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .expect("a Session is strings, string-keyed maps and one f64, which always serialise")
    }

    /// A session saved by [`Session::to_json`]; fields it lacks take their defaults.
    pub fn from_json(s: &str) -> Result<Session, SessionError> {
        serde_json::from_str(s).map_err(|e| SessionError::Json {
            message: e.to_string(),
        })
    }

    /// The session for a share link's fragment: `v1.` then the JSON, deflated and in
    /// unpadded base64url, whose characters need no escaping in a URL.
    pub fn to_fragment(&self) -> String {
        let packed = miniz_oxide::deflate::compress_to_vec(self.to_json().as_bytes(), 9);
        format!("{FRAGMENT_VERSION}.{}", URL_SAFE_NO_PAD.encode(packed))
    }

    /// The session in a share link's fragment (with or without its leading `#`).
    pub fn from_fragment(s: &str) -> Result<Session, SessionError> {
        let s = s.trim();
        let s = s.strip_prefix('#').unwrap_or(s);
        let Some((version, payload)) = s.split_once('.') else {
            return Err(SessionError::Fragment {
                reason: format!("no \"{FRAGMENT_VERSION}.\" at its start"),
            });
        };
        if version != FRAGMENT_VERSION {
            return Err(SessionError::FragmentVersion {
                found: version.chars().take(20).collect(),
            });
        }
        let packed = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|e| SessionError::Fragment {
                reason: format!("not base64url: {e}"),
            })?;
        let json = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_FRAGMENT_JSON)
            .map_err(|e| match e.status {
            TINFLStatus::HasMoreOutput => SessionError::FragmentTooLarge {
                limit: MAX_FRAGMENT_JSON,
            },
            _ => SessionError::Fragment {
                reason: format!("the compressed data are damaged: {e}"),
            },
        })?;
        let json = String::from_utf8(json).map_err(|_| SessionError::Fragment {
            reason: "not UTF-8 text".to_owned(),
        })?;
        Session::from_json(&json)
    }

    /// The formula as terms, or `None` if it does not parse.
    fn model(&self) -> Option<Model> {
        if self.formula.trim().is_empty() {
            return Some(Model {
                terms: Vec::new(),
                intercept: true,
                zero_first: false,
            });
        }
        let formula = Formula::parse(&self.formula).ok()?;
        let terms = formula
            .term_vars()
            .into_iter()
            .map(|t| {
                t.into_iter()
                    .map(|(kind, column)| Var {
                        kind,
                        column: column.to_owned(),
                    })
                    .collect()
            })
            .collect();
        let body = self.formula.trim_start();
        let body = body.strip_prefix('~').unwrap_or(body).trim_start();
        Some(Model {
            terms,
            intercept: formula.intercept(),
            zero_first: body.starts_with('0'),
        })
    }

    /// The measure to use for `table` after new data arrive (see [`Session::load_text`]).
    fn measure_for(&self, table: &Table) -> Option<String> {
        let guessed = roles::guess(table);
        let supplied = |m: Measure| {
            m.roles()
                .iter()
                .all(|r| self.raw.contains_key(r.name()) || guessed.raw.contains_key(r))
        };
        let current = self
            .measure
            .as_deref()
            .and_then(|m| m.parse::<Measure>().ok());
        if let Some(m) = current.filter(|&m| supplied(m)) {
            return Some(m.name().to_owned());
        }
        if guessed.yi.is_some() || self.yi.is_some() {
            return None;
        }
        Measure::ALL
            .into_iter()
            .find(|&m| supplied(m))
            .map(|m| m.name().to_owned())
            // Nothing fits: keep the choice, so the analysis names the column it lacks.
            .or_else(|| self.measure.clone())
    }
}

/// The saved confidence level, or 95 % for `null`: JSON has no NaN, so a level the user had
/// cleared (NaN in the form) is saved as `null`, and the rest of the session must still load.
fn level_or_default<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(95.0))
}

/// One variable of a term.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Var {
    kind: Kind,
    column: String,
}

impl Var {
    fn new(column: &str, factor: bool) -> Self {
        Self {
            kind: if factor { Kind::Factor } else { Kind::Plain },
            column: column.to_owned(),
        }
    }

    /// R's label, with the column name as it is (`factor(mean age)`).
    fn label(&self) -> String {
        self.kind.label(&self.column)
    }

    /// Formula source: the label with a column name that is not an identifier in backticks.
    fn source(&self) -> String {
        self.kind.label(&column_source(&self.column))
    }
}

/// A formula term: its variables, in R's order.
type TermVars = Vec<Var>;

fn label(term: &[Var]) -> String {
    term.iter().map(Var::label).collect::<Vec<_>>().join(":")
}

/// Whether two terms have the same variables, in any order (`a:b` is `b:a`).
fn same_term(a: &[Var], b: &[Var]) -> bool {
    a.len() == b.len() && a.iter().all(|v| b.contains(v))
}

/// A parsed formula as editable terms.
#[derive(Debug, Clone)]
struct Model {
    terms: Vec<TermVars>,
    intercept: bool,
    /// Whether the user wrote "no intercept" as a leading `0 +` rather than `- 1`.
    zero_first: bool,
}

impl Model {
    /// The main effect (`col` or `factor(col)`) of `column`.
    fn main_effect(&self, column: &str) -> Option<&Var> {
        self.terms.iter().find_map(|t| match t.as_slice() {
            [v] if v.column == column && matches!(v.kind, Kind::Plain | Kind::Factor) => Some(v),
            _ => None,
        })
    }

    /// The formula text: terms by degree (as R orders them), then the intercept removal as
    /// the user wrote it. Without terms it is `""`, intercept-only: a model with neither
    /// intercept nor terms cannot be fitted.
    fn render(&self) -> String {
        let mut terms: Vec<&TermVars> = self.terms.iter().collect();
        terms.sort_by_key(|t| t.len());
        let sum = terms
            .iter()
            .map(|t| t.iter().map(Var::source).collect::<Vec<_>>().join(":"))
            .collect::<Vec<_>>()
            .join(" + ");
        match (sum.is_empty(), self.intercept, self.zero_first) {
            (true, _, _) | (false, true, _) => sum,
            (false, false, true) => format!("0 + {sum}"),
            (false, false, false) => format!("{sum} - 1"),
        }
    }
}

/// Whether a column's name suggests a study-level average of patient characteristics (mean
/// age, % female, baseline risk, BMI, …): a moderator of that kind risks ecological bias, as an
/// association across studies need not hold between patients within them (Berlin et al., 2002,
/// Stat. Med. 21(3):371–387; Thompson & Higgins, 2002, Stat. Med. 21(11):1559–1573). A guess
/// from the name only, for a warning the user can switch off ([`Session::averages`]).
pub fn is_study_level_average(column: &str) -> bool {
    const WORDS: [&str; 21] = [
        "age",
        "ages",
        "bmi",
        "female",
        "females",
        "male",
        "males",
        "women",
        "men",
        "sex",
        "gender",
        "weight",
        "height",
        "baseline",
        "smokers",
        "smoking",
        "income",
        "education",
        "severity",
        "ethnicity",
        "white",
    ];
    const STATISTICS: [&str; 11] = [
        "mean",
        "avg",
        "average",
        "median",
        "pct",
        "percent",
        "percentage",
        "perc",
        "prop",
        "proportion",
        "fraction",
    ];
    if column.contains('%') {
        return true;
    }
    let lower = column.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let Some(first) = words.first() else {
        return false;
    };
    words
        .iter()
        .any(|w| WORDS.contains(w) || STATISTICS.contains(w))
        // Run-together names: meanage, pctfemale, propmale, avgbmi.
        || STATISTICS
            .iter()
            .any(|s| first.strip_prefix(s).is_some_and(|rest| WORDS.contains(&rest)))
        // Baseline or control-group risk, under its usual names (control event rate, …).
        || words.iter().any(|w| matches!(*w, "control" | "base"))
            && words.iter().any(|w| matches!(*w, "risk" | "rate"))
        || words.iter().any(|w| matches!(*w, "cer" | "baserisk" | "baselinerisk"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A change to a session, for table-driven tests.
    type Edit = fn(&mut Session);

    fn with_formula(formula: &str) -> Session {
        Session {
            formula: formula.to_owned(),
            ..Session::default()
        }
    }

    #[test]
    fn default_is_bcg_log_risk_ratios_intercept_only() {
        let s = Session::default();
        assert_eq!(s.example.as_deref(), Some("bcg.csv"));
        assert_eq!(s.measure.as_deref(), Some("RR"));
        assert_eq!(s.raw["ai"], "tpos");
        assert_eq!(s.raw["di"], "cneg");
        assert_eq!(s.slab.as_deref(), Some("author"));
        assert_eq!((s.formula.as_str(), s.method.as_str()), ("", "REML"));
        assert_eq!((s.test.as_str(), s.level), ("z", 95.0));
        let a = s.analyse().unwrap();
        // metafor: rma(measure = "RR", ai = tpos, ...) on dat.bcg, estimate -0.7145, tau^2 0.3132.
        assert!((a.report.coefficients[0].estimate - -0.7145).abs() < 5e-5);
        assert!((a.report.tau2 - 0.3132).abs() < 5e-5);
    }

    #[test]
    fn spec_types_every_setting() {
        let mut s = with_formula("ablat");
        s.method = "dl".into();
        s.test = "knha".into();
        s.level = 90.0;
        let spec = s.spec().unwrap();
        assert_eq!(spec.model.method, Tau2Method::Dl);
        assert_eq!(spec.model.test, Test::KnappHartung);
        assert!((spec.model.level - 0.9).abs() < 1e-15);
        assert_eq!(spec.measure, Some(Measure::Rr));
        assert_eq!(spec.columns.raw[&RawRole::Bi], "tneg");
        assert_eq!(spec.mods.as_deref(), Some("ablat"));
        assert_eq!(spec.predict_at, None);
    }

    #[test]
    fn spec_passes_references_and_a_complete_prediction_point_for_used_columns_only() {
        let mut s = with_formula("ablat + alloc");
        s.references = BTreeMap::from([
            ("alloc".into(), "random".into()),
            ("year".into(), "1950".into()),
        ]);
        s.predict_at = BTreeMap::from([("ablat".into(), "30".into())]);
        let spec = s.spec().unwrap();
        assert_eq!(spec.references.keys().collect::<Vec<_>>(), ["alloc"]);
        assert_eq!(spec.predict_at, None);
        s.predict_at.insert("alloc".into(), "systematic".into());
        s.predict_at.insert("year".into(), "1960".into());
        let at = s.spec().unwrap().predict_at.unwrap();
        assert_eq!(at.keys().collect::<Vec<_>>(), ["ablat", "alloc"]);
        let a = s.analyse().unwrap();
        let b: Vec<f64> = a.report.coefficients.iter().map(|c| c.estimate).collect();
        assert_eq!(
            a.design.names,
            ["intrcpt", "ablat", "allocalternate", "allocsystematic"]
        );
        let p = a.report.prediction.unwrap();
        assert!((p.pred - (b[0] + 30.0 * b[1] + b[3])).abs() < 1e-12);
    }

    #[test]
    fn spec_errors_are_sentences_naming_the_setting() {
        let cases: [(Edit, &str); 5] = [
            (|s| s.method = "BLUP".into(), "unknown estimator \"BLUP\": expected one of FE, EE, DL, HE, HS, SJ, ML, REML, EB, PM"),
            (|s| s.test = "t".into(), "unknown test \"t\": expected z or knha"),
            (|s| s.level = 100.0, "confidence level 100 %: expected a level between 0 and 100, such as 95"),
            (|s| s.measure = Some("HR".into()), "unknown effect-size measure \"HR\": expected one of OR, RR, RD, SMD, MD, ROM, ZCOR, COR, PLO, PR"),
            (|s| { s.raw.insert("events".into(), "tpos".into()); }, "column \"tpos\" is given the unknown role \"events\": expected one of ai, bi, ci, di, m1i, sd1i, n1i, m2i, sd2i, n2i, ri, ni, xi"),
        ];
        for (edit, message) in cases {
            let mut s = Session::default();
            edit(&mut s);
            assert_eq!(s.spec().unwrap_err().to_string(), message);
        }
        let s = Session {
            level: f64::NAN,
            ..Session::default()
        };
        assert!(matches!(s.spec(), Err(SessionError::InvalidLevel { .. })));
    }

    #[test]
    fn analysis_errors_pass_through() {
        let s = with_formula("latitude");
        let e = s.analyse().unwrap_err();
        assert!(matches!(
            e,
            SessionError::Analysis(AnalysisError::Formula(_))
        ));
        assert!(e.to_string().contains("there is no column \"latitude\""));
    }

    #[test]
    fn terms_are_r_labels_and_empty_for_no_or_broken_formulas() {
        assert_eq!(with_formula("").terms(), Vec::<String>::new());
        assert_eq!(
            with_formula("ablat * year + factor(alloc)").terms(),
            ["ablat", "year", "factor(alloc)", "ablat:year"]
        );
        assert_eq!(with_formula("ablat +").terms(), Vec::<String>::new());
        assert_eq!(
            with_formula("`mean age` + I(ablat^2)").terms(),
            ["mean age", "I(ablat^2)"]
        );
    }

    #[test]
    fn has_moderator_and_is_categorical() {
        let table = parse(Session::default().text.as_str()).unwrap();
        let s = with_formula("ablat:year + factor(year)");
        assert!(!s.has_moderator("ablat"));
        assert!(s.has_moderator("year"));
        assert!(s.is_categorical("year", &table));
        assert!(!s.is_categorical("ablat", &table));
        // A text column is a factor however it is written.
        assert!(Session::default().is_categorical("alloc", &table));
        assert!(!Session::default().is_categorical("nonexistent", &table));
    }

    #[test]
    fn set_moderator_adds_switches_and_removes_with_interactions() {
        let mut s = Session::default();
        s.set_moderator("ablat", true, false);
        assert_eq!(s.formula, "ablat");
        s.set_moderator("alloc", true, true);
        assert_eq!(s.formula, "ablat + factor(alloc)");
        s.set_moderator("alloc", true, false);
        assert_eq!(s.formula, "ablat + alloc");
        s.add_interaction("ablat", "year");
        assert_eq!(s.formula, "ablat + alloc + year + ablat:year");
        s.set_moderator("year", false, false);
        assert_eq!(s.formula, "ablat + alloc");
        s.set_moderator("ablat", false, false);
        s.set_moderator("alloc", false, false);
        assert_eq!(s.formula, "");
    }

    #[test]
    fn edits_keep_the_typed_formula_unless_they_change_it() {
        let mut s = with_formula("ablat*year");
        s.set_moderator("ablat", true, false);
        s.add_interaction("year", "ablat");
        s.set_moderator("alloc", false, false);
        s.remove_term("nothing");
        assert_eq!(s.formula, "ablat*year");
        s.remove_term("ablat:year");
        assert_eq!(s.formula, "ablat + year");
    }

    #[test]
    fn no_intercept_is_kept_as_written() {
        let mut s = with_formula("ablat - 1");
        s.set_moderator("year", true, false);
        assert_eq!(s.formula, "ablat + year - 1");
        let mut s = with_formula("~ 0 + factor(alloc)");
        s.set_moderator("ablat", true, false);
        assert_eq!(s.formula, "0 + factor(alloc) + ablat");
        // Removing the last term leaves the intercept-only model, the only fittable one.
        s.remove_term("ablat");
        s.remove_term("factor(alloc)");
        assert_eq!(s.formula, "");
    }

    #[test]
    fn set_categorical_switches_every_use_and_forgets_the_reference() {
        let mut s = with_formula("year * ablat + I(year^2)");
        s.set_categorical("year", true);
        assert_eq!(
            s.formula,
            "factor(year) + ablat + I(year^2) + factor(year):ablat"
        );
        s.references.insert("year".into(), "1948".into());
        s.set_categorical("year", false);
        assert_eq!(s.formula, "year + ablat + I(year^2) + year:ablat");
        assert!(s.references.is_empty());
        // Nothing to switch, nothing forgotten: a text column keeps its reference.
        let mut s = with_formula("alloc");
        s.references.insert("alloc".into(), "random".into());
        s.set_moderator("alloc", true, false);
        assert_eq!(s.references["alloc"], "random");
    }

    #[test]
    fn add_interaction_adds_missing_main_effects_in_their_coding() {
        let mut s = with_formula("factor(alloc)");
        s.add_interaction("ablat", "alloc");
        assert_eq!(s.formula, "factor(alloc) + ablat + ablat:factor(alloc)");
        // R names an interaction in the order its variables first appear in the formula.
        assert_eq!(s.terms(), ["factor(alloc)", "ablat", "factor(alloc):ablat"]);
        s.add_interaction("alloc", "ablat");
        s.add_interaction("ablat", "ablat");
        assert_eq!(s.formula, "factor(alloc) + ablat + ablat:factor(alloc)");
    }

    #[test]
    fn odd_column_names_are_backticked_when_written() {
        let mut s = with_formula("`mean age`");
        s.add_interaction("mean age", "x:y");
        assert_eq!(s.formula, "`mean age` + `x:y` + `mean age`:`x:y`");
        assert_eq!(s.terms(), ["mean age", "x:y", "mean age:x:y"]);
        s.set_categorical("x:y", true);
        assert_eq!(
            s.formula,
            "`mean age` + factor(`x:y`) + `mean age`:factor(`x:y`)"
        );
    }

    #[test]
    fn edits_leave_a_formula_that_does_not_parse_untouched() {
        for typed in ["ablat +", "log(ablat)", "(ablat", "`ablat"] {
            let mut s = with_formula(typed);
            s.set_moderator("ablat", true, false);
            s.set_moderator("ablat", false, false);
            s.set_categorical("ablat", true);
            s.add_interaction("ablat", "year");
            s.remove_term("ablat");
            assert_eq!(s.formula, typed);
            assert!(!s.has_moderator("ablat"));
        }
    }

    #[test]
    fn load_text_drops_what_names_missing_columns_and_picks_a_measure() {
        let mut s = with_formula("ablat * year + alloc");
        s.references.insert("alloc".into(), "random".into());
        s.predict_at.insert("year".into(), "1950".into());
        s.averages.insert("ablat".into(), true);
        s.method = "DL".into();
        let mut text = String::new();
        for line in s.text.lines() {
            let cells: Vec<&str> = line.split(',').collect();
            // Keep author and the 2×2 table and ablat, drop year and alloc.
            text += &format!("{}\n", [1, 3, 4, 5, 6, 7].map(|i| cells[i]).join(","));
        }
        s.load_text(text);
        assert_eq!(s.example, None);
        assert_eq!(s.formula, "ablat");
        assert!(s.references.is_empty() && s.predict_at.is_empty());
        assert_eq!(s.averages, BTreeMap::from([("ablat".into(), true)]));
        assert_eq!(
            (s.measure.as_deref(), s.method.as_str()),
            (Some("RR"), "DL")
        );
        assert_eq!(s.slab.as_deref(), Some("author"));
        s.analyse().unwrap();

        s.load_text("study,yi,vi,dose\nA,0.1,0.01,1\nB,0.3,0.02,2\nC,0.2,0.03,3\n".into());
        assert_eq!(
            (s.measure.as_deref(), s.slab.as_deref(), s.formula.as_str()),
            (None, None, "")
        );
        assert!(s.raw.is_empty());
        s.analyse().unwrap();

        s.load_text("id,m1i,sd1i,n1i,m2i,sd2i,n2i\n1,5,1,10,4,1,10\n2,6,2,20,5,2,20\n".into());
        assert_eq!(s.measure.as_deref(), Some("SMD"));

        // Not a table yet: only the text changes.
        let before = s.clone();
        s.load_text(String::new());
        assert_eq!(
            Session {
                text: before.text.clone(),
                ..s.clone()
            },
            before
        );
    }

    #[test]
    fn load_example_takes_its_suggestions_and_keeps_model_settings() {
        let mut s = Session {
            test: "knha".into(),
            ..Session::default()
        };
        s.references.insert("alloc".into(), "random".into());
        s.load_example(example("hackshaw1998.csv").unwrap());
        assert_eq!(s.example.as_deref(), Some("hackshaw1998.csv"));
        assert_eq!((s.yi.as_deref(), s.vi.as_deref()), (Some("yi"), Some("vi")));
        assert!(s.raw.is_empty() && s.references.is_empty());
        assert_eq!(
            (s.measure, s.formula.as_str(), s.test.as_str()),
            (None, "design", "knha")
        );
    }

    #[test]
    fn every_example_analyses_with_its_suggestions() {
        for e in super::super::examples::examples() {
            let mut s = Session::default();
            s.load_example(e);
            let a = s
                .analyse()
                .unwrap_or_else(|err| panic!("{}: {err}", e.file));
            assert_eq!(a.report.p > 1, e.mods.is_some(), "{}", e.file);
        }
    }

    #[test]
    fn study_level_averages_are_guessed_from_names() {
        for name in [
            "mean age",
            "meanage",
            "Age (years)",
            "age",
            "baseline risk",
            "% female",
            "pct_female",
            "prop_male",
            "mean_bmi",
            "BMI",
            "female_pct",
            "control_risk",
            "pctfemale",
            "avgweight",
            "MedianAge",
            "Control event rate",
        ] {
            assert!(is_study_level_average(name), "{name}");
        }
        for name in [
            "ablat",
            "year",
            "alloc",
            "weeks",
            "dose",
            "dosage",
            "design",
            "quality",
            "tester",
            "stage",
            "",
            "meanwhile_x",
        ] {
            assert!(!is_study_level_average(name), "{name}");
        }
        let mut s = Session::default();
        assert!(s.is_average("mean age") && !s.is_average("ablat"));
        s.averages.insert("ablat".into(), true);
        s.averages.insert("mean age".into(), false);
        assert!(!s.is_average("mean age") && s.is_average("ablat"));
    }

    #[test]
    fn json_round_trip_and_missing_fields_default() {
        let mut s = with_formula("ablat + factor(alloc)");
        s.references.insert("alloc".into(), "random".into());
        s.averages.insert("ablat".into(), false);
        assert_eq!(Session::from_json(&s.to_json()).unwrap(), s);
        let old = Session::from_json(r#"{"text":"yi,vi\n1,1\n","method":"DL"}"#).unwrap();
        assert_eq!(
            (old.text.as_str(), old.method.as_str()),
            ("yi,vi\n1,1\n", "DL")
        );
        assert_eq!(old.level, 95.0);
        let cleared = Session {
            level: f64::NAN,
            ..Session::default()
        };
        assert_eq!(Session::from_json(&cleared.to_json()).unwrap().level, 95.0);
        let e = Session::from_json("{\"level\": \"high\"}").unwrap_err();
        assert!(e
            .to_string()
            .starts_with("the saved session cannot be read: invalid type"));
    }
}
