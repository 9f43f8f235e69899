//! Columns → studies: which column is the study label, which hold y_i and v_i (or standard
//! errors, or the raw data of an effect-size measure), and which rows can enter the model.
//!
//! Roles are guessed from metafor's argument names (`yi vi sei`, `ai bi ci di`,
//! `n1i n2i m1i m2i sd1i sd2i`, `ri ni`, `xi ni`) and common label columns; every guess can
//! be overridden. A row with a missing value in any column the model uses is excluded and
//! reported by its data-row number, as metafor drops it with "Studies with NAs omitted".

use std::collections::BTreeMap;
use std::fmt;

use super::effect_size::{compute, EffectSizeError, Measure, RawRole};
use super::parse::{is_missing, Column, ColumnKind, NumCell, ParseError, Table};

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
    /// A row's raw data yield no effect size.
    InvalidRawData {
        /// 1-based line of the file.
        line: u64,
        /// 1-based data row.
        row: usize,
        /// The column behind the offending role.
        column: String,
        /// What is wrong.
        source: EffectSizeError,
    },
    /// A negative sampling variance or standard error.
    NegativeVariance {
        /// 1-based line of the file.
        line: u64,
        /// 1-based data row.
        row: usize,
        /// The variance or standard-error column.
        column: String,
        /// Its value.
        value: f64,
    },
    /// Every row has a missing value in a column the model uses.
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
            Self::InvalidRawData { line, row, column, source } => write!(f, "line {line} (data row {row}), column \"{column}\": {source}"),
            Self::NegativeVariance { line, row, column, value } => write!(f, "line {line} (data row {row}), column \"{column}\": found {value}, expected a variance or standard error of zero or more"),
            Self::NoStudies { excluded } => write!(f, "all {excluded} rows have a missing value in a column the model uses: expected at least one complete row"),
        }
    }
}

impl std::error::Error for RolesError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Parse(e) => Some(e),
            Self::InvalidRawData { source, .. } => Some(source),
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Variance {
    /// Sampling variances.
    Vi(String),
    /// Standard errors.
    Sei(String),
}

/// Where the effect sizes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// A row left out of the model and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excluded {
    /// 1-based data row (the header is not counted).
    pub row: usize,
    /// 1-based line of the file.
    pub line: u64,
    /// The used columns whose cell is missing in this row.
    pub columns: Vec<String>,
}

/// The studies that enter the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Studies {
    /// Effect sizes.
    pub yi: Vec<f64>,
    /// Sampling variances.
    pub vi: Vec<f64>,
    /// Study labels: the label column's cell, or the data-row number.
    pub labels: Vec<String>,
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
    let values: Vec<Vec<NumCell>> = effect_columns
        .iter()
        .map(|c| table.numeric(c))
        .collect::<Result<_, _>>()?;
    let moderator_cells = moderators
        .iter()
        .map(|m| table.column(m).map(|c| (m, c)))
        .collect::<Result<Vec<_>, _>>()?;
    let labels = slab.map(|s| table.column(s)).transpose()?;

    let mut studies = Studies {
        yi: Vec::new(),
        vi: Vec::new(),
        labels: Vec::new(),
        rows: Vec::new(),
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
                columns: missing,
            });
            continue;
        }
        let (yi, vi) = match source {
            EffectSource::Given { variance, .. } => {
                let (v, column) = (scratch[1], effect_columns[1]);
                if v < 0.0 {
                    return Err(RolesError::NegativeVariance {
                        line,
                        row,
                        column: column.to_owned(),
                        value: v,
                    });
                }
                match variance {
                    Variance::Vi(_) => (scratch[0], v),
                    Variance::Sei(_) => (scratch[0], v * v),
                }
            }
            EffectSource::Raw { measure, columns } => {
                let e = compute(*measure, &scratch).map_err(|source| {
                    let role = offending_role(&source);
                    let position = role
                        .and_then(|r| measure.roles().iter().position(|&x| x == r))
                        .unwrap_or(0);
                    RolesError::InvalidRawData {
                        line,
                        row,
                        column: columns[position].clone(),
                        source,
                    }
                })?;
                (e.yi, e.vi)
            }
        };
        studies.yi.push(yi);
        studies.vi.push(vi);
        studies.rows.push(i);
        studies.labels.push(match labels {
            Some(c) if !is_missing(c.cell(i)) => c.cell(i).to_owned(),
            _ => row.to_string(),
        });
    }
    if studies.yi.is_empty() {
        return Err(RolesError::NoStudies {
            excluded: studies.excluded.len(),
        });
    }
    Ok(studies)
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
mod tests {
    use super::*;
    use crate::data::parse::parse;

    const BCG_HEAD: &str = "trial,author,year,tpos,tneg,cpos,cneg,ablat,alloc\n\
        1,Aronson,1948,4,119,11,128,44,random\n\
        2,Ferguson & Simes,1949,6,300,29,274,55,random\n";

    #[test]
    fn guesses_metafor_names_case_insensitively() {
        let t = parse("Study,YI,sei,ai,bi,ci,di,x\nA,1,1,1,1,1,1,1\n").unwrap();
        let r = guess(&t);
        assert_eq!(r.slab.as_deref(), Some("Study"));
        assert_eq!(r.yi.as_deref(), Some("YI"));
        assert_eq!(r.vi, None);
        assert_eq!(r.sei.as_deref(), Some("sei"));
        assert_eq!(r.raw.len(), 4);
        assert_eq!(
            r.source(None).unwrap(),
            EffectSource::Given {
                yi: "YI".into(),
                variance: Variance::Sei("sei".into())
            }
        );
    }

