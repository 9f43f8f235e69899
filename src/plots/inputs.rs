//! From an analysis to each plot's input: the records of [`crate::analysis`] mapped to the
//! plain input structs the drawing functions take. Nothing here fits or predicts: the pooled
//! effect, the studies' fitted values, the subgroup models, the fitted line along a moderator
//! and Egger's test are all computed by the analysis layer, so the page, the native tests and
//! a Web Worker read the same numbers.
//!
//! Choices, with metafor as the model:
//! - **Forest plot of a meta-regression**: as metafor's `forest()` of an `rma` with
//!   moderators, each study's fitted value is drawn behind it as a grey diamond and there is
//!   no summary diamond; the notes say why and give the test of moderators and the residual
//!   heterogeneity. The bubble plot is the picture of the fitted line.
//! - **Funnel plot of a meta-regression**: as metafor's `funnel()`, residuals yᵢ − xᵢ'b
//!   against √vᵢ, centred at 0 and on the fitted scale; Egger's test is then the mixed-effects
//!   version (`regtest()` of the model with moderators).
//! - **Subgroups**: each subgroup's own intercept-only model and the test for subgroup
//!   differences ([`crate::analysis::subgroups`]).

mod sensitivity;

pub use sensitivity::{
    cumul, gosh, gosh_marks, gosh_range, gosh_range_with, labbe, leave1out, leave1out_coefficient,
    qq, radial,
};

use super::axis::EffectScale;
use super::baujat::BaujatPlot;
use super::bubble::{BubblePlot, CategoryPlot, FittedPoint, Level};
use super::forest::{pooled_label, ForestOrder, ForestPlot, Subgroup};
use super::funnel::FunnelPlot;
use super::heterogeneity::{Explained, HeterogeneityPlot};
use super::paint::{ci_label, wald_text};
use super::profile::ProfilePlot;
use super::scale::{ScalePlot, Tau2Point};
use crate::analysis::component_profile::ComponentProfile;
use crate::analysis::moderator::ModeratorCurve;
use crate::analysis::profile::ProfileRecord;
use crate::analysis::record::{Bounds, Egger};
use crate::analysis::scale_curve::ScalePoints;
use crate::analysis::sensitivity::BaujatRecord;
use crate::analysis::subgroups::Subgroups;
use crate::analysis::{Analysis, Summary};
use crate::data::effect_size::Measure;
use crate::format::{fixed, p_journal, signed};
use crate::stats::{Interval, WaldTest};

/// A moderator's picture: a bubble plot for a numeric moderator, estimates per level for a
/// categorical one.
#[derive(Debug, Clone, PartialEq)]
pub enum ModeratorPlot {
    /// Effect size against a numeric moderator, with the fitted line.
    Bubble(BubblePlot),
    /// Effect size per level of a categorical moderator, with each level's estimate.
    Categories(CategoryPlot),
}

