//! Model formula → [`Design`]: the right-hand side of an R formula, as reviewers who know
//! metafor type it (`ablat * year + factor(alloc)`), turned into the model matrix.
//!
//! Supported: `a + b`, `a:b`, `a * b` (= `a + b + a:b`), parentheses (`(a + b):c`),
//! `factor(g)`, `I(x^n)` (a power of one column), `between(x, g)` and `within(x, g)` (x's
//! mean over the rows of each cluster of g, and each row's deviation from it: cluster-mean
//! centring, see [`Centring`]), `- a` (drop a term), `- 1` / `+ 0` / a leading `0 +` (no
//! intercept), an optional leading `~`, and `` `odd name` `` for a column whose name is not
//! an R identifier.
//!
//! One file per role: [`lex`] (text to tokens), [`grammar`] (tokens to variables and terms),
//! [`terms`] (variables, terms and their R labels), [`encoding`] (the model matrix and the
//! encoding a prediction row is built from: R's `model.matrix` with treatment contrasts) and
//! [`edit`] (the edits the Model pane makes: add or remove a moderator or an interaction,
//! switch a column between numeric and categorical). Coefficient names are R's: `intrcpt`,
//! `ablat`, `allocrandom`, `factor(alloc)random`, `ablat:year`, `I(ablat^2)`.

use std::collections::BTreeMap;
use std::fmt;

use super::parse::{quoted_list, ParseError, Table};
use crate::stats::Design;

pub mod edit;
pub mod encoding;
mod grammar;
mod lex;
mod terms;

pub use encoding::{factor_levels, Coding, Encoded, EncodedTerm, EncodedVar, Encoding};
pub use lex::{column_source, Span};
pub use terms::{Centring, Kind, Part};

use terms::{term_label, TermSet, Var};

/// Errors in a formula or in the columns it names. Each names the formula and points at the
/// offending part.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FormulaError {
    /// The text does not follow the formula grammar.
    Syntax {
        /// The formula.
        formula: String,
        /// Where.
        span: Span,
        /// What was found there (a token, or "the end of the formula").
        found: String,
        /// What the grammar expected.
        expected: &'static str,
    },
    /// A function other than `factor` and `I`.
    UnsupportedFunction {
        /// The formula.
        formula: String,
        /// Where.
        span: Span,
        /// The function's name.
        name: String,
    },
    /// `x^2` outside `I()`, which R reads as crossing, not as a power.
    BarePower {
        /// The formula.
        formula: String,
        /// Where.
        span: Span,
        /// The column.
        column: String,
    },
    /// A column the table does not have.
    UnknownColumn {
        /// The formula.
        formula: String,
        /// Where.
        span: Span,
        /// The name as typed.
        name: String,
        /// The table's columns.
        available: Vec<String>,
    },
    /// `I(x^n)` on a column that does not hold numbers.
    NotNumeric {
        /// The formula.
        formula: String,
        /// Where.
        span: Span,
        /// The column.
        column: String,
        /// The underlying cell error (line, row and cell), boxed to keep the error small.
        source: Box<ParseError>,
    },
    /// A chosen reference level that the factor does not have.
    UnknownLevel {
        /// The column.
        column: String,
        /// The level asked for.
        level: String,
        /// The levels the column has (among the rows used).
        levels: Vec<String>,
    },
    /// A reference level is given for a column the formula does not use as a factor.
    ReferenceNotFactor {
        /// The formula.
        formula: String,
        /// The column.
        column: String,
    },
    /// A prediction point names a column the formula does not use.
    UnusedPredictor {
        /// The formula.
        formula: String,
        /// The column named.
        column: String,
    },
    /// A prediction point lacks a value for a column the formula uses.
    MissingPredictor {
        /// The column.
        column: String,
    },
    /// A prediction point's value for a numeric column is not a finite number.
    BadPredictor {
        /// The column.
        column: String,
        /// The value given.
        found: String,
    },
    /// A prediction point's level is not a level of the factor among the studies.
    UnknownPredictorLevel {
        /// The column.
        column: String,
        /// The level given.
        level: String,
        /// The factor's levels.
        levels: Vec<String>,
    },
    /// A factor with a single level among the studies in the model: it would code no column
    /// at all, silently leaving an intercept-only model (R refuses it: "contrasts can be
    /// applied only to factors with 2 or more levels", and so does metafor).
    SingleLevel {
        /// The formula.
        formula: String,
        /// The factor's column.
        column: String,
        /// Its one level.
        level: Option<String>,
        /// Number of studies the model is built from.
        studies: usize,
    },
    /// No terms at all: no intercept and no predictors.
    Empty {
        /// The formula.
        formula: String,
    },
    /// The formula expands to more terms than [`MAX_TERMS`] (`a*b*c*…` doubles with every
    /// factor), more than any model can be fitted with and enough to freeze the page.
    TooManyTerms {
        /// The formula.
        formula: String,
    },
    /// A model to fit ([`Formula::encode_for_fit`]) would have more coefficients than studies,
    /// which no estimator can fit (the engine refuses it too): found while the column names
    /// are counted, before the matrix is built, so crossed factors with many levels cost
    /// nothing.
    MoreCoefficientsThanStudies {
        /// The formula.
        formula: String,
        /// Number of studies.
        studies: usize,
    },
    /// The model matrix would have more cells (studies × coefficients) than
    /// [`MAX_DESIGN_CELLS`]: factors with many levels crossed with each other.
    TooManyCoefficients {
        /// The formula.
        formula: String,
        /// Number of studies.
        studies: usize,
        /// The most coefficients a model matrix of this many studies may have.
        limit: usize,
    },
}

