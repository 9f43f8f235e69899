//! What the web app lets a user take away: the results as CSV for a spreadsheet, as the JSON
//! of `meridian fit --json` for scripts, and a metafor R script that reproduces the analysis
//! from the data it embeds — so that every number shown can be checked outside the app.

use csv::Writer;

use super::analysis::{Analysis, AnalysisSpec};
use super::effect_size::Measure;
use super::parse::{is_missing, parse, ColumnKind, Table};
use super::report::FitReport;
use super::roles::{EffectSource, Variance};
use super::session::Session;

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

/// R's reserved words, which need backticks as names (R Language Definition, §10.3.3).
const R_RESERVED: [&str; 20] = [
    "if",
    "else",
    "repeat",
    "while",
    "function",
    "for",
    "next",
    "break",
    "TRUE",
    "FALSE",
    "NULL",
    "Inf",
    "NaN",
    "NA",
    "NA_integer_",
    "NA_real_",
    "NA_character_",
    "NA_complex_",
    "in",
    "T",
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
/// use meridian::data::{analysis::{analyse, AnalysisSpec}, export::results_csv};
/// let a = analyse("yi,vi\n0.1,0.02\n0.5,0.03\n0.3,0.01\n", &AnalysisSpec::default())?;
/// let csv = results_csv(&a.report);
/// assert!(csv.starts_with("section,name,estimate,se,"));
/// assert!(csv.contains("\ncoefficient,intrcpt,"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn results_csv(report: &FitReport) -> String {
    let df = (report.test == "knha").then_some(report.qe_df.to_string());
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
fn write_csv(rows: &[Vec<String>]) -> String {
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

/// An R string literal of `s`: `"` and `\` escaped, and non-ASCII and control characters as
/// `\u{…}` escapes, so the script is plain ASCII and reads the same in any R locale.
fn r_string(s: &str) -> String {
    format!("\"{}\"", ascii(s, true))
}

/// `s` in ASCII, non-ASCII and control characters as R's `\u{…}` escapes; `"` and `\`
/// escaped too for the inside of a string literal.
fn ascii(s: &str, literal: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' if literal => out.push_str("\\\""),
            '\\' if literal => out.push_str("\\\\"),
            // A newline may stand in an R string as it is, which keeps embedded data readable.
            '\n' => out.push('\n'),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='~' => out.push(c),
            c if u32::from(c) <= 0xFFFF => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push_str(&format!("\\U{{{:x}}}", u32::from(c))),
        }
    }
    out
}

/// A column name as an R symbol: as it is when syntactic, else in backticks.
fn r_name(name: &str) -> String {
    let mut chars = name.chars();
    let syntactic = match chars.next() {
        Some('.') => !name[1..].starts_with(|c: char| c.is_ascii_digit()),
        Some(c) => c.is_ascii_alphabetic(),
        None => false,
    } && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_'))
        && !R_RESERVED.contains(&name)
        && !name.starts_with("..");
    if syntactic {
        name.to_owned()
    } else {
        format!("`{}`", name.replace('\\', "\\\\").replace('`', "\\`"))
    }
}

/// The table as plain CSV for R: decimal commas turned into points and every missing cell
/// written `NA`, so that `read.csv` with its defaults reads what Meridian read.
fn table_csv(table: &Table) -> String {
    let mut rows = vec![table.names()];
    let columns: Vec<Vec<String>> = table
        .columns
        .iter()
        .map(|c| match c.kind {
            ColumnKind::NumericDecimalComma => table
                .numeric(&c.name)
                .map(|cells| {
                    cells
                        .iter()
                        .map(|cell| cell.value().map_or("NA".to_owned(), |v| v.to_string()))
                        .collect()
                })
                // A cell that is not a number stays as written, for R to report it.
                .unwrap_or_else(|_| c.cells().map(str::to_owned).collect()),
            _ => c
                .cells()
                .map(|cell| {
                    if is_missing(cell) {
                        "NA".to_owned()
                    } else {
                        cell.to_owned()
                    }
                })
                .collect(),
        })
        .collect();
    for r in 0..table.rows() {
        rows.push(columns.iter().map(|c| c[r].clone()).collect());
    }
    write_csv(&rows)
}

