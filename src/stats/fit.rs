//! Fitting a fixed-, random- or mixed-effects model: the one entry point [`fit`] and the plain
//! record [`Fit`] that printing and plotting only read.

use nalgebra::{DMatrix, DVector};

use super::gls::Gls;
use super::heterogeneity::{pseudo_r2, Heterogeneity, PseudoR2};
use super::input::Inputs;
use super::intercept::intercept_only_tau2;
use super::likelihood::{fit_statistics, FitStatistics, Likelihood};
use super::objective::RAW;
use super::summary::{Coefficient, CovarianceKind, Estimates, Summary, Tests, WaldTest};
use super::tau2::{self, FixedEffect, Tau2Estimate};
use super::variance::{Parameter, ParameterKind, VarianceComponent};
use super::{Design, ModelSpec, StatsError, Tau2Method, Test, ValidSpec};

/// A fitted model: y = Xβ + u + ε, u ~ N(0, τ²), ε ~ N(0, vᵢ).
#[derive(Debug, Clone)]
pub struct Fit {
    /// The settings it was fitted with.
    pub spec: ModelSpec,
    /// Number of studies.
    pub k: usize,
    /// Number of coefficients.
    pub p: usize,
    /// Coefficients in design order, tested under `spec.test` (the [`Summary`] of that kind).
    pub coefficients: Vec<Coefficient>,
    /// p × p covariance matrix of the coefficients under `spec.test` (Knapp–Hartung scaled
    /// under that test; [`Fit::model_vcov`] is the unscaled one).
    pub vcov: DMatrix<f64>,
    /// Omnibus test of the moderators under `spec.test` (every coefficient but the intercept;
    /// every coefficient in a model without intercept); `None` for an intercept-only model.
    pub moderators: Option<WaldTest>,
    /// Knapp–Hartung scale s² = Σ wᵢeᵢ²/(k − p), not truncated at 1 (0 when the model
    /// reproduces the effects exactly); `None` under z tests.
    pub knha_scale: Option<f64>,
    /// QE, I², H².
    pub heterogeneity: Heterogeneity,
    /// Log-likelihood and information criteria (restricted likelihood for REML, full
    /// likelihood otherwise, as metafor reports them).
    pub fit_statistics: FitStatistics,
    /// Weights used, wᵢ = 1/(vᵢ + τ²) (metafor's `weights()` reports 100·wᵢ/Σw).
    pub weights: Vec<f64>,
    /// Fitted values xᵢ'b.
    pub fitted: Vec<f64>,
    /// Residuals yᵢ − xᵢ'b.
    pub residuals: Vec<f64>,
    /// The variance parameters (τ² for every model of `rma.uni`).
    variance: Vec<VarianceComponent>,
    /// Iterations of the variance estimator (0 for closed forms).
    iterations: usize,
    /// (X'M⁻¹X)⁻¹.
    model_vcov: DMatrix<f64>,
    /// R with X'M⁻¹X = R'R.
    r_factor: DMatrix<f64>,
    /// y'Py of the raw effects, 0 below the rounding level.
    rss: f64,
    /// Hat values.
    hat: Vec<f64>,
    /// Q(0) of the centred and the raw effects ([`FixedEffect::q0`]), where the Q-profile
    /// intervals start.
    pub(crate) q0: [f64; 2],
    /// The studies and design, kept for predictions, tests and refits.
    pub(crate) data: Inputs,
    /// Whether column 0 is the intercept.
    pub(crate) intercept: bool,
    /// Coefficient estimates as a vector.
    pub(crate) beta: DVector<f64>,
    /// The checked settings.
    valid: ValidSpec,
}

/// Fits the model to effect sizes `yi` with sampling variances `vi` and the given design:
/// `spec.check()?.fit(yi, vi, design)`.
///
/// # Errors
/// Unusable settings ([`ModelSpec::check`]), invalid data (lengths, non-finite values,
/// non-positive variances), a rank-deficient design, too few studies (k ≤ p when τ² or the
/// Knapp–Hartung scale must be estimated) and non-convergence are reported as
/// [`StatsError`].
///
/// # Examples
/// ```
/// use meridian::stats::{fit, Design, ModelSpec, Tau2Method};
/// let yi = [-0.89, -1.59, -1.35, -1.44, -0.22, -0.79];
/// let vi = [0.33, 0.19, 0.42, 0.02, 0.05, 0.01];
/// let spec = ModelSpec { method: Tau2Method::Dl, ..ModelSpec::default() };
/// let f = fit(&yi, &vi, &Design::intercept_only(6), &spec)?;
/// // metafor: rma(yi, vi, method = "DL") gives tau^2 = 0.2086337, estimate -0.9883173.
/// assert!((f.tau2().unwrap() - 0.2086337).abs() < 1e-7);
/// assert!((f.coefficients[0].estimate + 0.9883173).abs() < 1e-7);
/// # Ok::<(), meridian::stats::StatsError>(())
/// ```
pub fn fit(yi: &[f64], vi: &[f64], design: &Design, spec: &ModelSpec) -> Result<Fit, StatsError> {
    spec.check()?.fit(yi, vi, design)
}

