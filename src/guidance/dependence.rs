//! Warnings about dependent effect sizes (issue 11): a study that contributes several effects
//! to a model treating them as independent, and too few clusters for robust inference.

use crate::data::report::FitReport;
use crate::format;

use super::Warning;

/// Below this many Satterthwaite degrees of freedom a CR2 test is unreliable: clubSandwich
/// warns below 4 (Tipton, 2015, *Psychological Methods* 20, 375–393); the same bound serves
/// CR1's n − p.
pub const FEW_ROBUST_DF: f64 = 4.0;

/// What the warnings read: how many effects, in how many clusters of column `cluster`, and
/// how the model treats them.
#[derive(Debug, Clone, Copy)]
pub struct Clustering<'a> {
    /// The cluster column.
    pub cluster: &'a str,
    /// Effects in the model.
    pub effects: usize,
    /// Distinct clusters among them.
    pub clusters: usize,
    /// Whether the model accounts for the dependence (random terms or correlated sampling
    /// errors).
    pub modelled: bool,
}

/// The warnings for effects clustered as `c`, with the dependent-effects record `record` when
/// one was computed.
pub fn dependence_warnings(c: Clustering, record: Option<&FitReport>) -> Vec<Warning> {
    let mut out = Vec::new();
    let robust = record.and_then(|r| r.robust.as_ref());
    if !c.modelled && c.clusters < c.effects {
        let remedy = if robust.is_some() {
            "Choose the multilevel model under Effects within studies, or read the robust \
             results, which allow for the dependence."
        } else {
            "Choose the multilevel model under Effects within studies, or turn on robust \
             inference."
        };
        out.push(Warning {
            title: "Several effects per study, treated as independent".into(),
            text: format!(
                "The {} effects come from {} values of {}, but the model treats them as \
                 independent, which makes standard errors too small and weak moderators look \
                 convincing. {remedy}",
                c.effects, c.clusters, c.cluster
            ),
        });
    }
    if let Some(r) = robust {
        let few: Vec<String> = r
            .coefficients
            .iter()
            .filter(|k| k.df < FEW_ROBUST_DF)
            .map(|k| format!("{} ({} df)", k.name, format::fixed(k.df, 2)))
            .collect();
        if !few.is_empty() {
            out.push(Warning {
                title: "Few clusters for robust inference".into(),
                text: format!(
                    "The {} robust tests of {} have fewer than 4 degrees of freedom, so their \
                     p-values and intervals are unreliable (clubSandwich warns below 4): there \
                     are too few {} clusters for this many coefficients. Report them with that \
                     caution, or simplify the model.",
                    r.kind,
                    few.join(", "),
                    r.clusters
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::multilevel_report::{RobustCoefficientReport, RobustReport};

    fn robust(df: f64) -> FitReport {
        let mut report = crate::analysis::analyse(
            "yi,vi\n0.1,0.01\n0.3,0.02\n0.2,0.03\n",
            &crate::analysis::AnalysisSpec::default(),
        )
        .expect("fits")
        .analysis
        .fit_report();
        report.robust = Some(RobustReport {
            kind: "CR2".into(),
            cluster: "study".into(),
            clusters: 3,
            coefficients: vec![RobustCoefficientReport {
                name: "intrcpt".into(),
                estimate: 0.2,
                se: 0.05,
                statistic: 4.0,
                df,
                p_value: 0.05,
                ci_lower: 0.0,
                ci_upper: 0.4,
            }],
            qm: None,
            qm_df: None,
            qm_df2: None,
            qm_p: None,
        });
        report
    }

    fn clustering(modelled: bool, clusters: usize) -> Clustering<'static> {
        Clustering {
            cluster: "study",
            effects: 3,
            clusters,
            modelled,
        }
    }

    #[test]
    fn several_effects_per_study_in_an_independent_model_are_flagged() {
        let w = dependence_warnings(clustering(false, 2), None);
        assert_eq!(w.len(), 1);
        assert!(
            w[0].text.contains("3 effects come from 2 values of study"),
            "{}",
            w[0].text
        );
        assert!(w[0].text.contains("turn on robust"));
        assert!(dependence_warnings(clustering(true, 2), None).is_empty());
        assert!(dependence_warnings(clustering(false, 3), None).is_empty());
    }

    #[test]
    fn robust_df_below_four_are_flagged_with_their_terms() {
        let w = dependence_warnings(clustering(true, 3), Some(&robust(1.02)));
        assert_eq!(w.len(), 1);
        assert!(w[0].text.contains("intrcpt (1.02 df)"), "{}", w[0].text);
        assert!(dependence_warnings(clustering(true, 3), Some(&robust(9.86))).is_empty());
    }
}
