//! One study's regression of the outcome on treatment, covariate and (optionally) their
//! interaction: least squares for a continuous outcome, logistic regression by iteratively
//! reweighted least squares (IRLS) for a binary one, both through the Householder QR of
//! [`crate::stats`] so that neither forms normal equations.
//!
//! The standard errors are R's `glm` ones: σ̂²(X'X)⁻¹ with σ̂² = RSS/(n − p) for the gaussian
//! family, (X'WX)⁻¹ at the estimate for the binomial one.

use super::{Family, IpdError};
use crate::stats::qr::Qr;

/// Relative change of the deviance at which IRLS has converged (R's `glm.control(epsilon)`
/// criterion |Δdev|/(|dev| + 0.1)); two further Newton steps follow (see [`logistic`]).
const IRLS_TOL: f64 = 1e-12;
/// Most IRLS iterations: a logistic regression with a finite maximum converges in well under
/// 30; one that does not has none (separation).
const IRLS_MAX_ITER: usize = 100;
/// A fitted probability this close to 0 or 1 during the iteration means the maximum lies at
/// infinity (R's warning "fitted probabilities numerically 0 or 1 occurred" uses 10 machine
/// epsilons); below it the IRLS weights would divide by 0.
const BOUNDARY: f64 = 10.0 * f64::EPSILON;
/// A fitted probability this close to 0 or 1 at convergence means quasi-complete separation:
/// the deviance has stopped changing only because the separated participants' terms are
/// already negligible while their coefficient runs away (odds of 1e-10, a linear predictor
/// beyond ±23, are not a real participant's risk).
const SEPARATED: f64 = 1e-10;

/// The coefficients and standard errors of one regression, in the order of the design's
/// columns: intercept, treatment, covariate[, treatment × covariate].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Coefficients {
    /// Estimates.
    pub estimate: Vec<f64>,
    /// Standard errors.
    pub se: Vec<f64>,
}

/// One study's participants as the regressions read them.
pub(crate) struct Participants<'a> {
    /// The study's label, for errors.
    pub study: &'a str,
    /// Treatment, 0 or 1.
    pub treat: &'a [f64],
    /// The covariate.
    pub covariate: &'a [f64],
    /// The outcome (0 or 1 for the binomial family).
    pub outcome: &'a [f64],
}

