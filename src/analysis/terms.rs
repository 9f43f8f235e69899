//! Tests of whole formula terms (metafor: `anova(res, btt = …)`, e.g. every dummy of
//! `factor(alloc)` at once), linear contrasts of the coefficients (metafor:
//! `anova(res, X = L)`) — given as rows of weights, or as two levels of a factor whose L row
//! is written from the model's coding — and the coefficient covariance, as the `fit` record
//! reports them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{AnalysisError, AnalysisSpec, ModelRecord};
use crate::data::model_report::{ContrastsReport, TermTestReport};
use crate::stats::{Fit, Term};

/// A comparison of two levels of a factor moderator ("random vs systematic allocation"): the
/// difference of the expected effects at `level` and at `versus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelContrast {
    /// The factor column.
    pub column: String,
    /// The level compared.
    pub level: String,
    /// The level it is compared with.
    pub versus: String,
}

/// The L row of `contrast`: the model-matrix row of a study at `level` less that of a study at
/// `versus`, every other moderator at the value the model holds it at. Under treatment coding
/// this is the level's dummy for a level against the reference, and dummy_B − dummy_C for
/// level B against level C; in a model where the factor interacts with another moderator, it
/// is the difference at that moderator's held value.
///
/// # Errors
/// [`AnalysisError::NotAModerator`] when the column is no factor of the model;
/// [`AnalysisError::Formula`] for a level the factor does not have.
pub fn level_contrast_row(
    model: &ModelRecord,
    contrast: &LevelContrast,
) -> Result<Vec<f64>, AnalysisError> {
    let encoding = model
        .encoding
        .as_ref()
        .filter(|e| e.is_factor(&contrast.column))
        .ok_or_else(|| AnalysisError::NotAModerator {
            column: contrast.column.clone(),
            moderators: model
                .encoding
                .iter()
                .flat_map(|e| e.columns())
                .map(str::to_owned)
                .collect(),
        })?;
    let mut at: BTreeMap<String, String> = model
        .held
        .iter()
        .map(|h| (h.column.clone(), h.value.clone()))
        .collect();
    let mut row_at = |level: &str| {
        at.insert(contrast.column.clone(), level.to_owned());
        encoding.row(&at)
    };
    let a = row_at(&contrast.level)?;
    let b = row_at(&contrast.versus)?;
    Ok(a.iter().zip(&b).map(|(x, y)| x - y).collect())
}

/// Every contrast `spec` asks for, with their joint test: its rows of weights, then the L row
/// of each of its level contrasts; `None` when it asks for none.
///
/// # Errors
/// As [`level_contrast_row`] and [`contrasts`].
pub fn requested_contrasts(
    fit: &Fit,
    model: &ModelRecord,
    spec: &AnalysisSpec,
) -> Result<Option<ContrastsReport>, AnalysisError> {
    if spec.contrasts.is_empty() && spec.level_contrasts.is_empty() {
        return Ok(None);
    }
    let mut rows = spec.contrasts.clone();
    for c in &spec.level_contrasts {
        rows.push(level_contrast_row(model, c)?);
    }
    contrasts(fit, &rows).map(Some)
}

/// The Wald test of each term of `terms` named in `asked` (in that order; a label matches
/// whatever its spaces), or of every term in the formula's order when `asked` is empty.
///
/// # Errors
/// [`AnalysisError::UnknownTerm`] for a label that is no term of the formula;
/// [`AnalysisError::Stats`] when a covariance block is singular in floating point.
pub fn term_tests(
    fit: &Fit,
    terms: &[Term],
    asked: &[String],
) -> Result<Vec<TermTestReport>, AnalysisError> {
    let chosen: Vec<&Term> = if asked.is_empty() {
        terms.iter().collect()
    } else {
        asked
            .iter()
            .map(|label| {
                terms
                    .iter()
                    .find(|t| same_label(&t.label, label))
                    .ok_or_else(|| AnalysisError::UnknownTerm {
                        term: label.clone(),
                        terms: terms.iter().map(|t| t.label.clone()).collect(),
                    })
            })
            .collect::<Result<_, _>>()?
    };
    let names = fit.names();
    chosen
        .into_iter()
        .map(|t| {
            let test = fit.wald_test(&t.columns).map_err(unplaced)?;
            let coefficients = t.columns.iter().map(|&c| names[c].clone()).collect();
            Ok(TermTestReport::new(&t.label, coefficients, &test))
        })
        .collect()
}

/// The contrasts `rows` (one weight per coefficient each) and their joint test.
///
/// # Errors
/// [`AnalysisError::Stats`] for a row of the wrong length, zero or dependent rows.
pub fn contrasts(fit: &Fit, rows: &[Vec<f64>]) -> Result<ContrastsReport, AnalysisError> {
    let h = fit.linear_hypotheses(rows).map_err(unplaced)?;
    Ok((&h).into())
}

/// The coefficient covariance under the fit's test, rows in coefficient order.
pub fn vcov_rows(fit: &Fit) -> Vec<Vec<f64>> {
    fit.vcov
        .row_iter()
        .map(|r| r.iter().copied().collect())
        .collect()
}

/// Whether two term labels are the same apart from spaces (`ablat:year`, `ablat : year`).
fn same_label(a: &str, b: &str) -> bool {
    a.chars()
        .filter(|c| !c.is_whitespace())
        .eq(b.chars().filter(|c| !c.is_whitespace()))
}

/// An engine error about no particular study.
fn unplaced(error: crate::stats::StatsError) -> AnalysisError {
    AnalysisError::Stats {
        error,
        line: None,
        row: None,
    }
}
