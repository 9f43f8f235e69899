//! The parts of the `meridian fit --json` record that issue 13 adds: tests of formula terms
//! (`term_tests`), linear contrasts (`contrasts`), the coefficient covariance (`vcov`) and the
//! scale part of a location-scale model (`alpha`, `qs`, `qs_df`, `qs_p`, `tau2_i`).
//! Keys as the contract spells them; non-finite numbers print as `null`.

use serde::{Deserialize, Serialize};

use super::report::CoefficientReport;
use crate::stats::{Coefficient, LinearHypotheses, ScaleModel, WaldTest};

/// The Wald test of one formula term: all of its coefficients are 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermTestReport {
    /// The term as the formula writes it (`factor(alloc)`, `ablat:year`).
    pub term: String,
    /// The names of its coefficients.
    pub coefficients: Vec<String>,
    /// χ² statistic, or F under Knapp–Hartung.
    pub qm: f64,
    /// Numerator degrees of freedom (the number of coefficients).
    pub qm_df: usize,
    /// Denominator degrees of freedom under Knapp–Hartung; null under z.
    pub qm_df2: Option<usize>,
    /// p-value.
    pub qm_p: f64,
}

impl TermTestReport {
    /// The report of test `t` of the term `term` with coefficients `coefficients`.
    pub fn new(term: &str, coefficients: Vec<String>, t: &WaldTest) -> Self {
        Self {
            term: term.to_owned(),
            coefficients,
            qm: t.statistic,
            qm_df: t.df,
            qm_df2: t.df2,
            qm_p: t.p_value,
        }
    }
}

/// One linear combination l'β.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContrastRowReport {
    /// One weight per coefficient.
    pub weights: Vec<f64>,
    /// l'b.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// z or t statistic.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Lower confidence bound.
    pub ci_lower: f64,
    /// Upper confidence bound.
    pub ci_upper: f64,
}

/// The contrasts asked for and their joint test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContrastsReport {
    /// One row per `--contrast`, in order.
    pub rows: Vec<ContrastRowReport>,
    /// The joint test: χ², or F under Knapp–Hartung.
    pub qm: f64,
    /// Its (numerator) degrees of freedom, the number of rows.
    pub qm_df: usize,
    /// Denominator degrees of freedom under Knapp–Hartung; null under z.
    pub qm_df2: Option<usize>,
    /// p-value.
    pub qm_p: f64,
}

impl From<&LinearHypotheses> for ContrastsReport {
    fn from(h: &LinearHypotheses) -> Self {
        Self {
            rows: h
                .rows
                .iter()
                .map(|r| ContrastRowReport {
                    weights: r.weights.clone(),
                    estimate: r.estimate,
                    se: r.se,
                    statistic: r.statistic,
                    p_value: r.p_value,
                    ci_lower: r.ci_lower,
                    ci_upper: r.ci_upper,
                })
                .collect(),
            qm: h.joint.statistic,
            qm_df: h.joint.df,
            qm_df2: h.joint.df2,
            qm_p: h.joint.p_value,
        }
    }
}

/// The scale part of a location-scale model, printed at the top level of the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleReport {
    /// The scale coefficients α of log τ²ᵢ = zᵢ'α.
    pub alpha: Vec<CoefficientReport>,
    /// QS, the test of the scale coefficients but the scale intercept; null without any.
    pub qs: Option<f64>,
    /// Its degrees of freedom.
    pub qs_df: Option<usize>,
    /// Its p-value.
    pub qs_p: Option<f64>,
    /// τ²ᵢ per study, in the order of the studies.
    pub tau2_i: Vec<f64>,
}

impl From<&ScaleModel> for ScaleReport {
    fn from(s: &ScaleModel) -> Self {
        let alpha = s
            .coefficients
            .iter()
            .map(|c: &Coefficient| CoefficientReport {
                name: c.name.clone(),
                estimate: c.estimate,
                se: c.se,
                statistic: c.statistic,
                p_value: c.p_value,
                ci_lower: c.ci_lower,
                ci_upper: c.ci_upper,
                permutation_p_value: None,
            })
            .collect();
        Self {
            alpha,
            qs: s.qs.as_ref().map(|t| t.statistic),
            qs_df: s.qs.as_ref().map(|t| t.df),
            qs_p: s.qs.as_ref().map(|t| t.p_value),
            tau2_i: s.tau2.clone(),
        }
    }
}

impl ScaleReport {
    /// The smallest and the largest τ²ᵢ over the studies: a location-scale model has no
    /// single τ² (nor I² or H²), so this range is what its heterogeneity section reports;
    /// `None` without studies.
    pub fn tau2_range(&self) -> Option<[f64; 2]> {
        let mut values = self.tau2_i.iter().copied();
        let first = values.next()?;
        Some(values.fold([first, first], |[lo, hi], t| [lo.min(t), hi.max(t)]))
    }
}
