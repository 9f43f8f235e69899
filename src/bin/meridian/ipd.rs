//! `meridian ipd FILE --study COL --treat COL --outcome COL --covariate COL [--family F]
//! [--method M] [--level L] [--json | --r-script]`: within- versus across-study effects of
//! individual participant data (two-stage), and `meridian subgroup-interaction FILE --study
//! COL --y1 COL --v1 COL --y2 COL --v2 COL --share COL [--method M] [--level L] [--json |
//! --r-script]`: the same from studies that report two subgroups. `--r-script` prints the R
//! script (`glm` per study and metafor's `rma`) that reproduces the analysis.

use std::ffi::OsString;

use lexopt::prelude::*;

use meridian::analysis::ipd::{
    ipd_analysis, reading, subgroup_interaction, DifferenceRecord, IpdSettings, SlopeRecord, Slopes,
};
use meridian::analysis::ipd_script::{ipd_script, subgroup_script};
use meridian::data::ipd::{IpdColumns, SubgroupColumns};
use meridian::format::{number as fmt_num, p_value as fmt_p};
use meridian::stats::ipd::{Family, TwoStageSpec};
use meridian::stats::Tau2Method;

use super::fit::failure;
use super::input::read_input;
use super::options::{string, Failure, Parsed};

/// Which of the two subcommands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `meridian ipd`.
    Ipd,
    /// `meridian subgroup-interaction`.
    Subgroups,
}

/// The parsed command line of `meridian ipd` or `meridian subgroup-interaction`.
pub struct IpdOptions {
    kind: Kind,
    file: OsString,
    json: bool,
    r_script: bool,
    spec: TwoStageSpec,
    ipd: IpdColumns,
    subgroups: SubgroupColumns,
}

/// The column options each subcommand requires, with where each goes.
fn column<'a>(o: &'a mut IpdOptions, flag: &str) -> Option<&'a mut String> {
    let (c, s) = (&mut o.ipd, &mut o.subgroups);
    match (o.kind, flag) {
        (Kind::Ipd, "--study") => Some(&mut c.study),
        (Kind::Ipd, "--treat") => Some(&mut c.treat),
        (Kind::Ipd, "--outcome") => Some(&mut c.outcome),
        (Kind::Ipd, "--covariate") => Some(&mut c.covariate),
        (Kind::Subgroups, "--study") => Some(&mut s.study),
        (Kind::Subgroups, "--y1") => Some(&mut s.y1),
        (Kind::Subgroups, "--v1") => Some(&mut s.v1),
        (Kind::Subgroups, "--y2") => Some(&mut s.y2),
        (Kind::Subgroups, "--v2") => Some(&mut s.v2),
        (Kind::Subgroups, "--share") => Some(&mut s.share),
        _ => None,
    }
}

fn required(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Ipd => &["--study", "--treat", "--outcome", "--covariate"],
        Kind::Subgroups => &["--study", "--y1", "--v1", "--y2", "--v2", "--share"],
    }
}

fn name(kind: Kind) -> &'static str {
    match kind {
        Kind::Ipd => "ipd",
        Kind::Subgroups => "subgroup-interaction",
    }
}

