//! Estimators of the between-study variance τ² of the model M = diag(vᵢ + τ²), as metafor's
//! `rma.uni` defines them.
//!
//! Non-iterative estimators (DL, HE, HS, SJ) are closed-form moments of residual sums of
//! squares; their standard errors follow from Var(y'Ay) = 2 tr(AΣAΣ) for normal y with
//! covariance Σ = V + τ²I. ML, REML and EB maximise their objective
//! ([`super::objective`]) with the one safeguarded optimiser ([`super::optimise`]); PM is the
//! root of Q(τ²) = k − p by the shared bracketing and Brent's method ([`super::roots`]).
//!
//! As metafor does, the estimators work on the effects centred at their unweighted mean. With an
//! intercept (any constant in the column space of X) the residuals, and so every estimate, are
//! exactly those of the raw effects; without one this reproduces metafor's values.

use super::gls::{Gls, Residual};
use super::input::Inputs;
use super::intercept::{intercept_only_optimum, likelihood_of, no_convergence, weighted_q};
use super::objective::{EmpiricalBayes, Evaluated, LogLikelihood, ESTIMATION};
use super::optimise::{maximise, Optimum};
use super::roots::{bracket_upward, brent_root, SearchFailure};
use super::spec::Control;
use super::variance::{diagonal_derivatives, CommonTau2, TraceOf, VarianceModel};
use super::{StatsError, Tau2Method};

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

/// The fixed-effect fit (weights 1/vᵢ) of the centred and the raw effects, which QE, ṽ, the
/// moment estimators and the FE/EE models all read.
#[derive(Debug, Clone)]
pub(crate) struct FixedEffect {
    /// The fit at τ² = 0; the iterative estimators take it (as their objective's evaluation at
    /// the boundary), so read the scalars below after estimation.
    pub gls: Gls,
    /// QE: y'P₀y of the centred effects, 0 below the rounding level.
    pub qe: f64,
    /// Q(0) = y'P₀y of the centred ([`ESTIMATION`]) and the raw effects.
    pub q0: [f64; 2],
    /// ṽ = (k − p)/tr(P₀), the typical sampling variance (Higgins & Thompson, 2002, as metafor
    /// generalises it to meta-regression); NaN when k = p, where there are no residual df.
    pub typical_variance: f64,
}

impl FixedEffect {
    /// Fits `data` at τ² = 0.
    pub fn new(data: &Inputs) -> Result<Self, StatsError> {
        let mut gls = Gls::default();
        let model = CommonTau2::new(&data.v, 1.0, 0.0);
        if !gls.fit(&data.x, &model, &[&data.y_centred, &data.y]) {
            return Err(StatsError::NumericallySingular { tau2: 0.0 });
        }
        let df = (data.k() - data.p()) as f64;
        let typical_variance = if df > 0.0 {
            df / trace_p(&gls, model.weights())
        } else {
            f64::NAN
        };
        Ok(Self {
            qe: gls.rss_or_zero(ESTIMATION),
            q0: [gls.rss(ESTIMATION), gls.rss(super::objective::RAW)],
            gls,
            typical_variance,
        })
    }

    /// The scale of τ² for the relative convergence criterion ([`tau2_scale`]).
    fn scale(&self, data: &Inputs) -> f64 {
        tau2_scale(self.typical_variance, data)
    }
}

/// The scale of τ² for the relative convergence criterion: the typical sampling variance ṽ,
/// or the mean sampling variance where ṽ is undefined.
pub(crate) fn tau2_scale(typical_variance: f64, data: &Inputs) -> f64 {
    if typical_variance.is_finite() && typical_variance > 0.0 {
        typical_variance
    } else {
        data.v.iter().sum::<f64>() / data.k() as f64
    }
}