/// The back-transformation metafor's `predict` and `forest` take for a measure on a log or
/// Fisher-z scale.
fn transformation(measure: Option<Measure>) -> Option<&'static str> {
    match measure? {
        Measure::Or | Measure::Rr | Measure::Rom => Some("exp"),
        Measure::Zcor => Some("transf.ztor"),
        Measure::Plo => Some("transf.ilogit"),
        _ => None,
    }
}

/// The table as an R statement `dat <- read.csv(text = …)` with fixed column classes, so
/// that R reads every column as Meridian does.
fn data_block(table: &Table) -> String {
    let classes: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            let class = match c.kind {
                ColumnKind::Numeric | ColumnKind::NumericDecimalComma => "numeric",
                ColumnKind::Text | ColumnKind::Empty => "character",
            };
            format!("{} = \"{class}\"", r_string(&c.name))
        })
        .collect();
    format!(
        "# The data, embedded so that the script runs on its own.\n\
         dat <- read.csv(text = {},\n  check.names = FALSE, na.strings = \"NA\",\n  colClasses = c({}))\n",
        r_string(&table_csv(table)),
        classes.join(", ")
    )
}

/// `text` as R comment lines, in ASCII like the rest of the script.
fn r_comment(text: &str) -> String {
    text.lines()
        .map(|line| format!("# {}\n", ascii(line, false)))
        .collect()
}

const SCRIPT_HEADER: &str =
    "# metafor script written by Meridian: it reproduces the analysis shown in the app.\n\
                             # Run it in R after install.packages(\"metafor\").\n";

/// A metafor R script that reproduces the session's analysis: the data embedded with
/// `read.csv(text = …)`, `escalc` when effect sizes come from raw data, `rma` with the same
/// formula, estimator, test and level (factor levels ordered and referenced as Meridian orders
/// them), then `print`, `confint`, `predict`, `forest`, `funnel` and a `regplot` (bubble plot)
/// per continuous moderator.
///
/// When the analysis fails, the script says why in a comment and holds only the data (or,
/// when the text is not a table, the text as a string), so the user can still take them to R.
pub fn r_script(session: &Session) -> String {
    match session
        .spec()
        .and_then(|spec| Ok((session.analyse()?, spec)))
    {
        Ok((analysis, spec)) => model_script(session, &analysis, &spec),
        Err(e) => {
            let mut s = SCRIPT_HEADER.to_owned();
            s += "#\n# Meridian could not run this analysis, so the script holds only the data:\n";
            s += &r_comment(&e.to_string());
            s += "library(metafor)\n\n";
            s += &match parse(&session.text) {
                Ok(table) => data_block(&table),
                Err(_) => format!(
                    "# The data as pasted; they are not a table Meridian can read.\ntext <- {}\n",
                    r_string(&session.text)
                ),
            };
            s
        }
    }
}