/// Parses the arguments after `ipd` or `subgroup-interaction`.
pub fn parse(kind: Kind, parser: &mut lexopt::Parser) -> Result<Parsed<IpdOptions>, Failure> {
    let mut o = IpdOptions {
        kind,
        file: OsString::new(),
        json: false,
        r_script: false,
        spec: TwoStageSpec::default(),
        ipd: IpdColumns::default(),
        subgroups: SubgroupColumns::default(),
    };
    let mut file = None;
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Short('V') | Long("version") => return Ok(Parsed::Version),
            Long("json") => o.json = true,
            Long("r-script") => o.r_script = true,
            Long(flag) => {
                let flag = format!("--{flag}");
                let value = string(parser.value()?, &flag)?;
                if let Some(slot) = column(&mut o, &flag) {
                    *slot = value;
                    continue;
                }
                match flag.as_str() {
                    "--family" if kind == Kind::Ipd => o.spec.family = family(&value)?,
                    "--method" => o.spec.method = method(&value)?,
                    "--level" => o.spec.level = level(&value)?,
                    _ => {
                        return Err(Failure::Usage(format!(
                            "unknown option {flag} for {}; see meridian --help",
                            name(kind)
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
            "expected a FILE: meridian {} FILE {}",
            name(kind),
            required(kind)
                .iter()
                .map(|f| format!("{f} COL"))
                .collect::<Vec<_>>()
                .join(" ")
        ))
    })?;
    for flag in required(kind) {
        if column(&mut o, flag).is_some_and(|c| c.is_empty()) {
            return Err(Failure::Usage(format!(
                "{} needs {flag} COL; see meridian --help",
                name(kind)
            )));
        }
    }
    Ok(Parsed::Run(o))
}

fn family(value: &str) -> Result<Family, Failure> {
    match value.to_ascii_lowercase().as_str() {
        "gaussian" => Ok(Family::Gaussian),
        "binomial" => Ok(Family::Binomial),
        _ => Err(Failure::Usage(format!(
            "unknown --family \"{value}\": expected gaussian or binomial"
        ))),
    }
}

fn method(name: &str) -> Result<Tau2Method, Failure> {
    Tau2Method::from_metafor_name(name).ok_or_else(|| {
        Failure::Usage(format!(
            "unknown --method \"{name}\": expected one of FE, EE, DL, HE, HS, SJ, ML, REML, EB, PM"
        ))
    })
}

fn level(text: &str) -> Result<f64, Failure> {
    match text.trim().parse::<f64>() {
        // As metafor and `meridian fit`: 95 and 0.95 both mean a 95 % interval.
        Ok(l) if l > 1.0 && l < 100.0 => Ok(l / 100.0),
        Ok(l) if l > 0.0 && l < 1.0 => Ok(l),
        _ => Err(Failure::Usage(format!(
            "--level expects a confidence level between 0 and 100 such as 95, found \"{text}\""
        ))),
    }
}

/// Runs the subcommand and returns what it prints.
pub fn run(o: &IpdOptions) -> Result<String, Failure> {
    let file = o.file.to_string_lossy().into_owned();
    let text = read_input(&o.file)?;
    let json = |v: serde_json::Result<String>| {
        let mut out = v.expect("the record has string keys and numbers, which always serialise");
        out.push('\n');
        out
    };
    if o.r_script {
        let settings = IpdSettings {
            family: o.spec.family,
            method: o.spec.method,
            level: o.spec.level,
        };
        // The command line refuses a study that cannot be fitted, so none is left out.
        let script = match o.kind {
            Kind::Ipd => {
                ipd_analysis(&text, &o.ipd, &o.spec).map_err(|e| failure(e, &file))?;
                ipd_script(&text, &o.ipd, &settings, &[])
            }
            Kind::Subgroups => subgroup_script(&text, &o.subgroups, &settings),
        };
        return script.map_err(|e| failure(e, &file));
    }
    match o.kind {
        Kind::Ipd => {
            let r = ipd_analysis(&text, &o.ipd, &o.spec).map_err(|e| failure(e, &file))?;
            if o.json {
                return Ok(json(serde_json::to_string_pretty(&r)));
            }
            let mut out = format!(
                "Two-stage IPD analysis ({} studies, {} participants)\n\n{:<12} {:>6} {:>10} {:>10} {:>12} {:>10} {:>10}\n",
                r.studies.len(),
                r.studies.iter().map(|s| s.n).sum::<usize>(),
                "study", "n", "effect", "se", "interaction", "se", "mean x"
            );
            for s in &r.studies {
                out += &format!(
                    "{:<12} {:>6} {:>10} {:>10} {:>12} {:>10} {:>10}\n",
                    s.study,
                    s.n,
                    fmt_num(s.effect),
                    fmt_num(s.effect_se),
                    fmt_num(s.interaction),
                    fmt_num(s.interaction_se),
                    fmt_num(s.covariate_mean)
                );
            }
            let kind = o.spec.family.into();
            Ok(out + &slopes(&r.within, &r.across, &r.difference, o.spec.level, kind))
        }
        Kind::Subgroups => {
            let r = subgroup_interaction(&text, &o.subgroups, o.spec.method, o.spec.level)
                .map_err(|e| failure(e, &file))?;
            if o.json {
                return Ok(json(serde_json::to_string_pretty(&r)));
            }
            let mut out = format!(
                "Within- and across-study subgroup effects ({} studies)\n\n{:<12} {:>11} {:>10} {:>10} {:>10} {:>8}\n",
                r.studies.len(),
                "study", "difference", "se", "effect", "se", "share"
            );
            for s in &r.studies {
                out += &format!(
                    "{:<12} {:>11} {:>10} {:>10} {:>10} {:>8}\n",
                    s.study,
                    fmt_num(s.difference),
                    fmt_num(s.difference_se),
                    fmt_num(s.effect),
                    fmt_num(s.effect_se),
                    fmt_num(s.share)
                );
            }
            let kind = Slopes::Subgroups;
            Ok(out + &slopes(&r.within, &r.across, &r.difference, o.spec.level, kind))
        }
    }
}

/// The two slopes, their difference and what they mean.
fn slopes(
    w: &SlopeRecord,
    a: &SlopeRecord,
    d: &DifferenceRecord,
    level: f64,
    kind: Slopes,
) -> String {
    let row = |label: &str, s: &SlopeRecord| {
        format!(
            "{label:<8} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n",
            fmt_num(s.estimate),
            fmt_num(s.se),
            fmt_num(s.ci_lower),
            fmt_num(s.ci_upper),
            fmt_p(s.p_value),
            fmt_num(s.tau2)
        )
    };
    format!(
        "\n{:<8} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n{}{}difference {} (se {}), p {}\n\n{}\n",
        "", "estimate", "se", "ci.lb", "ci.ub", "pval", "tau2",
        row("within", w),
        row("across", a),
        fmt_num(d.estimate),
        fmt_num(d.se),
        fmt_p(d.p_value),
        reading(w, a, d, level, kind)
    )
}
