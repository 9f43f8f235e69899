//! The profile likelihood of each σ² of a multilevel model as the page draws it (metafor:
//! `profile()` of an `rma.mv` fit, one panel per component): the (restricted) log-likelihood
//! over a grid of the component with the other variance parameters re-estimated at each
//! point, its maximum, and the profile-likelihood interval where the curve crosses the
//! maximum less χ²₁,level / 2. Asked of the engine only when the profile plot is shown, and
//! run there a few profile fits at a time ([`ComponentProfileRun`]), with progress and cancel.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::profile::ProfileRecord;
use super::record::Bounds;
use super::AnalysisError;
use crate::stats::{MvFit, ProfileGrid, Sigma2Profile, Sigma2ProfileRun, StatsError};

/// Even grid points of each drawn profile. Every point is a refit of the model, so fewer
/// than the τ² profile's; the estimate and the bounds join them, so the curve still peaks at
/// the maximum and passes through both crossings.
pub const STEPS: usize = 31;

/// The profile of one σ² component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentProfile {
    /// The component's name as metafor prints it (`"district"`, `"district/study"`).
    pub name: String,
    /// The estimator (`"ML"`, `"REML"`).
    pub method: String,
    /// The confidence level of the interval, e.g. 0.95.
    pub level: f64,
    /// σ² at each grid point, increasing.
    pub sigma2: Vec<f64>,
    /// The (restricted) log-likelihood at each grid point.
    pub log_likelihood: Vec<f64>,
    /// The maximised log-likelihood, at σ̂².
    pub max_log_likelihood: f64,
    /// The log-likelihood the profile-likelihood bounds lie on: the maximum less χ²₁,level / 2.
    pub threshold: f64,
    /// σ̂² and its profile-likelihood interval (metafor: `confint(res)`).
    pub profile_likelihood: Bounds,
}

/// What the profile plot draws: the profile of τ², or of each σ² of a multilevel model.
#[derive(Debug, Clone, PartialEq)]
pub enum Profiles {
    /// The `rma.uni` fit's τ².
    Tau2(ProfileRecord),
    /// Each σ² of the multilevel fit, in metafor's order.
    Sigma2(Vec<ComponentProfile>),
}

/// A core error with no row or line of the table to name.
fn stats(error: StatsError) -> AnalysisError {
    AnalysisError::Stats {
        error,
        line: None,
        row: None,
    }
}

/// The records of the `profiles` of `mv`'s σ².
fn records(
    mv: &MvFit,
    profiles: Vec<Sigma2Profile>,
) -> Result<Vec<ComponentProfile>, AnalysisError> {
    let level = mv.spec.level;
    let threshold = mv.profile_threshold(level).map_err(stats)?;
    Ok(mv
        .sigma2
        .iter()
        .zip(profiles)
        .map(|(component, profile)| ComponentProfile {
            name: component.name.clone(),
            method: mv.spec.method.metafor_name().to_owned(),
            level,
            sigma2: profile.points.iter().map(|p| p.value).collect(),
            log_likelihood: profile.points.iter().map(|p| p.log_likelihood).collect(),
            max_log_likelihood: mv.fit_statistics.loglik,
            threshold,
            profile_likelihood: (&profile.interval).into(),
        })
        .collect())
}

/// The profile of every σ² of a multilevel fit, in metafor's order of the components, a few
/// profile fits at a time so that the page's worker reports progress between slices and can
/// stop (seconds at k = 10,000 effects: each point of each profile is a fit of the other
/// variance parameters). Each grid runs from half the lower bound (0 when the bound is 0) to
/// 1.5 times the larger of the upper bound and the estimate.
#[derive(Debug, Clone)]
pub struct ComponentProfileRun {
    mv: Arc<MvFit>,
    run: Sigma2ProfileRun,
}

impl ComponentProfileRun {
    /// The run of the profiles of `mv`'s σ².
    ///
    /// # Errors
    /// [`AnalysisError::NoSigma2`] for a model without σ² components (a multivariate model's
    /// τ² and ρ have their intervals in the results).
    pub fn new(mv: Arc<MvFit>) -> Result<Self, AnalysisError> {
        if mv.sigma2.is_empty() {
            return Err(AnalysisError::NoSigma2);
        }
        let grid = ProfileGrid::Even {
            steps: STEPS,
            cover: None,
            marks: true,
        };
        let run = Sigma2ProfileRun::new(&mv, mv.spec.level, grid).map_err(stats)?;
        Ok(Self { mv, run })
    }

    /// Makes up to `n` more profile fits.
    pub fn step(&mut self, n: usize) {
        self.run.step(&self.mv, n);
    }

    /// Fits made and in all (estimated while an interval is searched).
    pub fn progress(&self) -> (usize, usize) {
        self.run.progress()
    }

    /// The records, once every fit is made (which it takes: call it once).
    ///
    /// # Errors
    /// What a profile fit gave (non-convergence).
    pub fn finish(&mut self) -> Result<Vec<ComponentProfile>, AnalysisError> {
        let profiles = self.run.finish().map_err(stats)?;
        records(&self.mv, profiles)
    }
}
