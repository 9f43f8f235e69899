//! The profile likelihood of each σ² of a multilevel model as the page draws it (metafor:
//! `profile()` of an `rma.mv` fit, one panel per component): the (restricted) log-likelihood
//! over a grid of the component with the other variance parameters re-estimated at each
//! point, its maximum, and the profile-likelihood interval where the curve crosses the
//! maximum less χ²₁,level / 2. Asked of the engine only when the profile plot is shown.

use serde::{Deserialize, Serialize};

use super::profile::ProfileRecord;
use super::record::Bounds;
use super::AnalysisError;
use crate::stats::{MvFit, StatsError};

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

/// The profile of every σ² of `mv`, in metafor's order of the components. Each grid runs from
/// half the lower bound (0 when the bound is 0) to 1.5 times the larger of the upper bound and
/// the estimate.
///
/// # Errors
/// [`AnalysisError::NoSigma2`] for a model without σ² components (a multivariate model's τ²
/// and ρ have their intervals in the results), and what a profile refit can give.
pub fn component_profiles(mv: &MvFit) -> Result<Vec<ComponentProfile>, AnalysisError> {
    if mv.sigma2.is_empty() {
        return Err(AnalysisError::NoSigma2);
    }
    let stats = |error: StatsError| AnalysisError::Stats {
        error,
        line: None,
        row: None,
    };
    let level = mv.spec.level;
    let intervals = mv.confint_sigma2(level).map_err(stats)?;
    let maximum = mv.fit_statistics.loglik;
    let threshold = mv.profile_threshold(level).map_err(stats)?;
    mv.sigma2
        .iter()
        .zip(&intervals)
        .enumerate()
        .map(|(j, (component, interval))| {
            let lo = 0.5 * interval.lower;
            let hi = 1.5 * interval.upper.max(interval.estimate);
            let mut grid: Vec<f64> = (0..STEPS)
                .map(|i| lo + (hi - lo) * i as f64 / (STEPS - 1) as f64)
                .chain([interval.estimate, interval.lower, interval.upper])
                .filter(|x| x.is_finite())
                .collect();
            grid.sort_by(f64::total_cmp);
            grid.dedup();
            let points = mv.profile_sigma2(j, &grid).map_err(stats)?;
            Ok(ComponentProfile {
                name: component.name.clone(),
                method: mv.spec.method.metafor_name().to_owned(),
                level,
                sigma2: points.iter().map(|p| p.value).collect(),
                log_likelihood: points.iter().map(|p| p.log_likelihood).collect(),
                max_log_likelihood: maximum,
                threshold,
                profile_likelihood: interval.into(),
            })
        })
        .collect()
}
