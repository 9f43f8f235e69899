//! The readable report of `meridian fit`: a printout laid out like metafor's `print(rma(…))`,
//! with numbers and p-values from the shared [`meridian::format`] module.

use std::fmt::Write as _;

use meridian::data::report::FitReport;
use meridian::data::roles::{Excluded, Exclusion};
use meridian::format::{p_relation, p_value};
use meridian::stats::{Tau2Method, Test};

/// A p-value in a sentence: `= 0.0324`, `< .0001`, or `= NA` when there is none.
fn p_equals(p: Option<f64>) -> String {
    p.map_or_else(|| "= NA".to_owned(), p_relation)
}

/// A report like metafor's printout of an `rma` fit (`moderators`: whether it is a
/// meta-regression), with the rows `excluded` and why.
pub fn readable(r: &FitReport, moderators: bool, excluded: &[Excluded], file: &str) -> String {
    let mut s = String::new();
    let fixed = Tau2Method::from_metafor_name(&r.method).is_some_and(Tau2Method::is_fixed);
    let kind = match (fixed, moderators) {
        (true, false) => "Fixed-Effects Model",
        (true, true) => "Fixed-Effects with Moderators Model",
        (false, false) => "Random-Effects Model",
        (false, true) => "Mixed-Effects Model",
    };
    let _ = writeln!(s, "{kind} (k = {}; tau^2 estimator: {})\n", r.k, r.method);
    if !excluded.is_empty() {
        let rows: Vec<String> = excluded.iter().map(|e| e.row.to_string()).collect();
        let missing_only = excluded
            .iter()
            .all(|e| matches!(e.reason, Exclusion::Missing { .. }));
        if missing_only {
            let _ = writeln!(
                s,
                "{file}: {} row(s) with missing values excluded (data rows {})\n",
                rows.len(),
                rows.join(", ")
            );
        } else {
            let _ = writeln!(s, "{file}: {} row(s) excluded:", rows.len());
            for e in excluded {
                let _ = writeln!(s, "  data row {}: {}", e.row, e.reason);
            }
            s.push('\n');
        }
    }
    if !fixed {
        let se = r
            .tau2_se
            .map_or(String::new(), |v| format!(" (SE = {v:.4})"));
        let residual = if moderators { "residual" } else { "total" };
        let _ = writeln!(
            s,
            "tau^2 (estimated amount of {residual} heterogeneity): {:.4}{se}",
            r.tau2
        );
        let _ = writeln!(
            s,
            "tau (square root of estimated tau^2 value):  {:.4}",
            r.tau
        );
    }
    let _ = writeln!(s, "I^2 (heterogeneity / total variability):   {:.2}%", r.i2);
    let _ = writeln!(
        s,
        "H^2 (total variability / sampling variability): {:.2}",
        r.h2
    );
    if let Some(r2) = r.r2 {
        let _ = writeln!(s, "R^2 (amount of heterogeneity accounted for): {r2:.2}%");
    }
    let _ = writeln!(
        s,
        "\nTest for {}Heterogeneity:\nQE(df = {}) = {:.4}, p-val {}",
        if moderators { "Residual " } else { "" },
        r.qe_df,
        r.qe,
        p_equals(r.qe_p)
    );
    // metafor prints QM of an intercept-only model only in the JSON record, not here.
    if let (true, Some(qm), Some(df)) = (moderators, r.qm, r.qm_df) {
        let statistic = match r.qm_df2 {
            Some(df2) => format!("F(df1 = {df}, df2 = {df2})"),
            None => format!("QM(df = {df})"),
        };
        let permuted = r.qm_permutation_p.map_or(String::new(), |p| {
            format!(" (permutation p-val {})", p_equals(Some(p)))
        });
        let _ = writeln!(
            s,
            "\nTest of Moderators:\n{statistic} = {qm:.4}, p-val {}{permuted}",
            p_equals(r.qm_p)
        );
    }
    let stat = match Test::from_metafor_name(&r.test) {
        Some(Test::KnappHartung) => "tval",
        _ => "zval",
    };
    let width = r
        .coefficients
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0)
        .max(8);
    let permuted = r
        .coefficients
        .iter()
        .any(|c| c.permutation_p_value.is_some());
    let _ = write!(
        s,
        "\nModel Results:\n\n{:width$} {:>9} {:>9} {:>9} {:>8} {:>9} {:>9}",
        "", "estimate", "se", stat, "pval", "ci.lb", "ci.ub"
    );
    let _ = writeln!(s, "{}", if permuted { "  perm.pval" } else { "" });
    for c in &r.coefficients {
        let _ = write!(
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
        let _ = writeln!(
            s,
            "{}",
            c.permutation_p_value
                .map_or(String::new(), |p| format!(" {:>10}", p_value(p)))
        );
    }
    if let Some(p) = &r.prediction {
        let mut head = format!("{:>9} {:>9} {:>9} {:>9}", "pred", "se", "ci.lb", "ci.ub");
        let mut row = format!(
            "{:>9.4} {:>9.4} {:>9.4} {:>9.4}",
            p.pred, p.se, p.ci_lower, p.ci_upper
        );
        if let (Some(lo), Some(hi)) = (p.pi_lower, p.pi_upper) {
            let _ = write!(head, " {:>9} {:>9}", "pi.lb", "pi.ub");
            let _ = write!(row, " {lo:>9.4} {hi:>9.4}");
        }
        let _ = writeln!(s, "\nPrediction:\n{head}\n{row}");
    }
    if let (Some(t), Some(i), Some(h)) = (r.tau2_ci, r.i2_ci, r.h2_ci) {
        let _ = writeln!(
            s,
            "\nQ-profile confidence intervals:\ntau^2 [{:.4}, {:.4}]  I^2 [{:.2}%, {:.2}%]  H^2 [{:.4}, {:.4}]",
            t[0], t[1], i[0], i[1], h[0], h[1]
        );
    }
    let _ = writeln!(
        s,
        "\nlogLik = {:.4}, AIC = {:.4}, BIC = {:.4}",
        r.log_likelihood, r.aic, r.bic
    );
    s
}