/// τ² by `method` and the GLS fit of both responses at it. The caller has checked that k > p
/// for estimated τ². `warm` is a start for the iterative estimators (a refit's full-data
/// estimate).
pub(crate) fn estimate(
    method: Tau2Method,
    data: &Inputs,
    fe: &mut FixedEffect,
    control: &Control,
    warm: Option<f64>,
) -> Result<(Tau2Estimate, Gls), StatsError> {
    let closed = |tau2: f64, se: f64| -> Result<(Tau2Estimate, Gls), StatsError> {
        let estimate = Tau2Estimate {
            tau2,
            se: Some(se),
            iterations: 0,
        };
        Ok((estimate, gls_at(data, tau2)?))
    };
    match method {
        Tau2Method::Fe | Tau2Method::Ee => Ok((
            Tau2Estimate {
                tau2: 0.0,
                se: None,
                iterations: 0,
            },
            std::mem::take(&mut fe.gls),
        )),
        Tau2Method::Dl => {
            let tau2 = dersimonian_laird(data, fe);
            closed(tau2, dersimonian_laird_se(data, fe, tau2))
        }
        Tau2Method::Hs => {
            let (tau2, se) = hunter_schmidt(data, fe);
            closed(tau2, se)
        }
        Tau2Method::He => {
            let (tau2, se) = hedges(data)?;
            closed(tau2, se)
        }
        Tau2Method::Sj => {
            let (tau2, se) = sidik_jonkman(data)?;
            closed(tau2, se)
        }
        Tau2Method::Ml | Tau2Method::Reml | Tau2Method::Eb => {
            iterative(method, data, fe, control, warm)
        }
        Tau2Method::Pm => paule_mandel(data, fe, control),
    }
}

/// The GLS fit of the centred and the raw effects at τ².
pub(crate) fn gls_at(data: &Inputs, tau2: f64) -> Result<Gls, StatsError> {
    refit_at(Gls::default(), data, tau2)
}

/// As [`gls_at`], in the buffers of `gls` (a fit of the same size: no new k-length vectors).
fn refit_at(mut gls: Gls, data: &Inputs, tau2: f64) -> Result<Gls, StatsError> {
    let model = CommonTau2::new(&data.v, 1.0, tau2);
    if gls.fit(&data.x, &model, &[&data.y_centred, &data.y]) {
        Ok(gls)
    } else {
        Err(StatsError::NumericallySingular { tau2 })
    }
}

/// tr(P) = Σ wᵢ(1 − hᵢ).
fn trace_p(gls: &Gls, w: &[f64]) -> f64 {
    w.iter().zip(gls.hat()).map(|(w, h)| w * (1.0 - h)).sum()
}

/// tr(P·A·P·B) for diagonal A = diag(a), B = diag(b) and P with weights w: the traces of
/// [`diagonal_derivatives`] with the whitened matrices W·A and W·B.
fn trace_papb(gls: &Gls, w: &[f64], a: &[f64], b: &[f64]) -> f64 {
    let wa: Vec<f64> = w.iter().zip(a).map(|(w, a)| w * a).collect();
    let wb: Vec<f64> = w.iter().zip(b).map(|(w, b)| w * b).collect();
    diagonal_derivatives(&[&wa, &wb], gls, ESTIMATION, TraceOf::Projection).info[(0, 1)]
}

/// Standard deviation of a quadratic form y'Ay with y ~ N(Xβ, V + τ²I), given the three traces
/// tr(AVAV), tr(AVA) and tr(AA): Var = 2[tr(AVAV) + 2τ² tr(AVA) + τ⁴ tr(AA)].
fn quadratic_form_sd(tavav: f64, tava: f64, taa: f64, tau2: f64) -> f64 {
    (2.0 * (tavav + 2.0 * tau2 * tava + tau2 * tau2 * taa)).sqrt()
}

/// DerSimonian–Laird: τ² = max(0, (QE − (k − p)) / tr(P)), P with weights 1/vᵢ.
fn dersimonian_laird(data: &Inputs, fe: &FixedEffect) -> f64 {
    let df = (data.k() - data.p()) as f64;
    let w: Vec<f64> = data.v.iter().map(|v| 1.0 / v).collect();
    ((fe.gls.rss(ESTIMATION) - df) / trace_p(&fe.gls, &w)).max(0.0)
}

