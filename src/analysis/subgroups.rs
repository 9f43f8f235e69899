//! Subgroups by a categorical column, for the forest plot: each level's own intercept-only
//! model with the analysis's estimator, test and level (metafor: `rma(yi, vi, subset = …)`),
//! and the test for subgroup differences, the omnibus test QM of `factor(column)` in a
//! meta-regression on the studies with a value (metafor: `rma(yi, vi, mods = ~ factor(column))`).
//!
//! A subgroup whose model cannot be fitted (a single study under a random-effects model) and a
//! test that cannot be computed are kept with the reason, for the plot's notes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::record::{Estimate, WaldRecord};
use super::stages::{Fitted, StudiesStage};
use super::AnalysisError;
use crate::data::formula::encoding::factor_codes;
use crate::data::formula::{Formula, FormulaError};
use crate::data::parse::Table;
use crate::stats::{self, Design, ModelSpec, Prediction, StatsError};

/// One level's studies and model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subgroup {
    /// The level.
    pub level: String,
    /// Its studies, as indices into the analysis's studies.
    pub studies: Vec<usize>,
    /// The pooled effect of its own model, or why it could not be fitted.
    pub pooled: Result<Estimate, String>,
}

/// The subgroups by one column and the test for subgroup differences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subgroups {
    /// The grouping column.
    pub column: String,
    /// One subgroup per level, in R's order of the levels.
    pub groups: Vec<Subgroup>,
    /// Studies without a value of the column: in no subgroup and not in the test.
    pub without_value: Vec<usize>,
    /// The test for subgroup differences, or why there is none.
    pub test: Result<WaldRecord, String>,
}

/// The subgroups of the analysis's studies by `column`.
///
/// # Errors
/// [`AnalysisError::Parse`] for a column the table does not have.
pub fn subgroups(
    table: &Table,
    data: &StudiesStage,
    fitted: &Fitted,
    column: &str,
) -> Result<Subgroups, AnalysisError> {
    let studies = &data.studies;
    let spec = &fitted.fit.spec;
    let (codes, levels) = factor_codes(table, column, &studies.rows)?;
    let groups = levels
        .into_iter()
        .enumerate()
        .map(|(index, level)| {
            let members: Vec<usize> = (0..studies.k())
                .filter(|&i| codes[i] == Some(index))
                .collect();
            let yi: Vec<f64> = members.iter().map(|&i| studies.yi[i]).collect();
            let vi: Vec<f64> = members.iter().map(|&i| studies.vi[i]).collect();
            Subgroup {
                level,
                studies: members,
                pooled: pooled(&yi, &vi, spec)
                    .map(|p| (&p).into())
                    .map_err(|e| e.to_string()),
            }
        })
        .collect();
    let without_value: Vec<usize> = (0..studies.k()).filter(|&i| codes[i].is_none()).collect();

    // The test for subgroup differences: QM of factor(column) on the studies with a value.
    let with_value: Vec<usize> = (0..studies.k()).filter(|&i| codes[i].is_some()).collect();
    let rows: Vec<usize> = with_value.iter().map(|&i| studies.rows[i]).collect();
    let yi: Vec<f64> = with_value.iter().map(|&i| studies.yi[i]).collect();
    let vi: Vec<f64> = with_value.iter().map(|&i| studies.vi[i]).collect();
    // A column name the formula syntax cannot spell (a space, a hyphen) costs only the test:
    // the subgroups and their models stand without it.
    let design = Formula::parse(&format!("factor({column})"))
        .and_then(|f| f.design(table, &rows, &BTreeMap::new()));
    let test = match design {
        Err(FormulaError::SingleLevel { .. }) => Err(format!("{column} has a single level")),
        Err(e) => Err(e.to_string()),
        Ok(design) => match stats::fit(&yi, &vi, &design, spec) {
            Ok(by_level) => by_level
                .moderators
                .as_ref()
                .map(Into::into)
                .ok_or_else(|| format!("{column} has a single level")),
            Err(e) => Err(e.to_string()),
        },
    };
    Ok(Subgroups {
        column: column.to_owned(),
        groups,
        without_value,
        test,
    })
}

/// The pooled estimate of an intercept-only model of some studies, fitted with `spec`.
fn pooled(yi: &[f64], vi: &[f64], spec: &ModelSpec) -> Result<Prediction, StatsError> {
    stats::fit(yi, vi, &Design::intercept_only(yi.len()), spec)?.predict(&[1.0])
}
