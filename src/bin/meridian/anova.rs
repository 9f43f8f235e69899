//! `meridian anova FILE [data options] --mods "FULL" --reduced "REDUCED" [--method ML]
//! [--json]`: the likelihood-ratio test of a reduced model against the full one, both fitted
//! to the studies of the full model (`--reduced 1` is the intercept-only model).

use std::ffi::OsString;

use lexopt::prelude::*;

use meridian::analysis::anova::anova;
use meridian::analysis::{analyse, r_script, AnalysisSpec};

use super::fit::failure;
use super::input::read_input;
use super::options::{analysis_option, check_analysis_options, string, Failure, Parsed};
use super::report_models;

/// The parsed command line of `meridian anova`.
pub struct AnovaOptions {
    file: OsString,
    json: bool,
    r_script: bool,
    spec: AnalysisSpec,
    reduced: String,
}

/// Parses the arguments after `anova`.
pub fn parse(parser: &mut lexopt::Parser) -> Result<Parsed<AnovaOptions>, Failure> {
    let mut file = None;
    let mut json = false;
    let mut r_script = false;
    let mut spec = AnalysisSpec::default();
    let mut reduced = None;
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('V') | Long("version") => return Ok(Parsed::Version),
            Long("json") => json = true,
            Long("r-script") => r_script = true,
            Long(flag) => {
                let flag = format!("--{flag}");
                let value = string(parser.value()?, &flag)?;
                if analysis_option(&flag, value.clone(), &mut spec)? {
                    continue;
                }
                match flag.as_str() {
                    "--reduced" => reduced = Some(value),
                    _ => {
                        return Err(Failure::Usage(format!(
                            "unknown option {flag} for anova; see meridian --help"
                        )))
                    }
                }
            }
            Value(v) if file.is_none() => file = Some(v),
            _ => return Err(arg.unexpected().into()),
        }
    }
    let file = file.ok_or_else(|| {
        Failure::Usage("expected a FILE: meridian anova FILE --mods FULL --reduced REDUCED".into())
    })?;
    let reduced = reduced.ok_or_else(|| {
        Failure::Usage(
            "anova compares two models: give the reduced one with --reduced (\"1\" for none)"
                .into(),
        )
    })?;
    check_analysis_options(&spec)?;
    Ok(Parsed::Run(AnovaOptions {
        file,
        json,
        r_script,
        spec,
        reduced,
    }))
}

/// Runs `meridian anova` and returns what it prints.
pub fn run(o: &AnovaOptions) -> Result<String, Failure> {
    let file = o.file.to_string_lossy().into_owned();
    let text = read_input(&o.file)?;
    let run = analyse(&text, &o.spec).map_err(|e| failure(e, &file))?;
    if o.r_script {
        let script = r_script::r_script(&text, Ok((&run.table, &run.analysis, &o.spec)));
        return Ok(script + &r_script::anova_script(&o.reduced));
    }
    let result = anova(
        &run.table,
        &run.analysis.data,
        &run.fitted.fit,
        &o.reduced,
        &o.spec,
    )
    .map_err(|e| failure(e, &file))?;
    Ok(if o.json {
        let mut out = serde_json::to_string_pretty(&result)
            .expect("the comparison has string keys and numbers, which always serialise");
        out.push('\n');
        out
    } else {
        report_models::anova(&result)
    })
}
