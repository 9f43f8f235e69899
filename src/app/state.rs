//! The page's state, split by concern — the pasted text, the column roles, the model formula
//! and settings, the answers about study-level averages — each part its own signal on the page,
//! so that an edit of one reruns only what depends on it. Together they are a [`PageState`],
//! which is what local storage keeps and a share link carries; plot options ([`PlotOptions`])
//! are the page's own and are not saved.
//!
//! Settings are typed (`Tau2Method`, `Test`, `Measure`, `RawRole`) and saved under metafor's
//! names (`"REML"`, `"knha"`, `"RR"`, `"ai"`), as the first release saved them as strings, so
//! old saved work and old links still load.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::analysis::terms::LevelContrast;
use crate::analysis::{analyse, names, stages, AnalysisSpec, Run, StudiesStage};
use crate::data::effect_size::{Measure, RawRole};
use crate::data::examples::{example, Example};
use crate::data::formula::{edit, Formula};
use crate::data::parse::{parse, ColumnKind, Table};
use crate::data::roles::{self, Roles};
use crate::guidance::is_study_level_average;
use crate::stats::{ModelSpec, Tau2Method, Test};

use super::{DependenceState, StateError};

/// The data: the text as pasted, uploaded or loaded from an example.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DataState {
    /// The table as text.
    pub text: String,
    /// File name of the bundled example the data came from, while unchanged.
    pub example: Option<String>,
}

/// Which column is what. Choices left `None` are guessed from the header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ColumnState {
    /// Study-label column.
    pub slab: Option<String>,
    /// Effect-size column.
    pub yi: Option<String>,
    /// Sampling-variance column.
    pub vi: Option<String>,
    /// Standard-error column.
    pub sei: Option<String>,
    /// Raw-data role → column.
    pub raw: BTreeMap<RawRole, String>,
    /// Effect-size measure to compute from raw data; `None` reads `yi` with `vi` or `sei`.
    pub measure: Option<Measure>,
    /// Cluster (study) column of dependent effects: rows with one value are one study's.
    /// Left out of the saved JSON when unset, as are the other settings of dependent
    /// effects at their defaults, so that a session without them saves as before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Effect-ID column: which effect within its study a row is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect_id: Option<String>,
}

/// The model: formula, reference levels, estimator, test, level, and the prediction point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelState {
    /// Right-hand side of the model formula in R's syntax; `""` for intercept-only.
    pub formula: String,
    /// Factor column → its reference level.
    pub references: BTreeMap<String, String>,
    /// τ² estimator.
    #[serde(with = "names::method")]
    pub method: Tau2Method,
    /// Test of coefficients and moderators.
    #[serde(with = "names::test")]
    pub test: Test,
    /// Confidence level in percent (95.0).
    #[serde(deserialize_with = "level_or_default")]
    pub level: f64,
    /// Moderator column → the value (or factor level) the prediction form asks about; the
    /// others are predicted at the values the plots hold them at.
    pub predict_at: BTreeMap<String, String>,
    /// Whether τ² is modelled too ("model τ² too"): a location-scale model, log τ²ᵢ = zᵢ'α.
    /// Left out of the saved JSON while off, so a state without it saves as before.
    #[serde(skip_serializing_if = "is_false")]
    pub scale_on: bool,
    /// Right-hand side of the scale formula in R's syntax, kept while the switch is off.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scale_formula: String,
    /// Effects within studies: their model, correlated sampling errors, robust inference.
    #[serde(skip_serializing_if = "DependenceState::is_default")]
    pub dependence: DependenceState,
    /// The contrast builder's comparisons of factor levels, in the order they were added.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contrasts: Vec<LevelContrast>,
}

impl Default for ModelState {
    /// metafor's defaults: REML with z tests and 95 % intervals, no moderators.
    fn default() -> Self {
        let spec = ModelSpec::default();
        Self {
            formula: String::new(),
            references: BTreeMap::new(),
            method: spec.method,
            test: spec.test,
            level: 100.0 * spec.level,
            predict_at: BTreeMap::new(),
            scale_on: false,
            scale_formula: String::new(),
            dependence: DependenceState::default(),
            contrasts: Vec::new(),
        }
    }
}

