//! Profile-likelihood confidence intervals of the variance components (metafor's `confint()`
//! of an `rma.mv` fit: each σ², and the τ² and ρ of a structured term). A bound is where the
//! (restricted) log-likelihood, maximised over the other variance parameters with one held
//! fixed, falls χ²₁(level)/2 below its maximum, or the parameter's own bound (0 for a
//! variance, ±1 for a correlation) when the profile stays within that distance up to it. Each
//! profile point is a fit by the shared optimiser, warm-started from the previous one; the
//! bounds are found by the shared bracketing and Brent's method. The profile plot's profiles
//! of every σ² are one [`Sigma2ProfileRun`] ([`run`]), a few profile fits at a time.

use nalgebra::{DMatrix, DVector};
use statrs::distribution::ContinuousCDF;

pub use run::{Sigma2Profile, Sigma2ProfileRun};

use super::model::BlockModel;
use super::MvFit;
use crate::stats::objective::{Evaluated, LogLikelihood, Objective, Point};
use crate::stats::optimise::{maximise, Failure};
use crate::stats::replay::Halt;
use crate::stats::roots::{bracket_upward, brent_root, Bracket, SearchFailure};
use crate::stats::spec::{check_level, Control};
use crate::stats::summary::chi_squared;
use crate::stats::variance::{Parameter, ParameterKind, VarianceModel};
use crate::stats::{Interval, StatsError};

mod run;

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

/// Profile-likelihood intervals of the `~ inner | outer` term's parameters (metafor's
/// `confint()` of a structured `rma.mv` fit), in the order of [`super::StructEstimate`]'s.
#[derive(Debug, Clone, PartialEq)]
pub struct StructIntervals {
    /// One interval per τ² (one for CS).
    pub tau2: Vec<Interval>,
    /// One interval per ρ (none for DIAG).
    pub rho: Vec<Interval>,
}

impl MvFit {
    /// Profile-likelihood intervals of each σ² at `level`, in the order of [`MvFit::sigma2`].
    ///
    /// # Errors
    /// [`StatsError::InvalidLevel`], and what a profile fit can give (non-convergence).
    pub fn confint_sigma2(&self, level: f64) -> Result<Vec<Interval>, StatsError> {
        check_level(level)?;
        self.sigma2
            .iter()
            .enumerate()
            .map(|(j, s)| self.profile_interval(j, s.estimate, level))
            .collect()
    }

    /// Profile-likelihood intervals of the structured term's τ² and ρ at `level`; `None` for
    /// a model without such a term. A ρ whose profile stays within the cut-off up to ±1 has
    /// that bound, as a σ² or τ² whose profile does down to 0 has the bound 0.
    ///
    /// # Errors
    /// [`StatsError::InvalidLevel`], and what a profile fit can give (non-convergence).
    pub fn confint_structure(&self, level: f64) -> Result<Option<StructIntervals>, StatsError> {
        check_level(level)?;
        let Some(s) = &self.structure else {
            return Ok(None);
        };
        let first = self.sigma2.len();
        let interval =
            |offset: usize, estimate: f64| self.profile_interval(first + offset, estimate, level);
        let tau2 = s
            .tau2
            .iter()
            .enumerate()
            .map(|(j, &t)| interval(j, t))
            .collect::<Result<_, _>>()?;
        let rho = s
            .rho
            .iter()
            .enumerate()
            .map(|(j, &r)| interval(s.tau2.len() + j, r))
            .collect::<Result<_, _>>()?;
        Ok(Some(StructIntervals { tau2, rho }))
    }

    /// The profile (restricted) log-likelihood of σ²ⱼ (in the order of [`MvFit::sigma2`]) at
    /// each value of `grid`, the other variance parameters re-estimated at each (metafor's
    /// `profile()` of an `rma.mv` fit), for a profile plot.
    ///
    /// # Errors
    /// [`StatsError::InvalidProfileGrid`] for `j` out of range or a negative or non-finite
    /// value, and what a profile fit can give (non-convergence).
    pub fn profile_sigma2(
        &self,
        j: usize,
        grid: &[f64],
    ) -> Result<Vec<ComponentProfilePoint>, StatsError> {
        self.check_profile_grid(j, grid)?;
        let mut profiler = self.profiler(j);
        grid.iter()
            .map(|&value| {
                Ok(ComponentProfilePoint {
                    value,
                    log_likelihood: profiler.at(value)?,
                })
            })
            .collect()
    }

