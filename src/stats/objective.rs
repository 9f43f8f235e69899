//! The objectives the iterative estimators maximise, as functions of the variance parameters θ
//! apart from the optimiser that maximises them: the log-likelihood (ML), the restricted
//! log-likelihood (REML) and the empirical Bayes estimating equation (EB), each with its score
//! and information, for any [`VarianceModel`].
//!
//! For y ~ N(Xβ, M(θ)) with Gⱼ = ∂M/∂θⱼ (Harville, 1977; Viechtbauer, 2005):
//! - ML: ℓ = −½[k ln 2π + ln|M| + y'Py], score ½[y'PGⱼPy − tr(M⁻¹Gⱼ)],
//!   information ½ tr(M⁻¹GⱼM⁻¹Gₗ);
//! - REML: ℓ_R = −½[(k − p) ln 2π − ln|X'X| + ln|M| + ln|X'M⁻¹X| + y'Py],
//!   score ½[y'PGⱼPy − tr(PGⱼ)], information ½ tr(PGⱼPGₗ).
//!
//! (y'Py is the residual quadratic form at the GLS estimate, so β is profiled out.)

use nalgebra::{DMatrix, DVector};

use super::gls::Gls;
use super::input::Inputs;
use super::likelihood::Likelihood;
use super::variance::{Parameter, TraceOf, VarianceModel};
use super::StatsError;

/// The response the estimators work on: the effects centred at their unweighted mean, as
/// metafor does (see [`Inputs::y_centred`]).
pub(crate) const ESTIMATION: usize = 0;
/// The raw effects, which give the coefficients, residuals and likelihood that are reported.
pub(crate) const RAW: usize = 1;

/// An objective evaluated at one θ.
#[derive(Debug, Clone)]
pub(crate) struct Point {
    /// The objective's value.
    pub value: f64,
    /// Its gradient in θ.
    pub score: DVector<f64>,
    /// A positive (semi-)definite approximation of minus its Hessian: the expected (Fisher)
    /// information, or the Gauss–Newton matrix.
    pub information: DMatrix<f64>,
}

/// A smooth function of the variance parameters to maximise.
pub(crate) trait Objective {
    /// The parameters, with their bounds.
    fn parameters(&self) -> &[Parameter];
    /// Their typical sizes (the scale of the relative convergence criterion).
    fn scales(&self) -> &[f64];
    /// Value, score and information at θ (inside the bounds).
    fn evaluate(&mut self, theta: &[f64]) -> Result<Point, StatsError>;
}

/// What an objective keeps of its last two evaluations, so that the fit at the optimum is not
/// computed twice (the optimiser's last comparison is with the boundary).
#[derive(Debug, Clone, Default)]
pub(crate) struct Evaluated {
    /// θ and the GLS fit of the centred and the raw effects there; θ empty before a fit.
    slots: [(Vec<f64>, Gls); 2],
    /// The slot of the current θ.
    current: usize,
    /// Whether trial fits leave out the raw effects, which no objective reads: they are added
    /// to the optimum's fit by [`Evaluated::complete`].
    estimation_only: bool,
}

impl Evaluated {
    /// Moves `model` to θ and makes the fit of both responses there current, fitting only if
    /// neither of the last two evaluations was at θ.
    pub fn fit_at(
        &mut self,
        model: &mut impl VarianceModel,
        data: &Inputs,
        theta: &[f64],
    ) -> Result<(), StatsError> {
        model.set(theta);
        if let Some(i) = self.slots.iter().position(|(t, _)| t == theta) {
            self.current = i;
            return Ok(());
        }
        self.current = 1 - self.current;
        let (t, gls) = &mut self.slots[self.current];
        t.clear();
        let all: [&[f64]; 2] = [&data.y_centred, &data.y];
        let ys = if self.estimation_only {
            &all[..1]
        } else {
            &all[..]
        };
        if !gls.fit(&data.x, model, ys) {
            return Err(StatsError::NumericallySingular { tau2: theta[0] });
        }
        t.extend_from_slice(theta);
        Ok(())
    }

    /// Adds the raw effects to the current fit if its trial left them out; `model` is at the
    /// current θ (as [`Evaluated::fit_at`] leaves it).
    pub fn complete(
        &mut self,
        model: &impl VarianceModel,
        data: &Inputs,
    ) -> Result<(), StatsError> {
        let (t, gls) = &mut self.slots[self.current];
        if gls.responses() > RAW || gls.add_response(model, &data.y) {
            Ok(())
        } else {
            Err(StatsError::NumericallySingular {
                tau2: t.first().copied().unwrap_or(f64::NAN),
            })
        }
    }

