//! `meridian influence|leave1out|cumul|baujat|blup|labbe FILE [options] [--json]`: which
//! studies drive the answer (issue 12). Each takes the data and model options of `fit`, runs
//! the same analysis and prints its record from `meridian::analysis::{sensitivity, cumul,
//! labbe}` as JSON, or
//! a table laid out as metafor prints it.

use std::ffi::OsString;
use std::fmt::Write as _;

use lexopt::prelude::*;
use serde::Serialize;

use meridian::analysis::record::PooledRecord;
use meridian::analysis::{analyse, cumul, labbe, sensitivity, AnalysisSpec};
use meridian::format::{fixed, p_value};
use meridian::stats::Test;

use super::fit::failure;
use super::input::read_input;
use super::options::{analysis_option, check_analysis_options, string, Failure, Parsed};

/// Which analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `influence`: case-deletion diagnostics.
    Influence,
    /// `leave1out`: the model without each study.
    Leave1out,
    /// `cumul`: cumulative meta-analysis.
    Cumul,
    /// `baujat`: Baujat plot coordinates.
    Baujat,
    /// `blup`: BLUPs of the true effects.
    Blup,
    /// `labbe`: L'Abbé plot coordinates of 2×2 tables.
    Labbe,
}

impl Kind {
    /// The subcommand of this name.
    pub fn from_command(name: &str) -> Option<Self> {
        Some(match name {
            "influence" => Self::Influence,
            "leave1out" => Self::Leave1out,
            "cumul" => Self::Cumul,
            "baujat" => Self::Baujat,
            "blup" => Self::Blup,
            "labbe" => Self::Labbe,
            _ => return None,
        })
    }

    fn command(self) -> &'static str {
        match self {
            Self::Influence => "influence",
            Self::Leave1out => "leave1out",
            Self::Cumul => "cumul",
            Self::Baujat => "baujat",
            Self::Blup => "blup",
            Self::Labbe => "labbe",
        }
    }
}

/// The parsed command line of one of these subcommands.
pub struct SensitivityOptions {
    kind: Kind,
    file: OsString,
    json: bool,
    spec: AnalysisSpec,
    order: Option<String>,
}

/// Parses the arguments after the subcommand `kind`.
pub fn parse(
    kind: Kind,
    parser: &mut lexopt::Parser,
) -> Result<Parsed<SensitivityOptions>, Failure> {
    let mut file = None;
    let mut o = SensitivityOptions {
        kind,
        file: OsString::new(),
        json: false,
        spec: AnalysisSpec::default(),
        order: None,
    };
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('V') | Long("version") => return Ok(Parsed::Version),
            Long("json") => o.json = true,
            Long(flag) => {
                let flag = format!("--{flag}");
                let value = string(parser.value()?, &flag)?;
                if analysis_option(&flag, value.clone(), &mut o.spec)? {
                    continue;
                }
                match flag.as_str() {
                    "--order" if kind == Kind::Cumul => o.order = Some(value),
                    _ => {
                        return Err(Failure::Usage(format!(
                            "unknown option {flag} for {}; see meridian --help",
                            kind.command()
                        )))
                    }
                }
            }
            Value(v) if file.is_none() => file = Some(v),
            _ => return Err(arg.unexpected().into()),
        }
    }
    o.file = file.ok_or_else(|| {
        Failure::Usage(format!(
            "expected a FILE: meridian {} FILE [options]",
            kind.command()
        ))
    })?;
    check_analysis_options(&o.spec)?;
    Ok(Parsed::Run(o))
}

/// Pretty JSON with a final newline.
pub fn json(record: &impl Serialize) -> String {
    let mut out = serde_json::to_string_pretty(record)
        .expect("the records have string keys and numbers, which always serialise");
    out.push('\n');
    out
}

