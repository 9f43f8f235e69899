//! Sentences of the Sensitivity view: why a study counts as influential, in words, and what
//! leaving one study out changes, in one sentence.

use crate::analysis::sensitivity::{Criterion, Leave1outRow};
use crate::format;

/// What one of metafor's criteria says about a study.
pub fn criterion_words(c: Criterion) -> &'static str {
    match c {
        Criterion::Dffits => "it moves its own fitted value (|DFFITS| > 3√(p/(k − p)))",
        Criterion::CookD => "it moves the coefficients as a whole (Cook's distance)",
        Criterion::Hat => "it has high leverage (hat value > 3p/k)",
        Criterion::Dfbetas => {
            "it shifts a coefficient by more than its standard error (|DFBETAS| > 1)"
        }
    }
}

/// Why a study is influential, as a sentence; empty when it is not.
pub fn influence_reason(criteria: &[Criterion]) -> String {
    if criteria.is_empty() {
        return String::new();
    }
    let words: Vec<&str> = criteria.iter().map(|&c| criterion_words(c)).collect();
    let joined = match words.as_slice() {
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        [] => String::new(),
    };
    format!("Influential: {joined}.")
}

/// "from a to b", with four decimals.
fn from_to(a: f64, b: f64) -> String {
    format!("from {} to {}", format::number(a), format::number(b))
}

/// The model a refit without one study is compared with.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    /// Its coefficients: name and estimate, in model order.
    pub coefficients: Vec<(String, f64)>,
    /// Its τ².
    pub tau2: f64,
    /// Its pseudo-R² in percent (models with moderators).
    pub r2: Option<f64>,
}

/// What leaving study `label` out of `model` changes, in one sentence: the coefficients (the
/// pooled effect without moderators), τ² and, with moderators, R².
pub fn without_sentence(label: &str, model: &Baseline, refit: &Leave1outRow) -> String {
    if let Some(e) = &refit.error {
        return format!("Without {label} the model cannot be fitted: {e}.");
    }
    format!("Without {label}, {}.", without_change(model, refit))
}

/// The change of [`without_sentence`] as a clause ("ablat from a to b, τ² from … and R²
/// from …"), for a line that names the study already.
pub fn without_change(model: &Baseline, refit: &Leave1outRow) -> String {
    if let Some(e) = &refit.error {
        return format!("the model cannot be fitted: {e}");
    }
    let (full, tau2, r2) = (&model.coefficients, model.tau2, model.r2);
    let mut parts = Vec::new();
    match (full.as_slice(), refit.pooled.estimate) {
        ([(_, pooled)], Some(estimate)) => {
            parts.push(format!(
                "the pooled effect goes {}",
                from_to(*pooled, estimate)
            ));
        }
        _ => {
            for ((name, a), b) in full.iter().zip(&refit.coefficients) {
                if name != "intrcpt" {
                    parts.push(format!("{name} {}", from_to(*a, b.estimate)));
                }
            }
        }
    }
    if let Some(t) = refit.pooled.tau2 {
        parts.push(format!("τ² {}", from_to(tau2, t)));
    }
    if let (Some(a), Some(b)) = (r2, refit.r2) {
        parts.push(format!(
            "R² from {} to {}",
            format::percent(a),
            format::percent(b)
        ));
    }
    match parts.as_slice() {
        [] => "nothing changes".to_owned(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::record::{CoefficientRecord, PooledRecord};

    #[test]
    fn reasons_name_each_criterion_in_words() {
        assert_eq!(influence_reason(&[]), "");
        let one = influence_reason(&[Criterion::Hat]);
        assert_eq!(one, "Influential: it has high leverage (hat value > 3p/k).");
        let two = influence_reason(&[Criterion::Dffits, Criterion::CookD, Criterion::Hat]);
        assert!(
            two.contains("fitted value (|DFFITS| > 3√(p/(k − p))), it moves"),
            "{two}"
        );
        assert!(
            two.ends_with("and it has high leverage (hat value > 3p/k)."),
            "{two}"
        );
    }

    fn coef(name: &str, estimate: f64) -> CoefficientRecord {
        CoefficientRecord {
            name: name.into(),
            estimate,
            se: 0.1,
            statistic: 1.0,
            p_value: 0.5,
            ci_lower: 0.0,
            ci_upper: 0.0,
        }
    }

    #[test]
    fn the_change_is_one_sentence_of_slopes_tau2_and_r2() {
        let refit = Leave1outRow {
            slab: "B".into(),
            pooled: PooledRecord {
                q: Some(20.0),
                q_p: Some(0.01),
                tau2: Some(0.04),
                i2: Some(50.0),
                h2: Some(2.0),
                ..PooledRecord::default()
            },
            coefficients: vec![coef("intrcpt", 0.2), coef("ablat", -0.027)],
            r2: Some(88.0),
            error: None,
        };
        let model = Baseline {
            coefficients: vec![("intrcpt".to_owned(), 0.25), ("ablat".to_owned(), -0.0291)],
            tau2: 0.0764,
            r2: Some(75.6),
        };
        assert_eq!(
            without_sentence("B", &model, &refit),
            "Without B, ablat from -0.0291 to -0.0270, τ² from 0.0764 to 0.0400 and R² from \
             75.6 % to 88.0 %."
        );
        // The banner's clause is the same change, for a line that names the study first.
        assert_eq!(
            without_change(&model, &refit),
            "ablat from -0.0291 to -0.0270, τ² from 0.0764 to 0.0400 and R² from 75.6 % to \
             88.0 %"
        );
        let failed = Leave1outRow {
            error: Some("τ² did not converge".into()),
            ..refit
        };
        assert_eq!(
            without_change(&model, &failed),
            "the model cannot be fitted: τ² did not converge"
        );
    }
}
