//! Model formula → [`Design`]: the right-hand side of an R formula, as reviewers who know
//! metafor type it (`ablat * year + factor(alloc)`), turned into the model matrix.
//!
//! Supported: `a + b`, `a:b`, `a * b` (= `a + b + a:b`), parentheses (`(a + b):c`),
//! `factor(g)`, `I(x^n)` (a power of one column), `- a` (drop a term), `- 1` / `+ 0` / a
//! leading `0 +` (no intercept), an optional leading `~`, and `` `odd name` `` for a column
//! whose name is not an R identifier.
//!
//! Coding follows R's `model.matrix` with treatment contrasts (Chambers & Hastie, 1992,
//! *Statistical Models in S*, §2.4.1): terms ordered by degree; a factor in a term is coded by
//! contrasts (reference level dropped) when the rest of the term appears among the preceding
//! terms, by indicators otherwise; without an intercept the first factor gets all its levels.
//! Text columns are factors whose levels sort as R sorts them in the C locale (byte order); the
//! first level is the reference unless another is chosen. Coefficient names are R's:
//! `intrcpt`, `ablat`, `allocrandom`, `factor(alloc)random`, `ablat:year`, `I(ablat^2)`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use nalgebra::DMatrix;

use super::parse::{is_missing, quoted_list, ColumnKind, ParseError, Table};
use crate::stats::{Design, Term};

/// A stretch of the formula text, in characters from 0, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First character.
    pub start: usize,
    /// One past the last character.
    pub end: usize,
}

impl fmt::Display for Span {
    /// 1-based and inclusive, as a person counts characters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.end <= self.start + 1 {
            write!(f, "character {}", self.start + 1)
        } else {
            write!(f, "characters {}–{}", self.start + 1, self.end)
        }
    }
}

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
            Self::Empty { formula } => write!(f, "formula \"{formula}\" has neither an intercept nor a term: expected at least one"),
            Self::TooManyTerms { formula } => write!(f, "formula \"{formula}\" expands to more than {MAX_TERMS} terms: expected fewer interactions (a*b*c*… doubles the terms with every column)"),
            Self::TooManyCoefficients { formula, studies, limit } => write!(f, "formula \"{formula}\" gives more than {limit} coefficients, too many to hold in memory for {studies} studies (and far more than they can estimate): expected fewer moderators or factors with fewer levels"),
        }
    }
}

impl std::error::Error for FormulaError {}

/// How a variable of the formula reads its column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// The column as it is: numbers, or a factor for a text column.
    Plain,
    /// `factor(col)`: always a factor.
    Factor,
    /// `I(col^p)`, with the exponent as typed (it is part of the coefficient name).
    Power(String),
}

#[derive(Debug, Clone)]
struct Var {
    kind: Kind,
    column: String,
    span: Span,
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
    fn label(&self) -> String {
        self.kind.label(&self.column)
    }
}

/// A parsed formula: variables in order of first appearance and terms as sets of them.
#[derive(Debug, Clone)]
pub struct Formula {
    text: String,
    vars: Vec<Var>,
    /// Terms in R's order (by degree, then as written); each a set of indices into `vars`.
    terms: Vec<BTreeSet<usize>>,
    intercept: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Number(String),
    Sym(char),
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("\"{s}\""),
            Tok::Number(s) => format!("the number {s}"),
            Tok::Sym(c) => format!("\"{c}\""),
            Tok::End => "the end of the formula".to_owned(),
        }
    }
}

/// Whether `c`, followed by `next`, starts a bare column name: a letter, or a dot that does
/// not start a number.
fn starts_name(c: char, next: Option<char>) -> bool {
    c.is_ascii_alphabetic() || c == '.' && !next.is_some_and(|n| n.is_ascii_digit())
}

/// Whether `c` may continue a bare column name.
fn continues_name(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_')
}

/// `column` as formula source: as it is when the tokenizer reads it as one bare name, else in
/// backticks (`` `mean age` ``).
pub fn column_source(column: &str) -> String {
    let mut chars = column.chars();
    let bare = chars
        .next()
        .is_some_and(|c| starts_name(c, chars.clone().next()))
        && chars.all(continues_name);
    if bare {
        column.to_owned()
    } else {
        format!("`{column}`")
    }
}

fn tokenize(text: &str) -> Result<Vec<(Tok, Span)>, FormulaError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let syntax = |start: usize, end: usize, found: String, expected| FormulaError::Syntax {
        formula: text.to_owned(),
        span: Span { start, end },
        found,
        expected,
    };
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if starts_name(c, chars.get(i + 1).copied()) {
            while i < chars.len() && continues_name(chars[i]) {
                i += 1;
            }
            out.push((
                Tok::Ident(chars[start..i].iter().collect()),
                Span { start, end: i },
            ));
        } else if c.is_ascii_digit() || c == '.' {
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            out.push((
                Tok::Number(chars[start..i].iter().collect()),
                Span { start, end: i },
            ));
        } else if c == '`' {
            let Some(len) = chars[i + 1..].iter().position(|&c| c == '`') else {
                return Err(syntax(
                    start,
                    chars.len(),
                    "an opening backtick".into(),
                    "a closing backtick",
                ));
            };
            out.push((
                Tok::Ident(chars[i + 1..i + 1 + len].iter().collect()),
                Span {
                    start,
                    end: i + len + 2,
                },
            ));
            i += len + 2;
        } else if "+-:*^()~".contains(c) {
            out.push((Tok::Sym(c), Span { start, end: i + 1 }));
            i += 1;
        } else {
            return Err(syntax(
                start,
                start + 1,
                format!("\"{c}\""),
                "a column name, a number or one of + - : * ( )",
            ));
        }
    }
    out.push((
        Tok::End,
        Span {
            start: chars.len(),
            end: chars.len(),
        },
    ));
    Ok(out)
}

