//! The whole pipeline in one call: text → table → studies → design → fit → report, as the
//! command line runs it and the web app can run it, so both give the same numbers and the same
//! errors for the same input.
//!
//! Permutation tests are left to the caller ([`Fit::permutation_test`]): the web app runs them
//! in slices with a progress bar, the command line in one go.

use std::collections::BTreeMap;
use std::fmt;

use super::effect_size::Measure;
use super::formula::{Formula, FormulaError};
use super::parse::{parse, ParseError, Table};
use super::report::FitReport;
use super::roles::{self, Roles, RolesError, Studies};
use crate::stats::{fit, Design, Fit, ModelSpec, Prediction, StatsError};

/// What to analyse and how. Column choices left `None` are guessed from the header.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnalysisSpec {
    /// Column choices that replace the guesses; a `vi` or `sei` given here replaces both
    /// guessed variance columns, raw-data roles given here replace those roles only.
    pub columns: Roles,
    /// Compute effect sizes from raw data with this measure; `None` reads `yi` and `vi`/`sei`.
    pub measure: Option<Measure>,
    /// Right-hand side of the model formula; `None` for an intercept-only model.
    pub mods: Option<String>,
    /// Reference level per factor column, instead of the first in C-locale order.
    pub references: BTreeMap<String, String>,
    /// Estimator, test and confidence level.
    pub model: ModelSpec,
    /// Moderator values (a number, or a level for a factor) to predict at; ignored for an
    /// intercept-only model, which is always predicted at its pooled effect.
    pub predict_at: Option<BTreeMap<String, String>>,
}

/// Why an analysis failed: the layer's own error, which names line, row and column.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AnalysisError {
    /// The text is not a readable table.
    Parse(ParseError),
    /// The columns do not give effect sizes, or a row's data are invalid.
    Roles(RolesError),
    /// The formula does not parse, names an unknown column, or the prediction point is wrong.
    Formula(FormulaError),
    /// The model cannot be fitted.
    Stats {
        /// The engine's error.
        error: StatsError,
        /// 1-based line of the file of the study the error is about, if it is about one.
        line: Option<u64>,
        /// 1-based data row of that study.
        row: Option<usize>,
    },
    /// Values to predict at were given for a model without moderators.
    PredictionWithoutModerators {
        /// The columns named.
        columns: Vec<String>,
    },
}

impl fmt::Display for AnalysisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Parse(e) => e.fmt(f),
            Self::Roles(e) => e.fmt(f),
            Self::Formula(e) => e.fmt(f),
            Self::Stats {
                error,
                line: Some(line),
                row: Some(row),
            } => write!(f, "line {line} (data row {row}): {error}"),
            Self::Stats { error, .. } => error.fmt(f),
            Self::PredictionWithoutModerators { columns } => write!(
                f,
                "values to predict at were given for {} but the model has no moderators: expected a formula using them",
                columns.join(", ")
            ),
        }
    }
}

impl std::error::Error for AnalysisError {}

impl From<ParseError> for AnalysisError {
    fn from(e: ParseError) -> Self {
        Self::Parse(e)
    }
}

impl From<RolesError> for AnalysisError {
    fn from(e: RolesError) -> Self {
        Self::Roles(e)
    }
}

impl From<FormulaError> for AnalysisError {
    fn from(e: FormulaError) -> Self {
        Self::Formula(e)
    }
}

/// Everything an analysis produced, for printing, plotting and further tests.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The parsed table.
    pub table: Table,
    /// The column roles used (guesses with the spec's choices applied).
    pub roles: Roles,
    /// The studies in the model and the rows left out.
    pub studies: Studies,
    /// The parsed formula, if there are moderators.
    pub formula: Option<Formula>,
    /// The model matrix.
    pub design: Design,
    /// The fitted model.
    pub fit: Fit,
    /// The prediction: the pooled effect without moderators, else at `predict_at`.
    pub prediction: Option<Prediction>,
    /// The fit under the stable `meridian fit --json` keys, Q-profile intervals included.
    pub report: FitReport,
}

/// The guessed roles with the spec's choices applied.
fn resolve_roles(table: &Table, chosen: &Roles) -> Roles {
    let mut roles = roles::guess(table);
    if chosen.yi.is_some() {
        roles.yi.clone_from(&chosen.yi);
    }
    // An explicit variance or standard error replaces whatever was guessed for the other.
    if chosen.vi.is_some() || chosen.sei.is_some() {
        roles.vi.clone_from(&chosen.vi);
        roles.sei.clone_from(&chosen.sei);
    }
    if chosen.slab.is_some() {
        roles.slab.clone_from(&chosen.slab);
    }
    roles
        .raw
        .extend(chosen.raw.iter().map(|(r, c)| (*r, c.clone())));
    roles
}

