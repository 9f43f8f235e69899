//! Encoding: how a parsed formula becomes the model matrix of some studies, kept as a record of
//! its own ([`Encoding`]: each variable's coding — numbers, a power, or a factor's levels with
//! the reference first — and each term's columns), so that the row of a new study is built
//! from the encoding alone, without going back to the table.
//!
//! Coding follows R's `model.matrix` with treatment contrasts (Chambers & Hastie, 1992,
//! *Statistical Models in S*, §2.4.1): a factor in a term is coded by contrasts (reference
//! level dropped) when the rest of the term appears among the preceding terms, by indicators
//! otherwise; without an intercept the first factor gets all its levels. Text columns are
//! factors whose levels sort as R sorts them in the C locale (byte order), numeric factors by
//! value; the first level is the reference unless another is chosen.

use std::collections::{BTreeMap, BTreeSet};

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use super::terms::{Kind, TermSet, Var};
use super::{Formula, FormulaError, MAX_DESIGN_CELLS};
use crate::data::parse::{is_missing, read_number, ColumnKind, ParseError, Table};
use crate::stats::{Design, Term};

/// How one variable of the formula enters the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Coding {
    /// The column's numbers, raised to `power` for `I(x^power)`.
    Numeric {
        /// The exponent of `I(x^p)`; `None` for the column as it is.
        power: Option<f64>,
    },
    /// A factor with these levels, the reference first.
    Factor {
        /// Level labels as R writes them (`"1949"` for a number), the reference first.
        levels: Vec<String>,
    },
}

/// One variable of the formula with its coding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncodedVar {
    /// The table column it reads.
    pub column: String,
    /// How the formula reads the column.
    pub kind: Kind,
    /// What the column holds, so that a typed value is read as its cells are (`0,5` in a
    /// decimal-comma column).
    pub holds: ColumnKind,
    /// R's label of the variable (`ablat`, `factor(alloc)`, `I(ablat^2)`).
    pub label: String,
    /// Its coding among the studies the model was built from.
    pub coding: Coding,
}

/// One term of the formula and how each of its factors is coded in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncodedTerm {
    /// R's label of the term (`ablat:factor(alloc)`).
    pub label: String,
    /// Its variables, as indices into [`Encoding::vars`], in R's order.
    pub vars: Vec<usize>,
    /// Per variable of [`EncodedTerm::vars`]: whether a factor is coded by contrasts (its
    /// reference level dropped) rather than by an indicator per level.
    pub contrasts: Vec<bool>,
}

/// Everything needed to code a study as the model coded the studies it was built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encoding {
    /// The formula as typed.
    pub formula: String,
    /// Whether the model has an intercept.
    pub intercept: bool,
    /// The variables, in order of first appearance.
    pub vars: Vec<EncodedVar>,
    /// The terms, in model order.
    pub terms: Vec<EncodedTerm>,
    /// The coefficient names, as R names the model-matrix columns.
    pub names: Vec<String>,
}

/// A model matrix and the encoding it was built with.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    /// The encoding: levels, references, powers, term structure.
    pub encoding: Encoding,
    /// The model matrix of the studies.
    pub design: Design,
}

/// A variable's values over some rows: numbers, or level codes into the coding's levels.
enum Values {
    Numeric(Vec<f64>),
    Factor {
        /// Each row's level.
        codes: Vec<usize>,
        /// How many levels the factor has.
        levels: usize,
    },
}

/// R's `as.character` of a number for factor levels: integers without a decimal point.
fn level_label(v: f64) -> String {
    format!("{v}")
}

/// Whether a column holds numbers.
fn numeric_kind(kind: ColumnKind) -> bool {
    matches!(kind, ColumnKind::Numeric | ColumnKind::NumericDecimalComma)
}

