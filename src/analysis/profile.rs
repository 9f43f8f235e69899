//! The profile likelihood of τ² as the page draws it (metafor: `profile(res)`): the
//! (restricted) log-likelihood over a grid of τ² with β profiled out, its maximum, the
//! profile-likelihood interval (where the curve crosses the maximum less χ²₁,level / 2) and
//! the Q-profile interval beside it. Asked of the engine only when the plot is shown.

use serde::{Deserialize, Serialize};

use super::record::Bounds;
use super::stages::{stats_error, Fitted, StudiesStage};
use super::AnalysisError;
use crate::data::parse::Table;
use crate::stats;

/// Even grid points of the drawn profile: enough for a smooth curve at any plot width.
pub const STEPS: usize = 61;

/// The profile of τ² of a fit with one τ² (ML or REML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileRecord {
    /// The estimator, as metafor names it (`"ML"`, `"REML"`).
    pub method: String,
    /// The confidence level of both intervals, e.g. 0.95.
    pub level: f64,
    /// τ² at each grid point, increasing.
    pub tau2: Vec<f64>,
    /// The (restricted) log-likelihood at each grid point.
    pub log_likelihood: Vec<f64>,
    /// τ̂².
    pub tau2_hat: f64,
    /// The maximised log-likelihood, at τ̂².
    pub max_log_likelihood: f64,
    /// The log-likelihood the profile-likelihood bounds lie on: the maximum less χ²₁,level / 2.
    pub threshold: f64,
    /// The profile-likelihood interval of τ² (metafor: `confint(res, type = "PL")`).
    pub profile_likelihood: Bounds,
    /// The Q-profile interval of τ² (metafor: `confint(res)`), when Q has degrees of freedom.
    pub q_profile: Option<Bounds>,
}

/// The profile of `fitted`'s τ² at each of `grid`; an empty grid takes [`STEPS`] even points
/// from half the smaller lower bound of the two intervals to 1.5 times the larger upper bound,
/// so both intervals are seen whole, with τ̂² and the bounds themselves.
///
/// # Errors
/// [`AnalysisError::Stats`] for a fit other than ML or REML, or one without a single τ² (a
/// location-scale or multilevel model).
pub fn profile(
    table: &Table,
    data: &StudiesStage,
    fitted: &Fitted,
    grid: &[f64],
) -> Result<ProfileRecord, AnalysisError> {
    let fit = &fitted.fit;
    let error = |e| stats_error(e, &data.studies, table);
    let q_profile = fitted.summary.intervals.as_ref().map(|c| c.tau2);
    let first = fit.profile_tau2(grid, 2).map_err(error)?;
    let profile = if grid.is_empty() {
        let pl = first.interval;
        let (lo, hi) = match q_profile {
            Some(q) => (pl.lower.min(q.lower), pl.upper.max(q.upper)),
            None => (pl.lower, pl.upper),
        };
        let (lo, hi) = (0.5 * lo, 1.5 * hi.max(pl.estimate));
        // τ̂² and the bounds join the even grid, so the drawn curve peaks at the maximum and
        // passes through each crossing even where the grid is coarse beside them.
        let mut wanted: Vec<f64> = (0..STEPS)
            .map(|i| lo + (hi - lo) * i as f64 / (STEPS - 1) as f64)
            .chain([pl.estimate, pl.lower, pl.upper])
            .chain(q_profile.iter().flat_map(|q| [q.lower, q.upper]))
            .collect();
        wanted.sort_by(f64::total_cmp);
        wanted.dedup();
        // The interval found above stands: searching it again doubled the cost.
        let points = fit.profile_at(&wanted).map_err(error)?;
        stats::Profile { points, ..first }
    } else {
        first
    };
    Ok(ProfileRecord {
        method: fit.spec.method.metafor_name().to_owned(),
        level: fit.spec.level,
        tau2: profile.points.iter().map(|p| p.tau2).collect(),
        log_likelihood: profile.points.iter().map(|p| p.log_likelihood).collect(),
        tau2_hat: profile.maximum.tau2,
        max_log_likelihood: profile.maximum.log_likelihood,
        threshold: profile.threshold,
        profile_likelihood: (&profile.interval).into(),
        q_profile,
    })
}
