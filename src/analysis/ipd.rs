//! Within- versus across-study effects (issue 15) as plain records: the two-stage analysis of
//! a table of participants ([`ipd_analysis`], the record of `meridian ipd --json`) and of a
//! table of subgroup effects ([`subgroup_interaction`], `meridian subgroup-interaction
//! --json`), each with the sentence that says what the two estimates mean.

use serde::{Deserialize, Serialize};

use crate::data::ipd::{ipd_studies, subgroup_studies, IpdColumns, SubgroupColumns};
use crate::data::parse::parse;
use crate::format::{number, p_value};
use crate::stats::ipd::subgroup::subgroup_two_stage;
use crate::stats::ipd::{
    two_stage, two_stage_without_failures, Difference, Family, PooledSlope, TwoStage, TwoStageSpec,
};
use crate::stats::Tau2Method;

use super::AnalysisError;

/// The settings of a two-stage analysis in messages: the family by R's name, the estimator
/// by metafor's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IpdSettings {
    /// The regression in each study (IPD only; ignored for subgroup effects).
    #[serde(with = "super::names::family")]
    pub family: Family,
    /// The τ² estimator of both pooling steps.
    #[serde(with = "super::names::method")]
    pub method: Tau2Method,
    /// Confidence level, in (0, 1).
    pub level: f64,
}

impl Default for IpdSettings {
    /// Gaussian, REML, 95 %, as the command line.
    fn default() -> Self {
        let spec = TwoStageSpec::default();
        Self {
            family: spec.family,
            method: spec.method,
            level: spec.level,
        }
    }
}

impl From<IpdSettings> for TwoStageSpec {
    fn from(s: IpdSettings) -> Self {
        Self {
            family: s.family,
            method: s.method,
            level: s.level,
        }
    }
}

/// One study of an IPD analysis (keys of `meridian ipd --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IpdStudyRecord {
    /// The study's label.
    pub study: String,
    /// Participants.
    pub n: usize,
    /// The treatment coefficient at covariate 0 of the study's regression with the
    /// interaction.
    pub effect: f64,
    /// Its standard error.
    pub effect_se: f64,
    /// The treatment × covariate coefficient.
    pub interaction: f64,
    /// Its standard error.
    pub interaction_se: f64,
    /// The mean covariate of the study's participants.
    pub covariate_mean: f64,
    /// The treatment coefficient of the study's regression without the interaction: the
    /// study's effect that the across-study meta-regression (and "Analyse as a
    /// meta-analysis") reads.
    pub main_effect: f64,
    /// Its standard error.
    pub main_effect_se: f64,
}

/// A study the page left out of the analysis, with the engine's sentence saying why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeftOutStudy {
    /// The study's label.
    pub study: String,
    /// Why its regression cannot be fitted.
    pub reason: String,
}

/// A pooled slope with its z test and the τ² of its model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SlopeRecord {
    /// Estimate.
    pub estimate: f64,
    /// Standard error.
    pub se: f64,
    /// Lower confidence bound.
    pub ci_lower: f64,
    /// Upper confidence bound.
    pub ci_upper: f64,
    /// Two-sided p-value (z test).
    pub p_value: f64,
    /// τ².
    pub tau2: f64,
}

impl From<PooledSlope> for SlopeRecord {
    fn from(s: PooledSlope) -> Self {
        Self {
            estimate: s.estimate,
            se: s.se,
            ci_lower: s.ci_lower,
            ci_upper: s.ci_upper,
            p_value: s.p_value,
            tau2: s.tau2,
        }
    }
}

/// within − across with its z test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DifferenceRecord {
    /// within − across.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

impl From<Difference> for DifferenceRecord {
    fn from(d: Difference) -> Self {
        Self {
            estimate: d.estimate,
            se: d.se,
            p_value: d.p_value,
        }
    }
}

/// The record of `meridian ipd --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IpdRecord {
    /// The studies in the order of the file.
    pub studies: Vec<IpdStudyRecord>,
    /// The pooled within-study interaction (free of ecological bias).
    pub within: SlopeRecord,
    /// The slope of the studies' treatment effects on their covariate means (ecological).
    pub across: SlopeRecord,
    /// within − across.
    pub difference: DifferenceRecord,
    /// Studies left out because their regression cannot be fitted (only from
    /// [`ipd_analysis_without_failures`], the page's analysis; the command line refuses them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<LeftOutStudy>,
}

/// The two-stage IPD analysis of the table in `text`.
///
/// # Errors
/// The table cannot be read, a column is unknown, non-numeric or has a missing cell, or the
/// engine refused ([`crate::stats::ipd::IpdError`]).
pub fn ipd_analysis(
    text: &str,
    columns: &IpdColumns,
    spec: &TwoStageSpec,
) -> Result<IpdRecord, AnalysisError> {
    let table = parse(text)?;
    let studies = ipd_studies(&table, columns)?;
    Ok(ipd_record(two_stage(&studies, spec)?, Vec::new()))
}

