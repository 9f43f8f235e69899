//! Tables of participants (IPD) and of subgroup effects → the studies of
//! [`crate::stats::ipd`]: rows grouped by the study column in order of first appearance, the
//! numeric columns read once, a missing cell an error that names its line.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::parse::{is_missing, NumCell, ParseError, Table};
use crate::stats::ipd::subgroup::SubgroupStudy;
use crate::stats::ipd::IpdStudy;

/// The columns of a table of participants.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IpdColumns {
    /// The study each participant belongs to (any text or number).
    pub study: String,
    /// Treatment, 0 (control) or 1 (treated).
    pub treat: String,
    /// The outcome (0/1 for a binary outcome).
    pub outcome: String,
    /// The participant-level covariate.
    pub covariate: String,
}

/// The columns of a table of studies reporting two subgroups.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SubgroupColumns {
    /// The study label.
    pub study: String,
    /// The first subgroup's effect.
    pub y1: String,
    /// Its sampling variance.
    pub v1: String,
    /// The second subgroup's effect.
    pub y2: String,
    /// Its sampling variance.
    pub v2: String,
    /// The share of participants in the first subgroup (0 to 1).
    pub share: String,
}

/// Why a table cannot be read as participants or subgroups.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum IpdTableError {
    /// A column is unknown or holds something other than numbers.
    Parse(ParseError),
    /// A cell that the analysis needs is empty (or `NA`).
    Missing {
        /// 1-based line of the file.
        line: u64,
        /// 1-based data row.
        row: usize,
        /// The column.
        column: String,
    },
}

impl fmt::Display for IpdTableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Parse(e) => e.fmt(f),
            Self::Missing { line, row, column } => write!(
                f,
                "line {line} (data row {row}), column \"{column}\" is missing: every row needs a value (remove the row or fill it in)"
            ),
        }
    }
}

impl std::error::Error for IpdTableError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Parse(e) => Some(e),
            Self::Missing { .. } => None,
        }
    }
}

impl From<ParseError> for IpdTableError {
    fn from(e: ParseError) -> Self {
        Self::Parse(e)
    }
}

/// The values of a numeric column, every cell present.
fn values(table: &Table, name: &str) -> Result<Vec<f64>, IpdTableError> {
    table
        .numeric(name)?
        .iter()
        .enumerate()
        .map(|(i, cell)| match cell {
            NumCell::Value(v) => Ok(*v),
            NumCell::Missing => Err(missing(table, i, name)),
        })
        .collect()
}

fn missing(table: &Table, i: usize, name: &str) -> IpdTableError {
    IpdTableError::Missing {
        line: table.lines[i],
        row: i + 1,
        column: name.to_owned(),
    }
}

/// For each row, the index of its study among the labels in order of first appearance.
fn groups(table: &Table, name: &str) -> Result<(Vec<String>, Vec<usize>), IpdTableError> {
    let column = table.column(name)?;
    let mut labels = Vec::new();
    let mut index = HashMap::new();
    let mut of_row = Vec::with_capacity(column.len());
    for (i, cell) in column.cells().enumerate() {
        if is_missing(cell) {
            return Err(missing(table, i, name));
        }
        let g = *index.entry(cell.to_owned()).or_insert_with(|| {
            labels.push(cell.to_owned());
            labels.len() - 1
        });
        of_row.push(g);
    }
    Ok((labels, of_row))
}

/// The participants of each study, studies in order of first appearance.
///
/// # Errors
/// An unknown or non-numeric column, or a missing cell ([`IpdTableError`]).
pub fn ipd_studies(table: &Table, columns: &IpdColumns) -> Result<Vec<IpdStudy>, IpdTableError> {
    let (labels, of_row) = groups(table, &columns.study)?;
    let treat = values(table, &columns.treat)?;
    let covariate = values(table, &columns.covariate)?;
    let outcome = values(table, &columns.outcome)?;
    let mut studies: Vec<IpdStudy> = labels
        .into_iter()
        .map(|label| IpdStudy {
            label,
            treat: Vec::new(),
            covariate: Vec::new(),
            outcome: Vec::new(),
        })
        .collect();
    for (i, &g) in of_row.iter().enumerate() {
        let s = &mut studies[g];
        s.treat.push(treat[i]);
        s.covariate.push(covariate[i]);
        s.outcome.push(outcome[i]);
    }
    Ok(studies)
}

/// One study per row of a table of subgroup effects.
///
/// # Errors
/// An unknown or non-numeric column, or a missing cell ([`IpdTableError`]).
pub fn subgroup_studies(
    table: &Table,
    columns: &SubgroupColumns,
) -> Result<Vec<SubgroupStudy>, IpdTableError> {
    let label = table.column(&columns.study)?;
    let y1 = values(table, &columns.y1)?;
    let v1 = values(table, &columns.v1)?;
    let y2 = values(table, &columns.y2)?;
    let v2 = values(table, &columns.v2)?;
    let share = values(table, &columns.share)?;
    Ok((0..table.rows())
        .map(|i| SubgroupStudy {
            label: label.cell(i).to_owned(),
            y1: y1[i],
            v1: v1[i],
            y2: y2[i],
            v2: v2[i],
            share: share[i],
        })
        .collect())
}