impl ValidSpec {
    /// Fits the model with these settings to effect sizes `yi` with sampling variances `vi`
    /// and the given design.
    ///
    /// # Errors
    /// As [`fit`], except for the settings, which are already checked.
    pub fn fit(&self, yi: &[f64], vi: &[f64], design: &Design) -> Result<Fit, StatsError> {
        let data = Inputs::new(yi, vi, design)?;
        fit_inputs(data, design.intercept, &design.names, self, None)
    }
}

/// The estimation step every fit and refit shares: the fixed-effect fit, τ² and the GLS fit at
/// it.
pub(crate) struct Estimated {
    /// The fixed-effect fit (weights 1/vᵢ).
    pub fe: FixedEffect,
    /// τ².
    pub tau2: Tau2Estimate,
    /// The GLS fit of both responses at τ².
    pub gls: Gls,
}

impl Estimated {
    /// Estimates the model on `data`; `warm` is a start for iterative estimators.
    pub fn new(data: &Inputs, spec: &ValidSpec, warm: Option<f64>) -> Result<Self, StatsError> {
        let (k, p) = (data.k(), data.p());
        let needs_df = !spec.method().is_fixed() || spec.test() == Test::KnappHartung;
        if needs_df && k <= p {
            return Err(StatsError::TooFewStudies { k, p });
        }
        let mut fe = FixedEffect::new(data)?;
        let (tau2, gls) = tau2::estimate(spec.method(), data, &mut fe, &spec.control(), warm)?;
        Ok(Self { fe, tau2, gls })
    }

    /// The coefficients and their model-based covariance, as inference needs them.
    pub fn estimates<'a>(
        &self,
        beta: &'a DVector<f64>,
        model_vcov: &'a DMatrix<f64>,
        r_factor: &'a DMatrix<f64>,
        intercept: bool,
    ) -> Estimates<'a> {
        Estimates {
            beta,
            model_vcov,
            r_factor,
            rss: self.gls.rss_or_zero(RAW),
            k: self.gls.k(),
            intercept,
        }
    }
}

impl ValidSpec {
    /// Fits the model with τ² fixed at `tau2` instead of estimated (metafor:
    /// `rma(yi, vi, tau2 = …)`), as Cochrane's subgroup analysis with one common τ² does: the
    /// coefficients, tests and I² at that τ², which counts as no estimated parameter in the
    /// information criteria and has no standard error.
    ///
    /// # Errors
    /// As [`ValidSpec::fit`]; [`StatsError::InvalidParameters`] for a negative or non-finite
    /// τ².
    pub fn fit_at_tau2(
        &self,
        yi: &[f64],
        vi: &[f64],
        design: &Design,
        tau2: f64,
    ) -> Result<Fit, StatsError> {
        if !(tau2.is_finite() && tau2 >= 0.0) {
            return Err(StatsError::InvalidParameters { given: vec![tau2] });
        }
        let data = Inputs::new(yi, vi, design)?;
        if self.test() == Test::KnappHartung && data.k() <= data.p() {
            return Err(StatsError::TooFewStudies {
                k: data.k(),
                p: data.p(),
            });
        }
        let est = Estimated {
            fe: FixedEffect::new(&data)?,
            tau2: Tau2Estimate {
                tau2,
                se: None,
                iterations: 0,
            },
            gls: tau2::gls_at(&data, tau2)?,
        };
        assemble(data, design.intercept, &design.names, self, est, true)
    }
}

/// Fits validated inputs; `warm` starts an iterative estimator from a previous estimate.
pub(crate) fn fit_inputs(
    data: Inputs,
    intercept: bool,
    names: &[String],
    spec: &ValidSpec,
    warm: Option<f64>,
) -> Result<Fit, StatsError> {
    let est = Estimated::new(&data, spec, warm)?;
    assemble(data, intercept, names, spec, est, false)
}

