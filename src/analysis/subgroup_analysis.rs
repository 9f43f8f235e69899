//! Subgroup analysis as Cochrane reviews report it: a random-effects model in each level of a
//! categorical column, each with its own τ² or all with one common τ² (the residual τ² of the
//! mixed-effects model with the grouping factor, metafor: `rma(yi, vi, tau2 = …, subset = …)`),
//! and the test for subgroup differences from the subgroup estimates: Q_between =
//! Σ w_g(θ̂_g − θ̄)², w_g = 1/SE_g², on G − 1 df (Borenstein et al., 2009, ch. 19), computed
//! as Cochran's Q of a fixed-effect model of the subgroup estimates. The mixed-effects QM of
//! the meta-regression on the factor is reported beside it. Under the `meridian subgroup
//! --json` keys.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::stages::StudiesStage;
use super::AnalysisError;
use crate::data::formula::encoding::factor_codes;
use crate::data::formula::Formula;
use crate::data::parse::Table;
use crate::stats::{self, Design, Fit, ModelSpec, StatsError, Tau2Method};

/// One subgroup's model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRecord {
    /// The level.
    pub level: String,
    /// Its number of studies.
    pub k: usize,
    /// The pooled effect.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// Lower confidence bound.
    pub ci_lower: f64,
    /// Upper confidence bound.
    pub ci_upper: f64,
    /// τ² used in the subgroup (its own, or the common one).
    pub tau2: f64,
    /// I² in percent at that τ².
    pub i2: f64,
    /// Cochran's Q within the subgroup.
    pub qe: f64,
    /// Its degrees of freedom, k − 1.
    pub qe_df: usize,
    /// Its p-value.
    pub qe_p: f64,
}

/// The subgroup analysis by one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubgroupAnalysis {
    /// The grouping column.
    pub column: String,
    /// Whether every subgroup used one common τ².
    pub tau2_common: bool,
    /// One model per level, in R's order of the levels.
    pub groups: Vec<GroupRecord>,
    /// The test for subgroup differences.
    pub q_between: f64,
    /// Its degrees of freedom, G − 1.
    pub q_between_df: usize,
    /// Its p-value.
    pub q_between_p: f64,
    /// The common τ² (the mixed-effects model's residual τ²), when used.
    pub tau2: Option<f64>,
    /// The mixed-effects meta-regression's test of the factor (QM).
    pub qm: f64,
    /// Its (numerator) degrees of freedom.
    pub qm_df: usize,
    /// Its denominator degrees of freedom under Knapp–Hartung.
    pub qm_df2: Option<usize>,
    /// Its p-value.
    pub qm_p: f64,
    /// 1-based data rows of studies without a value of the column, in no subgroup.
    pub without_value: Vec<usize>,
}

/// The subgroup analysis of the analysis's studies by `column` with the settings `spec`.
///
/// # Errors
/// [`AnalysisError::Parse`] for a column the table does not have,
/// [`AnalysisError::Formula`] for a column with one level, [`AnalysisError::Subgroup`] for a
/// subgroup whose model cannot be fitted (a single study when its τ² is estimated).
pub fn subgroup_analysis(
    table: &Table,
    data: &StudiesStage,
    column: &str,
    common: bool,
    spec: &ModelSpec,
) -> Result<SubgroupAnalysis, AnalysisError> {
    let studies = &data.studies;
    let (codes, levels) = factor_codes(table, column, &studies.rows)?;
    let with_value: Vec<usize> = (0..studies.k()).filter(|&i| codes[i].is_some()).collect();
    let pick = |members: &[usize]| -> (Vec<f64>, Vec<f64>) {
        (
            members.iter().map(|&i| studies.yi[i]).collect(),
            members.iter().map(|&i| studies.vi[i]).collect(),
        )
    };
    let rows: Vec<usize> = with_value.iter().map(|&i| studies.rows[i]).collect();
    let design =
        Formula::parse(&format!("factor({column})"))?.design(table, &rows, &BTreeMap::new())?;
    let (yi, vi) = pick(&with_value);
    let unplaced = |error: StatsError| AnalysisError::Stats {
        error,
        line: None,
        row: None,
    };
    let valid = spec.check().map_err(unplaced)?;
    let mixed = valid.fit(&yi, &vi, &design).map_err(unplaced)?;
    let qm = mixed.omnibus_test().map_err(unplaced)?;
    let tau2 = common.then(|| mixed.tau2().unwrap_or(0.0));
    let groups = levels
        .into_iter()
        .enumerate()
        .map(|(index, level)| {
            let members: Vec<usize> = with_value
                .iter()
                .copied()
                .filter(|&i| codes[i] == Some(index))
                .collect();
            let (yi, vi) = pick(&members);
            let one = Design::intercept_only(members.len());
            let fitted = match tau2 {
                Some(t) => valid.fit_at_tau2(&yi, &vi, &one, t),
                None => valid.fit(&yi, &vi, &one),
            };
            match fitted {
                Ok(f) => Ok(group(level, &f)),
                Err(error) => Err(AnalysisError::Subgroup { level, error }),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let between = between_groups(&groups).map_err(unplaced)?;
    Ok(SubgroupAnalysis {
        column: column.to_owned(),
        tau2_common: common,
        q_between: between.heterogeneity.qe,
        q_between_df: between.heterogeneity.qe_df,
        q_between_p: between.heterogeneity.qe_p,
        groups,
        tau2,
        qm: qm.statistic,
        qm_df: qm.df,
        qm_df2: qm.df2,
        qm_p: qm.p_value,
        without_value: (0..studies.k())
            .filter(|&i| codes[i].is_none())
            .map(|i| studies.rows[i] + 1)
            .collect(),
    })
}

/// A subgroup's record from its intercept-only fit.
fn group(level: String, f: &Fit) -> GroupRecord {
    let c = &f.coefficients[0];
    let h = &f.heterogeneity;
    GroupRecord {
        level,
        k: f.k,
        estimate: c.estimate,
        se: c.se,
        ci_lower: c.ci_lower,
        ci_upper: c.ci_upper,
        tau2: f.tau2().unwrap_or(f64::NAN),
        i2: h.i2,
        qe: h.qe,
        qe_df: h.qe_df,
        qe_p: h.qe_p,
    }
}

/// The fixed-effect model of the subgroup estimates with variances SE²: its QE is Q_between.
fn between_groups(groups: &[GroupRecord]) -> Result<Fit, StatsError> {
    let yi: Vec<f64> = groups.iter().map(|g| g.estimate).collect();
    let vi: Vec<f64> = groups.iter().map(|g| g.se * g.se).collect();
    let spec = ModelSpec {
        method: Tau2Method::Fe,
        ..ModelSpec::default()
    };
    stats::fit(&yi, &vi, &Design::intercept_only(yi.len()), &spec)
}