/// The levels `factor(column)` has over the table rows `rows`, in R's order (numbers by value,
/// text by bytes as in the C locale), before any change of reference; missing cells are not
/// levels. For menus that let the user pick the reference level.
pub fn factor_levels(
    table: &Table,
    column: &str,
    rows: &[usize],
) -> Result<Vec<String>, ParseError> {
    Ok(factor_codes(table, column, rows)?.1)
}

/// Each row's level code (`None` for a missing cell) and the levels in R's order.
pub(crate) fn factor_codes(
    table: &Table,
    column: &str,
    rows: &[usize],
) -> Result<(Vec<Option<usize>>, Vec<String>), ParseError> {
    let col = table.column(column)?;
    if numeric_kind(col.kind) {
        let cells = table.numeric(column)?;
        let mut sorted: Vec<f64> = rows.iter().filter_map(|&r| cells[r].value()).collect();
        sorted.sort_by(f64::total_cmp);
        sorted.dedup();
        let codes = rows
            .iter()
            .map(|&r| cells[r].value().map(|v| sorted.partition_point(|s| *s < v)))
            .collect();
        return Ok((codes, sorted.into_iter().map(level_label).collect()));
    }
    // Byte order is R's sort order in the C locale.
    let levels: Vec<&str> = rows
        .iter()
        .map(|&r| col.cell(r))
        .filter(|c| !is_missing(c))
        .collect::<BTreeSet<&str>>()
        .into_iter()
        .collect();
    let codes = rows
        .iter()
        .map(|&r| {
            let cell = col.cell(r);
            (!is_missing(cell)).then(|| levels.partition_point(|l| *l < cell))
        })
        .collect();
    Ok((codes, levels.into_iter().map(str::to_owned).collect()))
}

/// How many coefficients a design may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limit {
    /// At most [`MAX_DESIGN_CELLS`] cells, as R's `model.matrix` builds any design.
    Cells,
    /// That, and no more coefficients than studies: the design of a model to fit.
    CellsAndStudies,
}

impl Formula {
    /// The encoding of the formula over the table rows `rows` (0-based; from
    /// [`Studies::rows`](crate::data::roles::Studies::rows)) and the model matrix of those
    /// rows. `references` maps a column to the level to use as reference instead of the first.
    ///
    /// # Errors
    /// An unknown column, a power of a column that is not numeric, a reference level the
    /// factor does not have or for a column that is no factor, and a factor with fewer than
    /// two levels among the rows (R's "contrasts can be applied only to factors with 2 or
    /// more levels", which metafor reports too).
    ///
    /// # Panics
    /// If a row index is not below `table.rows()`; the rows of studies of the same table
    /// always are.
    pub fn encode(
        &self,
        table: &Table,
        rows: &[usize],
        references: &BTreeMap<String, String>,
    ) -> Result<Encoded, FormulaError> {
        self.encode_within(table, rows, references, Limit::Cells)
    }

    /// [`Formula::encode`] for a model to be fitted, which needs at least as many studies as
    /// coefficients: [`FormulaError::MoreCoefficientsThanStudies`] as soon as the coefficient
    /// names outnumber the studies, before the matrix is built. R's `model.matrix` (and
    /// [`Formula::encode`]) would build it; the fit would then refuse it.
    ///
    /// # Errors
    /// As [`Formula::encode`], and more coefficients than rows.
    ///
    /// # Panics
    /// As [`Formula::encode`].
    pub fn encode_for_fit(
        &self,
        table: &Table,
        rows: &[usize],
        references: &BTreeMap<String, String>,
    ) -> Result<Encoded, FormulaError> {
        self.encode_within(table, rows, references, Limit::CellsAndStudies)
    }