/// Runs the subcommand and returns what it prints.
pub fn run(o: &SensitivityOptions) -> Result<String, Failure> {
    let file = o.file.to_string_lossy().into_owned();
    let text = read_input(&o.file)?;
    let run = analyse(&text, &o.spec).map_err(|e| failure(e, &file))?;
    let (fitted, data) = (&run.fitted, &run.analysis.data);
    let stats_failure = |e: meridian::stats::StatsError| Failure::Data(format!("{file}: {e}"));
    Ok(match o.kind {
        Kind::Influence => {
            let deletions = sensitivity::deletions_without_r2(fitted);
            let r = sensitivity::influence(fitted, data, &deletions).map_err(stats_failure)?;
            if o.json {
                json(&r)
            } else {
                influence_table(&r)
            }
        }
        Kind::Leave1out => {
            let deletions = sensitivity::deletions(fitted).map_err(stats_failure)?;
            let r = sensitivity::leave1out(fitted, data, &deletions);
            if o.json {
                json(&r)
            } else {
                leave1out_table(&r, run.analysis.intercept_only(), statistic_name(o))
            }
        }
        Kind::Cumul => {
            let r = cumul::cumul(&run.table, data, fitted, o.order.as_deref())
                .map_err(|e| failure(e, &file))?;
            if o.json {
                json(&r)
            } else {
                cumul_table(&r, statistic_name(o))
            }
        }
        Kind::Baujat => {
            let deletions = sensitivity::deletions_without_r2(fitted);
            let r = sensitivity::baujat(fitted, data, &deletions);
            if o.json {
                json(&r)
            } else {
                let rows = r
                    .studies
                    .iter()
                    .map(|s| (s.slab.clone(), vec![num(Some(s.x)), num(s.y)]))
                    .collect();
                table(&["x", "y"], rows)
            }
        }
        Kind::Labbe => {
            let r = labbe::labbe(&run.table, data, fitted).map_err(|e| failure(e, &file))?;
            if o.json {
                json(&r)
            } else {
                let rows = r
                    .studies
                    .iter()
                    .map(|s| {
                        let cells = [s.x, s.y, s.size];
                        (
                            s.slab.clone(),
                            cells.iter().map(|&v| num(Some(v))).collect(),
                        )
                    })
                    .collect();
                format!(
                    "{}\nPooled estimate: {} (the line y = x + estimate)\n",
                    table(&["x", "y", "size"], rows),
                    fixed(r.estimate, 4)
                )
            }
        }
        Kind::Blup => {
            let r = sensitivity::blup(fitted, data);
            if o.json {
                json(&r)
            } else {
                let rows = |b: &[sensitivity::BlupRow]| {
                    b.iter()
                        .map(|s| {
                            let cells = [s.pred, s.se, s.pi_lower, s.pi_upper];
                            (
                                s.slab.clone(),
                                cells.iter().map(|&v| num(Some(v))).collect(),
                            )
                        })
                        .collect()
                };
                let header = ["pred", "se", "pi.lb", "pi.ub"];
                format!(
                    "{}\nRandom effects (ranef):\n\n{}",
                    table(&header, rows(&r.studies)),
                    table(&header, rows(&r.ranef))
                )
            }
        }
    })
}

/// metafor's column name of the statistic: `tval` under Knapp–Hartung, `zval` otherwise.
fn statistic_name(o: &SensitivityOptions) -> &'static str {
    match o.spec.model.test {
        Test::KnappHartung => "tval",
        _ => "zval",
    }
}

/// A number with four decimals, "NA" when there is none (as metafor prints it).
fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "NA".to_owned(), |v| fixed(v, 4))
}

/// A p-value as metafor prints one in a table.
fn pval(v: Option<f64>) -> String {
    v.map_or_else(|| "NA".to_owned(), p_value)
}