/// Most terms a formula may expand to: the full interaction of ten columns (2¹⁰ − 1 terms)
/// fits, the exponential growth of a longer `a*b*c*…` stops here.
pub const MAX_TERMS: usize = 1024;

/// Deepest nesting of parentheses: far beyond what a person writes, and well within the
/// stack of a WebAssembly page (the parser recurses once per level).
const MAX_NESTING: usize = 64;

/// Most cells (studies × coefficients) a model matrix may have: 2²⁵ numbers, 256 MiB, above
/// any fittable meta-regression and below what the browser tab can hold with the fit's copies.
/// A design with more coefficients than studies but within this bound is still built, as R's
/// `model.matrix` builds it; the fit then refuses it.
pub const MAX_DESIGN_CELLS: usize = 1 << 25;

struct Parser<'a> {
    text: &'a str,
    toks: Vec<(Tok, Span)>,
    pos: usize,
    vars: Vec<Var>,
    /// Parentheses open at the current position.
    depth: usize,
}

/// Terms in the order written, each once. The set beside the order makes "is this term
/// already there?" a lookup, so expanding `a*b*c*…` costs n log n rather than n².
#[derive(Default)]
struct TermList {
    order: Vec<BTreeSet<usize>>,
    seen: BTreeSet<BTreeSet<usize>>,
}

impl TermList {
    fn of(var: usize) -> Self {
        let mut list = Self::default();
        list.push(BTreeSet::from([var]));
        list
    }

    /// Appends `term` unless the list has it already.
    fn push(&mut self, term: BTreeSet<usize>) {
        if self.seen.insert(term.clone()) {
            self.order.push(term);
        }
    }

