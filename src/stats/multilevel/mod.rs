//! Multilevel and multivariate models (metafor's `rma.mv`): y = Xβ + Σⱼ Zⱼuⱼ + ε with
//! ε ~ N(0, V), V known and block-diagonal, and random effects that are nested, crossed or
//! structured (`~ inner | outer` with CS, HCS, UN or DIAG), fitted by REML or ML.
//!
//! The marginal covariance is the block-diagonal [`model::BlockModel`]; its (restricted)
//! likelihood is the same [`crate::stats::objective::LogLikelihood`] as `rma.uni`'s and is
//! maximised by the same safeguarded optimiser (Fisher scoring with backtracking, variance
//! components at exactly 0 on the boundary, correlations inside [−1, 1]). Inference comes from
//! the same summary over a covariance kind; profile-likelihood intervals of the σ² are in
//! [`profile`], predictions in [`predict`].

mod model;
mod predict;
mod profile;
mod structure;

use nalgebra::{DMatrix, DVector};
use statrs::distribution::ContinuousCDF;

pub use profile::{ComponentProfilePoint, Sigma2Profile, Sigma2ProfileRun, StructIntervals};
pub use structure::{RandomEffect, SamplingCovariance, Structure};

use model::{BlockData, BlockLayout, BlockModel, StructTerm};
pub(crate) use structure::group_rows;
use structure::{count_levels, independent_blocks};

use super::gls::Gls;
use super::input::Inputs;
use super::likelihood::{fit_statistics, FitStatistics, Likelihood};
use super::objective::{Evaluated, LogLikelihood, RAW};
use super::optimise::{maximise, Failure};
use super::summary::{chi_squared, Coefficient, CovarianceKind, Estimates, Tests, WaldTest};
use super::variance::VarianceModel;
use super::{Design, ModelSpec, StatsError, Tau2Method, Test, ValidSpec};

/// One σ² component of a fitted multilevel model.
#[derive(Debug, Clone, PartialEq)]
pub struct Sigma2 {
    /// Its name as metafor prints it (`district`, `district/study`).
    pub name: String,
    /// The estimate (exactly 0 on the boundary).
    pub estimate: f64,
    /// Number of levels as metafor counts them (for `a/b` the distinct (a, b) pairs).
    pub nlvls: usize,
}

/// The estimates of a fitted `~ inner | outer` term.
#[derive(Debug, Clone, PartialEq)]
pub struct StructEstimate {
    /// The inner factor's name.
    pub inner: String,
    /// The outer factor's name.
    pub outer: String,
    /// The structure.
    pub structure: Structure,
    /// The inner levels' names, sorted.
    pub levels: Vec<String>,
    /// τ², one per inner level in the order of `levels` (one for CS).
    pub tau2: Vec<f64>,
    /// ρ, one for CS and HCS, the lower triangle by columns for UN, none for DIAG.
    pub rho: Vec<f64>,
    /// Number of outer levels.
    pub outer_nlvls: usize,
}

/// The multilevel I² (metafor's documentation of `rma.mv`): the share of the total variance
/// that each σ² makes, I²ⱼ = 100·σ²ⱼ/(Σσ² + ṽ) with ṽ = (k − p)/tr(P), P = W − WX(X'WX)⁻¹X'W
/// and W = V⁻¹.
#[derive(Debug, Clone, PartialEq)]
pub struct MultilevelI2 {
    /// 100·Σσ²/(Σσ² + ṽ).
    pub total: f64,
    /// I² of each σ², in the order of [`MvFit::sigma2`].
    pub levels: Vec<f64>,
    /// ṽ, the typical sampling variance.
    pub typical_variance: f64,
}