/// Standard error of the DL estimate: because PVP = P for W = V⁻¹,
/// Var(QE) = 2[(k − p) + 2τ² tr(P) + τ⁴ tr(PP)], divided by tr(P)².
fn dersimonian_laird_se(data: &Inputs, fe: &FixedEffect, tau2: f64) -> f64 {
    let df = (data.k() - data.p()) as f64;
    let w: Vec<f64> = data.v.iter().map(|v| 1.0 / v).collect();
    let ones = vec![1.0; data.k()];
    let trp = trace_p(&fe.gls, &w);
    let trpp = trace_papb(&fe.gls, &w, &ones, &ones);
    quadratic_form_sd(df, trp, trpp, tau2) / trp
}

/// Hunter–Schmidt: τ² = max(0, (QE − k) / Σ wᵢ), weights 1/vᵢ.
fn hunter_schmidt(data: &Inputs, fe: &FixedEffect) -> (f64, f64) {
    let df = (data.k() - data.p()) as f64;
    let w: Vec<f64> = data.v.iter().map(|v| 1.0 / v).collect();
    let sw: f64 = w.iter().sum();
    let tau2 = ((fe.gls.rss(ESTIMATION) - data.k() as f64) / sw).max(0.0);
    let ones = vec![1.0; data.k()];
    let trp = trace_p(&fe.gls, &w);
    let trpp = trace_papb(&fe.gls, &w, &ones, &ones);
    (tau2, quadratic_form_sd(df, trp, trpp, tau2) / sw)
}

/// Hedges: τ² = max(0, (e'e − tr((I − H)V)) / (k − p)) with ordinary least-squares residuals e.
fn hedges(data: &Inputs) -> Result<(f64, f64), StatsError> {
    let df = (data.k() - data.p()) as f64;
    let ones = vec![1.0; data.k()];
    let (tau2, ols, trpv) = hedges_estimate(data)?;
    // I − H is idempotent: tr(AVA) = tr(AV) and tr(AA) = k − p.
    let tavav = trace_papb(&ols, &ones, &data.v, &data.v);
    Ok((tau2, quadratic_form_sd(tavav, trpv, df, tau2) / df))
}

/// Hedges' τ² without its standard error (the start of the iterative estimators), with the
/// least-squares fit and tr((I − H)V) that the standard error reads.
fn hedges_estimate(data: &Inputs) -> Result<(f64, Gls, f64), StatsError> {
    let df = (data.k() - data.p()) as f64;
    let mut ols = Gls::default();
    if !ols.fit(&data.x, &Unweighted, &[&data.y_centred]) {
        return Err(StatsError::NumericallySingular { tau2: 0.0 });
    }
    let trpv = trace_p(&ols, &data.v);
    let tau2 = ((ols.rss(ESTIMATION) - trpv) / df).max(0.0);
    Ok((tau2, ols, trpv))
}

/// Ordinary least squares: the identity covariance.
struct Unweighted;

impl super::gls::Whiten for Unweighted {
    fn whiten(&self, src: &[f64], dst: &mut [f64]) {
        dst.copy_from_slice(src);
    }

    fn log_det(&self) -> f64 {
        0.0
    }
}

/// Sidik–Jonkman: from the start τ₀² = Σ(yᵢ − ȳ)²/k, τ² = τ₀² · Q(τ₀²)/(k − p) with weights
/// 1/(vᵢ + τ₀²).
fn sidik_jonkman(data: &Inputs) -> Result<(f64, f64), StatsError> {
    let k = data.k() as f64;
    let df = (data.k() - data.p()) as f64;
    let tau2_0 = data.y_centred.iter().map(|y| y * y).sum::<f64>() / k;
    let fit0 = gls_at(data, tau2_0)?;
    let tau2 = tau2_0 * fit0.rss(ESTIMATION) / df;
    let se = tau2_0 / df * moment_sd(data, &fit0, tau2_0, tau2);
    Ok((tau2, se))
}

/// SD of y'Py for P with weights 1/(vᵢ + `at`) when the true τ² is `tau2`.
fn moment_sd(data: &Inputs, gls: &Gls, at: f64, tau2: f64) -> f64 {
    let w: Vec<f64> = data.v.iter().map(|v| 1.0 / (v + at)).collect();
    let ones = vec![1.0; data.k()];
    quadratic_form_sd(
        trace_papb(gls, &w, &data.v, &data.v),
        trace_papb(gls, &w, &data.v, &ones),
        trace_papb(gls, &w, &ones, &ones),
        tau2,
    )
}

