//! Location-scale models (Viechtbauer & López-López, 2022; metafor:
//! `rma(yi, vi, mods = ~ x, scale = ~ z)`): the effects follow a meta-regression on X while the
//! between-study variance follows a log-linear model of its own, τ²ᵢ = exp(zᵢ'α), so that
//! heterogeneity itself can depend on study characteristics.
//!
//! The variance model [`PerStudyTau2`] is M = diag(vᵢ + exp(zᵢ'α)); α is estimated by ML or
//! REML with the one safeguarded optimiser (Fisher scoring), β by GLS at α̂. The standard
//! errors of α come, as metafor computes them, from the observed information: minus the
//! Hessian of the (restricted) log-likelihood with β profiled out, here in closed form,
//!
//! ∂²ℓ/∂αⱼ∂αₗ = −½[tr(AGⱼₗ) − tr(AGₗAGⱼ) − y'PGⱼₗPy + 2·y'PGₗPGⱼPy],
//!
//! with Gⱼ = ∂M/∂αⱼ = diag(τ²ᵢzᵢⱼ), Gⱼₗ = diag(τ²ᵢzᵢⱼzᵢₗ) and A = M⁻¹ (ML) or P (REML).
//! QS is the Wald test of the scale coefficients (all but the scale intercept).

use nalgebra::{DMatrix, DVector};
use statrs::distribution::ContinuousCDF;

use super::fit::{Fit, Parts};
use super::gls::{Gls, Whiten};
use super::heterogeneity::Heterogeneity;
use super::input::{check_rank, Inputs};
use super::likelihood::Likelihood;
use super::objective::{Evaluated, LogLikelihood, ESTIMATION};
use super::optimise::{maximise, Failure};
use super::summary::{chi_squared, upper_tail, Reference};
use super::tau2::FixedEffect;
use super::variance::{diagonal_derivatives, Derivatives, TraceOf, VarianceModel};
use super::{
    Coefficient, Design, Interval, Parameter, ParameterKind, StatsError, Tau2Method, ValidSpec,
    VarianceComponent, WaldTest,
};

/// M = diag(vᵢ + exp(zᵢ'α)): a between-study variance per study, log-linear in the scale
/// moderators zᵢ.
#[derive(Debug, Clone)]
pub(crate) struct PerStudyTau2 {
    v: Vec<f64>,
    /// The k × q scale design Z.
    z: DMatrix<f64>,
    parameters: Vec<Parameter>,
    scales: Vec<f64>,
    alpha: Vec<f64>,
    /// τ²ᵢ = exp(zᵢ'α).
    tau2: Vec<f64>,
    /// wᵢ = 1/(vᵢ + τ²ᵢ).
    w: Vec<f64>,
    sqrt_w: Vec<f64>,
    /// The whitened derivatives G̃ⱼ = diag(τ²ᵢzᵢⱼwᵢ), one vector per scale coefficient.
    g: Vec<Vec<f64>>,
}

impl PerStudyTau2 {
    /// The model for sampling variances `v` and scale design `z` with coefficient `names`,
    /// at α = `alpha`.
    fn new(v: &[f64], z: &DMatrix<f64>, names: &[String], alpha: &[f64]) -> Self {
        let q = z.ncols();
        let mut m = Self {
            v: v.to_vec(),
            z: z.clone(),
            parameters: names
                .iter()
                .map(|n| Parameter {
                    name: format!("alpha.{n}"),
                    kind: ParameterKind::Real,
                })
                .collect(),
            // α is on the log scale of τ²: a change of 1 is a factor e, whatever the units.
            scales: vec![1.0; q],
            alpha: Vec::new(),
            tau2: Vec::new(),
            w: Vec::new(),
            sqrt_w: Vec::new(),
            g: Vec::new(),
        };
        m.set(alpha);
        m
    }

    /// Gⱼₗ whitened: diag(τ²ᵢzᵢⱼzᵢₗwᵢ).
    fn second(&self, j: usize, l: usize) -> Vec<f64> {
        (0..self.v.len())
            .map(|i| self.tau2[i] * self.z[(i, j)] * self.z[(i, l)] * self.w[i])
            .collect()
    }
}