/// The axis scale and the name of the measure as a reader sees it: risk, odds and ratio-of-
/// means measures are fitted as logs and shown as ratios on a log axis (`"Risk ratio"`); the
/// others are shown as fitted, since [`EffectScale`] knows only the exponential (a Fisher's z
/// axis stays in z, not in correlations). Without a measure the effects were read as given.
fn measure_axis(measure: Option<Measure>) -> (EffectScale, String) {
    match measure {
        Some(m @ (Measure::Or | Measure::Rr | Measure::Rom)) => (
            EffectScale::Exp,
            capitalised(m.back_transformed_label().unwrap_or(m.label())),
        ),
        Some(m) => (EffectScale::Identity, capitalised(m.label())),
        None => (EffectScale::Identity, "Effect size".to_owned()),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "τ² = 0.313, I² = 92.2%, Q(12) = 152.23, p < 0.0001", residual with moderators.
fn heterogeneity_text(s: &Summary) -> String {
    let tau2 = if s.spec.method.is_fixed() {
        String::new()
    } else {
        format!("\u{3c4}\u{b2} = {}, ", signed(s.tau2, 3))
    };
    let q = if s.intercept_only() { "Q" } else { "QE" };
    let p = format!(", {}", p_journal(s.qe_p));
    format!(
        "{tau2}I\u{b2} = {}%, {q}({}) = {}{p}",
        signed(s.i2, 1),
        s.qe_df,
        signed(s.qe, 2)
    )
}

/// The forest plot of the analysis: one row per study with the Wald interval yᵢ ± z·√vᵢ at the
/// model's level and its weight in percent (metafor's `weights()`, 100·wᵢ/Σw), the pooled
/// estimate and prediction interval for a model without moderators, the studies' fitted values
/// for a meta-regression, optionally the subgroups of [`crate::analysis::subgroups`].
///
/// A subgroup whose model could not be fitted is listed without a subtotal and a note says
/// why; studies without a value of the grouping column are listed last, in no subgroup.
pub fn forest(
    analysis: &Analysis,
    measure: Option<Measure>,
    order: ForestOrder,
    subgroups: Option<&Subgroups>,
) -> ForestPlot {
    let s = &analysis.summary;
    let studies = analysis.studies();
    let (scale, name) = measure_axis(measure);
    let mut plot = ForestPlot::from_studies(
        &studies.labels.to_vec(),
        &studies.yi,
        &studies.vi,
        &s.weights,
        s.spec.level,
    );
    if let Some(fitted) = &s.fitted {
        for (study, f) in plot.studies.iter_mut().zip(fitted) {
            study.fitted = Some(f.into());
        }
    }
    plot.pooled = s.pooled.as_ref().map(Into::into);
    plot.pooled_label = pooled_label(s.spec.method);
    // Weights in percent, as metafor's weights() reports them and the plot prints them.
    let total: f64 = s.weights.iter().sum();
    if total > 0.0 {
        for study in &mut plot.studies {
            study.weight *= 100.0 / total;
        }
    }
    plot.order = order;
    plot.scale = scale;
    plot.measure = name;
    if s.intercept_only() {
        plot.notes
            .push(format!("Heterogeneity: {}", heterogeneity_text(s)));
    } else {
        let moderators = analysis
            .model
            .encoding
            .as_ref()
            .map(|e| {
                let labels: Vec<&str> = e.terms.iter().map(|t| t.label.as_str()).collect();
                labels.join(" + ")
            })
            .unwrap_or_default();
        plot.notes.push(format!(
            "{} with moderators {moderators}: no single pooled estimate; the bubble plot shows the fitted effects",
            pooled_label(s.spec.method)
        ));
        if let Some(test) = &s.moderators {
            plot.notes
                .push(format!("Test of moderators: {}", wald_text(&test.into())));
        }
        plot.notes
            .push(format!("Residual heterogeneity: {}", heterogeneity_text(s)));
    }
    if let Some(groups) = subgroups {
        add_subgroups(&mut plot, groups);
    }
    plot
}

/// Adds the subgroups, their pooled effects and the test for subgroup differences.
fn add_subgroups(plot: &mut ForestPlot, groups: &Subgroups) {
    let column = &groups.column;
    for group in &groups.groups {
        if let Err(e) = &group.pooled {
            plot.notes
                .push(format!("No subtotal for {column} = {}: {e}", group.level));
        }
        plot.subgroups.push(Subgroup {
            name: format!("{column} = {}", group.level),
            studies: group.studies.clone(),
            pooled: group.pooled.as_ref().ok().map(Into::into),
        });
    }
    let missing = &groups.without_value;
    if !missing.is_empty() {
        let studies = if missing.len() == 1 {
            "1 study".to_owned()
        } else {
            format!("{} studies", missing.len())
        };
        plot.notes.push(format!(
            "{studies} without a value of {column}: in no subgroup and not in the test for subgroup differences"
        ));
        plot.subgroups.push(Subgroup {
            name: format!("No value of {column}"),
            studies: missing.clone(),
            pooled: None,
        });
    }
    match &groups.test {
        Ok(test) => plot.subgroup_test = Some(WaldTest::from(test)),
        Err(e) => plot
            .notes
            .push(format!("No test for subgroup differences: {e}")),
    }
}

/// The plot of the effect sizes against one moderator of the model with the model's fitted
/// effect along it ([`crate::analysis::moderator::moderator_curve`]): a [`BubblePlot`] for a
/// numeric moderator, a [`CategoryPlot`] for a categorical one. Bubbles are sized by the
/// model's weights (1/(vᵢ + τ²), or the multilevel model's); the vertical axis follows the
/// measure.
pub fn moderator(
    analysis: &Analysis,
    curve: &ModeratorCurve,
    measure: Option<Measure>,
) -> ModeratorPlot {
    let (scale, name) = measure_axis(measure);
    let y_label = scale.axis_title(&name);
    let y = analysis.studies().yi.clone();
    match curve {
        ModeratorCurve::Levels {
            column,
            levels,
            level_of,
            caption,
            weights,
        } => ModeratorPlot::Categories(CategoryPlot {
            levels: levels
                .iter()
                .map(|(name, e)| Level {
                    name: name.clone(),
                    prediction: e.into(),
                })
                .collect(),
            level_of: level_of.clone(),
            y,
            weights: weights_of(analysis, weights),
            x_label: column.clone(),
            y_label,
            scale,
            caption: caption.clone(),
        }),
        ModeratorCurve::Line {
            column,
            x,
            grid,
            caption,
            weights,
        } => ModeratorPlot::Bubble(BubblePlot {
            x: x.clone(),
            y,
            weights: weights_of(analysis, weights),
            x_label: column.clone(),
            y_label,
            scale,
            fitted: grid
                .iter()
                .map(|(x, e)| FittedPoint {
                    x: *x,
                    prediction: e.into(),
                })
                .collect(),
            caption: caption.clone(),
        }),
    }
}

/// The weights a curve's model gives the studies, else the fit's.
fn weights_of(analysis: &Analysis, curve_weights: &Option<Vec<f64>>) -> Vec<f64> {
    curve_weights
        .clone()
        .unwrap_or_else(|| analysis.summary.weights.clone())
}

/// The plot of each study's τ²ᵢ against the scale moderator of a location-scale model, with
/// the fitted τ² and its confidence band ([`crate::analysis::scale_curve`]); `None` for a model
/// with one τ², or when the scale moderator drawn is categorical (the page lists its levels).
pub fn scale(analysis: &Analysis) -> Option<ScalePlot> {
    let curve = analysis.scale_curve.as_deref()?;
    let ScalePoints::Line { x, grid } = &curve.points else {
        return None;
    };
    Some(ScalePlot {
        x: x.clone(),
        tau2: curve.tau2_i.clone(),
        fitted: grid
            .iter()
            .map(|(x, b)| Tau2Point {
                x: *x,
                tau2: b.estimate,
                lower: b.lower,
                upper: b.upper,
            })
            .collect(),
        x_label: curve.column.clone(),
        y_label: "\u{3c4}\u{b2} (between-study variance)".to_owned(),
        band_label: format!("{} band", ci_label(analysis.summary.spec.level)),
        caption: curve.caption.clone(),
    })
}

/// The profile-likelihood plot of τ² ([`crate::analysis::profile`]): the curve, τ̂², the
/// threshold line and both intervals, named with their bounds in the legend.
pub fn profile(record: &ProfileRecord) -> ProfilePlot {
    let level = ci_label(record.level);
    let bounds = |b: &Bounds| format!("{} to {}", fixed(b.lower, 4), fixed(b.upper, 4));
    ProfilePlot {
        tau2: record.tau2.clone(),
        log_likelihood: record.log_likelihood.clone(),
        maximum: (record.tau2_hat, record.max_log_likelihood),
        maximum_label: format!("\u{3c4}\u{302}\u{b2} = {}", fixed(record.tau2_hat, 4)),
        threshold: record.threshold,
        profile_ci: [
            record.profile_likelihood.lower,
            record.profile_likelihood.upper,
        ],
        profile_label: format!(
            "{level} (profile likelihood): {}",
            bounds(&record.profile_likelihood)
        ),
        q_profile_ci: record.q_profile.map(|b| [b.lower, b.upper]),
        q_profile_label: record
            .q_profile
            .map(|b| format!("{level} (Q-profile): {}", bounds(&b)))
            .unwrap_or_default(),
        x_label: "\u{3c4}\u{b2} (between-study variance)".to_owned(),
        y_label: likelihood_axis(&record.method),
        caption: format!(
            "Dashed line: the maximum less \u{3c7}\u{b2}\u{2081} / 2 = {}; the curve crosses it at the profile-likelihood bounds",
            fixed(record.max_log_likelihood - record.threshold, 3)
        ),
    }
}

/// The vertical axis of a profile plot of a fit by `method` (`"ML"`, `"REML"`).
fn likelihood_axis(method: &str) -> String {
    let name = if method == "REML" {
        "Restricted log-likelihood"
    } else {
        "Log-likelihood"
    };
    format!("{name} ({method})")
}

/// The profile-likelihood plot of one σ² of a multilevel model
/// ([`crate::analysis::component_profile`]): the curve, σ̂², the threshold line and the
/// interval, as metafor's `profile()` draws each component.
pub fn component_profile(record: &ComponentProfile) -> ProfilePlot {
    let level = ci_label(record.level);
    let pl = &record.profile_likelihood;
    ProfilePlot {
        tau2: record.sigma2.clone(),
        log_likelihood: record.log_likelihood.clone(),
        maximum: (pl.estimate, record.max_log_likelihood),
        maximum_label: format!("\u{3c3}\u{302}\u{b2} = {}", fixed(pl.estimate, 4)),
        threshold: record.threshold,
        profile_ci: [pl.lower, pl.upper],
        profile_label: format!(
            "{level} (profile likelihood): {} to {}",
            fixed(pl.lower, 4),
            fixed(pl.upper, 4)
        ),
        q_profile_ci: None,
        q_profile_label: String::new(),
        x_label: format!("\u{3c3}\u{b2} of {} (variance component)", record.name),
        y_label: likelihood_axis(&record.method),
        caption: format!(
            "The other variance components re-estimated at each point. Dashed line: the maximum less \u{3c7}\u{b2}\u{2081} / 2 = {}",
            fixed(record.max_log_likelihood - record.threshold, 3)
        ),
    }
}

/// The funnel plot of the analysis with Egger's regression test
/// ([`crate::analysis::egger::egger`]; `None` when its model could not be fitted), optionally
/// contour-enhanced.
///
/// Without moderators: the effect sizes against √vᵢ around the pooled estimate, on the
/// measure's scale. With moderators, as metafor's `funnel()`: the residuals yᵢ − xᵢ'b against
/// √vᵢ around 0, on the fitted scale (a residual of a log ratio is read as a log), with the
/// mixed-effects Egger test.
pub fn funnel(
    analysis: &Analysis,
    measure: Option<Measure>,
    egger: Option<&Egger>,
    contours: bool,
) -> FunnelPlot {
    let s = &analysis.summary;
    let studies = analysis.studies();
    let (scale, name) = measure_axis(measure);
    let sei = studies.vi.iter().map(|v| v.sqrt()).collect();
    let egger = egger.map(Into::into);
    match &s.pooled {
        Some(pooled) => FunnelPlot {
            yi: studies.yi.clone(),
            sei,
            estimate: pooled.pred,
            contours,
            egger,
            x_label: scale.axis_title(&name),
            scale,
        },
        None => {
            let fitted_name = measure.map_or(name, |m| m.label().to_owned());
            FunnelPlot {
                yi: s.residuals.clone(),
                sei,
                estimate: 0.0,
                contours,
                egger,
                x_label: format!("Residual ({fitted_name})"),
                scale: EffectScale::Identity,
            }
        }
    }
}

/// The heterogeneity picture of the analysis: I² (residual I² with moderators) and, for a
/// meta-regression, R², with the Q-profile intervals the analysis computed (none for FE/EE
/// models or when k = p).
pub fn heterogeneity(analysis: &Analysis) -> HeterogeneityPlot {
    let s = &analysis.summary;
    let no_interval = |estimate: f64| Interval {
        estimate,
        lower: f64::NAN,
        upper: f64::NAN,
    };
    let ci = s.intervals.as_ref();
    HeterogeneityPlot {
        tau2: ci.map_or(no_interval(s.tau2), |ci| (&ci.tau2).into()),
        i2: ci.map_or(no_interval(s.i2), |ci| (&ci.i2).into()),
        typical_variance: s.typical_variance,
        explained: match (s.tau2_without_moderators, s.r2) {
            (Some(tau2_without_moderators), Some(r2)) => Some(Explained {
                tau2_without_moderators,
                r2,
            }),
            _ => None,
        },
        residual: s.has_moderators(),
        fixed: s.spec.method.is_fixed(),
        level: ci.map_or(s.spec.level, |ci| ci.level),
    }
}

/// The Baujat plot of the Sensitivity view's records: one point per study, none where the
/// model cannot be refitted without it.
pub fn baujat(record: &BaujatRecord) -> BaujatPlot {
    BaujatPlot {
        x: record.studies.iter().map(|s| s.x).collect(),
        y: record
            .studies
            .iter()
            .map(|s| s.y.unwrap_or(f64::NAN))
            .collect(),
        labels: record.studies.iter().map(|s| s.slab.clone()).collect(),
    }
}
