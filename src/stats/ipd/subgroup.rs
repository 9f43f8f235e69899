//! Within- versus across-study effects from aggregate data: studies that report the effect in
//! two subgroups (women and men, old and young) give a within-study interaction each, the
//! difference between their subgroups; the across-study estimate is the slope of the
//! meta-regression of the studies' overall effects on the share of the first subgroup
//! (Fisher et al. 2011, J Clin Epidemiol 64:949; Riley et al. 2020, BMJ 368:m2117).
//!
//! Both slopes are on the same scale: the slope on the share is the difference in effect
//! between a study of only the first subgroup and one of only the second, which is what the
//! within-study difference estimates free of study-level confounding.

use super::{difference, pooled_slope, slope_design, Difference, IpdError, PooledSlope, Stage};
use crate::stats::{Design, ModelSpec, Tau2Method, Test};

/// One study's subgroup effects (on any additive scale: log OR, log RR, SMD, …).
#[derive(Debug, Clone, PartialEq)]
pub struct SubgroupStudy {
    /// The study's label.
    pub label: String,
    /// The effect in the first subgroup.
    pub y1: f64,
    /// Its sampling variance.
    pub v1: f64,
    /// The effect in the second subgroup.
    pub y2: f64,
    /// Its sampling variance.
    pub v2: f64,
    /// The share of the study's participants in the first subgroup, in [0, 1].
    pub share: f64,
}

/// One study's derived estimates.
#[derive(Debug, Clone, PartialEq)]
pub struct SubgroupEstimates {
    /// The study's label.
    pub label: String,
    /// y₁ − y₂, the within-study interaction.
    pub difference: f64,
    /// √(v₁ + v₂).
    pub difference_se: f64,
    /// The study's overall effect, the inverse-variance mean of its subgroups.
    pub overall: f64,
    /// Its standard error, (1/v₁ + 1/v₂)^(−½).
    pub overall_se: f64,
    /// The share of the first subgroup.
    pub share: f64,
}

/// The result: each study's estimates, the two slopes and their difference.
#[derive(Debug, Clone, PartialEq)]
pub struct SubgroupTwoStage {
    /// The studies in input order.
    pub studies: Vec<SubgroupEstimates>,
    /// The pooled within-study subgroup difference.
    pub within: PooledSlope,
    /// The slope of the overall effects on the share of the first subgroup.
    pub across: PooledSlope,
    /// within − across.
    pub difference: Difference,
}

/// Within- and across-study estimates from subgroup data, z tests.
///
/// # Formula
/// dᵢ = y₁ᵢ − y₂ᵢ with vᵢ = v₁ᵢ + v₂ᵢ pooled by `rma(di, vi, method)`; the overall effects
/// ȳᵢ = (y₁ᵢ/v₁ᵢ + y₂ᵢ/v₂ᵢ)/(1/v₁ᵢ + 1/v₂ᵢ) regressed on the shares,
/// `rma(ȳi, 1/(1/v1i + 1/v2i), mods = ~ share, method)`, whose slope is the across estimate.
///
/// # Errors
/// [`IpdError::InvalidSubgroupData`] for a non-finite effect, a variance that is not positive
/// or a share outside [0, 1]; fewer than 3 studies; a pooling step that failed (for example
/// shares that are all equal).
pub fn subgroup_two_stage(
    studies: &[SubgroupStudy],
    method: Tau2Method,
    level: f64,
) -> Result<SubgroupTwoStage, IpdError> {
    if studies.is_empty() {
        return Err(IpdError::NoStudies);
    }
    if studies.len() < 3 {
        return Err(IpdError::TooFewStudies { k: studies.len() });
    }
    let estimates = studies
        .iter()
        .map(estimate)
        .collect::<Result<Vec<_>, _>>()?;
    let model = ModelSpec {
        method,
        test: Test::Z,
        level,
        ..ModelSpec::default()
    };
    let get = |f: fn(&SubgroupEstimates) -> f64| estimates.iter().map(f).collect::<Vec<_>>();
    let within = pooled_slope(
        &get(|s| s.difference),
        &get(|s| s.difference_se * s.difference_se),
        &Design::intercept_only(estimates.len()),
        &model,
        Stage::Within,
    )?;
    let across = pooled_slope(
        &get(|s| s.overall),
        &get(|s| s.overall_se * s.overall_se),
        &slope_design(&get(|s| s.share), "share"),
        &model,
        Stage::Across,
    )?;
    Ok(SubgroupTwoStage {
        studies: estimates,
        within,
        across,
        difference: difference(&within, &across),
    })
}

fn estimate(s: &SubgroupStudy) -> Result<SubgroupEstimates, IpdError> {
    let bad = |problem| IpdError::InvalidSubgroupData {
        study: s.label.clone(),
        problem,
    };
    if !(s.y1.is_finite() && s.y2.is_finite()) {
        return Err(bad("a subgroup effect is missing or infinite"));
    }
    if !(s.v1 > 0.0 && s.v2 > 0.0 && s.v1.is_finite() && s.v2.is_finite()) {
        return Err(bad(
            "a subgroup variance is not a positive number: expected each subgroup's sampling variance",
        ));
    }
    if !(0.0..=1.0).contains(&s.share) {
        return Err(bad(
            "the share of the first subgroup is outside 0 to 1: expected a proportion",
        ));
    }
    let (w1, w2) = (1.0 / s.v1, 1.0 / s.v2);
    Ok(SubgroupEstimates {
        label: s.label.clone(),
        difference: s.y1 - s.y2,
        difference_se: (s.v1 + s.v2).sqrt(),
        overall: (w1 * s.y1 + w2 * s.y2) / (w1 + w2),
        overall_se: (w1 + w2).sqrt().recip(),
        share: s.share,
    })
}
