//! What to fit: the τ² estimator, the test statistic, the confidence level and the convergence
//! control, checked once into a [`ValidSpec`] before any data are looked at.

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

/// Convergence settings of the iterative estimators (ML, REML, EB, PM) and of the Q-profile
/// searches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Control {
    /// Relative tolerance: an iteration stops when every variance parameter θⱼ moves by at
    /// most `tol`·(|θⱼ| + sⱼ), sⱼ its typical scale (for τ² the typical sampling variance ṽ),
    /// so the precision is the same whatever the units of the effects. Positive and finite.
    pub tol: f64,
    /// Most iterations (evaluations for root searches) before giving up with
    /// [`StatsError::NoConvergence`]; at least 1 (metafor: `maxiter`, default 100, raised here).
    pub max_iter: usize,
}

impl Default for Control {
    /// Tolerance 1e-10 relative, 1 000 iterations.
    fn default() -> Self {
        Self {
            tol: 1e-10,
            max_iter: 1000,
        }
    }
}

/// The settings of a fit, as a person chooses them; [`ModelSpec::check`] turns them into a
/// [`ValidSpec`], from which every fit is made ([`ValidSpec::fit`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelSpec {
    /// τ² estimator.
    pub method: Tau2Method,
    /// Test statistic for coefficients, the omnibus test and intervals.
    pub test: Test,
    /// Confidence level of all intervals, strictly between 0 and 1 (e.g. 0.95).
    pub level: f64,
    /// Convergence settings of the iterative estimators.
    pub control: Control,
}

impl Default for ModelSpec {
    /// metafor's defaults: REML, z tests, 95 % intervals; [`Control::default`].
    fn default() -> Self {
        Self {
            method: Tau2Method::Reml,
            test: Test::Z,
            level: 0.95,
            control: Control::default(),
        }
    }
}

impl ModelSpec {
    /// Checks the settings that do not depend on the data.
    ///
    /// # Errors
    /// [`StatsError::InvalidLevel`] for a level outside (0, 1), [`StatsError::InvalidControl`]
    /// for a tolerance that is not positive and finite or no iterations.
    pub fn check(&self) -> Result<ValidSpec, StatsError> {
        check_level(self.level)?;
        let Control { tol, max_iter } = self.control;
        if !(tol.is_finite() && tol > 0.0) || max_iter == 0 {
            return Err(StatsError::InvalidControl { tol, max_iter });
        }
        Ok(ValidSpec { spec: *self })
    }
}

/// Settings that passed [`ModelSpec::check`]: the level is in (0, 1) and the convergence
/// control is usable (linfa's `Params → ValidParams`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidSpec {
    spec: ModelSpec,
}

impl ValidSpec {
    /// The checked settings.
    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    /// τ² estimator.
    pub fn method(&self) -> Tau2Method {
        self.spec.method
    }

    /// Test statistic.
    pub fn test(&self) -> Test {
        self.spec.test
    }

    /// Confidence level, in (0, 1).
    pub fn level(&self) -> f64 {
        self.spec.level
    }

    /// Convergence settings.
    pub fn control(&self) -> Control {
        self.spec.control
    }
}

impl TryFrom<ModelSpec> for ValidSpec {
    type Error = StatsError;

    fn try_from(spec: ModelSpec) -> Result<Self, StatsError> {
        spec.check()
    }
}

/// A confidence level strictly between 0 and 1.
pub(crate) fn check_level(level: f64) -> Result<(), StatsError> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidLevel { level })
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

    #[test]
    fn check_refuses_unusable_levels_and_controls() {
        assert!(ModelSpec::default().check().is_ok());
        let bad_level = ModelSpec {
            level: 1.0,
            ..ModelSpec::default()
        };
        assert_eq!(
            bad_level.check(),
            Err(StatsError::InvalidLevel { level: 1.0 })
        );
        for (tol, max_iter) in [(0.0, 10), (f64::NAN, 10), (-1e-8, 10), (1e-8, 0)] {
            let spec = ModelSpec {
                control: Control { tol, max_iter },
                ..ModelSpec::default()
            };
            assert!(
                matches!(spec.check(), Err(StatsError::InvalidControl { .. })),
                "{tol} {max_iter}"
            );
        }
    }
}
