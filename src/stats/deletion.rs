//! Case deletion: the model refitted without each study in turn, the one set of refits that
//! the influence diagnostics ([`super::influence`]), leave-one-out ([`super::leave1out`]) and
//! the Baujat plot ([`super::baujat`]) all read, so a view that shows the three fits k models,
//! not 3k.
//!
//! Each refit starts the variance estimator from the full fit's τ² (a warm start) and keeps
//! only what the diagnostics need (coefficients, their covariance, τ², QE, I², H², R²), so the
//! memory is O(k·p²), not k copies of the data.

use nalgebra::{DMatrix, DVector};

use super::fit::Fit;
use super::heterogeneity::Heterogeneity;
use super::summary::Coefficient;
use super::{StatsError, Test};

/// The model refitted without one study.
#[derive(Debug, Clone, PartialEq)]
pub struct Deletion {
    /// Coefficients of the refit, under the fit's test.
    pub coefficients: Vec<Coefficient>,
    /// Their covariance under the fit's test (Knapp–Hartung scaled under that test).
    pub vcov: DMatrix<f64>,
    /// The Knapp–Hartung scale s² of the refit, 1 under z tests.
    pub scale: f64,
    /// τ² of the refit (0 for FE/EE).
    pub tau2: f64,
    /// QE, I², H² of the refit.
    pub heterogeneity: Heterogeneity,
    /// Pseudo-R² of the refit in percent (models with moderators and an intercept), `None`
    /// otherwise.
    pub r2: Option<f64>,
}

impl Deletion {
    /// The refit's coefficients as a vector.
    pub(crate) fn beta(&self) -> DVector<f64> {
        DVector::from_iterator(
            self.coefficients.len(),
            self.coefficients.iter().map(|c| c.estimate),
        )
    }

    /// The record of `refit`; its pseudo-R² only if `r2` holds the full fit's τ²₀ (or H²₀),
    /// which starts the refit's reduced model.
    fn of(refit: &Fit, r2: Option<f64>) -> Result<Self, StatsError> {
        Ok(Self {
            coefficients: refit.coefficients.clone(),
            vcov: refit.vcov.clone(),
            scale: refit.knha_scale.unwrap_or(1.0),
            tau2: refit.tau2_or_zero(),
            heterogeneity: refit.heterogeneity.clone(),
            r2: match r2 {
                Some(warm) => refit.pseudo_r2_from(Some(warm))?.map(|r| r.r2),
                None => None,
            },
        })
    }
}

/// The model refitted without each study: entry i leaves out study i, or says why that refit
/// failed (the only study of a factor level makes the design rank deficient; too few studies).
#[derive(Debug, Clone, PartialEq)]
pub struct Deletions {
    /// One refit per study, in study order.
    pub refits: Vec<Result<Deletion, StatsError>>,
}

impl Deletions {
    /// Refits `fit` without each of its studies, with each refit's pseudo-R² (what
    /// leave-one-out reports for a meta-regression: one more fit per study).
    ///
    /// # Errors
    /// What fitting the full data's intercept-only model gives (non-convergence).
    pub fn new(fit: &Fit) -> Result<Self, StatsError> {
        let reduced = fit.pseudo_r2()?.map(|r| r.reduced);
        Ok(Self::refit_each(fit, reduced))
    }

    /// Refits `fit` without each of its studies, without the pseudo-R² (`r2` is `None`): all
    /// that the influence diagnostics and the Baujat plot read.
    pub fn without_r2(fit: &Fit) -> Self {
        Self::refit_each(fit, None)
    }

    fn refit_each(fit: &Fit, reduced: Option<f64>) -> Self {
        let mut run = DeletionRun::with_reduced(fit, reduced);
        run.step(fit, fit.k);
        run.finish()
    }
}

/// The refits of [`Deletions::new`] done a few at a time, so that a caller can report progress
/// between them and stop (the page's worker, at k = 3,000, spends over a second on them).
#[derive(Debug, Clone)]
pub struct DeletionRun {
    /// The full fit's intercept-only τ²₀ (or H²₀) that starts each refit's pseudo-R².
    reduced: Option<f64>,
    /// Rows of the next refit's studies: all but study `refits.len()`.
    rows: Vec<usize>,
    refits: Vec<Result<Deletion, StatsError>>,
}

impl DeletionRun {
    /// The refits of `fit` to come, each with its pseudo-R² as [`Deletions::new`] gives it.
    ///
    /// # Errors
    /// What fitting the full data's intercept-only model gives (non-convergence).
    pub fn new(fit: &Fit) -> Result<Self, StatsError> {
        let reduced = fit.pseudo_r2()?.map(|r| r.reduced);
        Ok(Self::with_reduced(fit, reduced))
    }

    fn with_reduced(fit: &Fit, reduced: Option<f64>) -> Self {
        Self {
            reduced,
            rows: (1..fit.k).collect(),
            refits: Vec::with_capacity(fit.k),
        }
    }

    /// Refits up to `n` more of the studies of `fit` (the fit the run was made for).
    pub fn step(&mut self, fit: &Fit, n: usize) {
        let end = (self.refits.len() + n).min(fit.k);
        for i in self.refits.len()..end {
            // rows = 0..k without i: after leaving out i - 1, put it back and drop i.
            if i > 0 {
                self.rows[i - 1] = i - 1;
            }
            let refit = refit_rows(fit, &self.rows).and_then(|r| Deletion::of(&r, self.reduced));
            self.refits.push(refit);
        }
    }

    /// Refits done so far.
    pub fn done(&self) -> usize {
        self.refits.len()
    }

    /// The refits, once [`DeletionRun::step`] has done every study's; the run is left with
    /// none.
    pub fn finish(&mut self) -> Deletions {
        Deletions {
            refits: std::mem::take(&mut self.refits),
        }
    }
}

/// `fit` refitted to the studies `rows`, warm-started at its τ². A single study is fitted as
/// metafor fits one (`rma` with k = 1): the fixed-effect model with a z test, since neither τ²
/// nor the Knapp–Hartung scale can be estimated from one effect.
pub(crate) fn refit_rows(fit: &Fit, rows: &[usize]) -> Result<Fit, StatsError> {
    if rows.len() == 1 && (!fit.spec.method.is_fixed() || fit.spec.test != Test::Z) {
        let single = fit.single_study_spec();
        return fit.refit_with(rows, &single);
    }
    fit.refit(rows)
}
