//! Estimators of the between-study variance τ², as metafor's `rma.uni` defines them.
//!
//! Non-iterative estimators (DL, HE, HS, SJ) are closed-form moments of residual sums of
//! squares; their standard errors follow from Var(y'Ay) = 2 tr(AΣAΣ) for normal y with
//! covariance Σ = V + τ²I. ML, REML and EB use Fisher scoring (Viechtbauer, 2005) with step
//! halving at the boundary τ² = 0; PM solves Q(τ²) = k − p by a safeguarded Newton search.
//!
//! As metafor does, the estimators work on the effects centred at their unweighted mean. With an
//! intercept (any constant in the column space of X) the residuals, and so every estimate, are
//! exactly those of the raw effects; without one this reproduces metafor's values.

use nalgebra::DMatrix;

use super::input::Inputs;
use super::wls::Wls;
use super::{StatsError, Tau2Method};

/// Fisher scoring stops when τ² changes by less than this (metafor: `threshold`).
pub(crate) const SCORING_THRESHOLD: f64 = 1e-10;
/// Root searches on the generalised Q statistic stop when τ² is known to this precision
/// (absolute below τ² = 1, relative above).
pub(crate) const ROOT_TOLERANCE: f64 = 1e-12;
/// Iteration cap of Fisher scoring and of root searches (metafor: `maxiter`, raised).
pub(crate) const MAX_ITERATIONS: usize = 1000;

/// An estimate of τ² with its standard error as metafor reports it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tau2Estimate {
    /// τ² ≥ 0.
    pub tau2: f64,
    /// Standard error, `None` for FE/EE.
    pub se: Option<f64>,
    /// Iterations used (0 for closed forms).
    pub iterations: usize,
}

/// Weights 1/(vᵢ + τ²).
pub(crate) fn weights(v: &[f64], tau2: f64) -> Vec<f64> {
    v.iter().map(|v| 1.0 / (v + tau2)).collect()
}

/// The WLS fit of the raw effects at a given τ²: the final fit behind coefficients, residuals
/// and likelihoods.
pub(crate) fn wls_at(data: &Inputs, tau2: f64) -> Result<Wls, StatsError> {
    wls_with(&data.x, &data.y, weights(&data.v, tau2), tau2)
}

/// The WLS fit of the centred effects at a given τ²: what metafor's estimators iterate on.
fn centred_at(data: &Inputs, tau2: f64) -> Result<Wls, StatsError> {
    wls_with(&data.x, &data.y_centred, weights(&data.v, tau2), tau2)
}

fn wls_with(x: &DMatrix<f64>, y: &[f64], w: Vec<f64>, tau2: f64) -> Result<Wls, StatsError> {
    Wls::new(x, y, w).ok_or(StatsError::NumericallySingular { tau2 })
}

/// Estimates τ² by `method`. The caller has checked that k > p for estimated τ².
pub(crate) fn estimate(method: Tau2Method, data: &Inputs) -> Result<Tau2Estimate, StatsError> {
    match method {
        Tau2Method::Fe | Tau2Method::Ee => Ok(Tau2Estimate {
            tau2: 0.0,
            se: None,
            iterations: 0,
        }),
        Tau2Method::Dl => dersimonian_laird(data),
        Tau2Method::He => hedges(data),
        Tau2Method::Hs => hunter_schmidt(data),
        Tau2Method::Sj => sidik_jonkman(data),
        Tau2Method::Ml | Tau2Method::Reml | Tau2Method::Eb => fisher_scoring(method, data),
        Tau2Method::Pm => paule_mandel(data),
    }
}

/// Standard deviation of a quadratic form y'Ay with y ~ N(Xβ, V + τ²I), given the three traces
/// tr(AVAV), tr(AVA) and tr(AA): Var = 2[tr(AVAV) + 2τ² tr(AVA) + τ⁴ tr(AA)].
fn quadratic_form_sd(tavav: f64, tava: f64, taa: f64, tau2: f64) -> f64 {
    (2.0 * (tavav + 2.0 * tau2 * tava + tau2 * tau2 * taa)).sqrt()
}

/// DerSimonian–Laird: τ² = max(0, (QE − (k − p)) / tr(P)), P with weights 1/vᵢ.
/// Because PVP = P for W = V⁻¹, Var(QE) = 2[(k − p) + 2τ² tr(P) + τ⁴ tr(PP)].
fn dersimonian_laird(data: &Inputs) -> Result<Tau2Estimate, StatsError> {
    let df = (data.k() - data.p()) as f64;
    let fe = centred_at(data, 0.0)?;
    let trp = fe.trace_p();
    let tau2 = ((fe.rss() - df) / trp).max(0.0);
    let se = quadratic_form_sd(df, trp, fe.trace_pp(), tau2) / trp;
    Ok(Tau2Estimate {
        tau2,
        se: Some(se),
        iterations: 0,
    })
}

