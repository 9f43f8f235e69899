//! `meridian`: the command line over the same engine as the web app.
//!
//! `meridian fit FILE [options] [--json]` reads a table, computes or reads effect sizes,
//! builds the design from `--mods` and fits the model, printing a metafor-like report or a
//! JSON object with stable keys. Exit status: 0 on success, 2 for a usage error, 1 for a data
//! or model error, each with one sentence on stderr.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::ops::ControlFlow;
use std::process::ExitCode;

use lexopt::prelude::*;

use meridian::data::analysis::{analyse, AnalysisError, AnalysisSpec};
use meridian::data::effect_size::{RawRole, UnknownMeasure};
use meridian::data::export::results_json;
use meridian::data::formula::FormulaError;
use meridian::data::report::FitReport;
use meridian::data::roles::RolesError;
use meridian::stats::{PermutationSettings, Tau2Method, Test};

const HELP: &str = "\
meridian — meta-analysis and meta-regression (the engine of the Meridian web app)

Usage:
  meridian fit FILE [options] [--json]
  meridian --help | --version

FILE is a CSV, semicolon- or tab-separated table with a header row (\"-\" reads stdin).

Effect sizes (columns named yi, vi, sei or escalc's raw-data names are found by themselves):
  --yi COL --vi COL        effect sizes and sampling variances
  --sei COL                standard errors instead of variances
  --measure M              compute from raw data: OR RR RD SMD MD ROM ZCOR COR PLO PR
  --ai --bi --ci --di COL  2×2 table (OR, RR, RD)
  --m1i --sd1i --n1i --m2i --sd2i --n2i COL
                           means, SDs and group sizes (SMD, MD, ROM)
  --ri --ni COL            correlations and sample sizes (ZCOR, COR)
  --xi --ni COL            events and sample sizes (PLO, PR)
  --slab COL               study labels

Model:
  --mods FORMULA           moderators, R style: \"ablat + factor(alloc)\", \"ablat*year\", \"x - 1\"
  --reference COL=LEVEL    reference level of a factor (repeatable)
  --method M               FE EE DL HE HS SJ ML REML EB PM (default REML)
  --test T                 z or knha (default z)
  --level L                confidence level in percent (default 95)
  --predict-at \"x=10,g=a\"  prediction at these moderator values (one per column)
  --permutations N         permutation test with N permutations (exact if N covers them all)
  --seed S                 seed of the random permutations (default 1)

Output:
  --json                   one JSON object (keys: k, p, method, test, coefficients, tau2, …)
  -h, --help               this help
  -V, --version            version

Exit status: 0 success, 1 data or model error, 2 usage error.
";

/// A failure, with the exit status it maps to.
enum Failure {
    /// Wrong use of the command line: exit 2.
    Usage(String),
    /// The data or the model: exit 1.
    Data(String),
}

impl From<lexopt::Error> for Failure {
    fn from(e: lexopt::Error) -> Self {
        Failure::Usage(e.to_string())
    }
}

/// The parsed command line of `meridian fit`.
struct Options {
    file: OsString,
    json: bool,
    spec: AnalysisSpec,
    permutations: Option<PermutationSettings>,
}

enum Command {
    Help,
    Version,
    Fit(Box<Options>),
}

fn string(value: OsString, flag: &str) -> Result<String, Failure> {
    value
        .into_string()
        .map_err(|_| Failure::Usage(format!("the value of {flag} is not valid UTF-8")))
}

/// `a=1,b=x` (or `;`-separated) into a map; the flag's name goes into the message.
fn assignments(text: &str, flag: &str) -> Result<BTreeMap<String, String>, Failure> {
    text.split([',', ';'])
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            let (name, value) = part.split_once('=').ok_or_else(|| {
                Failure::Usage(format!(
                    "{flag} expects NAME=VALUE pairs such as ablat=10, found \"{part}\""
                ))
            })?;
            Ok((name.trim().to_owned(), value.trim().to_owned()))
        })
        .collect()
}

fn method(name: &str) -> Result<Tau2Method, Failure> {
    Tau2Method::from_metafor_name(name).ok_or_else(|| {
        Failure::Usage(format!(
            "unknown --method \"{name}\": expected one of FE, EE, DL, HE, HS, SJ, ML, REML, EB, PM"
        ))
    })
}

/// A whole number of at least 1 for `flag`.
fn count(text: &str, flag: &str) -> Result<usize, Failure> {
    match text.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Failure::Usage(format!(
            "{flag} expects a whole number of at least 1, found \"{text}\""
        ))),
    }
}

fn level(text: &str) -> Result<f64, Failure> {
    match text.trim().parse::<f64>() {
        // As metafor: 95 and 0.95 both mean a 95 % interval.
        Ok(l) if l > 1.0 && l < 100.0 => Ok(l / 100.0),
        Ok(l) if l > 0.0 && l < 1.0 => Ok(l),
        _ => Err(Failure::Usage(format!(
            "--level expects a confidence level between 0 and 100 such as 95, found \"{text}\""
        ))),
    }
}

fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Command, Failure> {
    let mut parser = lexopt::Parser::from_args(args);
    let mut command = None;
    let mut file = None;
    let mut o = Options {
        file: OsString::new(),
        json: false,
        spec: AnalysisSpec::default(),
        permutations: None,
    };
    let (columns, model) = (&mut o.spec.columns, &mut o.spec.model);
    let mut seed = None;
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            Long("json") => o.json = true,
            Long(flag) => {
                let flag = format!("--{flag}");
                let value = string(parser.value()?, &flag)?;
                match flag.as_str() {
                    "--yi" => columns.yi = Some(value),
                    "--vi" => columns.vi = Some(value),
                    "--sei" => columns.sei = Some(value),
                    "--slab" => columns.slab = Some(value),
                    "--mods" => o.spec.mods = Some(value),
                    "--measure" => {
                        o.spec.measure = Some(
                            value
                                .parse()
                                .map_err(|e: UnknownMeasure| Failure::Usage(e.to_string()))?,
                        );
                    }
                    "--method" => model.method = method(&value)?,
                    "--test" => {
                        // "t" is accepted as another name of the Knapp–Hartung t test.
                        model.test = if value.eq_ignore_ascii_case("t") {
                            Test::KnappHartung
                        } else {
                            Test::from_metafor_name(&value).ok_or_else(|| {
                                Failure::Usage(format!(
                                    "unknown --test \"{value}\": expected z or knha"
                                ))
                            })?
                        }
                    }
                    "--level" => model.level = level(&value)?,
                    "--predict-at" => o.spec.predict_at = Some(assignments(&value, &flag)?),
                    "--reference" => o.spec.references.extend(assignments(&value, &flag)?),
                    "--permutations" => {
                        o.permutations = Some(PermutationSettings {
                            iterations: count(&value, &flag)?,
                            ..PermutationSettings::default()
                        });
                    }
                    "--seed" => seed = Some(count(&value, &flag)? as u64),
                    _ => match RawRole::from_name(&flag[2..]) {
                        Some(role) => {
                            columns.raw.insert(role, value);
                        }
                        None => {
                            return Err(Failure::Usage(format!(
                                "unknown option {flag}; see meridian --help"
                            )))
                        }
                    },
                }
            }
            Value(v) if command.is_none() => {
                let v = string(v, "the command")?;
                if v != "fit" {
                    return Err(Failure::Usage(format!(
                        "unknown command \"{v}\": expected fit; see meridian --help"
                    )));
                }
                command = Some(v);
            }
            Value(v) if file.is_none() => file = Some(v),
            _ => return Err(arg.unexpected().into()),
        }
    }
    if command.is_none() {
        // Bare `meridian` (or options without a command) shows how to use it.
        return Ok(Command::Help);
    }
    o.file = file.ok_or_else(|| {
        Failure::Usage("expected a FILE to fit: meridian fit FILE [options]".into())
    })?;
    match (&mut o.permutations, seed) {
        (Some(settings), Some(seed)) => settings.seed = seed,
        (None, Some(_)) => {
            return Err(Failure::Usage(
                "--seed applies to a permutation test: add --permutations N".into(),
            ))
        }
        _ => {}
    }
    if o.spec.columns.yi.is_some() && o.spec.measure.is_some() {
        return Err(Failure::Usage(
            "give either --yi with --vi/--sei or --measure with raw columns, not both".into(),
        ));
    }
    if o.spec.measure.is_none() && !o.spec.columns.raw.is_empty() {
        return Err(Failure::Usage(
            "raw-data columns need --measure to say which effect size to compute".into(),
        ));
    }
    Ok(Command::Fit(Box::new(o)))
}

/// File bytes to text: UTF-8, or else Latin-1 (what older spreadsheet exports write), which
/// maps every byte to a character; binary files are caught by the NUL check of the parser.
fn decode(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes)
        .unwrap_or_else(|e| e.into_bytes().iter().map(|&b| char::from(b)).collect())
}

fn read_input(file: &OsString) -> Result<String, Failure> {
    let shown = file.to_string_lossy();
    let mut bytes = Vec::new();
    let result = if file == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::File::open(file).and_then(|mut f| f.read_to_end(&mut bytes).map(|_| ()))
    };
    result.map_err(|e| Failure::Data(format!("{shown}: cannot read the file: {e}")))?;
    Ok(decode(bytes))
}