/// Most terms a formula may expand to: the full interaction of ten columns (2¹⁰ − 1 terms)
/// fits, the exponential growth of a longer `a*b*c*…` stops here.
pub const MAX_TERMS: usize = 1024;

/// Most cells (studies × coefficients) a model matrix may have: 2²⁵ numbers, 256 MiB, above
/// any fittable meta-regression and below what the browser tab can hold with the fit's copies.
/// A design with more coefficients than studies but within this bound is still built by
/// [`Formula::design`], as R's `model.matrix` builds it; [`Formula::encode_for_fit`] stops at
/// the number of studies first (below 5,793 studies that is the smaller limit).
pub const MAX_DESIGN_CELLS: usize = 1 << 25;

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax { formula, span, found, expected } => write!(f, "formula \"{formula}\", {span}: found {found}, expected {expected}"),
            Self::UnsupportedFunction { formula, span, name } => write!(f, "formula \"{formula}\", {span}: the function {name}() is not supported: expected factor(column) or I(column^power)"),
            Self::BarePower { formula, span, column } => write!(f, "formula \"{formula}\", {span}: a power must be written I({column}^n), as in R"),
            Self::UnknownColumn { formula, span, name, available } => write!(f, "formula \"{formula}\", {span}: there is no column \"{name}\": expected one of {}", quoted_list(available)),
            Self::NotNumeric { formula, span, column, source } => write!(f, "formula \"{formula}\", {span}: column \"{column}\" must hold numbers for a power ({source})"),
            Self::UnknownLevel { column, level, levels } => write!(f, "column \"{column}\" has no level \"{level}\" to use as reference: expected one of {}", quoted_list(levels)),
            Self::ReferenceNotFactor { formula, column } => write!(f, "a reference level is given for column \"{column}\": expected a column that formula \"{formula}\" uses as a factor"),
            Self::UnusedPredictor { formula, column } => write!(f, "the prediction point gives a value for \"{column}\": expected only columns that formula \"{formula}\" uses"),
            Self::MissingPredictor { column } => write!(f, "the prediction point has no value for column \"{column}\": expected one value per column of the formula, as in {column}=10"),
            Self::BadPredictor { column, found } => write!(f, "the prediction point gives \"{found}\" for column \"{column}\": expected a finite number"),
            Self::UnknownPredictorLevel { column, level, levels } => write!(f, "the prediction point gives \"{level}\" for factor \"{column}\": expected one of its levels {}", quoted_list(levels)),
            Self::SingleLevel { formula, column, level, studies } => {
                let level = level.as_deref().map(|l| format!(" (\"{l}\")")).unwrap_or_default();
                write!(f, "formula \"{formula}\": column \"{column}\" has a single level{level} among the {studies} studies in the model, and a factor needs at least two (metafor refuses it too): expected a column whose studies differ, or a formula without it")
            }
            Self::Empty { formula } => write!(f, "formula \"{formula}\" has neither an intercept nor a term: expected at least one"),
            Self::TooManyTerms { formula } => write!(f, "formula \"{formula}\" expands to more than {MAX_TERMS} terms: expected fewer interactions (a*b*c*… doubles the terms with every column)"),
            Self::MoreCoefficientsThanStudies { formula, studies } => write!(f, "formula \"{formula}\" gives more coefficients than the {studies} studies in the model, and a model needs at least as many studies as coefficients (metafor refuses it too): expected fewer moderators, factors with fewer levels, or more studies"),
            Self::TooManyCoefficients { formula, studies, limit } => write!(f, "formula \"{formula}\" gives more than {limit} coefficients, too many to hold in memory for {studies} studies (and far more than they can estimate): expected fewer moderators or factors with fewer levels"),
        }
    }
}

