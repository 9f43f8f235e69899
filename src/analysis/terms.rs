//! Tests of whole formula terms (metafor: `anova(res, btt = …)`, e.g. every dummy of
//! `factor(alloc)` at once), linear contrasts of the coefficients (metafor:
//! `anova(res, X = L)`) and the coefficient covariance, as the `fit` record reports them.

use super::AnalysisError;
use crate::data::model_report::{ContrastsReport, TermTestReport};
use crate::stats::{Fit, Term};

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
