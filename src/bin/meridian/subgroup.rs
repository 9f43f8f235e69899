//! `meridian subgroup FILE [data and model options] --by COL [--tau2-common] [--json]`: the
//! subgroup analysis of Cochrane reviews by a categorical column, with the test for subgroup
//! differences.

use std::ffi::OsString;

use lexopt::prelude::*;

use meridian::analysis::subgroup_analysis::subgroup_analysis;
use meridian::analysis::{analyse, r_script, AnalysisSpec};

use super::fit::failure;
use super::input::read_input;
use super::options::{analysis_option, check_analysis_options, string, Failure, Parsed};
use super::report_models;

/// The parsed command line of `meridian subgroup`.
pub struct SubgroupOptions {
    file: OsString,
    json: bool,
    r_script: bool,
    spec: AnalysisSpec,
    by: String,
    common: bool,
}

/// Parses the arguments after `subgroup`.
pub fn parse(parser: &mut lexopt::Parser) -> Result<Parsed<SubgroupOptions>, Failure> {
    let mut file = None;
    let mut json = false;
    let mut r_script = false;
    let mut common = false;
    let mut spec = AnalysisSpec::default();
    let mut by = None;
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('V') | Long("version") => return Ok(Parsed::Version),
            Long("json") => json = true,
            Long("r-script") => r_script = true,
            Long("tau2-common") => common = true,
            Long(flag) => {
                let flag = format!("--{flag}");
                let value = string(parser.value()?, &flag)?;
                if analysis_option(&flag, value.clone(), &mut spec)? {
                    continue;
                }
                match flag.as_str() {
                    "--by" => by = Some(value),
                    _ => {
                        return Err(Failure::Usage(format!(
                            "unknown option {flag} for subgroup; see meridian --help"
                        )))
                    }
                }
            }
            Value(v) if file.is_none() => file = Some(v),
            _ => return Err(arg.unexpected().into()),
        }
    }
    let file = file
        .ok_or_else(|| Failure::Usage("expected a FILE: meridian subgroup FILE --by COL".into()))?;
    let by =
        by.ok_or_else(|| Failure::Usage("subgroup needs the grouping column: --by COL".into()))?;
    check_analysis_options(&spec)?;
    Ok(Parsed::Run(SubgroupOptions {
        file,
        json,
        r_script,
        spec,
        by,
        common,
    }))
}

/// Runs `meridian subgroup` and returns what it prints.
pub fn run(o: &SubgroupOptions) -> Result<String, Failure> {
    let file = o.file.to_string_lossy().into_owned();
    let text = read_input(&o.file)?;
    let run = analyse(&text, &o.spec).map_err(|e| failure(e, &file))?;
    if o.r_script {
        let script = r_script::r_script(&text, Ok((&run.table, &run.analysis, &o.spec)));
        return Ok(script + &r_script::subgroup_script(&o.by, o.common));
    }
    let result = subgroup_analysis(
        &run.table,
        &run.analysis.data,
        &o.by,
        o.common,
        &o.spec.model,
    )
    .map_err(|e| failure(e, &file))?;
    Ok(if o.json {
        let mut out = serde_json::to_string_pretty(&result)
            .expect("the subgroup analysis has string keys and numbers, which always serialise");
        out.push('\n');
        out
    } else {
        report_models::subgroups(&result)
    })
}