/// As [`ipd_analysis`], but a study whose regression cannot be fitted (separation, an
/// interaction that cannot be estimated, …) is left out and listed with its sentence, and the
/// others are analysed, as long as 3 remain.
///
/// # Errors
/// As [`ipd_analysis`]; with fewer than 3 studies left, the first left-out study's error.
pub fn ipd_analysis_without_failures(
    text: &str,
    columns: &IpdColumns,
    spec: &TwoStageSpec,
) -> Result<IpdRecord, AnalysisError> {
    let table = parse(text)?;
    let studies = ipd_studies(&table, columns)?;
    let (result, failed) = two_stage_without_failures(&studies, spec)?;
    let left_out = failed
        .into_iter()
        .map(|e| LeftOutStudy {
            study: e.study().unwrap_or_default().to_owned(),
            reason: e.to_string(),
        })
        .collect();
    Ok(ipd_record(result, left_out))
}

/// The family a binary outcome column suggests: binomial when every value of `outcome` is 0
/// or 1, else gaussian.
pub fn guess_family(text: &str, outcome: &str) -> Option<Family> {
    let table = parse(text).ok()?;
    let cells = table.numeric(outcome).ok()?;
    let binary = cells
        .iter()
        .filter_map(|c| c.value())
        .all(|v| v == 0.0 || v == 1.0);
    Some(if binary {
        Family::Binomial
    } else {
        Family::Gaussian
    })
}

fn ipd_record(result: TwoStage, left_out: Vec<LeftOutStudy>) -> IpdRecord {
    IpdRecord {
        studies: result
            .studies
            .into_iter()
            .map(|s| IpdStudyRecord {
                study: s.label,
                n: s.n,
                effect: s.effect,
                effect_se: s.effect_se,
                interaction: s.interaction,
                interaction_se: s.interaction_se,
                covariate_mean: s.covariate_mean,
                main_effect: s.main_effect,
                main_effect_se: s.main_effect_se,
            })
            .collect(),
        within: result.within.into(),
        across: result.across.into(),
        difference: result.difference.into(),
        left_out,
    }
}

/// The studies' treatment effects as an ordinary table of effect sizes: `study`, `yi` (the
/// effect of the regression without the interaction), `vi` (its squared SE) and
/// `covariate_mean`, so that the meta-regression `~ covariate_mean` of the page is the
/// across-study analysis.
pub fn effects_csv(record: &IpdRecord) -> String {
    effects_table(
        "covariate_mean",
        record
            .studies
            .iter()
            .map(|s| (&s.study, s.main_effect, s.main_effect_se, s.covariate_mean)),
    )
}

/// The studies' overall effects of a subgroup analysis as a table of effect sizes: `study`,
/// `yi`, `vi` and `share`, whose meta-regression `~ share` is the across-study analysis.
pub fn subgroup_effects_csv(record: &SubgroupInteractionRecord) -> String {
    effects_table(
        "share",
        record
            .studies
            .iter()
            .map(|s| (&s.study, s.effect, s.effect_se, s.share)),
    )
}

/// A CSV table `study,yi,vi,{moderator}` of (label, effect, SE, moderator) rows.
fn effects_table<'a>(
    moderator: &str,
    rows: impl Iterator<Item = (&'a String, f64, f64, f64)>,
) -> String {
    let mut text = format!("study,yi,vi,{moderator}\n");
    for (study, yi, se, x) in rows {
        // Labels with a comma or a quote are quoted as CSV asks.
        let label = if study.contains([',', '"', '\n']) {
            format!("\"{}\"", study.replace('"', "\"\""))
        } else {
            study.clone()
        };
        text += &format!("{label},{yi},{},{x}\n", se * se);
    }
    text
}

/// One study of a subgroup analysis (keys of `meridian subgroup-interaction --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubgroupStudyRecord {
    /// The study's label.
    pub study: String,
    /// First subgroup's effect minus the second's (the within-study interaction).
    pub difference: f64,
    /// Its standard error.
    pub difference_se: f64,
    /// The study's overall effect (inverse-variance mean of its subgroups).
    pub effect: f64,
    /// Its standard error.
    pub effect_se: f64,
    /// The share of the first subgroup.
    pub share: f64,
}

/// The record of `meridian subgroup-interaction --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubgroupInteractionRecord {
    /// The studies in the order of the file.
    pub studies: Vec<SubgroupStudyRecord>,
    /// The pooled within-study subgroup difference.
    pub within: SlopeRecord,
    /// The slope of the overall effects on the share of the first subgroup.
    pub across: SlopeRecord,
    /// within − across.
    pub difference: DifferenceRecord,
}

