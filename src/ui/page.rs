//! The page's signals and memos: one signal per concern of the state (text, columns, model,
//! study-level averages, plot options), one memo per pipeline stage (table → studies → model →
//! fit → prediction → analysis) and one per derived analysis (subgroups, the fitted line along
//! a moderator, Egger's test, the Sensitivity pane's refits). Each memo compares its result
//! with the last, so an edit reruns only the stages after it and stops where nothing changed:
//! a new estimator refits without re-parsing, a plot option refits nothing, and derived
//! analyses run only when a view shows them (memos are lazy).
//!
//! Each stage runs inside a User Timing measure (`meridian:parse`, `meridian:fit`, …), so the
//! browser's performance tools, the benchmark and the end-to-end tests can see what ran.

use std::sync::Arc;

use leptos::prelude::*;

use crate::analysis::egger::egger;
use crate::analysis::moderator::{drawn_moderator, moderator_curve, study_values, ModeratorCurve};
use crate::analysis::record::Egger;
use crate::analysis::sensitivity::{sensitivity, Sensitivity};
use crate::analysis::subgroups::{subgroups, Subgroups};
use crate::analysis::{
    stages, Analysis, AnalysisError, Fitted, ModelStage, PredictionAt, StudiesStage,
};
use crate::app::{
    Averages, ColumnState, DataState, ForestSort, ModelState, PageState, PlotOptions,
};
use crate::app::{PlotTab, StateError};
use crate::data::formula::Formula;
use crate::data::parse::Table;

/// A stage's result: its record, or why the analysis stops there.
pub type Stage<T> = Result<Arc<T>, StateError>;

/// Runs `f` inside a User Timing measure named `meridian:{name}`.
pub fn timed<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let performance = window().performance();
    let start = format!("meridian:{name}-start");
    if let Some(p) = &performance {
        let _ = p.mark(&start);
    }
    let out = f();
    if let Some(p) = &performance {
        // Measures only inform tools and tests; a browser without them loses nothing.
        let _ = p.measure_with_start_mark(&format!("meridian:{name}"), &start);
    }
    out
}

/// The page: its state and everything derived from it. `Copy`, so every component takes it
/// by value.
#[derive(Clone, Copy)]
pub struct Page {
    /// The data text, committed (typing in the data box is debounced before it lands here).
    pub data: RwSignal<DataState>,
    /// The column roles and the measure.
    pub columns: RwSignal<ColumnState>,
    /// Formula, references, estimator, test, level and the prediction form.
    pub model: RwSignal<ModelState>,
    /// Answers about study-level averages.
    pub averages: RwSignal<Averages>,
    /// The Plots pane's options.
    pub plots: RwSignal<PlotOptions>,
    /// The study highlighted in every plot and in the table (an index into the studies).
    pub highlight: RwSignal<Option<usize>>,
    /// The parsed table.
    pub table: Memo<Stage<Table>>,
    /// The studies and the columns used.
    pub studies: Memo<Stage<StudiesStage>>,
    /// The design and the model's encoding.
    pub design: Memo<Stage<ModelStage>>,
    /// The fitted model.
    pub fitted: Memo<Stage<Fitted>>,
    /// The prediction of the results pane's form (the pooled effect without moderators).
    pub prediction: Memo<Result<Option<Arc<PredictionAt>>, StateError>>,
    /// The complete record the views read.
    pub analysis: Memo<Result<Analysis, StateError>>,
    /// The moderator the bubble plot draws (and its menu shows).
    pub moderator: Memo<Option<String>>,
    /// The fitted effect along that moderator, once the bubble plot asks.
    pub curve: Memo<Option<Stage<ModeratorCurve>>>,
    /// The forest plot's subgroups, when a column is chosen.
    pub subgroups: Memo<Option<Stage<Subgroups>>>,
    /// Egger's test, once the funnel plot asks.
    pub egger: Memo<Option<Arc<Egger>>>,
    /// The values of the column the forest plot is sorted by.
    pub sort_values: Memo<Option<Result<Vec<f64>, StateError>>>,
    /// Whether the Sensitivity pane has been opened (its refits run only then).
    pub sensitivity_shown: RwSignal<bool>,
    /// Influence, leave-one-out, Baujat and BLUPs, once the Sensitivity pane is open.
    pub sensitivity: Memo<Option<Stage<Sensitivity>>>,
}

