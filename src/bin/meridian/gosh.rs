//! `meridian gosh FILE [options] [--subsets N] [--seed S] [--all] [--json]`: the model fitted
//! to subsets of the studies (GOSH, issue 12), all of them when 2ᵏ − 1 ≤ N (exact), else N
//! random ones from seed S; prints the summary (and with `--all` every subset's fit).

use std::ffi::OsString;
use std::fmt::Write as _;

use lexopt::prelude::*;

use meridian::analysis::gosh::{GoshRun, SpreadRecord};
use meridian::analysis::{analyse, AnalysisSpec};
use meridian::format::fixed;
use meridian::stats::GoshSettings;

use super::fit::failure;
use super::input::read_input;
use super::options::{analysis_option, check_analysis_options, count, string, Failure, Parsed};
use super::sensitivity::json;

/// Subsets fitted between checks of the collected fits' size.
const SLICE: usize = 4096;

/// The parsed command line of `meridian gosh`.
pub struct GoshOptions {
    file: OsString,
    json: bool,
    spec: AnalysisSpec,
    settings: GoshSettings,
    all: bool,
}

/// Parses the arguments after `gosh`.
pub fn parse(parser: &mut lexopt::Parser) -> Result<Parsed<GoshOptions>, Failure> {
    let mut file = None;
    let mut o = GoshOptions {
        file: OsString::new(),
        json: false,
        spec: AnalysisSpec::default(),
        settings: GoshSettings::default(),
        all: false,
    };
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('V') | Long("version") => return Ok(Parsed::Version),
            Long("json") => o.json = true,
            Long("all") => o.all = true,
            Long(flag) => {
                let flag = format!("--{flag}");
                let value = string(parser.value()?, &flag)?;
                if analysis_option(&flag, value.clone(), &mut o.spec)? {
                    continue;
                }
                match flag.as_str() {
                    "--subsets" => o.settings.subsets = count(&value, &flag)?,
                    "--seed" => o.settings.seed = count(&value, &flag)? as u64,
                    _ => {
                        return Err(Failure::Usage(format!(
                            "unknown option {flag} for gosh; see meridian --help"
                        )))
                    }
                }
            }
            Value(v) if file.is_none() => file = Some(v),
            _ => return Err(arg.unexpected().into()),
        }
    }
    o.file =
        file.ok_or_else(|| Failure::Usage("expected a FILE: meridian gosh FILE [options]".into()))?;
    check_analysis_options(&o.spec)?;
    Ok(Parsed::Run(o))
}

/// Runs `meridian gosh` and returns what it prints.
pub fn run(o: &GoshOptions) -> Result<String, Failure> {
    let file = o.file.to_string_lossy().into_owned();
    let text = read_input(&o.file)?;
    let run = analyse(&text, &o.spec).map_err(|e| failure(e, &file))?;
    let mut gosh =
        GoshRun::new(&run.fitted, o.settings).map_err(|e| Failure::Data(format!("{file}: {e}")))?;
    let fits = if o.all {
        let mut fits = Vec::new();
        while !gosh.is_finished() {
            fits.extend(gosh.step(SLICE));
        }
        Some(fits)
    } else {
        gosh.finish();
        None
    };
    let record = gosh.record(fits);
    if o.json {
        return Ok(json(&record));
    }
    let mut s = String::new();
    let how = if record.exact { "all" } else { "random" };
    let _ = writeln!(
        s,
        "Model fits in {} subsets ({how} subsets of k = {} studies; {} skipped)\n",
        record.subsets, run.analysis.summary.k, record.skipped
    );
    let _ = writeln!(s, "{:10} {:>10} {:>10} {:>10}", "", "min", "max", "mean");
    let summary = &record.summary;
    for (name, spread) in [
        ("estimate", summary.estimate),
        ("I2", summary.i2),
        ("tau2", summary.tau2),
        ("QE", summary.qe),
    ] {
        let cells = spread.map_or(
            ["NA".to_owned(), "NA".to_owned(), "NA".to_owned()],
            |s: SpreadRecord| [fixed(s.min, 4), fixed(s.max, 4), fixed(s.mean, 4)],
        );
        let _ = writeln!(
            s,
            "{name:10} {:>10} {:>10} {:>10}",
            cells[0], cells[1], cells[2]
        );
    }
    if let Some(fits) = &record.fits {
        let _ = writeln!(
            s,
            "\n{:>6} {:>10} {:>10} {:>10} {:>10} {:>10}  included",
            "k", "estimate", "QE", "I2", "H2", "tau2"
        );
        for f in fits {
            let included: Vec<String> = f.included.iter().map(ToString::to_string).collect();
            let _ = writeln!(
                s,
                "{:>6} {:>10} {:>10} {:>10} {:>10} {:>10}  {}",
                f.k,
                fixed(f.estimate, 4),
                fixed(f.qe, 4),
                fixed(f.i2, 4),
                fixed(f.h2, 4),
                fixed(f.tau2, 4),
                included.join(",")
            );
        }
    }
    Ok(s)
}