    /// Drops every term of `other` (`- a`).
    fn remove_all(&mut self, other: &TermList) {
        self.order.retain(|t| !other.seen.contains(t));
        self.seen.retain(|t| !other.seen.contains(t));
    }
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }

    fn span(&self) -> Span {
        self.toks[self.pos].1
    }

    fn error(&self, expected: &'static str) -> FormulaError {
        FormulaError::Syntax {
            formula: self.text.to_owned(),
            span: self.span(),
            found: self.peek().describe(),
            expected,
        }
    }

    fn expect(&mut self, sym: char, expected: &'static str) -> Result<Span, FormulaError> {
        if *self.peek() == Tok::Sym(sym) {
            self.pos += 1;
            Ok(self.toks[self.pos - 1].1)
        } else {
            Err(self.error(expected))
        }
    }

    fn var(&mut self, kind: Kind, column: String, span: Span) -> usize {
        match self
            .vars
            .iter()
            .position(|v| v.kind == kind && v.column == column)
        {
            Some(i) => i,
            None => {
                self.vars.push(Var { kind, column, span });
                self.vars.len() - 1
            }
        }
    }

    /// sum := ['+'|'-'] product (('+'|'-') product)*. At the top level, `0` and `1` set the
    /// intercept; inside parentheses they are an error.
    fn sum(&mut self, intercept: Option<&mut bool>) -> Result<TermList, FormulaError> {
        let mut terms = TermList::default();
        let mut intercept = intercept;
        let mut negative = false;
        if let Tok::Sym(c @ ('+' | '-')) = *self.peek() {
            negative = c == '-';
            self.pos += 1;
        }
        loop {
            if let (Tok::Number(n), Some(flag)) = (self.peek().clone(), intercept.as_deref_mut()) {
                let next = &self.toks[self.pos + 1].0;
                if (n == "0" || n == "1") && matches!(next, Tok::Sym('+' | '-' | ')') | Tok::End) {
                    // `+ 1` or `- 0` ask for the intercept; `+ 0` or `- 1` remove it.
                    *flag = (n == "1") != negative;
                    self.pos += 1;
                } else {
                    return Err(self.error("0 or 1 (for the intercept), or a column name"));
                }
            } else {
                let product = self.product()?;
                if negative {
                    terms.remove_all(&product);
                } else {
                    for t in product.order {
                        terms.push(t);
                    }
                    self.bounded(&terms)?;
                }
            }
            match *self.peek() {
                Tok::Sym(c @ ('+' | '-')) => {
                    negative = c == '-';
                    self.pos += 1;
                }
                _ => return Ok(terms),
            }
        }
    }

    /// product := interaction ('*' interaction)*; `a * b` is `a + b + a:b`.
    fn product(&mut self) -> Result<TermList, FormulaError> {
        let mut left = self.interaction()?;
        while *self.peek() == Tok::Sym('*') {
            self.pos += 1;
            let right = self.interaction()?;
            let crossed = self.cross(&left, &right)?;
            for t in right.order.into_iter().chain(crossed.order) {
                left.push(t);
            }
            self.bounded(&left)?;
        }
        Ok(left)
    }

    /// interaction := atom (':' atom)*.
    fn interaction(&mut self) -> Result<TermList, FormulaError> {
        let mut left = self.atom()?;
        while *self.peek() == Tok::Sym(':') {
            self.pos += 1;
            let right = self.atom()?;
            left = self.cross(&left, &right)?;
        }
        Ok(left)
    }

    fn ident(&mut self, expected: &'static str) -> Result<(String, Span), FormulaError> {
        match self.peek().clone() {
            Tok::Ident(name) => {
                self.pos += 1;
                Ok((name, self.toks[self.pos - 1].1))
            }
            _ => Err(self.error(expected)),
        }
    }

    /// atom := column | factor(column) | I(column ^ number) | '(' sum ')'.
    fn atom(&mut self) -> Result<TermList, FormulaError> {
        let start = self.span();
        match self.peek().clone() {
            Tok::Sym('(') => {
                if self.depth == MAX_NESTING {
                    return Err(self.error("a term: parentheses nest at most 64 deep"));
                }
                self.pos += 1;
                self.depth += 1;
                let inner = self.sum(None)?;
                self.depth -= 1;
                self.expect(')', "\")\" closing the parenthesis")?;
                Ok(inner)
            }
            Tok::Ident(name) => {
                self.pos += 1;
                if *self.peek() != Tok::Sym('(') {
                    if *self.peek() == Tok::Sym('^') {
                        return Err(FormulaError::BarePower {
                            formula: self.text.to_owned(),
                            span: Span {
                                start: start.start,
                                end: self.toks[self.pos + 1].1.end,
                            },
                            column: name,
                        });
                    }
                    let v = self.var(Kind::Plain, name, start);
                    return Ok(TermList::of(v));
                }
                self.pos += 1;
                let power = match name.as_str() {
                    "factor" | "as.factor" => false,
                    "I" => true,
                    _ => {
                        let mut depth = 1;
                        while depth > 0 && *self.peek() != Tok::End {
                            match self.peek() {
                                Tok::Sym('(') => depth += 1,
                                Tok::Sym(')') => depth -= 1,
                                _ => {}
                            }
                            self.pos += 1;
                        }
                        return Err(FormulaError::UnsupportedFunction {
                            formula: self.text.to_owned(),
                            span: Span {
                                start: start.start,
                                end: self.toks[self.pos - 1].1.end,
                            },
                            name,
                        });
                    }
                };
                let (column, _) = self.ident("a column name")?;
                let kind = if power {
                    self.expect('^', "\"^\" and a power, as in I(x^2)")?;
                    let negative = *self.peek() == Tok::Sym('-');
                    if negative {
                        self.pos += 1;
                    }
                    let Tok::Number(p) = self.peek().clone() else {
                        return Err(self.error("a number for the power"));
                    };
                    if p.parse::<f64>().is_err() {
                        return Err(self.error("a number for the power"));
                    }
                    self.pos += 1;
                    Kind::Power(if negative { format!("-{p}") } else { p })
                } else {
                    Kind::Factor
                };
                let end = self.expect(')', "\")\" closing the function")?;
                let span = Span {
                    start: start.start,
                    end: end.end,
                };
                let v = self.var(kind, column, span);
                Ok(TermList::of(v))
            }
            _ => Err(self.error("a column name, factor(column), I(column^n) or \"(\"")),
        }
    }

    /// All pairwise unions: `(a + b):(c + d)` = `a:c + b:c + a:d + b:d` (R's order).
    fn cross(&self, left: &TermList, right: &TermList) -> Result<TermList, FormulaError> {
        if left.order.len().saturating_mul(right.order.len()) > MAX_TERMS {
            return Err(self.too_many_terms());
        }
        let mut out = TermList::default();
        for r in &right.order {
            for l in &left.order {
                out.push(l.union(r).copied().collect());
            }
        }
        Ok(out)
    }

    /// An error if `terms` are more than [`MAX_TERMS`].
    fn bounded(&self, terms: &TermList) -> Result<(), FormulaError> {
        if terms.order.len() > MAX_TERMS {
            return Err(self.too_many_terms());
        }
        Ok(())
    }

    fn too_many_terms(&self) -> FormulaError {
        FormulaError::TooManyTerms {
            formula: self.text.to_owned(),
        }
    }
}

/// A variable's values over the used rows.
enum Values {
    Numeric(Vec<f64>),
    /// Level index per row, and the level labels.
    Factor(Vec<usize>, Vec<String>),
}

/// R's `as.character` of a number for factor levels: integers without a decimal point.
fn level_label(v: f64) -> String {
    format!("{v}")
}

