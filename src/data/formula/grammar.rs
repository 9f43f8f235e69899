//! Parsing: tokens to the formula's variables and terms, by R's rules for `+`, `-`, `:`, `*`,
//! parentheses, `factor()`, `I(x^n)` and the intercept (`0`, `1`, `- 1`).
//!
//! Grammar: `sum := ['+'|'-'] product (('+'|'-') product)*`, `product := interaction ('*'
//! interaction)*`, `interaction := atom (':' atom)*`, `atom := column | factor(column) |
//! I(column ^ number) | between(column, column) | within(column, column) | '(' sum ')'`.

use std::collections::BTreeSet;

use super::lex::{tokenize, Span, Tok};
use super::terms::{Centring, Kind, Part, TermSet, Var};
use super::{FormulaError, MAX_TERMS};

/// Deepest nesting of parentheses: far beyond what a person writes, and well within the
/// stack of a WebAssembly page (the parser recurses once per level).
const MAX_NESTING: usize = 64;

/// What the text says: variables in order of first appearance, terms in R's order (by
/// degree, then as written), and whether there is an intercept.
pub(super) struct Parsed {
    pub(super) vars: Vec<Var>,
    pub(super) terms: Vec<TermSet>,
    pub(super) intercept: bool,
}

/// Parses the right-hand side of a model formula (an optional leading `~` allowed).
pub(super) fn parse(text: &str) -> Result<Parsed, FormulaError> {
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
    terms.sort_by_key(TermSet::len);
    if terms.is_empty() && !intercept {
        return Err(FormulaError::Empty {
            formula: text.to_owned(),
        });
    }
    Ok(Parsed {
        vars: parser.vars,
        terms,
        intercept,
    })
}

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
    order: Vec<TermSet>,
    seen: BTreeSet<TermSet>,
}

impl TermList {
    fn of(var: usize) -> Self {
        let mut list = Self::default();
        list.push(TermSet::from([var]));
        list
    }

    /// Appends `term` unless the list has it already.
    fn push(&mut self, term: TermSet) {
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
        self.var_of(Var {
            kind,
            column,
            span,
            centring: None,
        })
    }

    fn var_of(&mut self, var: Var) -> usize {
        match self
            .vars
            .iter()
            .position(|v| v.kind == var.kind && v.column == var.column)
        {
            Some(i) => i,
            None => {
                self.vars.push(var);
                self.vars.len() - 1
            }
        }
    }

    /// The rest of `between(x, g)` or `within(x, g)` after the opening parenthesis.
    fn centred(&mut self, part: Part, start: Span) -> Result<TermList, FormulaError> {
        let (source, _) = self.ident("a column name")?;
        self.expect(',', "\",\" and the cluster column, as in within(x, study)")?;
        let (cluster, _) = self.ident("the cluster column")?;
        let end = self.expect(')', "\")\" closing the function")?;
        let centring = Centring {
            part,
            source,
            cluster,
        };
        let v = self.var_of(Var {
            kind: Kind::Plain,
            column: centring.name(),
            span: Span {
                start: start.start,
                end: end.end,
            },
            centring: Some(centring),
        });
        Ok(TermList::of(v))
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

    /// atom := column | factor(column) | I(column ^ number) | between(column, column) |
    /// within(column, column) | '(' sum ')'.
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
                    "between" => return self.centred(Part::Between, start),
                    "within" => return self.centred(Part::Within, start),
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
            _ => Err(self.error(
                "a column name, factor(column), I(column^n), within(column, cluster) or \"(\"",
            )),
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
