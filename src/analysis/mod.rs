//! The analysis layer: from a request ([`AnalysisSpec`]) to the records the page, the plots,
//! the exports and the command line read, between the data layer and the numerical core below
//! and the views above.
//!
//! - [`stages`]: the pipeline as stages (table → studies → model → fit → prediction), each a
//!   function of the one before, so that the page can keep one memo per stage.
//! - [`Analysis`]: the complete record of one analysis — studies, model, summary, prediction —
//!   plain data with serde, the unit a Web Worker sends back.
//! - Derived analyses, each a function of the fitted stages returning its own record, computed
//!   only when a view asks: [`subgroups`], [`moderator`] (the fitted line or levels along one
//!   moderator), [`egger`], [`anova`] (likelihood-ratio tests between models),
//!   [`subgroup_analysis`] (Cochrane's subgroup analysis), [`terms`] (term tests, contrasts),
//!   [`scale_curve`] (τ² along a scale moderator of a location-scale model),
//!   and which studies drive the answer: [`sensitivity`] (influence, leave-one-out, Baujat,
//!   BLUPs; their tables as CSV in [`sensitivity_tables`]), [`cumul`], [`gosh`],
//!   [`residual_plots`] (normal Q–Q, radial), [`labbe`] (L'Abbé plot of 2×2 data); within-
//!   versus across-study effects of participant or subgroup data: [`ipd`], and the simulation
//!   that shows why they differ: [`lab`]. A new derived analysis goes here, in its own file.
//! - [`r_script`]: the metafor script that reproduces an analysis.
//! - [`request`] and [`session`]: the messages of an engine that runs elsewhere (a Web
//!   Worker) and the engine's side of them, slices, cancelling and splitting included.
//!
//! [`analyse`] runs the stages in a row, for the command line and the tests.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub mod anova;
pub mod component_profile;
pub mod cumul;
pub mod egger;
mod error;
pub mod gosh;
pub mod ipd;
pub mod ipd_script;
pub mod lab;
pub mod labbe;
mod later;
pub mod moderator;
pub mod multilevel;
pub mod names;
pub mod profile;
pub mod r_script;
pub mod record;
pub mod request;
pub mod residual_plots;
pub mod scale_curve;
pub mod sensitivity;
pub mod sensitivity_tables;
pub mod session;
mod spec;
pub mod stages;
pub mod subgroup_analysis;
pub mod subgroups;
mod summary;
pub mod terms;

pub use error::AnalysisError;
pub use later::Later;
pub use scale_curve::ScaleCurve;
pub use spec::AnalysisSpec;
pub use stages::{Fitted, ModelRecord, ModelStage, PredictionAt, StudiesStage};
pub use summary::{is_intercept_only, HeterogeneityCi, Summary};

use crate::data::parse::Table;
use crate::data::report::{FitReport, PredictionReport};
use crate::data::roles::Studies;

/// One analysis, as the views read it: plain records only, shared so that a change in one
/// stage leaves the others' records in place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// The columns used and the studies (and the rows left out).
    pub data: Arc<StudiesStage>,
    /// The model's coding and held values.
    pub model: Arc<ModelRecord>,
    /// The fitted model.
    pub summary: Arc<Summary>,
    /// The `meridian fit --json` record, without the prediction.
    pub report: Arc<FitReport>,
    /// The prediction asked for: the pooled effect without moderators.
    pub prediction: Option<Arc<PredictionAt>>,
    /// τ² along a scale moderator of a location-scale model.
    #[serde(default)]
    pub scale_curve: Option<Arc<ScaleCurve>>,
    /// With [`AnalysisSpec::dependence`] active, the `meridian fit --json` record of the
    /// dependent-effects model (the `rma.mv` fit and robust inference, see
    /// [`multilevel::dependent_record`]), or the sentence that says why it cannot be had; the
    /// fields above stay those of the `rma.uni` model.
    #[serde(default)]
    pub dependent: Option<Result<Arc<FitReport>, String>>,
    /// Why the contrasts asked for cannot be tested (a level the data no longer has, two rows
    /// that say the same), while the rest of the analysis stands; the contrasts tested are in
    /// the report.
    #[serde(default)]
    pub contrast_error: Option<String>,
}

impl Analysis {
    /// The analysis of these stages.
    pub fn new(
        data: &Arc<StudiesStage>,
        model: &ModelStage,
        fitted: &Fitted,
        prediction: Option<Arc<PredictionAt>>,
    ) -> Self {
        Self {
            data: data.clone(),
            model: model.record.clone(),
            summary: fitted.summary.clone(),
            report: fitted.report.clone(),
            prediction,
            scale_curve: fitted.scale_curve.clone(),
            dependent: None,
            contrast_error: None,
        }
    }