/// The levels `factor(column)` has over the table rows `rows`, in R's order (numbers by value,
/// text by bytes as in the C locale), before any change of reference; missing cells are not
/// levels. For menus that let the user pick the reference level.
pub fn factor_levels(
    table: &Table,
    column: &str,
    rows: &[usize],
) -> Result<Vec<String>, ParseError> {
    let col = table.column(column)?;
    let present = rows.iter().map(|&r| col.cell(r)).filter(|c| !is_missing(c));
    if matches!(
        col.kind,
        ColumnKind::Numeric | ColumnKind::NumericDecimalComma
    ) {
        let cells = table.numeric(column)?;
        let mut values: Vec<f64> = rows.iter().filter_map(|&r| cells[r].value()).collect();
        values.sort_by(f64::total_cmp);
        values.dedup();
        return Ok(values.into_iter().map(level_label).collect());
    }
    Ok(present
        .collect::<BTreeSet<&str>>()
        .into_iter()
        .map(str::to_owned)
        .collect())
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
        let mut parser = Parser {
            text,
            toks: tokenize(text)?,
            pos: 0,
            vars: Vec::new(),
            depth: 0,
        };
        if *parser.peek() == Tok::Sym('~') {
            parser.pos += 1;
        }
        let mut intercept = true;
        let mut terms = parser.sum(Some(&mut intercept))?.order;
        if *parser.peek() != Tok::End {
            return Err(parser.error("\"+\", \"-\", \":\" or \"*\" between terms"));
        }
        // R orders terms by degree, keeping the written order within a degree.
        terms.sort_by_key(BTreeSet::len);
        if terms.is_empty() && !intercept {
            return Err(FormulaError::Empty {
                formula: text.to_owned(),
            });
        }
        Ok(Self {
            text: text.to_owned(),
            vars: parser.vars,
            terms,
            intercept,
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
            .map(|t| {
                t.iter()
                    .map(|&v| self.vars[v].label())
                    .collect::<Vec<_>>()
                    .join(":")
            })
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

    /// The table columns the formula reads, each once, in order of first appearance.
    pub fn columns(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for v in &self.vars {
            if !out.contains(&v.column.as_str()) {
                out.push(&v.column);
            }
        }
        out
    }

    /// Checks that every column exists in `table`, pointing at the first that does not.
    pub fn check_columns(&self, table: &Table) -> Result<(), FormulaError> {
        for v in &self.vars {
            if table.column(&v.column).is_err() {
                return Err(FormulaError::UnknownColumn {
                    formula: self.text.clone(),
                    span: v.span,
                    name: v.column.clone(),
                    available: table.names(),
                });
            }
        }
        Ok(())
    }

    fn values(
        &self,
        var: &Var,
        table: &Table,
        rows: &[usize],
        references: &BTreeMap<String, String>,
    ) -> Result<Values, FormulaError> {
        let column = table
            .column(&var.column)
            .map_err(|_| FormulaError::UnknownColumn {
                formula: self.text.clone(),
                span: var.span,
                name: var.column.clone(),
                available: table.names(),
            })?;
        let numeric = matches!(
            column.kind,
            ColumnKind::Numeric | ColumnKind::NumericDecimalComma
        );
        let numbers = || -> Result<Vec<f64>, FormulaError> {
            let cells = table
                .numeric(&var.column)
                .map_err(|source| FormulaError::NotNumeric {
                    formula: self.text.clone(),
                    span: var.span,
                    column: var.column.clone(),
                    source: Box::new(source),
                })?;
            // Rows reaching the design have no missing cell in a used column (roles::studies).
            Ok(rows
                .iter()
                .map(|&r| cells[r].value().unwrap_or(f64::NAN))
                .collect())
        };
        let (codes, mut levels) = match (&var.kind, numeric) {
            (Kind::Power(p), _) => {
                let p: f64 = p.parse().expect("the parser only accepts numeric powers");
                return Ok(Values::Numeric(
                    numbers()?.into_iter().map(|x| x.powf(p)).collect(),
                ));
            }
            (Kind::Plain, true) => return Ok(Values::Numeric(numbers()?)),
            (Kind::Factor, true) => {
                let x = numbers()?;
                let mut sorted: Vec<f64> = x.clone();
                sorted.sort_by(f64::total_cmp);
                sorted.dedup();
                let codes = x
                    .iter()
                    .map(|v| sorted.partition_point(|s| s < v))
                    .collect();
                (
                    codes,
                    sorted.into_iter().map(level_label).collect::<Vec<_>>(),
                )
            }
            (_, false) => {
                let cells: Vec<&str> = rows.iter().map(|&r| column.cell(r)).collect();
                // Byte order is R's sort order in the C locale.
                let levels: Vec<String> = cells
                    .iter()
                    .copied()
                    .collect::<BTreeSet<&str>>()
                    .into_iter()
                    .map(str::to_owned)
                    .collect();
                let codes = cells
                    .iter()
                    .map(|c| levels.partition_point(|l| l.as_str() < *c))
                    .collect();
                (codes, levels)
            }
        };
        let mut codes: Vec<usize> = codes;
        if let Some(reference) = references.get(&var.column) {
            let Some(at) = levels.iter().position(|l| l == reference) else {
                return Err(FormulaError::UnknownLevel {
                    column: var.column.clone(),
                    level: reference.clone(),
                    levels,
                });
            };
            // Move the reference to the front, keeping the others in order (R's relevel).
            let level = levels.remove(at);
            levels.insert(0, level);
            for c in &mut codes {
                *c = match (*c).cmp(&at) {
                    std::cmp::Ordering::Equal => 0,
                    std::cmp::Ordering::Less => *c + 1,
                    std::cmp::Ordering::Greater => *c,
                };
            }
        }
        Ok(Values::Factor(codes, levels))
    }

    /// Builds the model matrix over the table rows `rows` (0-based; from
    /// [`Studies::rows`](super::roles::Studies::rows)). `references` maps a column to the level
    /// to use as reference instead of the first.
    ///
    /// # Panics
    /// If a row index is not below `table.rows()`; [`Studies::rows`](super::roles::Studies::rows)
    /// of the same table always are.
    pub fn design(
        &self,
        table: &Table,
        rows: &[usize],
        references: &BTreeMap<String, String>,
    ) -> Result<Design, FormulaError> {
        let values = self.all_values(table, rows, references)?;
        self.assemble(&values, rows.len(), rows.len())
    }

    fn all_values(
        &self,
        table: &Table,
        rows: &[usize],
        references: &BTreeMap<String, String>,
    ) -> Result<Vec<Values>, FormulaError> {
        self.check_columns(table)?;
        let values: Vec<Values> = self
            .vars
            .iter()
            .map(|v| self.values(v, table, rows, references))
            .collect::<Result<_, _>>()?;
        // A reference level for a column that is no factor here would silently do nothing.
        for column in references.keys() {
            let is_factor = self
                .vars
                .iter()
                .zip(&values)
                .any(|(v, x)| v.column == *column && matches!(x, Values::Factor(..)));
            if !is_factor {
                return Err(FormulaError::ReferenceNotFactor {
                    formula: self.text.clone(),
                    column: column.clone(),
                });
            }
        }
        Ok(values)
    }

    /// The model-matrix row of a new study with the given values, one per column the formula
    /// uses (a number, or a level for a factor), coded with the levels and reference of the
    /// studies in `rows` — the `x0` of a prediction, intercept included.
    ///
    /// # Panics
    /// As [`Formula::design`], if a row index is out of range.
    ///
    /// # Examples
    /// ```
    /// use std::collections::BTreeMap;
    /// use meridian::data::{formula::Formula, parse::parse};
    /// let t = parse("x,g\n1,a\n2,b\n3,c\n")?;
    /// let f = Formula::parse("x * g")?;
    /// let at = BTreeMap::from([("x".into(), "10".into()), ("g".into(), "c".into())]);
    /// let x0 = f.predictor_row(&t, &[0, 1, 2], &BTreeMap::new(), &at)?;
    /// assert_eq!(x0, [1.0, 10.0, 0.0, 1.0, 0.0, 10.0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn predictor_row(
        &self,
        table: &Table,
        rows: &[usize],
        references: &BTreeMap<String, String>,
        at: &BTreeMap<String, String>,
    ) -> Result<Vec<f64>, FormulaError> {
        if let Some(name) = at.keys().find(|n| !self.columns().contains(&n.as_str())) {
            return Err(FormulaError::UnusedPredictor {
                formula: self.text.clone(),
                column: name.clone(),
            });
        }
        let fitted = self.all_values(table, rows, references)?;
        let point = self
            .vars
            .iter()
            .zip(fitted)
            .map(|(var, values)| {
                let given = at
                    .get(&var.column)
                    .ok_or_else(|| FormulaError::MissingPredictor {
                        column: var.column.clone(),
                    })?
                    .trim();
                // A value is read as the column's cells are (`0,5` in a decimal-comma column),
                // so the first study's own cells are always a valid point.
                let column = table
                    .column(&var.column)
                    .expect("all_values has checked that every column exists");
                let number = column.read_number(given);
                match values {
                    Values::Factor(_, levels) => {
                        match levels.iter().position(|l| l == given).or_else(|| {
                            // A level of a numeric column is its number, however it is written.
                            let label = number
                                .filter(|_| column.kind != ColumnKind::Text)
                                .map(level_label)?;
                            levels.iter().position(|l| *l == label)
                        }) {
                            Some(code) => Ok(Values::Factor(vec![code], levels)),
                            None => Err(FormulaError::UnknownPredictorLevel {
                                column: var.column.clone(),
                                level: given.to_owned(),
                                levels,
                            }),
                        }
                    }
                    Values::Numeric(_) => {
                        let x = number.filter(|x| x.is_finite()).ok_or_else(|| {
                            FormulaError::BadPredictor {
                                column: var.column.clone(),
                                found: given.to_owned(),
                            }
                        })?;
                        Ok(Values::Numeric(vec![match &var.kind {
                            Kind::Power(p) => {
                                x.powf(p.parse().expect("the parser only accepts numeric powers"))
                            }
                            _ => x,
                        }]))
                    }
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let x0 = self.assemble(&point, 1, rows.len())?;
        Ok(x0.x.row(0).iter().copied().collect())
    }

    /// The model matrix from each variable's values over `k` rows, for a model of `studies`
    /// studies: an error, before anything large is built, if it would have more columns than
    /// [`max_coefficients`] allows.
    fn assemble(
        &self,
        values: &[Values],
        k: usize,
        studies: usize,
    ) -> Result<Design, FormulaError> {
        let limit = max_coefficients(studies);
        let mut columns: Vec<Vec<f64>> = Vec::new();
        let mut names = Vec::new();
        if self.intercept {
            columns.push(vec![1.0; k]);
            names.push("intrcpt".to_owned());
        }
        let mut full_coding_used = self.intercept;
        let mut terms = Vec::new();
        let labels = self.term_labels();
        for (index, (term, term_label)) in self.terms.iter().zip(labels).enumerate() {
            // Start from one all-ones column and multiply in each variable's columns, the
            // first variable varying fastest as in R.
            let mut block: Vec<(String, Vec<f64>)> = vec![(String::new(), vec![1.0; k])];
            for &v in term {
                let var = &self.vars[v];
                let label = var.label();
                // Each part is a column of this variable: its values, or the indicator of one
                // level, made only once the size of the result is known to be allowed.
                let parts: Vec<(String, Part)> = match &values[v] {
                    Values::Numeric(x) => vec![(label, Part::Values(x))],
                    Values::Factor(codes, levels) => {
                        let mut rest = term.clone();
                        rest.remove(&v);
                        let contrasts = if !full_coding_used {
                            // No intercept: the first factor met gets all of its levels.
                            full_coding_used = true;
                            false
                        } else {
                            rest.is_empty() || self.terms[..index].iter().any(|t| rest.is_subset(t))
                        };
                        let first = usize::from(contrasts);
                        (first..levels.len())
                            .map(|l| (format!("{label}{}", levels[l]), Part::Level(codes, l)))
                            .collect()
                    }
                };
                let width = block.len().saturating_mul(parts.len());
                if columns.len().saturating_add(width) > limit {
                    return Err(FormulaError::TooManyCoefficients {
                        formula: self.text.clone(),
                        studies,
                        limit,
                    });
                }
                let mut next = Vec::with_capacity(width);
                for (pname, part) in &parts {
                    for (bname, bx) in &block {
                        let name = if bname.is_empty() {
                            pname.clone()
                        } else {
                            format!("{bname}:{pname}")
                        };
                        let x = match part {
                            Part::Values(px) => bx.iter().zip(*px).map(|(a, b)| a * b).collect(),
                            Part::Level(codes, l) => bx
                                .iter()
                                .zip(*codes)
                                .map(|(a, &c)| a * f64::from(c == *l))
                                .collect(),
                        };
                        next.push((name, x));
                    }
                }
                block = next;
            }
            let start = columns.len();
            for (name, x) in block {
                names.push(name);
                columns.push(x);
            }
            terms.push(Term {
                label: term_label,
                columns: (start..columns.len()).collect(),
            });
        }
        let p = columns.len();
        Ok(Design {
            x: DMatrix::from_fn(k, p, |i, j| columns[j][i]),
            names,
            intercept: self.intercept,
            terms,
        })
    }
}

/// One column a variable contributes to a term.
enum Part<'a> {
    /// A numeric variable's values.
    Values(&'a [f64]),
    /// The indicator of one level: the rows' level codes and the level.
    Level(&'a [usize], usize),
}

/// The most coefficients a model matrix of `studies` rows may have ([`MAX_DESIGN_CELLS`]).
fn max_coefficients(studies: usize) -> usize {
    MAX_DESIGN_CELLS / studies.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::parse::parse;

    #[test]
    fn column_source_reads_back_as_the_same_column() {
        for (name, source) in [
            ("ablat", "ablat"),
            ("a.b_c2", "a.b_c2"),
            (".x", ".x"),
            ("año", "año"),
            (".5x", "`.5x`"),
            ("2nd", "`2nd`"),
            ("mean age", "`mean age`"),
            ("x:y", "`x:y`"),
            ("élan", "`élan`"),
        ] {
            assert_eq!(column_source(name), source);
            assert_eq!(Formula::parse(source).unwrap().columns(), [name]);
        }
    }

    const BCG: &str = "author,year,ablat,alloc\n\
        Aronson,1948,44,random\n\
        Ferguson & Simes,1949,55,random\n\
        Rosenthal et al,1960,42,random\n\
        Hart & Sutherland,1977,52,random\n\
        Frimodt-Moller et al,1973,13,alternate\n\
        Stein & Aronson,1953,44,alternate\n\
        Vandiviere et al,1973,19,random\n\
        TPT Madras,1980,13,random\n\
        Coetzee & Berjak,1968,27,random\n\
        Rosenthal et al,1961,42,systematic\n\
        Comstock et al,1974,18,systematic\n\
        Comstock & Webster,1969,33,systematic\n\
        Comstock et al,1976,33,systematic\n";

    fn design(formula: &str) -> Design {
        let t = parse(BCG).unwrap();
        let rows: Vec<usize> = (0..t.rows()).collect();
        Formula::parse(formula)
            .unwrap()
            .design(&t, &rows, &BTreeMap::new())
            .unwrap()
    }

    fn err(formula: &str) -> FormulaError {
        let t = parse(BCG).unwrap();
        let rows: Vec<usize> = (0..t.rows()).collect();
        Formula::parse(formula)
            .and_then(|f| f.design(&t, &rows, &BTreeMap::new()))
            .unwrap_err()
    }

    #[test]
    fn numeric_moderator_with_intercept() {
        let d = design("ablat");
        assert_eq!(d.names, ["intrcpt", "ablat"]);
        assert_eq!(d.x[(0, 1)], 44.0);
        assert!(d.intercept);
        assert_eq!(
            d.terms,
            [Term {
                label: "ablat".into(),
                columns: vec![1]
            }]
        );
    }

    #[test]
    fn text_column_is_a_factor_with_c_locale_levels() {
        // Levels alternate < random < systematic; alternate is the reference.
        let d = design("alloc");
        assert_eq!(d.names, ["intrcpt", "allocrandom", "allocsystematic"]);
        assert_eq!(d.x.column(1).iter().sum::<f64>(), 7.0);
        assert_eq!(d.x.column(2).iter().sum::<f64>(), 4.0);
        let d = design("factor(alloc)");
        assert_eq!(
            d.names,
            ["intrcpt", "factor(alloc)random", "factor(alloc)systematic"]
        );
        assert_eq!(d.terms[0].columns, [1, 2]);
    }

    #[test]
    fn c_locale_puts_capitals_before_lower_case() {
        let t = parse("g\nb\nB\na\n").unwrap();
        let d = Formula::parse("g")
            .unwrap()
            .design(&t, &[0, 1, 2], &BTreeMap::new())
            .unwrap();
        assert_eq!(d.names, ["intrcpt", "ga", "gb"]); // levels B < a < b
    }

    #[test]
    fn factor_levels_follow_r_order_and_skip_missing_cells() {
        // levels(factor(dat.bcg$alloc)) in R: "alternate" "random" "systematic".
        let t = parse(BCG).unwrap();
        let rows: Vec<usize> = (0..t.rows()).collect();
        assert_eq!(
            factor_levels(&t, "alloc", &rows).unwrap(),
            ["alternate", "random", "systematic"]
        );
        // levels(factor(c(10, 9, 10, NA))) is "9" "10": by value, not by text.
        let t = parse("x\n10\n9\n10\nNA\n").unwrap();
        assert_eq!(factor_levels(&t, "x", &[0, 1, 2, 3]).unwrap(), ["9", "10"]);
        assert!(factor_levels(&t, "nope", &[0]).is_err());
    }

    #[test]
    fn reference_level_can_be_changed() {
        let t = parse(BCG).unwrap();
        let rows: Vec<usize> = (0..t.rows()).collect();
        let refs = BTreeMap::from([("alloc".to_owned(), "random".to_owned())]);
        let d = Formula::parse("alloc")
            .unwrap()
            .design(&t, &rows, &refs)
            .unwrap();
        assert_eq!(d.names, ["intrcpt", "allocalternate", "allocsystematic"]);
        let refs = BTreeMap::from([("alloc".to_owned(), "cluster".to_owned())]);
        let e = Formula::parse("alloc")
            .unwrap()
            .design(&t, &rows, &refs)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "column \"alloc\" has no level \"cluster\" to use as reference: expected one of \"alternate\", \"random\", \"systematic\""
        );
    }

    #[test]
    fn error_reference_for_a_column_that_is_not_a_factor() {
        let t = parse(BCG).unwrap();
        let rows: Vec<usize> = (0..t.rows()).collect();
        for (formula, column) in [("ablat", "alloc"), ("ablat", "ablat")] {
            let refs = BTreeMap::from([(column.to_owned(), "random".to_owned())]);
            let e = Formula::parse(formula)
                .unwrap()
                .design(&t, &rows, &refs)
                .unwrap_err();
            assert!(
                matches!(e, FormulaError::ReferenceNotFactor { column: ref c, .. } if c == column),
                "{formula}: {e}"
            );
        }
    }

    #[test]
    fn crossing_expands_and_orders_by_degree() {
        let d = design("ablat*year");
        assert_eq!(d.names, ["intrcpt", "ablat", "year", "ablat:year"]);
        assert_eq!(d.x[(0, 3)], 44.0 * 1948.0);
        let d = design("ablat:year + alloc");
        assert_eq!(
            d.names,
            ["intrcpt", "allocrandom", "allocsystematic", "ablat:year"]
        );
    }

    #[test]
    fn interaction_of_numeric_and_factor_follows_r_coding() {
        // With the main effect of alloc present, ablat:alloc uses contrasts…
        let d = design("ablat * alloc");
        assert_eq!(
            d.names,
            [
                "intrcpt",
                "ablat",
                "allocrandom",
                "allocsystematic",
                "ablat:allocrandom",
                "ablat:allocsystematic"
            ]
        );
        // …without it, every level gets its own slope (R: model.matrix(~ ablat:alloc)).
        let d = design("ablat:alloc");
        assert_eq!(
            d.names,
            [
                "intrcpt",
                "ablat:allocalternate",
                "ablat:allocrandom",
                "ablat:allocsystematic"
            ]
        );
    }

    #[test]
    fn no_intercept_gives_the_first_factor_all_levels() {
        for f in ["alloc - 1", "0 + alloc", "alloc + 0", "~ -1 + alloc"] {
            let d = design(f);
            assert!(!d.intercept, "{f}");
            assert_eq!(
                d.names,
                ["allocalternate", "allocrandom", "allocsystematic"],
                "{f}"
            );
        }
    }

    #[test]
    fn powers_and_numeric_factors() {
        let d = design("ablat + I(ablat^2)");
        assert_eq!(d.names, ["intrcpt", "ablat", "I(ablat^2)"]);
        assert_eq!(d.x[(0, 2)], 1936.0);
        let d = design("I(ablat ^ -1)");
        assert_eq!(d.names, ["intrcpt", "I(ablat^-1)"]);
        let t = parse("x\n10\n2\n2.5\n10\n").unwrap();
        let d = Formula::parse("factor(x)")
            .unwrap()
            .design(&t, &[0, 1, 2, 3], &BTreeMap::new())
            .unwrap();
        // Numeric levels sort as numbers (2 < 2.5 < 10), not as text.
        assert_eq!(d.names, ["intrcpt", "factor(x)2.5", "factor(x)10"]);
    }

    #[test]
    fn parentheses_distribute_and_minus_removes_terms() {
        // R 4.2: colnames(model.matrix(~ (ablat + year):alloc - ablat:alloc + ablat, dat.bcg))
        let d = design("(ablat + year):alloc - ablat:alloc + ablat");
        assert_eq!(
            d.names,
            [
                "intrcpt",
                "ablat",
                "year:allocalternate",
                "year:allocrandom",
                "year:allocsystematic"
            ]
        );
        // R: colnames(model.matrix(~ 0 + alloc + factor(year), dat.bcg)) — the second factor
        // uses contrasts; 12 distinct years give 11 dummies.
        let d = design("0 + alloc + factor(year)");
        assert_eq!(d.names.len(), 3 + 11);
        assert_eq!(d.names[3], "factor(year)1949");
        assert_eq!(
            Formula::parse("a*b - a:b").unwrap().term_labels(),
            ["a", "b"]
        );
        assert_eq!(
            Formula::parse("~ `my col` + 1").unwrap().columns(),
            ["my col"]
        );
    }

    #[test]
    fn intercept_only_formula() {
        let d = design("1");
        assert_eq!(d.names, ["intrcpt"]);
        assert!(d.terms.is_empty());
    }

    #[test]
    fn error_unknown_column_points_at_it() {
        let e = err("ablt + year");
        assert!(matches!(
            e,
            FormulaError::UnknownColumn {
                span: Span { start: 0, end: 4 },
                ..
            }
        ));
        assert!(e
            .to_string()
            .starts_with("formula \"ablt + year\", characters 1–4: there is no column \"ablt\""));
    }

    #[test]
    fn error_syntax() {
        let e = err("ablat + ");
        assert_eq!(
            e.to_string(),
            "formula \"ablat + \", character 9: found the end of the formula, expected a column name, factor(column), I(column^n) or \"(\""
        );
        assert!(matches!(
            err("ablat year"),
            FormulaError::Syntax {
                span: Span { start: 6, .. },
                ..
            }
        ));
        assert!(matches!(err("(ablat + year"), FormulaError::Syntax { .. }));
        assert!(matches!(
            err("ablat $ year"),
            FormulaError::Syntax {
                span: Span { start: 6, end: 7 },
                ..
            }
        ));
        assert!(matches!(err("`ablat"), FormulaError::Syntax { .. }));
        assert!(matches!(err("I(ablat)"), FormulaError::Syntax { .. }));
        assert!(matches!(err("I(ablat^x)"), FormulaError::Syntax { .. }));
        assert!(matches!(err("2 + ablat"), FormulaError::Syntax { .. }));
        assert!(matches!(err("(1 + ablat)"), FormulaError::Syntax { .. }));
        assert!(matches!(err(""), FormulaError::Syntax { .. }));
    }

    #[test]
    fn error_unsupported_function() {
        let e = err("log(ablat) + year");
        assert!(matches!(
            e,
            FormulaError::UnsupportedFunction {
                span: Span { start: 0, end: 10 },
                ..
            }
        ));
        assert!(e
            .to_string()
            .contains("the function log() is not supported"));
    }

    #[test]
    fn error_bare_power() {
        let e = err("ablat^2");
        assert_eq!(
            e.to_string(),
            "formula \"ablat^2\", characters 1–7: a power must be written I(ablat^n), as in R"
        );
    }

    #[test]
    fn error_power_of_text_column() {
        let e = err("I(alloc^2)");
        assert!(matches!(e, FormulaError::NotNumeric { ref column, .. } if column == "alloc"));
        assert!(e
            .to_string()
            .contains("line 2 (data row 1), column \"alloc\""));
    }

    fn at(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn x0(formula: &str, point: &[(&str, &str)]) -> Result<Vec<f64>, FormulaError> {
        let t = parse(BCG).unwrap();
        let rows: Vec<usize> = (0..t.rows()).collect();
        Formula::parse(formula)
            .unwrap()
            .predictor_row(&t, &rows, &BTreeMap::new(), &at(point))
    }

    #[test]
    fn prediction_row_codes_like_the_design() {
        assert_eq!(x0("ablat", &[("ablat", "10")]).unwrap(), [1.0, 10.0]);
        assert_eq!(
            x0("ablat * year", &[("ablat", "10"), ("year", " 1950 ")]).unwrap(),
            [1.0, 10.0, 1950.0, 19500.0]
        );
        assert_eq!(
            x0(
                "factor(alloc) + I(ablat^2)",
                &[("alloc", "random"), ("ablat", "3")]
            )
            .unwrap(),
            [1.0, 1.0, 0.0, 9.0]
        );
        assert_eq!(
            x0("factor(year)", &[("year", "1949")]).unwrap()[..3],
            [1.0, 1.0, 0.0]
        );
    }

    #[test]
    fn error_prediction_point() {
        assert!(matches!(
            x0("ablat", &[("ablat", "10"), ("year", "1")]),
            Err(FormulaError::UnusedPredictor { ref column, .. }) if column == "year"
        ));
        let e = x0("ablat + year", &[("ablat", "10")]).unwrap_err();
        assert_eq!(
            e,
            FormulaError::MissingPredictor {
                column: "year".into()
            }
        );
        assert!(matches!(
            x0("ablat", &[("ablat", "ten")]),
            Err(FormulaError::BadPredictor { .. })
        ));
        assert!(matches!(
            x0("ablat", &[("ablat", "inf")]),
            Err(FormulaError::BadPredictor { .. })
        ));
        let e = x0("alloc", &[("alloc", "cluster")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the prediction point gives \"cluster\" for factor \"alloc\": expected one of its levels \"alternate\", \"random\", \"systematic\""
        );
    }

    #[test]
    fn error_empty_model() {
        assert!(matches!(err("0"), FormulaError::Empty { .. }));
        assert!(matches!(
            err("ablat - ablat - 1"),
            FormulaError::Empty { .. }
        ));
    }
}