    /// A cache that already holds the fit `gls` at θ; with `estimation_only`, trial fits
    /// leave out the raw effects until [`Evaluated::complete`].
    pub fn seeded(theta: Vec<f64>, gls: Gls, estimation_only: bool) -> Self {
        Self {
            slots: [(theta, gls), (Vec::new(), Gls::default())],
            current: 0,
            estimation_only,
        }
    }

    /// The current fit.
    pub fn gls(&self) -> &Gls {
        &self.slots[self.current].1
    }

    /// The current fit, taken out of the cache.
    pub fn into_gls(mut self) -> Gls {
        std::mem::take(&mut self.slots[self.current].1)
    }
}

/// The (restricted) log-likelihood of a variance model.
#[derive(Debug, Clone)]
pub(crate) struct LogLikelihood<'a, M> {
    /// The variance model.
    pub model: M,
    data: &'a Inputs,
    kind: Likelihood,
    /// The last evaluation.
    pub at: Evaluated,
}

impl<'a, M: VarianceModel> LogLikelihood<'a, M> {
    /// The likelihood of `kind` for `model` on `data`, with the evaluations cached in `at`.
    pub fn new(model: M, data: &'a Inputs, kind: Likelihood, at: Evaluated) -> Self {
        Self {
            model,
            data,
            kind,
            at,
        }
    }
}

impl<M: VarianceModel> Objective for LogLikelihood<'_, M> {
    fn parameters(&self) -> &[Parameter] {
        self.model.parameters()
    }

    fn scales(&self) -> &[f64] {
        self.model.scales()
    }

    fn evaluate(&mut self, theta: &[f64]) -> Result<Point, StatsError> {
        self.at.fit_at(&mut self.model, self.data, theta)?;
        let gls = self.at.gls();
        let (k, p) = (gls.k() as f64, gls.p() as f64);
        let ln2pi = (2.0 * std::f64::consts::PI).ln();
        let rss = gls.rss(ESTIMATION);
        let (value, of) = match self.kind {
            Likelihood::Ml => (
                -0.5 * (k * ln2pi + gls.log_det_m() + rss),
                TraceOf::Marginal,
            ),
            Likelihood::Reml => (
                -0.5 * ((k - p) * ln2pi - self.data.log_det_xtx
                    + gls.log_det_m()
                    + gls.log_det_xtmx()
                    + rss),
                TraceOf::Projection,
            ),
        };
        let d = self.model.derivatives(gls, ESTIMATION, of);
        Ok(Point {
            value,
            score: 0.5 * (d.quad - d.trace),
            information: 0.5 * d.info,
        })
    }
}

/// The empirical Bayes estimating equation (Morris, 1983; Berkey et al., 1995) as an
/// objective: τ² solves (k/(k − p))·y'Py = k, that is Q(τ²) = k − p (which makes it the same
/// estimate as Paule–Mandel's; Viechtbauer et al., 2015). Q decreases in τ², so
/// −½(Q(τ²) − (k − p))² has its maximum over τ² ≥ 0 at the root, or at 0 when Q(0) ≤ k − p
/// already, as the estimator is defined. Score (Q − (k − p))·y'PPy; the Gauss–Newton
/// information (y'PPy)² makes the step Newton's for the root of Q.
#[derive(Debug, Clone)]
pub(crate) struct EmpiricalBayes<'a, M> {
    /// The variance model.
    pub model: M,
    data: &'a Inputs,
    /// The last evaluation.
    pub at: Evaluated,
}

impl<'a, M: VarianceModel> EmpiricalBayes<'a, M> {
    /// The EB objective for `model` on `data`, with the evaluations cached in `at`.
    pub fn new(model: M, data: &'a Inputs, at: Evaluated) -> Self {
        Self { model, data, at }
    }
}

impl<M: VarianceModel> Objective for EmpiricalBayes<'_, M> {
    fn parameters(&self) -> &[Parameter] {
        self.model.parameters()
    }

    fn scales(&self) -> &[f64] {
        self.model.scales()
    }

    fn evaluate(&mut self, theta: &[f64]) -> Result<Point, StatsError> {
        self.at.fit_at(&mut self.model, self.data, theta)?;
        let gls = self.at.gls();
        let df = (gls.k() - gls.p()) as f64;
        let residual = gls.rss(ESTIMATION) - df;
        let d = self.model.derivatives(gls, ESTIMATION, TraceOf::Marginal);
        Ok(Point {
            value: -0.5 * residual * residual,
            score: residual * &d.quad,
            information: &d.quad * d.quad.transpose(),
        })
    }
}
