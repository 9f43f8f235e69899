//! The pipeline as stages, each a function of the stage before: text → [`table`] →
//! [`centred`] (the columns a formula derives) → [`studies_for`] (roles, effect sizes, rows left out) → [`model`] (design and encoding) →
//! [`fit`] (the model and its [`Summary`]) → [`prediction`]. The page keeps one memo per
//! stage, so a change reruns only the stages after it (a new estimator refits without
//! re-parsing; a plot option reruns none); the command line runs them in a row
//! ([`super::analyse`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::moderator::{held_values, Held};
use super::record::Estimate;
use super::scale_curve::{scale_curve, ScaleCurve};
use super::summary::Summary;
use super::terms::term_tests;
use super::AnalysisError;
use crate::data::centring::with_centring;
use crate::data::effect_size::Measure;
use crate::data::formula::{Centring, Encoded, Encoding, Formula};
use crate::data::parse::{parse, Table};
use crate::data::report::FitReport;
use crate::data::roles::{self, EffectSource, Roles, Studies};
use crate::stats::{self, Design, Fit, ModelSpec, StatsError};

/// Stage 1: the text as a table.
///
/// # Errors
/// [`AnalysisError::Parse`] when the text is not a table.
pub fn table(text: &str) -> Result<Table, AnalysisError> {
    if let Some(table) = LAST_TABLE.with_borrow(|last| {
        last.as_ref()
            .filter(|(parsed, _)| parsed == text)
            .map(|(_, table)| table.clone())
    }) {
        return Ok(table);
    }
    let table = parse(text)?;
    LAST_TABLE.set(Some((text.to_owned(), table.clone())));
    Ok(table)
}

thread_local! {
    /// The last text [`table`] parsed and its table. A new paste is parsed twice in a row on
    /// the page (to keep the column choices the new table still has, then as the table stage),
    /// 10 ms each at 20,000 studies in the browser; a copy costs a tenth of that.
    static LAST_TABLE: std::cell::RefCell<Option<(String, Table)>> =
        const { std::cell::RefCell::new(None) };
}

/// The model formula, parsed; `None` (or only spaces) is the intercept-only model.
///
/// # Errors
/// [`AnalysisError::Formula`] for a formula that does not parse.
pub fn formula(mods: Option<&str>) -> Result<Option<Formula>, AnalysisError> {
    Ok(mods
        .filter(|m| !m.trim().is_empty())
        .map(Formula::parse)
        .transpose()?)
}

/// Stage 1b: the table with the columns the formulas derive by cluster-mean centring
/// (`between(x, g)`, `within(x, g)`); the same table when they derive none.
///
/// # Errors
/// [`AnalysisError::Parse`] when a centred moderator is not numeric or a column is missing.
pub fn centred(
    table: &Arc<Table>,
    formulas: &[Option<&Formula>],
) -> Result<Arc<Table>, AnalysisError> {
    let centring: Vec<&Centring> = formulas
        .iter()
        .flatten()
        .flat_map(|f| f.centring())
        .collect();
    if centring.is_empty() {
        return Ok(table.clone());
    }
    Ok(Arc::new(with_centring(table, &centring)?))
}

/// Which columns were used and the studies they give.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudiesStage {
    /// The column roles used: the guesses with the request's choices applied.
    pub roles: Roles,
    /// Where the effect sizes come from.
    pub source: EffectSource,
    /// The studies in the model and the rows left out.
    pub studies: Studies,
}

impl StudiesStage {
    /// The effect-size measure computed from raw data, if any.
    pub fn measure(&self) -> Option<Measure> {
        match self.source {
            EffectSource::Raw { measure, .. } => Some(measure),
            EffectSource::Given { .. } => None,
        }
    }
}

/// The guessed roles with the request's choices applied.
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

/// Stage 2: the studies of `table` with the chosen columns; a row with a missing value in a
/// column of any of `formulas` (a location-scale model has two: location and scale), or with
/// values no effect size comes from, is left out.
///
/// # Errors
/// [`AnalysisError::Roles`] when the columns give no effect sizes or no row is usable;
/// [`AnalysisError::Formula`] when a formula names a column the table lacks.
pub fn studies_for(
    table: &Table,
    columns: &Roles,
    measure: Option<Measure>,
    formulas: &[Option<&Formula>],
) -> Result<StudiesStage, AnalysisError> {
    let roles = resolve_roles(table, columns);
    let source = roles.source(measure)?;
    let mut moderators: Vec<&str> = Vec::new();
    for f in formulas.iter().flatten() {
        f.check_columns(table)?;
        for c in f.columns() {
            if !moderators.contains(&c) {
                moderators.push(c);
            }
        }
    }
    let studies = roles::studies(table, &source, roles.slab.as_deref(), &moderators)?;
    Ok(StudiesStage {
        roles,
        source,
        studies,
    })
}

