//! Shared by the engine and command-line tests: the metafor fixtures under
//! `tests/fixtures/stats` (read into designs, methods and tests) and running the `meridian`
//! binary.

#![allow(dead_code)] // Each test file uses a different part of this module.

use std::process::{Command, Output};

use meridian::stats::{fit, Design, Fit, ModelSpec, StatsError, Tau2Method, Test};
use nalgebra::DMatrix;
use serde::Deserialize;

/// Reads and parses `tests/fixtures/stats/{file}`.
pub fn fixture<T: for<'de> Deserialize<'de>>(file: &str) -> T {
    fixture_in("stats", file)
}

/// Reads and parses `tests/fixtures/{group}/{file}`.
pub fn fixture_in<T: for<'de> Deserialize<'de>>(group: &str, file: &str) -> T {
    let path = format!(
        "{}/tests/fixtures/{group}/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The studies and design of a fixture case, as tests/r/make_stats_fixtures.R writes them;
/// include it in a case with `#[serde(flatten)]`.
#[derive(Deserialize)]
pub struct Studies {
    pub yi: Vec<f64>,
    pub vi: Vec<f64>,
    /// Rows of the model matrix.
    pub x: Vec<Vec<f64>>,
    /// Coefficient names.
    pub names: Vec<String>,
    /// Whether column 0 is the intercept.
    pub intercept: bool,
}

impl Studies {
    /// The design (no terms: the fixtures test whole-model quantities and column subsets).
    pub fn design(&self) -> Design {
        Design {
            x: DMatrix::from_fn(self.x.len(), self.names.len(), |i, j| self.x[i][j]),
            names: self.names.clone(),
            intercept: self.intercept,
            terms: Vec::new(),
        }
    }

    /// The model fitted to these studies with `spec`.
    pub fn fit(&self, spec: &ModelSpec) -> Result<Fit, StatsError> {
        fit(&self.yi, &self.vi, &self.design(), spec)
    }
}

/// The τ² estimator a fixture names as metafor does (`"REML"`).
pub fn method(name: &str) -> Tau2Method {
    Tau2Method::from_metafor_name(name)
        .unwrap_or_else(|| panic!("fixture names an unknown method {name:?}"))
}

/// The test a fixture names as metafor does (`"z"`, `"knha"`).
pub fn test(name: &str) -> Test {
    Test::from_metafor_name(name)
        .unwrap_or_else(|| panic!("fixture names an unknown test {name:?}"))
}

/// Runs the `meridian` binary with `args`.
pub fn run_cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meridian"))
        .args(args)
        .output()
        .expect("the meridian binary runs")
}

/// The options that compute log odds ratios from the BCG counts in `tests/data/bcg.csv` and
/// `assets/examples/bcg.csv` (Colditz et al., 1994).
pub const BCG_OR: [&str; 10] = [
    "--measure",
    "OR",
    "--ai",
    "tpos",
    "--bi",
    "tneg",
    "--ci",
    "cpos",
    "--di",
    "cneg",
];