/// Whether a saved switch is off (serde's `skip_serializing_if` takes a function of a
/// reference).
fn is_false(b: &bool) -> bool {
    !*b
}

/// The saved confidence level, or 95 % for `null`: JSON has no NaN, so a level the user had
/// cleared (NaN in the form) is saved as `null`, and the rest of the state must still load.
fn level_or_default<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(95.0))
}

/// The user's answers to "is this column a study-level average of patient characteristics?",
/// overriding the guess from its name.
pub type Averages = BTreeMap<String, bool>;

/// Everything the page keeps between visits, saved as one flat JSON object (the fields of
/// each part side by side, as the first release saved them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PageState {
    /// The data.
    #[serde(flatten)]
    pub data: DataState,
    /// The column roles.
    #[serde(flatten)]
    pub columns: ColumnState,
    /// The model.
    #[serde(flatten)]
    pub model: ModelState,
    /// Answers about study-level averages.
    pub averages: Averages,
}

impl Default for PageState {
    /// The BCG vaccine trials as a first visit shows them: log risk ratios from the 2×2
    /// tables, no moderators yet, REML with z tests and 95 % intervals (metafor's defaults).
    fn default() -> Self {
        let mut state = Self {
            data: DataState::default(),
            columns: ColumnState::default(),
            model: ModelState::default(),
            averages: Averages::new(),
        };
        state.load_example(
            example("bcg.csv").expect("bcg.csv is bundled; examples::tests checks the index"),
        );
        // A first visit starts from the pooled effect; moderators are the user's to add.
        state.model.formula.clear();
        state
    }
}

impl ColumnState {
    /// The column choices as the analysis takes them.
    pub fn roles(&self) -> Roles {
        Roles {
            slab: self.slab.clone(),
            yi: self.yi.clone(),
            vi: self.vi.clone(),
            sei: self.sei.clone(),
            raw: self.raw.clone(),
        }
    }

    /// The measure to use for `table` after new data arrive (see [`PageState::load_text`]).
    fn measure_for(&self, table: &Table) -> Option<Measure> {
        let guessed = roles::guess(table);
        let supplied = |m: Measure| {
            m.roles()
                .iter()
                .all(|r| self.raw.contains_key(r) || guessed.raw.contains_key(r))
        };
        if let Some(m) = self.measure.filter(|&m| supplied(m)) {
            return Some(m);
        }
        if guessed.yi.is_some() || self.yi.is_some() {
            return None;
        }
        Measure::ALL
            .into_iter()
            .find(|&m| supplied(m))
            // Nothing fits: keep the choice, so the analysis names the column it lacks.
            .or(self.measure)
    }
}

impl ModelState {
    /// The estimator, test and level, or why the level is not usable.
    ///
    /// # Errors
    /// [`StateError::InvalidLevel`] for a level not strictly between 0 and 100 percent.
    pub fn spec(&self) -> Result<ModelSpec, StateError> {
        // Written as a positive check so that NaN is rejected too.
        if !(self.level > 0.0 && self.level < 100.0) {
            return Err(StateError::InvalidLevel { level: self.level });
        }
        Ok(ModelSpec {
            method: self.method,
            test: self.test,
            level: self.level / 100.0,
            ..ModelSpec::default()
        })
    }

    /// The formula, `None` for intercept-only.
    pub fn mods(&self) -> Option<String> {
        (!self.formula.trim().is_empty()).then(|| self.formula.clone())
    }

    /// The scale formula while τ² is modelled, `None` for one τ² (the switch off, or no
    /// formula).
    pub fn scale(&self) -> Option<String> {
        (self.scale_on && !self.scale_formula.trim().is_empty()).then(|| self.scale_formula.clone())
    }

