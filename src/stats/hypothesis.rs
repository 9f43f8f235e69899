//! Linear hypotheses Lβ = 0 about the coefficients of a fit (metafor: `anova(res, X = L)`):
//! each row's combination l'b with its standard error, test and interval, and the joint Wald
//! test of all rows, under the fit's covariance kind (z and χ², or t and F under
//! Knapp–Hartung). A row such as (0, 1, −1) asks whether two levels of a factor differ.
//!
//! # Formula
//! For rows lⱼ and V the covariance of b: estimate lⱼ'b, SE √(lⱼ'Vlⱼ); the joint statistic is
//! (Lb)'(LVL')⁻¹(Lb), χ² on m = rows df, or divided by m an F on (m, k − p) df. V is the
//! model-based (X'M⁻¹X)⁻¹ times the Knapp–Hartung scale s², so, as for the omnibus test, s² = 0
//! gives infinite statistics rather than a singular matrix.

use nalgebra::{DMatrix, DVector};
use statrs::distribution::{ContinuousCDF, FisherSnedecor};

use super::summary::{chi_squared, upper_tail, Tests};
use super::{Fit, StatsError, WaldTest};

/// One combination l'β of the coefficients.
#[derive(Debug, Clone, PartialEq)]
pub struct Combination {
    /// The weights l, one per coefficient.
    pub weights: Vec<f64>,
    /// l'b.
    pub estimate: f64,
    /// Its standard error √(l'Vl).
    pub se: f64,
    /// z or t statistic.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Lower confidence bound at the fit's level.
    pub ci_lower: f64,
    /// Upper confidence bound.
    pub ci_upper: f64,
}

/// The combinations asked for and their joint test.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearHypotheses {
    /// One combination per row of L, in order.
    pub rows: Vec<Combination>,
    /// The joint test that every combination is 0 (its `columns` are empty: it tests rows).
    pub joint: WaldTest,
}

impl Fit {
    /// Tests of the linear combinations `rows` (each one weight per coefficient, in design
    /// order) and their joint test Lβ = 0.
    ///
    /// # Errors
    /// [`StatsError::InvalidContrast`] for no row, a row with the wrong number of weights,
    /// a non-finite weight or a row of zeros; [`StatsError::DependentContrasts`] when the rows
    /// are linearly dependent (the joint test would count one hypothesis twice).
    pub fn linear_hypotheses(&self, rows: &[Vec<f64>]) -> Result<LinearHypotheses, StatsError> {
        let p = self.p;
        if rows.is_empty() {
            return Err(StatsError::InvalidContrast {
                row: 0,
                expected: p,
                got: 0,
            });
        }
        for (i, r) in rows.iter().enumerate() {
            if r.len() != p || r.iter().any(|w| !w.is_finite()) || r.iter().all(|w| *w == 0.0) {
                return Err(StatsError::InvalidContrast {
                    row: i,
                    expected: p,
                    got: r.len(),
                });
            }
        }
        let m = rows.len();
        let l = DMatrix::from_fn(m, p, |i, j| rows[i][j]);
        let tests = Tests::new(&self.estimates(), self.spec.test.into());
        let reference = tests.reference();
        let crit = reference.critical(self.spec.level);
        let scale = self.knha_scale.unwrap_or(1.0);
        let lb: DVector<f64> = &l * &self.beta;
        let lvl = &l * self.model_vcov() * l.transpose();
        let combos = rows
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let estimate = lb[i];
                let se = (scale * lvl[(i, i)]).sqrt();
                let statistic = estimate / se;
                Combination {
                    weights: w.clone(),
                    estimate,
                    se,
                    statistic,
                    p_value: reference.p_value(statistic),
                    ci_lower: estimate - crit * se,
                    ci_upper: estimate + crit * se,
                }
            })
            .collect();
        // L V₀ L' is positive definite exactly when the rows are independent (V₀ is).
        let chol = lvl
            .cholesky()
            .ok_or(StatsError::DependentContrasts { rows: m })?;
        let chi2 = lb.dot(&chol.solve(&lb)) / scale;
        let df2 = self.knha_scale.map(|_| self.k - p);
        let (statistic, p_value) = match df2 {
            None => (chi2, upper_tail(chi2, |x| chi_squared(m as f64).sf(x))),
            Some(df2) => {
                let f = chi2 / m as f64;
                let dist = FisherSnedecor::new(m as f64, df2 as f64)
                    .expect("m ≥ 1 and k − p ≥ 1 under Knapp–Hartung");
                (f, upper_tail(f, |x| dist.sf(x)))
            }
        };
        Ok(LinearHypotheses {
            rows: combos,
            joint: WaldTest {
                columns: Vec::new(),
                statistic,
                df: m,
                df2,
                p_value,
            },
        })
    }
}
