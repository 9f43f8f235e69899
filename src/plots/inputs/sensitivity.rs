//! The Sensitivity view's plots from its records: the forest plots of refits, a row per
//! leave-one-out refit and a row per step of a cumulative meta-analysis, as metafor's
//! `forest()` of a `leave1out` or `cumul` result draws them (a model's estimate and CI per
//! row, no weights); the normal Q–Q and radial plots of the residuals; the L'Abbé plot.

use super::super::forest::{ForestKind, ForestOrder, ForestPlot, ForestStudy};
use super::super::labbe::LabbePlot;
use super::super::scatter::{ReferenceLine, ScatterPlot};
use super::{measure_axis, EffectScale};
use crate::analysis::cumul::CumulRecord;
use crate::analysis::labbe::LabbeRecord;
use crate::analysis::record::{CoefficientRecord, PooledRecord};
use crate::analysis::residual_plots::{QqRecord, RadialRecord};
use crate::analysis::sensitivity::Leave1outRecord;
use crate::analysis::Analysis;
use crate::data::effect_size::Measure;
use crate::stats::Prediction;

/// A row of a model's estimate and CI; NaN where the model could not be fitted, which the
/// plot prints as a dash and draws no mark for.
fn refit_row(
    label: &str,
    estimate: Option<f64>,
    lower: Option<f64>,
    upper: Option<f64>,
) -> ForestStudy {
    let nan = f64::NAN;
    ForestStudy {
        label: label.to_owned(),
        estimate: estimate.unwrap_or(nan),
        ci_lower: lower.unwrap_or(nan),
        ci_upper: upper.unwrap_or(nan),
        weight: 1.0,
        fitted: None,
    }
}

fn pooled_row(label: &str, p: &PooledRecord) -> ForestStudy {
    refit_row(label, p.estimate, p.ci_lower, p.ci_upper)
}

/// A coefficient as a diamond: its CI, and no wider prediction interval.
fn coefficient_diamond(c: &CoefficientRecord) -> Prediction {
    Prediction {
        pred: c.estimate,
        se: c.se,
        ci_lower: c.ci_lower,
        ci_upper: c.ci_upper,
        pi_lower: c.ci_lower,
        pi_upper: c.ci_upper,
    }
}

/// A plot of refits with the analysis's level, `header` over the labels.
fn refits(analysis: &Analysis, studies: Vec<ForestStudy>, header: &str) -> ForestPlot {
    ForestPlot {
        studies,
        level: analysis.summary.spec.level,
        kind: ForestKind::Refits {
            header: header.to_owned(),
        },
        ..ForestPlot::default()
    }
}

/// The coefficient a leave-one-out forest plot of a meta-regression draws: `chosen` if the
/// model has it, else its first moderator's (the intercept only when it has nothing else).
pub fn leave1out_coefficient(analysis: &Analysis, chosen: Option<&str>) -> Option<String> {
    let names: Vec<&str> = analysis
        .summary
        .coefficients
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    if let Some(c) = chosen.filter(|c| names.contains(c)) {
        return Some(c.to_owned());
    }
    let first_moderator = usize::from(analysis.summary.intercept);
    names
        .get(first_moderator)
        .or(names.first())
        .map(|&n| n.to_owned())
}

/// The leave-one-out forest plot: a row per study, the model refitted without it. Without
/// moderators each row is the pooled effect on the measure's scale, and the diamond (and the
/// grey line) the pooled effect of all studies with its prediction interval; with moderators
/// each row is the refit's coefficient `coefficient` (see [`leave1out_coefficient`]) on the
/// fitted scale, the diamond the full model's.
pub fn leave1out(
    analysis: &Analysis,
    record: &Leave1outRecord,
    coefficient: Option<&str>,
    measure: Option<Measure>,
) -> ForestPlot {
    let s = &analysis.summary;
    let k = record.studies.len();
    if s.intercept_only() {
        let (scale, name) = measure_axis(measure);
        let studies = record
            .studies
            .iter()
            .map(|r| pooled_row(&r.slab, &r.pooled))
            .collect();
        let mut plot = refits(analysis, studies, "Study left out");
        plot.pooled = s.pooled.as_ref().map(Into::into);
        plot.pooled_label = format!("All {k} studies");
        plot.scale = scale;
        plot.measure = name;
        plot.notes
            .push("Each row: the model refitted without that study".to_owned());
        return plot;
    }
    let name = leave1out_coefficient(analysis, coefficient).unwrap_or_default();
    let studies = record
        .studies
        .iter()
        .map(|r| {
            let c = r.coefficients.iter().find(|c| c.name == name);
            refit_row(
                &r.slab,
                c.map(|c| c.estimate),
                c.map(|c| c.ci_lower),
                c.map(|c| c.ci_upper),
            )
        })
        .collect();
    let mut plot = refits(analysis, studies, "Study left out");
    plot.pooled = s
        .coefficients
        .iter()
        .find(|c| c.name == name)
        .map(coefficient_diamond);
    plot.pooled_label = format!("All {k} studies");
    plot.scale = EffectScale::Identity;
    plot.measure = format!("Coefficient of {name}");
    plot.notes.push(format!(
        "Each row: the coefficient of {name} in the model refitted without that study"
    ));
    plot
}