impl Whiten for PerStudyTau2 {
    fn whiten(&self, src: &[f64], dst: &mut [f64]) {
        for ((d, s), w) in dst.iter_mut().zip(src).zip(&self.sqrt_w) {
            *d = s * w;
        }
    }

    fn log_det(&self) -> f64 {
        self.w.iter().map(|w| -w.ln()).sum()
    }
}

impl VarianceModel for PerStudyTau2 {
    fn parameters(&self) -> &[Parameter] {
        &self.parameters
    }

    fn scales(&self) -> &[f64] {
        &self.scales
    }

    fn set(&mut self, theta: &[f64]) {
        if theta == self.alpha.as_slice() {
            return;
        }
        self.alpha = theta.to_vec();
        let eta = &self.z * DVector::from_column_slice(theta);
        self.tau2 = eta.iter().map(|e| e.exp()).collect();
        self.w = self
            .v
            .iter()
            .zip(&self.tau2)
            .map(|(v, t)| 1.0 / (v + t))
            .collect();
        self.sqrt_w = self.w.iter().map(|w| w.sqrt()).collect();
        self.g = (0..self.z.ncols())
            .map(|j| {
                (0..self.v.len())
                    .map(|i| self.tau2[i] * self.z[(i, j)] * self.w[i])
                    .collect()
            })
            .collect();
    }

    fn derivatives(&self, gls: &Gls, r: usize, of: TraceOf) -> Derivatives {
        let g: Vec<&[f64]> = self.g.iter().map(Vec::as_slice).collect();
        diagonal_derivatives(&g, gls, r, of)
    }
}

/// The scale part of a location-scale fit.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleModel {
    /// The scale coefficients α (log τ² = z'α) with z tests and intervals, named as the scale
    /// design's columns.
    pub coefficients: Vec<Coefficient>,
    /// Their covariance: the inverse of the observed information.
    pub vcov: DMatrix<f64>,
    /// QS, the Wald test of every scale coefficient but the scale intercept; `None` when the
    /// scale model is an intercept only.
    pub qs: Option<WaldTest>,
    /// τ²ᵢ = exp(zᵢ'α̂) per study.
    pub tau2: Vec<f64>,
    /// The confidence level of the intervals.
    level: f64,
}

impl ScaleModel {
    /// τ² predicted at scale-design row `z0` (the scale intercept included), with its
    /// interval exp(z0'α̂ ± z·SE) (metafor: `predict(res, newscale = …, transf = exp)`).
    ///
    /// # Errors
    /// [`StatsError::WrongPredictorLength`] for a row of the wrong length,
    /// [`StatsError::NonFinitePredictor`] for a value that is not finite.
    pub fn predict_tau2(&self, z0: &[f64]) -> Result<Interval, StatsError> {
        let q = self.coefficients.len();
        if z0.len() != q {
            return Err(StatsError::WrongPredictorLength {
                expected: q,
                got: z0.len(),
            });
        }
        if let Some(index) = z0.iter().position(|x| !x.is_finite()) {
            return Err(StatsError::NonFinitePredictor { index });
        }
        let z = DVector::from_column_slice(z0);
        let a = DVector::from_iterator(q, self.coefficients.iter().map(|c| c.estimate));
        let eta = z.dot(&a);
        let se = (z.transpose() * &self.vcov * &z)[(0, 0)].sqrt();
        let crit = Reference::Normal.critical(self.level);
        Ok(Interval {
            estimate: eta.exp(),
            lower: (eta - crit * se).exp(),
            upper: (eta + crit * se).exp(),
        })
    }
}

/// A location-scale fit: the location model as a [`Fit`] (its variance components are the
/// α's, so it has no single τ²) and the scale model.
#[derive(Debug, Clone)]
pub struct LocationScale {
    /// The location part: coefficients, QM, QE, log-likelihood and information criteria.
    pub fit: Fit,
    /// The scale part.
    pub scale: ScaleModel,
}