    /// That `j` is a σ² of the model and `grid` values it can take.
    ///
    /// # Errors
    /// [`StatsError::InvalidProfileGrid`].
    fn check_profile_grid(&self, j: usize, grid: &[f64]) -> Result<(), StatsError> {
        if j >= self.sigma2.len() || grid.iter().any(|x| !x.is_finite() || *x < 0.0) {
            return Err(StatsError::InvalidProfileGrid {
                component: j + 1,
                components: self.sigma2.len(),
            });
        }
        Ok(())
    }

    /// The profile of variance parameter `j` (its index in the model's parameters), warm
    /// started at the fit.
    fn profiler(&self, j: usize) -> Profiler<'_> {
        let objective = LogLikelihood::new(
            self.state.model.clone(),
            &self.state.data,
            self.state.likelihood,
            Evaluated::default(),
        );
        let others = |i: &usize| *i != j;
        let all = objective.model.parameters();
        let parameters: Vec<Parameter> = (0..all.len())
            .filter(others)
            .map(|i| all[i].clone())
            .collect();
        let all_scales = objective.model.scales();
        let scales: Vec<f64> = (0..all_scales.len())
            .filter(others)
            .map(|i| all_scales[i])
            .collect();
        let warm: Vec<f64> = (0..self.state.theta.len())
            .filter(others)
            .map(|i| self.state.theta[i])
            .collect();
        Profiler {
            objective,
            index: j,
            parameters,
            scales,
            warm,
            control: self.spec.control,
        }
    }

    /// The (restricted) log-likelihood the profile-likelihood bounds at `level` lie on: the
    /// maximum less χ²₁(level)/2.
    ///
    /// # Errors
    /// [`StatsError::InvalidLevel`].
    pub fn profile_threshold(&self, level: f64) -> Result<f64, StatsError> {
        check_level(level)?;
        Ok(self.fit_statistics.loglik - chi_squared(1.0).inverse_cdf(level) / 2.0)
    }

    /// The profile-likelihood interval at `level` of variance parameter `j` (its index in the
    /// model's parameters), whose estimate is `estimate`: where the log-likelihood maximised
    /// over the other parameters crosses its maximum less χ²₁(level)/2, or the parameter's
    /// bound where it does not cross before it.
    fn profile_interval(
        &self,
        j: usize,
        estimate: f64,
        level: f64,
    ) -> Result<Interval, StatsError> {
        let threshold = self.profile_threshold(level)?;
        let mut profiler = self.profiler(j);
        self.search_interval(j, estimate, threshold, &mut |x| Ok(profiler.at(x)?))
            .map_err(Halt::into_error)
    }

    /// The search of [`MvFit::profile_interval`] through `profile` (the profile of parameter
    /// `j`, which may pause the search, see [`Replay`](crate::stats::replay::Replay)), with
    /// the bounds on `threshold`.
    fn search_interval(
        &self,
        j: usize,
        estimate: f64,
        threshold: f64,
        profile: &mut impl FnMut(f64) -> Result<f64, Halt<StatsError>>,
    ) -> Result<Interval, Halt<StatsError>> {
        let control = self.spec.control;
        let parameter = &self.state.model.parameters()[j];
        let kind = parameter.kind;
        let (lowest, highest) = kind.bounds();
        let is_correlation = kind == ParameterKind::Correlation;
        let name = parameter.name.clone();
        let scale = self.state.model.scales()[j];
        // f(x) = ℓ_p(x) − (ℓ̂ − χ²/2): positive inside the interval.
        let mut f = |x: f64| profile(x).map(|l| l - threshold);
        let failed = |e: SearchFailure<Halt<StatsError>>| match e {
            SearchFailure::Failed(e) => e,
            SearchFailure::Exhausted { evaluations, last } => {
                Halt::Failed(StatsError::MultilevelNoConvergence {
                    iterations: evaluations,
                    last: vec![(format!("{name} bound"), last)],
                })
            }
        };
        // f at the estimate: the profile's maximum less the threshold, χ²₁(level)/2.
        let at_estimate = self.fit_statistics.loglik - threshold;
        let (lower, upper) = if is_correlation {
            (
                correlation_bound(&mut f, estimate, at_estimate, lowest, &control)
                    .map_err(failed)?,
                correlation_bound(&mut f, estimate, at_estimate, highest, &control)
                    .map_err(failed)?,
            )
        } else {
            let (bracket, used) =
                bracket_upward(&mut f, estimate, at_estimate, scale.max(estimate), &control)
                    .map_err(failed)?;
            let upper = brent_root(&mut f, bracket, scale, &control, used)
                .map_err(failed)?
                .x;
            let lower = if estimate <= lowest {
                lowest
            } else {
                let at_bound = f(lowest)?;
                if at_bound >= 0.0 {
                    lowest
                } else {
                    let bracket = Bracket {
                        lo: lowest,
                        hi: estimate,
                        f_lo: at_bound,
                        f_hi: at_estimate,
                    };
                    brent_root(&mut f, bracket, scale, &control, 0)
                        .map_err(failed)?
                        .x
                }
            };
            (lower, upper)
        };
        Ok(Interval {
            estimate,
            lower,
            upper,
        })
    }
}