/// The cumulative forest plot: a row per step, in the order the studies were added, each the
/// pooled effect of the studies up to and including that row's. The rows stay indexed by study
/// (so the highlighted study is the same one everywhere) and are ordered by step.
pub fn cumul(analysis: &Analysis, record: &CumulRecord, measure: Option<Measure>) -> ForestPlot {
    let k = record.steps.len();
    let (scale, name) = measure_axis(measure);
    let mut studies: Vec<ForestStudy> = (0..k).map(|_| refit_row("", None, None, None)).collect();
    let mut step_of = vec![f64::NAN; k];
    for (j, step) in record.steps.iter().enumerate() {
        // Every step names one of the k studies (the record has one step per study).
        if let Some(i) = step.study.checked_sub(1).filter(|&i| i < k) {
            studies[i] = pooled_row(&step.slab, &step.pooled);
            step_of[i] = j as f64;
        }
    }
    let mut plot = refits(analysis, studies, "Study added");
    plot.order = ForestOrder::Moderator(step_of);
    plot.scale = scale;
    plot.measure = name;
    let order = record
        .order
        .as_ref()
        .map_or("in input order".to_owned(), |c| format!("in order of {c}"));
    plot.notes.push(format!(
        "Each row: the model of the studies up to and including that one, added {order}"
    ));
    plot
}

/// The normal Q–Q plot of the standardized residuals (metafor's `qqnorm` without its
/// simulated envelope): each study's residual against the normal quantile of its rank, and
/// the line y = x where normally distributed residuals would lie.
pub fn qq(record: &QqRecord) -> ScatterPlot {
    ScatterPlot {
        x: record.studies.iter().map(|s| s.theoretical).collect(),
        y: record.studies.iter().map(|s| s.z).collect(),
        labels: record.studies.iter().map(|s| s.slab.clone()).collect(),
        lines: vec![ReferenceLine {
            intercept: 0.0,
            slope: 1.0,
            dashed: false,
            name: "y = x".to_owned(),
        }],
        x_label: "Theoretical quantile (standard normal)".to_owned(),
        y_label: "Standardized residual".to_owned(),
        x_from_zero: false,
        caption: String::new(),
    }
}

/// The radial (Galbraith) plot: each study's standardized effect yᵢ/√(vᵢ + τ²) against its
/// precision 1/√(vᵢ + τ²), the line through the origin with the pooled estimate as its slope,
/// and the band ±crit around it within which about 95 % of studies (at a 95 % level) would
/// lie without excess heterogeneity.
pub fn radial(record: &RadialRecord) -> ScatterPlot {
    let band = |intercept: f64| ReferenceLine {
        intercept,
        slope: record.estimate,
        dashed: true,
        name: format!("\u{b1}{}", crate::format::signed(record.crit, 2)),
    };
    ScatterPlot {
        x: record.studies.iter().map(|s| s.x).collect(),
        y: record.studies.iter().map(|s| s.y).collect(),
        labels: record.studies.iter().map(|s| s.slab.clone()).collect(),
        lines: vec![
            ReferenceLine {
                intercept: 0.0,
                slope: record.estimate,
                dashed: false,
                name: "Pooled estimate (slope)".to_owned(),
            },
            band(record.crit),
            band(-record.crit),
        ],
        x_label: "Precision 1/\u{221a}(v\u{1d62} + \u{3c4}\u{b2})".to_owned(),
        y_label: "Standardized effect y\u{1d62}/\u{221a}(v\u{1d62} + \u{3c4}\u{b2})".to_owned(),
        x_from_zero: true,
        caption: format!(
            "Slope {} [{}, {}] on the fitted scale",
            crate::format::signed(record.estimate, 3),
            crate::format::signed(record.ci_lower, 3),
            crate::format::signed(record.ci_upper, 3)
        ),
    }
}

/// The L'Abbé plot of a record, its axes named after `measure`'s group outcome (log risk for
/// RR, log odds for OR, risk for RD).
pub fn labbe(record: &LabbeRecord, measure: Option<Measure>) -> LabbePlot {
    let outcome = match measure {
        Some(Measure::Rr) => "Log risk",
        Some(Measure::Or) => "Log odds",
        Some(Measure::Rd) => "Risk",
        _ => "Outcome",
    };
    LabbePlot {
        x: record.studies.iter().map(|s| s.x).collect(),
        y: record.studies.iter().map(|s| s.y).collect(),
        size: record.studies.iter().map(|s| s.size).collect(),
        labels: record.studies.iter().map(|s| s.slab.clone()).collect(),
        estimate: record.estimate,
        x_label: format!("{outcome} (control group)"),
        y_label: format!("{outcome} (treatment group)"),
    }
}