impl ValidSpec {
    /// Fits the location-scale model with location design `design` and scale design `scale`
    /// (metafor: `rma(yi, vi, mods = …, scale = …)`), by ML or REML.
    ///
    /// # Errors
    /// [`StatsError::ScaleNeedsLikelihood`] for an estimator other than ML or REML; the data
    /// errors of [`ValidSpec::fit`] for both designs; [`StatsError::TooFewStudies`] unless
    /// k > p + q; non-convergence.
    pub fn fit_location_scale(
        &self,
        yi: &[f64],
        vi: &[f64],
        design: &Design,
        scale: &Design,
    ) -> Result<LocationScale, StatsError> {
        let method = self.method();
        let likelihood = match method {
            Tau2Method::Ml => Likelihood::Ml,
            Tau2Method::Reml => Likelihood::Reml,
            _ => return Err(StatsError::ScaleNeedsLikelihood { method }),
        };
        let data = Inputs::new(yi, vi, design)?;
        check_scale_design(scale, data.k())?;
        let (k, p, q) = (data.k(), data.p(), scale.p());
        if k <= p + q {
            return Err(StatsError::TooFewStudies { k, p: p + q });
        }
        let start = start_values(self, yi, vi, design, scale)?;
        let model = PerStudyTau2::new(&data.v, &scale.x, &scale.names, &start);
        let mut objective = LogLikelihood::new(model, &data, likelihood, Evaluated::default());
        let optimum = maximise(&mut objective, &start, &self.control()).map_err(|e| match e {
            Failure::Objective(e) => e,
            Failure::NoConvergence { iterations, last } => StatsError::NoConvergence {
                method,
                iterations,
                last_tau2: last.first().map_or(f64::NAN, |a| a.exp()),
            },
        })?;
        let LogLikelihood {
            mut model, mut at, ..
        } = objective;
        at.fit_at(&mut model, &data, &optimum.theta)?;
        let gls = at.into_gls();
        let of = match likelihood {
            Likelihood::Ml => TraceOf::Marginal,
            Likelihood::Reml => TraceOf::Projection,
        };
        let information = observed_information(&model, &gls, of);
        let vcov = information
            .cholesky()
            .ok_or(StatsError::NumericallySingular {
                tau2: model.tau2.iter().copied().fold(f64::NAN, f64::max),
            })?
            .inverse();
        let crit = Reference::Normal.critical(self.level());
        let coefficients: Vec<Coefficient> = scale
            .names
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let estimate = optimum.theta[j];
                let se = vcov[(j, j)].sqrt();
                let statistic = estimate / se;
                Coefficient {
                    name: name.clone(),
                    estimate,
                    se,
                    statistic,
                    p_value: Reference::Normal.p_value(statistic),
                    ci_lower: estimate - crit * se,
                    ci_upper: estimate + crit * se,
                }
            })
            .collect();
        let qs = scale_test(&optimum.theta, &vcov, scale.intercept)?;
        let fe = FixedEffect::new(&data)?;
        let qe = Heterogeneity::new(&fe, k, p, 0.0, true);
        // I² and H² compare one τ² with the typical sampling variance; with a τ² per study
        // there is none to compare (metafor reports neither).
        let heterogeneity = Heterogeneity {
            i2: f64::NAN,
            h2: f64::NAN,
            ..qe
        };
        let variance = model
            .parameters
            .iter()
            .zip(&coefficients)
            .map(|(parameter, c)| VarianceComponent {
                parameter: parameter.clone(),
                estimate: c.estimate,
                se: Some(c.se),
                fixed: false,
            })
            .collect();
        let tau2 = model.tau2.clone();
        let fit = Fit::from_parts(Parts {
            weights: model.w.clone(),
            data,
            intercept: design.intercept,
            names: &design.names,
            spec: self,
            gls,
            variance,
            heterogeneity,
            q0: fe.q0,
            iterations: optimum.iterations,
            label: tau2.iter().copied().fold(f64::NAN, f64::max),
        })?;
        Ok(LocationScale {
            fit,
            scale: ScaleModel {
                coefficients,
                vcov,
                qs,
                tau2,
                level: self.level(),
            },
        })
    }
}

