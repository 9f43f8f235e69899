//! Terms: the variables of a formula (a column read as numbers, as a factor or as a power, or
//! a column the formula derives by cluster-mean centring) and the terms as sets of them, with
//! the labels R gives both.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::lex::{column_source, Span};

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

/// Which part of a moderator that varies within clusters a centred variable is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Part {
    /// `between(x, g)`: the mean of x over the rows of the row's cluster of g.
    Between,
    /// `within(x, g)`: x less that mean.
    Within,
}

/// A column the formula derives by cluster-mean centring: `between(x, g)` or `within(x, g)`.
/// The two split a moderator into its cluster means and the deviations from them, so a
/// model reports a between-cluster (ecological) and a within-cluster slope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Centring {
    /// Between or within.
    pub part: Part,
    /// The moderator column x.
    pub source: String,
    /// The cluster column g.
    pub cluster: String,
}

impl Centring {
    /// The derived column's name, which is also its coefficient's: `within(x, g)`.
    pub fn name(&self) -> String {
        let function = match self.part {
            Part::Between => "between",
            Part::Within => "within",
        };
        format!("{function}({}, {})", self.source, self.cluster)
    }

    /// As the formula writes it, a column name that is not an identifier in backticks.
    pub fn source_text(&self) -> String {
        let function = match self.part {
            Part::Between => "between",
            Part::Within => "within",
        };
        format!(
            "{function}({}, {})",
            column_source(&self.source),
            column_source(&self.cluster)
        )
    }
}

/// A variable of the formula: a column and how it is read, with where the formula names it.
/// A centred variable's column is the derived column's name.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Var {
    pub(super) kind: Kind,
    pub(super) column: String,
    pub(super) span: Span,
    pub(super) centring: Option<Centring>,
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
    /// The table columns the variable reads: its column, or a centred variable's moderator
    /// and cluster.
    pub(super) fn reads(&self) -> Vec<&str> {
        match &self.centring {
            Some(c) => vec![c.source.as_str(), c.cluster.as_str()],
            None => vec![self.column.as_str()],
        }
    }

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
