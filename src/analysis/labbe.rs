//! The L'Abbé plot of 2×2 data (L'Abbé, Detsky & O'Rourke, 1987; metafor: `labbe`): per study
//! the control group's outcome (horizontal) against the treatment group's (vertical) on the
//! scale of the measure (log proportions for RR, log odds for OR, proportions for RD), a point
//! size that grows with the study's precision, and the pooled estimate, whose line
//! y = x + estimate runs beside the line of no effect y = x. The `meridian labbe --json`
//! contract.

use serde::{Deserialize, Serialize};

use super::stages::{Fitted, StudiesStage};
use super::AnalysisError;
use crate::data::effect_size::{group_outcomes, Measure};
use crate::data::parse::Table;
use crate::data::roles::EffectSource;
use crate::stats::StatsError;

/// The smallest and largest point size (metafor's default `plim = c(0.5, 3.5)`, in units of
/// a normal point).
pub const SIZE_RANGE: (f64, f64) = (0.5, 3.5);

/// One study's point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabbeRow {
    /// Study label.
    pub slab: String,
    /// The control (second) group's outcome on the measure's scale.
    pub x: f64,
    /// The treatment (first) group's outcome.
    pub y: f64,
    /// Point size relative to a normal point, linear in the precision 1/√vᵢ from the least
    /// precise study (0.5) to the most precise (3.5); 1 when all are equally precise.
    pub size: f64,
}

/// The L'Abbé plot's points and the pooled estimate on the measure's scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabbeRecord {
    /// One point per study, in study order.
    pub studies: Vec<LabbeRow>,
    /// The pooled estimate: the offset of its line y = x + estimate from the line of no
    /// effect.
    pub estimate: f64,
}

/// Point sizes linear in `precision` over [`SIZE_RANGE`] (metafor's rule for `psize`).
fn sizes(precision: &[f64]) -> Vec<f64> {
    let lo = precision.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = precision.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (small, large) = SIZE_RANGE;
    precision
        .iter()
        .map(|&w| {
            // Equal precisions have no range to spread over: every point gets the normal size.
            if hi > lo {
                small + (large - small) * (w - lo) / (hi - lo)
            } else {
                1.0
            }
        })
        .collect()
}

/// The L'Abbé record of an intercept-only model fitted to 2×2 tables.
///
/// # Errors
/// [`AnalysisError::NeedsTwoByTwo`] when the effect sizes are not computed from 2×2 tables
/// (OR, RR, RD); [`AnalysisError::Stats`] with [`StatsError::NeedsInterceptOnly`] for a model
/// with moderators (as metafor's `labbe`); [`AnalysisError::Parse`] when a count column is
/// not in the table.
pub fn labbe(
    table: &Table,
    data: &StudiesStage,
    fitted: &Fitted,
) -> Result<LabbeRecord, AnalysisError> {
    let not_2x2 = AnalysisError::NeedsTwoByTwo {
        analysis: "a L'Abbé plot",
    };
    let (measure, columns) = match &data.source {
        EffectSource::Raw { measure, columns }
            if matches!(measure, Measure::Or | Measure::Rr | Measure::Rd) =>
        {
            (*measure, columns)
        }
        _ => return Err(not_2x2),
    };
    let fit = &fitted.fit;
    if fit.p != 1 || !fit.has_intercept() {
        return Err(AnalysisError::Stats {
            error: StatsError::NeedsInterceptOnly {
                analysis: "a L'Abbé plot",
            },
            line: None,
            row: None,
        });
    }
    let cells = columns
        .iter()
        .map(|c| table.numeric(c))
        .collect::<Result<Vec<_>, _>>()?;
    let precision: Vec<f64> = data.studies.vi.iter().map(|v| 1.0 / v.sqrt()).collect();
    let studies = data
        .studies
        .rows
        .iter()
        .zip(&data.studies.labels)
        .zip(sizes(&precision))
        .map(|((&row, slab), size)| {
            // A study in the model has all four counts (rows without them were left out), and
            // counts that gave an effect size give both groups' outcomes.
            let count = |j: usize| cells[j][row].value().unwrap_or(f64::NAN);
            let (y, x) = group_outcomes(measure, [count(0), count(1), count(2), count(3)])
                .unwrap_or((f64::NAN, f64::NAN));
            LabbeRow {
                slab: slab.to_owned(),
                x,
                y,
                size,
            }
        })
        .collect();
    Ok(LabbeRecord {
        studies,
        estimate: fit.coefficients[0].estimate,
    })
}
