//! Issue 10's randomized differential suite, the Rust side: every fit of
//! `tests/fixtures/random/*.json` (written by `tests/r/make_random_fixtures.R` and
//! `make_issue10_fixtures.R`; shape in `tests/fixtures/README.md`) is run through the command
//! line's pipeline in process — `analysis::analyse` on the case's `csv` with the fit's `args`,
//! then the `fit --json` record as `results_json` prints it — and compared key by key with the
//! reference: metafor 3.8.1 at tight convergence, or the 200-bit (Rmpfr) recomputation where
//! metafor is not to be trusted (`"reference": "mpfr"`, and issue10's `mpfr` records).
//!
//! One test per file, so the files run in parallel; each prints its counts (run with
//! `--nocapture` to see them) and fails if it compared nothing. The last test proves that the
//! in-process record is byte for byte what the `meridian` binary prints for the same `args`.

mod common;

use std::fmt::Write as _;

use meridian::analysis::{analyse, AnalysisSpec, Run};
use meridian::data::effect_size::{Measure, RawRole};
use meridian::data::export::results_json;
use meridian::stats::{Tau2Method, Test};
use serde_json::Value;

/// Converged estimates and everything computed from them: relative agreement.
const REL: f64 = 1e-6;
/// p-values: absolute agreement.
const P_ABS: f64 = 1e-6;
/// A reference that moves by `convergence_check` (relative) when refitted from a second start
/// is trusted to this many times that, where that is looser than [`REL`]: the tolerance is
/// `max(REL, CONVERGENCE_MARGIN · convergence_check)`. In the committed fixtures only one fit
/// (issue10's all-equal REML + Knapp–Hartung, 1.45e-7 at the prediction interval) gets a
/// tolerance above `REL` this way, and only by 1.5×.
const CONVERGENCE_MARGIN: f64 = 10.0;
/// τ² (and its interval) below this times the median sampling variance is 0 in exact
/// arithmetic: the fixtures' convergence checks leave such values out for the same reason.
const TAU2_FLOOR: f64 = 1e-8;
/// I², R² and their intervals (percent) below this are 0 in exact arithmetic.
const PERCENT_FLOOR: f64 = 1e-4;
/// Location quantities (estimates, bounds, predictions) agree to [`REL`] of their standard
/// error plus this times max |yᵢ|, the rounding level of the effects (an estimate that is 0 in
/// exact arithmetic comes out as ~1e-16 in double precision, in metafor as here).
const ROUNDING: f64 = 1e-12;

/// What one file's test saw.
#[derive(Default)]
struct Counts {
    cases: usize,
    fits: usize,
    metafor: usize,
    mpfr: usize,
    refused: usize,
    numbers: usize,
    /// The largest difference relative to the reference, and where.
    worst: (f64, String),
}