    fn encode_within(
        &self,
        table: &Table,
        rows: &[usize],
        references: &BTreeMap<String, String>,
        limit: Limit,
    ) -> Result<Encoded, FormulaError> {
        self.check_columns(table)?;
        let mut vars = Vec::with_capacity(self.vars.len());
        let mut values = Vec::with_capacity(self.vars.len());
        for var in &self.vars {
            let (coding, x) = self.code(var, table, rows, references)?;
            vars.push(EncodedVar {
                column: var.column.clone(),
                kind: var.kind.clone(),
                holds: table
                    .column(&var.column)
                    .map_or(ColumnKind::Empty, |c| c.kind),
                label: var.label(),
                coding,
            });
            values.push(x);
        }
        // A reference level for a column that is no factor here would silently do nothing.
        for column in references.keys() {
            let is_factor = vars
                .iter()
                .any(|v| v.column == *column && matches!(v.coding, Coding::Factor { .. }));
            if !is_factor {
                return Err(FormulaError::ReferenceNotFactor {
                    formula: self.text.clone(),
                    column: column.clone(),
                });
            }
        }
        let encoding = self.structure(vars, rows.len(), limit)?;
        let design = encoding.assemble(&values, rows.len());
        Ok(Encoded { encoding, design })
    }

    /// A variable's coding and its values over `rows`.
    fn code(
        &self,
        var: &Var,
        table: &Table,
        rows: &[usize],
        references: &BTreeMap<String, String>,
    ) -> Result<(Coding, Values), FormulaError> {
        let column = table
            .column(&var.column)
            .map_err(|_| self.unknown_column(var, table))?;
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
        match (&var.kind, numeric_kind(column.kind)) {
            (Kind::Power(p), _) => {
                let p: f64 = p.parse().expect("the parser only accepts numeric powers");
                let x = numbers()?.into_iter().map(|x| x.powf(p)).collect();
                return Ok((Coding::Numeric { power: Some(p) }, Values::Numeric(x)));
            }
            (Kind::Plain, true) => {
                return Ok((Coding::Numeric { power: None }, Values::Numeric(numbers()?)))
            }
            _ => {}
        }
        // The column exists (checked above): a failure is a number that is not finite.
        let (codes, mut levels) =
            factor_codes(table, &var.column, rows).map_err(|source| FormulaError::NotNumeric {
                formula: self.text.clone(),
                span: var.span,
                column: var.column.clone(),
                source: Box::new(source),
            })?;
        // Rows reaching the design have a value in every used column (roles::studies).
        let mut codes: Vec<usize> = codes.into_iter().map(|c| c.unwrap_or(0)).collect();
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
        if levels.len() < 2 {
            return Err(FormulaError::SingleLevel {
                formula: self.text.clone(),
                column: var.column.clone(),
                level: levels.pop(),
                studies: rows.len(),
            });
        }
        let count = levels.len();
        Ok((
            Coding::Factor { levels },
            Values::Factor {
                codes,
                levels: count,
            },
        ))
    }

    fn unknown_column(&self, var: &Var, table: &Table) -> FormulaError {
        FormulaError::UnknownColumn {
            formula: self.text.clone(),
            span: var.span,
            name: var.column.clone(),
            available: table.names(),
        }
    }

