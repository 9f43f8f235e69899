//! Columns → studies: which column is the study label, which hold y_i and v_i (or standard
//! errors, or the raw data of an effect-size measure), and which rows can enter the model.
//!
//! Roles are guessed from metafor's argument names (`yi vi sei`, `ai bi ci di`,
//! `n1i n2i m1i m2i sd1i sd2i`, `ri ni`, `xi ni`) and common label columns; every guess can
//! be overridden. A row with a missing value in any column the model uses is excluded and
//! reported by its data-row number, as metafor drops it with "Studies with NAs omitted"; so is a
//! row whose values give no usable effect size (a variance of zero, r = 1 for Fisher's z, a
//! group too small for its measure, …), with the reason, as metafor leaves such studies out
//! with a warning. Only a problem of the whole file (no effect-size columns, a column that is
//! not numeric) is an error.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::effect_size::{compute, EffectSizeError, Measure, RawRole};
use super::labels::Labels;
use super::parse::{is_missing, Column, ColumnKind, NumCell, ParseError, Table};
use crate::format::general;

/// Header names taken for the study label, most specific first (compared case-insensitively).
const LABEL_NAMES: [&str; 9] = [
    "study", "studlab", "slab", "label", "author", "authors", "trial", "name", "id",
];

/// Errors from assigning roles and building studies.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RolesError {
    /// A column could not be read (unknown name, a cell that is not a number, …).
    Parse(ParseError),
    /// Neither y_i with v_i (or standard errors) nor a measure with raw data was given.
    NoEffectSizes,
    /// Given effect sizes lack their variances (no `vi` or `sei` column).
    NoVariance {
        /// The effect-size column.
        yi: String,
    },
    /// A measure needs a raw-data column that was neither chosen nor found by its name.
    MissingRawColumn {
        /// The measure.
        measure: Measure,
        /// The role without a column.
        role: RawRole,
    },
    /// Every row is left out, for a missing value in a column the model uses or a value no
    /// effect size can be computed from.
    NoStudies {
        /// Number of rows excluded.
        excluded: usize,
    },
}

impl fmt::Display for RolesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Parse(e) => e.fmt(f),
            Self::NoEffectSizes => write!(f, "no effect sizes: expected columns yi and vi (or sei), or a measure such as OR or SMD with its raw-data columns"),
            Self::NoVariance { yi } => write!(f, "effect sizes in column \"{yi}\" have no sampling variances: expected a column vi (variances) or sei (standard errors)"),
            Self::MissingRawColumn { measure, role } => write!(f, "measure {measure} needs a column for {role}: expected a column named {role}, or one chosen for it"),
            Self::NoStudies { excluded } => write!(f, "all {excluded} rows are left out, each for a missing value in a column the model uses or a value no effect size can be computed from (the table says which): expected at least one complete, usable row"),
        }
    }
}

impl std::error::Error for RolesError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Parse(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ParseError> for RolesError {
    fn from(e: ParseError) -> Self {
        Self::Parse(e)
    }
}

/// Which column plays which part. `None` means no column has the part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles {
    /// Study labels.
    pub slab: Option<String>,
    /// Observed effect sizes.
    pub yi: Option<String>,
    /// Sampling variances.
    pub vi: Option<String>,
    /// Standard errors (used when there is no `vi`).
    pub sei: Option<String>,
    /// Raw-data columns by role.
    pub raw: BTreeMap<RawRole, String>,
}

/// Guesses roles from the header: metafor's names, compared case-insensitively.
pub fn guess(table: &Table) -> Roles {
    let find = |wanted: &str| {
        table
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(wanted))
            .map(|c| c.name.clone())
    };
    Roles {
        slab: label_column(table),
        yi: find("yi"),
        vi: find("vi"),
        sei: find("sei"),
        raw: RawRole::ALL
            .iter()
            .filter_map(|&r| find(r.name()).map(|c| (r, c)))
            .collect(),
    }
}

/// The label column: the first of [`LABEL_NAMES`] that holds text (`author` rather than a
/// numeric `study` index), else the first present.
fn label_column(table: &Table) -> Option<String> {
    let candidates: Vec<&Column> = LABEL_NAMES
        .iter()
        .filter_map(|n| {
            table
                .columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(n))
        })
        .collect();
    candidates
        .iter()
        .find(|c| c.kind == ColumnKind::Text)
        .or(candidates.first())
        .map(|c| c.name.clone())
}

/// A variance column, or a standard-error column to square.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Variance {
    /// Sampling variances.
    Vi(String),
    /// Standard errors.
    Sei(String),
}

/// Where the effect sizes come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EffectSource {
    /// Effect sizes and their variances are columns of the table.
    Given {
        /// The effect-size column.
        yi: String,
        /// The variance or standard-error column.
        variance: Variance,
    },
    /// Computed from raw data.
    Raw {
        /// The measure.
        measure: Measure,
        /// One column per [`Measure::roles`], in that order.
        columns: Vec<String>,
    },
}