/// A fitted multilevel / multivariate model: the plain record the CLI, the page and the tests
/// read.
#[derive(Debug, Clone)]
pub struct MvFit {
    /// The settings it was fitted with.
    pub spec: ModelSpec,
    /// Number of effects.
    pub k: usize,
    /// Number of coefficients.
    pub p: usize,
    /// Coefficients in design order (z tests, or t with k − p df under `Test::KnappHartung`,
    /// which is metafor's `test = "t"` here).
    pub coefficients: Vec<Coefficient>,
    /// The model-based covariance (X'M⁻¹X)⁻¹ of the coefficients.
    pub vcov: DMatrix<f64>,
    /// Omnibus test of the moderators (χ², or F with (m, k − p) df under t tests); `None` for
    /// an intercept-only model.
    pub moderators: Option<WaldTest>,
    /// The σ² components, in the order of the random terms.
    pub sigma2: Vec<Sigma2>,
    /// The `~ inner | outer` term's estimates, if the model has one.
    pub structure: Option<StructEstimate>,
    /// QE = (y − Xβ_V)'V⁻¹(y − Xβ_V), the test of residual heterogeneity with k − p df.
    pub qe: f64,
    /// Degrees of freedom of QE.
    pub qe_df: usize,
    /// p-value of QE (1 when k = p).
    pub qe_p: f64,
    /// Multilevel I²; `None` for a model with a structured term or when k = p.
    pub i2: Option<MultilevelI2>,
    /// Log-likelihood, deviance, AIC, BIC, AICc (every variance parameter counted, one on the
    /// boundary included).
    pub fit_statistics: FitStatistics,
    /// Fitted values xᵢ'b, in the order of the rows given.
    pub fitted: Vec<f64>,
    /// Residuals yᵢ − xᵢ'b, in the order of the rows given.
    pub residuals: Vec<f64>,
    /// Iterations of the optimiser.
    pub iterations: usize,
    /// Everything refits, predictions and robust inference need.
    pub(crate) state: MvState,
}

/// The fitted model's inner state, rows in the fit's block order.
#[derive(Debug, Clone)]
pub(crate) struct MvState {
    /// The data in block order (y_centred is y: rma.mv does not centre).
    pub data: Inputs,
    /// Row i of `data` is row `order[i]` of the input.
    pub order: Vec<usize>,
    /// The variance model at θ̂.
    pub model: BlockModel,
    /// θ̂.
    pub theta: Vec<f64>,
    /// β.
    pub beta: DVector<f64>,
    /// Whether column 0 is the intercept.
    pub intercept: bool,
    /// The likelihood maximised.
    pub likelihood: Likelihood,
}