/// Runs the pipeline on `text`.
///
/// # Examples
/// ```
/// use meridian::data::analysis::{analyse, AnalysisSpec};
/// let text = "study,yi,vi\nA,0.1,0.02\nB,0.5,0.03\nC,0.3,0.01\nD,-0.1,0.04\n";
/// let a = analyse(text, &AnalysisSpec::default())?;
/// assert_eq!(a.report.k, 4);
/// assert!(a.report.prediction.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn analyse(text: &str, spec: &AnalysisSpec) -> Result<Analysis, AnalysisError> {
    let table = parse(text)?;
    let roles = resolve_roles(&table, &spec.columns);
    let source = roles.source(spec.measure)?;
    let formula = spec.mods.as_deref().map(Formula::parse).transpose()?;
    if let Some(f) = &formula {
        f.check_columns(&table)?;
    }
    let moderators = formula.as_ref().map(Formula::columns).unwrap_or_default();
    let studies = roles::studies(&table, &source, roles.slab.as_deref(), &moderators)?;
    let design = match &formula {
        Some(f) => f.design(&table, &studies.rows, &spec.references)?,
        None => Design::intercept_only(studies.k()),
    };
    let fitted = fit(&studies.yi, &studies.vi, &design, &spec.model)
        .map_err(|e| stats_error(e, &studies, &table))?;
    let x0 = match (&formula, &spec.predict_at) {
        (Some(f), Some(at)) => {
            Some(f.predictor_row(&table, &studies.rows, &spec.references, at)?)
        }
        (None, Some(at)) if !at.is_empty() => {
            return Err(AnalysisError::PredictionWithoutModerators {
                columns: at.keys().cloned().collect(),
            })
        }
        // Without moderators the prediction is the pooled effect, as metafor's predict().
        _ if design.p() == 1 && design.intercept => Some(vec![1.0]),
        _ => None,
    };
    let prediction = x0
        .map(|x| fitted.predict(&x))
        .transpose()
        .map_err(|e| stats_error(e, &studies, &table))?;
    let mut report = FitReport::new(&fitted, &studies.excluded, prediction.as_ref());
    let r2 = fitted
        .pseudo_r2()
        .map_err(|e| stats_error(e, &studies, &table))?;
    report.set_pseudo_r2(r2.as_ref());
    // Q-profile intervals exist only when τ² is estimated and Q has degrees of freedom.
    if !spec.model.method.is_fixed() && fitted.k > fitted.p {
        let ci = fitted
            .confint_tau2(spec.model.level)
            .map_err(|e| stats_error(e, &studies, &table))?;
        report.set_heterogeneity_intervals(&ci);
    }
    Ok(Analysis {
        table,
        roles,
        studies,
        formula,
        design,
        fit: fitted,
        prediction,
        report,
    })
}

/// A model error, with the file position of the study it names (the engine counts studies
/// from 0 among those in the model).
fn stats_error(error: StatsError, studies: &Studies, table: &Table) -> AnalysisError {
    let study = match &error {
        StatsError::NonFiniteEffect { study, .. }
        | StatsError::InvalidVariance { study, .. }
        | StatsError::NonFiniteModerator { study, .. } => studies.rows.get(*study).copied(),
        _ => None,
    };
    AnalysisError::Stats {
        line: study.map(|r| table.lines[r]),
        row: study.map(|r| r + 1),
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::effect_size::RawRole;

    const CSV: &str = "study,yi,sei,vi,g\nA,0.1,0.2,0.01,a\nB,0.5,0.1,0.04,b\nC,0.3,0.3,0.09,a\nD,-0.1,0.2,0.16,b\nE,NA,0.1,0.01,a\n";

    #[test]
    fn guesses_are_used_and_choices_override_them() {
        let a = analyse(CSV, &AnalysisSpec::default()).unwrap();
        assert_eq!(a.studies.vi, [0.01, 0.04, 0.09, 0.16]);
        assert_eq!(a.report.excluded_rows, [5]);
        let spec = AnalysisSpec {
            columns: Roles {
                sei: Some("sei".into()),
                ..Roles::default()
            },
            ..AnalysisSpec::default()
        };
        let a = analyse(CSV, &spec).unwrap();
        // sei² replaces the guessed vi column.
        assert!((a.studies.vi[0] - 0.04).abs() < 1e-15);
        assert_eq!(a.roles.vi, None);
    }

    #[test]
    fn moderators_prediction_and_references() {
        let spec = AnalysisSpec {
            mods: Some("g".into()),
            references: BTreeMap::from([("g".into(), "b".into())]),
            predict_at: Some(BTreeMap::from([("g".into(), "a".into())])),
            ..AnalysisSpec::default()
        };
        let a = analyse(CSV, &spec).unwrap();
        assert_eq!(a.design.names, ["intrcpt", "ga"]);
        let p = a.prediction.unwrap();
        let b = &a.fit.coefficients;
        assert!((p.pred - (b[0].estimate + b[1].estimate)).abs() < 1e-12);
        assert!(a.report.tau2_ci.is_some());
    }

    #[test]
    fn error_prediction_without_moderators() {
        let spec = AnalysisSpec {
            predict_at: Some(BTreeMap::from([("g".into(), "a".into())])),
            ..AnalysisSpec::default()
        };
        let e = analyse(CSV, &spec).unwrap_err();
        assert_eq!(
            e,
            AnalysisError::PredictionWithoutModerators {
                columns: vec!["g".into()]
            }
        );
    }

    #[test]
    fn error_from_the_engine_names_the_row_in_the_file() {
        let e = analyse(
            "yi,vi\n0.1,0.01\nNA,0.1\n0.3,0\n0.2,0.02\n",
            &AnalysisSpec::default(),
        )
        .unwrap_err();
        assert!(matches!(
            e,
            AnalysisError::Stats {
                line: Some(4),
                row: Some(3),
                ..
            }
        ));
        assert!(e.to_string().starts_with("line 4 (data row 3): "));
    }

    #[test]
    fn errors_of_each_layer_pass_through() {
        assert!(matches!(
            analyse("", &AnalysisSpec::default()),
            Err(AnalysisError::Parse(ParseError::Empty))
        ));
        let spec = AnalysisSpec {
            measure: Some(Measure::Or),
            ..AnalysisSpec::default()
        };
        assert!(matches!(
            analyse(CSV, &spec),
            Err(AnalysisError::Roles(RolesError::MissingRawColumn {
                role: RawRole::Ai,
                ..
            }))
        ));
        let spec = AnalysisSpec {
            mods: Some("h".into()),
            ..AnalysisSpec::default()
        };
        assert!(matches!(
            analyse(CSV, &spec),
            Err(AnalysisError::Formula(FormulaError::UnknownColumn { .. }))
        ));
    }
}