/// The fixture file `tests/fixtures/random/{file}`.
fn read(file: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/random/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn text(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, found {v}"))
}

fn array(v: &Value) -> &[Value] {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, found {v}"))
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// The request the command line builds from `args` (the fixture's options after FILE), as
/// `src/bin/meridian/options.rs` reads them; the CLI test below checks the two agree.
fn spec_of(args: &[Value]) -> AnalysisSpec {
    let mut spec = AnalysisSpec::default();
    for pair in args.chunks(2) {
        let [flag, value] = pair else {
            panic!("options come in pairs: {args:?}")
        };
        let (flag, value) = (text(flag), text(value).to_owned());
        let columns = &mut spec.columns;
        match flag {
            "--yi" => columns.yi = Some(value),
            "--vi" => columns.vi = Some(value),
            "--sei" => columns.sei = Some(value),
            "--slab" => columns.slab = Some(value),
            "--mods" => spec.mods = Some(value),
            "--measure" => {
                spec.measure = Some(value.parse::<Measure>().expect("a known measure"));
            }
            "--method" => {
                spec.model.method = Tau2Method::from_metafor_name(&value).expect("a method");
            }
            "--test" => spec.model.test = Test::from_metafor_name(&value).expect("a test"),
            _ => {
                let role = flag
                    .strip_prefix("--")
                    .and_then(RawRole::from_name)
                    .unwrap_or_else(|| panic!("the suite does not know option {flag}"));
                columns.raw.insert(role, value);
            }
        }
    }
    spec
}

/// One fit's comparison: where it is, its tolerance and scales, what went wrong.
struct Check<'a> {
    label: String,
    rel: f64,
    tau2_floor: f64,
    location_floor: f64,
    /// Our `excluded_rows`.
    excluded_rows: Value,
    /// Whether the fit reproduces the effects exactly under Knapp–Hartung (s² = 0).
    exact_knha: bool,
    failures: &'a mut Vec<String>,
    counts: &'a mut Counts,
}

impl Check<'_> {
    /// `ours` against `theirs` (either may be null: both must be) within `abs + rel·|theirs|`.
    fn number(&mut self, path: &str, ours: &Value, theirs: &Value, abs: f64, rel: f64) {
        match (number(ours), number(theirs)) {
            (None, None) if ours.is_null() && theirs.is_null() => {}
            (Some(a), Some(b)) => {
                self.counts.numbers += 1;
                let err = (a - b).abs();
                if b != 0.0 && err / b.abs() > self.counts.worst.0 && err > abs {
                    self.counts.worst = (err / b.abs(), format!("{}{path}", self.label));
                }
                if err > abs + rel * b.abs() {
                    self.failures.push(format!(
                        "{}{path}: ours {a:e}, reference {b:e} (difference {err:e})",
                        self.label
                    ));
                }
            }
            _ => self.failures.push(format!(
                "{}{path}: ours {ours}, reference {theirs}",
                self.label
            )),
        }
    }

    /// Integers, names and lists of rows: equal.
    fn exact(&mut self, path: &str, ours: &Value, theirs: &Value) {
        if ours != theirs {
            self.failures.push(format!(
                "{}{path}: ours {ours}, reference {theirs}",
                self.label
            ));
        }
    }

    /// An interval `[lower, upper]` or null.
    fn interval(&mut self, path: &str, ours: &Value, theirs: &Value, abs: f64) {
        match (ours.as_array(), theirs.as_array()) {
            (Some(a), Some(b)) if a.len() == 2 && b.len() == 2 => {
                for i in 0..2 {
                    self.number(&format!("{path}[{i}]"), &a[i], &b[i], abs, self.rel);
                }
            }
            _ => self.exact(path, ours, theirs),
        }
    }

    /// An estimate with its standard error, statistic, p-value and bounds (a coefficient or
    /// the prediction).
    fn location(&mut self, path: &str, ours: &Value, theirs: &Value) {
        let se = number(&theirs["se"]).unwrap_or(0.0);
        let abs = self.rel * se + self.location_floor;
        let Some(fields) = theirs.as_object() else {
            return self.exact(path, ours, theirs);
        };
        for (key, want) in fields {
            let got = &ours[key];
            let at = format!("{path}.{key}");
            match key.as_str() {
                "name" | "permutation_p_value" => self.exact(&at, got, want),
                "estimate" | "pred" | "ci_lower" | "ci_upper" | "pi_lower" | "pi_upper" => {
                    self.number(&at, got, want, abs, self.rel);
                }
                "se" => self.number(&at, got, want, 0.0, self.rel),
                // In standard errors: the estimate's slack over its standard error.
                "statistic" => self.number(&at, got, want, self.rel, self.rel),
                "p_value" => self.number(&at, got, want, P_ABS, 0.0),
                _ => self.failures.push(format!("{}{at}: no rule", self.label)),
            }
        }
    }

    /// Every key of the reference record `theirs` against the record `ours`.
    fn record(&mut self, ours: &Value, theirs: &Value, extra: &Value) {
        let (rel, tau2) = (self.rel, self.tau2_floor);
        for (key, want) in theirs.as_object().expect("a record") {
            let got = &ours[key];
            let at = format!(".{key}");
            match key.as_str() {
                "k" | "p" | "method" | "test" | "qe_df" | "excluded_rows" => {
                    self.exact(&at, got, want);
                }
                "qm_df" | "qm_df2" | "qm_permutation_p" => self.exact(&at, got, want),
                "coefficients" => {
                    let (a, b) = (array(got), array(want));
                    if a.len() != b.len() {
                        self.exact(&at, got, want);
                        continue;
                    }
                    for (i, (x, y)) in a.iter().zip(b).enumerate() {
                        self.location(&format!("{at}[{i}]"), x, y);
                    }
                }
                "prediction" => {
                    if want.is_null() || got.is_null() {
                        self.exact(&at, got, want);
                    } else {
                        self.location(&at, got, want);
                    }
                }
                "tau2" | "tau2_se" => self.number(&at, got, want, tau2, rel),
                "tau" => self.number(&at, got, want, tau2.sqrt(), rel),
                "i2" | "r2" => self.number(&at, got, want, PERCENT_FLOOR, rel),
                "h2" | "qe" | "qm" | "log_likelihood" | "aic" | "bic" => {
                    self.number(&at, got, want, rel, rel);
                }
                // metafor has no QM (NA) when s² = 0; the engine reports its limit, +∞ (null
                // in JSON) with p-value 0, by the rule of `stats::summary` (issue 10 item 4).
                "qm_p" if self.exact_knha && want.is_null() && !got.is_null() => {
                    self.number(&at, got, &Value::from(0.0), 0.0, 0.0);
                }
                "qe_p" | "qm_p" => self.number(&at, got, want, P_ABS, 0.0),
                "tau2_ci" => self.interval(&at, got, want, tau2),
                "i2_ci" => self.interval(&at, got, want, PERCENT_FLOOR),
                "h2_ci" => self.interval(&at, got, want, rel),
                "extra" => self.extra(extra, want),
                _ => self.failures.push(format!("{}{at}: no rule", self.label)),
            }
        }
    }

    /// The reference's `extra` (deviance, AICc, vcov, weights in percent, the reduced model's
    /// τ²) against the same read from the fit.
    fn extra(&mut self, ours: &Value, theirs: &Value) {
        let rel = self.rel;
        for (key, want) in theirs.as_object().expect("extra is an object") {
            let got = &ours[key];
            let at = format!(".extra.{key}");
            match key.as_str() {
                "deviance" | "aicc" => self.number(&at, got, want, rel, rel),
                "weights" => {
                    // metafor's weights() has NA at a row escalc gave no effect size (its
                    // rows left out as unusable, not those with a missing cell): such a row
                    // must be one left out here, and the rest compare in order.
                    let a = array(got);
                    let nulls: Vec<Value> = (1..=array(want).len())
                        .filter(|&i| want[i - 1].is_null())
                        .map(Value::from)
                        .collect();
                    if !nulls.iter().all(|r| array(&self.excluded_rows).contains(r)) {
                        self.exact(&at, &self.excluded_rows.clone(), &Value::from(nulls));
                        continue;
                    }
                    let b: Vec<Value> = array(want)
                        .iter()
                        .filter(|w| !w.is_null())
                        .cloned()
                        .collect();
                    if a.len() != b.len() {
                        self.exact(&at, got, want);
                        continue;
                    }
                    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
                        self.number(&format!("{at}[{i}]"), x, y, 0.0, rel);
                    }
                }
                "vcov" => {
                    let (a, b) = (array(got), array(want));
                    let diagonal = |i: usize| number(&b[i][i]).unwrap_or(0.0);
                    if a.len() != b.len() {
                        self.exact(&at, got, want);
                        continue;
                    }
                    for i in 0..b.len() {
                        for j in 0..b.len() {
                            // Off the diagonal, relative to the scale of the two variances.
                            let abs = rel * (diagonal(i) * diagonal(j)).sqrt();
                            self.number(&format!("{at}[{i}][{j}]"), &a[i][j], &b[i][j], abs, rel);
                        }
                    }
                }
                "tau2_intercept_only" => self.number(&at, got, want, self.tau2_floor, rel),
                _ => self.failures.push(format!("{}{at}: no rule", self.label)),
            }
        }
    }
}

