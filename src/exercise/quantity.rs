//! The numbers an exercise can check or cite, by the names the exercise format uses
//! (`tau2`, `estimate:ablat`, `permutation_p:ablat`, `mv_se`), and how each is read from the
//! live [`Analysis`]. The permutation and multilevel quantities are not part of the analysis
//! record: steps may cite them (checked by the native tests, which run those analyses), not
//! ask for them.

use std::fmt;
use std::str::FromStr;

use crate::analysis::Analysis;
use crate::data::effect_size::Measure;

/// A quantity of the fitted model.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Quantity {
    /// `k`: the number of studies.
    K,
    /// `tau2`: τ² (residual with moderators).
    Tau2,
    /// `tau`: τ.
    Tau,
    /// `i2`: I² in percent.
    I2,
    /// `h2`: H².
    H2,
    /// `qe`: Cochran's Q (QE with moderators).
    Qe,
    /// `qe_p`: its p-value.
    QeP,
    /// `qe_df`: its degrees of freedom.
    QeDf,
    /// `r2`: pseudo-R² in percent.
    R2,
    /// `tau2_without_moderators`: τ² of the model without moderators.
    Tau2WithoutModerators,
    /// `typical_variance`: the typical sampling variance ṽ that I² compares τ² with.
    TypicalVariance,
    /// `qm`: the test of moderators' statistic (QM, or F under Knapp–Hartung).
    Qm,
    /// `qm_p`: its p-value.
    QmP,
    /// `pooled`: the pooled effect of an intercept-only model.
    Pooled,
    /// `pooled_se`: its standard error.
    PooledSe,
    /// `ci_lower`: its lower confidence bound.
    CiLower,
    /// `ci_upper`: its upper confidence bound.
    CiUpper,
    /// `pi_lower`: the lower bound of its prediction interval.
    PiLower,
    /// `pi_upper`: the upper bound of its prediction interval.
    PiUpper,
    /// `estimate:NAME`: a coefficient, by its name as the table shows it.
    Estimate(String),
    /// `se:NAME`: its standard error.
    Se(String),
    /// `p:NAME`: its p-value.
    P(String),
    /// `ci_lower:NAME`: its lower confidence bound.
    CoefCiLower(String),
    /// `ci_upper:NAME`: its upper confidence bound.
    CoefCiUpper(String),
    /// `weight:N`: the N-th study's weight in percent (N from 1, in the order of the studies
    /// in the model), as the forest plot shows it.
    Weight(usize),
    /// `permutation_p:NAME`: a coefficient's permutation p-value, as the page's permutation
    /// panel computes it (1,000 permutations, its fixed seed). Cited only.
    PermutationP(String),
    /// A multilevel model's number. Cited only.
    Multilevel(MultilevelQuantity),
}

/// A number of a multilevel model (`rma.mv`) of the step's studies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultilevelQuantity {
    /// `mv_pooled`: its pooled effect (intercept-only).
    Pooled,
    /// `mv_se`: its standard error.
    Se,
    /// `mv_ci_lower`: its lower confidence bound.
    CiLower,
    /// `mv_ci_upper`: its upper confidence bound.
    CiUpper,
    /// `mv_sigma2:N`: the N-th variance component, from 1.
    Sigma2(usize),
}

impl Quantity {
    /// Whether the page's analysis record holds this quantity, so that a step can ask for it.
    pub fn is_live(&self) -> bool {
        !matches!(self, Self::PermutationP(_) | Self::Multilevel(_))
    }

    /// Whether the quantity is an effect (or a bound of one) that a measure's back-transform
    /// applies to.
    pub fn is_effect(&self) -> bool {
        matches!(
            self,
            Self::Pooled
                | Self::CiLower
                | Self::CiUpper
                | Self::PiLower
                | Self::PiUpper
                | Self::Estimate(_)
                | Self::CoefCiLower(_)
                | Self::CoefCiUpper(_)
        ) || matches!(
            self,
            Self::Multilevel(
                MultilevelQuantity::Pooled
                    | MultilevelQuantity::CiLower
                    | MultilevelQuantity::CiUpper
            )
        )
    }