/// Fits a multilevel model to effects `yi` with sampling covariance `v`, design `design` and
/// random effects `random`, by REML or ML as `spec.method` says; `spec.test` Knapp–Hartung
/// means metafor's `test = "t"`.
///
/// # Errors
/// The settings' errors, [`StatsError::MultilevelMethod`] for another estimator, the data's
/// errors as in [`super::fit`], [`StatsError::GroupingLength`] and
/// [`StatsError::InvalidStructure`] for unusable random terms, and
/// [`StatsError::MultilevelNoConvergence`].
///
/// # Examples
/// ```
/// use meridian::stats::{fit_multilevel, Design, ModelSpec, RandomEffect, SamplingCovariance};
/// let yi = [0.1, 0.3, 0.2, 0.6, 0.5, 0.9, -0.1, 0.0];
/// let v = SamplingCovariance::diagonal(&[0.02; 8])?;
/// let random = [
///     RandomEffect::Intercept { name: "district".into(), levels: vec![0, 0, 1, 1, 2, 2, 3, 3] },
///     RandomEffect::Intercept { name: "district/study".into(), levels: (0..8).collect() },
/// ];
/// let f = fit_multilevel(&yi, &v, &Design::intercept_only(8), &random, &ModelSpec::default())?;
/// assert_eq!(f.sigma2.len(), 2);
/// # Ok::<(), meridian::stats::StatsError>(())
/// ```
pub fn fit_multilevel(
    yi: &[f64],
    v: &SamplingCovariance,
    design: &Design,
    random: &[RandomEffect],
    spec: &ModelSpec,
) -> Result<MvFit, StatsError> {
    let valid = spec.check()?;
    let likelihood = match spec.method {
        Tau2Method::Reml => Likelihood::Reml,
        Tau2Method::Ml => Likelihood::Ml,
        method => return Err(StatsError::MultilevelMethod { method }),
    };
    let vi = v.variances();
    let original = Inputs::new(yi, &vi, design)?;
    let (k, p) = (original.k(), original.p());
    if v.k() != k {
        return Err(StatsError::LengthMismatch {
            effects: yi.len(),
            variances: v.k(),
            rows: k,
        });
    }
    if k <= p {
        return Err(StatsError::TooFewStudies { k, p });
    }
    let terms = Terms::new(random, k)?;
    let mut groupings: Vec<&[usize]> = terms.sigma.iter().map(|(_, l)| l.as_slice()).collect();
    if let Some(s) = &terms.structured {
        groupings.push(&s.outer);
    }
    let blocks = independent_blocks(v, &groupings);
    let order: Vec<usize> = blocks.iter().flatten().copied().collect();
    let layout = layout(v, &terms, &blocks);
    let y: Vec<f64> = order.iter().map(|&r| yi[r]).collect();
    let data = Inputs {
        y_centred: y.clone(),
        y,
        v: order.iter().map(|&r| vi[r]).collect(),
        x: DMatrix::from_fn(k, p, |i, j| original.x[(order[i], j)]),
        log_det_xtx: original.log_det_xtx,
    };
    let scale = vi.iter().sum::<f64>() / k as f64;
    let start = terms.start(&data.y, scale);
    let term = terms.structured.as_ref().map(|s| StructTerm {
        structure: s.structure,
        levels: s.inner_levels.len(),
    });
    let model = BlockModel::new(layout, terms.sigma.len(), term, scale, &start);
    estimate(
        data, order, model, &start, &terms, design, likelihood, valid,
    )
}

/// The random terms, checked: the σ² terms' names and levels, and the structured term.
struct Terms {
    sigma: Vec<(String, Vec<usize>)>,
    structured: Option<Structured>,
}

/// A checked `~ inner | outer` term.
struct Structured {
    inner_name: String,
    outer_name: String,
    inner: Vec<usize>,
    inner_levels: Vec<String>,
    outer: Vec<usize>,
    structure: Structure,
}

impl Terms {
    fn new(random: &[RandomEffect], k: usize) -> Result<Self, StatsError> {
        let mut sigma = Vec::new();
        let mut structured: Option<Structured> = None;
        let length = |term: &str, n: usize| {
            if n == k {
                Ok(())
            } else {
                Err(StatsError::GroupingLength {
                    term: term.to_owned(),
                    rows: n,
                    k,
                })
            }
        };
        for r in random {
            match r {
                RandomEffect::Intercept { name, levels } => {
                    length(name, levels.len())?;
                    sigma.push((name.clone(), levels.clone()));
                }
                RandomEffect::Structured {
                    inner_name,
                    outer_name,
                    inner,
                    inner_levels,
                    outer,
                    structure,
                } => {
                    let label = format!("{inner_name} | {outer_name}");
                    length(&label, inner.len())?;
                    length(&label, outer.len())?;
                    let levels = inner_levels.len();
                    let bad_code = inner.iter().any(|&c| c >= levels);
                    let needs_two = *structure != Structure::Diag && levels < 2;
                    if structured.is_some() || bad_code || levels == 0 || needs_two {
                        return Err(StatsError::InvalidStructure {
                            term: label,
                            levels,
                        });
                    }
                    structured = Some(Structured {
                        inner_name: inner_name.clone(),
                        outer_name: outer_name.clone(),
                        inner: inner.clone(),
                        inner_levels: inner_levels.clone(),
                        outer: outer.clone(),
                        structure: *structure,
                    });
                }
            }
        }
        Ok(Self { sigma, structured })
    }

