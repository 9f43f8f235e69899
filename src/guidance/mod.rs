//! Guidance: plain-language readings of a fitted model, honest warnings about what it cannot
//! show, and the ecological-bias heuristic behind one of them ([`ecological`]); warnings about
//! dependent effect sizes ([`dependence`]).
//!
//! Pure functions of an [`Analysis`]: the results pane renders their sentences, and native
//! tests check them without a browser.

mod comparison;
pub mod dependence;
mod ecological;
pub mod sensitivity;

pub use comparison::comparison_reading;
pub use ecological::is_study_level_average;

use crate::analysis::Analysis;
use crate::data::effect_size::Measure;
use crate::data::roles::Exclusion;
use crate::format;
use crate::stats::{Tau2Method, Test};

/// Below this many studies per moderator coefficient, meta-regression estimates are unstable
/// and easily overfitted (Cochrane Handbook §10.11.5.1 suggests about ten).
pub const STUDIES_PER_MODERATOR: f64 = 10.0;

/// Below this many studies, z-tests and their intervals are too narrow under heterogeneity
/// (IntHout et al., 2014); the Knapp–Hartung adjustment is the usual remedy.
pub const FEW_STUDIES_FOR_Z: usize = 20;

/// A warning shown beside the results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Short title, e.g. "Few studies per moderator".
    pub title: String,
    /// What it means and what to do.
    pub text: String,
}

/// Describes I² in words, with the thresholds of the Cochrane Handbook (§10.10.2), which are
/// overlapping and rough on purpose.
fn i2_words(i2: f64) -> &'static str {
    if i2 < 30.0 {
        "low"
    } else if i2 < 50.0 {
        "moderate"
    } else if i2 < 75.0 {
        "substantial"
    } else {
        "considerable"
    }
}

/// The sentences that read the model to a person.
pub fn readings(analysis: &Analysis, measure: Option<Measure>) -> Vec<String> {
    let report = &analysis.summary;
    let mut out = Vec::new();
    let fixed = report.spec.method.is_fixed();
    let level = report.spec.level * 100.0;

    if analysis.intercept_only() {
        if let Some(pred) = &report.pooled {
            let name = measure.map_or("effect", Measure::reading_label);
            let tf = |x: f64| measure.map_or(x, |m| m.back_transform(x));
            out.push(format!(
                "The {} pooled {name} is {} ({level:.0} % CI {} to {}).",
                if fixed { "common-effect" } else { "average" },
                format::fixed(tf(pred.pred), 2),
                format::fixed(tf(pred.ci_lower), 2),
                format::fixed(tf(pred.ci_upper), 2),
            ));
            if !fixed {
                let (lo, hi) = (pred.pi_lower, pred.pi_upper);
                out.push(format!(
                    "The effect in a new study like these is expected between {} and {} \
                     ({level:.0} % prediction interval): this, not the CI, shows how much \
                     effects vary from setting to setting.",
                    format::fixed(tf(lo), 2),
                    format::fixed(tf(hi), 2),
                ));
            }
        }
    } else if let Some(r2) = report.r2 {
        out.push(format!(
            "The moderators account for about {:.0} % of the between-study variance (R²); \
             the remaining heterogeneity is {} (I² = {:.0} %).",
            r2,
            i2_words(report.i2),
            report.i2
        ));
    }

    if let Some((qm, p)) = report.moderators.as_ref().map(|m| (m.statistic, m.p_value)) {
        let verdict = if p < 0.05 {
            "are associated with the effect sizes"
        } else {
            "show no clear association with the effect sizes"
        };
        out.push(format!(
            "Together the moderators {verdict} (QM = {}, {}). Across studies, that is: \
             this does not show that the effect differs between patients.",
            format::fixed(qm, 2),
            format::p_clause(p)
        ));
    }

    if !fixed {
        out.push(format!(
            "I² = {:.0} % is the share of the variability in observed effects that comes from \
             real differences between studies rather than sampling error ({}). It is not how \
             much the effects differ: τ = {} on the {} scale says that.",
            report.i2,
            i2_words(report.i2),
            format::fixed(report.tau, 3),
            measure.map_or("effect-size", Measure::label),
        ));
    }
    out
}

