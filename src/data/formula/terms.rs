//! Terms: the variables of a formula (a column read as numbers, as a factor or as a power)
//! and the terms as sets of them, with the labels R gives both.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::lex::Span;

/// How a variable of the formula reads its column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    /// The column as it is: numbers, or a factor for a text column.
    Plain,
    /// `factor(col)`: always a factor.
    Factor,
    /// `I(col^p)`, with the exponent as typed (it is part of the coefficient name).
    Power(String),
}

/// A variable of the formula: a column and how it is read, with where the formula names it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Var {
    pub(super) kind: Kind,
    pub(super) column: String,
    pub(super) span: Span,
}

impl Kind {
    /// A variable of this kind on `column` as R writes it: `column`, `factor(column)` or
    /// `I(column^p)` (with `column` as given, so a caller may pass it backticked).
    pub fn label(&self, column: &str) -> String {
        match self {
            Kind::Plain => column.to_owned(),
            Kind::Factor => format!("factor({column})"),
            Kind::Power(p) => format!("I({column}^{p})"),
        }
    }
}

impl Var {
    /// The variable as R deparses it.
    pub(super) fn label(&self) -> String {
        self.kind.label(&self.column)
    }
}

/// A term: the indices of its variables (in the formula's list of variables).
pub(super) type TermSet = BTreeSet<usize>;

/// The label R gives a term: its variables' labels joined by `:`, in variable order.
pub(super) fn term_label(term: &TermSet, vars: &[Var]) -> String {
    term.iter()
        .map(|&v| vars[v].label())
        .collect::<Vec<_>>()
        .join(":")
}
