//! Tests and intervals for coefficients: z or Knapp–Hartung t, Wald-type omnibus tests.

use nalgebra::{DMatrix, DVector};
use statrs::distribution::{ChiSquared, ContinuousCDF, FisherSnedecor, Normal, StudentsT};

use super::{StatsError, Test};

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

/// The reference distribution of a fit's tests: normal, or t with `df` degrees of freedom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Reference {
    /// The test.
    pub test: Test,
    /// k − p, the residual degrees of freedom.
    pub df: usize,
}

impl Reference {
    /// Two-sided critical value for level `level`.
    pub fn critical(&self, level: f64) -> f64 {
        let upper = 1.0 - (1.0 - level) / 2.0;
        match self.test {
            Test::Z => standard_normal().inverse_cdf(upper),
            Test::KnappHartung => students_t(self.df).inverse_cdf(upper),
        }
    }

    /// Two-sided p-value of statistic `t`, from the upper tail so small values keep precision.
    pub fn p_value(&self, t: f64) -> f64 {
        let a = t.abs();
        2.0 * match self.test {
            Test::Z => standard_normal().sf(a),
            Test::KnappHartung => students_t(self.df).sf(a),
        }
    }

    /// Wald test of `columns` for coefficients `b` with covariance `vcov`, estimated at `tau2`
    /// (which only labels a numerical failure).
    pub fn wald(
        &self,
        b: &DVector<f64>,
        vcov: &DMatrix<f64>,
        columns: &[usize],
        tau2: f64,
    ) -> Result<WaldTest, StatsError> {
        let p = b.len();
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
        let bs = DVector::from_iterator(m, columns.iter().map(|&c| b[c]));
        let vs = DMatrix::from_fn(m, m, |i, j| vcov[(columns[i], columns[j])]);
        // vcov is (X'WX)⁻¹ (times s²) of a full-rank design, so any principal block is
        // positive definite; a failure here means the design is numerically singular.
        let chol = vs
            .cholesky()
            .ok_or(StatsError::NumericallySingular { tau2 })?;
        let chi2 = bs.dot(&chol.solve(&bs));
        Ok(match self.test {
            Test::Z => WaldTest {
                columns: columns.to_vec(),
                statistic: chi2,
                df: m,
                df2: None,
                p_value: chi_squared(m as f64).sf(chi2),
            },
            Test::KnappHartung => {
                let f = chi2 / m as f64;
                let dist = FisherSnedecor::new(m as f64, self.df as f64)
                    .expect("m ≥ 1 and k − p ≥ 1 are checked before fitting");
                WaldTest {
                    columns: columns.to_vec(),
                    statistic: f,
                    df: m,
                    df2: Some(self.df),
                    p_value: dist.sf(f),
                }
            }
        })
    }
}

/// N(0, 1).
pub(crate) fn standard_normal() -> Normal {
    Normal::standard()
}

/// Student's t with `df` ≥ 1 degrees of freedom.
pub(crate) fn students_t(df: usize) -> StudentsT {
    StudentsT::new(0.0, 1.0, df as f64).expect("df = k − p ≥ 1 is checked before fitting")
}

/// χ² with `df` > 0 degrees of freedom.
pub(crate) fn chi_squared(df: f64) -> ChiSquared {
    ChiSquared::new(df).expect("degrees of freedom are positive where a χ² test is made")
}
