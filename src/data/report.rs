//! The fitted model as a flat record under stable keys: what `meridian fit --json` prints and
//! what the web app exports, so that scripts written against one read the other.
//!
//! The keys are a contract (see the `meridian` command-line documentation): snake_case, one
//! per quantity, `null` where a quantity does not apply (no moderator test without moderators,
//! no τ² interval for a fixed-effect model, …). Non-finite numbers also print as `null`.

use serde::{Deserialize, Serialize};

use super::model_report::{ContrastsReport, ScaleReport, TermTestReport};
use super::multilevel_report::{
    i2_level_reports, sigma2_reports, struct_report, I2LevelReport, RobustReport, Sigma2Report,
    StructReport,
};
use super::roles::Excluded;
use crate::stats::{
    Fit, HeterogeneityIntervals, Interval, MvFit, PermutationResult, Prediction, PseudoR2,
    StructIntervals, Test,
};

/// A number printed as `null` (not finite, or not defined for the model: τ² of an `rma.mv`
/// fit) read back as NaN, so that a record survives the trip through JSON to the page.
pub(crate) fn null_as_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// One coefficient of the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoefficientReport {
    /// Coefficient name as R writes it (`intrcpt`, `ablat`, `factor(alloc)random`).
    pub name: String,
    /// Estimate.
    pub estimate: f64,
    /// Standard error.
    pub se: f64,
    /// z or t statistic.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Lower confidence bound.
    pub ci_lower: f64,
    /// Upper confidence bound.
    pub ci_upper: f64,
    /// Permutation p-value, when a permutation test was run.
    pub permutation_p_value: Option<f64>,
}

/// A predicted effect with its confidence and prediction intervals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionReport {
    /// Predicted value.
    pub pred: f64,
    /// Its standard error.
    pub se: f64,
    /// Lower confidence bound.
    pub ci_lower: f64,
    /// Upper confidence bound.
    pub ci_upper: f64,
    /// Lower prediction-interval bound (where a new study's true effect is expected); null
    /// for FE/EE models, which assume no such spread (metafor reports `NA`).
    pub pi_lower: Option<f64>,
    /// Upper prediction-interval bound; null for FE/EE models.
    pub pi_upper: Option<f64>,
}

impl PredictionReport {
    /// The report of `p`, a prediction from a model whose τ² is fixed at 0 if `fixed`.
    pub fn new(p: &Prediction, fixed: bool) -> Self {
        Self {
            pred: p.pred,
            se: p.se,
            ci_lower: p.ci_lower,
            ci_upper: p.ci_upper,
            pi_lower: (!fixed).then_some(p.pi_lower),
            pi_upper: (!fixed).then_some(p.pi_upper),
        }
    }
}

/// A row left out of the model, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExcludedReport {
    /// 1-based data row.
    pub row: usize,
    /// Why, as a sentence ("no value for yi", "column \"vi\" is 0: …").
    pub reason: String,
}

