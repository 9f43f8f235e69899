//! `meridian ipd` and `meridian subgroup-interaction` (issue 15): exactly the keys of the
//! issue's JSON contract and the two added since (`main_effect`, `main_effect_se`), the values
//! of R (tests/r/make_ipd_fixtures.R) to 1e-6, and a study with complete separation reported
//! in one sentence with exit status 1.

mod common;

use common::run_cli;
use serde_json::Value;

const REL: f64 = 1e-6;

fn fixture_path(name: &str) -> String {
    format!("{}/tests/fixtures/ipd/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture_path(name)).unwrap()).unwrap()
}

/// `meridian ipd PATH` with the fixtures' column names (study, treat, y) and `rest`.
fn run_ipd(path: &str, rest: &[&str]) -> std::process::Output {
    let mut args = vec![
        "ipd",
        path,
        "--study",
        "study",
        "--treat",
        "treat",
        "--outcome",
        "y",
    ];
    args.extend_from_slice(rest);
    run_cli(&args)
}

/// The JSON of a run that must succeed.
fn json_of(out: std::process::Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

fn close(what: &str, got: &Value, want: &Value) {
    let (g, w) = (got.as_f64().unwrap(), want.as_f64().unwrap());
    // τ² at the boundary: metafor's REML stops at 7e-14 where the engine reaches 0.
    let tol = if w.abs() < 1e-6 { 1e-9 } else { REL * w.abs() };
    assert!((g - w).abs() <= tol, "{what}: {g} vs R {w}");
}

fn same_numbers(what: &str, got: &Value, want: &Value) {
    for key in keys(got) {
        let g = &got[key];
        if g.is_number() {
            close(&format!("{what}.{key}"), g, &want[key]);
        }
    }
}

fn ipd_json(name: &str, family: &str) -> Value {
    let path = fixture_path(&format!("{name}.csv"));
    json_of(run_ipd(
        &path,
        &["--covariate", "x", "--family", family, "--json"],
    ))
}

#[test]
fn ipd_json_has_exactly_the_keys_of_the_issue_and_rs_values() {
    for (name, family) in [("continuous", "gaussian"), ("binary", "binomial")] {
        let got = ipd_json(name, family);
        let want = fixture(&format!("{name}.json"));
        assert_eq!(keys(&got), ["across", "difference", "studies", "within"]);
        let studies = got["studies"].as_array().unwrap();
        assert_eq!(studies.len(), want["studies"].as_array().unwrap().len());
        for (i, s) in studies.iter().enumerate() {
            assert_eq!(
                keys(s),
                [
                    "covariate_mean",
                    "effect",
                    "effect_se",
                    "interaction",
                    "interaction_se",
                    "main_effect",
                    "main_effect_se",
                    "n",
                    "study"
                ]
            );
            assert_eq!(s["study"], want["studies"][i]["study"]);
            // The issue's keys, then the two added for the across-study input, from R's
            // glm(y ~ treat + x) (the fixture's main_effects).
            let mut with_main = want["studies"][i].clone();
            for key in ["main_effect", "main_effect_se"] {
                with_main[key] = want["main_effects"][i][key].clone();
            }
            same_numbers(&format!("{name} studies[{i}]"), s, &with_main);
        }
        for part in ["within", "across"] {
            assert_eq!(
                keys(&got[part]),
                ["ci_lower", "ci_upper", "estimate", "p_value", "se", "tau2"]
            );
            same_numbers(&format!("{name} {part}"), &got[part], &want[part]);
        }
        assert_eq!(keys(&got["difference"]), ["estimate", "p_value", "se"]);
        same_numbers(
            &format!("{name} difference"),
            &got["difference"],
            &want["difference"],
        );
    }
}

#[test]
fn method_dl_gives_rs_dl_fits() {
    let path = fixture_path("continuous.csv");
    let got = json_of(run_ipd(
        &path,
        &["--covariate", "x", "--method", "DL", "--json"],
    ));
    let want = fixture("continuous.json");
    for part in ["within", "across", "difference"] {
        same_numbers(part, &got[part], &want["dl"][part]);
    }
}

#[test]
fn subgroup_interaction_json_matches_r() {
    let path = fixture_path("subgroups.csv");
    let got = json_of(run_cli(&[
        "subgroup-interaction",
        &path,
        "--study",
        "study",
        "--y1",
        "y1",
        "--v1",
        "v1",
        "--y2",
        "y2",
        "--v2",
        "v2",
        "--share",
        "share",
        "--json",
    ]));
    let want = fixture("subgroups.json");
    assert_eq!(keys(&got), ["across", "difference", "studies", "within"]);
    for (i, s) in got["studies"].as_array().unwrap().iter().enumerate() {
        assert_eq!(
            keys(s),
            [
                "difference",
                "difference_se",
                "effect",
                "effect_se",
                "share",
                "study"
            ]
        );
        same_numbers(&format!("studies[{i}]"), s, &want["studies"][i]);
    }
    for part in ["within", "across", "difference"] {
        same_numbers(part, &got[part], &want[part]);
    }
}

#[test]
fn a_separated_study_fails_with_one_sentence_naming_it() {
    let mut text = String::from("study,treat,y,x\n");
    for s in ["A", "B", "C"] {
        for i in 0..40 {
            text += &format!("{s},{},{},{}\n", i % 2, u8::from((i * 13 % 7) < 3), i % 11);
        }
    }
    for i in 0..30 {
        text += &format!("Sep,{},{},{}\n", i % 2, i % 2, i);
    }
    let dir = std::env::temp_dir().join(format!("meridian-cli-ipd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("separated.csv");
    std::fs::write(&path, text).unwrap();
    let out = run_ipd(
        path.to_str().unwrap(),
        &["--covariate", "x", "--family", "binomial", "--json"],
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("study \"Sep\"") && stderr.contains("separation"),
        "{stderr}"
    );
}

#[test]
fn a_missing_column_option_is_a_usage_error() {
    let path = fixture_path("continuous.csv");
    let out = run_ipd(&path, &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("--covariate"), "{stderr}");
}

#[test]
fn the_r_scripts_fit_glm_per_study_and_rma_as_the_engine_does() {
    // Run by hand with Rscript (metafor 3.8.1): the three fixtures' scripts print the
    // fixtures' differences (continuous −0.595885598129, binary −0.121338214808, subgroups
    // −0.0696276092308) to 1e-7 relative or better.
    let path = fixture_path("binary.csv");
    let out = run_ipd(
        &path,
        &[
            "--covariate",
            "x",
            "--family",
            "binomial",
            "--method",
            "DL",
            "--r-script",
        ],
    );
    let script = String::from_utf8(stdout_of(out)).unwrap();
    for line in [
        "library(metafor)",
        "study <- as.character(dat[[\"study\"]])",
        "full <- coef(summary(glm(y ~ treat * x, family = binomial, data = d,",
        "main <- coef(summary(glm(y ~ treat + x, family = binomial, data = d,",
        "within <- rma(wi, sei = wse, data = per, method = \"DL\", level = 95,",
        "across <- rma(ai, sei = ase, mods = ~ covariate_mean, data = per, method = \"DL\",",
        "difference <- coef(within)[[1]] - coef(across)[[2]]",
    ] {
        assert!(script.contains(line), "{line}\n---\n{script}");
    }
    assert!(!script.contains("keep <-"), "nothing is left out: {script}");
    let sub = run_cli(&[
        "subgroup-interaction",
        &fixture_path("subgroups.csv"),
        "--study",
        "study",
        "--y1",
        "y1",
        "--v1",
        "v1",
        "--y2",
        "y2",
        "--v2",
        "v2",
        "--share",
        "share",
        "--r-script",
    ]);
    let script = String::from_utf8(stdout_of(sub)).unwrap();
    assert!(
        script.contains("ai = (y1 / v1 + y2 / v2) / (1 / v1 + 1 / v2)")
            && script.contains("mods = ~ share"),
        "{script}"
    );
}

/// The standard output of a run that must succeed.
fn stdout_of(out: std::process::Output) -> Vec<u8> {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
