//! The one safeguarded optimiser of every iterative estimator (ML, REML, EB), for any number of
//! variance parameters within their bounds.
//!
//! Each iteration takes the scoring step I⁻¹·s (Fisher scoring for the likelihoods, Newton for
//! EB's root) over the parameters not held at a bound, and accepts it only if it does not lower
//! the objective, halving it until it does (backtracking; a step projected onto the bounds
//! counts as halved there). It stops when every parameter moves by at most
//! tol·(|θⱼ| + sⱼ), sⱼ the parameter's typical size (Control::tol), so the stopping rule is the
//! same in any units. A single parameter that has not converged after
//! [`FALLBACK_AFTER`] iterations is found instead by bracketing the root of the score and
//! Brent's method. Finally the boundary is decided by comparison: if the objective with every
//! variance at 0 is at least the interior optimum's, the optimum is the boundary.

use nalgebra::{DMatrix, DVector};

use super::objective::{Objective, Point};
use super::roots::{bracket_upward, brent_root, tolerance, Bracket, Root, SearchFailure};
use super::spec::Control;
use super::variance::ParameterKind;
use super::StatsError;

/// Halvings of a step before the optimiser concludes that no ascent is left at the
/// tolerance's scale.
const MAX_HALVINGS: usize = 60;

/// Scoring iterations of a one-parameter objective before the bracketing fallback takes over:
/// well-behaved data converge in under 20.
pub(crate) const FALLBACK_AFTER: usize = 50;

/// A change of the objective this many units in the last place of its value is rounding: a
/// step that changes it less is accepted on the strength of its direction.
const VALUE_NOISE_ULPS: f64 = 1e3;

/// The maximiser found.
#[derive(Debug, Clone)]
pub(crate) struct Optimum {
    /// θ̂.
    pub theta: Vec<f64>,
    /// The objective and its derivatives at θ̂.
    pub point: Point,
    /// Iterations (scoring steps, or evaluations of the fallback) used.
    pub iterations: usize,
}

/// Why the optimiser gave up.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    /// An evaluation of the objective failed.
    Objective(StatsError),
    /// `Control::max_iter` iterations did not converge; `last` is where they got to.
    NoConvergence {
        /// Iterations used.
        iterations: usize,
        /// The last θ.
        last: Vec<f64>,
    },
}

impl From<StatsError> for Failure {
    fn from(e: StatsError) -> Self {
        Self::Objective(e)
    }
}

/// Maximises `objective` from `start` (moved inside the bounds).
pub(crate) fn maximise(
    objective: &mut impl Objective,
    start: &[f64],
    control: &Control,
) -> Result<Optimum, Failure> {
    let kinds: Vec<ParameterKind> = objective.parameters().iter().map(|p| p.kind).collect();
    let scales = objective.scales().to_vec();
    let mut theta = project(start, &kinds);
    let mut point = objective.evaluate(&theta)?;
    let mut iterations = 0;
    loop {
        if kinds.len() == 1 && iterations >= FALLBACK_AFTER {
            let optimum = fallback(objective, theta[0], &point, scales[0], control, iterations)?;
            return boundary(objective, optimum, &kinds);
        }
        if iterations >= control.max_iter {
            return Err(Failure::NoConvergence {
                iterations,
                last: theta,
            });
        }
        iterations += 1;
        let Some(step) = scoring_step(&point, &theta, &kinds) else {
            break;
        };
        match line_search(objective, &theta, &point, &step, &kinds, &scales, control)? {
            Some((next, next_point, converged)) => {
                theta = next;
                point = next_point;
                if converged {
                    break;
                }
            }
            None => break,
        }
    }
    boundary(
        objective,
        Optimum {
            theta,
            point,
            iterations,
        },
        &kinds,
    )
}

/// θ clamped into the bounds of each parameter.
fn project(theta: &[f64], kinds: &[ParameterKind]) -> Vec<f64> {
    theta
        .iter()
        .zip(kinds)
        .map(|(t, k)| {
            let (lo, hi) = k.bounds();
            t.clamp(lo, hi)
        })
        .collect()
}

/// The scoring step over the parameters that are free: those not at a bound that the score
/// pushes against. `None` when none is free (a corner satisfying the optimality conditions)
/// or the step is zero.
fn scoring_step(point: &Point, theta: &[f64], kinds: &[ParameterKind]) -> Option<DVector<f64>> {
    let n = theta.len();
    let free: Vec<usize> = (0..n)
        .filter(|&j| {
            let (lo, hi) = kinds[j].bounds();
            let s = point.score[j];
            !((theta[j] <= lo && s <= 0.0) || (theta[j] >= hi && s >= 0.0))
        })
        .collect();
    if free.is_empty() {
        return None;
    }
    let m = free.len();
    let info = DMatrix::from_fn(m, m, |a, b| point.information[(free[a], free[b])]);
    let score = DVector::from_iterator(m, free.iter().map(|&j| point.score[j]));
    // The information is positive definite for a model whose parameters are identified; where
    // it is not (numerically), a step along the score scaled by the diagonal still ascends.
    let step = info
        .clone()
        .cholesky()
        .map(|c| c.solve(&score))
        .filter(|s| s.iter().all(|x| x.is_finite()))
        .unwrap_or_else(|| {
            DVector::from_iterator(
                m,
                (0..m).map(|a| {
                    let d = info[(a, a)];
                    if d > 0.0 && d.is_finite() {
                        score[a] / d
                    } else {
                        0.0
                    }
                }),
            )
        });
    let mut full = DVector::zeros(n);
    for (a, &j) in free.iter().enumerate() {
        full[j] = step[a];
    }
    (full.iter().any(|s| *s != 0.0)).then_some(full)
}