/// The fit of `data` at the estimate `est`; `given` when τ² was given rather than estimated.
fn assemble(
    data: Inputs,
    intercept: bool,
    names: &[String],
    spec: &ValidSpec,
    est: Estimated,
    given: bool,
) -> Result<Fit, StatsError> {
    let (k, p) = (data.k(), data.p());
    let method = spec.method();
    let tau2 = est.tau2.tau2;
    let heterogeneity = Heterogeneity::new(&est.fe, k, p, tau2, method.is_fixed());
    let variance = vec![VarianceComponent {
        parameter: Parameter {
            name: "tau2".to_owned(),
            kind: ParameterKind::Variance,
        },
        estimate: tau2,
        se: est.tau2.se,
        fixed: method.is_fixed() || given,
    }];
    Fit::from_parts(Parts {
        weights: data.v.iter().map(|v| 1.0 / (v + tau2)).collect(),
        data,
        intercept,
        names,
        spec,
        gls: est.gls,
        variance,
        heterogeneity,
        q0: est.fe.q0,
        iterations: est.tau2.iterations,
        label: tau2,
    })
}

/// What a fit is made of once its variance parameters are estimated, whatever the variance
/// model: the GLS fit at the estimates gives coefficients, tests and likelihood.
pub(crate) struct Parts<'a> {
    /// The studies and design.
    pub data: Inputs,
    /// Whether column 0 is the intercept.
    pub intercept: bool,
    /// Coefficient names.
    pub names: &'a [String],
    /// The settings.
    pub spec: &'a ValidSpec,
    /// The GLS fit of the centred and the raw effects at the estimates.
    pub gls: Gls,
    /// The variance parameters; those not fixed count in the information criteria.
    pub variance: Vec<VarianceComponent>,
    /// Weights 1/Mᵢᵢ.
    pub weights: Vec<f64>,
    /// QE, I², H².
    pub heterogeneity: Heterogeneity,
    /// Q(0) of both responses, from the fixed-effect fit.
    pub q0: [f64; 2],
    /// Iterations of the estimator.
    pub iterations: usize,
    /// The value that labels a numerically singular covariance in errors (τ²).
    pub label: f64,
}

impl Fit {
    /// The fit made of `parts`.
    pub(crate) fn from_parts(parts: Parts) -> Result<Fit, StatsError> {
        let Parts {
            data,
            intercept,
            names,
            spec,
            gls,
            variance,
            weights,
            heterogeneity,
            q0,
            iterations,
            label,
        } = parts;
        let (k, p) = (data.k(), data.p());
        let beta = gls.coef_or_zero(RAW);
        let model_vcov = gls.inverse_xtmx();
        let r_factor = gls.r_factor();
        let rss = gls.rss_or_zero(RAW);
        let estimates = Estimates {
            beta: &beta,
            model_vcov: &model_vcov,
            r_factor: &r_factor,
            rss,
            k,
            intercept,
        };
        let summary = Tests::new(&estimates, spec.test().into()).summarise(
            &beta,
            names,
            spec.level(),
            label,
        )?;
        let likelihood = if spec.method() == Tau2Method::Reml {
            Likelihood::Reml
        } else {
            Likelihood::Ml
        };
        let estimated = variance.iter().filter(|c| !c.fixed).count();
        let fit_statistics = fit_statistics(&gls, &data.v, data.log_det_xtx, likelihood, estimated);
        let fitted: Vec<f64> = (&data.x * &beta).data.into();
        let residuals = data.y.iter().zip(&fitted).map(|(y, f)| y - f).collect();
        let Summary {
            vcov,
            scale,
            coefficients,
            moderators,
            ..
        } = summary;
        Ok(Fit {
            spec: *spec.spec(),
            k,
            p,
            coefficients,
            vcov,
            moderators,
            knha_scale: scale,
            heterogeneity,
            fit_statistics,
            weights,
            fitted,
            residuals,
            variance,
            iterations,
            model_vcov,
            r_factor,
            rss,
            hat: gls.into_hat(),
            q0,
            data,
            intercept,
            beta,
            valid: *spec,
        })
    }
}

impl Fit {
    /// The variance parameters with their estimates, in the model's order (for every model
    /// of `rma.uni` one: `tau2`).
    pub fn variance_components(&self) -> &[VarianceComponent] {
        &self.variance
    }