/// The studies of `data` without the one from 0-based table row `row` of `table` (the
/// page's "without this study"), listed among the rows left out; `None` leaves them as they
/// are, as does a row no study comes from.
///
/// # Errors
/// [`AnalysisError::Roles`] when it is the only study.
pub fn without(
    table: &Table,
    data: StudiesStage,
    row: Option<usize>,
) -> Result<StudiesStage, AnalysisError> {
    let Some(row) = row else {
        return Ok(data);
    };
    let line = table.lines.get(row).copied().unwrap_or_default();
    Ok(StudiesStage {
        studies: data.studies.without_row(row, line)?,
        ..data
    })
}

/// The model as the page reads it: how the studies are coded and the values the plots hold
/// each moderator at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    /// The formula's encoding (levels, references, powers, terms); `None` without moderators.
    pub encoding: Option<Encoding>,
    /// Coefficient names.
    pub names: Vec<String>,
    /// Whether the model has an intercept.
    pub intercept: bool,
    /// Per moderator column, the value it is held at while another varies: its mean, or its
    /// reference level.
    pub held: Vec<Held>,
}

impl ModelRecord {
    /// The table columns the model reads, in order of first appearance.
    pub fn columns(&self) -> Vec<&str> {
        self.encoding
            .as_ref()
            .map(Encoding::columns)
            .unwrap_or_default()
    }

    /// Whether `column` enters the model as a factor.
    pub fn is_factor(&self, column: &str) -> bool {
        self.encoding.as_ref().is_some_and(|e| e.is_factor(column))
    }
}

/// The model matrix and its record.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelStage {
    /// The model matrix of the studies.
    pub design: Design,
    /// The encoding and held values.
    pub record: Arc<ModelRecord>,
}

/// Stage 3: the model matrix of the studies, coded by `formula` with these reference levels.
///
/// # Errors
/// [`AnalysisError::Formula`] (a power of a text column, an unknown reference level, a factor
/// with one level among the studies, …).
pub fn model(
    table: &Table,
    data: &StudiesStage,
    formula: Option<&Formula>,
    references: &BTreeMap<String, String>,
) -> Result<ModelStage, AnalysisError> {
    let rows = &data.studies.rows;
    let Some(formula) = formula else {
        let design = Design::intercept_only(rows.len());
        return Ok(ModelStage {
            record: Arc::new(ModelRecord {
                encoding: None,
                names: design.names.clone(),
                intercept: true,
                held: Vec::new(),
            }),
            design,
        });
    };
    let encoded = formula.encode_for_fit(table, rows, references)?;
    let held = held_values(table, rows, &encoded.encoding)?;
    Ok(ModelStage {
        record: Arc::new(ModelRecord {
            names: encoded.design.names.clone(),
            intercept: encoded.design.intercept,
            encoding: Some(encoded.encoding),
            held,
        }),
        design: encoded.design,
    })
}

/// The fitted model: the numerical core's fit (for refits and derived analyses) and its
/// plain records.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// The fit.
    pub fit: Fit,
    /// What the page shows of it.
    pub summary: Arc<Summary>,
    /// The `meridian fit --json` record, Q-profile intervals included, without a prediction.
    pub report: Arc<FitReport>,
    /// τ² along a scale moderator, for a location-scale model with scale moderators.
    pub scale_curve: Option<Arc<ScaleCurve>>,
}

impl PartialEq for Fitted {
    /// Two fits are the same when everything they show is: the summary holds every estimate,
    /// weight and fitted value.
    fn eq(&self, other: &Self) -> bool {
        self.summary == other.summary
            && self.report == other.report
            && self.scale_curve == other.scale_curve
    }
}

/// Stage 4: the model fitted with `spec`, summarised.
///
/// # Errors
/// [`AnalysisError::Stats`], with the line and row of the study the engine names, if any.
pub fn fit(
    table: &Table,
    data: &StudiesStage,
    model: &ModelStage,
    spec: &ModelSpec,
) -> Result<Fitted, AnalysisError> {
    let studies = &data.studies;
    let fit = stats::fit(&studies.yi, &studies.vi, &model.design, spec)
        .map_err(|e| stats_error(e, studies, table))?;
    let error = |e| stats_error(e, studies, table);
    let intervals = Summary::intervals_of(&fit).map_err(error)?;
    let r2 = fit.pseudo_r2().map_err(error)?;
    let summary = Summary::of(&fit, intervals.as_ref(), r2.as_ref()).map_err(error)?;
    let mut report = FitReport::new(&fit, &studies.excluded, None);
    report.set_pseudo_r2(r2.as_ref());
    if let Some(ci) = &intervals {
        report.set_heterogeneity_intervals(ci);
    }
    report.term_tests = term_tests(&fit, &model.design.terms, &[])?;
    Ok(Fitted {
        fit,
        summary: Arc::new(summary),
        report: Arc::new(report),
        scale_curve: None,
    })
}

