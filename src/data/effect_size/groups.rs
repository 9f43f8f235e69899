//! The two groups' outcomes of a 2×2 table on the scale of its measure, each group on its own:
//! what a L'Abbé plot places a study at (metafor's `labbe`, which computes them with `escalc`
//! as proportions — log proportions `"PLN"` for RR, logits `"PLO"` for OR, raw proportions
//! `"PR"` for RD — with the fit's `add = 1/2, to = "only0"`: a group with no events or no
//! non-events gets 1/2 added to both).

use super::{Measure, ADD};

/// Events and total of one group, on the scale of `measure`'s group outcome; `None` when the
/// measure is not one of a 2×2 table or the counts give no proportion (a negative count, an
/// empty group, more events than the total).
fn outcome(measure: Measure, events: f64, non_events: f64) -> Option<f64> {
    if !(events >= 0.0 && non_events >= 0.0 && events + non_events > 0.0) {
        return None;
    }
    let (x, m) = if events == 0.0 || non_events == 0.0 {
        (events + ADD, non_events + ADD)
    } else {
        (events, non_events)
    };
    match measure {
        Measure::Rr => Some((x / (x + m)).ln()),
        Measure::Or => Some((x / m).ln()),
        Measure::Rd => Some(x / (x + m)),
        _ => None,
    }
}

/// The treatment (first) and control (second) group's outcomes of the table `[ai, bi, ci, di]`
/// on the scale of `measure`: for RR, log(aᵢ/n₁ᵢ) and log(cᵢ/n₂ᵢ); for OR, log(aᵢ/bᵢ) and
/// log(cᵢ/dᵢ); for RD, aᵢ/n₁ᵢ and cᵢ/n₂ᵢ. Their difference is the study's effect size when no
/// cell is zero. `None` for a measure that is not one of a 2×2 table, or counts that give no
/// outcome.
///
/// # Examples
/// ```
/// use meridian::data::effect_size::{group_outcomes, Measure};
/// // BCG trial 1 (Aronson, 1948): 4 of 123 vaccinated and 11 of 139 unvaccinated cases.
/// let (t, c) = group_outcomes(Measure::Rr, [4.0, 119.0, 11.0, 128.0]).expect("a 2×2 table");
/// assert!((t - (4.0f64 / 123.0).ln()).abs() < 1e-15);
/// assert!((c - (11.0f64 / 139.0).ln()).abs() < 1e-15);
/// ```
pub fn group_outcomes(measure: Measure, [a, b, c, d]: [f64; 4]) -> Option<(f64, f64)> {
    Some((outcome(measure, a, b)?, outcome(measure, c, d)?))
}