/// Within- and across-study estimates from the subgroup effects in `text`.
///
/// # Errors
/// As [`ipd_analysis`].
pub fn subgroup_interaction(
    text: &str,
    columns: &SubgroupColumns,
    method: Tau2Method,
    level: f64,
) -> Result<SubgroupInteractionRecord, AnalysisError> {
    let table = parse(text)?;
    let studies = subgroup_studies(&table, columns)?;
    let result = subgroup_two_stage(&studies, method, level)?;
    Ok(SubgroupInteractionRecord {
        studies: result
            .studies
            .into_iter()
            .map(|s| SubgroupStudyRecord {
                study: s.label,
                difference: s.difference,
                difference_se: s.difference_se,
                effect: s.overall,
                effect_se: s.overall_se,
                share: s.share,
            })
            .collect(),
        within: result.within.into(),
        across: result.across.into(),
        difference: result.difference.into(),
    })
}

/// What the two slopes of a within- versus across-study analysis measure, for its reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slopes {
    /// Participants with a continuous outcome: mean differences, which collapse, so only
    /// study-level confounding can set the across-study slope apart.
    MeanDifference,
    /// Participants with a binary outcome: log odds ratios, which do not collapse.
    LogOddsRatio,
    /// Studies reporting two subgroups: the difference between the subgroups' effects.
    Subgroups,
}

impl From<Family> for Slopes {
    fn from(family: Family) -> Self {
        match family {
            Family::Gaussian => Self::MeanDifference,
            Family::Binomial => Self::LogOddsRatio,
        }
    }
}

/// What the two estimates say, in two sentences for a reader who is not a statistician;
/// `level` is the confidence level of the tests.
pub fn reading(
    within: &SlopeRecord,
    across: &SlopeRecord,
    difference: &DifferenceRecord,
    level: f64,
    slopes: Slopes,
) -> String {
    let alpha = 1.0 - level;
    let test = |s: &SlopeRecord| {
        format!(
            "{}{}",
            if s.p_value < alpha {
                "p "
            } else {
                "not significant, p "
            },
            p_value(s.p_value)
        )
    };
    let first = match slopes {
        Slopes::Subgroups => format!(
            "Within studies the first subgroup's effect differs from the second's by {} ({}); \
             across studies, comparing studies by their share of the first subgroup, by {} ({})",
            number(within.estimate),
            test(within),
            number(across.estimate),
            test(across),
        ),
        _ => format!(
            "Within studies the treatment effect changes by {} per unit of the covariate ({}), \
             across studies by {} ({})",
            number(within.estimate),
            test(within),
            number(across.estimate),
            test(across),
        ),
    };
    let cause = match slopes {
        Slopes::MeanDifference => {
            "study-level confounding (a study characteristic that goes with the mean covariate)"
        }
        _ => {
            "study-level confounding or the non-collapsibility of the odds ratio (ecological \
             bias)"
        }
    };
    let who = match slopes {
        Slopes::Subgroups => "how the subgroups differ",
        _ => "how patients differ",
    };
    let second = if difference.p_value < alpha {
        format!(
            "the two differ, so the across-study slope is biased by {cause}: trust the \
             within-study estimate for {who}"
        )
    } else {
        "the two do not differ clearly, but only the within-study estimate compares patients \
         inside the same study and is free of ecological bias"
            .to_owned()
    };
    format!("{first}; {second}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slope(estimate: f64, p_value: f64) -> SlopeRecord {
        SlopeRecord {
            estimate,
            se: 0.1,
            ci_lower: estimate - 0.2,
            ci_upper: estimate + 0.2,
            p_value,
            tau2: 0.0,
        }
    }

    #[test]
    fn the_reading_names_the_causes_the_scale_allows() {
        let (w, a) = (slope(0.45, 1e-9), slope(1.05, 1e-20));
        let d = DifferenceRecord {
            estimate: -0.6,
            se: 0.13,
            p_value: 2e-6,
        };
        let md = reading(&w, &a, &d, 0.95, Slopes::MeanDifference);
        assert!(
            md.contains("study-level confounding") && !md.contains("collapsib"),
            "{md}"
        );
        assert!(
            md.starts_with("Within studies the treatment effect changes by 0.4500"),
            "{md}"
        );
        let or = reading(&w, &a, &d, 0.95, Family::Binomial.into());
        assert!(or.contains("non-collapsibility of the odds ratio"), "{or}");
        let sub = reading(&w, &a, &d, 0.95, Slopes::Subgroups);
        assert!(
            sub.contains("first subgroup's effect differs from the second's by 0.4500"),
            "{sub}"
        );
        assert!(sub.ends_with("for how the subgroups differ."), "{sub}");
        let not = DifferenceRecord { p_value: 0.4, ..d };
        assert!(reading(&w, &a, &not, 0.95, Slopes::LogOddsRatio).contains("do not differ clearly"));
    }
}
