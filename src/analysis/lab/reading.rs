//! The lab's one-sentence reading of each view: which estimate is right and why, from the
//! settings the lab knows to be true and the numbers it drew.

use super::{AcrossRecord, LabSettings, WithinRecord};
use crate::data::effect_size::Measure;
use crate::format::fixed;

/// Two decimals: a sentence, not a table.
fn number(value: f64) -> String {
    fixed(value, 2)
}

/// The reading of one measure's view.
pub fn reading(
    s: &LabSettings,
    measure: Measure,
    across: &AcrossRecord,
    within: &WithinRecord,
) -> String {
    let a = &across.slope;
    let across_text = format!(
        "the across-trial slope ({} per point, 95 % CI {} to {})",
        number(a.estimate),
        number(a.ci_lower),
        number(a.ci_upper)
    );
    let w = &within.interaction;
    let within_text = format!(
        "the within-trial estimate ({} per point, 95 % CI {} to {})",
        number(w.estimate),
        number(w.ci_lower),
        number(w.ci_upper)
    );
    let confounded = s.confounder != 0.0;
    let real = s.interaction != 0.0;
    match measure {
        Measure::Rr | Measure::Rd => {
            let name = if measure == Measure::Rr {
                "risk ratio"
            } else {
                "risk difference"
            };
            let cause = if confounded {
                "partly a real change of the effect with risk and partly the trial characteristic that tracks the mean score"
            } else {
                "a real change of the effect with risk, not a bias"
            };
            format!(
                "The {name} collapses: a trial's {name} is an average of its participants' ones, and on this scale a participant's effect changes with their risk (the truth curve), so {across_text} is {cause}. The within-trial estimate is not shown here: it pools logistic regressions, so it is a change in the log odds ratio, and on the {name} scale a participant's effect has no single slope to set it against; the odds-ratio view shows it."
            )
        }
        _ => match (real, confounded) {
            (false, false) => format!(
                "Every participant has the same odds ratio ({}), so {within_text} is right and {across_text} is produced by non-collapsibility alone: a trial's marginal odds ratio shrinks towards 1 as its participants' risks spread out, which they do more in trials of sicker patients.",
                number(s.odds_ratio)
            ),
            (false, true) => format!(
                "No participant's benefit depends on their score, so {within_text} is right and {across_text} is aggregation bias: a trial characteristic that tracks the trials' mean score changes their effects, and the comparison across trials credits it to the patients."
            ),
            (true, false) => format!(
                "A participant's log odds ratio truly changes by {} per point of score; {within_text} estimates it from comparisons inside each trial, which non-collapsibility and trial-level confounding cannot reach, while {across_text} also carries the drift of the marginal odds ratio.",
                number(s.interaction)
            ),
            (true, true) => format!(
                "A participant's log odds ratio truly changes by {} per point of score; {within_text} estimates it from comparisons inside each trial, while {across_text} adds to it the trial characteristic that tracks the mean score (aggregation bias).",
                number(s.interaction)
            ),
        },
    }
}