/// Backtracking along `step`: the first of θ + t·step, t = 1, ½, ¼, … (projected onto the
/// bounds) that does not lower the objective, with whether its move meets the convergence
/// criterion. `None` when even a move below the tolerance does not raise it: θ is the
/// maximum to within the tolerance.
fn line_search(
    objective: &mut impl Objective,
    theta: &[f64],
    point: &Point,
    step: &DVector<f64>,
    kinds: &[ParameterKind],
    scales: &[f64],
    control: &Control,
) -> Result<Option<(Vec<f64>, Point, bool)>, Failure> {
    let mut t = 1.0;
    for _ in 0..MAX_HALVINGS {
        let trial: Vec<f64> = theta
            .iter()
            .zip(step.iter())
            .map(|(th, s)| th + t * s)
            .collect();
        let trial = project(&trial, kinds);
        let small = trial
            .iter()
            .zip(theta)
            .zip(scales)
            .all(|((a, b), s)| (a - b).abs() <= tolerance(control, *b, *s));
        if trial.as_slice() == theta {
            return Ok(None);
        }
        let next = objective.evaluate(&trial)?;
        let noise = VALUE_NOISE_ULPS * f64::EPSILON * (point.value.abs() + next.value.abs());
        if next.value >= point.value - noise {
            return Ok(Some((trial, next, small)));
        }
        if small {
            return Ok(None);
        }
        t *= 0.5;
    }
    Ok(None)
}

/// The one-parameter fallback: the root of the score in a bracket, by Brent's method. The
/// bracket runs from the current θ up (score positive) until the score turns negative, or
/// from the lower bound to θ (score negative); a score still negative at the bound puts the
/// optimum there.
fn fallback(
    objective: &mut impl Objective,
    theta: f64,
    point: &Point,
    scale: f64,
    control: &Control,
    used: usize,
) -> Result<Optimum, Failure> {
    let lower = objective.parameters()[0].kind.bounds().0;
    if !lower.is_finite() {
        // Only variances and correlations have a bound to bracket from.
        return Err(Failure::NoConvergence {
            iterations: used,
            last: vec![theta],
        });
    }
    let mut score = |x: f64| objective.evaluate(&[x]).map(|p| p.score[0]);
    let g = point.score[0];
    let searched = if g > 0.0 {
        bracket_upward(&mut score, theta, g, scale, control)
            .and_then(|(bracket, n)| brent_root(&mut score, bracket, scale, control, used + n))
    } else {
        match score(lower) {
            Ok(g0) if g0 <= 0.0 => Ok(Root {
                x: lower,
                evaluations: used + 1,
            }),
            Ok(g0) => {
                let bracket = Bracket {
                    lo: lower,
                    hi: theta,
                    f_lo: g0,
                    f_hi: g,
                };
                brent_root(&mut score, bracket, scale, control, used + 1)
            }
            Err(e) => Err(SearchFailure::Failed(e)),
        }
    };
    match searched {
        Ok(root) => {
            let point = objective.evaluate(&[root.x])?;
            Ok(Optimum {
                theta: vec![root.x],
                point,
                iterations: root.evaluations.min(control.max_iter),
            })
        }
        Err(SearchFailure::Failed(e)) => Err(Failure::Objective(e)),
        Err(SearchFailure::Exhausted { evaluations, last }) => Err(Failure::NoConvergence {
            iterations: evaluations,
            last: vec![last],
        }),
    }
}

/// The optimum, or the point with every variance parameter at 0 if the objective is at least
/// as high there.
fn boundary(
    objective: &mut impl Objective,
    optimum: Optimum,
    kinds: &[ParameterKind],
) -> Result<Optimum, Failure> {
    let on_boundary: Vec<f64> = optimum
        .theta
        .iter()
        .zip(kinds)
        .map(|(t, k)| {
            if *k == ParameterKind::Variance {
                0.0
            } else {
                *t
            }
        })
        .collect();
    if on_boundary == optimum.theta {
        return Ok(optimum);
    }
    let point = objective.evaluate(&on_boundary)?;
    Ok(if point.value >= optimum.point.value {
        Optimum {
            theta: on_boundary,
            point,
            iterations: optimum.iterations,
        }
    } else {
        optimum
    })
}
