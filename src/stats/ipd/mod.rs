//! Within- versus across-study effects: the two-stage analysis of individual participant data
//! (IPD; Fisher et al. 2017, BMJ 356:j573, the "deft" approach; Riley et al. 2020, BMJ
//! 368:m2117) and its counterpart for studies that report subgroups ([`subgroup`]).
//!
//! A meta-regression of study effects on a study-level average (mean age, share of women) is
//! an *across-study* (ecological) estimate of how the treatment effect changes with the
//! covariate: aggregation bias (study-level confounding) and the non-collapsibility of the
//! odds ratio can make it differ from the *within-study* relationship between a participant's
//! covariate and their benefit. [`two_stage`] estimates both from IPD:
//! - per study, the outcome is regressed on treatment, covariate and their interaction (least
//!   squares, or logistic regression by IRLS: [`Family`]);
//! - **within**: the studies' interactions pooled by a random-effects model;
//! - **across**: the slope of a meta-regression, on the covariate means, of the studies'
//!   treatment effects from the regression without the interaction;
//! - their difference with a z test, taking the two as independent (within uses only the
//!   variation inside studies, across only the variation between them: Fisher et al. 2017).

mod error;
mod regression;
pub mod subgroup;

pub use error::{IpdError, Stage};

use super::summary::Reference;
use super::{fit, Design, ModelSpec, Tau2Method, Test};
use regression::Participants;

/// The regression of the outcome in each study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    /// A continuous outcome: linear regression by least squares (R: `glm(family = gaussian)`).
    #[default]
    Gaussian,
    /// A binary outcome (0/1): logistic regression (R: `glm(family = binomial)`).
    Binomial,
}

/// One study's participants: parallel vectors, one entry per participant.
#[derive(Debug, Clone, PartialEq)]
pub struct IpdStudy {
    /// The study's label.
    pub label: String,
    /// Treatment: 1 treated, 0 control.
    pub treat: Vec<f64>,
    /// The covariate (age, baseline risk, …).
    pub covariate: Vec<f64>,
    /// The outcome (0/1 for [`Family::Binomial`]).
    pub outcome: Vec<f64>,
}

/// The settings of a two-stage analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwoStageSpec {
    /// The regression in each study.
    pub family: Family,
    /// The τ² estimator of both pooling steps.
    pub method: Tau2Method,
    /// Confidence level of the intervals, in (0, 1).
    pub level: f64,
}

impl Default for TwoStageSpec {
    /// Gaussian, REML, 95 %.
    fn default() -> Self {
        Self {
            family: Family::Gaussian,
            method: Tau2Method::Reml,
            level: 0.95,
        }
    }
}

/// One study's first-stage estimates.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyEstimates {
    /// The study's label.
    pub label: String,
    /// Participants.
    pub n: usize,
    /// The treatment coefficient at covariate 0 of the regression with the interaction.
    pub effect: f64,
    /// Its standard error.
    pub effect_se: f64,
    /// The treatment × covariate coefficient (the within-study interaction).
    pub interaction: f64,
    /// Its standard error.
    pub interaction_se: f64,
    /// The covariate's mean over the study's participants.
    pub covariate_mean: f64,
    /// The treatment coefficient of the regression without the interaction (the study's
    /// effect the across-study meta-regression reads).
    pub main_effect: f64,
    /// Its standard error.
    pub main_effect_se: f64,
}

/// A pooled slope: the within-study interaction or the across-study meta-regression slope.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PooledSlope {
    /// Estimate.
    pub estimate: f64,
    /// Standard error.
    pub se: f64,
    /// Lower confidence bound (z).
    pub ci_lower: f64,
    /// Upper confidence bound (z).
    pub ci_upper: f64,
    /// Two-sided p-value of the z test.
    pub p_value: f64,
    /// The τ² of the model.
    pub tau2: f64,
}

/// Within minus across, with its z test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Difference {
    /// within − across.
    pub estimate: f64,
    /// √(se_within² + se_across²).
    pub se: f64,
    /// z = estimate / se.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// The result of a two-stage analysis: the studies' estimates, the two slopes and their
/// difference.
#[derive(Debug, Clone, PartialEq)]
pub struct TwoStage {
    /// The studies in input order.
    pub studies: Vec<StudyEstimates>,
    /// The pooled within-study interaction (free of ecological bias).
    pub within: PooledSlope,
    /// The across-study (ecological) slope.
    pub across: PooledSlope,
    /// within − across.
    pub difference: Difference,
}