    /// The between-study variance τ² of a model with one (0 for FE/EE, where it is fixed);
    /// `None` for a model without a single τ².
    pub fn tau2(&self) -> Option<f64> {
        self.tau2_component().map(|c| c.estimate)
    }

    /// The standard error of τ² as metafor computes it for the estimator; `None` for FE/EE
    /// or a model without a single τ².
    pub fn tau2_se(&self) -> Option<f64> {
        self.tau2_component().and_then(|c| c.se)
    }

    /// τ = √τ².
    pub fn tau(&self) -> Option<f64> {
        self.tau2().map(f64::sqrt)
    }

    fn tau2_component(&self) -> Option<&VarianceComponent> {
        match self.variance.as_slice() {
            [c] if c.parameter.name == "tau2" => Some(c),
            _ => None,
        }
    }

    /// τ² for intervals and refits: the single τ² (0 for FE/EE).
    pub(crate) fn tau2_or_zero(&self) -> f64 {
        self.tau2().unwrap_or(0.0)
    }

    /// Iterations of the variance estimator (0 for closed forms).
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// The hat values hᵢ, the diagonal of X(X'M⁻¹X)⁻¹X'M⁻¹ (metafor: `hatvalues()`); they add
    /// up to p.
    pub fn hat_values(&self) -> &[f64] {
        &self.hat
    }

    /// The model-based covariance (X'M⁻¹X)⁻¹ of the coefficients, before any adjustment.
    pub fn model_vcov(&self) -> &DMatrix<f64> {
        &self.model_vcov
    }

    /// The checked settings of this fit.
    pub fn valid_spec(&self) -> &ValidSpec {
        &self.valid
    }

    /// The settings a single study of this fit's data is fitted with, as metafor fits one
    /// (`rma` with k = 1): the fixed-effect model with a z test, since neither τ² nor the
    /// Knapp–Hartung scale can be estimated from one effect.
    pub(crate) fn single_study_spec(&self) -> ValidSpec {
        ModelSpec {
            method: Tau2Method::Fe,
            test: Test::Z,
            ..self.spec
        }
        .check()
        .expect("the level and control were checked with the fit's own settings")
    }

