//! The ecological-bias lab (issue 15 §2): a seeded simulation of trials whose participants
//! follow a logistic model with a known treatment effect, analysed the two ways a reviewer
//! can — across trials (a meta-regression of each trial's 2×2 effect on its mean covariate)
//! and within trials (the two-stage analysis of the participants, [`crate::stats::ipd`]) — so
//! that a student sees which one recovers the individual-level truth, and why.
//!
//! The generating model ([`LabSettings`]): participant i of trial j has a risk score
//! xᵢⱼ ≥ 0, log-normal around the trial's expected score mⱼ (itself log-normal around the
//! population's mean score), and logit P(event) = −4 + xᵢⱼ + tᵢⱼ·(log OR + δ·(xᵢⱼ − m̄) + γ·cⱼ),
//! with tᵢⱼ the 1:1 treatment, δ a real treatment × score interaction and cⱼ a trial
//! characteristic that tracks mⱼ (a confounder at the trial level). Log-normal scores spread
//! more in trials of sicker patients, which is what makes the marginal odds ratio of a trial
//! drift with its mean score although every participant has the same conditional odds ratio
//! (non-collapsibility).

mod draw;
mod reading;

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ipd::SlopeRecord;
use crate::data::effect_size::{compute, EffectSizeError, Measure};
use crate::stats::ipd::{
    pooled_slope, slope_design, two_stage, Family, IpdError, IpdStudy, Stage, TwoStageSpec,
};
use crate::stats::{fit, Design, ModelSpec, StatsError, Tau2Method};

pub use draw::{conditional_log_or, expit, BASE_LOG_ODDS};

/// Points of the truth, within and across lines (enough for the curves of RR and RD to look
/// smooth at plot size).
const LINE_POINTS: usize = 41;

/// What the lab simulates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LabSettings {
    /// Trials (3 to 200).
    pub trials: usize,
    /// Participants per trial (20 to 5 000), half of them treated.
    pub participants: usize,
    /// The population's mean risk score (0.1 to 10): each point adds 1 to the log odds.
    pub mean_score: f64,
    /// Spread of the trials' expected scores: the log-scale standard deviation (0 to 1.5).
    pub between_spread: f64,
    /// Spread of the scores inside a trial: the log-scale standard deviation (0.01 to 1.5).
    pub within_spread: f64,
    /// The treatment's odds ratio for a participant at the mean score (0.05 to 20).
    pub odds_ratio: f64,
    /// δ: the change of a participant's log odds ratio per point of their own score (−2 to 2).
    pub interaction: f64,
    /// γ: the change of a trial's log odds ratio per unit of its characteristic, which tracks
    /// the trial's mean score (−2 to 2): confounding at the trial level.
    pub confounder: f64,
    /// The seed of the draws.
    pub seed: u64,
}

/// The lab's starting points, one per mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Preset {
    /// The same conditional odds ratio for everyone; trials' marginal odds ratios drift with
    /// their mean score.
    NonCollapsibility,
    /// No individual interaction; trial effects follow a characteristic that tracks the mean
    /// score.
    AggregationBias,
    /// A real treatment × score interaction, no confounder.
    RealInteraction,
}

impl Preset {
    /// Every preset, in the order the page lists them.
    pub const ALL: [Preset; 3] = [
        Self::NonCollapsibility,
        Self::AggregationBias,
        Self::RealInteraction,
    ];

    /// The preset's name in the page.
    pub fn label(self) -> &'static str {
        match self {
            Self::NonCollapsibility => "Non-collapsibility",
            Self::AggregationBias => "Aggregation bias",
            Self::RealInteraction => "Real interaction",
        }
    }

    /// The preset's settings. Seed 9 is a draw typical of the 200 seeds of `tests/lab.rs`
    /// (across slope −0.15 per point with its CI below 0, within-trial estimate −0.01): a
    /// first view should show the mechanism, not a 1-in-10 draw.
    pub fn settings(self) -> LabSettings {
        // A wide range of mean scores (trials' risks of about 4 % to 40 %) and a wide spread
        // inside trials: where the scores are low the odds ratio nearly collapses (rare events),
        // where they are high it is diluted, so the trials' marginal log odds ratio falls by
        // about 0.2 per point while every participant's is ln 5.
        let base = LabSettings {
            trials: 20,
            participants: 400,
            mean_score: 1.5,
            between_spread: 0.6,
            within_spread: 0.8,
            odds_ratio: 5.0,
            interaction: 0.0,
            confounder: 0.0,
            seed: 9,
        };
        match self {
            Self::NonCollapsibility => base,
            // Narrow spread inside trials (little non-collapsibility), a strong confounder.
            Self::AggregationBias => LabSettings {
                within_spread: 0.3,
                confounder: -0.6,
                ..base
            },
            Self::RealInteraction => LabSettings {
                interaction: -0.4,
                ..base
            },
        }
    }
}