/// Warnings that apply to this analysis. `averages` lists the model's columns that are
/// study-level averages of patient characteristics (mean age, baseline risk, …).
pub fn warnings(analysis: &Analysis, averages: &[String]) -> Vec<Warning> {
    let report = &analysis.summary;
    let mut out = Vec::new();
    let moderators = report.p - usize::from(report.intercept);

    if moderators > 0 && (report.k as f64) < STUDIES_PER_MODERATOR * moderators as f64 {
        out.push(Warning {
            title: "Few studies per moderator".to_owned(),
            text: format!(
                "{} studies for {moderators} moderator coefficient{}: fewer than about {} per \
                 coefficient. Estimates are unstable and apparent associations may be chance; \
                 consider fewer moderators or a permutation test.",
                report.k,
                if moderators == 1 { "" } else { "s" },
                STUDIES_PER_MODERATOR
            ),
        });
    }
    for column in averages {
        out.push(Warning {
            title: format!("Ecological bias: {column}"),
            text: format!(
                "\u{201c}{column}\u{201d} looks like a study-level average of patient \
                 characteristics. An association across studies does not show that the effect \
                 varies between patients: studies differ in many ways at once (ecological bias)."
            ),
        });
    }
    if report.spec.test == Test::Z && !report.spec.method.is_fixed() && report.k < FEW_STUDIES_FOR_Z
    {
        out.push(Warning {
            title: "z-tests with few studies".to_owned(),
            text: format!(
                "With {} studies, z-tests and intervals tend to be too narrow. The \
                 Knapp–Hartung adjustment (Test: Knapp–Hartung) gives more honest ones.",
                report.k
            ),
        });
    }
    if !report.spec.method.is_fixed() && report.tau2 == 0.0 {
        out.push(Warning {
            title: "τ² is on the boundary".to_owned(),
            text: "The estimate of the between-study variance is exactly 0: the studies vary \
                   no more than sampling error predicts. That is not proof of homogeneity; \
                   look at the confidence interval of τ²."
                .to_owned(),
        });
    }
    if matches!(report.spec.method, Tau2Method::Fe | Tau2Method::Ee) && report.qe_p < 0.1 {
        out.push(Warning {
            title: "Common-effect model despite heterogeneity".to_owned(),
            text: "The Q test suggests the studies do not share one effect; a random-effects \
                   model (e.g. REML) describes them better."
                .to_owned(),
        });
    }
    // A study left out by choice is the banner's to say, not a warning about the data.
    let excluded: Vec<_> = analysis
        .studies()
        .excluded
        .iter()
        .filter(|e| e.reason != Exclusion::Chosen)
        .collect();
    if !excluded.is_empty() {
        let rows: Vec<String> = excluded.iter().map(|e| e.row.to_string()).collect();
        let plural = if excluded.len() == 1 { "" } else { "s" };
        let missing_only = excluded
            .iter()
            .all(|e| matches!(e.reason, Exclusion::Missing { .. }));
        let why = if missing_only {
            "miss a value the model needs"
        } else {
            "miss a value the model needs or hold values no effect size can be computed from"
        };
        out.push(Warning {
            title: format!("{} row{plural} left out", excluded.len()),
            text: format!(
                "Data row{plural} {} {why} (highlighted in the table, with the reason).",
                rows.join(", ")
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyse, AnalysisSpec};
    use crate::data::effect_size::RawRole;
    use crate::data::roles::Roles;
    use crate::stats::ModelSpec;

    const BCG: &str = include_str!("../../assets/examples/bcg.csv");

    fn bcg(mods: Option<&str>, test: Test) -> Analysis {
        let mut columns = Roles::default();
        for (role, col) in [
            (RawRole::Ai, "tpos"),
            (RawRole::Bi, "tneg"),
            (RawRole::Ci, "cpos"),
            (RawRole::Di, "cneg"),
        ] {
            columns.raw.insert(role, col.to_owned());
        }
        let spec = AnalysisSpec {
            columns,
            measure: Some(Measure::Rr),
            mods: mods.map(str::to_owned),
            model: ModelSpec {
                test,
                ..ModelSpec::default()
            },
            ..AnalysisSpec::default()
        };
        analyse(BCG, &spec).expect("BCG analyses").analysis
    }

    #[test]
    fn intercept_only_reading_is_back_transformed() {
        // metafor: rma(yi, vi, data = escalc("RR", …dat.bcg)) gives −0.7145 [−1.0708, −0.3582],
        // i.e. a risk ratio of 0.49 [0.34, 0.70]; I² = 92.22 %.
        let text = readings(&bcg(None, Test::Z), Some(Measure::Rr)).join(" ");
        assert!(
            text.contains("pooled risk ratio is 0.49 (95 % CI 0.34 to 0.70)"),
            "{text}"
        );
        assert!(text.contains("I² = 92 %"), "{text}");
        assert!(text.contains("considerable"), "{text}");
    }

    #[test]
    fn moderator_reading_states_r2_and_residual_i2() {
        // metafor: rma(yi, vi, mods = ~ ablat, …) gives R² = 75.63 %, I² = 68.39 %.
        let text = readings(&bcg(Some("ablat"), Test::Z), Some(Measure::Rr)).join(" ");
        assert!(
            text.contains("about 76 % of the between-study variance"),
            "{text}"
        );
        assert!(text.contains("substantial (I² = 68 %)"), "{text}");
        assert!(text.contains("are associated"), "{text}");
    }

    #[test]
    fn warnings_cover_few_studies_z_tests_and_averages() {
        let analysis = bcg(Some("ablat + year"), Test::Z);
        let titles: Vec<String> = warnings(&analysis, &["ablat".to_owned()])
            .into_iter()
            .map(|w| w.title)
            .collect();
        // 13 studies for 2 moderators: under 10 per moderator.
        assert!(titles.contains(&"Few studies per moderator".to_owned()));
        assert!(titles.contains(&"z-tests with few studies".to_owned()));
        assert!(titles.contains(&"Ecological bias: ablat".to_owned()));
        let knha = warnings(&bcg(Some("ablat"), Test::KnappHartung), &[]);
        assert!(knha.iter().all(|w| w.title != "z-tests with few studies"));
        // 13 studies ≥ 10 per one moderator.
        assert!(knha.iter().all(|w| w.title != "Few studies per moderator"));
    }
}
