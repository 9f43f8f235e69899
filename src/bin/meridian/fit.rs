//! `meridian fit FILE [options] [--json]`: the model of the page, fitted once, printed as
//! metafor prints it or as the JSON record of the `fit` contract.

use std::ffi::OsString;
use std::ops::ControlFlow;

use lexopt::prelude::*;

use meridian::analysis::multilevel::{dependence_script, dependent_report, Dependence};
use meridian::analysis::r_script::r_script;
use meridian::analysis::{analyse, AnalysisError, AnalysisSpec};
use meridian::data::clusters::RandomTerm;
use meridian::data::export::results_json;
use meridian::data::formula::FormulaError;
use meridian::data::roles::RolesError;
use meridian::stats::{PermutationSettings, RobustType, Structure};

use super::input::read_input;
use super::options::{
    analysis_option, assignments, check_analysis_options, count, string, weights, Failure, Parsed,
};
use super::report::readable;
use super::report_models::{contrasts, scale, term_tests};
use super::report_multilevel::readable_multilevel;

/// The parsed command line of `meridian fit`.
pub struct FitOptions {
    file: OsString,
    json: bool,
    r_script: bool,
    spec: AnalysisSpec,
    permutations: Option<PermutationSettings>,
    dependence: Dependence,
}

/// Parses the arguments after `fit`.
pub fn parse(parser: &mut lexopt::Parser) -> Result<Parsed<FitOptions>, Failure> {
    let mut file = None;
    let mut o = FitOptions {
        file: OsString::new(),
        json: false,
        r_script: false,
        spec: AnalysisSpec::default(),
        permutations: None,
        dependence: Dependence::default(),
    };
    let mut seed = None;
    let (mut rho, mut rho_cluster) = (None, None);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('V') | Long("version") => return Ok(Parsed::Version),
            Long("json") => o.json = true,
            Long("r-script") => o.r_script = true,
            Long("vcov") => o.spec.vcov = true,
            Long(flag) => {
                let flag = format!("--{flag}");
                let value = string(parser.value()?, &flag)?;
                if analysis_option(&flag, value.clone(), &mut o.spec)? {
                    continue;
                }
                match flag.as_str() {
                    "--predict-at" => o.spec.predict_at = Some(assignments(&value, &flag)?),
                    "--permutations" => {
                        o.permutations = Some(PermutationSettings {
                            iterations: count(&value, &flag)?,
                            ..PermutationSettings::default()
                        });
                    }
                    "--seed" => seed = Some(count(&value, &flag)? as u64),
                    "--random" => o.dependence.random.push(
                        RandomTerm::parse(&value).map_err(|e| Failure::Usage(e.to_string()))?,
                    ),
                    "--struct" => {
                        o.dependence.structure =
                            Some(Structure::from_metafor_name(&value).ok_or_else(|| {
                                Failure::Usage(format!(
                                    "unknown --struct \"{value}\": expected CS, HCS, UN or DIAG"
                                ))
                            })?);
                    }
                    "--rho" => {
                        rho = Some(value.trim().parse::<f64>().map_err(|_| {
                            Failure::Usage(format!(
                                "--rho expects a correlation between -1 and 1, found \"{value}\""
                            ))
                        })?);
                    }
                    "--cluster" => rho_cluster = Some(value),
                    "--robust" => o.dependence.robust = Some(value),
                    "--robust-type" => {
                        o.dependence.robust_type =
                            RobustType::from_name(&value).ok_or_else(|| {
                                Failure::Usage(format!(
                                    "unknown --robust-type \"{value}\": expected CR1 or CR2"
                                ))
                            })?;
                    }
                    "--btt" => o.spec.btt.push(value),
                    "--contrast" => o.spec.contrasts.push(weights(&value, &flag)?),
                    "--scale" => o.spec.scale = Some(value),
                    _ => {
                        return Err(Failure::Usage(format!(
                            "unknown option {flag}; see meridian --help"
                        )))
                    }
                }
            }
            Value(v) if file.is_none() => file = Some(v),
            _ => return Err(arg.unexpected().into()),
        }
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
    o.dependence.rho = match (rho, rho_cluster) {
        (Some(r), Some(c)) => Some((r, c)),
        (None, None) => None,
        _ => {
            return Err(Failure::Usage(
                "--rho and --cluster go together: the correlation of sampling errors within \
                 each cluster"
                    .into(),
            ))
        }
    };
    let structured = o.dependence.random.iter().any(|t| t.inner.is_some());
    if o.dependence.structure.is_some() && !structured {
        return Err(Failure::Usage(
            "--struct applies to an \"~ inner | outer\" term: add --random \"~ outcome | study\""
                .into(),
        ));
    }
    if o.dependence.is_active() && o.permutations.is_some() {
        return Err(Failure::Usage(
            "--permutations applies to a model without --random, --rho or --robust".into(),
        ));
    }
    check_analysis_options(&o.spec)?;
    Ok(Parsed::Run(o))
}

/// The exit status an analysis error maps to, with its message.
pub fn failure(e: AnalysisError, file: &str) -> Failure {
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

/// Runs `meridian fit` and returns what it prints.
pub fn run(o: &FitOptions) -> Result<String, Failure> {
    let file = o.file.to_string_lossy().into_owned();
    let text = read_input(&o.file)?;
    let run = analyse(&text, &o.spec).map_err(|e| failure(e, &file))?;
    if o.r_script {
        let mut script = r_script(&text, Ok((&run.table, &run.analysis, &o.spec)));
        if o.dependence.is_active() {
            script += &dependence_script(&o.dependence, &run.analysis.summary.spec);
        }
        return Ok(script);
    }
    if o.dependence.is_active() {
        let report = dependent_report(&run, &o.dependence).map_err(|e| failure(e, &file))?;
        return Ok(if o.json {
            results_json(&report)
        } else {
            readable_multilevel(&report, &run.analysis.studies().excluded, &file)
        });
    }
    let mut report = run.analysis.fit_report();
    if let Some(settings) = o.permutations {
        let result = run
            .fitted
            .fit
            .permutation_test(settings)
            .and_then(|test| test.run(|_| ControlFlow::Continue(())))
            .map_err(|e| Failure::Data(format!("{file}: {e}")))?
            .expect("the progress callback never cancels");
        report.set_permutation(&result);
    }
    let out = if o.json {
        results_json(&report)
    } else {
        let moderators = run.analysis.summary.has_moderators();
        let mut out = readable(&report, moderators, &run.analysis.studies().excluded, &file);
        out.push_str(&scale(&report));
        // The default test of each term repeats QM for a single term: print asked ones, or
        // those of a formula with several terms.
        if !o.spec.btt.is_empty() || report.term_tests.len() > 1 {
            out.push_str(&term_tests(&report.term_tests));
        }
        out.push_str(&contrasts(&report));
        out
    };
    // The process ends once this is printed: the operating system takes back the run's
    // buffers (the table, every k-length vector) at once, cheaper than freeing them one by one.
    std::mem::forget(run);
    Ok(out)
}
