//! The readable printouts of issue 13's results, laid out as metafor prints them: term tests
//! and contrasts (`anova(res, btt = …)`, `anova(res, X = L)`), the scale part of a
//! location-scale model, model comparisons (`anova(full, reduced)`) and subgroup analyses.

use std::fmt::Write as _;

use meridian::analysis::anova::{Anova, ModelFitRecord};
use meridian::analysis::subgroup_analysis::SubgroupAnalysis;
use meridian::data::model_report::TermTestReport;
use meridian::data::report::FitReport;
use meridian::format::{p_relation, p_value};

/// `QM(df = m)` or, under Knapp–Hartung, `F(df1 = m, df2 = n)`.
fn statistic_name(df: usize, df2: Option<usize>) -> String {
    match df2 {
        Some(df2) => format!("F(df1 = {df}, df2 = {df2})"),
        None => format!("QM(df = {df})"),
    }
}

/// The test of each term, one line each.
pub fn term_tests(tests: &[TermTestReport]) -> String {
    let mut s = String::new();
    if tests.is_empty() {
        return s;
    }
    let _ = writeln!(s, "\nTests of Terms:");
    let width = tests.iter().map(|t| t.term.len()).max().unwrap_or(0);
    for t in tests {
        let _ = writeln!(
            s,
            "{:width$}  {} = {:.4}, p-val {}  (coefficients {})",
            t.term,
            statistic_name(t.qm_df, t.qm_df2),
            t.qm,
            p_relation(t.qm_p),
            t.coefficients.join(", ")
        );
    }
    s
}

/// The contrasts and their joint test, as `anova(res, X = L)` prints them.
pub fn contrasts(r: &FitReport) -> String {
    let mut s = String::new();
    let Some(c) = &r.contrasts else {
        return s;
    };
    let _ = writeln!(s, "\nHypotheses:");
    for (i, row) in c.rows.iter().enumerate() {
        let terms: Vec<String> = row
            .weights
            .iter()
            .zip(&r.coefficients)
            .filter(|(w, _)| **w != 0.0)
            .map(|(w, coef)| match *w {
                1.0 => coef.name.clone(),
                -1.0 => format!("-{}", coef.name),
                w => format!("{w}*{}", coef.name),
            })
            .collect();
        let _ = writeln!(
            s,
            "{}: {} = 0",
            i + 1,
            terms.join(" + ").replace("+ -", "- ")
        );
    }
    let _ = writeln!(
        s,
        "\nResults:\n   {:>9} {:>9} {:>9} {:>8} {:>9} {:>9}",
        "estimate", "se", "stat", "pval", "ci.lb", "ci.ub"
    );
    for (i, row) in c.rows.iter().enumerate() {
        let _ = writeln!(
            s,
            "{}: {:>9.4} {:>9.4} {:>9.4} {:>8} {:>9.4} {:>9.4}",
            i + 1,
            row.estimate,
            row.se,
            row.statistic,
            p_value(row.p_value),
            row.ci_lower,
            row.ci_upper
        );
    }
    let _ = writeln!(
        s,
        "\nOmnibus Test of Hypotheses:\n{} = {:.4}, p-val {}",
        statistic_name(c.qm_df, c.qm_df2),
        c.qm,
        p_relation(c.qm_p)
    );
    s
}

/// The scale part of a location-scale model.
pub fn scale(r: &FitReport) -> String {
    let mut s = String::new();
    let Some(sc) = &r.scale else {
        return s;
    };
    if let (Some(qs), Some(df), Some(p)) = (sc.qs, sc.qs_df, sc.qs_p) {
        let _ = writeln!(
            s,
            "\nTest of Scale Coefficients:\nQS(df = {df}) = {qs:.4}, p-val {}",
            p_relation(p)
        );
    }
    let width = sc
        .alpha
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0)
        .max(8);
    let _ = writeln!(
        s,
        "\nModel Results (Scale):\n\n{:width$} {:>9} {:>9} {:>9} {:>8} {:>9} {:>9}",
        "", "estimate", "se", "zval", "pval", "ci.lb", "ci.ub"
    );
    for c in &sc.alpha {
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
    s
}

/// A comparison as `anova(full, reduced)` prints it.
pub fn anova(a: &Anova) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:8} {:>3} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9}",
        "", "df", "AIC", "BIC", "AICc", "logLik", "LRT", "pval", "QE", "tau^2", "R^2"
    );
    let line = |name: &str, m: &ModelFitRecord, rest: String| {
        format!(
            "{name:8} {:>3} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {rest} {:>9.4} {:>9}",
            m.df,
            m.aic,
            m.bic,
            m.aicc,
            m.log_likelihood,
            m.qe,
            m.tau2.map_or("NA".to_owned(), |t| format!("{t:.4}")),
        )
    };
    let _ = writeln!(
        s,
        "{}",
        line("Full", &a.full, format!("{:>9} {:>8}", "", ""))
    );
    let reduced = line(
        "Reduced",
        &a.reduced,
        format!("{:>9.4} {:>8}", a.lrt, p_value(a.p_value)),
    );
    let r2 = a.r2.map_or(String::new(), |r| format!(" {r:>8.4}%"));
    let _ = writeln!(s, "{reduced}{r2}");
    s
}

/// A subgroup analysis as a Cochrane review reports it.
pub fn subgroups(g: &SubgroupAnalysis) -> String {
    let mut s = String::new();
    let how = if g.tau2_common {
        "one common tau^2"
    } else {
        "a tau^2 per subgroup"
    };
    let _ = writeln!(s, "Subgroup analysis by {} ({how})\n", g.column);
    let width = g
        .groups
        .iter()
        .map(|x| x.level.len())
        .max()
        .unwrap_or(0)
        .max(8);
    let _ = writeln!(
        s,
        "{:width$} {:>3} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9} {:>8}",
        "", "k", "estimate", "se", "ci.lb", "ci.ub", "tau^2", "I^2", "Q", "Q pval"
    );
    for x in &g.groups {
        let _ = writeln!(
            s,
            "{:width$} {:>3} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>7.2}% {:>9.4} {:>8}",
            x.level,
            x.k,
            x.estimate,
            x.se,
            x.ci_lower,
            x.ci_upper,
            x.tau2,
            x.i2,
            x.qe,
            p_value(x.qe_p)
        );
    }
    let _ = writeln!(
        s,
        "\nTest for subgroup differences: Q_between(df = {}) = {:.4}, p-val {}",
        g.q_between_df,
        g.q_between,
        p_relation(g.q_between_p)
    );
    let _ = writeln!(
        s,
        "Mixed-effects meta-regression on {}: {} = {:.4}, p-val {}",
        g.column,
        statistic_name(g.qm_df, g.qm_df2),
        g.qm,
        p_relation(g.qm_p)
    );
    s
}