/// The two-stage analysis of IPD: within- and across-study estimates of how the treatment
/// effect changes with the covariate.
///
/// # Formula
/// Study i: g(E y) = a + b·treat + c·x + d·treat·x gives (bᵢ, dᵢ) and their SEs;
/// g(E y) = a + b·treat + c·x gives b̃ᵢ. Within = the random-effects mean of the dᵢ;
/// across = the slope of the meta-regression b̃ᵢ ~ x̄ᵢ; both with z tests (metafor:
/// `rma(di, sei = se_di, method)` and `rma(b̃i, sei = se_b̃i, mods = ~ x̄i, method)`).
///
/// # Errors
/// [`IpdError`]: a study that cannot be fitted (one arm, too few participants, a covariate
/// constant in an arm, separation), fewer than 3 studies, or a pooling step that failed.
pub fn two_stage(studies: &[IpdStudy], spec: &TwoStageSpec) -> Result<TwoStage, IpdError> {
    if studies.is_empty() {
        return Err(IpdError::NoStudies);
    }
    if studies.len() < 3 {
        return Err(IpdError::TooFewStudies { k: studies.len() });
    }
    let estimates = studies
        .iter()
        .map(|s| first_stage(s, spec.family))
        .collect::<Result<Vec<_>, _>>()?;
    second_stage(estimates, spec)
}

/// The two-stage analysis of the studies whose regression can be fitted: each study that
/// cannot (separation, an interaction that cannot be estimated, …) is left out with its
/// error, as the page shows it, and the others are pooled.
///
/// # Errors
/// No study; fewer than 3 studies left (the first left-out study's error, else
/// [`IpdError::TooFewStudies`]); a pooling step that failed.
pub fn two_stage_without_failures(
    studies: &[IpdStudy],
    spec: &TwoStageSpec,
) -> Result<(TwoStage, Vec<IpdError>), IpdError> {
    if studies.is_empty() {
        return Err(IpdError::NoStudies);
    }
    let (fitted, failed): (Vec<_>, Vec<_>) = studies
        .iter()
        .map(|s| first_stage(s, spec.family))
        .partition(Result::is_ok);
    let estimates: Vec<StudyEstimates> = fitted.into_iter().filter_map(Result::ok).collect();
    let mut left_out: Vec<IpdError> = failed.into_iter().filter_map(Result::err).collect();
    if estimates.len() < 3 {
        return Err(if left_out.is_empty() {
            IpdError::TooFewStudies { k: estimates.len() }
        } else {
            left_out.swap_remove(0)
        });
    }
    Ok((second_stage(estimates, spec)?, left_out))
}

/// Pools the first-stage estimates of at least 3 studies.
fn second_stage(estimates: Vec<StudyEstimates>, spec: &TwoStageSpec) -> Result<TwoStage, IpdError> {
    let model = ModelSpec {
        method: spec.method,
        test: Test::Z,
        level: spec.level,
        ..ModelSpec::default()
    };
    let k = estimates.len();
    let column = |f: fn(&StudyEstimates) -> f64| estimates.iter().map(f).collect::<Vec<_>>();
    let variance =
        |f: fn(&StudyEstimates) -> f64| estimates.iter().map(|s| f(s) * f(s)).collect::<Vec<_>>();
    let within = pooled_slope(
        &column(|s| s.interaction),
        &variance(|s| s.interaction_se),
        &Design::intercept_only(k),
        &model,
        Stage::Within,
    )?;
    let across = pooled_slope(
        &column(|s| s.main_effect),
        &variance(|s| s.main_effect_se),
        &slope_design(&column(|s| s.covariate_mean), "covariate_mean"),
        &model,
        Stage::Across,
    )?;
    Ok(TwoStage {
        studies: estimates,
        within,
        across,
        difference: difference(&within, &across),
    })
}

/// The design `~ x`: an intercept and one slope, named `name`.
pub(crate) fn slope_design(x: &[f64], name: &str) -> Design {
    let k = x.len();
    let mut m = nalgebra::DMatrix::from_element(k, 2, 1.0);
    m.column_mut(1).copy_from_slice(x);
    Design {
        x: m,
        names: vec!["intrcpt".to_owned(), name.to_owned()],
        intercept: true,
        terms: vec![super::Term {
            label: name.to_owned(),
            columns: vec![1],
        }],
    }
}