impl std::error::Error for FormulaError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NotNumeric { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// A parsed formula: variables in order of first appearance and terms as sets of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    text: String,
    vars: Vec<Var>,
    /// Terms in R's order (by degree, then as written); each a set of indices into `vars`.
    terms: Vec<TermSet>,
    intercept: bool,
}

impl Formula {
    /// Parses the right-hand side of a model formula.
    ///
    /// # Examples
    /// ```
    /// use meridian::data::formula::Formula;
    /// let f = Formula::parse("ablat * year")?;
    /// assert_eq!(f.term_labels(), ["ablat", "year", "ablat:year"]);
    /// assert_eq!(f.columns(), ["ablat", "year"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, FormulaError> {
        let parsed = grammar::parse(text)?;
        Ok(Self {
            text: text.to_owned(),
            vars: parsed.vars,
            terms: parsed.terms,
            intercept: parsed.intercept,
        })
    }

    /// The formula as typed.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the model has an intercept.
    pub fn intercept(&self) -> bool {
        self.intercept
    }

    /// Term labels as R writes them, in model order (the intercept not included).
    pub fn term_labels(&self) -> Vec<String> {
        self.terms
            .iter()
            .map(|t| term_label(t, &self.vars))
            .collect()
    }

    /// The terms in model order, each as its variables in label order: how each reads its
    /// column, and the column (`ablat:factor(alloc)` is `[(Plain, "ablat"), (Factor, "alloc")]`).
    pub fn term_vars(&self) -> Vec<Vec<(Kind, &str)>> {
        self.terms
            .iter()
            .map(|t| {
                t.iter()
                    .map(|&v| (self.vars[v].kind.clone(), self.vars[v].column.as_str()))
                    .collect()
            })
            .collect()
    }

    /// The table columns the formula reads, each once, in order of first appearance: a
    /// centred variable reads its moderator and its cluster column.
    pub fn columns(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for v in &self.vars {
            for column in v.reads() {
                if !out.contains(&column) {
                    out.push(column);
                }
            }
        }
        out
    }

    /// The columns the formula derives by cluster-mean centring, each once, in order of
    /// first appearance; the table must hold them (under [`Centring::name`]) before the
    /// formula is encoded.
    pub fn centring(&self) -> Vec<&Centring> {
        self.vars
            .iter()
            .filter_map(|v| v.centring.as_ref())
            .collect()
    }

    /// The centring that derives the column `name`, if the formula derives it.
    pub fn centred(&self, name: &str) -> Option<&Centring> {
        self.centring().into_iter().find(|c| c.name() == name)
    }

    /// Checks that every column exists in `table`, pointing at the first that does not.
    pub fn check_columns(&self, table: &Table) -> Result<(), FormulaError> {
        for v in &self.vars {
            for column in v.reads() {
                if table.column(column).is_err() {
                    return Err(FormulaError::UnknownColumn {
                        formula: self.text.clone(),
                        span: v.span,
                        name: column.to_owned(),
                        available: table.names(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Builds the model matrix over the table rows `rows` (0-based; from
    /// [`Studies::rows`](super::roles::Studies::rows)), as [`Formula::encode`] does.
    ///
    /// # Errors
    /// As [`Formula::encode`].
    pub fn design(
        &self,
        table: &Table,
        rows: &[usize],
        references: &BTreeMap<String, String>,
    ) -> Result<Design, FormulaError> {
        Ok(self.encode(table, rows, references)?.design)
    }

    /// The model-matrix row of a new study with the values `at`, coded with the levels and
    /// references of the studies in `rows`: [`Encoding::row`] of [`Formula::encode`]. Build
    /// the encoding once and call [`Encoding::row`] for many points.
    ///
    /// # Errors
    /// As [`Formula::encode`] and [`Encoding::row`].
    pub fn predictor_row(
        &self,
        table: &Table,
        rows: &[usize],
        references: &BTreeMap<String, String>,
        at: &BTreeMap<String, String>,
    ) -> Result<Vec<f64>, FormulaError> {
        self.encode(table, rows, references)?.encoding.row(at)
    }
}

#[cfg(test)]
mod tests;