/// The exit status an analysis error maps to, with its message.
fn failure(e: AnalysisError, file: &str) -> Failure {
    match e {
        // A formula that does not parse is a malformed option, whatever the data.
        AnalysisError::Formula(
            FormulaError::Syntax { .. }
            | FormulaError::UnsupportedFunction { .. }
            | FormulaError::BarePower { .. }
            | FormulaError::Empty { .. },
        )
        | AnalysisError::PredictionWithoutModerators { .. } => Failure::Usage(e.to_string()),
        // Say which option supplies the missing column.
        AnalysisError::Roles(RolesError::MissingRawColumn { role, .. }) => {
            Failure::Data(format!("{file}: {e} (--{role} COLUMN)"))
        }
        e => Failure::Data(format!("{file}: {e}")),
    }
}

fn run_fit(o: &Options) -> Result<String, Failure> {
    let file = o.file.to_string_lossy().into_owned();
    let text = read_input(&o.file)?;
    let analysis = analyse(&text, &o.spec).map_err(|e| failure(e, &file))?;
    let mut report = analysis.report;
    if let Some(settings) = o.permutations {
        let result = analysis
            .fit
            .permutation_test(settings)
            .and_then(|test| test.run(|_| ControlFlow::Continue(())))
            .map_err(|e| Failure::Data(format!("{file}: {e}")))?
            .expect("the progress callback never cancels");
        report.set_permutation(&result);
    }
    Ok(if o.json {
        results_json(&report)
    } else {
        readable(&report, &file)
    })
}

/// p-values as metafor prints them.
fn pval(p: f64) -> String {
    if p < 1e-4 {
        "<.0001".to_owned()
    } else {
        format!("{p:.4}")
    }
}

/// A p-value in a sentence: `= 0.0324` or `< .0001`.
fn pval_eq(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 1e-4 => "< .0001".to_owned(),
        Some(p) => format!("= {p:.4}"),
        None => "= NA".to_owned(),
    }
}

/// A report like metafor's printout of an `rma` fit.
fn readable(r: &FitReport, file: &str) -> String {
    let mut s = String::new();
    let fixed = Tau2Method::from_metafor_name(&r.method).is_some_and(Tau2Method::is_fixed);
    let kind = match (fixed, r.p > 1 || r.qm.is_some()) {
        (true, false) => "Fixed-Effects Model",
        (true, true) => "Fixed-Effects with Moderators Model",
        (false, false) => "Random-Effects Model",
        (false, true) => "Mixed-Effects Model",
    };
    let _ = writeln!(s, "{kind} (k = {}; tau^2 estimator: {})\n", r.k, r.method);
    if !r.excluded_rows.is_empty() {
        let rows: Vec<String> = r.excluded_rows.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            s,
            "{file}: {} row(s) with missing values excluded (data rows {})\n",
            rows.len(),
            rows.join(", ")
        );
    }
    if !fixed {
        let se = r
            .tau2_se
            .map_or(String::new(), |v| format!(" (SE = {v:.4})"));
        let residual = if r.qm.is_some() { "residual" } else { "total" };
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
        if r.qm.is_some() { "Residual " } else { "" },
        r.qe_df,
        r.qe,
        pval_eq(r.qe_p)
    );
    if let (Some(qm), Some(df)) = (r.qm, r.qm_df) {
        let statistic = match r.qm_df2 {
            Some(df2) => format!("F(df1 = {df}, df2 = {df2})"),
            None => format!("QM(df = {df})"),
        };
        let permuted = r.qm_permutation_p.map_or(String::new(), |p| {
            format!(" (permutation p-val {})", pval_eq(Some(p)))
        });
        let _ = writeln!(
            s,
            "\nTest of Moderators:\n{statistic} = {qm:.4}, p-val {}{permuted}",
            pval_eq(r.qm_p)
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
            pval(c.p_value),
            c.ci_lower,
            c.ci_upper
        );
        let _ = writeln!(
            s,
            "{}",
            c.permutation_p_value
                .map_or(String::new(), |p| format!(" {:>10}", pval(p)))
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

fn main() -> ExitCode {
    // A panic is a bug in Meridian, never the user's data; say so in one sentence instead of a
    // backtrace, and exit as for any other failure.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("meridian: internal error ({info}); please report it with the input file");
        std::process::exit(1);
    }));
    let result = parse_args(std::env::args_os().skip(1)).and_then(|command| match command {
        Command::Help => Ok(HELP.to_owned()),
        Command::Version => Ok(format!("meridian {}\n", env!("CARGO_PKG_VERSION"))),
        Command::Fit(o) => run_fit(&o),
    });
    match result {
        Ok(out) => {
            // A closed pipe (`meridian … | head`) is not an error worth a message.
            let _ = std::io::stdout().write_all(out.as_bytes());
            ExitCode::SUCCESS
        }
        Err(Failure::Usage(m)) => {
            eprintln!("meridian: {m}");
            ExitCode::from(2)
        }
        Err(Failure::Data(m)) => {
            eprintln!("meridian: {m}");
            ExitCode::from(1)
        }
    }
}
