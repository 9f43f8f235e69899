//! Fitting a fixed-, random- or mixed-effects model: the one entry point [`fit`] and the plain
//! record [`Fit`] that printing and plotting only read.

use nalgebra::{DMatrix, DVector};

use super::heterogeneity::{pseudo_r2, Heterogeneity, ResidualQ};
use super::inference::{Coefficient, Reference, WaldTest};
use super::input::Inputs;
use super::likelihood::{fit_statistics, FitStatistics, Likelihood};
use super::wls::Wls;
use super::{tau2, Design, ModelSpec, StatsError, Tau2Method, Test};

/// A fitted model: y = Xβ + u + ε, u ~ N(0, τ²), ε ~ N(0, vᵢ).
#[derive(Debug, Clone)]
pub struct Fit {
    /// The settings it was fitted with.
    pub spec: ModelSpec,
    /// Number of studies.
    pub k: usize,
    /// Number of coefficients.
    pub p: usize,
    /// Coefficients in design order.
    pub coefficients: Vec<Coefficient>,
    /// p × p covariance matrix of the coefficients (Knapp–Hartung scaled under that test).
    pub vcov: DMatrix<f64>,
    /// Estimated (or, for FE/EE, fixed) between-study variance τ².
    pub tau2: f64,
    /// Standard error of τ² as metafor computes it for the estimator; `None` for FE/EE.
    pub tau2_se: Option<f64>,
    /// τ = √τ².
    pub tau: f64,
    /// Iterations of the τ² estimator (0 for closed forms).
    pub iterations: usize,
    /// QE, I², H², R².
    pub heterogeneity: Heterogeneity,
    /// Omnibus test of the moderators (every coefficient but the intercept; every coefficient
    /// in a model without intercept); `None` for an intercept-only model.
    pub moderators: Option<WaldTest>,
    /// Knapp–Hartung scale s² = Σ wᵢeᵢ²/(k − p), not truncated at 1; `None` under z tests.
    pub knha_scale: Option<f64>,
    /// Log-likelihood and information criteria (restricted likelihood for REML, full
    /// likelihood otherwise, as metafor reports them).
    pub fit_statistics: FitStatistics,
    /// Weights used, wᵢ = 1/(vᵢ + τ²) (metafor's `weights()` reports 100·wᵢ/Σw).
    pub weights: Vec<f64>,
    /// Fitted values xᵢ'b.
    pub fitted: Vec<f64>,
    /// Residuals yᵢ − xᵢ'b.
    pub residuals: Vec<f64>,
    /// The studies and design, kept for predictions, tests and refits.
    pub(crate) data: Inputs,
    /// Whether column 0 is the intercept.
    pub(crate) intercept: bool,
    /// Coefficient estimates as a vector.
    pub(crate) beta: DVector<f64>,
}

/// Fits the model to effect sizes `yi` with sampling variances `vi` and the given design.
///
/// # Errors
/// Invalid data (lengths, non-finite values, non-positive variances), a rank-deficient design,
/// too few studies (k ≤ p when τ² or the Knapp–Hartung scale must be estimated) and
/// non-convergence are reported as [`StatsError`].
///
/// # Examples
/// ```
/// use meridian::stats::{fit, Design, ModelSpec, Tau2Method, Test};
/// let yi = [-0.89, -1.59, -1.35, -1.44, -0.22, -0.79];
/// let vi = [0.33, 0.19, 0.42, 0.02, 0.05, 0.01];
/// let spec = ModelSpec { method: Tau2Method::Dl, test: Test::Z, level: 0.95 };
/// let f = fit(&yi, &vi, &Design::intercept_only(6), &spec)?;
/// // metafor: rma(yi, vi, method = "DL") gives tau^2 = 0.2086337, estimate -0.9883173.
/// assert!((f.tau2 - 0.2086337).abs() < 1e-7);
/// assert!((f.coefficients[0].estimate + 0.9883173).abs() < 1e-7);
/// # Ok::<(), meridian::stats::StatsError>(())
/// ```
pub fn fit(yi: &[f64], vi: &[f64], design: &Design, spec: &ModelSpec) -> Result<Fit, StatsError> {
    spec.validate()?;
    let data = Inputs::new(yi, vi, design)?;
    fit_inputs(data, design.intercept, &design.names, spec, true)
}

