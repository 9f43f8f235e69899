//! Option parsing shared by every subcommand: the failure kinds and their exit statuses, the
//! effect-size and model options (columns, measure, formula, estimator, test, level), and the
//! small value parsers (`NAME=VALUE` lists, counts, levels). A new subcommand takes these with
//! [`analysis_option`] and adds only its own flags.

use std::collections::BTreeMap;
use std::ffi::OsString;

use meridian::analysis::AnalysisSpec;
use meridian::data::effect_size::{RawRole, UnknownMeasure};
use meridian::stats::{Tau2Method, Test};

/// A failure, with the exit status it maps to.
pub enum Failure {
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

/// What the arguments of a subcommand ask for: its run, or (`-h`, `-V` anywhere) the help
/// or the version instead.
pub enum Parsed<T> {
    /// `-h` or `--help`.
    Help,
    /// `-V` or `--version`.
    Version,
    /// The subcommand with its options.
    Run(T),
}

/// An option's value as text.
pub fn string(value: OsString, flag: &str) -> Result<String, Failure> {
    value
        .into_string()
        .map_err(|_| Failure::Usage(format!("the value of {flag} is not valid UTF-8")))
}

/// `a=1,b=x` (or `;`-separated) into a map; the flag's name goes into the message.
pub fn assignments(text: &str, flag: &str) -> Result<BTreeMap<String, String>, Failure> {
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

fn test(value: &str) -> Result<Test, Failure> {
    // "t" is accepted as another name of the Knapp–Hartung t test.
    if value.eq_ignore_ascii_case("t") {
        return Ok(Test::KnappHartung);
    }
    Test::from_metafor_name(value)
        .ok_or_else(|| Failure::Usage(format!("unknown --test \"{value}\": expected z or knha")))
}

/// A whole number of at least 1 for `flag`.
pub fn count(text: &str, flag: &str) -> Result<usize, Failure> {
    match text.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Failure::Usage(format!(
            "{flag} expects a whole number of at least 1, found \"{text}\""
        ))),
    }
}

/// `0,1,-1` (or `;`-separated) into numbers: the weights of one contrast.
pub fn weights(text: &str, flag: &str) -> Result<Vec<f64>, Failure> {
    text.split([',', ';'])
        .map(|part| {
            part.trim().parse::<f64>().map_err(|_| {
                Failure::Usage(format!(
                    "{flag} expects one number per coefficient such as 0,1,-1, found \"{part}\""
                ))
            })
        })
        .collect()
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

/// Applies `flag` (with its `--`) and its `value` to `spec` if it is one of the shared
/// effect-size and model options; `Ok(false)` if it is not one of them.
pub fn analysis_option(
    flag: &str,
    value: String,
    spec: &mut AnalysisSpec,
) -> Result<bool, Failure> {
    let (columns, model) = (&mut spec.columns, &mut spec.model);
    match flag {
        "--yi" => columns.yi = Some(value),
        "--vi" => columns.vi = Some(value),
        "--sei" => columns.sei = Some(value),
        "--slab" => columns.slab = Some(value),
        "--mods" => spec.mods = Some(value),
        "--measure" => {
            spec.measure = Some(
                value
                    .parse()
                    .map_err(|e: UnknownMeasure| Failure::Usage(e.to_string()))?,
            );
        }
        "--method" => model.method = method(&value)?,
        "--test" => model.test = test(&value)?,
        "--level" => model.level = level(&value)?,
        "--reference" => spec.references.extend(assignments(&value, flag)?),
        _ => match flag.strip_prefix("--").and_then(RawRole::from_name) {
            Some(role) => {
                columns.raw.insert(role, value);
            }
            None => return Ok(false),
        },
    }
    Ok(true)
}

/// Checks the combinations of shared options that cannot work together.
pub fn check_analysis_options(spec: &AnalysisSpec) -> Result<(), Failure> {
    if spec.columns.yi.is_some() && spec.measure.is_some() {
        return Err(Failure::Usage(
            "give either --yi with --vi/--sei or --measure with raw columns, not both".into(),
        ));
    }
    if spec.measure.is_none() && !spec.columns.raw.is_empty() {
        return Err(Failure::Usage(
            "raw-data columns need --measure to say which effect size to compute".into(),
        ));
    }
    Ok(())
}
