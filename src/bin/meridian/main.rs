//! `meridian`: the command line over the same engine as the web app.
//!
//! `meridian fit FILE [options] [--json]` reads a table, computes or reads effect sizes,
//! builds the design from `--mods` and fits the model, printing a metafor-like report or a
//! JSON object with stable keys; `meridian anova` compares nested models by a likelihood-ratio
//! test and `meridian subgroup` runs Cochrane's subgroup analysis; `meridian ipd` and
//! `meridian subgroup-interaction` separate within- from across-study effects. Exit status: 0 on success, 2 for a usage error, 1 for a data
//! or model error, each with one sentence on stderr.
//!
//! One module per subcommand (`fit.rs`, `anova.rs`, `subgroup.rs`: options and run), the options every subcommand
//! shares in `options.rs`, reading the input in `input.rs`, the metafor-style printout in
//! `report.rs` and `report_models.rs`. A new subcommand is a new module with a `parse` and a `run`, and one arm in
//! [`parse_args`].

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use lexopt::prelude::*;

mod anova;
mod fit;
mod gosh;
mod input;
mod ipd;
mod options;
mod report;
mod report_models;
mod report_multilevel;
mod sensitivity;
mod subgroup;

use options::{Failure, Parsed};

/// mimalloc rather than glibc's malloc: see its entry in Cargo.toml. Native only, as that
/// dependency is: `cargo test --target wasm32-unknown-unknown` builds this binary too.
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const HELP: &str = "\
meridian — meta-analysis and meta-regression (the engine of the Meridian web app)

Usage:
  meridian fit FILE [options] [--json]
  meridian anova FILE [options] --mods FULL --reduced REDUCED [--json]
  meridian subgroup FILE [options] --by COL [--tau2-common] [--json]
  meridian influence | leave1out | baujat | blup | labbe FILE [options] [--json]
  meridian cumul FILE [options] [--order COL] [--json]
  meridian gosh FILE [options] [--subsets N] [--seed S] [--all] [--json]
  meridian ipd FILE --study COL --treat COL --outcome COL --covariate COL
               [--family gaussian|binomial] [--method M] [--level L] [--json | --r-script]
  meridian subgroup-interaction FILE --study COL --y1 COL --v1 COL --y2 COL --v2 COL
               --share COL [--method M] [--level L] [--json | --r-script]
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
  --seed S                 seed of the random permutations or GOSH subsets (default 1)
  --btt TERM               test all coefficients of a formula term, e.g. \"factor(alloc)\"
                           (repeatable; without it every term is tested)
  --contrast W             test a linear combination, one weight per coefficient, e.g.
                           \"0,1,-1\" (repeatable; the joint test of all is reported)
  --scale FORMULA          model log tau^2 too (location-scale model, ML or REML)
  --vcov                   add the coefficients' covariance matrix (key vcov)