/// Fits validated inputs. `with_r2` computes the intercept-only model for R² (refits that only
/// need the coefficient tests, such as the regression test for funnel asymmetry, skip it).
pub(crate) fn fit_inputs(
    data: Inputs,
    intercept: bool,
    names: &[String],
    spec: &ModelSpec,
    with_r2: bool,
) -> Result<Fit, StatsError> {
    let (k, p) = (data.k(), data.p());
    let needs_df = !spec.method.is_fixed() || spec.test == Test::KnappHartung;
    if needs_df && k <= p {
        return Err(StatsError::TooFewStudies { k, p });
    }
    let est = tau2::estimate(spec.method, &data)?;
    let f = tau2::wls_at(&data, est.tau2)?;
    let reference = Reference {
        test: spec.test,
        df: k - p,
    };

    let (vcov, knha_scale) = scaled_vcov(&f, spec.test, k, p);
    let crit = reference.critical(spec.level);
    let coefficients = names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let estimate = f.coef[j];
            let se = vcov[(j, j)].sqrt();
            let statistic = estimate / se;
            Coefficient {
                name: name.clone(),
                estimate,
                se,
                statistic,
                p_value: reference.p_value(statistic),
                ci_lower: estimate - crit * se,
                ci_upper: estimate + crit * se,
            }
        })
        .collect();

    let tested = moderator_columns(intercept, p);
    let moderators = if tested.is_empty() {
        None
    } else {
        Some(reference.wald(&f.coef, &vcov, &tested, est.tau2)?)
    };

    let fe = if spec.method.is_fixed() {
        f.clone()
    } else {
        tau2::wls_at(&data, 0.0)?
    };
    let qe = fe
        .rss_of(&data.x, &data.y_centred)
        .ok_or(StatsError::NumericallySingular { tau2: 0.0 })?;
    let rq = ResidualQ::new(&fe, qe, k, p);
    let (i2, h2) = rq.i2_h2(est.tau2, spec.method.is_fixed());
    // R² compares with the intercept-only model on the same studies (k > p ≥ 2 here, so the
    // reduced model has k − 1 ≥ 1 residual df).
    let (r2, tau2_reduced) = if with_r2 && intercept && p > 1 {
        let reduced = data.with_design(DMatrix::from_element(k, 1, 1.0), (k as f64).ln());
        if spec.method.is_fixed() {
            let h2_reduced = tau2::wls_at(&reduced, 0.0)?.rss() / (k - 1) as f64;
            (Some(pseudo_r2(h2_reduced, h2)), None)
        } else {
            let t0 = tau2::estimate(spec.method, &reduced)?.tau2;
            (Some(pseudo_r2(t0, est.tau2)), Some(t0))
        }
    } else {
        (None, None)
    };
    let heterogeneity = Heterogeneity {
        qe: rq.qe,
        qe_df: rq.df,
        qe_p: rq.p,
        i2,
        h2,
        typical_variance: rq.typical_variance,
        r2,
        tau2_reduced,
    };

    let likelihood = if spec.method == Tau2Method::Reml {
        Likelihood::Reml
    } else {
        Likelihood::Ml
    };
    let fit_statistics = fit_statistics(
        &f,
        &data.v,
        data.log_det_xtx,
        likelihood,
        !spec.method.is_fixed(),
    );

    Ok(Fit {
        spec: *spec,
        k,
        p,
        coefficients,
        vcov,
        tau2: est.tau2,
        tau2_se: est.se,
        tau: est.tau2.sqrt(),
        iterations: est.iterations,
        heterogeneity,
        moderators,
        knha_scale,
        fit_statistics,
        fitted: f.fitted(&data.y),
        residuals: f.resid.clone(),
        beta: f.coef.clone(),
        weights: f.w,
        data,
        intercept,
    })
}

/// Var(b) = (X'WX)⁻¹, times the Knapp–Hartung scale s² = Σ wᵢeᵢ²/(k − p) under that test.
pub(crate) fn scaled_vcov(f: &Wls, test: Test, k: usize, p: usize) -> (DMatrix<f64>, Option<f64>) {
    let knha_scale = (test == Test::KnappHartung).then(|| f.rss() / (k - p) as f64);
    (f.xtwx_inverse() * knha_scale.unwrap_or(1.0), knha_scale)
}

/// The columns the omnibus test covers: all but the intercept, or all without one.
pub(crate) fn moderator_columns(intercept: bool, p: usize) -> Vec<usize> {
    if intercept {
        (1..p).collect()
    } else {
        (0..p).collect()
    }
}

impl Fit {
    /// Wald-type test that the coefficients in `columns` (0-based design columns, e.g. all
    /// dummies of one factor from [`super::Term::columns`]) are all zero: χ² with m df, or
    /// under Knapp–Hartung F with (m, k − p) df.
    ///
    /// # Errors
    /// [`StatsError::InvalidColumns`] when `columns` is empty, repeats a column or names one
    /// the model does not have.
    pub fn wald_test(&self, columns: &[usize]) -> Result<WaldTest, StatsError> {
        self.reference()
            .wald(&self.beta, &self.vcov, columns, self.tau2)
    }

    /// The reference distribution of this fit's tests.
    pub(crate) fn reference(&self) -> Reference {
        Reference {
            test: self.spec.test,
            df: self.k - self.p,
        }
    }

    /// The effect sizes the model was fitted to.
    pub fn yi(&self) -> &[f64] {
        &self.data.y
    }

    /// The sampling variances the model was fitted to.
    pub fn vi(&self) -> &[f64] {
        &self.data.v
    }

    /// The k × p model matrix the model was fitted with.
    pub fn x(&self) -> &DMatrix<f64> {
        &self.data.x
    }

    /// Whether the model has an intercept (column 0).
    pub fn has_intercept(&self) -> bool {
        self.intercept
    }

    /// Coefficient names in design order.
    pub fn names(&self) -> Vec<String> {
        self.coefficients.iter().map(|c| c.name.clone()).collect()
    }
}
