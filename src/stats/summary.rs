//! Inference as a summary over a kind of covariance: estimation hands over the coefficients
//! and their model-based covariance (X'M⁻¹X)⁻¹; the tests and intervals of the coefficients,
//! the omnibus test QM and Wald tests of any set of columns come from one function of those
//! and a [`CovarianceKind`]. The fit, the permutation test and every refit use this path.
//!
//! Knapp–Hartung when the model reproduces the effects exactly (residual s² = 0): the
//! coefficients' standard errors are 0, their t statistics ±∞ (NaN for an estimate of exactly
//! 0), p-values 0 and intervals the estimate itself, as metafor reports them; QM is +∞ with
//! p-value 0 (metafor: NA) because it is the limit of b'(s²V)⁻¹b/m as s² → 0 (NaN when every
//! tested coefficient is 0). An s² below the rounding level of the data counts as 0, and so
//! does a coefficient of an exact fit below it (`Gls::coef_or_zero`), so rounding residue
//! cannot pass for precision, nor give a coefficient that is 0 an infinite statistic.
//! The JSON writers print the non-finite statistics as `null`.

use nalgebra::{DMatrix, DVector};
use statrs::distribution::{ChiSquared, ContinuousCDF, FisherSnedecor, Normal, StudentsT};

use super::{StatsError, Test};

/// How the covariance of the coefficients is estimated for tests and intervals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CovarianceKind {
    /// The model-based covariance (X'M⁻¹X)⁻¹ with normal and χ² references; metafor:
    /// `test = "z"`.
    ModelBased,
    /// Knapp & Hartung (2003): (X'M⁻¹X)⁻¹ times s² = y'Py/(k − p), not truncated, with t and F
    /// references on k − p df; metafor: `test = "knha"`.
    KnappHartung,
    /// The model-based covariance (X'M⁻¹X)⁻¹, unscaled, with t and F references on k − p df;
    /// metafor: `test = "t"` of `rma.mv` (which has no Knapp–Hartung scaling).
    ModelBasedT,
}

impl From<Test> for CovarianceKind {
    fn from(test: Test) -> Self {
        match test {
            Test::Z => Self::ModelBased,
            Test::KnappHartung => Self::KnappHartung,
        }
    }
}

/// One coefficient of a fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct Coefficient {
    /// Name of the design column (`intrcpt`, `ablat`, …).
    pub name: String,
    /// Estimate b.
    pub estimate: f64,
    /// Standard error (Knapp–Hartung scaled under `Test::KnappHartung`).
    pub se: f64,
    /// z or t statistic b / se.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Lower confidence bound.
    pub ci_lower: f64,
    /// Upper confidence bound.
    pub ci_upper: f64,
}

/// A Wald-type test that a set of coefficients are all zero (the omnibus test QM when the set
/// is every coefficient but the intercept).
#[derive(Debug, Clone, PartialEq)]
pub struct WaldTest {
    /// The tested coefficients (0-based columns of the design).
    pub columns: Vec<usize>,
    /// χ² statistic b'V⁻¹b under z tests; that divided by m, an F statistic, under
    /// Knapp–Hartung (as metafor reports QM).
    pub statistic: f64,
    /// Numerator degrees of freedom m (the number of coefficients tested).
    pub df: usize,
    /// Denominator degrees of freedom k − p of the F test; `None` for the χ² test.
    pub df2: Option<usize>,
    /// p-value.
    pub p_value: f64,
}

/// The coefficients' tests and intervals and the omnibus test under one covariance kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The covariance kind.
    pub kind: CovarianceKind,
    /// p × p covariance of the coefficients under this kind.
    pub vcov: DMatrix<f64>,
    /// Knapp–Hartung scale s² = y'Py/(k − p), not truncated at 1; `None` for other kinds.
    pub scale: Option<f64>,
    /// Coefficients in design order.
    pub coefficients: Vec<Coefficient>,
    /// Omnibus test of the moderators (every coefficient but the intercept; every coefficient
    /// in a model without intercept); `None` for an intercept-only model.
    pub moderators: Option<WaldTest>,
}