Model comparison and subgroups:
  anova: --reduced FORMULA the nested model (\"1\": intercept only); likelihood-ratio test
  subgroup: --by COL       a random-effects model per level and the test for differences
  --tau2-common            one common tau^2 in every subgroup (the mixed model's residual)

Sensitivity (influence: case-deletion diagnostics; leave1out: the model without each study;
baujat: Baujat plot coordinates; blup: BLUPs of the true and random effects; labbe: L'Abbé
plot of 2×2 tables, control- against treatment-group outcomes):
  --order COL              cumul: add studies sorted by COL (ascending, ties in file order)
  --subsets N              gosh: fit N random subsets, or all 2^k - 1 if that is no more
                           (default 1000000)
  --all                    gosh: print every subset's fit, not only the summary

Dependent effects (a multilevel model, metafor's rma.mv; REML or ML):
  --random \"~ 1 | a/b\"      random effects, one term each (repeatable; nested a/b, crossed
                           as two terms, \"~ inner | outer\" with --struct)
  --struct S               CS HCS UN DIAG for an \"~ inner | outer\" term
  --rho R --cluster COL    sampling errors correlated at R within COL (metafor's vcalc)
  --robust COL             cluster-robust tests by COL (also for a model without --random)
  --robust-type T          CR2 (default: Satterthwaite df, HTZ test) or CR1
  On a multilevel model --test knha means metafor's test = \"t\" (k - p df).

Within- versus across-study effects (ecological bias):
  ipd: one row per participant; per study a regression of the outcome on treatment (0/1),
       covariate and their interaction (--family gaussian: least squares, the default;
       binomial: logistic, outcome 0/1); within = the interactions pooled (random effects,
       --method, default REML), across = the slope of the studies' treatment effects on
       their covariate means; their difference and its z test
  subgroup-interaction: one row per study with the effects and variances of two subgroups
       and the share of the first; within = the pooled subgroup differences, across = the
       slope of the studies' overall effects on the share
  --r-script of either: the R script (glm per study, metafor's rma) that reproduces it

Output:
  --json                   one JSON object (keys: k, p, method, test, coefficients, tau2, …)
  --r-script               the metafor script that reproduces the result, instead of it
  -h, --help               this help
  -V, --version            version

Exit status: 0 success, 1 data or model error, 2 usage error.
";

enum Command {
    Help,
    Version,
    Fit(Box<fit::FitOptions>),
    Anova(Box<anova::AnovaOptions>),
    Subgroup(Box<subgroup::SubgroupOptions>),
    Sensitivity(Box<sensitivity::SensitivityOptions>),
    Gosh(Box<gosh::GoshOptions>),
    Ipd(Box<ipd::IpdOptions>),
}

/// The command of a subcommand's parse.
fn command<T>(parsed: Parsed<T>, wrap: impl FnOnce(T) -> Command) -> Command {
    match parsed {
        Parsed::Help => Command::Help,
        Parsed::Version => Command::Version,
        Parsed::Run(o) => wrap(o),
    }
}

/// The subcommand and its options; bare `meridian` shows the help.
fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Command, Failure> {
    let mut parser = lexopt::Parser::from_args(args);
    let Some(arg) = parser.next()? else {
        return Ok(Command::Help);
    };
    match arg {
        Short('h') | Long("help") => Ok(Command::Help),
        Short('V') | Long("version") => Ok(Command::Version),
        Value(v) => {
            let v = options::string(v, "the command")?;
            match v.as_str() {
                "fit" => Ok(command(fit::parse(&mut parser)?, |o| {
                    Command::Fit(Box::new(o))
                })),
                "anova" => Ok(command(anova::parse(&mut parser)?, |o| {
                    Command::Anova(Box::new(o))
                })),
                "subgroup" => Ok(command(subgroup::parse(&mut parser)?, |o| {
                    Command::Subgroup(Box::new(o))
                })),
                "gosh" => Ok(command(gosh::parse(&mut parser)?, |o| {
                    Command::Gosh(Box::new(o))
                })),
                "ipd" => Ok(command(ipd::parse(ipd::Kind::Ipd, &mut parser)?, |o| {
                    Command::Ipd(Box::new(o))
                })),
                "subgroup-interaction" => Ok(command(
                    ipd::parse(ipd::Kind::Subgroups, &mut parser)?,
                    |o| Command::Ipd(Box::new(o)),
                )),
                name => match sensitivity::Kind::from_command(name) {
                    Some(kind) => Ok(command(sensitivity::parse(kind, &mut parser)?, |o| {
                        Command::Sensitivity(Box::new(o))
                    })),
                    None => Err(Failure::Usage(format!(
                        "unknown command \"{v}\": expected fit, anova, subgroup, influence, \
                         leave1out, cumul, baujat, blup, labbe, gosh, ipd or subgroup-interaction; see meridian --help"
                    ))),
                },
            }
        }
        // Options without a command show how to use it, as a bare `meridian` does.
        Long(_) | Short(_) => Ok(Command::Help),
    }
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
        Command::Fit(o) => fit::run(&o),
        Command::Anova(o) => anova::run(&o),
        Command::Subgroup(o) => subgroup::run(&o),
        Command::Sensitivity(o) => sensitivity::run(&o),
        Command::Gosh(o) => gosh::run(&o),
        Command::Ipd(o) => ipd::run(&o),
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
