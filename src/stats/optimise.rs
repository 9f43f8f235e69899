//! The one safeguarded optimiser of every iterative estimator (ML, REML, EB), for any number of
//! variance parameters within their bounds.
//!
//! Each iteration takes the scoring step I⁻¹·s (Fisher scoring for the likelihoods, Newton for
//! EB's root) over the parameters not held at a bound, and accepts it only if it does not lower
//! the objective, halving it until it does (backtracking; see [`line_search`] for the bounds).
//! It stops when the step would move every parameter by at most tol·(|θⱼ| + sⱼ), sⱼ the
//! parameter's typical size (Control::tol), so the stopping rule is the same in any units. A
//! single parameter that has not converged after [`FALLBACK_AFTER`] iterations, or whose
//! objective is too flat for backtracking to rank points, is found instead by bracketing the
//! root of the score and Brent's method. Finally the boundary is decided by comparison: if the
//! objective with every variance at 0 is at least the interior optimum's, the optimum is the
//! boundary.

use nalgebra::{DMatrix, DVector};

use super::objective::{Objective, Point};
use super::roots::{bracket_downward, bracket_upward, brent_root, tolerance, Root, SearchFailure};
use super::spec::Control;
use super::variance::ParameterKind;
use super::StatsError;

/// Halvings of a step before the optimiser concludes that no ascent is left at the
/// tolerance's scale.
const MAX_HALVINGS: usize = 60;

/// Scoring iterations of a one-parameter objective before the bracketing fallback takes over:
/// well-behaved data converge in under 10; scoring crawls (linearly, at a rate near 1) where
/// the expected information is far from the curvature, as with a few very precise studies.
pub(crate) const FALLBACK_AFTER: usize = 20;

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
        // Converged: the step to the maximiser the scoring step predicts is within the
        // tolerance, so θ is as good as θ + step.
        let target: Vec<f64> = theta.iter().zip(step.iter()).map(|(t, s)| t + s).collect();
        if within_tolerance(&project(&target, &kinds), &theta, &scales, control) {
            break;
        }
        match line_search(objective, &theta, &point, &step, &kinds, &scales, control)? {
            Some((next, next_point)) => {
                theta = next;
                point = next_point;
            }
            // No point along the step raises the objective although the step is not small:
            // the objective's value is too flat to rank the points (its rounding, as in a
            // log-determinant of near-collinear moderators, exceeds the differences). The score
            // still tells the way: for one parameter, find its root.
            None if kinds.len() == 1 => {
                let optimum =
                    fallback(objective, theta[0], &point, scales[0], control, iterations)?;
                return boundary(objective, optimum, &kinds);
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

/// Backtracking along `step`: the first of θ + t·step, t = 1, ½, ¼, … that does not lower
/// the objective (a trial where the covariance is not positive definite counts as lower).
/// A trial that would
/// leave the bounds is replaced by the better of two points: its projection onto the bounds,
/// and the step halved until it stays inside (metafor's step halving). Projecting alone can
/// jump over an interior maximum to the boundary when the likelihood dips between them
/// (bimodal likelihoods occur with a few very precise studies); halving alone creeps to a
/// maximum on the boundary in dozens of steps. `None` when even a move below the tolerance
/// does not raise the objective.
fn line_search(
    objective: &mut impl Objective,
    theta: &[f64],
    point: &Point,
    step: &DVector<f64>,
    kinds: &[ParameterKind],
    scales: &[f64],
    control: &Control,
) -> Result<Option<(Vec<f64>, Point)>, Failure> {
    let along = |t: f64| -> Vec<f64> {
        theta
            .iter()
            .zip(step.iter())
            .map(|(th, s)| th + t * s)
            .collect()
    };
    let mut t = 1.0;
    for _ in 0..MAX_HALVINGS {
        let raw = along(t);
        let mut candidates = vec![project(&raw, kinds)];
        if candidates[0] != raw {
            let mut t_in = t;
            while t_in > 0.0 && !strictly_inside(&along(t_in), theta, kinds) {
                t_in *= 0.5;
            }
            candidates.push(along(t_in));
            t = t_in;
        }
        let mut best: Option<(Vec<f64>, Point)> = None;
        let mut infeasible = false;
        // Whether the best trial is also the one evaluated last, so the objective's current
        // evaluation already is at it.
        let mut best_is_last = false;
        for trial in candidates {
            if trial.as_slice() == theta {
                continue;
            }
            // A trial where the covariance is not positive definite (correlations that no
            // covariance matrix has) is outside the model: backtrack from it, as from a worse
            // point.
            let next = match objective.evaluate(&trial) {
                Ok(next) => next,
                Err(StatsError::NumericallySingular { .. }) => {
                    infeasible = true;
                    best_is_last = false;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            best_is_last = best.as_ref().is_none_or(|(_, b)| next.value > b.value);
            if best_is_last {
                best = Some((trial, next));
            }
        }
        let Some((trial, next)) = best else {
            if infeasible {
                t *= 0.5;
                continue;
            }
            return Ok(None);
        };
        let noise = VALUE_NOISE_ULPS * f64::EPSILON * (point.value.abs() + next.value.abs());
        if next.value >= point.value - noise {
            // Leave the accepted point as the objective's current evaluation (evaluating is
            // deterministic, so the repeat gives the same point).
            if best_is_last {
                return Ok(Some((trial, next)));
            }
            let next = objective.evaluate(&trial)?;
            return Ok(Some((trial, next)));
        }
        if within_tolerance(&trial, theta, scales, control) {
            return Ok(None);
        }
        t *= 0.5;
    }
    Ok(None)
}

/// Whether every parameter of `trial` is within the tolerance of `from`.
fn within_tolerance(trial: &[f64], from: &[f64], scales: &[f64], control: &Control) -> bool {
    trial
        .iter()
        .zip(from)
        .zip(scales)
        .all(|((a, b), s)| (a - b).abs() <= tolerance(control, *b, *s))
}

/// Whether every parameter that moves from `from` stays strictly inside its bounds.
fn strictly_inside(trial: &[f64], from: &[f64], kinds: &[ParameterKind]) -> bool {
    trial.iter().zip(from).zip(kinds).all(|((t, f), k)| {
        let (lo, hi) = k.bounds();
        t == f || (*t > lo && *t < hi)
    })
}

/// The one-parameter fallback: the root of the score in a bracket, by Brent's method. The
/// bracket runs from the current θ up while the score is positive, or down towards the lower
/// bound while it is negative; a score still negative at the bound puts the optimum there.
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
        bracket_downward(&mut score, theta, g, lower, scale, control).and_then(|(found, n)| {
            match found {
                Some(bracket) => brent_root(&mut score, bracket, scale, control, used + n),
                None => Ok(Root {
                    x: lower,
                    evaluations: used + n,
                }),
            }
        })
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