/// The three views of a trial's 2×2 table.
pub const MEASURES: [Measure; 3] = [Measure::Or, Measure::Rr, Measure::Rd];

/// One simulated trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabTrial {
    /// T1, T2, …
    pub label: String,
    /// Treated participants with the event.
    pub ai: f64,
    /// Treated participants without it.
    pub bi: f64,
    /// Control participants with the event.
    pub ci: f64,
    /// Control participants without it.
    pub di: f64,
    /// The mean score of the trial's participants.
    pub covariate_mean: f64,
}

/// A line drawn over the range of the trials' mean scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// Points (score, effect), ascending in score.
    pub points: Vec<(f64, f64)>,
}

/// The across-trial meta-regression of one measure on the trials' mean scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcrossRecord {
    /// The fitted effect at score 0.
    pub intercept: f64,
    /// The slope per point of mean score, with its z test and τ².
    pub slope: SlopeRecord,
}

/// One measure's view of the trials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureView {
    /// `OR`, `RR` or `RD` (the measure's name in the page and metafor).
    pub measure: String,
    /// Each trial's effect (log OR, log RR or RD), in trial order.
    pub yi: Vec<f64>,
    /// Its sampling variance.
    pub vi: Vec<f64>,
    /// The meta-regression across trials.
    pub across: AcrossRecord,
    /// The across-trial fitted line.
    pub across_line: Line,
    /// The individual-level truth: the effect of treatment on a participant with that score
    /// (in a trial of typical characteristic).
    pub truth_line: Line,
    /// Whether the within-trial estimate belongs in this view: only on the log-odds scale.
    /// It pools the trials' logistic treatment × score interactions, a change in the log odds
    /// ratio; on the risk-ratio and risk-difference scales a participant's effect follows the
    /// truth curve, with no single slope such an estimate could be compared with, so those
    /// views leave it out and their reading says why.
    pub within_shown: bool,
    /// One sentence: which estimate is right and why.
    pub reading: String,
}

/// The within-trial (two-stage) estimate on the log-odds scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WithinRecord {
    /// The pooled treatment × score interaction per point.
    pub interaction: SlopeRecord,
    /// The pooled log odds ratio at the population's mean score.
    pub log_or_at_mean: SlopeRecord,
    /// The within-trial line: log OR at mean + interaction × (score − mean score).
    pub line: Line,
    /// Trials left out because an arm had no events or only events, or the events separate
    /// by score (the logistic regression has no finite maximum there).
    pub excluded: Vec<String>,
}

/// Everything the lab shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabRecord {
    /// The settings simulated.
    pub settings: LabSettings,
    /// The trials.
    pub trials: Vec<LabTrial>,
    /// OR, RR and RD views, in [`MEASURES`] order.
    pub measures: Vec<MeasureView>,
    /// The within-trial estimate.
    pub within: WithinRecord,
    /// The true interaction δ the within-trial estimate targets.
    pub true_interaction: f64,
}

/// Why the lab cannot run.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LabError {
    /// A setting outside its range.
    Setting {
        /// The setting's name.
        name: &'static str,
        /// Its value.
        value: f64,
        /// Smallest admitted.
        min: f64,
        /// Largest admitted.
        max: f64,
    },
    /// A trial's 2×2 effect could not be computed.
    Effect(EffectSizeError),
    /// The across-trial meta-regression failed.
    Across(StatsError),
    /// The within-trial analysis failed.
    Within(IpdError),
    /// Fewer than 3 trials are left for the within-trial analysis.
    TooFewUsable {
        /// Trials left.
        usable: usize,
    },
}

impl fmt::Display for LabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Setting {
                name,
                value,
                min,
                max,
            } => write!(f, "{name} is {value}; choose a value from {min} to {max}"),
            Self::Effect(e) => write!(f, "a trial's effect: {e}"),
            Self::Across(e) => write!(f, "the meta-regression across trials: {e}"),
            Self::Within(e) => write!(f, "the within-trial analysis: {e}"),
            Self::TooFewUsable { usable } => write!(
                f,
                "only {usable} trials have events and non-events in both arms; the within-trial analysis needs 3 (raise the participants or the mean score)"
            ),
        }
    }
}