    /// The `meridian fit --json` record of the analysis as the command line prints it with
    /// the same options: the dependent-effects record of an `rma.mv` model, else the
    /// `rma.uni` record with the prediction asked for and the robust results, if any.
    pub fn full_report(&self) -> FitReport {
        match self.dependent_report() {
            Some(d) if d.model == "rma.mv" => d.clone(),
            Some(d) => FitReport {
                robust: d.robust.clone(),
                ..self.fit_report()
            },
            None => self.fit_report(),
        }
    }

    /// The dependent-effects record, if asked for and computed.
    pub fn dependent_report(&self) -> Option<&FitReport> {
        self.dependent.as_ref()?.as_ref().ok().map(|r| &**r)
    }

    /// The studies in the model.
    pub fn studies(&self) -> &Studies {
        &self.data.studies
    }

    /// Whether the model is a plain pooled estimate (see [`Summary::intercept_only`]).
    pub fn intercept_only(&self) -> bool {
        self.summary.intercept_only()
    }

    /// The prediction someone asked for: the pooled effect, or one at a point given at least
    /// in part; not the one at the held values only, which the page shows as a start.
    pub fn asked_prediction(&self) -> Option<&PredictionAt> {
        self.prediction.as_deref().filter(|p| !p.held_only)
    }

    /// The `meridian fit --json` record with the prediction asked for.
    pub fn fit_report(&self) -> FitReport {
        let mut report = (*self.report).clone();
        report.prediction = self.asked_prediction().map(|p| {
            PredictionReport::new(&(&p.estimate).into(), self.summary.spec.method.is_fixed())
        });
        report
    }
}

/// An analysis run from text: the record and the stages a refit needs (the permutation test
/// of the command line).
#[derive(Debug, Clone)]
pub struct Run {
    /// The table read from the text.
    pub table: Arc<Table>,
    /// The fitted model.
    pub fitted: Arc<Fitted>,
    /// The model matrix and its record.
    pub model: Arc<ModelStage>,
    /// The record.
    pub analysis: Analysis,
}

/// Runs every stage on `text`.
///
/// # Errors
/// The error of the first stage that fails.
///
/// # Examples
/// ```
/// use meridian::analysis::{analyse, AnalysisSpec};
/// let text = "study,yi,vi\nA,0.1,0.02\nB,0.5,0.03\nC,0.3,0.01\nD,-0.1,0.04\n";
/// let run = analyse(text, &AnalysisSpec::default())?;
/// assert_eq!(run.analysis.summary.k, 4);
/// assert!(run.analysis.fit_report().prediction.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn analyse(text: &str, spec: &AnalysisSpec) -> Result<Run, AnalysisError> {
    // Parsed afresh, not through the page's cache of the last table ([`stages::table`]): a
    // single run would only pay for copying the text and the table into it.
    let table = Arc::new(crate::data::parse::parse(text)?);
    let formula = stages::formula(spec.mods.as_deref())?;
    let scale = stages::formula(spec.scale.as_deref())?;
    let table = stages::centred(&table, &[formula.as_ref(), scale.as_ref()])?;
    let data = stages::studies_for(
        &table,
        &spec.columns,
        spec.measure,
        &[formula.as_ref(), scale.as_ref()],
    )?;
    let data = Arc::new(stages::without(&table, data, spec.without)?);
    let model = Arc::new(stages::model(
        &table,
        &data,
        formula.as_ref(),
        &spec.references,
    )?);
    let mut fitted = stages::fit_with_scale(
        &table,
        &data,
        &model,
        scale.as_ref(),
        &spec.references,
        &spec.model,
    )?;
    let asks_contrasts = !spec.contrasts.is_empty() || !spec.level_contrasts.is_empty();
    if !spec.btt.is_empty() || asks_contrasts || spec.vcov {
        let mut report = (*fitted.report).clone();
        if !spec.btt.is_empty() {
            report.term_tests = terms::term_tests(&fitted.fit, &model.design.terms, &spec.btt)?;
        }
        report.contrasts = terms::requested_contrasts(&fitted.fit, &model.record, spec)?;
        if spec.vcov {
            report.vcov = Some(terms::vcov_rows(&fitted.fit));
        }
        fitted.report = Arc::new(report);
    }
    let fitted = Arc::new(fitted);
    let prediction = stages::prediction(
        &fitted,
        &model.record,
        spec.predict_at.as_ref(),
        spec.predict_held,
    )?
    .map(Arc::new);
    let mut analysis = Analysis::new(&data, &model, &fitted, prediction);
    if spec.dependence.is_active() {
        let staged = multilevel::Staged {
            table: &table,
            data: &data,
            model: &model,
            fitted: &fitted,
        };
        let record =
            multilevel::dependent_record(staged, (*fitted.report).clone(), &spec.dependence);
        analysis.dependent = Some(record.map(Arc::new).map_err(|e| e.to_string()));
    }
    Ok(Run {
        table,
        fitted,
        model,
        analysis,
    })
}

#[cfg(test)]
mod tests;
