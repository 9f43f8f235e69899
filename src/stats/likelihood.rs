//! Log-likelihood, deviance and information criteria of a fit, as metafor's `fitstats` reports
//! them (Viechtbauer, 2010, JSS, sec. 3.3).

use super::gls::Gls;
use super::objective::RAW;

/// Which likelihood the statistics are computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Likelihood {
    /// Full likelihood: used for every method except REML.
    Ml,
    /// Restricted likelihood: used for REML fits.
    Reml,
}

/// Log-likelihood and information criteria.
#[derive(Debug, Clone, PartialEq)]
pub struct FitStatistics {
    /// The likelihood these statistics are computed from.
    pub likelihood: Likelihood,
    /// Log-likelihood at the estimates.
    pub loglik: f64,
    /// Deviance: −2(ℓ − ℓ_saturated) for ML, where the saturated model fits every yᵢ exactly
    /// with variance vᵢ; −2ℓ for REML.
    pub deviance: f64,
    /// AIC = −2ℓ + 2m, m = p plus the number of estimated variance parameters (p + 1 when τ²
    /// is estimated, p when it is fixed at 0).
    pub aic: f64,
    /// BIC = −2ℓ + m·ln n, n = k for ML and k − p for REML.
    pub bic: f64,
    /// AICc = −2ℓ + 2m·n'/(n' − m − 1) with n' = max(n, m + 2).
    pub aicc: f64,
}

/// Fit statistics of the raw effects for the GLS fit `f` at the estimates, with sampling
/// variances `v`.
///
/// ML: ℓ = −½[k ln 2π + ln|M| + y'Py].
/// REML: ℓ = −½[(k − p) ln 2π − ln|X'X| + ln|M| + ln|X'M⁻¹X| + y'Py].
pub(crate) fn fit_statistics(
    f: &Gls,
    v: &[f64],
    log_det_xtx: f64,
    likelihood: Likelihood,
    parameters: usize,
) -> FitStatistics {
    let (k, p) = (f.k(), f.p());
    let ln2pi = (2.0 * std::f64::consts::PI).ln();
    let rss = f.rss(RAW);
    let (loglik, deviance, n) = match likelihood {
        Likelihood::Ml => {
            let ll = -0.5 * (k as f64 * ln2pi + f.log_det_m() + rss);
            let saturated: f64 = v.iter().map(|v| -0.5 * (ln2pi + v.ln())).sum();
            (ll, -2.0 * (ll - saturated), k)
        }
        Likelihood::Reml => {
            let ll = -0.5
                * ((k - p) as f64 * ln2pi - log_det_xtx + f.log_det_m() + f.log_det_xtmx() + rss);
            (ll, -2.0 * ll, k - p)
        }
    };
    let m = (p + parameters) as f64;
    let n = n as f64;
    let n_aicc = n.max(m + 2.0);
    FitStatistics {
        likelihood,
        loglik,
        deviance,
        aic: -2.0 * loglik + 2.0 * m,
        bic: -2.0 * loglik + m * n.ln(),
        aicc: -2.0 * loglik + 2.0 * m * n_aicc / (n_aicc - m - 1.0),
    }
}