/// What estimation hands to inference.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Estimates<'a> {
    /// β.
    pub beta: &'a DVector<f64>,
    /// (X'M⁻¹X)⁻¹.
    pub model_vcov: &'a DMatrix<f64>,
    /// R with X'M⁻¹X = R'R (upper triangular), for Wald tests of trailing columns without
    /// inverting an inverse.
    pub r_factor: &'a DMatrix<f64>,
    /// y'Py of the raw effects at the estimates, 0 when below the rounding level.
    pub rss: f64,
    /// Number of studies.
    pub k: usize,
    /// Whether column 0 is the intercept (left out of the omnibus test).
    pub intercept: bool,
}

/// The reference distribution of the coefficients' statistics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Reference {
    /// N(0, 1).
    Normal,
    /// Student's t with `df` degrees of freedom.
    T {
        /// Degrees of freedom.
        df: f64,
    },
}

impl Reference {
    /// Two-sided critical value for level `level`.
    pub fn critical(self, level: f64) -> f64 {
        let upper = 1.0 - (1.0 - level) / 2.0;
        match self {
            Self::Normal => Normal::standard().inverse_cdf(upper),
            Self::T { df } => students_t(df).inverse_cdf(upper),
        }
    }

    /// Two-sided p-value of statistic `t`, from the upper tail so small values keep precision;
    /// 0 for an infinite statistic, NaN for NaN.
    pub fn p_value(self, t: f64) -> f64 {
        let a = t.abs();
        if a.is_nan() || a == f64::INFINITY {
            return if a.is_nan() { f64::NAN } else { 0.0 };
        }
        2.0 * match self {
            Self::Normal => Normal::standard().sf(a),
            Self::T { df } => students_t(df).sf(a),
        }
    }
}

/// The covariance of one kind, as tests need it: a base matrix and a scale (s² for
/// Knapp–Hartung, 1 otherwise), so that a scale of 0 gives infinite statistics instead of a
/// singular matrix.
#[derive(Debug, Clone)]
pub(crate) struct Tests {
    kind: CovarianceKind,
    base: DMatrix<f64>,
    /// R of the model-based information, when the base is (R'R)⁻¹.
    r_factor: Option<DMatrix<f64>>,
    scale: f64,
    reference: Reference,
    df2: Option<usize>,
    intercept: bool,
}

impl Tests {
    /// The tests of `est` under `kind`.
    pub fn new(est: &Estimates, kind: CovarianceKind) -> Self {
        let p = est.beta.len();
        let df = est.k - p;
        let (scale, reference, df2) = match kind {
            CovarianceKind::ModelBased => (1.0, Reference::Normal, None),
            CovarianceKind::KnappHartung => (
                est.rss / df as f64,
                Reference::T { df: df as f64 },
                Some(df),
            ),
            CovarianceKind::ModelBasedT => (1.0, Reference::T { df: df as f64 }, Some(df)),
        };
        Self {
            kind,
            base: est.model_vcov.clone(),
            r_factor: Some(est.r_factor.clone()),
            scale,
            reference,
            df2,
            intercept: est.intercept,
        }
    }

    /// The reference distribution of the coefficients' statistics.
    pub fn reference(&self) -> Reference {
        self.reference
    }

    /// The standard error of coefficient j.
    pub fn se(&self, j: usize) -> f64 {
        (self.scale * self.base[(j, j)]).sqrt()
    }

    /// The statistic of each coefficient, b / se.
    pub fn statistics(&self, beta: &DVector<f64>) -> Vec<f64> {
        (0..beta.len()).map(|j| beta[j] / self.se(j)).collect()
    }

    /// The columns of the omnibus test: all but the intercept, or all without one; empty for
    /// an intercept-only model.
    pub fn moderator_columns(&self, p: usize) -> Vec<usize> {
        let first = usize::from(self.intercept);
        (first..p).collect()
    }

