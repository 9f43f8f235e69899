//! The plain-language reading of a model comparison: whether the larger model fits better by
//! the likelihood-ratio test, and which model each information criterion prefers.

use crate::analysis::anova::Anova;
use crate::format;

/// Below this p-value the larger model is said to fit better (the conventional 5 % level).
const ALPHA: f64 = 0.05;

/// One sentence on `anova`, naming the models by `larger` and `smaller` (their formulas).
pub fn comparison_reading(anova: &Anova, larger: &str, smaller: &str) -> String {
    let verdict = if anova.p_value < ALPHA {
        "fits better than"
    } else {
        "does not fit better than"
    };
    let prefers = |full: f64, reduced: f64| if full < reduced { "larger" } else { "smaller" };
    let aic = prefers(anova.full.aic, anova.reduced.aic);
    let bic = prefers(anova.full.bic, anova.reduced.bic);
    let criteria = if aic == bic {
        format!("AIC and BIC prefer the {aic} model")
    } else {
        format!("AIC prefers the {aic} model, BIC the {bic}")
    };
    format!(
        "The larger model ({larger}) {verdict} the smaller one ({smaller}): LRT χ²({}) = {}, {}; {criteria}.",
        anova.lrt_df,
        format::fixed(anova.lrt, 2),
        format::p_clause(anova.p_value),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::anova::ModelFitRecord;

    fn model(df: usize, aic: f64, bic: f64) -> ModelFitRecord {
        ModelFitRecord {
            df,
            log_likelihood: 0.0,
            deviance: 0.0,
            aic,
            bic,
            aicc: aic,
            qe: 0.0,
            tau2: Some(0.1),
        }
    }

    #[test]
    fn reads_the_test_and_the_criteria() {
        // BCG, ablat + year vs ablat (ML): metafor's anova gives LRT 0.0791, p = 0.7785.
        let a = Anova {
            full: model(4, 23.2922, 25.5520),
            reduced: model(3, 21.3713, 23.0662),
            lrt: 0.0791,
            lrt_df: 1,
            p_value: 0.7785,
            r2: Some(21.7),
        };
        assert_eq!(
            comparison_reading(&a, "ablat + year", "ablat"),
            "The larger model (ablat + year) does not fit better than the smaller one (ablat): \
             LRT χ²(1) = 0.08, p = 0.7785; AIC and BIC prefer the smaller model."
        );
        let b = Anova {
            p_value: 0.001,
            full: model(3, 10.0, 30.0),
            ..a
        };
        assert!(comparison_reading(&b, "x", "1")
            .contains("fits better than the smaller one (1): LRT χ²(1) = 0.08, p = 0.0010; AIC prefers the larger model, BIC the smaller."));
    }
}