/// What the fixtures' `extra` holds, read from the fit: deviance, AICc, the coefficients'
/// covariance under the fit's test, weights in percent (metafor's `weights()`) and the
/// intercept-only model's τ² behind R².
fn extra_of(run: &Run) -> Value {
    let fit = &run.fitted.fit;
    let total: f64 = fit.weights.iter().sum();
    let vcov: Vec<Vec<f64>> = (0..fit.p)
        .map(|i| (0..fit.p).map(|j| fit.vcov[(i, j)]).collect())
        .collect();
    let reduced = fit
        .pseudo_r2()
        .expect("the reduced model fitted for the record fits again")
        .filter(|_| !fit.spec.method.is_fixed())
        .map(|r| r.reduced);
    serde_json::json!({
        "deviance": fit.fit_statistics.deviance,
        "aicc": fit.fit_statistics.aicc,
        "vcov": vcov,
        "weights": fit.weights.iter().map(|w| 100.0 * w / total).collect::<Vec<_>>(),
        "tau2_intercept_only": reduced,
    })
}

/// The keys metafor reports as ±Inf (`nonfinite`: JSON has them as null) are infinite with
/// that sign in the fit itself.
fn check_nonfinite(
    label: &str,
    run: &Run,
    nonfinite: &Value,
    skip: &[Value],
    failures: &mut Vec<String>,
) {
    let Some(keys) = nonfinite.as_object() else {
        return;
    };
    for (path, want) in keys {
        if skip.iter().any(|s| s.as_str() == Some(path)) {
            continue;
        }
        let want = match text(want) {
            "Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            other => panic!("{label}: unexpected non-finite value {other}"),
        };
        let got = path
            .strip_prefix("coefficients[")
            .and_then(|rest| rest.strip_suffix("].statistic"))
            .and_then(|i| i.parse::<usize>().ok())
            .map(|i| run.fitted.fit.coefficients[i].statistic)
            .unwrap_or_else(|| panic!("{label}: no rule for the non-finite key {path}"));
        if got != want {
            failures.push(format!("{label}.{path}: ours {got:e}, metafor {want:e}"));
        }
    }
}