/// A fitted model under the `meridian fit --json` keys, in the order they print.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// Number of studies in the model.
    pub k: usize,
    /// Number of coefficients.
    pub p: usize,
    /// τ² estimator as metafor names it (`REML`, `DL`, `FE`, …).
    pub method: String,
    /// `z` or `knha`.
    pub test: String,
    /// Coefficients in model order.
    pub coefficients: Vec<CoefficientReport>,
    /// Between-study variance τ².
    #[serde(deserialize_with = "null_as_nan")]
    pub tau2: f64,
    /// Standard error of τ²; null for FE/EE.
    pub tau2_se: Option<f64>,
    /// τ.
    #[serde(deserialize_with = "null_as_nan")]
    pub tau: f64,
    /// I² in percent.
    #[serde(deserialize_with = "null_as_nan")]
    pub i2: f64,
    /// H².
    #[serde(deserialize_with = "null_as_nan")]
    pub h2: f64,
    /// Pseudo-R² in percent; null without moderators (set by [`FitReport::set_pseudo_r2`]).
    pub r2: Option<f64>,
    /// Test of residual heterogeneity.
    pub qe: f64,
    /// Its degrees of freedom, k − p.
    pub qe_df: usize,
    /// Its p-value (1 when k = p: QE is 0 on 0 df, as metafor reports it); never null today.
    pub qe_p: Option<f64>,
    /// Omnibus test of the moderators; in an intercept-only model the test of the intercept
    /// (z², or F = t² under Knapp–Hartung), as metafor reports QM.
    pub qm: Option<f64>,
    /// Its (numerator) degrees of freedom.
    pub qm_df: Option<usize>,
    /// Its denominator degrees of freedom under Knapp–Hartung; null under z.
    pub qm_df2: Option<usize>,
    /// Its p-value.
    pub qm_p: Option<f64>,
    /// Permutation p-value of the omnibus test, when a permutation test was run.
    pub qm_permutation_p: Option<f64>,
    /// Q-profile confidence interval of τ²; null for FE/EE or when not computed.
    pub tau2_ci: Option<[f64; 2]>,
    /// Confidence interval of I² (percent), from that of τ².
    pub i2_ci: Option<[f64; 2]>,
    /// Confidence interval of H², from that of τ².
    pub h2_ci: Option<[f64; 2]>,
    /// Prediction: the pooled effect for intercept-only models, or at a requested point.
    pub prediction: Option<PredictionReport>,
    /// 1-based data rows left out (for missing values or values no effect size comes from).
    pub excluded_rows: Vec<usize>,
    /// The same rows, each with the reason it was left out.
    pub excluded: Vec<ExcludedReport>,
    /// Log-likelihood (restricted for REML).
    pub log_likelihood: f64,
    /// Akaike information criterion.
    pub aic: f64,
    /// Bayesian information criterion.
    pub bic: f64,
    /// Wald tests of formula terms: each term of the formula in order, or the terms asked
    /// for (`--btt`) in the order given; empty for an intercept-only model.
    #[serde(default)]
    pub term_tests: Vec<TermTestReport>,
    /// Linear contrasts of the coefficients and their joint test, when asked for
    /// (`--contrast`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contrasts: Option<ContrastsReport>,
    /// The covariance matrix of the coefficients, rows in coefficient order, when asked for
    /// (`--vcov`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcov: Option<Vec<Vec<f64>>>,
    /// The scale part of a location-scale model (`--scale`), its keys at the top level.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<ScaleReport>,
    /// Deviance (−2ℓ for REML; against the saturated model for ML).
    #[serde(default)]
    pub deviance: Option<f64>,
    /// Corrected AIC.
    #[serde(default)]
    pub aicc: Option<f64>,
    /// `rma.uni`, `rma.mv` or `rma.ls`: metafor's class of the model.
    #[serde(default = "rma_uni")]
    pub model: String,
    /// The σ² components of a multilevel model in metafor's order; null for `rma.uni`.
    #[serde(default)]
    pub sigma2: Option<Vec<Sigma2Report>>,
    /// The `~ inner | outer` term of a multivariate model; null otherwise.
    #[serde(default, rename = "struct")]
    pub structure: Option<StructReport>,
    /// I² per σ² component (with `i2` the total); null for `rma.uni`.
    #[serde(default)]
    pub i2_levels: Option<Vec<I2LevelReport>>,
    /// Cluster-robust results (the top-level coefficients and QM stay model-based); null
    /// without `--robust`.
    #[serde(default)]
    pub robust: Option<RobustReport>,
}

fn rma_uni() -> String {
    "rma.uni".to_owned()
}