impl EffectSource {
    /// The columns the effect sizes are read or computed from.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            Self::Given { yi, variance } => {
                let (Variance::Vi(v) | Variance::Sei(v)) = variance;
                vec![yi, v]
            }
            Self::Raw { columns, .. } => columns.iter().map(String::as_str).collect(),
        }
    }
}

impl Roles {
    /// The effect-size source these roles describe: raw data for `measure` if one is given,
    /// otherwise `yi` with `vi` (preferred) or `sei`.
    pub fn source(&self, measure: Option<Measure>) -> Result<EffectSource, RolesError> {
        if let Some(measure) = measure {
            let columns = measure
                .roles()
                .iter()
                .map(|&role| {
                    self.raw
                        .get(&role)
                        .cloned()
                        .ok_or(RolesError::MissingRawColumn { measure, role })
                })
                .collect::<Result<_, _>>()?;
            return Ok(EffectSource::Raw { measure, columns });
        }
        let yi = self.yi.clone().ok_or(RolesError::NoEffectSizes)?;
        let variance = match (&self.vi, &self.sei) {
            (Some(vi), _) => Variance::Vi(vi.clone()),
            (None, Some(sei)) => Variance::Sei(sei.clone()),
            (None, None) => return Err(RolesError::NoVariance { yi }),
        };
        Ok(EffectSource::Given { yi, variance })
    }
}

/// Why a row is left out of the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Exclusion {
    /// Cells of used columns are missing.
    Missing {
        /// The used columns whose cell is missing in this row.
        columns: Vec<String>,
    },
    /// The raw data give no effect size (metafor's `escalc` gives `NA` or refuses).
    Unusable {
        /// The column behind the offending value.
        column: String,
        /// What is wrong with it.
        problem: EffectSizeError,
    },
    /// The sampling variance (or its square root, a standard error) is zero, negative or too
    /// large to be a number: the study has no weight a model could give it.
    Variance {
        /// The variance or standard-error column.
        column: String,
        /// The value in it.
        value: f64,
    },
    /// The sampling variance computed from the raw data is zero or too small to weigh the
    /// study (both standard deviations 0 for a mean difference, say).
    ComputedVariance {
        /// The variance computed.
        value: f64,
    },
    /// A usable study the user chose to leave out, to see the analysis without it (the
    /// page's "without this study").
    Chosen,
}

impl fmt::Display for Exclusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { columns } => write!(f, "no value for {}", columns.join(", ")),
            Self::Unusable { column, problem } => write!(f, "column \"{column}\": {problem}"),
            Self::Variance { column, value } => write!(f, "column \"{column}\" is {}: expected a sampling variance or standard error above zero", general(*value)),
            Self::ComputedVariance { value } => write!(f, "the sampling variance computed from the raw data is {}: expected a variance above zero", general(*value)),
            Self::Chosen => write!(f, "by choice, to see the analysis without this study"),
        }
    }
}

/// A row left out of the model and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Excluded {
    /// 1-based data row (the header is not counted).
    pub row: usize,
    /// 1-based line of the file.
    pub line: u64,
    /// Why.
    pub reason: Exclusion,
}

/// The studies that enter the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Studies {
    /// Effect sizes.
    pub yi: Vec<f64>,
    /// Sampling variances.
    pub vi: Vec<f64>,
    /// Study labels: the label column's cell, or the data-row number.
    pub labels: Labels,
    /// 0-based table row of each study, for building the design matrix from the same rows.
    pub rows: Vec<usize>,
    /// Rows left out, in file order.
    pub excluded: Vec<Excluded>,
}

impl Studies {
    /// Number of studies.
    pub fn k(&self) -> usize {
        self.yi.len()
    }

    /// These studies without the one from 0-based table row `row` (listed among the rows left
    /// out, [`Exclusion::Chosen`], in file order); unchanged when no study comes from it.
    ///
    /// # Errors
    /// [`RolesError::NoStudies`] when it is the only study.
    pub fn without_row(&self, row: usize, line: u64) -> Result<Self, RolesError> {
        let Some(i) = self.rows.iter().position(|&r| r == row) else {
            return Ok(self.clone());
        };
        if self.k() == 1 {
            return Err(RolesError::NoStudies {
                excluded: self.excluded.len() + 1,
            });
        }
        let mut out = self.clone();
        out.yi.remove(i);
        out.vi.remove(i);
        out.labels.remove(i);
        out.rows.remove(i);
        let at = out.excluded.partition_point(|e| e.row <= row);
        out.excluded.insert(
            at,
            Excluded {
                row: row + 1,
                line,
                reason: Exclusion::Chosen,
            },
        );
        Ok(out)
    }
}