/// Checks the scale design as the location design is checked: one row per study, finite
/// values, full column rank.
fn check_scale_design(scale: &Design, k: usize) -> Result<(), StatsError> {
    if scale.p() == 0 || scale.names.len() != scale.p() {
        return Err(StatsError::MalformedDesign {
            columns: scale.p(),
            names: scale.names.len(),
        });
    }
    if scale.k() != k {
        return Err(StatsError::LengthMismatch {
            effects: k,
            variances: k,
            rows: scale.k(),
        });
    }
    for (j, col) in scale.x.column_iter().enumerate() {
        if let Some(study) = col.iter().position(|x| !x.is_finite()) {
            return Err(StatsError::NonFiniteModerator {
                study,
                column: scale.names[j].clone(),
            });
        }
    }
    check_rank(&scale.x, &scale.names).map(|_| ())
}

/// The start of the optimiser: log τ² of the model with one τ² (by the same estimator) as the
/// scale intercept and 0 for the scale moderators; 0 throughout without a scale intercept.
fn start_values(
    spec: &ValidSpec,
    yi: &[f64],
    vi: &[f64],
    design: &Design,
    scale: &Design,
) -> Result<Vec<f64>, StatsError> {
    let mut start = vec![0.0; scale.p()];
    if scale.intercept {
        let tau2 = spec.fit(yi, vi, design)?.tau2_or_zero();
        // log 0 is no start: begin a little above the boundary, at 1 % of a typical variance.
        let mut typical: Vec<f64> = vi.to_vec();
        typical.sort_by(f64::total_cmp);
        let floor = 0.01 * typical[typical.len() / 2];
        start[0] = tau2.max(floor).ln();
    }
    Ok(start)
}

/// Minus the Hessian of the (restricted) log-likelihood in α at the model's α, β profiled
/// out (see the module's formula).
fn observed_information(model: &PerStudyTau2, gls: &Gls, of: TraceOf) -> DMatrix<f64> {
    let q = model.g.len();
    let d = model.derivatives(gls, ESTIMATION, of);
    let e = gls.whitened_resid(ESTIMATION);
    let h = gls.hat();
    // (I − QQ')(G̃ⱼẽ): the whitened P·Gⱼ·Py.
    let projected: Vec<Vec<f64>> = model
        .g
        .iter()
        .map(|g| {
            let ge: Vec<f64> = g.iter().zip(e).map(|(g, e)| g * e).collect();
            gls.residual_of(&ge)
        })
        .collect();
    let mut info = DMatrix::zeros(q, q);
    for j in 0..q {
        for l in 0..=j {
            let gjl = model.second(j, l);
            let trace: f64 = match of {
                TraceOf::Marginal => gjl.iter().sum(),
                TraceOf::Projection => gjl.iter().zip(h).map(|(g, h)| g * (1.0 - h)).sum(),
            };
            let quad: f64 = gjl.iter().zip(e).map(|(g, e)| g * e * e).sum();
            // y'PGₗPGⱼPy = (G̃ₗẽ)'(I − QQ')(G̃ⱼẽ).
            let cross: f64 = model.g[l]
                .iter()
                .zip(e)
                .zip(&projected[j])
                .map(|((g, e), pj)| g * e * pj)
                .sum();
            let hessian = -0.5 * (trace - d.info[(j, l)] - quad + 2.0 * cross);
            info[(j, l)] = -hessian;
            info[(l, j)] = -hessian;
        }
    }
    info
}

/// QS: the χ² Wald test of the scale coefficients after the scale intercept (all of them
/// without one); `None` when nothing is left to test.
fn scale_test(
    alpha: &[f64],
    vcov: &DMatrix<f64>,
    intercept: bool,
) -> Result<Option<WaldTest>, StatsError> {
    let first = usize::from(intercept);
    let q = alpha.len();
    if first >= q {
        return Ok(None);
    }
    let columns: Vec<usize> = (first..q).collect();
    let m = columns.len();
    let a = DVector::from_iterator(m, columns.iter().map(|&c| alpha[c]));
    let block = DMatrix::from_fn(m, m, |i, j| vcov[(columns[i], columns[j])]);
    let chol = block
        .cholesky()
        .ok_or(StatsError::NumericallySingular { tau2: f64::NAN })?;
    let statistic = a.dot(&chol.solve(&a));
    Ok(Some(WaldTest {
        columns,
        statistic,
        df: m,
        df2: None,
        p_value: upper_tail(statistic, |x| chi_squared(m as f64).sf(x)),
    }))
}