/// Hunter–Schmidt: τ² = max(0, (QE − k) / Σ wᵢ), weights 1/vᵢ.
fn hunter_schmidt(data: &Inputs) -> Result<Tau2Estimate, StatsError> {
    let df = (data.k() - data.p()) as f64;
    let fe = centred_at(data, 0.0)?;
    let sw = fe.sum_w();
    let tau2 = ((fe.rss() - data.k() as f64) / sw).max(0.0);
    let se = quadratic_form_sd(df, fe.trace_p(), fe.trace_pp(), tau2) / sw;
    Ok(Tau2Estimate {
        tau2,
        se: Some(se),
        iterations: 0,
    })
}

/// Hedges: τ² = max(0, (e'e − tr((I − H)V)) / (k − p)) with ordinary least-squares residuals e.
fn hedges(data: &Inputs) -> Result<Tau2Estimate, StatsError> {
    let df = (data.k() - data.p()) as f64;
    let ols = wls_with(&data.x, &data.y_centred, vec![1.0; data.k()], 0.0)?;
    let trpv = ols.trace_pd(&data.v);
    let tau2 = ((ols.rss() - trpv) / df).max(0.0);
    // I − H is idempotent: tr(AVA) = tr(AV) and tr(AA) = k − p.
    let se = quadratic_form_sd(ols.trace_papb(&data.v, &data.v), trpv, df, tau2) / df;
    Ok(Tau2Estimate {
        tau2,
        se: Some(se),
        iterations: 0,
    })
}

/// Sidik–Jonkman: from the start τ₀² = Σ(yᵢ − ȳ)²/k, τ² = τ₀² · Q(τ₀²)/(k − p) with weights
/// 1/(vᵢ + τ₀²).
fn sidik_jonkman(data: &Inputs) -> Result<Tau2Estimate, StatsError> {
    let k = data.k() as f64;
    let df = (data.k() - data.p()) as f64;
    let tau2_0 = data.y_centred.iter().map(|y| y * y).sum::<f64>() / k;
    let fit0 = centred_at(data, tau2_0)?;
    let tau2 = tau2_0 * fit0.rss() / df;
    let ones = vec![1.0; data.k()];
    let se = tau2_0 / df
        * quadratic_form_sd(
            fit0.trace_papb(&data.v, &data.v),
            fit0.trace_papb(&data.v, &ones),
            fit0.trace_pp(),
            tau2,
        );
    Ok(Tau2Estimate {
        tau2,
        se: Some(se),
        iterations: 0,
    })
}

/// The Fisher-scoring step of ML, REML or EB at the fit `f` (Viechtbauer, 2005):
/// ML: (y'PPy − tr W)/tr W²; REML: (y'PPy − tr P)/tr PP; EB: (k/(k − p)·y'Py − k)/Σ wᵢ.
fn scoring_step(method: Tau2Method, f: &Wls, k: usize, p: usize) -> f64 {
    match method {
        Tau2Method::Ml => {
            let sw2: f64 = f.w.iter().map(|w| w * w).sum();
            (f.ypppy() - f.sum_w()) / sw2
        }
        Tau2Method::Reml => (f.ypppy() - f.trace_p()) / f.trace_pp(),
        _ => {
            let (k, p) = (k as f64, p as f64);
            (k / (k - p) * f.rss() - k) / f.sum_w()
        }
    }
}