    /// The starting θ: the variance of the effects beyond the mean sampling variance (at
    /// least a tenth of it), shared equally by the variance components; correlations at 0.5.
    fn start(&self, y: &[f64], scale: f64) -> Vec<f64> {
        let n = y.len() as f64;
        let mean = y.iter().sum::<f64>() / n;
        let var = y.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        let n_tau = self
            .structured
            .as_ref()
            .map_or(0, |s| s.structure.n_tau2(s.inner_levels.len()));
        let n_rho = self
            .structured
            .as_ref()
            .map_or(0, |s| s.structure.n_rho(s.inner_levels.len()));
        let components = (self.sigma.len() + n_tau).max(1) as f64;
        let each = (var - scale).max(0.1 * scale) / components;
        let mut start = vec![each; self.sigma.len() + n_tau];
        start.extend(std::iter::repeat_n(0.5, n_rho));
        start
    }
}

/// The block layout of the model: per block its V, the σ² terms' codes and the structured
/// term's (inner, outer) codes per row.
fn layout(v: &SamplingCovariance, terms: &Terms, blocks: &[Vec<usize>]) -> BlockLayout {
    // Where each row sits in V: (block of V, position in it).
    let mut at = vec![(0, 0); v.k()];
    for (b, (rows, _)) in v.blocks().iter().enumerate() {
        for (a, &r) in rows.iter().enumerate() {
            at[r] = (b, a);
        }
    }
    let vb = v.blocks();
    BlockLayout {
        blocks: blocks
            .iter()
            .map(|rows| {
                let n = rows.len();
                let m = DMatrix::from_fn(n, n, |a, c| {
                    let ((ba, pa), (bc, pc)) = (at[rows[a]], at[rows[c]]);
                    if ba == bc {
                        vb[ba].1[(pa, pc)]
                    } else {
                        0.0
                    }
                });
                let codes = rows
                    .iter()
                    .map(|&r| terms.sigma.iter().map(|(_, l)| l[r]).collect())
                    .collect();
                let inner_outer = rows
                    .iter()
                    .map(|&r| {
                        terms
                            .structured
                            .as_ref()
                            .map_or((0, 0), |s| (s.inner[r], s.outer[r]))
                    })
                    .collect();
                BlockData {
                    v: m,
                    codes,
                    inner_outer,
                }
            })
            .collect(),
    }
}

