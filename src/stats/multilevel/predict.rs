//! Predictions of a multilevel model: the fitted mean at given moderator values with its
//! confidence interval, and the prediction interval for a new true effect, whose variance is
//! the sum of the σ² components (metafor's `predict()` of an `rma.mv` fit without a structured
//! term, or with a CS term whose single τ² joins the sum), and the weights of the studies.

use nalgebra::DVector;

use super::MvFit;
use crate::stats::summary::Reference;
use crate::stats::{Prediction, StatsError, Test};

impl MvFit {
    /// Prediction at moderator values `x0`, one per coefficient with the intercept's 1 included.
    /// The critical value is normal, or t with k − p df under t tests, for both intervals.
    ///
    /// # Errors
    /// [`StatsError::WrongPredictorLength`], [`StatsError::NonFinitePredictor`], and
    /// [`StatsError::PredictionNeedsLevel`] for a structured term with several τ².
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
        let extra = match &self.structure {
            None => 0.0,
            Some(s) if s.tau2.len() == 1 => s.tau2[0],
            Some(_) => return Err(StatsError::PredictionNeedsLevel),
        };
        let x = DVector::from_column_slice(x0);
        let pred = x.dot(&self.state.beta);
        let se = x.dot(&(&self.vcov * &x)).max(0.0).sqrt();
        let reference = match self.spec.test {
            Test::Z => Reference::Normal,
            _ => Reference::T {
                df: (self.k - self.p) as f64,
            },
        };
        let crit = reference.critical(self.spec.level);
        let total: f64 = self.sigma2.iter().map(|s| s.estimate).sum::<f64>() + extra;
        let pi_half = crit * (se * se + total).sqrt();
        Ok(Prediction {
            pred,
            se,
            ci_lower: pred - crit * se,
            ci_upper: pred + crit * se,
            pi_lower: pred - pi_half,
            pi_upper: pred + pi_half,
        })
    }

    /// Each effect's weight in percent, in input order: the diagonal of the inverse marginal
    /// covariance W = M⁻¹ over its sum (metafor's `weights()` of an `rma.mv` fit, whose
    /// default type is the diagonal); what a bubble plot sizes its points by.
    pub fn weights(&self) -> Vec<f64> {
        let diagonal = self.state.model.inverse_diagonal();
        let total: f64 = diagonal.iter().sum();
        let mut weights = vec![f64::NAN; diagonal.len()];
        for (&row, w) in self.state.order.iter().zip(&diagonal) {
            weights[row] = 100.0 * w / total;
        }
        weights
    }
}
