//! Log-likelihood, deviance and information criteria of a fit, as metafor's `fitstats` reports
//! them (Viechtbauer, 2010, JSS, sec. 3.3).

use super::wls::Wls;

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
    /// AIC = −2ℓ + 2m, m = p + 1 parameters when τ² is estimated, p when it is fixed at 0.
    pub aic: f64,
    /// BIC = −2ℓ + m·ln n, n = k for ML and k − p for REML.
    pub bic: f64,
    /// AICc = −2ℓ + 2m·n'/(n' − m − 1) with n' = max(n, m + 2).
    pub aicc: f64,
}

/// Fit statistics at τ² for the fit `f` (weights 1/(vᵢ + τ²)).
///
/// ML: ℓ = −½[k ln 2π + Σ ln(vᵢ + τ²) + Σ wᵢeᵢ²].
/// REML: ℓ = −½[(k − p) ln 2π − ln|X'X| + Σ ln(vᵢ + τ²) + ln|X'WX| + Σ wᵢeᵢ²].
pub(crate) fn fit_statistics(
    f: &Wls,
    v: &[f64],
    log_det_xtx: f64,
    likelihood: Likelihood,
    tau2_estimated: bool,
) -> FitStatistics {
    let k = f.w.len();
    let p = f.coef.len();
    let ln2pi = (2.0 * std::f64::consts::PI).ln();
    let log_var: f64 = f.w.iter().map(|w| -w.ln()).sum();
    let rss = f.rss();
    let (loglik, deviance, n) = match likelihood {
        Likelihood::Ml => {
            let ll = -0.5 * (k as f64 * ln2pi + log_var + rss);
            let saturated: f64 = v.iter().map(|v| -0.5 * (ln2pi + v.ln())).sum();
            (ll, -2.0 * (ll - saturated), k)
        }
        Likelihood::Reml => {
            let ll =
                -0.5 * ((k - p) as f64 * ln2pi - log_det_xtx + log_var + f.log_det_xtwx() + rss);
            (ll, -2.0 * ll, k - p)
        }
    };
    let m = (p + usize::from(tau2_estimated)) as f64;
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