impl FitReport {
    /// The report of `fit`, with the rows `excluded` before fitting and an optional
    /// prediction. R², interval and permutation fields start as `None` for the caller to fill.
    pub fn new(fit: &Fit, excluded: &[Excluded], prediction: Option<&Prediction>) -> Self {
        let h = &fit.heterogeneity;
        // metafor's QM: the test of the moderators, or of the intercept in an intercept-only
        // model (a covariance that is singular in floating point leaves it out).
        let omnibus = fit.omnibus_test().ok();
        let moderators = omnibus.as_ref();
        Self {
            k: fit.k,
            p: fit.p,
            method: fit.spec.method.metafor_name().to_owned(),
            test: fit.spec.test.metafor_name().to_owned(),
            coefficients: fit
                .coefficients
                .iter()
                .map(|c| CoefficientReport {
                    name: c.name.clone(),
                    estimate: c.estimate,
                    se: c.se,
                    statistic: c.statistic,
                    p_value: c.p_value,
                    ci_lower: c.ci_lower,
                    ci_upper: c.ci_upper,
                    permutation_p_value: None,
                })
                .collect(),
            // Every model of this record has one τ²; NaN (printed null) would mark one without.
            tau2: fit.tau2().unwrap_or(f64::NAN),
            tau2_se: fit.tau2_se(),
            tau: fit.tau().unwrap_or(f64::NAN),
            i2: h.i2,
            h2: h.h2,
            r2: None,
            qe: h.qe,
            qe_df: h.qe_df,
            qe_p: Some(h.qe_p),
            qm: moderators.map(|m| m.statistic),
            qm_df: moderators.map(|m| m.df),
            qm_df2: moderators.and_then(|m| m.df2),
            qm_p: moderators.map(|m| m.p_value),
            qm_permutation_p: None,
            tau2_ci: None,
            i2_ci: None,
            h2_ci: None,
            prediction: prediction.map(|p| PredictionReport::new(p, fit.spec.method.is_fixed())),
            excluded_rows: excluded.iter().map(|e| e.row).collect(),
            excluded: excluded
                .iter()
                .map(|e| ExcludedReport {
                    row: e.row,
                    reason: e.reason.to_string(),
                })
                .collect(),
            log_likelihood: fit.fit_statistics.loglik,
            aic: fit.fit_statistics.aic,
            bic: fit.fit_statistics.bic,
            term_tests: Vec::new(),
            contrasts: None,
            vcov: None,
            scale: None,
            deviance: Some(fit.fit_statistics.deviance),
            aicc: Some(fit.fit_statistics.aicc),
            model: rma_uni(),
            sigma2: None,
            structure: None,
            i2_levels: None,
            robust: None,
        }
    }

    /// The report of a multilevel fit `f`, with the rows `excluded` before fitting, the σ²
    /// intervals `ci` and the structured term's `struct_ci` when computed and an optional prediction. The τ², τ and H² keys of
    /// `rma.uni` are null; `i2` is the multilevel total.
    pub fn multilevel(
        f: &MvFit,
        excluded: &[Excluded],
        ci: Option<&[Interval]>,
        struct_ci: Option<&StructIntervals>,
        prediction: Option<&Prediction>,
    ) -> Self {
        let moderators = f.moderators.as_ref();
        let fs = &f.fit_statistics;
        Self {
            k: f.k,
            p: f.p,
            method: f.spec.method.metafor_name().to_owned(),
            test: if f.spec.test == Test::Z { "z" } else { "t" }.to_owned(),
            coefficients: f
                .coefficients
                .iter()
                .map(|c| CoefficientReport {
                    name: c.name.clone(),
                    estimate: c.estimate,
                    se: c.se,
                    statistic: c.statistic,
                    p_value: c.p_value,
                    ci_lower: c.ci_lower,
                    ci_upper: c.ci_upper,
                    permutation_p_value: None,
                })
                .collect(),
            tau2: f64::NAN,
            tau2_se: None,
            tau: f64::NAN,
            i2: f.i2.as_ref().map_or(f64::NAN, |i| i.total),
            h2: f64::NAN,
            r2: None,
            qe: f.qe,
            qe_df: f.qe_df,
            qe_p: Some(f.qe_p),
            qm: moderators.map(|m| m.statistic),
            qm_df: moderators.map(|m| m.df),
            qm_df2: moderators.and_then(|m| m.df2),
            qm_p: moderators.map(|m| m.p_value),
            qm_permutation_p: None,
            tau2_ci: None,
            i2_ci: None,
            h2_ci: None,
            prediction: prediction.map(|p| PredictionReport::new(p, false)),
            excluded_rows: excluded.iter().map(|e| e.row).collect(),
            excluded: excluded
                .iter()
                .map(|e| ExcludedReport {
                    row: e.row,
                    reason: e.reason.to_string(),
                })
                .collect(),
            log_likelihood: fs.loglik,
            aic: fs.aic,
            bic: fs.bic,
            deviance: Some(fs.deviance),
            aicc: Some(fs.aicc),
            model: "rma.mv".to_owned(),
            sigma2: Some(sigma2_reports(f, ci)),
            structure: struct_report(f, struct_ci),
            i2_levels: i2_level_reports(f),
            robust: None,
            term_tests: Vec::new(),
            contrasts: None,
            vcov: None,
            scale: None,
        }
    }
}