    /// The columns the formula uses; none for a formula that does not parse.
    pub fn used_columns(&self) -> Vec<String> {
        columns_of(self.mods())
    }

    /// The columns the scale formula in use reads; none without one.
    pub fn scale_columns(&self) -> Vec<String> {
        columns_of(self.scale())
    }

    /// Adds, switches or removes the main effect of `column` in the scale formula (see
    /// [`edit::set_moderator`]).
    pub fn set_scale_moderator(&mut self, column: &str, on: bool, categorical: bool) {
        if let Some(f) = edit::set_moderator(&self.scale_formula, column, on, categorical) {
            self.scale_formula = f;
        }
    }

    /// Turns the location-scale model on or off; turned on without a scale formula, τ² starts
    /// with the location model's moderators (metafor's common first model).
    pub fn set_scale_on(&mut self, on: bool) {
        self.scale_on = on;
        if on && self.scale_formula.trim().is_empty() {
            self.scale_formula.clone_from(&self.formula);
        }
    }

    /// The reference levels of the columns the formula and the scale formula use, so that a
    /// setting left from an earlier model does not block the fit.
    pub fn used_references(&self) -> BTreeMap<String, String> {
        let mut used = self.used_columns();
        used.extend(self.scale_columns());
        self.references
            .iter()
            .filter(|(c, _)| used.contains(c))
            .map(|(c, l)| (c.clone(), l.clone()))
            .collect()
    }

    /// The contrasts of columns the formula uses, as the analysis tests them (in this order):
    /// one left from an earlier formula waits until its column is back.
    pub fn used_contrasts(&self) -> Vec<LevelContrast> {
        let used = self.used_columns();
        self.contrasts
            .iter()
            .filter(|c| used.contains(&c.column))
            .cloned()
            .collect()
    }

    /// Adds the comparison of `level` with `versus` of factor `column`, unless it is there
    /// already (either way round: the same row up to its sign) or compares a level with itself.
    pub fn add_contrast(&mut self, column: &str, level: &str, versus: &str) {
        let same = |c: &LevelContrast| {
            c.column == column
                && ((c.level == level && c.versus == versus)
                    || (c.level == versus && c.versus == level))
        };
        if level != versus && !self.contrasts.iter().any(same) {
            self.contrasts.push(LevelContrast {
                column: column.to_owned(),
                level: level.to_owned(),
                versus: versus.to_owned(),
            });
        }
    }

    /// Removes a contrast.
    pub fn remove_contrast(&mut self, contrast: &LevelContrast) {
        self.contrasts.retain(|c| c != contrast);
    }

    /// The prediction form's values for the columns the formula uses.
    pub fn used_predict_at(&self) -> BTreeMap<String, String> {
        let used = self.used_columns();
        self.predict_at
            .iter()
            .filter(|(c, _)| used.contains(c))
            .map(|(c, v)| (c.clone(), v.clone()))
            .collect()
    }

    /// The formula's term labels as R writes them (see [`edit::terms`]).
    pub fn terms(&self) -> Vec<String> {
        edit::terms(&self.formula)
    }

    /// Whether the formula has a main effect of `column`.
    pub fn has_moderator(&self, column: &str) -> bool {
        edit::has_moderator(&self.formula, column)
    }

    /// Whether `column` enters the model as a factor: written `factor(column)`, or a text
    /// column of `table` (which a formula always codes as a factor).
    pub fn is_categorical(&self, column: &str, table: &Table) -> bool {
        edit::uses_as_factor(&self.formula, column)
            || table
                .column(column)
                .is_ok_and(|c| c.kind == ColumnKind::Text)
    }

    /// Adds, switches or removes the main effect of `column` (see [`edit::set_moderator`]).
    pub fn set_moderator(&mut self, column: &str, on: bool, categorical: bool) {
        let switched = on && self.has_moderator(column);
        if let Some(f) = edit::set_moderator(&self.formula, column, on, categorical) {
            self.formula = f;
            if switched && !categorical {
                self.references.remove(column);
            }
        }
    }

