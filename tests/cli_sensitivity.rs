//! End-to-end: `meridian influence|leave1out|cumul|baujat|blup|labbe|gosh … --json` on the BCG trials
//! (tests/data/bcg.csv, log risk ratios) against metafor 3.8.1 (tests/fixtures/sensitivity,
//! from tests/r/make_sensitivity_fixtures.R): every key the fixture has, with the value
//! metafor gives; and the readable tables.

mod common;

use common::{fixture_in, run_cli};
use serde_json::Value;

/// Values from refits (REML without each study): the convergence of both sides.
const REL_TOL: f64 = 1e-5;
/// For quantities that are 0 in exact arithmetic (τ² on the boundary).
const ABS_TOL: f64 = 1e-6;

const RR: [&str; 10] = [
    "--measure",
    "RR",
    "--ai",
    "tpos",
    "--bi",
    "tneg",
    "--ci",
    "cpos",
    "--di",
    "cneg",
];

fn bcg() -> String {
    format!("{}/tests/data/bcg.csv", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `meridian` and parses its JSON.
fn json(args: &[&str]) -> Value {
    let out = run_cli(args);
    assert!(
        out.status.success(),
        "meridian {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints JSON")
}

/// Compares every key of metafor's `theirs` with `ours`.
fn compare(path: &str, ours: &Value, theirs: &Value, failures: &mut Vec<String>) -> usize {
    match (ours, theirs) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            if (a - b).abs() > ABS_TOL.max(REL_TOL * b.abs()) {
                failures.push(format!("{path}: ours {a}, metafor {b}"));
            }
            1
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .map(|(i, (x, y))| compare(&format!("{path}[{i}]"), x, y, failures))
            .sum(),
        (Value::Object(a), Value::Object(b)) => b
            .iter()
            .map(|(key, y)| match a.get(key) {
                Some(x) => compare(&format!("{path}.{key}"), x, y, failures),
                None => {
                    failures.push(format!("{path}.{key}: missing"));
                    0
                }
            })
            .sum(),
        (a, b) if a == b => 1,
        (a, b) => {
            failures.push(format!("{path}: ours {a}, metafor {b}"));
            0
        }
    }
}

fn assert_matches(what: &str, ours: &Value, theirs: &Value, at_least: usize) {
    let mut failures = Vec::new();
    let compared = compare(what, ours, theirs, &mut failures);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        compared >= at_least,
        "{what}: only {compared} values compared"
    );
}

/// The fixture's rows of `section` without the keys that are labels (`slab`: the CLI labels
/// studies by the author column, the fixture by author and year).
fn rows(case: &Value, section: &str) -> Value {
    let mut rows = case[section].clone();
    for row in rows.as_array_mut().unwrap() {
        row.as_object_mut().unwrap().remove("slab");
    }
    rows
}

fn case(name: &str) -> Value {
    fixture_in("sensitivity", &format!("{name}.json"))
}

#[test]
fn influence_json_matches_metafor() {
    for (name, args) in [
        (
            "bcg_ablat_reml_knha",
            ["--mods", "ablat", "--method", "REML", "--test", "knha"],
        ),
        (
            "bcg_alloc_dl_z",
            ["--mods", "factor(alloc)", "--method", "DL", "--test", "z"],
        ),
    ] {
        let file = bcg();
        let mut all = vec!["influence", file.as_str()];
        all.extend(RR);
        all.extend(args);
        all.push("--json");
        let ours = json(&all);
        assert_matches(
            name,
            &ours["studies"],
            &rows(&case(name), "influence"),
            13 * 10,
        );
        assert_eq!(ours["studies"][0]["slab"], "Aronson");
    }
}

#[test]
fn leave1out_json_matches_metafor_with_and_without_moderators() {
    for (name, args) in [
        ("bcg_dl_knha", vec!["--method", "DL", "--test", "knha"]),
        ("bcg_ablat_reml_z", vec!["--mods", "ablat"]),
    ] {
        let file = bcg();
        let mut all = vec!["leave1out", file.as_str()];
        all.extend(RR);
        all.extend(args);
        all.push("--json");
        let ours = json(&all);
        assert_matches(
            name,
            &ours["studies"],
            &rows(&case(name), "leave1out"),
            13 * 6,
        );
    }
}