impl FitReport {
    /// Adds the pseudo-R² (from [`Fit::pseudo_r2`]).
    pub fn set_pseudo_r2(&mut self, r2: Option<&PseudoR2>) {
        self.r2 = r2.map(|r| r.r2);
    }

    /// Adds Q-profile intervals for τ², I² and H² (from [`Fit::confint_tau2`]).
    pub fn set_heterogeneity_intervals(&mut self, ci: &HeterogeneityIntervals) {
        self.tau2_ci = Some([ci.tau2.lower, ci.tau2.upper]);
        self.i2_ci = Some([ci.i2.lower, ci.i2.upper]);
        self.h2_ci = Some([ci.h2.lower, ci.h2.upper]);
    }

    /// Adds permutation p-values (from [`Fit::permutation_test`]) to the coefficients and
    /// the omnibus test.
    pub fn set_permutation(&mut self, result: &PermutationResult) {
        for (c, p) in self.coefficients.iter_mut().zip(&result.p_values) {
            c.permutation_p_value = Some(*p);
        }
        self.qm_permutation_p = result.qm_p;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::roles::Exclusion;
    use crate::stats::{fit, Design, ModelSpec};

    #[test]
    fn keys_are_the_documented_contract_in_order() {
        let yi = [0.1, 0.5, 0.3, -0.2];
        let vi = [0.05, 0.04, 0.06, 0.05];
        let f = fit(&yi, &vi, &Design::intercept_only(4), &ModelSpec::default()).unwrap();
        let excluded = [Excluded {
            row: 3,
            line: 4,
            reason: Exclusion::Missing {
                columns: vec!["yi".into()],
            },
        }];
        let report = FitReport::new(&f, &excluded, None);
        let json = serde_json::to_value(&report).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = vec![
            "k",
            "p",
            "method",
            "test",
            "coefficients",
            "tau2",
            "tau2_se",
            "tau",
            "i2",
            "h2",
            "r2",
            "qe",
            "qe_df",
            "qe_p",
            "qm",
            "qm_df",
            "qm_df2",
            "qm_p",
            "qm_permutation_p",
            "tau2_ci",
            "i2_ci",
            "h2_ci",
            "prediction",
            "excluded_rows",
            "excluded",
            "log_likelihood",
            "aic",
            "bic",
            "term_tests",
            "deviance",
            "aicc",
            "model",
            "sigma2",
            "struct",
            "i2_levels",
            "robust",
        ];
        // serde_json's map is sorted unless order is preserved; compare as sets and check
        // the serialised text keeps declaration order.
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        expected.sort_unstable();
        assert_eq!(sorted, expected);
        let text = serde_json::to_string(&report).unwrap();
        assert!(text.starts_with("{\"k\":4,\"p\":1,\"method\":\"REML\",\"test\":\"z\","));
        assert_eq!(json["excluded_rows"], serde_json::json!([3]));
        assert_eq!(
            json["excluded"],
            serde_json::json!([{"row": 3, "reason": "no value for yi"}])
        );
        // An intercept-only model reports the test of the intercept as QM, as metafor does.
        let z = report.coefficients[0].statistic;
        assert!((json["qm"].as_f64().unwrap() - z * z).abs() <= 1e-12 * z * z);
        assert_eq!(json["qm_df"], 1);
        assert_eq!(json["term_tests"], serde_json::json!([]));
        assert!(json["r2"].is_null() && json["prediction"].is_null());
        let coefficient = json["coefficients"][0].as_object().unwrap();
        assert_eq!(coefficient.len(), 8);
        assert!(coefficient["permutation_p_value"].is_null());
    }
}