/// Builds the studies: reads or computes y_i and v_i and leaves out every row with a missing
/// value in an effect-size column or in one of `moderators` (the columns a formula uses).
///
/// # Examples
/// ```
/// use meridian::data::{parse::parse, roles};
/// let table = parse("study,yi,sei,x\nA,0.1,0.2,1\nB,0.3,0.1,NA\n")?;
/// let source = roles::guess(&table).source(None)?;
/// let s = roles::studies(&table, &source, Some("study"), &["x"])?;
/// assert_eq!(s.labels, ["A"]);
/// assert!((s.vi[0] - 0.04).abs() < 1e-15);
/// assert_eq!(s.excluded[0].row, 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn studies(
    table: &Table,
    source: &EffectSource,
    slab: Option<&str>,
    moderators: &[&str],
) -> Result<Studies, RolesError> {
    let effect_columns = source.columns();
    let values: Vec<&[NumCell]> = effect_columns
        .iter()
        .map(|c| table.numeric(c))
        .collect::<Result<_, _>>()?;
    let moderator_cells = moderators
        .iter()
        .map(|m| table.column(m).map(|c| (m, c)))
        .collect::<Result<Vec<_>, _>>()?;
    let labels = slab.map(|s| table.column(s)).transpose()?;

    // Room for every row: growing by doubling would copy (and touch) each vector twice over.
    let rows = table.rows();
    let mut studies = Studies {
        yi: Vec::with_capacity(rows),
        vi: Vec::with_capacity(rows),
        labels: Labels::with_capacity(rows, labels.map_or(0, |c| c.text_len())),
        rows: Vec::with_capacity(rows),
        excluded: Vec::new(),
    };
    let mut scratch = Vec::with_capacity(effect_columns.len());
    for i in 0..table.rows() {
        let (line, row) = (table.lines[i], i + 1);
        scratch.clear();
        let mut missing = Vec::new();
        for (name, column) in effect_columns.iter().zip(&values) {
            match column[i].value() {
                Some(v) => scratch.push(v),
                None => missing.push((*name).to_owned()),
            }
        }
        for (name, column) in &moderator_cells {
            if is_missing(column.cell(i)) && !missing.iter().any(|m| m == **name) {
                missing.push((**name).to_owned());
            }
        }
        if !missing.is_empty() {
            studies.excluded.push(Excluded {
                row,
                line,
                reason: Exclusion::Missing { columns: missing },
            });
            continue;
        }
        let effect = match source {
            EffectSource::Given { variance, .. } => {
                let v = scratch[1];
                let vi = match variance {
                    Variance::Vi(_) => v,
                    Variance::Sei(_) => v * v,
                };
                if usable_variance(vi) {
                    Ok((scratch[0], vi))
                } else {
                    Err(Exclusion::Variance {
                        column: effect_columns[1].to_owned(),
                        value: v,
                    })
                }
            }
            EffectSource::Raw { measure, columns } => compute(*measure, &scratch)
                .map_err(|problem| {
                    let role = offending_role(&problem);
                    let position = role
                        .and_then(|r| measure.roles().iter().position(|&x| x == r))
                        .unwrap_or(0);
                    Exclusion::Unusable {
                        column: columns[position].clone(),
                        problem,
                    }
                })
                .and_then(|e| {
                    if usable_variance(e.vi) {
                        Ok((e.yi, e.vi))
                    } else {
                        Err(Exclusion::ComputedVariance { value: e.vi })
                    }
                }),
        };
        let (yi, vi) = match effect {
            Ok(e) => e,
            Err(reason) => {
                studies.excluded.push(Excluded { row, line, reason });
                continue;
            }
        };
        studies.yi.push(yi);
        studies.vi.push(vi);
        studies.rows.push(i);
        match labels {
            Some(c) if !is_missing(c.cell(i)) => studies.labels.push(c.cell(i)),
            _ => studies.labels.push(&row.to_string()),
        }
    }
    if studies.yi.is_empty() {
        return Err(RolesError::NoStudies {
            excluded: studies.excluded.len(),
        });
    }
    Ok(studies)
}

/// Whether a sampling variance can weigh a study: positive, finite, with a finite weight
/// 1/v (the numerical core's own condition; written as a positive check so NaN fails it).
fn usable_variance(v: f64) -> bool {
    v > 0.0 && v.is_finite() && (1.0 / v).is_finite()
}

/// The role an effect-size error is about, to name its column.
fn offending_role(e: &EffectSizeError) -> Option<RawRole> {
    match e {
        EffectSizeError::NegativeCount { role, .. }
        | EffectSizeError::EmptyGroup { role }
        | EffectSizeError::SampleTooSmall { role, .. }
        | EffectSizeError::NegativeSd { role, .. }
        | EffectSizeError::NonPositiveMean { role, .. } => Some(*role),
        EffectSizeError::EventsExceedTotal { .. } => Some(RawRole::Xi),
        EffectSizeError::CorrelationOutOfRange { .. } => Some(RawRole::Ri),
        EffectSizeError::ZeroPooledSd => Some(RawRole::Sd1i),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
