//! The `meridian` command line: the same engine as the web app, for scripting and
//! reproducible analyses.

use std::process::ExitCode;

const HELP: &str = "\
meridian: meta-analysis and meta-regression

Usage:
  meridian --help       show this help
  meridian --version    show the version
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("--help" | "-h") => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        Some("--version" | "-V") => {
            println!("meridian {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("meridian: unknown argument '{other}'; see 'meridian --help'");
            ExitCode::from(2)
        }
    }
}