impl Page {
    /// The page of `state`, with default plot options.
    pub fn new(state: PageState) -> Self {
        let PageState {
            data,
            columns,
            model,
            averages,
        } = state;
        let data = RwSignal::new(data);
        let columns = RwSignal::new(columns);
        let model = RwSignal::new(model);
        let plots = RwSignal::new(PlotOptions::default());

        let table = Memo::new(move |_| {
            data.with(|d| timed("parse", || Ok(Arc::new(stages::table(&d.text)?))))
        });
        // The formula parses on its own: the studies need its columns, the design its terms.
        let mods = Memo::new(move |_| model.with(ModelState::mods));
        let formula = Memo::new(move |_| -> Result<Option<Arc<Formula>>, StateError> {
            mods.with(|m| Ok(stages::formula(m.as_deref())?.map(Arc::new)))
        });
        let studies = Memo::new(move |_| -> Stage<StudiesStage> {
            let table = table.get()?;
            let formula = formula.get()?;
            columns.with(|c| {
                timed("studies", || {
                    let roles = c.roles();
                    let s = stages::studies(&table, &roles, c.measure, formula.as_deref())?;
                    Ok(Arc::new(s))
                })
            })
        });
        let references = Memo::new(move |_| model.with(ModelState::used_references));
        let design = Memo::new(move |_| -> Stage<ModelStage> {
            let (table, studies, formula) = (table.get()?, studies.get()?, formula.get()?);
            references.with(|r| {
                timed("design", || {
                    Ok(Arc::new(stages::model(
                        &table,
                        &studies,
                        formula.as_deref(),
                        r,
                    )?))
                })
            })
        });
        let spec = Memo::new(move |_| model.with(ModelState::spec));
        let fitted = Memo::new(move |_| -> Stage<Fitted> {
            let (table, studies, design) = (table.get()?, studies.get()?, design.get()?);
            let spec = spec.get()?;
            timed("fit", || {
                Ok(Arc::new(stages::fit(&table, &studies, &design, &spec)?))
            })
        });
        let predict_at = Memo::new(move |_| model.with(ModelState::used_predict_at));
        let prediction = Memo::new(move |_| {
            let (design, fitted) = (design.get()?, fitted.get()?);
            predict_at.with(|at| {
                timed("predict", || {
                    Ok(stages::prediction(&fitted, &design.record, Some(at), true)?.map(Arc::new))
                })
            })
        });
        let analysis = Memo::new(move |_| {
            let (studies, design, fitted) = (studies.get()?, design.get()?, fitted.get()?);
            // A prediction form the model cannot use is reported by the form, not the page.
            let prediction = prediction.get().ok().flatten();
            Ok(Analysis::new(&studies, &design, &fitted, prediction))
        });

        let moderator = Memo::new(move |_| {
            let chosen = plots.with(|p| p.moderator.clone());
            design.with(|d| {
                d.as_ref()
                    .ok()
                    .and_then(|d| drawn_moderator(&d.record, chosen.as_deref()))
            })
        });
        let curve = Memo::new(move |_| {
            if plots.with(|p| p.tab) != PlotTab::Moderator {
                return None;
            }
            let column = moderator.get()?;
            Some(curve_along(table, studies, design, fitted, &column))
        });
        let subgroups = Memo::new(move |_| {
            let column =
                plots.with(|p| (p.tab == PlotTab::Forest).then(|| p.subgroup.clone()))??;
            Some(subgroups_by(table, studies, fitted, &column))
        });
        let egger = Memo::new(move |_| {
            if plots.with(|p| p.tab) != PlotTab::Funnel {
                return None;
            }
            let fitted = fitted.get().ok()?;
            timed("egger", || egger(&fitted)).map(Arc::new)
        });
        let sort_values = Memo::new(move |_| {
            let column = plots.with(|p| match &p.sort {
                ForestSort::Column(c) => Some(c.clone()),
                _ => None,
            })?;
            Some(values_of(table, studies, &column))
        });

        let sensitivity_shown = RwSignal::new(false);
        let sensitivity = Memo::new(move |_| {
            if !sensitivity_shown.get() {
                return None;
            }
            Some(sensitivity_of(studies, fitted))
        });

        Self {
            data,
            columns,
            model,
            averages: RwSignal::new(averages),
            plots,
            highlight: RwSignal::new(None),
            table,
            studies,
            design,
            fitted,
            prediction,
            analysis,
            moderator,
            curve,
            subgroups,
            egger,
            sort_values,
            sensitivity_shown,
            sensitivity,
        }
    }