fn median(values: &[Value]) -> f64 {
    let mut v: Vec<f64> = values.iter().filter_map(Value::as_f64).collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 1.0,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

/// Runs every fit of `file` and compares it with its reference; panics listing every
/// disagreement.
fn check_file(file: &str) {
    let fixture = read(file);
    let mut counts = Counts::default();
    let mut failures = Vec::new();
    for case in array(&fixture["cases"]) {
        counts.cases += 1;
        let name = text(&case["name"]);
        let csv = text(&case["csv"]);
        let vi = case["vi"].as_array().map(Vec::as_slice).unwrap_or_default();
        let yi = case["yi"].as_array().map(Vec::as_slice).unwrap_or_default();
        let max_y = yi
            .iter()
            .filter_map(Value::as_f64)
            .fold(0.0, |m, y| y.abs().max(m));
        for fitted in array(&case["fits"]) {
            counts.fits += 1;
            let label = format!(
                "{file} {name} {}+{}",
                text(&fitted["method"]),
                text(&fitted["test"])
            );
            let run = analyse(csv, &spec_of(array(&fitted["args"])));
            if let Some(refusal) = fitted["metafor_error"].as_str() {
                counts.refused += 1;
                match run {
                    // Issue 10 item 5: refused as metafor refuses, naming the column.
                    Err(e) if e.to_string().contains("column \"g\" has a single level") => {}
                    Err(e) => failures.push(format!("{label}: metafor: {refusal}; ours: {e}")),
                    Ok(_) => {
                        failures.push(format!("{label}: metafor refuses ({refusal}); ours fits"))
                    }
                }
                continue;
            }
            let run = match run {
                Ok(run) => run,
                Err(e) => {
                    failures.push(format!("{label}: {e}"));
                    continue;
                }
            };
            let ours: Value =
                serde_json::from_str(&results_json(&run.analysis.fit_report())).expect("JSON");
            // issue10's `mpfr` record, where metafor and the recomputation differ, is the
            // better answer; it comes without a second-start check of its own.
            let (reference, check) = match fitted.get("mpfr") {
                Some(m) if !m.is_null() => (m, 0.0),
                _ => (
                    &fitted["expected"],
                    number(&fitted["convergence_check"]).unwrap_or(0.0),
                ),
            };
            match text(&fitted["reference"]) {
                "mpfr" => counts.mpfr += 1,
                _ if fitted.get("mpfr").is_some_and(|m| !m.is_null()) => counts.mpfr += 1,
                _ => counts.metafor += 1,
            }
            // The record as a whole: every key of the contract, and `excluded` (added after
            // the fixtures) listing the same rows as `excluded_rows`.
            let rows: Vec<&Value> = array(&ours["excluded"]).iter().map(|e| &e["row"]).collect();
            if rows != array(&ours["excluded_rows"]).iter().collect::<Vec<_>>()
                || array(&ours["excluded"])
                    .iter()
                    .any(|e| text(&e["reason"]).is_empty())
            {
                failures.push(format!(
                    "{label}: excluded {} vs excluded_rows",
                    ours["excluded"]
                ));
            }
            let mut check = Check {
                label: label.clone(),
                rel: REL.max(CONVERGENCE_MARGIN * check),
                tau2_floor: TAU2_FLOOR * median(vi),
                location_floor: ROUNDING * max_y,
                excluded_rows: ours["excluded_rows"].clone(),
                exact_knha: run.fitted.fit.knha_scale == Some(0.0),
                failures: &mut failures,
                counts: &mut counts,
            };
            check.record(&ours, reference, &extra_of(&run));
            // metafor's ±Inf, where the recomputation (the reference then) does not say
            // the value is missing or NaN instead.
            let mismatch = fitted["mpfr_check_mismatch"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            check_nonfinite(&label, &run, &fitted["nonfinite"], &mismatch, &mut failures);
        }
    }
    let fits_in_file: usize = array(&fixture["cases"])
        .iter()
        .map(|c| array(&c["fits"]).len())
        .sum();
    assert!(
        counts.fits > 0 && counts.fits == fits_in_file,
        "{file}: no fits run"
    );
    assert!(counts.numbers > 0, "{file}: nothing compared");
    println!(
        "{file}: {} cases, {} fits ({} metafor, {} mpfr, {} refused as metafor refuses), {} numbers; largest relative difference {:.1e} at {}",
        counts.cases,
        counts.fits,
        counts.metafor,
        counts.mpfr,
        counts.refused,
        counts.numbers,
        counts.worst.0,
        counts.worst.1
    );
    let mut message = String::new();
    for f in &failures {
        let _ = writeln!(message, "{f}");
    }
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{message}",
        failures.len()
    );
}

#[test]
fn basic_data_agree_with_metafor() {
    check_file("basic.json");
}

#[test]
fn sampling_variances_from_1e_minus_6_to_1e3_agree_with_metafor() {
    check_file("scales.json");
}

#[test]
fn offsets_up_to_1e4_agree_with_the_200_bit_recomputation() {
    check_file("offsets.json");
}

#[test]
fn near_collinear_columns_agree_with_the_200_bit_recomputation() {
    check_file("collinear.json");
}

#[test]
fn factors_with_single_study_levels_agree_with_metafor() {
    check_file("factors.json");
}

#[test]
fn interactions_powers_and_no_intercept_models_agree_with_metafor() {
    check_file("terms.json");
}

#[test]
fn missing_cells_are_left_out_as_metafor_leaves_them_out() {
    check_file("missing.json");
}

#[test]
fn counts_with_zero_cells_agree_with_metafor() {
    check_file("counts.json");
}

#[test]
fn correlations_near_one_agree_with_metafor() {
    check_file("correlations.json");
}

#[test]
fn issue_10_items_and_unusable_rows_agree_with_metafor() {
    check_file("issue10.json");
}

/// The first fit of every file through the `meridian` binary prints exactly the record the
/// suite compares, so the in-process path is the command line's.
#[test]
fn the_command_line_prints_the_record_the_suite_compares() {
    let dir = std::env::temp_dir().join(format!("meridian-random-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    for file in [
        "basic.json",
        "scales.json",
        "offsets.json",
        "collinear.json",
        "factors.json",
        "terms.json",
        "missing.json",
        "counts.json",
        "correlations.json",
        "issue10.json",
    ] {
        let fixture = read(file);
        let case = &fixture["cases"][0];
        let fitted = &case["fits"][0];
        let path = dir.join(format!("{}.csv", text(&case["name"])));
        std::fs::write(&path, text(&case["csv"])).expect("writes the data");
        let path = path.to_str().expect("a UTF-8 path").to_owned();
        let args: Vec<&str> = array(&fitted["args"]).iter().map(text).collect();
        let out = common::run_cli(&[&["fit", path.as_str(), "--json"][..], &args].concat());
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let run = analyse(text(&case["csv"]), &spec_of(array(&fitted["args"]))).expect("fits");
        assert_eq!(
            String::from_utf8(out.stdout).expect("UTF-8"),
            results_json(&run.analysis.fit_report()),
            "{file}"
        );
    }
}