    /// The quantity in `analysis`, back-transformed with `measure` when `reading`; `None`
    /// when the analysis has no such number (a pooled effect of a meta-regression, a
    /// coefficient the model lacks, a cited-only quantity).
    pub fn of(&self, analysis: &Analysis, measure: Option<Measure>, reading: bool) -> Option<f64> {
        let s = &analysis.summary;
        // A text column is a factor whether the formula writes `tester` or `factor(tester)`,
        // and the coefficient is named after what the formula wrote.
        let coefficient = |name: &str| {
            let plain = without_factor(name);
            s.coefficients.iter().find(|c| c.name == name).or_else(|| {
                s.coefficients
                    .iter()
                    .find(|c| without_factor(&c.name) == plain)
            })
        };
        let value = match self {
            Self::K => Some(s.k as f64),
            Self::Tau2 => Some(s.tau2),
            Self::Tau => Some(s.tau),
            Self::I2 => Some(s.i2),
            Self::H2 => Some(s.h2),
            Self::Qe => Some(s.qe),
            Self::QeP => Some(s.qe_p),
            Self::QeDf => Some(s.qe_df as f64),
            Self::R2 => s.r2,
            Self::Tau2WithoutModerators => s.tau2_without_moderators,
            Self::TypicalVariance => Some(s.typical_variance),
            Self::Qm => s.moderators.as_ref().map(|m| m.statistic),
            Self::QmP => s.moderators.as_ref().map(|m| m.p_value),
            Self::Pooled => s.pooled.map(|p| p.pred),
            Self::PooledSe => s.pooled.map(|p| p.se),
            Self::CiLower => s.pooled.map(|p| p.ci_lower),
            Self::CiUpper => s.pooled.map(|p| p.ci_upper),
            Self::PiLower => s.pooled.map(|p| p.pi_lower),
            Self::PiUpper => s.pooled.map(|p| p.pi_upper),
            Self::Estimate(n) => coefficient(n).map(|c| c.estimate),
            Self::Se(n) => coefficient(n).map(|c| c.se),
            Self::P(n) => coefficient(n).map(|c| c.p_value),
            Self::CoefCiLower(n) => coefficient(n).map(|c| c.ci_lower),
            Self::CoefCiUpper(n) => coefficient(n).map(|c| c.ci_upper),
            Self::Weight(i) => {
                let total: f64 = s.weights.iter().sum();
                i.checked_sub(1)
                    .and_then(|j| s.weights.get(j))
                    .map(|w| 100.0 * w / total)
            }
            Self::PermutationP(_) | Self::Multilevel(_) => None,
        }?;
        Some(self.scaled(value, measure, reading))
    }

    /// `value` on the reading scale when `reading` and the quantity is an effect.
    pub fn scaled(&self, value: f64, measure: Option<Measure>, reading: bool) -> f64 {
        match measure {
            Some(m) if reading && self.is_effect() => m.back_transform(value),
            _ => value,
        }
    }
}

/// A coefficient name with every `factor(c)` written `c`: `weeks:factor(tester)blind` →
/// `weeks:testerblind`.
fn without_factor(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(at) = rest.find("factor(") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "factor(".len()..];
        match after.find(')') {
            Some(close) => {
                out.push_str(&after[..close]);
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[at..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Why a quantity's name cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownQuantity(pub String);

impl fmt::Display for UnknownQuantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown quantity \"{}\": expected one of k, tau2, tau, i2, h2, qe, qe_p, qe_df, r2, \
             tau2_without_moderators, typical_variance, qm, qm_p, pooled, pooled_se, ci_lower, \
             ci_upper, pi_lower, pi_upper, estimate:NAME, se:NAME, p:NAME, ci_lower:NAME, \
             ci_upper:NAME, weight:N, permutation_p:NAME, mv_pooled, mv_se, mv_ci_lower, mv_ci_upper, \
             mv_sigma2:N",
            self.0
        )
    }
}

impl FromStr for Quantity {
    type Err = UnknownQuantity;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownQuantity(s.to_owned());
        if let Some((kind, name)) = s.split_once(':') {
            let name = name.trim();
            if name.is_empty() {
                return Err(unknown());
            }
            let n = name.to_owned();
            return Ok(match kind.trim() {
                "estimate" => Self::Estimate(n),
                "se" => Self::Se(n),
                "p" => Self::P(n),
                "ci_lower" => Self::CoefCiLower(n),
                "ci_upper" => Self::CoefCiUpper(n),
                "permutation_p" => Self::PermutationP(n),
                "weight" => match name.parse::<usize>() {
                    Ok(i) if i >= 1 => Self::Weight(i),
                    _ => return Err(unknown()),
                },
                "mv_sigma2" => match name.parse::<usize>() {
                    Ok(i) if i >= 1 => Self::Multilevel(MultilevelQuantity::Sigma2(i)),
                    _ => return Err(unknown()),
                },
                _ => return Err(unknown()),
            });
        }
        Ok(match s.trim() {
            "k" => Self::K,
            "tau2" => Self::Tau2,
            "tau" => Self::Tau,
            "i2" => Self::I2,
            "h2" => Self::H2,
            "qe" => Self::Qe,
            "qe_p" => Self::QeP,
            "qe_df" => Self::QeDf,
            "r2" => Self::R2,
            "tau2_without_moderators" => Self::Tau2WithoutModerators,
            "typical_variance" => Self::TypicalVariance,
            "qm" => Self::Qm,
            "qm_p" => Self::QmP,
            "pooled" => Self::Pooled,
            "pooled_se" => Self::PooledSe,
            "ci_lower" => Self::CiLower,
            "ci_upper" => Self::CiUpper,
            "pi_lower" => Self::PiLower,
            "pi_upper" => Self::PiUpper,
            "mv_pooled" => Self::Multilevel(MultilevelQuantity::Pooled),
            "mv_se" => Self::Multilevel(MultilevelQuantity::Se),
            "mv_ci_lower" => Self::Multilevel(MultilevelQuantity::CiLower),
            "mv_ci_upper" => Self::Multilevel(MultilevelQuantity::CiUpper),
            _ => return Err(unknown()),
        })
    }
}
