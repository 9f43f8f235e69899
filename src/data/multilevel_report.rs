//! The parts of the `meridian fit --json` record that multilevel models and cluster-robust
//! inference add (issue 11): the σ² components, the `~ inner | outer` term, I² per level and
//! the robust results. Keys snake_case; `null` where they do not apply.

use serde::{Deserialize, Serialize};

use crate::stats::{Interval, MvFit, Robust, StructIntervals};

/// One σ² component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sigma2Report {
    /// Its name as metafor prints it (`district`, `district/study`).
    pub name: String,
    /// The estimate.
    pub estimate: f64,
    /// Number of levels as metafor counts them.
    pub nlvls: usize,
    /// Lower bound of the profile-likelihood interval; null when not computed.
    pub ci_lower: Option<f64>,
    /// Upper bound of the profile-likelihood interval; null when not computed.
    pub ci_upper: Option<f64>,
}

/// The `~ inner | outer` term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StructReport {
    /// The inner factor's column.
    pub inner: String,
    /// The outer factor's column.
    pub outer: String,
    /// `CS`, `HCS`, `UN` or `DIAG`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The inner level names, sorted.
    pub levels: Vec<String>,
    /// τ² in the order of `levels` (one for CS).
    pub tau2: Vec<f64>,
    /// ρ in metafor's order (the lower triangle by columns for UN).
    pub rho: Vec<f64>,
    /// Profile-likelihood intervals of the τ², in their order; null when not computed.
    #[serde(default)]
    pub tau2_ci: Option<Vec<[f64; 2]>>,
    /// Profile-likelihood intervals of the ρ, in their order; null when not computed.
    #[serde(default)]
    pub rho_ci: Option<Vec<[f64; 2]>>,
}

/// I² of one σ² component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct I2LevelReport {
    /// The component's name.
    pub name: String,
    /// I² in percent.
    pub i2: f64,
}

/// One coefficient under cluster-robust inference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobustCoefficientReport {
    /// Coefficient name.
    pub name: String,
    /// Estimate.
    pub estimate: f64,
    /// Robust standard error.
    pub se: f64,
    /// t statistic.
    pub statistic: f64,
    /// Degrees of freedom (Satterthwaite's for CR2).
    pub df: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Lower confidence bound.
    pub ci_lower: f64,
    /// Upper confidence bound.
    pub ci_upper: f64,
}

/// Cluster-robust inference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobustReport {
    /// `CR1` or `CR2`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The cluster column.
    pub cluster: String,
    /// Number of clusters.
    pub clusters: usize,
    /// Coefficients.
    pub coefficients: Vec<RobustCoefficientReport>,
    /// The robust omnibus test of the moderators (F; HTZ for CR2); null without moderators.
    pub qm: Option<f64>,
    /// Its numerator df.
    pub qm_df: Option<usize>,
    /// Its denominator df.
    pub qm_df2: Option<f64>,
    /// Its p-value.
    pub qm_p: Option<f64>,
}

impl RobustReport {
    /// The report of `r` with clusters from column `cluster`.
    pub fn new(r: &Robust, cluster: &str) -> Self {
        let m = r.moderators.as_ref();
        Self {
            kind: r.kind.name().to_owned(),
            cluster: cluster.to_owned(),
            clusters: r.clusters,
            coefficients: r
                .coefficients
                .iter()
                .map(|c| RobustCoefficientReport {
                    name: c.name.clone(),
                    estimate: c.estimate,
                    se: c.se,
                    statistic: c.statistic,
                    df: c.df,
                    p_value: c.p_value,
                    ci_lower: c.ci_lower,
                    ci_upper: c.ci_upper,
                })
                .collect(),
            qm: m.map(|m| m.statistic),
            qm_df: m.map(|m| m.df),
            qm_df2: m.map(|m| m.df2),
            qm_p: m.map(|m| m.p_value),
        }
    }
}

/// The σ² components of `f` with their intervals `ci` (in the same order) when computed.
pub fn sigma2_reports(f: &MvFit, ci: Option<&[Interval]>) -> Vec<Sigma2Report> {
    f.sigma2
        .iter()
        .enumerate()
        .map(|(j, s)| Sigma2Report {
            name: s.name.clone(),
            estimate: s.estimate,
            nlvls: s.nlvls,
            ci_lower: ci.map(|c| c[j].lower),
            ci_upper: ci.map(|c| c[j].upper),
        })
        .collect()
}

/// The structured term of `f`, if any, with its intervals `ci` when computed.
pub fn struct_report(f: &MvFit, ci: Option<&StructIntervals>) -> Option<StructReport> {
    let bounds = |v: &[Interval]| v.iter().map(|i| [i.lower, i.upper]).collect();
    f.structure.as_ref().map(|s| StructReport {
        inner: s.inner.clone(),
        outer: s.outer.clone(),
        kind: s.structure.metafor_name().to_owned(),
        levels: s.levels.clone(),
        tau2: s.tau2.clone(),
        rho: s.rho.clone(),
        tau2_ci: ci.map(|c| bounds(&c.tau2)),
        rho_ci: ci.map(|c| bounds(&c.rho)),
    })
}

/// I² per σ² component of `f`, if defined.
pub fn i2_level_reports(f: &MvFit) -> Option<Vec<I2LevelReport>> {
    f.i2.as_ref().map(|i2| {
        f.sigma2
            .iter()
            .zip(&i2.levels)
            .map(|(s, v)| I2LevelReport {
                name: s.name.clone(),
                i2: *v,
            })
            .collect()
    })
}