impl std::error::Error for LabError {}

impl LabSettings {
    /// Checks every setting against its range.
    ///
    /// # Errors
    /// [`LabError::Setting`] naming the first setting out of range (or not finite).
    pub fn check(&self) -> Result<(), LabError> {
        let ranges: [(&'static str, f64, f64, f64); 8] = [
            ("trials", self.trials as f64, 3.0, 200.0),
            ("participants", self.participants as f64, 20.0, 5000.0),
            ("mean score", self.mean_score, 0.1, 10.0),
            ("between-trial spread", self.between_spread, 0.0, 1.5),
            ("within-trial spread", self.within_spread, 0.01, 1.5),
            ("odds ratio", self.odds_ratio, 0.05, 20.0),
            ("interaction", self.interaction, -2.0, 2.0),
            ("confounder", self.confounder, -2.0, 2.0),
        ];
        for (name, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                return Err(LabError::Setting {
                    name,
                    value,
                    min,
                    max,
                });
            }
        }
        Ok(())
    }
}

/// Draws the trials of `settings` and analyses them across and within.
///
/// # Errors
/// [`LabError`]: a setting out of range, or an analysis the draws do not support (too few
/// trials with events in both arms, a meta-regression that did not converge).
pub fn run(settings: &LabSettings) -> Result<LabRecord, LabError> {
    settings.check()?;
    let drawn = draw::draw(settings);
    let trials: Vec<LabTrial> = drawn.iter().map(|t| tabulate(&t.people)).collect();
    let xbar: Vec<f64> = trials.iter().map(|t| t.covariate_mean).collect();
    let grid = grid(&xbar);
    let within = within(settings, &drawn, &grid)?;
    let measures = MEASURES
        .iter()
        .map(|&m| measure_view(settings, m, &trials, &xbar, &grid, &within))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LabRecord {
        settings: *settings,
        trials,
        measures,
        within,
        true_interaction: settings.interaction,
    })
}

/// The participants `settings` draw (the same as [`run`] analyses) as a CSV table, one row per
/// participant: `trial`, `treat` (1/0), `event` (1/0) and `score`, for the IPD view.
///
/// # Errors
/// A setting out of range.
pub fn participants_csv(settings: &LabSettings) -> Result<String, LabError> {
    settings.check()?;
    let mut text = String::from("trial,treat,event,score\n");
    for t in draw::draw(settings) {
        let p = &t.people;
        for i in 0..p.treat.len() {
            text += &format!(
                "{},{},{},{}\n",
                p.label, p.treat[i], p.outcome[i], p.covariate[i]
            );
        }
    }
    Ok(text)
}

/// A trial's 2×2 table and mean score.
fn tabulate(p: &IpdStudy) -> LabTrial {
    let (mut ai, mut bi, mut ci, mut di) = (0.0, 0.0, 0.0, 0.0);
    for (&t, &y) in p.treat.iter().zip(&p.outcome) {
        match (t == 1.0, y == 1.0) {
            (true, true) => ai += 1.0,
            (true, false) => bi += 1.0,
            (false, true) => ci += 1.0,
            (false, false) => di += 1.0,
        }
    }
    LabTrial {
        label: p.label.clone(),
        ai,
        bi,
        ci,
        di,
        covariate_mean: p.covariate.iter().sum::<f64>() / p.covariate.len() as f64,
    }
}

/// Evenly spaced scores over the trials' mean scores, padded by 5 % of the range each side.
fn grid(xbar: &[f64]) -> Vec<f64> {
    let lo = xbar.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xbar.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let pad = 0.05 * (hi - lo).max(0.1);
    let (lo, hi) = ((lo - pad).max(0.0), hi + pad);
    (0..LINE_POINTS)
        .map(|i| lo + (hi - lo) * i as f64 / (LINE_POINTS - 1) as f64)
        .collect()
}