    /// The Wald test of `columns`.
    ///
    /// # Errors
    /// [`StatsError::InvalidColumns`] for an empty set, a repeated column or one the model
    /// does not have; [`StatsError::NumericallySingular`] (at `tau2`, which labels it) when
    /// the covariance block is not positive definite in floating point.
    pub fn wald(
        &self,
        beta: &DVector<f64>,
        columns: &[usize],
        tau2: f64,
    ) -> Result<WaldTest, StatsError> {
        let p = beta.len();
        let mut sorted = columns.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        if columns.is_empty() || sorted.len() != columns.len() || sorted.iter().any(|&c| c >= p) {
            return Err(StatsError::InvalidColumns {
                columns: columns.to_vec(),
                p,
            });
        }
        let m = columns.len();
        let bs = DVector::from_iterator(m, columns.iter().map(|&c| beta[c]));
        let quadratic = match &self.r_factor {
            // The last m columns (the omnibus test of a model with intercept): with V = (R'R)⁻¹
            // and R upper triangular, V's trailing block is (R_SS'R_SS)⁻¹, so
            // b'V⁻¹b = ‖R_SS·b_S‖², read off the factor: no inverse of an inverse, whose
            // condition number is the square of the design's (near-collinear moderators).
            Some(r) if sorted.first() == Some(&(p - m)) => {
                let rss = r.view((p - m, p - m), (m, m)).upper_triangle();
                (rss * &bs).norm_squared()
            }
            _ => {
                let vs = DMatrix::from_fn(m, m, |i, j| self.base[(columns[i], columns[j])]);
                // The base is (X'M⁻¹X)⁻¹ of a full-rank design, so any principal block is
                // positive definite; a failure means the design is numerically singular.
                let chol = vs
                    .cholesky()
                    .ok_or(StatsError::NumericallySingular { tau2 })?;
                bs.dot(&chol.solve(&bs))
            }
        };
        // b'(s²V)⁻¹b = b'V⁻¹b / s²: +∞ when s² = 0, NaN when also b = 0.
        let chi2 = quadratic / self.scale;
        let (statistic, p_value) = match self.df2 {
            None => (chi2, upper_tail(chi2, |x| chi_squared(m as f64).sf(x))),
            Some(df2) => {
                let f = chi2 / m as f64;
                let dist = FisherSnedecor::new(m as f64, df2 as f64)
                    .expect("m ≥ 1 and k − p ≥ 1 are checked before fitting");
                (f, upper_tail(f, |x| dist.sf(x)))
            }
        };
        Ok(WaldTest {
            columns: columns.to_vec(),
            statistic,
            df: m,
            df2: self.df2,
            p_value,
        })
    }

    /// The whole summary: coefficients with intervals at `level` and the omnibus test.
    pub fn summarise(
        &self,
        beta: &DVector<f64>,
        names: &[String],
        level: f64,
        tau2: f64,
    ) -> Result<Summary, StatsError> {
        let crit = self.reference.critical(level);
        let coefficients = names
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let estimate = beta[j];
                let se = self.se(j);
                let statistic = estimate / se;
                Coefficient {
                    name: name.clone(),
                    estimate,
                    se,
                    statistic,
                    p_value: self.reference.p_value(statistic),
                    ci_lower: estimate - crit * se,
                    ci_upper: estimate + crit * se,
                }
            })
            .collect();
        let columns = self.moderator_columns(beta.len());
        let moderators = if columns.is_empty() {
            None
        } else {
            Some(self.wald(beta, &columns, tau2)?)
        };
        Ok(Summary {
            kind: self.kind,
            vcov: &self.base * self.scale,
            scale: (self.kind == CovarianceKind::KnappHartung).then_some(self.scale),
            coefficients,
            moderators,
        })
    }
}

/// The upper-tail probability `sf(x)`, 0 for x = +∞ and NaN for NaN.
pub(crate) fn upper_tail(x: f64, sf: impl Fn(f64) -> f64) -> f64 {
    if x.is_nan() {
        f64::NAN
    } else if x == f64::INFINITY {
        0.0
    } else {
        sf(x)
    }
}

/// Student's t with `df` > 0 degrees of freedom.
pub(crate) fn students_t(df: f64) -> StudentsT {
    StudentsT::new(0.0, 1.0, df).expect("df = k − p ≥ 1 is checked before fitting")
}

/// χ² with `df` > 0 degrees of freedom.
pub(crate) fn chi_squared(df: f64) -> ChiSquared {
    ChiSquared::new(df).expect("degrees of freedom are positive where a χ² test is made")
}