    #[test]
    fn label_prefers_author_over_trial_number() {
        let t = parse(BCG_HEAD).unwrap();
        assert_eq!(guess(&t).slab.as_deref(), Some("author"));
    }

    #[test]
    fn label_prefers_a_text_column_over_a_numeric_study_index() {
        let t = parse("study,author,yi,vi\n1,Garfinkel,0.1,0.2\n").unwrap();
        assert_eq!(guess(&t).slab.as_deref(), Some("author"));
        let t = parse("study,yi,vi\n1,0.1,0.2\n").unwrap();
        assert_eq!(guess(&t).slab.as_deref(), Some("study"));
    }

    #[test]
    fn raw_source_with_overridden_columns() {
        let t = parse(BCG_HEAD).unwrap();
        let mut r = guess(&t);
        for (role, col) in [
            (RawRole::Ai, "tpos"),
            (RawRole::Bi, "tneg"),
            (RawRole::Ci, "cpos"),
            (RawRole::Di, "cneg"),
        ] {
            r.raw.insert(role, col.into());
        }
        let source = r.source(Some(Measure::Or)).unwrap();
        let s = studies(&t, &source, r.slab.as_deref(), &["ablat"]).unwrap();
        // Aronson: log(4·128 / (119·11)) = −0.938694…
        assert!((s.yi[0] - (4.0f64 * 128.0 / (119.0 * 11.0)).ln()).abs() < 1e-14);
        assert_eq!(s.labels, ["Aronson", "Ferguson & Simes"]);
    }

    #[test]
    fn missing_values_exclude_rows_and_say_which_columns() {
        let t = parse("yi,vi,x,g\n1,1,1,a\nNA,1,2,b\n3,1,.,\n4,1,4,d\n").unwrap();
        let source = guess(&t).source(None).unwrap();
        let s = studies(&t, &source, None, &["x", "g"]).unwrap();
        assert_eq!(s.yi, [1.0, 4.0]);
        assert_eq!(s.rows, [0, 3]);
        assert_eq!(s.labels, ["1", "4"]);
        assert_eq!(
            s.excluded,
            [
                Excluded {
                    row: 2,
                    line: 3,
                    columns: vec!["yi".into()]
                },
                Excluded {
                    row: 3,
                    line: 4,
                    columns: vec!["x".into(), "g".into()]
                }
            ]
        );
    }

    #[test]
    fn error_no_effect_sizes() {
        let t = parse("a,b\n1,2\n").unwrap();
        assert_eq!(guess(&t).source(None), Err(RolesError::NoEffectSizes));
    }

    #[test]
    fn error_no_variance() {
        let t = parse("yi,b\n1,2\n").unwrap();
        assert_eq!(
            guess(&t).source(None),
            Err(RolesError::NoVariance { yi: "yi".into() })
        );
    }

    #[test]
    fn error_missing_raw_column() {
        let t = parse("ri,n\n0.1,20\n").unwrap();
        let e = guess(&t).source(Some(Measure::Zcor)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "measure ZCOR needs a column for ni: expected a column named ni, or one chosen for it"
        );
    }

    #[test]
    fn error_invalid_raw_data_names_row_and_column() {
        let t = parse("study,xi,ni\nA,3,10\nB,12,10\n").unwrap();
        let source = guess(&t).source(Some(Measure::Plo)).unwrap();
        let e = studies(&t, &source, Some("study"), &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 3 (data row 2), column \"xi\": xi is 12, more events than the 10 participants in ni: expected 0 ≤ xi ≤ ni"
        );
    }

    #[test]
    fn error_correlation_out_of_range_names_ri_column() {
        let t = parse("r,n\n0.5,20\n-1,30\n").unwrap();
        let mut roles = Roles::default();
        roles.raw.insert(RawRole::Ri, "r".into());
        roles.raw.insert(RawRole::Ni, "n".into());
        let source = roles.source(Some(Measure::Cor)).unwrap();
        assert!(matches!(
            studies(&t, &source, None, &[]),
            Err(RolesError::InvalidRawData { row: 2, ref column, .. }) if column == "r"
        ));
    }

    #[test]
    fn error_negative_variance() {
        let t = parse("yi,vi\n1,0.1\n2,-0.1\n").unwrap();
        let source = guess(&t).source(None).unwrap();
        assert_eq!(
            studies(&t, &source, None, &[]),
            Err(RolesError::NegativeVariance {
                line: 3,
                row: 2,
                column: "vi".into(),
                value: -0.1
            })
        );
    }

    #[test]
    fn error_non_numeric_effect_cell() {
        let t = parse("yi,vi\n1,0.1\nabc,0.1\n").unwrap();
        let source = guess(&t).source(None).unwrap();
        assert!(matches!(
            studies(&t, &source, None, &[]),
            Err(RolesError::Parse(ParseError::NotANumber { line: 3, .. }))
        ));
    }

    #[test]
    fn error_unknown_moderator_column() {
        let t = parse("yi,vi\n1,0.1\n").unwrap();
        let source = guess(&t).source(None).unwrap();
        assert!(matches!(
            studies(&t, &source, None, &["ablat"]),
            Err(RolesError::Parse(ParseError::UnknownColumn { .. }))
        ));
    }

    #[test]
    fn error_no_complete_rows() {
        let t = parse("yi,vi\nNA,0.1\n2,NA\n").unwrap();
        let source = guess(&t).source(None).unwrap();
        assert_eq!(
            studies(&t, &source, None, &[]),
            Err(RolesError::NoStudies { excluded: 2 })
        );
    }
}
