//! The results as a user takes them away: CSV for a spreadsheet and the JSON of
//! `meridian fit --json` for scripts (the metafor script is `analysis::r_script`).

use csv::Writer;

use super::report::FitReport;
use crate::stats::Test;

/// Columns of [`results_csv`].
const CSV_HEADER: [&str; 14] = [
    "section",
    "name",
    "estimate",
    "se",
    "statistic",
    "df",
    "df2",
    "p_value",
    "ci_lower",
    "ci_upper",
    "pi_lower",
    "pi_upper",
    "permutation_p_value",
    "k",
];

/// A number at full precision (the shortest text that reads back as the same `f64`); empty
/// for a quantity that does not apply or is not finite, as a spreadsheet expects.
fn number(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite())
        .map(|v| v.to_string())
        .unwrap_or_default()
}

/// One CSV row from its non-empty fields, by header name.
fn row(fields: &[(&str, String)]) -> Vec<String> {
    CSV_HEADER
        .iter()
        .map(|h| {
            fields
                .iter()
                .find(|(name, _)| name == h)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        })
        .collect()
}

/// The results as one CSV table: a row per coefficient (`section` = `coefficient`), then τ²,
/// τ, I², H² and R² (`heterogeneity`, with their confidence intervals), the tests QE and QM
/// (`test`) and the prediction (`prediction`). Empty cells where a quantity does not apply.
///
/// # Examples
/// ```
/// use meridian::{analysis::{analyse, AnalysisSpec}, data::export::results_csv};
/// let run = analyse("yi,vi\n0.1,0.02\n0.5,0.03\n0.3,0.01\n", &AnalysisSpec::default())?;
/// let csv = results_csv(&run.analysis.fit_report());
/// assert!(csv.starts_with("section,name,estimate,se,"));
/// assert!(csv.contains("\ncoefficient,intrcpt,"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn results_csv(report: &FitReport) -> String {
    let knha = Test::from_metafor_name(&report.test) == Some(Test::KnappHartung);
    let df = knha.then_some(report.qe_df.to_string());
    let mut rows = vec![CSV_HEADER.map(str::to_owned).to_vec()];
    for c in &report.coefficients {
        let mut fields = vec![
            ("section", "coefficient".to_owned()),
            ("name", c.name.clone()),
            ("estimate", number(Some(c.estimate))),
            ("se", number(Some(c.se))),
            ("statistic", number(Some(c.statistic))),
            ("p_value", number(Some(c.p_value))),
            ("ci_lower", number(Some(c.ci_lower))),
            ("ci_upper", number(Some(c.ci_upper))),
            ("permutation_p_value", number(c.permutation_p_value)),
            ("k", report.k.to_string()),
        ];
        // Knapp–Hartung t tests have k − p degrees of freedom; z tests have none.
        if let Some(df) = &df {
            fields.push(("df", df.clone()));
        }
        rows.push(row(&fields));
    }
    let ci = |c: Option<[f64; 2]>, i: usize| number(c.map(|c| c[i]));
    let tau_ci = report
        .tau2_ci
        .map(|[l, u]| [l.max(0.0).sqrt(), u.max(0.0).sqrt()]);
    let heterogeneity = [
        ("tau2", Some(report.tau2), report.tau2_se, report.tau2_ci),
        ("tau", Some(report.tau), None, tau_ci),
        ("I2", Some(report.i2), None, report.i2_ci),
        ("H2", Some(report.h2), None, report.h2_ci),
        ("R2", report.r2, None, None),
    ];
    for (name, estimate, se, interval) in heterogeneity {
        if estimate.is_none() {
            continue;
        }
        rows.push(row(&[
            ("section", "heterogeneity".to_owned()),
            ("name", name.to_owned()),
            ("estimate", number(estimate)),
            ("se", number(se)),
            ("ci_lower", ci(interval, 0)),
            ("ci_upper", ci(interval, 1)),
        ]));
    }
    rows.push(row(&[
        ("section", "test".to_owned()),
        ("name", "QE".to_owned()),
        ("statistic", number(Some(report.qe))),
        ("df", report.qe_df.to_string()),
        ("p_value", number(report.qe_p)),
    ]));
    if let Some(qm) = report.qm {
        rows.push(row(&[
            ("section", "test".to_owned()),
            ("name", "QM".to_owned()),
            ("statistic", number(Some(qm))),
            (
                "df",
                report.qm_df.map(|d| d.to_string()).unwrap_or_default(),
            ),
            (
                "df2",
                report.qm_df2.map(|d| d.to_string()).unwrap_or_default(),
            ),
            ("p_value", number(report.qm_p)),
            ("permutation_p_value", number(report.qm_permutation_p)),
        ]));
    }
    if let Some(p) = &report.prediction {
        rows.push(row(&[
            ("section", "prediction".to_owned()),
            ("name", "pred".to_owned()),
            ("estimate", number(Some(p.pred))),
            ("se", number(Some(p.se))),
            ("ci_lower", number(Some(p.ci_lower))),
            ("ci_upper", number(Some(p.ci_upper))),
            ("pi_lower", number(p.pi_lower)),
            ("pi_upper", number(p.pi_upper)),
        ]));
    }
    write_csv(&rows)
}

/// Rows as RFC 4180 CSV: fields with commas, quotes or newlines quoted.
pub(crate) fn write_csv(rows: &[Vec<String>]) -> String {
    let mut w = Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(r)
            .expect("writing to memory cannot fail, and every row has the header's length");
    }
    let bytes = w.into_inner().expect("flushing to memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
}

/// The results exactly as `meridian fit --json` prints them: pretty JSON and a final newline.
pub fn results_json(report: &FitReport) -> String {
    let mut out = serde_json::to_string_pretty(report)
        .expect("a FitReport has string keys and numbers, which always serialise");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_row_per_coefficient_and_statistic() {
        let bcg = include_str!("../../assets/examples/bcg.csv");
        let spec = crate::analysis::AnalysisSpec {
            measure: Some(crate::data::effect_size::Measure::Rr),
            columns: crate::data::roles::Roles {
                raw: [
                    ("ai", "tpos"),
                    ("bi", "tneg"),
                    ("ci", "cpos"),
                    ("di", "cneg"),
                ]
                .map(|(r, c)| {
                    let role = crate::data::effect_size::RawRole::from_name(r).unwrap();
                    (role, c.to_owned())
                })
                .into(),
                ..Default::default()
            },
            mods: Some("ablat".into()),
            model: crate::stats::ModelSpec {
                test: Test::KnappHartung,
                ..Default::default()
            },
            ..Default::default()
        };
        let run = crate::analysis::analyse(bcg, &spec).unwrap();
        let csv = results_csv(&run.analysis.fit_report());
        let lines: Vec<&str> = csv.lines().collect();
        let names: Vec<&str> = lines[1..]
            .iter()
            .map(|l| l.split(',').nth(1).unwrap())
            .collect();
        assert_eq!(
            names,
            ["intrcpt", "ablat", "tau2", "tau", "I2", "H2", "R2", "QE", "QM"]
        );
        // Knapp–Hartung: t with 11 df, F(1, 11).
        assert!(lines[1].starts_with("coefficient,intrcpt,"));
        assert_eq!(lines[1].split(',').nth(5), Some("11"));
        assert!(lines[9].starts_with("test,QM,,,"));
        assert_eq!(&lines[9].split(',').collect::<Vec<_>>()[5..7], ["1", "11"]);
    }
}