/// The two-stage analysis of the participants, the score centred at the population's mean so
/// that each trial's treatment coefficient is its log odds ratio there.
fn within(
    s: &LabSettings,
    drawn: &[draw::DrawnTrial],
    grid: &[f64],
) -> Result<WithinRecord, LabError> {
    let mut excluded = Vec::new();
    let mut usable = Vec::with_capacity(drawn.len());
    for t in drawn {
        if has_empty_cell(&t.people) {
            excluded.push(t.people.label.clone());
        } else {
            let mut people = t.people.clone();
            people.covariate.iter_mut().for_each(|x| *x -= s.mean_score);
            usable.push(people);
        }
    }
    let spec = TwoStageSpec {
        family: Family::Binomial,
        method: Tau2Method::Reml,
        level: 0.95,
    };
    // A trial whose high scorers all had the event is separated too, which only its fit can
    // tell: it is left out like the trials with an empty cell, and the rest refitted.
    let result = loop {
        if usable.len() < 3 {
            return Err(LabError::TooFewUsable {
                usable: usable.len(),
            });
        }
        match two_stage(&usable, &spec) {
            Ok(result) => break result,
            Err(IpdError::Separation { study } | IpdError::InestimableInteraction { study }) => {
                usable.retain(|p| p.label != study);
                excluded.push(study);
            }
            Err(e) => return Err(LabError::Within(e)),
        }
    };
    let effects: Vec<f64> = result.studies.iter().map(|e| e.effect).collect();
    let variances: Vec<f64> = result
        .studies
        .iter()
        .map(|e| e.effect_se * e.effect_se)
        .collect();
    let at_mean = pooled_slope(
        &effects,
        &variances,
        &Design::intercept_only(effects.len()),
        &ModelSpec::default(),
        Stage::Within,
    )
    .map_err(LabError::Within)?;
    let slope = result.within.estimate;
    Ok(WithinRecord {
        interaction: result.within.into(),
        log_or_at_mean: at_mean.into(),
        line: Line {
            points: grid
                .iter()
                .map(|&x| (x, at_mean.estimate + slope * (x - s.mean_score)))
                .collect(),
        },
        excluded,
    })
}

/// No events, or only events, in an arm.
fn has_empty_cell(p: &IpdStudy) -> bool {
    let t = tabulate(p);
    [t.ai, t.bi, t.ci, t.di].contains(&0.0)
}

/// One measure: the trials' effects, the meta-regression across them, the truth and the
/// reading.
fn measure_view(
    s: &LabSettings,
    measure: Measure,
    trials: &[LabTrial],
    xbar: &[f64],
    grid: &[f64],
    within: &WithinRecord,
) -> Result<MeasureView, LabError> {
    let (mut yi, mut vi) = (
        Vec::with_capacity(trials.len()),
        Vec::with_capacity(trials.len()),
    );
    for t in trials {
        let e = compute(measure, &[t.ai, t.bi, t.ci, t.di]).map_err(LabError::Effect)?;
        yi.push(e.yi);
        vi.push(e.vi);
    }
    let f = fit(
        &yi,
        &vi,
        &slope_design(xbar, "covariate_mean"),
        &ModelSpec::default(),
    )
    .map_err(LabError::Across)?;
    let (b0, b1) = (&f.coefficients[0], &f.coefficients[1]);
    let across = AcrossRecord {
        intercept: b0.estimate,
        slope: SlopeRecord {
            estimate: b1.estimate,
            se: b1.se,
            ci_lower: b1.ci_lower,
            ci_upper: b1.ci_upper,
            p_value: b1.p_value,
            tau2: f.tau2().unwrap_or(0.0),
        },
    };
    let line = |g: &dyn Fn(f64) -> f64| Line {
        points: grid.iter().map(|&x| (x, g(x))).collect(),
    };
    Ok(MeasureView {
        measure: measure.name().to_owned(),
        across_line: line(&|x| across.intercept + across.slope.estimate * x),
        truth_line: line(&|x| individual_effect(s, measure, x)),
        reading: reading::reading(s, measure, &across, within),
        within_shown: measure == Measure::Or,
        yi,
        vi,
        across,
    })
}

/// The treatment's effect on one participant with score `x` in a trial of typical
/// characteristic, on the scale of `measure`.
pub fn individual_effect(s: &LabSettings, measure: Measure, x: f64) -> f64 {
    let control = BASE_LOG_ODDS + x;
    let treated = control + conditional_log_or(s, x, 0.0);
    match measure {
        Measure::Rr => (expit(treated) / expit(control)).ln(),
        Measure::Rd => expit(treated) - expit(control),
        // The odds ratio, and any other measure asked of a 2×2 lab: the log-odds scale.
        _ => treated - control,
    }
}