    /// The state as saved: every part but the plot options.
    pub fn state(&self) -> PageState {
        PageState {
            data: self.data.get(),
            columns: self.columns.get(),
            model: self.model.get(),
            averages: self.averages.get(),
        }
    }

    /// The state as saved, without tracking it.
    pub fn state_untracked(&self) -> PageState {
        PageState {
            data: self.data.get_untracked(),
            columns: self.columns.get_untracked(),
            model: self.model.get_untracked(),
            averages: self.averages.get_untracked(),
        }
    }

    /// Applies an edit that may touch several parts of the state (new data, an example, a
    /// fresh start); only the parts it changed notify, so the others' memos stay.
    pub fn edit(&self, edit: impl FnOnce(&mut PageState)) {
        let mut state = self.state_untracked();
        edit(&mut state);
        let PageState {
            data,
            columns,
            model,
            averages,
        } = state;
        set_if_changed(self.data, data);
        set_if_changed(self.columns, columns);
        set_if_changed(self.model, model);
        set_if_changed(self.averages, averages);
    }
}

/// Sets `signal` to `value` unless it already holds it, so its readers are not rerun.
fn set_if_changed<T: PartialEq + Send + Sync + 'static>(signal: RwSignal<T>, value: T) {
    if signal.with_untracked(|v| *v != value) {
        signal.set(value);
    }
}

/// The fitted effect along `column`.
fn curve_along(
    table: Memo<Stage<Table>>,
    studies: Memo<Stage<StudiesStage>>,
    design: Memo<Stage<ModelStage>>,
    fitted: Memo<Stage<Fitted>>,
    column: &str,
) -> Stage<ModeratorCurve> {
    let (table, studies, design, fitted) =
        (table.get()?, studies.get()?, design.get()?, fitted.get()?);
    timed("moderator", || {
        Ok(Arc::new(moderator_curve(
            &table,
            &studies,
            &design.record,
            &fitted,
            column,
        )?))
    })
}

/// The subgroups by `column`.
fn subgroups_by(
    table: Memo<Stage<Table>>,
    studies: Memo<Stage<StudiesStage>>,
    fitted: Memo<Stage<Fitted>>,
    column: &str,
) -> Stage<Subgroups> {
    let (table, studies, fitted) = (table.get()?, studies.get()?, fitted.get()?);
    timed("subgroups", || {
        Ok(Arc::new(subgroups(&table, &studies, &fitted, column)?))
    })
}

/// The Sensitivity pane's records of the fit.
fn sensitivity_of(
    studies: Memo<Stage<StudiesStage>>,
    fitted: Memo<Stage<Fitted>>,
) -> Stage<Sensitivity> {
    let (studies, fitted) = (studies.get()?, fitted.get()?);
    timed("sensitivity", || {
        sensitivity(&fitted, &studies)
            .map(Arc::new)
            .map_err(|error| {
                AnalysisError::Stats {
                    error,
                    line: None,
                    row: None,
                }
                .into()
            })
    })
}

/// Each study's value of the numeric `column`.
fn values_of(
    table: Memo<Stage<Table>>,
    studies: Memo<Stage<StudiesStage>>,
    column: &str,
) -> Result<Vec<f64>, StateError> {
    let (table, studies) = (table.get()?, studies.get()?);
    study_values(&table, &studies.studies, column).map_err(|e| AnalysisError::from(e).into())
}