/// ML, REML or EB by Fisher scoring from the Hedges estimate. A step that would cross 0 is
/// halved (metafor's step halving); but once the iteration moves down and the step at τ² = 0
/// itself points below 0, the optimum is on the boundary and τ² is set to exactly 0.
fn fisher_scoring(method: Tau2Method, data: &Inputs) -> Result<Tau2Estimate, StatsError> {
    let (k, p) = (data.k(), data.p());
    let mut tau2 = hedges(data)?.tau2;
    let mut iterations = 0;
    let mut zero_step = None;
    loop {
        if iterations >= MAX_ITERATIONS {
            return Err(StatsError::NoConvergence {
                method,
                iterations,
                last_tau2: tau2,
            });
        }
        iterations += 1;
        let f = centred_at(data, tau2)?;
        let mut step = scoring_step(method, &f, k, p);
        if !step.is_finite() {
            return Err(StatsError::NoConvergence {
                method,
                iterations,
                last_tau2: tau2,
            });
        }
        if step < 0.0 {
            // Moving down: if the step at τ² = 0 also points below 0, the (unimodal) objective
            // decreases from 0 on and the optimum is the boundary itself. Checking here rather
            // than waiting for the iterates to creep down saves the slow linear approach.
            let at_zero = match zero_step {
                Some(s) => s,
                None => {
                    let s = if tau2 == 0.0 {
                        step
                    } else {
                        scoring_step(method, &centred_at(data, 0.0)?, k, p)
                    };
                    zero_step = Some(s);
                    s
                }
            };
            if at_zero <= 0.0 {
                tau2 = 0.0;
                break;
            }
            while tau2 + step < 0.0 {
                step /= 2.0;
            }
        }
        tau2 += step;
        if step.abs() < SCORING_THRESHOLD {
            break;
        }
    }
    let f = centred_at(data, tau2)?;
    let se = match method {
        Tau2Method::Ml => (2.0 / f.w.iter().map(|w| w * w).sum::<f64>()).sqrt(),
        Tau2Method::Reml => (2.0 / f.trace_pp()).sqrt(),
        _ => eb_pm_se(data, &f, tau2),
    };
    Ok(Tau2Estimate {
        tau2,
        se: Some(se),
        iterations,
    })
}

/// Standard error of the EB and PM estimates: τ² solves (k/(k − p))·y'Py = k with
/// P at the estimate; by the delta method through the quadratic form y'Py with weights held
/// fixed, SE = (k/(k − p))·SD(y'Py)/Σ wᵢ.
fn eb_pm_se(data: &Inputs, f: &Wls, tau2: f64) -> f64 {
    let (k, p) = (data.k() as f64, data.p() as f64);
    let ones = vec![1.0; data.k()];
    k / (k - p)
        * quadratic_form_sd(
            f.trace_papb(&data.v, &data.v),
            f.trace_papb(&data.v, &ones),
            f.trace_pp(),
            tau2,
        )
        / f.sum_w()
}

/// Paule–Mandel: the τ² ≥ 0 at which the generalised Q statistic equals its expectation k − p.
fn paule_mandel(data: &Inputs) -> Result<Tau2Estimate, StatsError> {
    let target = (data.k() - data.p()) as f64;
    let (tau2, iterations) = generalised_q_root(data, target, Tau2Method::Pm)?;
    let f = centred_at(data, tau2)?;
    Ok(Tau2Estimate {
        tau2,
        se: Some(eb_pm_se(data, &f, tau2)),
        iterations,
    })
}

/// The τ² ≥ 0 at which Q(τ²) = Σ wᵢ(τ²)(yᵢ − xᵢ'b(τ²))² equals `target`, or 0 when Q(0) is
/// already at or below it. Q decreases in τ² with derivative −y'PPy, so a Newton step kept
/// inside a shrinking bracket converges from either side. Returns the root and the number of
/// evaluations. `method` only labels a non-convergence error.
pub(crate) fn generalised_q_root(
    data: &Inputs,
    target: f64,
    method: Tau2Method,
) -> Result<(f64, usize), StatsError> {
    let f0 = centred_at(data, 0.0)?;
    if f0.rss() <= target {
        return Ok((0.0, 1));
    }
    let mut lo = 0.0;
    let mut hi = 1.0_f64.max(f0.rss() / f0.sum_w());
    let mut evals = 1;
    loop {
        evals += 1;
        if centred_at(data, hi)?.rss() < target {
            break;
        }
        lo = hi;
        hi *= 2.0;
        if evals > MAX_ITERATIONS || !hi.is_finite() {
            return Err(StatsError::NoConvergence {
                method,
                iterations: evals,
                last_tau2: hi,
            });
        }
    }
    let mut tau2 = 0.5 * (lo + hi);
    while evals < MAX_ITERATIONS {
        evals += 1;
        let f = centred_at(data, tau2)?;
        let q = f.rss() - target;
        if q == 0.0 {
            return Ok((tau2, evals));
        }
        if q > 0.0 {
            lo = tau2;
        } else {
            hi = tau2;
        }
        let newton = tau2 + q / f.ypppy();
        let next = if newton.is_finite() && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        let tol = ROOT_TOLERANCE * tau2.max(1.0);
        let done = (next - tau2).abs() < tol || hi - lo < tol;
        tau2 = next;
        if done {
            return Ok((tau2, evals));
        }
    }
    Err(StatsError::NoConvergence {
        method,
        iterations: evals,
        last_tau2: tau2,
    })
}