    /// What inference reads of this fit.
    pub(crate) fn estimates(&self) -> Estimates<'_> {
        Estimates {
            beta: &self.beta,
            model_vcov: &self.model_vcov,
            r_factor: &self.r_factor,
            rss: self.rss,
            k: self.k,
            intercept: self.intercept,
        }
    }

    /// Tests, intervals and the omnibus test under another kind of covariance (the fit's own
    /// kind is already in [`Fit::coefficients`] and [`Fit::moderators`]).
    ///
    /// # Errors
    /// [`StatsError::NumericallySingular`] when a covariance block is not positive definite in
    /// floating point.
    pub fn summary(&self, kind: CovarianceKind) -> Result<Summary, StatsError> {
        Tests::new(&self.estimates(), kind).summarise(
            &self.beta,
            &self.names(),
            self.spec.level,
            self.tau2_or_zero(),
        )
    }

    /// Wald-type test that the coefficients in `columns` (0-based design columns, e.g. all
    /// dummies of one factor from [`super::Term::columns`]) are all zero: χ² with m df, or
    /// under Knapp–Hartung F with (m, k − p) df.
    ///
    /// # Errors
    /// [`StatsError::InvalidColumns`] when `columns` is empty, repeats a column or names one
    /// the model does not have.
    pub fn wald_test(&self, columns: &[usize]) -> Result<WaldTest, StatsError> {
        Tests::new(&self.estimates(), self.spec.test.into()).wald(
            &self.beta,
            columns,
            self.tau2_or_zero(),
        )
    }

    /// The omnibus test metafor reports as QM: the test of the moderators
    /// ([`Fit::moderators`]), or in an intercept-only model the test of the intercept
    /// (QM = z², or F = t² with (1, k − 1) df under Knapp–Hartung).
    ///
    /// # Errors
    /// [`StatsError::NumericallySingular`] when the covariance is not positive definite in
    /// floating point.
    pub fn omnibus_test(&self) -> Result<WaldTest, StatsError> {
        match &self.moderators {
            Some(m) => Ok(m.clone()),
            None => self.wald_test(&[0]),
        }
    }

    /// The number of estimated parameters: the coefficients and the variance parameters that
    /// are not fixed (metafor's `parms`, the df of `anova` and the penalty of AIC).
    pub fn estimated_parameters(&self) -> usize {
        self.p + self.variance.iter().filter(|c| !c.fixed).count()
    }

    /// The pseudo-R² of a meta-regression (Raudenbush, 2009), computed on request because it
    /// needs the intercept-only model on the same studies; `None` without an intercept,
    /// without moderators, or when k = p (no residual heterogeneity to explain). metafor:
    /// `res$R2`.
    ///
    /// # Errors
    /// What fitting the intercept-only model can give (non-convergence).
    pub fn pseudo_r2(&self) -> Result<Option<PseudoR2>, StatsError> {
        self.pseudo_r2_from(None)
    }

    /// As [`Fit::pseudo_r2`], the iterative estimator of τ²₀ started from `warm` (a refit's
    /// full-data τ²₀).
    pub(crate) fn pseudo_r2_from(&self, warm: Option<f64>) -> Result<Option<PseudoR2>, StatsError> {
        let (k, p) = (self.k, self.p);
        // A location-scale model has no single residual τ² to compare.
        if !self.intercept || p < 2 || k <= p || self.tau2().is_none() {
            return Ok(None);
        }
        let method = self.spec.method;
        let control = self.spec.control;
        // ML and REML in O(k) scalars, without a k × 1 design and its QR at every trial τ².
        if let Some(t0) = intercept_only_tau2(&self.data, method, &control, warm) {
            let t0 = t0?;
            return Ok(Some(PseudoR2 {
                r2: pseudo_r2(t0, self.tau2_or_zero()),
                reduced: t0,
            }));
        }
        let reduced = self
            .data
            .with_design(DMatrix::from_element(k, 1, 1.0), (k as f64).ln());
        let mut fe = FixedEffect::new(&reduced)?;
        Ok(Some(if method.is_fixed() {
            let h2_reduced = fe.qe / (k - 1) as f64;
            PseudoR2 {
                r2: pseudo_r2(h2_reduced, self.heterogeneity.h2),
                reduced: h2_reduced,
            }
        } else {
            let t0 = tau2::estimate(method, &reduced, &mut fe, &control, warm)?
                .0
                .tau2;
            PseudoR2 {
                r2: pseudo_r2(t0, self.tau2_or_zero()),
                reduced: t0,
            }
        }))
    }

    /// The log-likelihood of [`Fit::fit_statistics`] (restricted for REML fits, full
    /// otherwise) with β profiled out, at other values `theta` of the variance parameters (in
    /// the order of [`Fit::variance_components`]); at the estimates it is
    /// `fit_statistics.loglik`. metafor: `profile()`.
    ///
    /// # Errors
    /// [`StatsError::InvalidParameters`] for a θ of the wrong length or outside its bounds,
    /// [`StatsError::NumericallySingular`] when the weighted design is singular there.
    pub fn log_likelihood_at(&self, theta: &[f64]) -> Result<f64, StatsError> {
        let inside = theta.iter().zip(&self.variance).all(|(t, c)| {
            let (lo, hi) = c.parameter.kind.bounds();
            *t >= lo && *t <= hi
        });
        if theta.len() != self.variance.len() || !inside {
            return Err(StatsError::InvalidParameters {
                given: theta.to_vec(),
            });
        }
        let gls = tau2::gls_at(&self.data, theta[0])?;
        Ok(fit_statistics(
            &gls,
            &self.data.v,
            self.data.log_det_xtx,
            self.fit_statistics.likelihood,
            0,
        )
        .loglik)
    }

    /// The same model refitted to the studies `rows` (0-based, for example every study but
    /// one for leave-one-out), the variance estimator started from this fit's estimate.
    ///
    /// # Errors
    /// [`StatsError::InvalidRows`] for a study the model does not have, and what fitting the
    /// subset gives (too few studies, a rank-deficient design, non-convergence).
    pub fn refit(&self, rows: &[usize]) -> Result<Fit, StatsError> {
        self.refit_with(rows, &self.valid)
    }

    /// As [`Fit::refit`], with other settings (a single study's fixed-effect fit).
    pub(crate) fn refit_with(&self, rows: &[usize], spec: &ValidSpec) -> Result<Fit, StatsError> {
        let names = self.names();
        let data = self.data.subset(rows, &names)?;
        fit_inputs(
            data,
            self.intercept,
            &names,
            spec,
            Some(self.tau2_or_zero()),
        )
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
