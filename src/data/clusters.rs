//! Cluster columns and random-effects formulas: metafor's `~ 1 | a/b` and `~ inner | outer`
//! read as text and turned, for the studies of a model, into the level codes the core's
//! multilevel model and cluster-robust inference take (equal cells, equal code).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::parse::{is_missing, Table};
use crate::stats::{RandomEffect, Structure};

/// Why a random-effects formula or a cluster column cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClusterError {
    /// The formula is not `~ 1 | a`, `~ 1 | a/b/…` or `~ inner | outer`.
    Syntax {
        /// The formula given.
        formula: String,
    },
    /// The formula or option names a column the table does not have.
    UnknownColumn {
        /// The column.
        column: String,
    },
    /// A study has no value in a cluster column.
    MissingValue {
        /// The column.
        column: String,
        /// 1-based data row.
        row: usize,
    },
    /// An `~ inner | outer` term without `--struct`.
    NoStructure {
        /// The formula.
        formula: String,
    },
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax { formula } => write!(
                f,
                "the random-effects formula \"{formula}\" is not understood; write it as \
                 metafor does, e.g. \"~ 1 | study\", \"~ 1 | district/school\" or \
                 \"~ outcome | trial\""
            ),
            Self::UnknownColumn { column } => write!(
                f,
                "there is no column `{column}` to cluster by; check the header for its name"
            ),
            Self::MissingValue { column, row } => write!(
                f,
                "row {row} has no value in the cluster column `{column}`; fill it in or drop \
                 the row"
            ),
            Self::NoStructure { formula } => write!(
                f,
                "the term \"{formula}\" correlates true effects within a cluster and needs a \
                 structure: add --struct CS, HCS, UN or DIAG"
            ),
        }
    }
}

impl std::error::Error for ClusterError {}

/// One random-effects term as a formula names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RandomTerm {
    /// The inner factor of `~ inner | outer`; `None` for `~ 1 | …`.
    pub inner: Option<String>,
    /// The grouping columns, outermost first (`a/b` is `[a, b]`).
    pub outer: Vec<String>,
}

impl RandomTerm {
    /// Reads `~ 1 | a/b` or `~ inner | outer` (the `~` may be left out).
    ///
    /// # Errors
    /// [`ClusterError::Syntax`].
    pub fn parse(text: &str) -> Result<Self, ClusterError> {
        let syntax = || ClusterError::Syntax {
            formula: text.to_owned(),
        };
        let body = text.trim().trim_start_matches('~').trim();
        let (left, right) = body.split_once('|').ok_or_else(syntax)?;
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        };
        let outer: Vec<String> = right.split('/').map(|s| s.trim().to_owned()).collect();
        if !outer.iter().all(|s| name_ok(s)) {
            return Err(syntax());
        }
        let left = left.trim();
        let inner = match left {
            "1" => None,
            s if name_ok(s) && outer.len() == 1 => Some(s.to_owned()),
            _ => return Err(syntax()),
        };
        Ok(Self { inner, outer })
    }

    /// The formula as metafor writes it.
    pub fn formula(&self) -> String {
        format!(
            "~ {} | {}",
            self.inner.as_deref().unwrap_or("1"),
            self.outer.join("/")
        )
    }
}

/// The codes of column `column` for the table rows `rows` (0-based), equal cells equal code.
///
/// # Errors
/// [`ClusterError::UnknownColumn`], [`ClusterError::MissingValue`].
pub fn codes(table: &Table, rows: &[usize], column: &str) -> Result<Vec<usize>, ClusterError> {
    let cells = cells(table, rows, column)?;
    let mut seen = std::collections::HashMap::new();
    Ok(cells
        .into_iter()
        .map(|c| {
            let n = seen.len();
            *seen.entry(c).or_insert(n)
        })
        .collect())
}

/// The cells of `column` for `rows`.
fn cells(table: &Table, rows: &[usize], column: &str) -> Result<Vec<String>, ClusterError> {
    let col = table
        .column(column)
        .map_err(|_| ClusterError::UnknownColumn {
            column: column.to_owned(),
        })?;
    rows.iter()
        .map(|&r| {
            let cell = col.cell(r).trim();
            if is_missing(cell) {
                Err(ClusterError::MissingValue {
                    column: column.to_owned(),
                    row: r + 1,
                })
            } else {
                Ok(cell.to_owned())
            }
        })
        .collect()
}

