//! The profile likelihood of τ² as the page draws it (metafor: `profile(res)`): the
//! (restricted) log-likelihood over a grid of τ² with β profiled out, its maximum, the
//! profile-likelihood interval (where the curve crosses the maximum less χ²₁,level / 2) and
//! the Q-profile interval beside it. Asked of the engine only when the plot is shown, and run
//! there a few evaluations at a time ([`ProfileRun`]), with progress and cancel.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::record::Bounds;
use super::stages::{stats_error, Fitted, StudiesStage};
use super::AnalysisError;
use crate::data::parse::Table;
use crate::stats::{self, ProfileGrid};

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
/// so both intervals are seen whole, with τ̂² and the bounds themselves. A [`ProfileRun`] in
/// one slice.
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
    let error = |e| stats_error(e, &data.studies, table);
    let (mut run, q_profile) = stats_run(fitted, grid).map_err(error)?;
    run.step(&fitted.fit, usize::MAX);
    let profile = run.finish().map_err(error)?;
    Ok(record(fitted, &profile, q_profile))
}

/// The core's run of [`profile`] and the Q-profile interval the record reports beside it.
fn stats_run(
    fitted: &Fitted,
    grid: &[f64],
) -> Result<(stats::ProfileRun, Option<Bounds>), stats::StatsError> {
    let q_profile = fitted.summary.intervals.as_ref().map(|c| c.tau2);
    let grid = if grid.is_empty() {
        // τ̂² and the bounds join the even grid, so the drawn curve peaks at the maximum and
        // passes through each crossing even where the grid is coarse beside them.
        ProfileGrid::Even {
            steps: STEPS,
            cover: q_profile.map(|q| (q.lower, q.upper)),
            marks: true,
        }
    } else {
        ProfileGrid::Points(grid.to_vec())
    };
    Ok((stats::ProfileRun::new(&fitted.fit, grid)?, q_profile))
}

/// The record of `profile`, the profile of `fitted`'s τ².
fn record(fitted: &Fitted, profile: &stats::Profile, q_profile: Option<Bounds>) -> ProfileRecord {
    let fit = &fitted.fit;
    ProfileRecord {
        method: fit.spec.method.metafor_name().to_owned(),
        level: fit.spec.level,
        tau2: profile.points.iter().map(|p| p.tau2).collect(),
        log_likelihood: profile.points.iter().map(|p| p.log_likelihood).collect(),
        tau2_hat: profile.maximum.tau2,
        max_log_likelihood: profile.maximum.log_likelihood,
        threshold: profile.threshold,
        profile_likelihood: (&profile.interval).into(),
        q_profile,
    }
}

/// [`profile`] with the default grid a few likelihood evaluations at a time, so that the
/// page's worker reports progress between slices and can stop (some 80 ms natively at
/// k = 20,000 with three moderators, more in the browser).
#[derive(Debug, Clone)]
pub struct ProfileRun {
    table: Arc<Table>,
    data: Arc<StudiesStage>,
    fitted: Arc<Fitted>,
    q_profile: Option<Bounds>,
    run: stats::ProfileRun,
}

impl ProfileRun {
    /// The run of the profile of `fitted`'s τ², the model of the studies `data` of `table`.
    ///
    /// # Errors
    /// As [`profile`].
    pub fn new(
        table: Arc<Table>,
        data: Arc<StudiesStage>,
        fitted: Arc<Fitted>,
    ) -> Result<Self, AnalysisError> {
        let (run, q_profile) =
            stats_run(&fitted, &[]).map_err(|e| stats_error(e, &data.studies, &table))?;
        Ok(Self {
            table,
            data,
            fitted,
            q_profile,
            run,
        })
    }

    /// Makes up to `n` more likelihood evaluations.
    pub fn step(&mut self, n: usize) {
        self.run.step(&self.fitted.fit, n);
    }

    /// Evaluations made and in all (estimated until the interval is found).
    pub fn progress(&self) -> (usize, usize) {
        self.run.progress()
    }

    /// The record, once every evaluation is made (which it takes: call it once).
    ///
    /// # Errors
    /// As [`profile`].
    pub fn finish(&mut self) -> Result<ProfileRecord, AnalysisError> {
        let profile = self
            .run
            .finish()
            .map_err(|e| stats_error(e, &self.data.studies, &self.table))?;
        Ok(record(&self.fitted, &profile, self.q_profile))
    }
}