    /// The term structure and coefficient names, from the variables' codings; an error, before
    /// anything large is built, if a model of `studies` studies would have more coefficients
    /// than [`MAX_DESIGN_CELLS`] allows, or, for a fit, than studies.
    fn structure(
        &self,
        vars: Vec<EncodedVar>,
        studies: usize,
        fit_limit: Limit,
    ) -> Result<Encoding, FormulaError> {
        let limit = MAX_DESIGN_CELLS / studies.max(1);
        let mut names = Vec::new();
        if self.intercept {
            names.push("intrcpt".to_owned());
        }
        let mut full_coding_used = self.intercept;
        let mut terms = Vec::with_capacity(self.terms.len());
        for (index, term) in self.terms.iter().enumerate() {
            let mut contrasts = Vec::with_capacity(term.len());
            // The column names of the term's block: the first variable varies fastest, as in R.
            let mut block = vec![String::new()];
            for &v in term {
                let var = &vars[v];
                let parts: Vec<String> = match &var.coding {
                    Coding::Numeric { .. } => {
                        contrasts.push(false);
                        vec![var.label.clone()]
                    }
                    Coding::Factor { levels } => {
                        let coded = self.uses_contrasts(term, v, index, &mut full_coding_used);
                        contrasts.push(coded);
                        levels[usize::from(coded)..]
                            .iter()
                            .map(|l| format!("{}{l}", var.label))
                            .collect()
                    }
                };
                let width = block.len().saturating_mul(parts.len());
                let coefficients = names.len().saturating_add(width);
                // The engine needs k ≥ p; refusing here spares building a matrix it would
                // refuse (crossed factors of 321 studies once made 102,721 columns, 560 MB).
                // With no studies at all, the engine's "no studies" is the error to show.
                if fit_limit == Limit::CellsAndStudies && studies > 0 && coefficients > studies {
                    return Err(FormulaError::MoreCoefficientsThanStudies {
                        formula: self.text.clone(),
                        studies,
                    });
                }
                if coefficients > limit {
                    return Err(FormulaError::TooManyCoefficients {
                        formula: self.text.clone(),
                        studies,
                        limit,
                    });
                }
                block = parts
                    .iter()
                    .flat_map(|p| {
                        block.iter().map(move |b| {
                            if b.is_empty() {
                                p.clone()
                            } else {
                                format!("{b}:{p}")
                            }
                        })
                    })
                    .collect();
            }
            names.extend(block);
            terms.push(EncodedTerm {
                label: super::terms::term_label(term, &self.vars),
                vars: term.iter().copied().collect(),
                contrasts,
            });
        }
        Ok(Encoding {
            formula: self.text.clone(),
            intercept: self.intercept,
            vars,
            terms,
            names,
        })
    }

    /// Whether factor `v` of term `index` is coded by contrasts: the rest of the term appears
    /// among the preceding terms (and the model has an intercept or an earlier full coding).
    fn uses_contrasts(
        &self,
        term: &TermSet,
        v: usize,
        index: usize,
        full_coding_used: &mut bool,
    ) -> bool {
        if !*full_coding_used {
            // No intercept: the first factor met gets all of its levels.
            *full_coding_used = true;
            return false;
        }
        let mut rest = term.clone();
        rest.remove(&v);
        rest.is_empty() || self.terms[..index].iter().any(|t| rest.is_subset(t))
    }
}

impl Encoding {
    /// The table columns the model reads, each once, in order of first appearance.
    pub fn columns(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for v in &self.vars {
            if !out.contains(&v.column.as_str()) {
                out.push(&v.column);
            }
        }
        out
    }

    /// Whether `column` enters the model as a factor anywhere.
    pub fn is_factor(&self, column: &str) -> bool {
        self.vars
            .iter()
            .any(|v| v.column == column && matches!(v.coding, Coding::Factor { .. }))
    }

    /// The levels of factor `column`, the reference first; `None` if it is no factor.
    pub fn levels(&self, column: &str) -> Option<&[String]> {
        self.vars.iter().find_map(|v| match &v.coding {
            Coding::Factor { levels } if v.column == column => Some(levels.as_slice()),
            _ => None,
        })
    }

