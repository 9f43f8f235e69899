//! Leave-one-out: the pooled result (or, with moderators, the coefficients) of the model
//! refitted without each study, as metafor's `leave1out` reports it, read from the shared
//! case deletions ([`super::deletion`]).

use super::deletion::Deletions;
use super::summary::Coefficient;

/// The model without one study.
#[derive(Debug, Clone, PartialEq)]
pub struct LeftOut {
    /// Coefficients of the refit in design order (the pooled effect alone without moderators).
    pub coefficients: Vec<Coefficient>,
    /// QE of the refit.
    pub q: f64,
    /// Its p-value.
    pub q_p: f64,
    /// τ² of the refit (0 for FE/EE).
    pub tau2: f64,
    /// I² in percent.
    pub i2: f64,
    /// H².
    pub h2: f64,
    /// Pseudo-R² in percent, for models with moderators and an intercept.
    pub r2: Option<f64>,
}

/// Leave-one-out refits, one per study in study order; `Err` says why the model cannot be
/// fitted without that study.
pub fn leave_one_out(deletions: &Deletions) -> Vec<Result<LeftOut, super::StatsError>> {
    deletions
        .refits
        .iter()
        .map(|d| {
            d.as_ref().map_err(Clone::clone).map(|d| LeftOut {
                coefficients: d.coefficients.clone(),
                q: d.heterogeneity.qe,
                q_p: d.heterogeneity.qe_p,
                tau2: d.tau2,
                i2: d.heterogeneity.i2,
                h2: d.heterogeneity.h2,
                r2: d.r2,
            })
        })
        .collect()
}
