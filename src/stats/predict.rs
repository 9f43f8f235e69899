//! Predictions at given moderator values: the fitted mean with its confidence interval and the
//! prediction interval for the true effect of a new study.

use nalgebra::DVector;

use super::{Fit, StatsError};

/// A predicted effect at one set of moderator values.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// x₀'b.
    pub pred: f64,
    /// √(x₀'·Var(b)·x₀).
    pub se: f64,
    /// pred − crit·se.
    pub ci_lower: f64,
    /// pred + crit·se.
    pub ci_upper: f64,
    /// pred − crit·√(se² + τ²): where the true effect of a new study is expected to lie.
    pub pi_lower: f64,
    /// pred + crit·√(se² + τ²).
    pub pi_upper: f64,
}

impl Fit {
    /// Prediction at moderator values `x0`, one per coefficient and the intercept's 1 included
    /// (e.g. `[1.0, 30.0]` for latitude 30 in `yi ~ ablat`). The critical value is normal, or
    /// t with k − p df under Knapp–Hartung, for both intervals (metafor's default).
    ///
    /// # Errors
    /// [`StatsError::WrongPredictorLength`] or [`StatsError::NonFinitePredictor`].
    pub fn predict(&self, x0: &[f64]) -> Result<Prediction, StatsError> {
        if x0.len() != self.p {
            return Err(StatsError::WrongPredictorLength {
                expected: self.p,
                got: x0.len(),
            });
        }
        if let Some(index) = x0.iter().position(|x| !x.is_finite()) {
            return Err(StatsError::NonFinitePredictor { index });
        }
        Ok(self.predict_with(&DVector::from_column_slice(x0), self.prediction_critical()))
    }

    /// The prediction at each study's own moderator values (row i of the model matrix), as
    /// [`Fit::predict`] gives them one at a time: metafor's `fitted()` with intervals.
    pub fn predict_rows(&self) -> impl ExactSizeIterator<Item = Prediction> + '_ {
        let crit = self.prediction_critical();
        let mut x = DVector::zeros(self.p);
        (0..self.k).map(move |i| {
            x.iter_mut()
                .zip(self.data.x.row(i).iter())
                .for_each(|(a, b)| *a = *b);
            self.predict_with(&x, crit)
        })
    }

    /// The critical value of both intervals: normal, or t with k − p df under Knapp–Hartung.
    fn prediction_critical(&self) -> f64 {
        super::summary::Tests::new(&self.estimates(), self.spec.test.into())
            .reference()
            .critical(self.spec.level)
    }

    /// The prediction at `x` (checked) with critical value `crit`.
    fn predict_with(&self, x: &DVector<f64>, crit: f64) -> Prediction {
        let pred = x.dot(&self.beta);
        let se = x.dot(&(&self.vcov * x)).max(0.0).sqrt();
        let pi_half = crit * (se * se + self.tau2_or_zero()).sqrt();
        Prediction {
            pred,
            se,
            ci_lower: pred - crit * se,
            ci_upper: pred + crit * se,
            pi_lower: pred - pi_half,
            pi_upper: pred + pi_half,
        }
    }
}