/// Maximises the likelihood and assembles the record.
#[allow(clippy::too_many_arguments)]
fn estimate(
    data: Inputs,
    order: Vec<usize>,
    model: BlockModel,
    start: &[f64],
    terms: &Terms,
    design: &Design,
    likelihood: Likelihood,
    valid: ValidSpec,
) -> Result<MvFit, StatsError> {
    let (k, p) = (data.k(), data.p());
    let control = valid.control();
    let names: Vec<String> = model.parameters().iter().map(|p| p.name.clone()).collect();
    let mut objective = LogLikelihood::new(model, &data, likelihood, Evaluated::default());
    let optimum = match maximise(&mut objective, start, &control) {
        Ok(o) => o,
        Err(Failure::Objective(e)) => return Err(e),
        Err(Failure::NoConvergence { iterations, last }) => {
            return Err(StatsError::MultilevelNoConvergence {
                iterations,
                last: names.into_iter().zip(last).collect(),
            })
        }
    };
    let theta = optimum.theta;
    objective.at.fit_at(&mut objective.model, &data, &theta)?;
    let LogLikelihood { model, at, .. } = objective;
    let mut model = model;
    let gls = at.into_gls();
    let beta = gls.coef(RAW);
    let model_vcov = gls.inverse_xtmx();
    let r_factor = gls.r_factor();
    let estimates = Estimates {
        beta: &beta,
        model_vcov: &model_vcov,
        r_factor: &r_factor,
        rss: gls.rss_or_zero(RAW),
        k,
        intercept: design.intercept,
    };
    let kind = match valid.test() {
        Test::Z => CovarianceKind::ModelBased,
        _ => CovarianceKind::ModelBasedT,
    };
    let summary =
        Tests::new(&estimates, kind).summarise(&beta, &design.names, valid.level(), 0.0)?;
    let fit_statistics = fit_statistics(&gls, &data.v, data.log_det_xtx, likelihood, theta.len());
    // QE and ṽ from the fit with V alone (every variance parameter at 0).
    let zero = vec![0.0; theta.len()];
    model.set(&zero);
    let mut fe = Gls::default();
    if !fe.fit(&data.x, &model, &[&data.y, &data.y]) {
        return Err(StatsError::NumericallySingular { tau2: 0.0 });
    }
    let qe = fe.rss_or_zero(RAW);
    let qe_df = k - p;
    let qe_p = chi_squared(qe_df as f64).sf(qe);
    let trace_p = model.trace_projection(&fe);
    model.set(&theta);
    let n_sigma = terms.sigma.len();
    let sigma2: Vec<Sigma2> = terms
        .sigma
        .iter()
        .zip(&theta)
        .map(|((name, levels), est)| Sigma2 {
            name: name.clone(),
            estimate: *est,
            nlvls: count_levels(levels),
        })
        .collect();
    let structure = terms.structured.as_ref().map(|s| {
        let nt = s.structure.n_tau2(s.inner_levels.len());
        StructEstimate {
            inner: s.inner_name.clone(),
            outer: s.outer_name.clone(),
            structure: s.structure,
            levels: s.inner_levels.clone(),
            tau2: theta[n_sigma..n_sigma + nt].to_vec(),
            rho: theta[n_sigma + nt..].to_vec(),
            outer_nlvls: count_levels(&s.outer),
        }
    });
    let i2 = (structure.is_none() && n_sigma > 0 && qe_df > 0).then(|| {
        let typical = qe_df as f64 / trace_p;
        let total: f64 = sigma2.iter().map(|s| s.estimate).sum();
        MultilevelI2 {
            // Shares first, then percent, so that rounding cannot take I² above 100.
            total: 100.0 * (total / (total + typical)),
            levels: sigma2
                .iter()
                .map(|s| 100.0 * (s.estimate / (total + typical)))
                .collect(),
            typical_variance: typical,
        }
    });
    let fitted_blocked: Vec<f64> = (&data.x * &beta).iter().copied().collect();
    let mut fitted = vec![0.0; k];
    let mut residuals = vec![0.0; k];
    for (i, &r) in order.iter().enumerate() {
        fitted[r] = fitted_blocked[i];
        residuals[r] = data.y[i] - fitted_blocked[i];
    }
    Ok(MvFit {
        spec: *valid.spec(),
        k,
        p,
        coefficients: summary.coefficients,
        vcov: summary.vcov,
        moderators: summary.moderators,
        sigma2,
        structure,
        qe,
        qe_df,
        qe_p,
        i2,
        fit_statistics,
        fitted,
        residuals,
        iterations: optimum.iterations,
        state: MvState {
            data,
            order,
            model,
            theta,
            beta,
            intercept: design.intercept,
            likelihood,
        },
    })
}

impl MvFit {
    /// The estimated variance parameters θ̂ in the model's order (σ², then τ², then ρ).
    pub fn theta(&self) -> &[f64] {
        &self.state.theta
    }

    /// The (restricted) log-likelihood with β profiled out at other variance parameters
    /// `theta` (in the order of [`MvFit::theta`]).
    ///
    /// # Errors
    /// [`StatsError::InvalidParameters`] for a θ of the wrong length or outside its bounds,
    /// [`StatsError::NumericallySingular`] where M is not positive definite.
    pub fn log_likelihood_at(&self, theta: &[f64]) -> Result<f64, StatsError> {
        let model = self.state.model.clone();
        let inside = theta.len() == self.state.theta.len()
            && theta.iter().zip(model.parameters()).all(|(t, p)| {
                let (lo, hi) = p.kind.bounds();
                *t >= lo && *t <= hi
            });
        if !inside {
            return Err(StatsError::InvalidParameters {
                given: theta.to_vec(),
            });
        }
        let mut objective = LogLikelihood::new(
            model,
            &self.state.data,
            self.state.likelihood,
            Evaluated::default(),
        );
        use super::objective::Objective;
        Ok(objective.evaluate(theta)?.value)
    }
}
