//! What to fit: the τ² estimator, the test statistic and the confidence level.

use super::StatsError;

/// How the between-study variance τ² is obtained, as metafor's `rma.uni` defines each method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Tau2Method {
    /// Fixed-effect model, τ² = 0 (Hedges & Olkin, 1985); metafor: `method = "FE"`.
    Fe,
    /// Equal-effects model, metafor's newer name for the same τ² = 0 model; metafor:
    /// `method = "EE"`.
    Ee,
    /// DerSimonian–Laird method-of-moments estimator (DerSimonian & Laird, 1986), with
    /// moderators as Raudenbush (2009) generalises it; metafor: `method = "DL"`.
    Dl,
    /// Hedges' (1983) variance-component estimator from ordinary least-squares residuals;
    /// metafor: `method = "HE"`.
    He,
    /// Hunter–Schmidt estimator (Hunter & Schmidt, 2004); metafor: `method = "HS"`.
    Hs,
    /// Sidik–Jonkman two-step estimator (Sidik & Jonkman, 2005); metafor: `method = "SJ"`.
    Sj,
    /// Maximum likelihood by Fisher scoring (Viechtbauer, 2005); metafor: `method = "ML"`.
    Ml,
    /// Restricted maximum likelihood by Fisher scoring (Viechtbauer, 2005);
    /// metafor: `method = "REML"`.
    Reml,
    /// Empirical Bayes estimator (Morris, 1983; Berkey et al., 1995); metafor: `method = "EB"`.
    Eb,
    /// Paule–Mandel estimator (Paule & Mandel, 1982), the root of the generalised Q statistic
    /// at its expected value; metafor: `method = "PM"`.
    Pm,
}

impl Tau2Method {
    /// All methods, in metafor's order.
    pub const ALL: [Tau2Method; 10] = [
        Self::Fe,
        Self::Ee,
        Self::Dl,
        Self::He,
        Self::Hs,
        Self::Sj,
        Self::Ml,
        Self::Reml,
        Self::Eb,
        Self::Pm,
    ];

    /// Whether τ² is fixed at 0 (FE and EE) rather than estimated.
    pub fn is_fixed(self) -> bool {
        matches!(self, Self::Fe | Self::Ee)
    }

    /// metafor's name of the method (`"REML"`, `"DL"`, …).
    pub fn metafor_name(self) -> &'static str {
        match self {
            Self::Fe => "FE",
            Self::Ee => "EE",
            Self::Dl => "DL",
            Self::He => "HE",
            Self::Hs => "HS",
            Self::Sj => "SJ",
            Self::Ml => "ML",
            Self::Reml => "REML",
            Self::Eb => "EB",
            Self::Pm => "PM",
        }
    }

    /// The method metafor calls `name`, ignoring ASCII case (`"reml"` is REML); `None` for
    /// a name metafor does not have.
    pub fn from_metafor_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.metafor_name().eq_ignore_ascii_case(name))
    }
}

/// The reference distribution of the tests of coefficients and moderators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Test {
    /// Standard normal for coefficients, χ² for the omnibus test; metafor: `test = "z"`.
    Z,
    /// Knapp & Hartung (2003) adjustment: standard errors scaled by
    /// s² = Σ wᵢ (yᵢ − xᵢ'b)² / (k − p) without truncation, t with k − p df for coefficients
    /// and F with (m, k − p) df for the omnibus test; metafor: `test = "knha"`.
    KnappHartung,
}

impl Test {
    /// metafor's name of the test (`"z"`, `"knha"`).
    pub fn metafor_name(self) -> &'static str {
        match self {
            Self::Z => "z",
            Self::KnappHartung => "knha",
        }
    }

    /// The test metafor calls `name`, ignoring ASCII case; `None` for any other name.
    pub fn from_metafor_name(name: &str) -> Option<Self> {
        [Self::Z, Self::KnappHartung]
            .into_iter()
            .find(|t| t.metafor_name().eq_ignore_ascii_case(name))
    }
}

/// The settings of a fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelSpec {
    /// τ² estimator.
    pub method: Tau2Method,
    /// Test statistic for coefficients, the omnibus test and intervals.
    pub test: Test,
    /// Confidence level of all intervals, strictly between 0 and 1 (e.g. 0.95).
    pub level: f64,
}

impl Default for ModelSpec {
    /// metafor's defaults: REML, z tests, 95 % intervals.
    fn default() -> Self {
        Self {
            method: Tau2Method::Reml,
            test: Test::Z,
            level: 0.95,
        }
    }
}

impl ModelSpec {
    /// Checks the settings that do not depend on the data.
    pub fn validate(&self) -> Result<(), StatsError> {
        if self.level > 0.0 && self.level < 1.0 {
            Ok(())
        } else {
            Err(StatsError::InvalidLevel { level: self.level })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metafor_names_read_back_in_any_case() {
        for m in Tau2Method::ALL {
            let name = m.metafor_name();
            assert_eq!(Tau2Method::from_metafor_name(name), Some(m));
            assert_eq!(Tau2Method::from_metafor_name(&name.to_lowercase()), Some(m));
        }
        for t in [Test::Z, Test::KnappHartung] {
            assert_eq!(Test::from_metafor_name(t.metafor_name()), Some(t));
        }
        assert_eq!(Test::from_metafor_name("KNHA"), Some(Test::KnappHartung));
        assert_eq!(Tau2Method::from_metafor_name("GENQ"), None);
        assert_eq!(Test::from_metafor_name("t"), None);
    }
}