/// Standard error of the EB and PM estimates: τ² solves (k/(k − p))·y'Py = k with P at the
/// estimate; by the delta method through the quadratic form y'Py with weights held fixed,
/// SE = (k/(k − p))·SD(y'Py)/Σ wᵢ.
fn eb_pm_se(data: &Inputs, gls: &Gls, tau2: f64) -> f64 {
    let (k, p) = (data.k() as f64, data.p() as f64);
    let sw: f64 = data.v.iter().map(|v| 1.0 / (v + tau2)).sum();
    k / (k - p) * moment_sd(data, gls, tau2, tau2) / sw
}

/// ML, REML or EB by the safeguarded optimiser, from `warm`, else from the DL estimate (free
/// given the fixed-effect fit), else from Hedges' estimate.
fn iterative(
    method: Tau2Method,
    data: &Inputs,
    fe: &mut FixedEffect,
    control: &Control,
    warm: Option<f64>,
) -> Result<(Tau2Estimate, Gls), StatsError> {
    let start = match warm {
        Some(t) => t,
        None => match dersimonian_laird(data, fe) {
            t if t > 0.0 => t,
            _ => hedges_estimate(data)?.0,
        },
    };
    let no_convergence = no_convergence(method);
    let kind = likelihood_of(method);
    if let Some(kind) = kind.filter(|_| data.is_intercept_only()) {
        // Without moderators every term of the likelihood is a weighted sum: the same
        // optimiser on the O(k) objective, and one GLS fit at the optimum for the record.
        let optimum = intercept_only_optimum(
            &data.y_centred,
            &data.v,
            kind,
            fe.scale(data),
            start,
            control,
        )
        .map_err(no_convergence)?;
        let tau2 = optimum.theta[0];
        let mut gls = std::mem::take(&mut fe.gls);
        if tau2 != 0.0 {
            gls = refit_at(gls, data, tau2)?;
        }
        return Ok(likelihood_estimate(&optimum, gls));
    }
    let model = CommonTau2::new(&data.v, fe.scale(data), start);
    // The fixed-effect fit is the objective's evaluation at the boundary τ² = 0.
    // Trial fits leave out the raw effects: only the optimum's fit reports them.
    let at_zero = Evaluated::seeded(vec![0.0], std::mem::take(&mut fe.gls), true);
    let (optimum, gls) = match kind {
        // EB maximises no likelihood: its estimating equation as an objective.
        None => {
            let mut objective = EmpiricalBayes::new(model, data, at_zero);
            let optimum = maximise(&mut objective, &[start], control).map_err(no_convergence)?;
            let EmpiricalBayes {
                mut model, mut at, ..
            } = objective;
            at.fit_at(&mut model, data, &optimum.theta)?;
            at.complete(&model, data)?;
            let tau2 = optimum.theta[0];
            let estimate = Tau2Estimate {
                tau2,
                se: Some(eb_pm_se(data, at.gls(), tau2)),
                iterations: optimum.iterations,
            };
            return Ok((estimate, at.into_gls()));
        }
        Some(kind) => {
            let mut objective = LogLikelihood::new(model, data, kind, at_zero);
            let optimum = maximise(&mut objective, &[start], control).map_err(no_convergence)?;
            let LogLikelihood {
                mut model, mut at, ..
            } = objective;
            at.fit_at(&mut model, data, &optimum.theta)?;
            at.complete(&model, data)?;
            (optimum, at.into_gls())
        }
    };
    Ok(likelihood_estimate(&optimum, gls))
}

/// The ML or REML estimate at `optimum` with the GLS fit `gls` there: SE = √(I⁻¹) with
/// I = ½ tr(W²) (ML) or ½ tr(PP) (REML) at the estimate.
fn likelihood_estimate(optimum: &Optimum, gls: Gls) -> (Tau2Estimate, Gls) {
    (
        Tau2Estimate {
            tau2: optimum.theta[0],
            se: Some((1.0 / optimum.point.information[(0, 0)]).sqrt()),
            iterations: optimum.iterations,
        },
        gls,
    )
}
/// Paule–Mandel: the τ² ≥ 0 at which the generalised Q statistic equals its expectation k − p.
fn paule_mandel(
    data: &Inputs,
    fe: &FixedEffect,
    control: &Control,
) -> Result<(Tau2Estimate, Gls), StatsError> {
    let target = (data.k() - data.p()) as f64;
    let mut search = QSearch::new(data, fe.q0, fe.scale(data), ESTIMATION);
    let (tau2, iterations) = search.root(target, control, Tau2Method::Pm)?;
    let gls = gls_at(data, tau2)?;
    let se = eb_pm_se(data, &gls, tau2);
    Ok((
        Tau2Estimate {
            tau2,
            se: Some(se),
            iterations,
        },
        gls,
    ))
}

