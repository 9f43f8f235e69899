//! The readable report of a multilevel fit and of cluster-robust results: laid out like
//! metafor's `print()` of an `rma.mv` fit and of `robust()`, from the same `fit --json` record.

use std::fmt::Write as _;

use meridian::data::report::FitReport;
use meridian::data::roles::Excluded;
use meridian::format::{p_relation, p_value};

use super::report::readable;

/// The report of `r`: metafor's `rma.mv` printout for a multilevel model, the `rma` printout
/// otherwise, followed by the robust results when there are any.
pub fn readable_multilevel(r: &FitReport, excluded: &[Excluded], file: &str) -> String {
    let moderators = r.qm.is_some();
    let mut s = if r.model == "rma.mv" {
        multilevel(r, moderators)
    } else {
        readable(r, moderators, excluded, file)
    };
    if let Some(rb) = &r.robust {
        let _ = writeln!(
            s,
            "\nCluster-robust inference ({}; clusters: {} = {}):",
            rb.kind, rb.cluster, rb.clusters
        );
        if let (Some(qm), Some(df), Some(df2)) = (rb.qm, rb.qm_df, rb.qm_df2) {
            let test = if rb.kind == "CR2" { " (HTZ)" } else { "" };
            let _ = writeln!(
                s,
                "Test of Moderators{test}:\nF(df1 = {df}, df2 = {df2:.2}) = {qm:.4}, p-val {}",
                rb.qm_p.map_or("= NA".to_owned(), p_relation)
            );
        }
        let width = name_width(r);
        let _ = writeln!(
            s,
            "\n{:width$} {:>9} {:>9} {:>9} {:>7} {:>8} {:>9} {:>9}",
            "", "estimate", "se", "tval", "df", "pval", "ci.lb", "ci.ub"
        );
        for c in &rb.coefficients {
            let _ = writeln!(
                s,
                "{:width$} {:>9.4} {:>9.4} {:>9.4} {:>7.2} {:>8} {:>9.4} {:>9.4}",
                c.name,
                c.estimate,
                c.se,
                c.statistic,
                c.df,
                p_value(c.p_value),
                c.ci_lower,
                c.ci_upper
            );
        }
    }
    s
}

fn name_width(r: &FitReport) -> usize {
    r.coefficients
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0)
        .max(8)
}

/// metafor's printout of an `rma.mv` fit.
fn multilevel(r: &FitReport, moderators: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Multivariate Meta-Analysis Model (k = {}; method: {})\n",
        r.k, r.method
    );
    let _ = writeln!(
        s,
        "logLik = {:.4}, Deviance = {:.4}, AIC = {:.4}, BIC = {:.4}, AICc = {:.4}\n",
        r.log_likelihood,
        r.deviance.unwrap_or(f64::NAN),
        r.aic,
        r.bic,
        r.aicc.unwrap_or(f64::NAN)
    );
    let _ = writeln!(s, "Variance Components:\n");
    if let Some(sigma2) = r.sigma2.as_ref().filter(|s| !s.is_empty()) {
        let _ = writeln!(
            s,
            "{:11} {:>8} {:>8} {:>6} {:>6}  factor",
            "", "estim", "sqrt", "nlvls", "fixed"
        );
        for (j, c) in sigma2.iter().enumerate() {
            let _ = writeln!(
                s,
                "{:11} {:>8.4} {:>8.4} {:>6} {:>6}  {}",
                format!("sigma^2.{}", j + 1),
                c.estimate,
                c.estimate.sqrt(),
                c.nlvls,
                "no",
                c.name
            );
        }
        if sigma2.iter().any(|c| c.ci_lower.is_some()) {
            let _ = writeln!(s, "\nProfile-likelihood confidence intervals:");
            for (j, c) in sigma2.iter().enumerate() {
                if let (Some(lo), Some(hi)) = (c.ci_lower, c.ci_upper) {
                    let _ = writeln!(s, "sigma^2.{} [{lo:.4}, {hi:.4}]", j + 1);
                }
            }
        }
    }
    if let Some(t) = &r.structure {
        let _ = writeln!(
            s,
            "\nouter factor: {}\ninner factor: {} (nlvls = {}; struct = {})\n",
            t.outer,
            t.inner,
            t.levels.len(),
            t.kind
        );
        let _ = writeln!(s, "{:10} {:>8} {:>8}  level", "", "estim", "sqrt");
        for (j, tau2) in t.tau2.iter().enumerate() {
            let level = if t.tau2.len() == 1 {
                String::new()
            } else {
                t.levels[j].clone()
            };
            let name = if t.tau2.len() == 1 {
                "tau^2".to_owned()
            } else {
                format!("tau^2.{}", j + 1)
            };
            let _ = writeln!(s, "{name:10} {tau2:>8.4} {:>8.4}  {level}", tau2.sqrt());
        }
        for (j, rho) in t.rho.iter().enumerate() {
            let name = if t.rho.len() == 1 {
                "rho".to_owned()
            } else {
                format!("rho.{}", j + 1)
            };
            let _ = writeln!(s, "{name:10} {rho:>8.4}");
        }
    }
    if let Some(levels) = &r.i2_levels {
        let _ = writeln!(s, "\nI^2 (total): {:.2}%", r.i2);
        for l in levels {
            let _ = writeln!(s, "I^2 ({}): {:.2}%", l.name, l.i2);
        }
    }
    let _ = writeln!(
        s,
        "\nTest for {}Heterogeneity:\nQ{}(df = {}) = {:.4}, p-val {}",
        if moderators { "Residual " } else { "" },
        if moderators { "E" } else { "" },
        r.qe_df,
        r.qe,
        r.qe_p.map_or("= NA".to_owned(), p_relation)
    );
    if let (Some(qm), Some(df)) = (r.qm, r.qm_df) {
        let statistic = match r.qm_df2 {
            Some(df2) => format!("F(df1 = {df}, df2 = {df2})"),
            None => format!("QM(df = {df})"),
        };
        let _ = writeln!(
            s,
            "\nTest of Moderators:\n{statistic} = {qm:.4}, p-val {}",
            r.qm_p.map_or("= NA".to_owned(), p_relation)
        );
    }
    let stat = if r.test == "t" { "tval" } else { "zval" };
    let width = name_width(r);
    let _ = writeln!(
        s,
        "\nModel Results:\n\n{:width$} {:>9} {:>9} {:>9} {:>8} {:>9} {:>9}",
        "", "estimate", "se", stat, "pval", "ci.lb", "ci.ub"
    );
    for c in &r.coefficients {
        let _ = writeln!(
            s,
            "{:width$} {:>9.4} {:>9.4} {:>9.4} {:>8} {:>9.4} {:>9.4}",
            c.name,
            c.estimate,
            c.se,
            c.statistic,
            p_value(c.p_value),
            c.ci_lower,
            c.ci_upper
        );
    }
    if let Some(p) = &r.prediction {
        let _ = writeln!(
            s,
            "\nPrediction:\n{:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "pred", "se", "ci.lb", "ci.ub", "pi.lb", "pi.ub"
        );
        let _ = writeln!(
            s,
            "{:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4}",
            p.pred,
            p.se,
            p.ci_lower,
            p.ci_upper,
            p.pi_lower.unwrap_or(f64::NAN),
            p.pi_upper.unwrap_or(f64::NAN)
        );
    }
    s
}