/// Rows of cells under a header, the labels left-aligned and the numbers right-aligned in
/// columns as wide as their widest cell, as R prints a data frame.
fn table(header: &[&str], rows: Vec<(String, Vec<String>)>) -> String {
    let label_width = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let widths: Vec<usize> = header
        .iter()
        .enumerate()
        .map(|(j, h)| {
            rows.iter()
                .map(|(_, c)| c[j].chars().count())
                .chain([h.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    let _ = write!(s, "{:label_width$}", "");
    for (h, w) in header.iter().zip(&widths) {
        let _ = write!(s, " {h:>w$}");
    }
    s.push('\n');
    for (label, cells) in rows {
        let pad = label_width - label.chars().count();
        let _ = write!(s, "{label}{:pad$}", "");
        for (c, w) in cells.iter().zip(&widths) {
            let _ = write!(s, " {c:>w$}");
        }
        s.push('\n');
    }
    s
}

fn influence_table(r: &sensitivity::InfluenceRecord) -> String {
    let mut header = vec![
        "rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight",
    ];
    let dfbs: Vec<String> = r.names.iter().map(|n| format!("dfbs.{n}")).collect();
    header.extend(dfbs.iter().map(String::as_str));
    header.push("inf");
    let rows = r
        .studies
        .iter()
        .map(|s| {
            let mut cells: Vec<String> = [
                s.rstudent, s.dffits, s.cook_d, s.cov_r, s.tau2_del, s.qe_del,
            ]
            .iter()
            .map(|&v| num(v))
            .collect();
            cells.push(num(Some(s.hat)));
            cells.push(num(Some(s.weight)));
            for j in 0..r.names.len() {
                cells.push(num(s.dfbetas.get(j).copied()));
            }
            cells.push(if s.influential { "*" } else { "" }.to_owned());
            (s.slab.clone(), cells)
        })
        .collect();
    table(&header, rows)
}

fn leave1out_table(
    r: &sensitivity::Leave1outRecord,
    intercept_only: bool,
    statistic: &str,
) -> String {
    if intercept_only {
        let rows = r
            .studies
            .iter()
            .map(|s| (s.slab.clone(), pooled_cells(&s.pooled)))
            .collect();
        return table(&pooled_header(statistic), rows);
    }
    // With moderators: the coefficients of each refit, then its heterogeneity.
    let names: Vec<String> = r
        .studies
        .iter()
        .find_map(|s| {
            (!s.coefficients.is_empty())
                .then(|| s.coefficients.iter().map(|c| c.name.clone()).collect())
        })
        .unwrap_or_default();
    let mut header: Vec<&str> = names.iter().map(String::as_str).collect();
    header.extend(["QE", "QEp", "tau2", "I2", "H2", "R2"]);
    let rows = r
        .studies
        .iter()
        .map(|s| {
            let mut cells: Vec<String> = (0..names.len())
                .map(|j| num(s.coefficients.get(j).map(|c| c.estimate)))
                .collect();
            let p = &s.pooled;
            cells.extend([
                num(p.q),
                pval(p.q_p),
                num(p.tau2),
                num(p.i2),
                num(p.h2),
                num(s.r2),
            ]);
            (s.slab.clone(), cells)
        })
        .collect();
    table(&header, rows)
}

fn cumul_table(r: &cumul::CumulRecord, statistic: &str) -> String {
    let rows = r
        .steps
        .iter()
        .map(|s| (s.slab.clone(), pooled_cells(&s.pooled)))
        .collect();
    table(&pooled_header(statistic), rows)
}

/// The columns of a pooled model, as metafor prints `leave1out` and `cumul`.
fn pooled_header(statistic: &str) -> [&str; 11] {
    [
        "estimate", "se", statistic, "pval", "ci.lb", "ci.ub", "Q", "Qp", "tau2", "I2", "H2",
    ]
}

/// One row of [`pooled_header`]'s columns.
fn pooled_cells(p: &PooledRecord) -> Vec<String> {
    vec![
        num(p.estimate),
        num(p.se),
        num(p.statistic),
        pval(p.p_value),
        num(p.ci_lower),
        num(p.ci_upper),
        num(p.q),
        pval(p.q_p),
        num(p.tau2),
        num(p.i2),
        num(p.h2),
    ]
}