/// Roots of the generalised Q statistic Q(τ²) = y'P(τ²)y of one response, shared by the
/// Paule–Mandel estimator and the Q-profile intervals.
pub(crate) struct QSearch<'a> {
    data: &'a Inputs,
    /// The variance model and least-squares buffers Q is computed with; `None` for a design
    /// of ones alone, where Q is a weighted sum ([`weighted_q`]) with its weights in
    /// `weights`.
    general: Option<(CommonTau2, Residual)>,
    weights: Vec<f64>,
    response: usize,
    q0: f64,
    scale: f64,
    /// Q at every τ² evaluated: both bounds of an interval bracket their roots by the same
    /// doubling steps from 0, so the second search finds the first one's values here.
    seen: Vec<(f64, f64)>,
}

impl<'a> QSearch<'a> {
    /// The search on `data` for `response` ([`ESTIMATION`], the centred effects, or
    /// [`super::objective::RAW`]), with Q(0) of both responses `q0` and `scale`, the scale of
    /// τ² ([`FixedEffect::q0`] and [`tau2_scale`]: a fit keeps them, so an interval needs no
    /// second fixed-effect fit).
    pub fn new(data: &'a Inputs, q0: [f64; 2], scale: f64, response: usize) -> Self {
        let general = (!data.is_intercept_only())
            .then(|| (CommonTau2::new(&data.v, scale, 0.0), Residual::default()));
        Self {
            data,
            general,
            weights: Vec::new(),
            response,
            q0: q0[response],
            scale,
            seen: Vec::new(),
        }
    }

    /// Q(τ²).
    fn q(&mut self, tau2: f64) -> Result<f64, StatsError> {
        if let Some(&(_, q)) = self.seen.iter().find(|(t, _)| *t == tau2) {
            return Ok(q);
        }
        let y = if self.response == ESTIMATION {
            &self.data.y_centred
        } else {
            &self.data.y
        };
        let q = match &mut self.general {
            Some((model, residual)) => {
                model.set(&[tau2]);
                residual.rss(&self.data.x, model, y)
            }
            None => {
                Some(weighted_q(y, &self.data.v, tau2, &mut self.weights)).filter(|q| q.is_finite())
            }
        }
        .ok_or(StatsError::NumericallySingular { tau2 })?;
        self.seen.push((tau2, q));
        Ok(q)
    }

    /// The τ² ≥ 0 at which Q(τ²) = `target`, or 0 when Q(0) is already at or below it. Q
    /// decreases in τ² (its derivative is −y'PPy), so the root is bracketed by doubling and
    /// found by Brent's method to Control's relative tolerance. Returns the root and the
    /// evaluations used; `method` labels a non-convergence error.
    pub fn root(
        &mut self,
        target: f64,
        control: &Control,
        method: Tau2Method,
    ) -> Result<(f64, usize), StatsError> {
        if self.q0 <= target {
            return Ok((0.0, 1));
        }
        let (scale, q0) = (self.scale, self.q0);
        let mut f = |t: f64| self.q(t).map(|q| q - target);
        let searched = bracket_upward(&mut f, 0.0, q0 - target, scale, control)
            .and_then(|(bracket, n)| brent_root(&mut f, bracket, scale, control, n + 1));
        match searched {
            Ok(root) => Ok((root.x, root.evaluations)),
            Err(SearchFailure::Failed(e)) => Err(e),
            Err(SearchFailure::Exhausted { evaluations, last }) => Err(StatsError::NoConvergence {
                method,
                iterations: evaluations,
                last_tau2: last,
            }),
        }
    }
}
