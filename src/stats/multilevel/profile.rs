//! Profile-likelihood confidence intervals of the σ² components (metafor's `confint()` of an
//! `rma.mv` fit): the bounds are where the (restricted) log-likelihood, maximised over the
//! other variance parameters with σ²ⱼ held fixed, falls χ²₁(level)/2 below its maximum; a
//! bound at 0 when even σ²ⱼ = 0 is within that distance. Each profile point is a fit by the
//! shared optimiser, warm-started from the previous one; the bounds are found by the shared
//! bracketing and Brent's method.

use nalgebra::{DMatrix, DVector};
use statrs::distribution::ContinuousCDF;

use super::MvFit;
use crate::stats::objective::{Evaluated, LogLikelihood, Objective, Point};
use crate::stats::optimise::{maximise, Failure};
use crate::stats::roots::{bracket_upward, brent_root, Bracket, SearchFailure};
use crate::stats::spec::check_level;
use crate::stats::summary::chi_squared;
use crate::stats::variance::{Parameter, VarianceModel};
use crate::stats::{Interval, StatsError};

/// An objective with one parameter held at a value: the others are free.
struct Held<'o, O> {
    inner: &'o mut O,
    index: usize,
    value: f64,
    parameters: Vec<Parameter>,
    scales: Vec<f64>,
}

impl<O: Objective> Held<'_, O> {
    fn full(&self, free: &[f64]) -> Vec<f64> {
        let mut t = free.to_vec();
        t.insert(self.index, self.value);
        t
    }
}

impl<O: Objective> Objective for Held<'_, O> {
    fn parameters(&self) -> &[Parameter] {
        &self.parameters
    }

    fn scales(&self) -> &[f64] {
        &self.scales
    }

    fn evaluate(&mut self, theta: &[f64]) -> Result<Point, StatsError> {
        let full = self.full(theta);
        let point = self.inner.evaluate(&full)?;
        let n = theta.len();
        let keep: Vec<usize> = (0..=n).filter(|&j| j != self.index).collect();
        Ok(Point {
            value: point.value,
            score: DVector::from_iterator(n, keep.iter().map(|&j| point.score[j])),
            information: DMatrix::from_fn(n, n, |a, b| point.information[(keep[a], keep[b])]),
        })
    }
}

impl MvFit {
    /// Profile-likelihood intervals of each σ² at `level`, in the order of [`MvFit::sigma2`].
    ///
    /// # Errors
    /// [`StatsError::InvalidLevel`], and what a profile fit can give (non-convergence).
    pub fn confint_sigma2(&self, level: f64) -> Result<Vec<Interval>, StatsError> {
        check_level(level)?;
        let target = chi_squared(1.0).inverse_cdf(level) / 2.0;
        let control = self.spec.control;
        let mut objective = LogLikelihood::new(
            self.state.model.clone(),
            &self.state.data,
            self.state.likelihood,
            Evaluated::default(),
        );
        let best = self.fit_statistics.loglik;
        let mut out = Vec::with_capacity(self.sigma2.len());
        for (j, s) in self.sigma2.iter().enumerate() {
            let parameters: Vec<Parameter> = objective
                .model
                .parameters()
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != j)
                .map(|(_, p)| p.clone())
                .collect();
            let scales: Vec<f64> = objective
                .model
                .scales()
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != j)
                .map(|(_, s)| *s)
                .collect();
            let scale = objective.model.scales()[j];
            let mut warm: Vec<f64> = self
                .state
                .theta
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != j)
                .map(|(_, t)| *t)
                .collect();
            // f(x) = ℓ_p(x) − (ℓ̂ − χ²/2): positive inside the interval.
            let mut f = |x: f64| -> Result<f64, StatsError> {
                let mut held = Held {
                    inner: &mut objective,
                    index: j,
                    value: x,
                    parameters: parameters.clone(),
                    scales: scales.clone(),
                };
                let optimum = maximise(&mut held, &warm, &control).map_err(|e| match e {
                    Failure::Objective(e) => e,
                    Failure::NoConvergence { iterations, last } => {
                        StatsError::MultilevelNoConvergence {
                            iterations,
                            last: parameters
                                .iter()
                                .map(|p| p.name.clone())
                                .zip(last)
                                .collect(),
                        }
                    }
                })?;
                warm.clone_from(&optimum.theta);
                Ok(optimum.point.value - (best - target))
            };
            let estimate = s.estimate;
            let failed = |e: SearchFailure<StatsError>| match e {
                SearchFailure::Failed(e) => e,
                SearchFailure::Exhausted { evaluations, last } => {
                    StatsError::MultilevelNoConvergence {
                        iterations: evaluations,
                        last: vec![(format!("sigma2.{} bound", j + 1), last)],
                    }
                }
            };
            let at_estimate = target;
            let (bracket, used) =
                bracket_upward(&mut f, estimate, at_estimate, scale.max(estimate), &control)
                    .map_err(failed)?;
            let upper = brent_root(&mut f, bracket, scale, &control, used)
                .map_err(failed)?
                .x;
            let lower = if estimate == 0.0 {
                0.0
            } else {
                let at_zero = f(0.0)?;
                if at_zero >= 0.0 {
                    0.0
                } else {
                    let bracket = Bracket {
                        lo: 0.0,
                        hi: estimate,
                        f_lo: at_zero,
                        f_hi: at_estimate,
                    };
                    brent_root(&mut f, bracket, scale, &control, 0)
                        .map_err(failed)?
                        .x
                }
            };
            out.push(Interval {
                estimate,
                lower,
                upper,
            });
        }
        Ok(out)
    }
}