    /// Writes `column` as `factor(column)` or back as `column` wherever the formula uses it.
    /// Turning a factor off forgets its reference level, which a numeric column cannot have.
    pub fn set_categorical(&mut self, column: &str, categorical: bool) {
        if let Some(f) = edit::set_categorical(&self.formula, column, categorical) {
            self.formula = f;
            if !categorical {
                self.references.remove(column);
            }
        }
    }

    /// Adds the interaction `a:b` with its main effects (see [`edit::add_interaction`]).
    pub fn add_interaction(&mut self, a: &str, b: &str) {
        if let Some(f) = edit::add_interaction(&self.formula, a, b) {
            self.formula = f;
        }
    }

    /// Removes the term with this label (see [`edit::remove_term`]).
    pub fn remove_term(&mut self, label: &str) {
        if let Some(f) = edit::remove_term(&self.formula, label) {
            self.formula = f;
        }
    }
}

/// The columns a formula's right-hand side reads; none for `None` or text that does not parse.
fn columns_of(formula: Option<String>) -> Vec<String> {
    formula
        .and_then(|m| Formula::parse(&m).ok())
        .map(|f| f.columns().into_iter().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The analysis request of these column choices and this model (see [`PageState::spec`]),
/// for the page, which keeps the parts of its state apart.
///
/// # Errors
/// [`StateError::InvalidLevel`], [`StateError::NoEffectId`], [`StateError::NoOutcome`].
pub fn analysis_spec(
    columns: &ColumnState,
    model: &ModelState,
) -> Result<AnalysisSpec, StateError> {
    Ok(AnalysisSpec {
        columns: columns.roles(),
        measure: columns.measure,
        mods: model.mods(),
        references: model.used_references(),
        model: model.spec()?,
        predict_at: Some(model.used_predict_at()),
        predict_held: true,
        scale: model.scale(),
        level_contrasts: model.used_contrasts(),
        dependence: model
            .dependence
            .dependence(columns.cluster.as_deref(), columns.effect_id.as_deref())?,
        ..AnalysisSpec::default()
    })
}

/// Stage 2 as the page runs it: the studies of `table` under these column choices, every row
/// with a missing value in a column of the formula or of the scale formula (`scale`, while
/// τ² is modelled) left out with its reason, as the engine's worker leaves them out (so the
/// Data pane marks the rows the fit does not use).
///
/// # Errors
/// The analysis's error for the roles or a formula naming a column the table lacks.
pub fn page_studies(
    table: &Table,
    columns: &ColumnState,
    formula: Option<&Formula>,
    scale: Option<&Formula>,
) -> Result<StudiesStage, StateError> {
    let roles = columns.roles();
    Ok(stages::studies_for(
        table,
        &roles,
        columns.measure,
        &[formula, scale],
    )?)
}

impl PageState {
    /// The analysis request of this state. References and prediction values are passed only
    /// for columns the formula uses; moderators the prediction form leaves empty are
    /// predicted at the values the plots hold them at.
    ///
    /// # Errors
    /// [`StateError::InvalidLevel`].
    pub fn spec(&self) -> Result<AnalysisSpec, StateError> {
        analysis_spec(&self.columns, &self.model)
    }

    /// Runs the analysis of the state's data with its settings (the command line's way: all
    /// stages in a row; the page keeps a memo per stage).
    ///
    /// # Errors
    /// [`StateError::InvalidLevel`] or the analysis's error.
    pub fn analyse(&self) -> Result<Run, StateError> {
        Ok(analyse(&self.data.text, &self.spec()?)?)
    }

    /// Takes new data. Model settings are kept; column choices, formula terms, reference
    /// levels, prediction values and average flags that name a column the new table lacks are
    /// dropped; the measure is kept while the table supplies its columns, else replaced by
    /// the first measure the table's column names supply, or by none when it has `yi`. Text
    /// that is not a table (yet) changes nothing but the text, so that the choices survive
    /// while the user fixes a paste.
    pub fn load_text(&mut self, text: String) {
        self.data = DataState {
            text,
            example: None,
        };
        let Ok(table) = parse(&self.data.text) else {
            return;
        };
        let present = |c: &str| table.column(c).is_ok();
        let columns = &mut self.columns;
        for slot in [
            &mut columns.slab,
            &mut columns.yi,
            &mut columns.vi,
            &mut columns.sei,
            &mut columns.cluster,
            &mut columns.effect_id,
        ] {
            if slot.as_deref().is_some_and(|c| !present(c)) {
                *slot = None;
            }
        }
        columns.raw.retain(|_, c| present(c));
        if let Some(f) = edit::retain_columns(&self.model.formula, present) {
            self.model.formula = f;
        }
        if let Some(f) = edit::retain_columns(&self.model.scale_formula, present) {
            self.model.scale_formula = f;
        }
        self.model.references.retain(|c, _| present(c));
        self.model.contrasts.retain(|c| present(&c.column));
        self.model.predict_at.retain(|c, _| present(c));
        self.averages.retain(|c, _| present(c));
        self.columns.measure = self.columns.measure_for(&table);
    }

    /// Loads a bundled example with the roles, measure and formula it suggests; the model
    /// settings (estimator, test, level) stay as the user set them.
    pub fn load_example(&mut self, example: &Example) {
        let column = |role: &str| example.columns.get(role).cloned();
        self.data = DataState {
            text: example.text.to_owned(),
            example: Some(example.file.clone()),
        };
        self.columns = ColumnState {
            slab: example.slab.clone(),
            yi: column("yi"),
            vi: column("vi"),
            sei: column("sei"),
            raw: example
                .columns
                .iter()
                .filter_map(|(role, c)| RawRole::from_name(role).map(|r| (r, c.clone())))
                .collect(),
            measure: example.measure.as_deref().and_then(|m| m.parse().ok()),
            // Which rows share a study is the user's to say, as for any pasted table.
            cluster: None,
            effect_id: None,
        };
        self.model.formula = example.mods.clone().unwrap_or_default();
        self.model.scale_on = false;
        self.model.scale_formula.clear();
        self.model.references.clear();
        self.model.contrasts.clear();
        self.model.predict_at.clear();
        self.averages.clear();
    }

    /// Whether `column` is a study-level average of patient characteristics: the user's
    /// answer if given, else the guess from its name ([`is_study_level_average`]).
    pub fn is_average(&self, column: &str) -> bool {
        is_average(&self.averages, column)
    }
}

/// Whether `column` is a study-level average: the answer in `averages`, else the guess.
pub fn is_average(averages: &Averages, column: &str) -> bool {
    averages
        .get(column)
        .copied()
        .unwrap_or_else(|| is_study_level_average(column))
}

/// Which plot the Plots pane shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PlotTab {
    /// The forest plot.
    #[default]
    Forest,
    /// Effect sizes against a moderator (bubble or per-level plot).
    Moderator,
    /// The funnel plot.
    Funnel,
    /// The heterogeneity picture.
    Heterogeneity,
    /// The profile likelihood of τ².
    Profile,
}

/// How the forest plot's rows are sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ForestSort {
    /// As in the table.
    #[default]
    Input,
    /// By effect size.
    Effect,
    /// By weight.
    Weight,
    /// By the values of a numeric column.
    Column(String),
}

/// The Plots pane's options: what to draw and how, never what to fit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlotOptions {
    /// The plot shown.
    pub tab: PlotTab,
    /// Forest plot row order.
    pub sort: ForestSort,
    /// Forest plot subgroups by this categorical column.
    pub subgroup: Option<String>,
    /// The moderator the bubble plot draws, as chosen (the model may no longer use it).
    pub moderator: Option<String>,
    /// Contour-enhanced funnel plot.
    pub contours: bool,
    /// The σ² component the profile plot of a multilevel model draws (an index in metafor's
    /// order; the first when out of range).
    pub profile_component: usize,
}