/// The core's random effects of `terms` for the table rows `rows`: `~ 1 | a/b` gives the
/// components `a` and `a/b` (levels the distinct (a, b) pairs), `~ inner | outer` a structured
/// term with the inner levels sorted as R sorts a factor's (numerically when every value is a
/// number).
///
/// # Errors
/// [`ClusterError`] for unknown columns, missing values, or a structured term without
/// `structure`.
pub fn random_effects(
    table: &Table,
    rows: &[usize],
    terms: &[RandomTerm],
    structure: Option<Structure>,
) -> Result<Vec<RandomEffect>, ClusterError> {
    let mut out = Vec::new();
    for term in terms {
        let columns: Vec<Vec<String>> = term
            .outer
            .iter()
            .map(|c| cells(table, rows, c))
            .collect::<Result<_, _>>()?;
        match &term.inner {
            None => {
                for depth in 1..=columns.len() {
                    let keys: Vec<Vec<&str>> = (0..rows.len())
                        .map(|i| columns[..depth].iter().map(|c| c[i].as_str()).collect())
                        .collect();
                    let mut seen = std::collections::HashMap::new();
                    let levels = keys
                        .into_iter()
                        .map(|k| {
                            let n = seen.len();
                            *seen.entry(k).or_insert(n)
                        })
                        .collect();
                    out.push(RandomEffect::Intercept {
                        name: term.outer[..depth].join("/"),
                        levels,
                    });
                }
            }
            Some(inner) => {
                let structure = structure.ok_or_else(|| ClusterError::NoStructure {
                    formula: term.formula(),
                })?;
                let values = cells(table, rows, inner)?;
                let levels = sorted_levels(&values);
                out.push(RandomEffect::Structured {
                    inner_name: inner.clone(),
                    outer_name: term.outer[0].clone(),
                    inner: values
                        .iter()
                        .map(|v| levels.iter().position(|l| l == v).unwrap_or(0))
                        .collect(),
                    inner_levels: levels,
                    outer: codes(table, rows, &term.outer[0])?,
                    structure,
                });
            }
        }
    }
    Ok(out)
}

/// The distinct values, sorted numerically when all are numbers, else as text.
fn sorted_levels(values: &[String]) -> Vec<String> {
    let mut levels: Vec<String> = values.to_vec();
    levels.sort();
    levels.dedup();
    let numbers: Option<Vec<f64>> = levels.iter().map(|l| l.parse::<f64>().ok()).collect();
    if let Some(n) = numbers {
        let mut pairs: Vec<(f64, String)> = n.into_iter().zip(levels).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        return pairs.into_iter().map(|(_, l)| l).collect();
    }
    levels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::parse::parse;

    #[test]
    fn formulas_read_as_metafor_writes_them() {
        let t = RandomTerm::parse("~ 1 | district/school").expect("parses");
        assert_eq!(t.outer, ["district", "school"]);
        assert_eq!(t.inner, None);
        assert_eq!(t.formula(), "~ 1 | district/school");
        let s = RandomTerm::parse("~outcome|trial").expect("parses");
        assert_eq!(s.inner.as_deref(), Some("outcome"));
        for bad in ["~ 1 district", "~ a + b | c", "~ 1 | a//b", "~ x | a/b"] {
            assert!(RandomTerm::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nested_terms_count_pairs_and_missing_clusters_are_errors() {
        let table = parse("d,s,yi,vi\n1,1,0.1,0.1\n1,2,0.2,0.1\n2,1,0.3,0.1\n2,1,0.4,0.1\n")
            .expect("a table");
        let terms = [RandomTerm::parse("~ 1 | d/s").expect("parses")];
        let r = random_effects(&table, &[0, 1, 2, 3], &terms, None).expect("codes");
        match &r[1] {
            RandomEffect::Intercept { name, levels } => {
                assert_eq!(name, "d/s");
                assert_eq!(levels, &[0, 1, 2, 2]);
            }
            other => panic!("{other:?}"),
        }
        let gap = parse("d,yi,vi\n1,0.1,0.1\nNA,0.2,0.1\n").expect("a table");
        assert_eq!(
            codes(&gap, &[0, 1], "d"),
            Err(ClusterError::MissingValue {
                column: "d".into(),
                row: 2
            })
        );
        assert_eq!(sorted_levels(&["10".into(), "9".into()]), ["9", "10"]);
    }
}