/// The script of an analysis that ran; `spec` is the session's, from which it ran.
fn model_script(session: &Session, analysis: &Analysis, spec: &AnalysisSpec) -> String {
    let table = &analysis.table;
    let fixed = analysis.fit.spec.method.is_fixed();
    let mut s = SCRIPT_HEADER.to_owned();
    s += "library(metafor)\n\n";
    s += &data_block(table);
    s += "\n";

    let source = analysis
        .roles
        .source(spec.measure)
        .expect("the analysis ran from the same roles and measure");
    let effect_args = match &source {
        EffectSource::Raw { measure, columns } => {
            let args: Vec<String> = measure
                .roles()
                .iter()
                .zip(columns)
                .map(|(role, column)| format!("{} = {}", role.name(), r_name(column)))
                .collect();
            s += "# Effect sizes and sampling variances from the raw data (columns yi and vi).\n";
            s += &format!(
                "dat <- escalc(measure = \"{}\", {}, data = dat)\n\n",
                measure.name(),
                args.join(", ")
            );
            "yi, vi".to_owned()
        }
        EffectSource::Given { yi, variance } => match variance {
            Variance::Vi(v) => format!("yi = {}, vi = {}", r_name(yi), r_name(v)),
            Variance::Sei(se) => format!("yi = {}, sei = {}", r_name(yi), r_name(se)),
        },
    };

    let mut factors = Vec::new();
    if let Some(formula) = &analysis.formula {
        for column in formula.columns() {
            let Ok(col) = table.column(column) else {
                continue;
            };
            let text = col.kind == ColumnKind::Text;
            let reference = spec.references.get(column);
            if !text && reference.is_none() {
                continue;
            }
            let x = format!("dat[[{}]]", r_string(column));
            // R's factor() sorts text by the locale; Meridian, like R in the C locale, by bytes.
            let levels = if text {
                format!("factor({x}, levels = sort(unique({x}), method = \"radix\"))")
            } else {
                format!("factor({x})")
            };
            factors.push(match reference {
                Some(r) => format!("{x} <- relevel({levels}, ref = {})\n", r_string(r)),
                None => format!("{x} <- {levels}\n"),
            });
        }
    }
    if !factors.is_empty() {
        s += "# Factor levels in Meridian's order, with the chosen reference levels.\n";
        s += &factors.concat();
        s += "\n";
    }

    let mut args = vec![effect_args];
    if let Some(formula) = &analysis.formula {
        let text = formula.text().trim();
        args.push(format!(
            "mods = ~ {}",
            text.strip_prefix('~').unwrap_or(text).trim()
        ));
    }
    args.push(format!(
        "method = \"{}\"",
        analysis.fit.spec.method.metafor_name()
    ));
    args.push(format!("test = \"{}\"", analysis.report.test));
    args.push(format!("level = {}", session.level));
    args.push("data = dat".to_owned());
    if let Some(slab) = &analysis.roles.slab {
        args.push(format!("slab = {}", r_name(slab)));
    }
    s += "# The model.\n";
    s += &format!("res <- rma({})\n", args.join(", "));
    s += "print(res)\n";
    // Q-profile intervals need an estimated τ² and residual degrees of freedom.
    if !fixed && analysis.fit.k > analysis.fit.p {
        s += "confint(res)\n";
    }

    let transf = transformation(spec.measure);
    let newmods = match (&analysis.formula, &spec.predict_at) {
        (None, _) => Some(String::new()),
        (Some(formula), Some(at)) => {
            let x0 = formula
                .predictor_row(table, &analysis.studies.rows, &spec.references, at)
                .expect("the analysis predicted at the same point");
            let skip = usize::from(analysis.design.intercept);
            let values: Vec<String> = x0[skip..].iter().map(f64::to_string).collect();
            Some(format!(", newmods = c({})", values.join(", ")))
        }
        (Some(_), None) => None,
    };
    if let Some(newmods) = newmods {
        s += &format!("predict(res{newmods})\n");
        if let Some(t) = transf {
            s += &format!("predict(res{newmods}, transf = {t})\n");
        }
    }

    s += "\n# Plots.\n";
    match transf {
        Some("exp") => s += "forest(res, atransf = exp)\n",
        _ => s += "forest(res)\n",
    }
    s += "funnel(res)\n";
    if let Some(formula) = &analysis.formula {
        for term in formula.term_labels() {
            let numeric = table.column(&term).is_ok_and(|c| {
                matches!(
                    c.kind,
                    ColumnKind::Numeric | ColumnKind::NumericDecimalComma
                )
            });
            let Some(position) = analysis.design.names.iter().position(|n| *n == term) else {
                continue;
            };
            if !numeric {
                continue;
            }
            // By name when it is one; by position otherwise, as metafor names the coefficient
            // of a non-syntactic column with backticks.
            s += &if r_name(&term) == term {
                format!("regplot(res, mod = \"{term}\")\n")
            } else {
                format!("regplot(res, mod = {})\n", position + 1)
            };
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_strings_escape_quotes_backslashes_and_non_ascii() {
        assert_eq!(r_string("a \"b\" \\ c"), "\"a \\\"b\\\" \\\\ c\"");
        assert_eq!(r_string("Müller\tx\r\n"), "\"M\\u{fc}ller\\tx\\r\n\"");
        assert_eq!(r_string("😀"), "\"\\U{1f600}\"");
    }

    #[test]
    fn r_names_backtick_what_is_not_syntactic() {
        assert_eq!(r_name("ablat"), "ablat");
        assert_eq!(r_name(".x_1"), ".x_1");
        for (name, quoted) in [
            ("mean age", "`mean age`"),
            ("2x", "`2x`"),
            (".5", "`.5`"),
            ("if", "`if`"),
            ("a`b", "`a\\`b`"),
            ("", "``"),
        ] {
            assert_eq!(r_name(name), quoted);
        }
    }

    #[test]
    fn csv_has_a_row_per_coefficient_and_statistic() {
        let mut s = Session::default();
        s.set_moderator("ablat", true, false);
        s.test = "knha".into();
        let csv = results_csv(&s.analyse().unwrap().report);
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
