//! Tests for small-study effects (funnel-plot asymmetry): Egger's regression test.
//!
//! The model is refitted with each study's standard error √vᵢ as one more moderator, with the
//! same τ² estimator, test and level (Egger et al., 1997, as Sterne & Egger, 2005, extend it to
//! random- and mixed-effects models); the test of that coefficient is the test for asymmetry.
//! metafor: `regtest(res)` with its defaults `model = "rma"`, `predictor = "sei"`.

use super::{Coefficient, Design, Fit, StatsError, Test};

/// The name of the standard-error column added to the design.
const PREDICTOR: &str = "sei";

/// The result of Egger's regression test.
#[derive(Debug, Clone, PartialEq)]
pub struct Regtest {
    /// The standard error's coefficient: its statistic (z, or t under Knapp–Hartung) and
    /// p-value are the test for funnel-plot asymmetry; metafor: `zval`, `pval`.
    pub slope: Coefficient,
    /// Degrees of freedom k − p − 1 of the t test under Knapp–Hartung; `None` for z tests.
    pub df: Option<usize>,
    /// The limit estimate, the intercept of the test model: the effect expected of a study with
    /// standard error 0 (Rücker et al., 2011). metafor reports it (`est`, `ci.lb`, `ci.ub`)
    /// only for models without moderators, and so does this: `None` otherwise.
    pub limit: Option<Coefficient>,
    /// τ² of the test model (residual heterogeneity once the standard error is accounted for).
    pub tau2: f64,
}

impl Fit {
    /// Egger's regression test for funnel-plot asymmetry of this model; metafor:
    /// `regtest(res)`.
    ///
    /// # Errors
    /// What refitting the model with the standard errors as a further moderator can give:
    /// [`StatsError::TooFewStudies`] (the test model has one more coefficient),
    /// [`StatsError::RankDeficient`] when the standard errors are a combination of the
    /// moderators (for example all equal, in a model with an intercept), or non-convergence.
    pub fn regtest(&self) -> Result<Regtest, StatsError> {
        let (k, p) = (self.k, self.p);
        let mut x = self.x().clone().resize_horizontally(p + 1, 0.0);
        for (i, v) in self.vi().iter().enumerate() {
            x[(i, p)] = v.sqrt();
        }
        let mut names = self.names();
        names.push(PREDICTOR.to_owned());
        let design = Design {
            x,
            names,
            intercept: self.has_intercept(),
            terms: Vec::new(),
        };
        let test_fit = self.valid_spec().fit(self.yi(), self.vi(), &design)?;
        let slope = test_fit.coefficients[p].clone();
        let limit = (p == 1 && self.has_intercept()).then(|| test_fit.coefficients[0].clone());
        Ok(Regtest {
            slope,
            df: (self.spec.test == Test::KnappHartung).then_some(k - p - 1),
            limit,
            tau2: test_fit.tau2_or_zero(),
        })
    }
}