/// Stage 4 with or without a scale formula: [`fit`], or for a scale formula (log τ²ᵢ = zᵢ'α)
/// [`fit_location_scale`] with the formula coded over the studies with `references`.
///
/// # Errors
/// As [`fit`] and [`fit_location_scale`], and a scale formula's coding error.
pub fn fit_with_scale(
    table: &Table,
    data: &StudiesStage,
    model: &ModelStage,
    scale: Option<&Formula>,
    references: &BTreeMap<String, String>,
    spec: &ModelSpec,
) -> Result<Fitted, AnalysisError> {
    match scale {
        None => fit(table, data, model, spec),
        Some(scale) => {
            let z = scale.encode_for_fit(table, &data.studies.rows, references)?;
            fit_location_scale(table, data, model, &z, spec)
        }
    }
}

/// Stage 4 for a location-scale model: the model fitted with `spec` and the scale design of
/// `scale` (log τ²ᵢ = zᵢ'α), summarised; its record carries the scale part, and τ² along the
/// first scale moderator ([`scale_curve`]).
///
/// # Errors
/// As [`fit`], and [`AnalysisError::Stats`] for an estimator other than ML or REML.
pub fn fit_location_scale(
    table: &Table,
    data: &StudiesStage,
    model: &ModelStage,
    scale: &Encoded,
    spec: &ModelSpec,
) -> Result<Fitted, AnalysisError> {
    let studies = &data.studies;
    let error = |e| stats_error(e, studies, table);
    let fitted = spec
        .check()
        .and_then(|s| s.fit_location_scale(&studies.yi, &studies.vi, &model.design, &scale.design))
        .map_err(error)?;
    let curve = scale_curve(table, data, &scale.encoding, &fitted.scale)?;
    let fit = fitted.fit;
    let summary = Summary::of(&fit, None, None).map_err(error)?;
    let mut report = FitReport::new(&fit, &studies.excluded, None);
    report.term_tests = term_tests(&fit, &model.design.terms, &[])?;
    report.scale = Some((&fitted.scale).into());
    // The record's one `model` key names metafor's class of the model.
    "rma.ls".clone_into(&mut report.model);
    Ok(Fitted {
        fit,
        summary: Arc::new(summary),
        report: Arc::new(report),
        scale_curve: curve.map(Arc::new),
    })
}

/// A prediction at a point of the moderators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionAt {
    /// The point: a value per moderator column (empty for the pooled effect).
    pub at: BTreeMap<String, String>,
    /// Its model-matrix row, intercept included.
    pub x0: Vec<f64>,
    /// The predicted effect.
    pub estimate: Estimate,
    /// Whether every moderator took the value it is held at because none was asked for: the
    /// page shows this prediction, the exports leave it out as the command line does.
    pub held_only: bool,
}

/// Stage 5: the prediction the request asks for — the pooled effect without moderators, else
/// at `at` (with the held values for moderators `at` lacks, if `held`); `None` when a model
/// with moderators is given no point.
///
/// # Errors
/// [`AnalysisError::PredictionWithoutModerators`] for a point given to a model without
/// moderators, [`AnalysisError::Formula`] for a point that does not fit the formula.
pub fn prediction(
    fitted: &Fitted,
    model: &ModelRecord,
    at: Option<&BTreeMap<String, String>>,
    held: bool,
) -> Result<Option<PredictionAt>, AnalysisError> {
    let Some(encoding) = &model.encoding else {
        if let Some(at) = at.filter(|at| !at.is_empty()) {
            return Err(AnalysisError::PredictionWithoutModerators {
                columns: at.keys().cloned().collect(),
            });
        }
        // Without moderators the prediction is the pooled effect, as metafor's predict().
        return Ok(fitted.summary.pooled.map(|estimate| PredictionAt {
            at: BTreeMap::new(),
            x0: vec![1.0],
            estimate,
            held_only: false,
        }));
    };
    let held_only = held && at.is_none_or(BTreeMap::is_empty);
    let mut point = if held {
        model
            .held
            .iter()
            .map(|h| (h.column.clone(), h.value.clone()))
            .collect()
    } else {
        match at {
            Some(_) => BTreeMap::new(),
            None => return Ok(None),
        }
    };
    if let Some(at) = at {
        point.extend(at.iter().map(|(c, v)| (c.clone(), v.clone())));
    }
    let x0 = encoding.row(&point)?;
    let estimate = fitted
        .fit
        .predict(&x0)
        .map_err(|error| AnalysisError::Stats {
            error,
            line: None,
            row: None,
        })?;
    Ok(Some(PredictionAt {
        at: point,
        x0,
        estimate: (&estimate).into(),
        held_only,
    }))
}

/// A model error, with the file position of the study it names (the engine counts studies
/// from 0 among those in the model).
pub(crate) fn stats_error(error: StatsError, studies: &Studies, table: &Table) -> AnalysisError {
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
