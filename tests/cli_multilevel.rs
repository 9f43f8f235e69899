//! End-to-end: `meridian fit … --random … --robust … --json` (issue 11) against metafor's
//! `rma.mv` and clubSandwich (fixtures of tests/r/make_multilevel_fixtures.R; the CSV files
//! under tests/data hold the fixtures' data), the new keys beside the unchanged ones, and the
//! usage errors of the new flags.

mod common;

use common::run_cli;
use serde_json::Value;

/// Converged estimates through the whole pipeline.
const REL: f64 = 1e-6;
/// p-values, absolute.
const P_ABS: f64 = 1e-6;

fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("tests/fixtures/multilevel/{name}.json"))
        .expect("a fixture");
    serde_json::from_str(&text).expect("JSON")
}

fn json(args: &[&str]) -> Value {
    let out = run_cli(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(what: &str, got: &Value, want: &Value, tol: f64) {
    let (a, b) = (f(got), f(want));
    assert!(
        (a - b).abs() <= tol * b.abs().max(1.0e-300),
        "{what}: {a} vs {b}"
    );
}

#[test]
fn three_level_fit_with_cr2_prints_the_rma_mv_and_robust_keys() {
    let case = fixture("konstantopoulos_reml");
    let out = json(&[
        "fit",
        "tests/data/konstantopoulos2011.csv",
        "--random",
        "~ 1 | district/study",
        "--robust",
        "district",
        "--json",
    ]);
    let r = &case["result"];
    assert_eq!(out["model"], "rma.mv");
    assert_eq!(out["k"], 56);
    close(
        "estimate",
        &out["coefficients"][0]["estimate"],
        &r["beta"][0],
        REL,
    );
    close("se", &out["coefficients"][0]["se"], &r["se"][0], REL);
    for j in 0..2 {
        let s = &out["sigma2"][j];
        assert_eq!(s["name"], r["sigma2_names"][j]);
        assert_eq!(s["nlvls"], r["sigma2_nlvls"][j]);
        close("sigma2", &s["estimate"], &r["sigma2"][j], REL);
        close("ci_lower", &s["ci_lower"], &r["sigma2_ci"][j][0], 1e-5);
        close("ci_upper", &s["ci_upper"], &r["sigma2_ci"][j][1], 1e-5);
        assert_eq!(out["i2_levels"][j]["name"], r["sigma2_names"][j]);
        close(
            "i2 level",
            &out["i2_levels"][j]["i2"],
            &r["i2"]["levels"][j],
            REL,
        );
    }
    close("i2", &out["i2"], &r["i2"]["total"], REL);
    for key in ["qe", "log_likelihood", "deviance", "aic", "bic", "aicc"] {
        close(key, &out[key], &r[key], REL);
    }
    close(
        "pi_lower",
        &out["prediction"]["pi_lower"],
        &r["prediction"]["pi_lower"],
        REL,
    );
    assert!(out["tau2"].is_null() && out["struct"].is_null() && out["qm"].is_null());
    let rb = &out["robust"];
    let want = &case["robust"]["cr2"];
    assert_eq!(rb["type"], "CR2");
    assert_eq!(rb["cluster"], "district");
    assert_eq!(rb["clusters"], 11);
    let c = &rb["coefficients"][0];
    close("robust se", &c["se"], &want["se"][0], REL);
    close("robust df", &c["df"], &want["df"][0], REL);
    assert!((f(&c["p_value"]) - f(&want["p_value"][0])).abs() <= P_ABS);
}

#[test]
fn multivariate_fit_prints_the_profile_intervals_of_tau2_and_rho() {
    // tests/data/mvsim.csv is the data of the fixture mvsim_cs (40 simulated studies with two
    // or three of outcomes A, B, C); UN's six profiles are checked in stats_multilevel, as
    // they take 40 s in a debug build.
    for (structure, name) in [("CS", "mvsim_cs")] {
        let case = fixture(name);
        let out = json(&[
            "fit",
            "tests/data/mvsim.csv",
            "--mods",
            "outcome - 1",
            "--random",
            "~ outcome | study",
            "--struct",
            structure,
            "--json",
        ]);
        let st = &out["struct"];
        assert_eq!(st["type"], structure);
        for what in ["tau2", "rho"] {
            let want = case["struct_ci"][what].as_array().expect("intervals");
            let got = st[format!("{what}_ci")].as_array().expect("intervals");
            assert_eq!(got.len(), want.len(), "{name}: {what} intervals");
            for (j, (g, w)) in got.iter().zip(want).enumerate() {
                close(
                    &format!("{name} {what}[{j}] estimate"),
                    &st[what][j],
                    &case["result"][what][j],
                    REL,
                );
                close(&format!("{name} {what}[{j}] lower"), &g[0], &w[0], 1e-5);
                close(&format!("{name} {what}[{j}] upper"), &g[1], &w[1], 1e-5);
            }
        }
    }
}

#[test]
fn cr1_on_a_moderator_model_with_t_tests() {
    let case = fixture("konstantopoulos_year_t");
    let out = json(&[
        "fit",
        "tests/data/konstantopoulos2011.csv",
        "--random",
        "~ 1 | district/study",
        "--mods",
        "year",
        "--test",
        "knha",
        "--robust",
        "district",
        "--robust-type",
        "CR1",
        "--json",
    ]);
    let r = &case["result"];
    assert_eq!(out["test"], "t");
    close(
        "slope",
        &out["coefficients"][1]["estimate"],
        &r["beta"][1],
        REL,
    );
    close("QM", &out["qm"], &r["qm"], REL);
    assert_eq!(out["qm_df2"], 54);
    let want = &case["robust"]["cr1"];
    close("CR1 QM", &out["robust"]["qm"], &want["qm"], REL);
    assert_eq!(out["robust"]["qm_df2"], 9.0);
    close(
        "CR1 se",
        &out["robust"]["coefficients"][1]["se"],
        &want["se"][1],
        REL,
    );
}

#[test]
fn a_single_level_fit_keeps_its_keys_and_adds_the_new_ones() {
    let out = json(&["fit", "tests/data/konstantopoulos2011.csv", "--json"]);
    assert_eq!(out["model"], "rma.uni");
    assert!(out["tau2"].is_number() && out["sigma2"].is_null() && out["robust"].is_null());
    assert!(out["deviance"].is_number() && out["aicc"].is_number());
    let robust = json(&[
        "fit",
        "tests/data/konstantopoulos2011.csv",
        "--robust",
        "district",
        "--json",
    ]);
    // The top-level results stay model-based.
    assert_eq!(robust["coefficients"], out["coefficients"]);
    assert_eq!(robust["robust"]["clusters"], 11);
}

#[test]
fn the_readable_report_prints_the_variance_components() {
    let out = run_cli(&[
        "fit",
        "tests/data/konstantopoulos2011.csv",
        "--random",
        "~ 1 | district/study",
        "--robust",
        "district",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Multivariate Meta-Analysis Model (k = 56; method: REML)",
        "sigma^2.1",
        "district/study",
        "Cluster-robust inference (CR2; clusters: district = 11)",
    ] {
        assert!(text.contains(needle), "{needle} in\n{text}");
    }
}

#[test]
fn unusable_flags_are_usage_or_data_errors() {
    let file = "tests/data/konstantopoulos2011.csv";
    for (args, status) in [
        (vec!["--random", "~ 1 district"], 2),
        (vec!["--struct", "UN"], 2),
        (vec!["--rho", "0.6"], 2),
        (vec!["--robust-type", "CR3"], 2),
        (vec!["--random", "~ 1 | nosuch"], 1),
        (vec!["--random", "~ 1 | district", "--method", "DL"], 1),
        (vec!["--random", "~ year | district"], 1),
    ] {
        let mut all = vec!["fit", file];
        all.extend(&args);
        let out = run_cli(&all);
        assert_eq!(out.status.code(), Some(status), "{args:?}");
        let message = String::from_utf8_lossy(&out.stderr);
        assert!(!message.trim().is_empty(), "{args:?}: a message");
    }
}

#[test]
fn the_r_script_adds_the_vcalc_rma_mv_and_robust_calls() {
    let out = run_cli(&[
        "fit",
        "tests/data/konstantopoulos2011.csv",
        "--random",
        "~ 1 | district/study",
        "--rho",
        "0.6",
        "--cluster",
        "district",
        "--robust",
        "district",
        "--r-script",
    ]);
    assert!(out.status.success());
    let script = String::from_utf8_lossy(&out.stdout);
    for line in [
        "V <- vcalc(res$vi, cluster = dat.mv[[\"district\"]], obs = seq_along(res$vi), rho = 0.6)",
        "res.mv <- rma.mv(res$yi, V, mods = res$X, intercept = FALSE, \
         random = list(~ 1 | district/study), method = \"REML\", test = \"z\", level = 95, \
         data = dat.mv)",
        "robust(res.mv, cluster = dat.mv[[\"district\"]], clubSandwich = TRUE)",
    ] {
        assert!(script.contains(line), "{line} in\n{script}");
    }
}

#[test]
fn cluster_mean_centring_splits_a_moderator_into_between_and_within_slopes() {
    // metafor 3.8.1 on dat.konstantopoulos2011 with decade = (year - 1990) / 10, the columns
    // built by ave() (tests/r/make_multilevel_fixtures.R, "centring").
    let case = fixture("konstantopoulos_centring");
    let mods = "between(decade, district) + within(decade, district)";
    let data = "tests/data/konstantopoulos_decade.csv";
    let out = json(&[
        "fit",
        data,
        "--mods",
        mods,
        "--random",
        "~ 1 | district/study",
        "--json",
    ]);
    let r = &case["result"];
    assert_eq!(out["model"], "rma.mv");
    let names: Vec<&str> = out["coefficients"]
        .as_array()
        .expect("coefficients")
        .iter()
        .map(|c| c["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(
        names,
        [
            "intrcpt",
            "between(decade, district)",
            "within(decade, district)"
        ]
    );
    for j in 0..3 {
        let c = &out["coefficients"][j];
        close("estimate", &c["estimate"], &r["beta"][j], REL);
        close("se", &c["se"], &r["se"][j], REL);
        assert!((f(&c["p_value"]) - f(&r["p_value"][j])).abs() < P_ABS);
    }
    for j in 0..2 {
        close(
            "sigma2",
            &out["sigma2"][j]["estimate"],
            &r["sigma2"][j],
            REL,
        );
    }
    // The single-level model of the same split: metafor's rma.
    let uni = json(&["fit", data, "--mods", mods, "--json"]);
    for j in 0..3 {
        let c = &uni["coefficients"][j];
        close("rma estimate", &c["estimate"], &case["uni"]["beta"][j], REL);
        close("rma se", &c["se"], &case["uni"]["se"][j], REL);
    }
    close("rma tau2", &uni["tau2"], &case["uni"]["tau2"], REL);
    // The R script computes the columns as the app does, and names them in the formula.
    let out = run_cli(&["fit", data, "--mods", mods, "--r-script"]);
    let script = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(
        script.contains(
            "dat[[\"within(decade, district)\"]] <- dat[[\"decade\"]] - cluster_mean(dat[[\"decade\"]], dat[[\"district\"]])"
        ),
        "{script}"
    );
    assert!(
        script.contains("mods = ~ `between(decade, district)` + `within(decade, district)`"),
        "{script}"
    );
}