#[test]
fn cumul_json_by_year_matches_metafor() {
    let file = bcg();
    let mut all = vec!["cumul", file.as_str()];
    all.extend(RR);
    all.extend(["--order", "year", "--test", "knha", "--json"]);
    let ours = json(&all);
    assert_matches(
        "cumul",
        &ours["steps"],
        &rows(&case("bcg_reml_knha"), "cumul"),
        13 * 12,
    );
    // Sorted by year, ties (1973: rows 5 and 7) in file order.
    let slabs: Vec<&str> = ours["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slab"].as_str().unwrap())
        .collect();
    assert_eq!(
        slabs[..3],
        ["Aronson", "Ferguson & Simes", "Stein & Aronson"]
    );
    assert_eq!(slabs[7..9], ["Frimodt-Moller et al", "Vandiviere et al"]);
}

#[test]
fn cumul_with_moderators_is_a_data_error_with_a_sentence() {
    let file = bcg();
    let mut all = vec!["cumul", file.as_str()];
    all.extend(RR);
    all.extend(["--mods", "ablat"]);
    let out = run_cli(&all);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("without moderators"), "{err}");
}

#[test]
fn baujat_and_blup_json_match_metafor() {
    let file = bcg();
    let name = "bcg_ablat_reml_knha";
    for (command, section, key) in [
        ("baujat", "baujat", "studies"),
        ("blup", "blup", "studies"),
        ("blup", "ranef", "ranef"),
    ] {
        let mut all = vec![command, file.as_str()];
        all.extend(RR);
        all.extend(["--mods", "ablat", "--test", "knha", "--json"]);
        let ours = json(&all);
        assert_matches(section, &ours[key], &rows(&case(name), section), 13 * 2);
    }
}

