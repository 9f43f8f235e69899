//! What to analyse and how: [`AnalysisSpec`], the request the command line builds from its
//! options and the page from its state. Plain data with serde, so that the page can post it to
//! a Web Worker as it is.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::multilevel::Dependence;
use super::names;
use super::terms::LevelContrast;
use crate::data::effect_size::Measure;
use crate::data::roles::Roles;
use crate::stats::ModelSpec;

/// What to analyse and how. Column choices left `None` are guessed from the header.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
    #[serde(with = "names::model_spec")]
    pub model: ModelSpec,
    /// Moderator values (a number, or a level for a factor) to predict at; ignored for an
    /// intercept-only model, which is always predicted at its pooled effect.
    pub predict_at: Option<BTreeMap<String, String>>,
    /// Whether a moderator missing from `predict_at` takes the value the plots hold it at
    /// (its mean, or its reference level), as the page's prediction form starts; otherwise a
    /// prediction needs a value for every moderator, as the command line asks.
    pub predict_held: bool,
    /// Right-hand side of a formula for log τ² (a location-scale model); `None` for one τ².
    #[serde(default)]
    pub scale: Option<String>,
    /// Terms of the formula to test (each all of its coefficients), in order; empty tests
    /// every term.
    #[serde(default)]
    pub btt: Vec<String>,
    /// Linear contrasts of the coefficients to test, one weight per coefficient each.
    #[serde(default)]
    pub contrasts: Vec<Vec<f64>>,
    /// Contrasts between two levels of a factor (the page's contrast builder), tested after
    /// [`AnalysisSpec::contrasts`] with their L rows written from the model's coding.
    #[serde(default)]
    pub level_contrasts: Vec<LevelContrast>,
    /// Whether the record carries the coefficients' covariance matrix.
    #[serde(default)]
    pub vcov: bool,
    /// Dependent effects: random terms, correlated sampling errors, cluster-robust inference
    /// (issue 11); the default leaves the `rma.uni` analysis as it is.
    #[serde(default)]
    pub dependence: Dependence,
    /// The 0-based table row of a study to leave out of the analysis (the page's "without
    /// this study"); `None` analyses every study.
    #[serde(default)]
    pub without: Option<usize>,
}