    /// The model-matrix row of a new study with the given values, one per column the model
    /// uses (a number, or a level for a factor), coded as the studies were — the `x0` of a
    /// prediction, intercept included.
    ///
    /// # Errors
    /// A value for a column the model does not use, a column without a value, a value that is
    /// not a finite number for a numeric column, or not one of the levels of a factor.
    ///
    /// # Examples
    /// ```
    /// use std::collections::BTreeMap;
    /// use meridian::data::{formula::Formula, parse::parse};
    /// let t = parse("x,g\n1,a\n2,b\n3,c\n")?;
    /// let encoded = Formula::parse("x * g")?.encode(&t, &[0, 1, 2], &BTreeMap::new())?;
    /// let at = BTreeMap::from([("x".into(), "10".into()), ("g".into(), "c".into())]);
    /// assert_eq!(encoded.encoding.row(&at)?, [1.0, 10.0, 0.0, 1.0, 0.0, 10.0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn row(&self, at: &BTreeMap<String, String>) -> Result<Vec<f64>, FormulaError> {
        let columns = self.columns();
        if let Some(name) = at.keys().find(|n| !columns.contains(&n.as_str())) {
            return Err(FormulaError::UnusedPredictor {
                formula: self.formula.clone(),
                column: name.clone(),
            });
        }
        let point = self
            .vars
            .iter()
            .map(|var| {
                let given = at
                    .get(&var.column)
                    .ok_or_else(|| FormulaError::MissingPredictor {
                        column: var.column.clone(),
                    })?
                    .trim();
                // A value is read as the column's cells are (`0,5` in a decimal-comma column),
                // so a study's own cells are always a valid point.
                let number = read_number(var.holds, given);
                match &var.coding {
                    Coding::Factor { levels } => {
                        let code = levels.iter().position(|l| l == given).or_else(|| {
                            // A level of a numeric column is its number, however it is written.
                            let label = number
                                .filter(|_| var.holds != ColumnKind::Text)
                                .map(level_label)?;
                            levels.iter().position(|l| *l == label)
                        });
                        match code {
                            Some(code) => Ok(Values::Factor {
                                codes: vec![code],
                                levels: levels.len(),
                            }),
                            None => Err(FormulaError::UnknownPredictorLevel {
                                column: var.column.clone(),
                                level: given.to_owned(),
                                levels: levels.clone(),
                            }),
                        }
                    }
                    Coding::Numeric { power } => {
                        let x = number.filter(|x| x.is_finite()).ok_or_else(|| {
                            FormulaError::BadPredictor {
                                column: var.column.clone(),
                                found: given.to_owned(),
                            }
                        })?;
                        Ok(Values::Numeric(vec![power.map_or(x, |p| x.powf(p))]))
                    }
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.assemble(&point, 1).x.row(0).iter().copied().collect())
    }

    /// The model matrix from each variable's values over `k` rows.
    fn assemble(&self, values: &[Values], k: usize) -> Design {
        let mut columns: Vec<Vec<f64>> = Vec::with_capacity(self.names.len());
        if self.intercept {
            columns.push(vec![1.0; k]);
        }
        let mut terms = Vec::with_capacity(self.terms.len());
        for term in &self.terms {
            // Multiply in each variable's columns, the first variable varying fastest as in R;
            // the first variable's columns are the block itself (1·x is x to the bit), so a
            // main effect costs one copy of its column, not three.
            let mut block: Option<Vec<Vec<f64>>> = None;
            for (&v, &contrasts) in term.vars.iter().zip(&term.contrasts) {
                let parts: Vec<Vec<f64>> = match &values[v] {
                    Values::Numeric(x) => vec![x.clone()],
                    Values::Factor { codes, levels } => (usize::from(contrasts)..*levels)
                        .map(|l| codes.iter().map(|&c| f64::from(c == l)).collect())
                        .collect(),
                };
                block = Some(match block {
                    None => parts,
                    Some(block) => parts
                        .iter()
                        .flat_map(|px| {
                            block
                                .iter()
                                .map(move |bx| bx.iter().zip(px).map(|(a, b)| a * b).collect())
                        })
                        .collect(),
                });
            }
            let start = columns.len();
            columns.extend(block.unwrap_or_else(|| vec![vec![1.0; k]]));
            terms.push(Term {
                label: term.label.clone(),
                columns: (start..columns.len()).collect(),
            });
        }
        Design {
            x: DMatrix::from_iterator(k, columns.len(), columns.iter().flatten().copied()),
            names: self.names.clone(),
            intercept: self.intercept,
            terms,
        }
    }
}