#[test]
fn labbe_json_has_metafors_group_outcomes_and_needs_2x2_tables_without_moderators() {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/sensitivity/diagnostic_plots.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let fx: Value = serde_json::from_str(&text).unwrap();
    let file = bcg();
    for (name, measure, method) in [
        ("bcg_rr_reml", "RR", "REML"),
        ("bcg_rr_dl", "RR", "DL"),
        ("bcg_or_reml", "OR", "REML"),
    ] {
        let case = fx["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap();
        let mut all = vec!["labbe", file.as_str()];
        all.extend(RR);
        all[3] = measure;
        all.extend(["--method", method, "--json"]);
        let ours = json(&all);
        let studies = ours["studies"].as_array().unwrap();
        assert_eq!(studies.len(), 13);
        assert_eq!(studies[0]["slab"], "Aronson");
        for (i, s) in studies.iter().enumerate() {
            for key in ["x", "y"] {
                let theirs = case["labbe"][key][i].as_f64().unwrap();
                assert!(
                    (s[key].as_f64().unwrap() - theirs).abs() < 1e-12,
                    "{name} {key} {i}"
                );
            }
            let size = s["size"].as_f64().unwrap();
            assert!((0.5..=3.5).contains(&size), "{name} size {i}");
        }
        let estimate = ours["estimate"].as_f64().unwrap();
        let theirs = case["estimate"].as_f64().unwrap();
        assert!(
            (estimate - theirs).abs() <= REL_TOL * theirs.abs(),
            "{name}"
        );
    }
    // With a moderator, or without 2×2 tables, there is no L'Abbé plot: a data error, said.
    let mut all = vec!["labbe", file.as_str()];
    all.extend(RR);
    all.extend(["--mods", "ablat", "--json"]);
    let out = run_cli(&all);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("without moderators"));
    let given = format!(
        "{}/tests/fixtures/sensitivity/bcg10.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = run_cli(&["labbe", &given, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("needs 2×2 tables"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn gosh_all_json_matches_metafor_in_every_subset() {
    let file = format!(
        "{}/tests/fixtures/sensitivity/bcg10.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let ours = json(&["gosh", &file, "--method", "DL", "--all", "--json"]);
    let theirs: Value = fixture_in("sensitivity", "gosh_bcg10_dl.json");
    assert_eq!(ours["subsets"], 1023);
    assert_eq!(ours["exact"], true);
    // The CLI counts studies from 1, the fixture from 0; match subsets by their studies.
    let mut reference = std::collections::HashMap::new();
    for f in theirs["fits"].as_array().unwrap() {
        let included: Vec<u64> = f["included"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_u64().unwrap() + 1)
            .collect();
        let mut f = f.clone();
        f.as_object_mut().unwrap().remove("included");
        reference.insert(included, f);
    }
    let mut failures = Vec::new();
    let mut compared = 0;
    for f in ours["fits"].as_array().unwrap() {
        let included: Vec<u64> = f["included"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_u64().unwrap())
            .collect();
        let theirs = &reference[&included];
        compared += compare(&format!("{included:?}"), f, theirs, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(compared, 1023 * 6);
    let estimates: Vec<f64> = ours["fits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["estimate"].as_f64().unwrap())
        .collect();
    let min = estimates.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(ours["summary"]["estimate"]["min"].as_f64(), Some(min));
}

#[test]
fn gosh_summary_without_all_and_random_subsets_with_a_seed() {
    let file = bcg();
    let mut all = vec!["gosh", file.as_str()];
    all.extend(RR);
    all.extend(["--subsets", "300", "--seed", "3", "--json"]);
    let ours = json(&all);
    assert_eq!(ours["exact"], false);
    assert_eq!(ours["subsets"], 300);
    assert!(ours["fits"].is_null());
    assert_eq!(json(&all), ours, "the same seed gives the same subsets");
    for key in ["estimate", "i2", "tau2", "qe"] {
        let s = &ours["summary"][key];
        let (min, mean, max) = (
            s["min"].as_f64().unwrap(),
            s["mean"].as_f64().unwrap(),
            s["max"].as_f64().unwrap(),
        );
        assert!(min <= mean && mean <= max, "{key}: {s}");
    }
}

#[test]
fn readable_tables_have_metafor_columns_and_a_row_per_study() {
    let file = bcg();
    for (command, header) in [
        ("influence", "rstudent"),
        ("leave1out", "estimate"),
        ("cumul", "estimate"),
        ("baujat", "x"),
        ("blup", "pi.lb"),
        ("labbe", "size"),
        ("gosh", "mean"),
    ] {
        let mut all = vec![command, file.as_str()];
        all.extend(RR);
        if command == "gosh" {
            all.extend(["--subsets", "50"]);
        }
        let out = run_cli(&all);
        assert!(out.status.success(), "{command}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.lines().take(3).any(|l| l.contains(header)),
            "{command}:\n{text}"
        );
        if command != "gosh" {
            assert!(
                text.lines().filter(|l| l.starts_with("Aronson")).count() >= 1,
                "{text}"
            );
        }
    }
}

#[test]
fn the_influence_table_exports_as_csv_with_metafor_columns() {
    use meridian::analysis::sensitivity::{influence_csv, sensitivity};
    use meridian::analysis::{analyse, AnalysisSpec};
    let text = std::fs::read_to_string(bcg()).unwrap();
    let mut spec = AnalysisSpec {
        mods: Some("ablat".into()),
        measure: Some("RR".parse().unwrap()),
        ..AnalysisSpec::default()
    };
    for (role, column) in [
        ("ai", "tpos"),
        ("bi", "tneg"),
        ("ci", "cpos"),
        ("di", "cneg"),
    ] {
        let role = meridian::data::effect_size::RawRole::from_name(role).unwrap();
        spec.columns.raw.insert(role, column.into());
    }
    let run = analyse(&text, &spec).unwrap();
    let s = sensitivity(&run.table, &run.fitted, &run.analysis.data).unwrap();
    let csv = influence_csv(s.influence.get().unwrap());
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "slab,rstudent,dffits,cook.d,cov.r,tau2.del,QE.del,hat,weight,dfbs.intrcpt,dfbs.ablat,inf"
    );
    assert_eq!(lines.len(), 14);
    // Full precision: Cook's distance of the first trial reads back as metafor's.
    let theirs = case("bcg_ablat_reml_z")["influence"][0]["cook_d"]
        .as_f64()
        .unwrap();
    let ours: f64 = lines[1].split(',').nth(3).unwrap().parse().unwrap();
    assert!((ours - theirs).abs() <= REL_TOL * theirs);
    assert_eq!(s.leave1out.get().map(|l| l.studies.len()), Some(13));
    assert_eq!(s.baujat.studies.len(), 13);
}