/// The bound of a correlation's profile interval between its `estimate` (where the profile
/// `f`, positive inside the interval, is `at_estimate`) and `bound` (±1): `bound` itself when
/// f stays non-negative up to it. Tries the midpoint and then the bound, so a profile that
/// does not cross costs two fits; where a held correlation leaves no positive definite
/// covariance (a point outside the model), the search halves the distance to that point
/// instead, since the profile falls off before it.
fn correlation_bound(
    f: &mut impl FnMut(f64) -> Result<f64, Halt<StatsError>>,
    estimate: f64,
    at_estimate: f64,
    bound: f64,
    control: &Control,
) -> Result<f64, SearchFailure<Halt<StatsError>>> {
    if estimate == bound {
        return Ok(bound);
    }
    let root =
        |f: &mut dyn FnMut(f64) -> Result<f64, Halt<StatsError>>, a: (f64, f64), b: (f64, f64)| {
            let ((lo, f_lo), (hi, f_hi)) = if a.0 < b.0 { (a, b) } else { (b, a) };
            brent_root(f, Bracket { lo, hi, f_lo, f_hi }, 1.0, control, 0).map(|r| r.x)
        };
    let mut inside = (estimate, at_estimate);
    let mut outside = bound;
    let mut trial = 0.5 * (estimate + bound);
    for _ in 0..control.max_iter {
        match f(trial) {
            Ok(v) if v < 0.0 => return root(f, inside, (trial, v)),
            Ok(v) if trial == bound => {
                debug_assert!(v >= 0.0);
                return Ok(bound);
            }
            Ok(v) => {
                inside = (trial, v);
                // The bound next, unless it is known to be outside the model.
                trial = if outside == bound {
                    bound
                } else {
                    0.5 * (inside.0 + outside)
                };
            }
            Err(Halt::Failed(StatsError::NumericallySingular { .. })) => {
                outside = trial;
                trial = 0.5 * (inside.0 + outside);
            }
            Err(e) => return Err(SearchFailure::Failed(e)),
        }
    }
    Err(SearchFailure::Exhausted {
        evaluations: control.max_iter,
        last: inside.0,
    })
}

/// One point of a variance component's profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ComponentProfilePoint {
    /// The component's value held.
    pub value: f64,
    /// The (restricted) log-likelihood maximised over the other variance parameters there.
    pub log_likelihood: f64,
}

/// The log-likelihood with one variance parameter held, maximised over the others, each
/// point warm-started from the last.
struct Profiler<'d> {
    objective: LogLikelihood<'d, BlockModel>,
    index: usize,
    parameters: Vec<Parameter>,
    scales: Vec<f64>,
    warm: Vec<f64>,
    control: Control,
}

impl Profiler<'_> {
    /// The profile log-likelihood with the parameter held at `x`.
    fn at(&mut self, x: f64) -> Result<f64, StatsError> {
        let mut held = Held {
            inner: &mut self.objective,
            index: self.index,
            value: x,
            parameters: self.parameters.clone(),
            scales: self.scales.clone(),
        };
        // A correlation held near ±1 can make the warm start impossible (no positive definite
        // covariance): start the other correlations from 0 then, and if that is not enough the
        // variances too (where the covariance is V's).
        let mut optimum = maximise(&mut held, &self.warm, &self.control);
        for also_variances in [false, true] {
            if !matches!(
                optimum,
                Err(Failure::Objective(StatsError::NumericallySingular { .. }))
            ) {
                break;
            }
            let neutral: Vec<f64> = self
                .warm
                .iter()
                .zip(&self.parameters)
                .map(|(&t, p)| match p.kind {
                    ParameterKind::Correlation => 0.0,
                    ParameterKind::Variance if also_variances => 0.0,
                    _ => t,
                })
                .collect();
            optimum = maximise(&mut held, &neutral, &self.control);
        }
        let optimum = optimum.map_err(|e| match e {
            Failure::Objective(e) => e,
            Failure::NoConvergence { iterations, last } => StatsError::MultilevelNoConvergence {
                iterations,
                last: self
                    .parameters
                    .iter()
                    .map(|p| p.name.clone())
                    .zip(last)
                    .collect(),
            },
        })?;
        self.warm.clone_from(&optimum.theta);
        Ok(optimum.point.value)
    }
}