impl Participants<'_> {
    /// Writes the n × p design, column-major, each column scaled row-wise by `scale`:
    /// 1, treatment, covariate and, when p = 4, their product.
    fn fill(&self, p: usize, scale: &[f64], a: &mut [f64]) {
        let n = self.treat.len();
        for i in 0..n {
            let (t, x, s) = (self.treat[i], self.covariate[i], scale[i]);
            a[i] = s;
            a[n + i] = s * t;
            a[2 * n + i] = s * x;
            if p == 4 {
                a[3 * n + i] = s * t * x;
            }
        }
    }

    /// Fits the regression with `p` columns (3: no interaction; 4: with it) in `family`.
    pub fn regress(&self, p: usize, family: Family) -> Result<Coefficients, IpdError> {
        match family {
            Family::Gaussian => self.least_squares(p),
            Family::Binomial => self.logistic(p),
        }
    }

    /// Ordinary least squares, σ̂² = RSS/(n − p).
    fn least_squares(&self, p: usize) -> Result<Coefficients, IpdError> {
        let n = self.treat.len();
        let ones = vec![1.0; n];
        let mut qr = Qr::default();
        if !qr.factorise(n, p, |a| self.fill(p, &ones, a)) {
            return Err(self.collinear());
        }
        let (mut c, mut e) = (vec![0.0; p], vec![0.0; n]);
        qr.project(self.outcome, &mut c, &mut e);
        qr.solve_r(&mut c);
        let rss: f64 = e.iter().map(|r| r * r).sum();
        let sigma2 = rss / (n - p) as f64;
        // An exact fit (rss at the rounding level of the outcomes) leaves no sampling variance.
        let scale: f64 = self.outcome.iter().map(|y| y * y).sum();
        if rss <= 1e-24 * scale {
            return Err(IpdError::ExactFit {
                study: self.study.to_owned(),
            });
        }
        let cov = qr.inverse_gram();
        let se = (0..p).map(|j| (sigma2 * cov[(j, j)]).sqrt()).collect();
        Ok(Coefficients { estimate: c, se })
    }

    /// Logistic regression by IRLS (Fisher scoring, which for the canonical logit link is
    /// Newton's method), started as R's `glm` starts it, μ = (y + ½)/2.
    ///
    /// Once the deviance has converged, two more steps are taken: Newton converges
    /// quadratically, so they put the estimate at the maximum to rounding, and the standard
    /// errors are taken from the weights at that estimate (R's `glm` takes them from the
    /// weights one step earlier).
    fn logistic(&self, p: usize) -> Result<Coefficients, IpdError> {
        let n = self.treat.len();
        let mut mu: Vec<f64> = self.outcome.iter().map(|y| (y + 0.5) / 2.0).collect();
        let mut eta: Vec<f64> = mu.iter().map(|m| (m / (1.0 - m)).ln()).collect();
        let mut dev_old = f64::INFINITY;
        let mut polish = None;
        let (mut qr, mut sqrt_w, mut z) = (Qr::default(), vec![0.0; n], vec![0.0; n]);
        let (mut beta, mut e) = (vec![0.0; p], vec![0.0; n]);
        for _ in 0..IRLS_MAX_ITER {
            // A weight at 0 would divide by 0 below; it means the fit is running to infinity.
            self.check_boundary(&mu)?;
            for i in 0..n {
                let w = mu[i] * (1.0 - mu[i]);
                sqrt_w[i] = w.sqrt();
                z[i] = sqrt_w[i] * (eta[i] + (self.outcome[i] - mu[i]) / w);
            }
            if !qr.factorise(n, p, |a| self.fill(p, &sqrt_w, a)) {
                return Err(self.collinear());
            }
            if polish == Some(0) {
                if mu
                    .iter()
                    .any(|&m| !(SEPARATED..=1.0 - SEPARATED).contains(&m))
                {
                    return Err(self.separation());
                }
                // The weights at the final estimate: (X'WX)⁻¹ is the covariance.
                let cov = qr.inverse_gram();
                let se = (0..p).map(|j| cov[(j, j)].sqrt()).collect();
                return Ok(Coefficients { estimate: beta, se });
            }
            qr.project(&z, &mut beta, &mut e);
            qr.solve_r(&mut beta);
            if beta.iter().any(|b| !b.is_finite()) {
                return Err(self.separation());
            }
            let mut dev = 0.0;
            for i in 0..n {
                let (t, x) = (self.treat[i], self.covariate[i]);
                let mut v = beta[0] + beta[1] * t + beta[2] * x;
                if p == 4 {
                    v += beta[3] * t * x;
                }
                eta[i] = v;
                mu[i] = 1.0 / (1.0 + (-v).exp());
                // −2 log-likelihood, each term as log(1 + e^(∓η)) so that it stays finite.
                let s = if self.outcome[i] == 1.0 { -v } else { v };
                dev += 2.0 * (s.max(0.0) + (-s.abs()).exp().ln_1p());
            }
            polish = match polish {
                Some(left) => Some(left - 1),
                None if (dev - dev_old).abs() / (dev.abs() + 0.1) < IRLS_TOL => Some(2),
                None => None,
            };
            dev_old = dev;
        }
        Err(self.separation())
    }

    /// Separation shows as fitted probabilities at 0 or 1 (the maximum at infinity).
    fn check_boundary(&self, mu: &[f64]) -> Result<(), IpdError> {
        if mu
            .iter()
            .any(|&m| !(BOUNDARY..=1.0 - BOUNDARY).contains(&m))
        {
            return Err(self.separation());
        }
        Ok(())
    }

    fn separation(&self) -> IpdError {
        IpdError::Separation {
            study: self.study.to_owned(),
        }
    }

    fn collinear(&self) -> IpdError {
        IpdError::InestimableInteraction {
            study: self.study.to_owned(),
        }
    }
}