/// The last coefficient of the model of `yi`, `vi` on `design` (the mean of an intercept-only
/// model, the slope of `~ x`), with the model's τ².
pub(crate) fn pooled_slope(
    yi: &[f64],
    vi: &[f64],
    design: &Design,
    spec: &ModelSpec,
    stage: Stage,
) -> Result<PooledSlope, IpdError> {
    let f = fit(yi, vi, design, spec).map_err(|source| IpdError::Pooling { stage, source })?;
    let c = &f.coefficients[design.p() - 1];
    Ok(PooledSlope {
        estimate: c.estimate,
        se: c.se,
        ci_lower: c.ci_lower,
        ci_upper: c.ci_upper,
        p_value: c.p_value,
        tau2: f.tau2().unwrap_or(0.0),
    })
}

/// within − across with the z test of independent estimates.
pub(crate) fn difference(within: &PooledSlope, across: &PooledSlope) -> Difference {
    let estimate = within.estimate - across.estimate;
    let se = within.se.hypot(across.se);
    let statistic = estimate / se;
    Difference {
        estimate,
        se,
        statistic,
        p_value: Reference::Normal.p_value(statistic),
    }
}

/// Validates one study and fits its two regressions.
fn first_stage(s: &IpdStudy, family: Family) -> Result<StudyEstimates, IpdError> {
    let study = || s.label.clone();
    let n = s.treat.len();
    if s.covariate.len() != n || s.outcome.len() != n {
        return Err(IpdError::LengthMismatch { study: study() });
    }
    for (values, variable) in [
        (&s.treat, "treatment"),
        (&s.covariate, "covariate"),
        (&s.outcome, "outcome"),
    ] {
        if values.iter().any(|v| !v.is_finite()) {
            return Err(IpdError::NonFinite {
                study: study(),
                variable,
            });
        }
    }
    if let Some(&value) = s.treat.iter().find(|&&t| t != 0.0 && t != 1.0) {
        return Err(IpdError::TreatmentNotBinary {
            study: study(),
            value,
        });
    }
    if family == Family::Binomial {
        if let Some(&value) = s.outcome.iter().find(|&&y| y != 0.0 && y != 1.0) {
            return Err(IpdError::OutcomeNotBinary {
                study: study(),
                value,
            });
        }
    }
    // Four coefficients, and for least squares a residual degree of freedom besides.
    let needed = 5;
    if n < needed {
        return Err(IpdError::TooFewParticipants {
            study: study(),
            n,
            needed,
        });
    }
    let treated = s.treat.iter().filter(|&&t| t == 1.0).count();
    if treated == 0 || treated == n {
        return Err(IpdError::SingleArm { study: study() });
    }
    // No events (or only events) in an arm: the treatment coefficient of a logistic
    // regression runs to infinity (quasi-complete separation), whatever the covariate.
    if family == Family::Binomial {
        for arm in [0.0, 1.0] {
            let (size, events) = s
                .treat
                .iter()
                .zip(&s.outcome)
                .filter(|(&t, _)| t == arm)
                .fold((0, 0.0), |(k, e), (_, &y)| (k + 1, e + y));
            if events == 0.0 || events == f64::from(size) {
                return Err(IpdError::Separation { study: study() });
            }
        }
    }
    // The interaction model is two lines, one per arm: each needs two distinct covariates.
    for arm in [0.0, 1.0] {
        let mut xs = s.treat.iter().zip(&s.covariate).filter(|(&t, _)| t == arm);
        let first = xs.next().map(|(_, &x)| x);
        if !xs.any(|(_, &x)| Some(x) != first) {
            return Err(IpdError::InestimableInteraction { study: study() });
        }
    }
    let people = Participants {
        study: &s.label,
        treat: &s.treat,
        covariate: &s.covariate,
        outcome: &s.outcome,
    };
    let full = people.regress(4, family)?;
    let main = people.regress(3, family)?;
    Ok(StudyEstimates {
        label: s.label.clone(),
        n,
        effect: full.estimate[1],
        effect_se: full.se[1],
        interaction: full.estimate[3],
        interaction_se: full.se[3],
        covariate_mean: s.covariate.iter().sum::<f64>() / n as f64,
        main_effect: main.estimate[1],
        main_effect_se: main.se[1],
    })
}
