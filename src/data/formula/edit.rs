//! The formula edits of the Model pane: the moderator checkboxes and the interaction builder
//! edit the same formula text the user types. Each edit reads the text as R's term labels,
//! changes the terms and writes them back as `a + b + a:b`, or returns `None` when nothing
//! changes — and a formula that does not parse is never rewritten, so a half-typed formula
//! survives a click.

use super::lex::column_source;
use super::terms::{Centring, Kind};
use super::Formula;

/// One variable of a term.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Var {
    kind: Kind,
    column: String,
    /// How a centred variable derives its column (written back as it was typed).
    centring: Option<Centring>,
}

impl Var {
    fn new(column: &str, factor: bool) -> Self {
        Self {
            kind: if factor { Kind::Factor } else { Kind::Plain },
            column: column.to_owned(),
            centring: None,
        }
    }

    /// The table columns it reads: its column, or a centred variable's moderator and cluster.
    fn reads(&self) -> Vec<&str> {
        match &self.centring {
            Some(c) => vec![c.source.as_str(), c.cluster.as_str()],
            None => vec![self.column.as_str()],
        }
    }

    /// R's label, with the column name as it is (`factor(mean age)`).
    fn label(&self) -> String {
        self.kind.label(&self.column)
    }

    /// Formula source: the label with a column name that is not an identifier in backticks.
    fn source(&self) -> String {
        match &self.centring {
            Some(c) => c.source_text(),
            None => self.kind.label(&column_source(&self.column)),
        }
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
    /// The formula as terms, or `None` if it does not parse; `""` is intercept-only.
    fn parse(formula: &str) -> Option<Self> {
        if formula.trim().is_empty() {
            return Some(Model {
                terms: Vec::new(),
                intercept: true,
                zero_first: false,
            });
        }
        let parsed = Formula::parse(formula).ok()?;
        let terms = parsed
            .term_vars()
            .into_iter()
            .map(|t| {
                t.into_iter()
                    .map(|(kind, column)| Var {
                        kind,
                        column: column.to_owned(),
                        centring: parsed.centred(column).cloned(),
                    })
                    .collect()
            })
            .collect();
        let body = formula.trim_start();
        let body = body.strip_prefix('~').unwrap_or(body).trim_start();
        Some(Model {
            terms,
            intercept: parsed.intercept(),
            zero_first: body.starts_with('0'),
        })
    }

    /// The main effect (`col` or `factor(col)`) of `column`.
    fn main_effect(&self, column: &str) -> Option<&Var> {
        self.terms.iter().find_map(|t| match t.as_slice() {
            [v] if v.column == column && matches!(v.kind, Kind::Plain | Kind::Factor) => Some(v),
            _ => None,
        })
    }

    /// Whether some term reads `column` as `factor(column)`.
    fn uses_as_factor(&self, column: &str) -> bool {
        self.terms
            .iter()
            .flatten()
            .any(|v| v.column == column && v.kind == Kind::Factor)
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

/// The formula's term labels as R writes them, in model order (`"ablat"`, `"factor(alloc)"`,
/// `"ablat:year"`); empty for `""` and for a formula that does not parse.
pub fn terms(formula: &str) -> Vec<String> {
    Model::parse(formula)
        .map(|m| m.terms.iter().map(|t| label(t)).collect())
        .unwrap_or_default()
}

/// Whether the formula has a main effect of `column`, as `column` or `factor(column)`.
pub fn has_moderator(formula: &str, column: &str) -> bool {
    Model::parse(formula).is_some_and(|m| m.main_effect(column).is_some())
}

/// Whether the formula writes `factor(column)` somewhere.
pub fn uses_as_factor(formula: &str, column: &str) -> bool {
    Model::parse(formula).is_some_and(|m| m.uses_as_factor(column))
}

/// Adds the main effect of `column` (as `factor(column)` if `categorical`), or switches an
/// existing one to that coding; when `on` is false, removes every term that uses the column,
/// interactions and powers included.
pub fn set_moderator(formula: &str, column: &str, on: bool, categorical: bool) -> Option<String> {
    let mut model = Model::parse(formula)?;
    if on {
        if model.main_effect(column).is_some() {
            return set_categorical(formula, column, categorical);
        }
        model.terms.push(vec![Var::new(column, categorical)]);
    } else {
        let before = model.terms.len();
        model.terms.retain(|t| t.iter().all(|v| v.column != column));
        if model.terms.len() == before {
            return None;
        }
    }
    Some(model.render())
}

/// Writes `column` as `factor(column)` (or back as `column`) wherever the formula uses it;
/// powers `I(column^n)` stay numeric.
pub fn set_categorical(formula: &str, column: &str, categorical: bool) -> Option<String> {
    let mut model = Model::parse(formula)?;
    let wanted = if categorical {
        Kind::Factor
    } else {
        Kind::Plain
    };
    let mut changed = false;
    for v in model.terms.iter_mut().flatten() {
        if v.column == column && matches!(v.kind, Kind::Plain | Kind::Factor) && v.kind != wanted {
            v.kind = wanted.clone();
            changed = true;
        }
    }
    changed.then(|| model.render())
}

/// Adds the interaction `a:b`, with the main effects of `a` and `b` when the formula lacks them
/// (R users expect `a * b`, and an interaction without its main effects is rarely meant). Each
/// column keeps the coding (numeric or factor) the formula already gives it.
pub fn add_interaction(formula: &str, a: &str, b: &str) -> Option<String> {
    if a == b {
        return None;
    }
    let mut model = Model::parse(formula)?;
    let before = model.terms.clone();
    let mut pair = Vec::with_capacity(2);
    for column in [a, b] {
        let var = match model.main_effect(column) {
            Some(v) => v.clone(),
            None => {
                let v = Var::new(column, model.uses_as_factor(column));
                model.terms.push(vec![v.clone()]);
                v
            }
        };
        pair.push(var);
    }
    if !model.terms.iter().any(|t| same_term(t, &pair)) {
        model.terms.push(pair);
    }
    (model.terms != before).then(|| model.render())
}

/// Removes the term with this label (as [`terms`] lists it); interactions that use it stay, as
/// R keeps `a:b` when `a` is dropped.
pub fn remove_term(formula: &str, label_to_remove: &str) -> Option<String> {
    let mut model = Model::parse(formula)?;
    let before = model.terms.len();
    model.terms.retain(|t| label(t) != label_to_remove);
    (model.terms.len() != before).then(|| model.render())
}

/// Drops every term that uses a column for which `present` is false (the columns of a new
/// table).
pub fn retain_columns(formula: &str, present: impl Fn(&str) -> bool) -> Option<String> {
    let mut model = Model::parse(formula)?;
    let before = model.terms.len();
    model
        .terms
        .retain(|t| t.iter().all(|v| v.reads().into_iter().all(&present)));
    (model.terms.len() != before).then(|| model.render())
}
