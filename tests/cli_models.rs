//! Issue 13 end to end: `meridian anova`, `meridian subgroup` and `meridian fit` with `--btt`,
//! `--contrast`, `--scale` and `--vcov`, and the QM of intercept-only models, against metafor
//! 3.8.1 (fixtures from `tests/r/make_models_fixtures.R`, each case with its CSV and the
//! complete command line).

mod common;

use common::run_cli;
use serde_json::Value;

/// Agreement with metafor, whose fits here converged to 1e-10 or better.
const REL: f64 = 1e-8;
/// Location-scale models: metafor's nlminb stops α about 3e-7 (relative) from the optimum
/// (the fixtures' convergence_check), and the SEs from its numerical Hessian are as close.
const LS_REL: f64 = 5e-6;
/// Absolute floor for quantities near 0 (p-values far in the tail).
const ABS: f64 = 1e-10;

/// Compares `ours` with metafor's `theirs`, recursing into arrays and objects; every key of
/// `theirs` must be in `ours` (null where metafor has no value).
fn compare(path: &str, ours: &Value, theirs: &Value, rel: f64, failures: &mut Vec<String>) {
    match (ours, theirs) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            if (a - b).abs() > ABS.max(rel * b.abs()) {
                failures.push(format!("{path}: ours {a}, metafor {b}"));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                compare(&format!("{path}[{i}]"), x, y, rel, failures);
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            for (key, y) in b {
                match a.get(key) {
                    Some(x) => compare(&format!("{path}.{key}"), x, y, rel, failures),
                    None => failures.push(format!("{path}.{key}: missing")),
                }
            }
        }
        _ if ours == theirs => {}
        _ => failures.push(format!("{path}: ours {ours}, metafor {theirs}")),
    }
}

/// The cases of `tests/fixtures/models/{file}`.
fn cases(file: &str) -> Vec<Value> {
    let path = format!(
        "{}/tests/fixtures/models/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let fixture: Value = serde_json::from_str(&text).unwrap();
    fixture["cases"].as_array().unwrap().clone()
}

/// Writes a case's CSV to a file of its own (in a directory named by `tag`) and returns the
/// file's path and the case's data options (`data_args`).
fn case_input(case: &Value, tag: &str) -> (String, Vec<String>) {
    let name = case["name"]
        .as_str()
        .unwrap()
        .replace(|c: char| !c.is_alphanumeric(), "_");
    let dir = std::env::temp_dir().join(format!("{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.csv"));
    std::fs::write(&file, case["csv"].as_str().unwrap()).unwrap();
    let data = case["data_args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    (file.to_string_lossy().into_owned(), data)
}

/// Runs `meridian COMMAND` on a case's CSV with its arguments and `extra`, returning the JSON.
fn run_case(command: &str, case: &Value, extra: &[&str]) -> Value {
    let name = case["name"].as_str().unwrap();
    let (file, _) = case_input(case, "meridian-models");
    let mut args = vec![command, file.as_str(), "--json"];
    args.extend(
        case["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap()),
    );
    args.extend_from_slice(extra);
    let out = run_cli(&args);
    assert!(
        out.status.success(),
        "{name}: exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The object of `value`'s `keys` only.
fn only(value: &Value, keys: &[&str]) -> Value {
    Value::Object(
        keys.iter()
            .map(|k| ((*k).to_owned(), value[*k].clone()))
            .collect(),
    )
}

#[test]
fn anova_matches_metafor_lrt_between_nested_ml_fits() {
    let mut failures = Vec::new();
    for case in cases("anova.json") {
        let ours = run_case("anova", &case, &[]);
        let name = case["name"].as_str().unwrap();
        compare(name, &ours, &case["expected"], REL, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn term_tests_and_vcov_match_metafor_btt() {
    let mut failures = Vec::new();
    for case in cases("term_tests.json") {
        let name = case["name"].as_str().unwrap();
        // Without --btt every term is tested; with it, the terms asked for, in that order.
        let ours = run_case("fit", &case, &["--vcov"]);
        let keys = ["term_tests", "vcov", "qm", "qm_p"];
        compare(
            name,
            &only(&ours, &keys),
            &only(&case["expected"], &keys),
            REL,
            &mut failures,
        );
        let terms: Vec<&str> = case["expected"]["term_tests"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .map(|t| t["term"].as_str().unwrap())
            .collect();
        let mut extra = Vec::new();
        for t in &terms {
            extra.extend(["--btt", *t]);
        }
        let asked = run_case("fit", &case, &extra);
        let reversed: Vec<Value> = case["expected"]["term_tests"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .cloned()
            .collect();
        compare(
            &format!("{name} --btt"),
            &asked["term_tests"],
            &Value::Array(reversed),
            REL,
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn contrasts_match_metafor_anova_with_x() {
    let mut failures = Vec::new();
    for case in cases("contrasts.json") {
        let ours = run_case("fit", &case, &[]);
        let name = case["name"].as_str().unwrap();
        compare(
            name,
            &ours["contrasts"],
            &case["expected"],
            REL,
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn location_scale_fits_match_metafor_rma_ls() {
    let mut failures = Vec::new();
    let keys = [
        "model",
        "k",
        "p",
        "method",
        "test",
        "coefficients",
        "qm",
        "qm_df",
        "qm_p",
        "qe",
        "qe_df",
        "qe_p",
        "alpha",
        "qs",
        "qs_df",
        "qs_p",
        "tau2_i",
        "vcov",
        "log_likelihood",
        "aic",
        "bic",
    ];
    for case in cases("location_scale.json") {
        let ours = run_case("fit", &case, &["--vcov"]);
        let name = case["name"].as_str().unwrap();
        let expected = only(&case["expected"], &keys);
        compare(name, &only(&ours, &keys), &expected, LS_REL, &mut failures);
        assert!(
            ours["tau2"].is_null(),
            "{name}: a τ² per study, no single τ²"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn subgroups_match_metafor_fits_per_subgroup() {
    let mut failures = Vec::new();
    for case in cases("subgroups.json") {
        let ours = run_case("subgroup", &case, &[]);
        let name = case["name"].as_str().unwrap();
        let e = &case["expected"];
        let keys = ["groups", "q_between", "q_between_df", "q_between_p"];
        compare(
            name,
            &only(&ours, &keys),
            &only(e, &keys),
            REL,
            &mut failures,
        );
        let mapped = serde_json::json!({
            "tau2": e["tau2_common"], "qm": e["mixed_qm"], "qm_df": e["mixed_qm_df"],
            "qm_p": e["mixed_qm_p"],
        });
        compare(name, &ours, &mapped, REL, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn intercept_only_qm_is_the_test_of_the_intercept() {
    let mut failures = Vec::new();
    for case in cases("intercept_qm.json") {
        let ours = run_case("fit", &case, &[]);
        let name = case["name"].as_str().unwrap();
        let keys = ["qm", "qm_df", "qm_df2", "qm_p"];
        compare(
            name,
            &only(&ours, &keys),
            &only(&case["expected"], &keys),
            REL,
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn anova_refuses_models_that_are_not_nested_or_reml_fits_with_other_moderators() {
    let case = &cases("anova.json")[0];
    let (file, data) = case_input(case, "meridian-models-err");
    let data: Vec<&str> = data.iter().map(String::as_str).collect();
    let run = |extra: &[&str]| {
        let args = [&["anova", file.as_str()][..], &data, extra].concat();
        let out = run_cli(&args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["--mods", "ablat", "--reduced", "year", "--method", "ML"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("not nested") && err.contains("`year`"),
        "{err}"
    );
    let (code, err) = run(&["--mods", "ablat + year", "--reduced", "ablat"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("REML fits with different moderators"), "{err}");
    let (code, err) = run(&[
        "--mods",
        "ablat",
        "--reduced",
        "ablat + year",
        "--method",
        "ML",
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("not nested"), "{err}");
    let (code, err) = run(&["--mods", "ablat"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--reduced"), "{err}");
}

#[test]
fn readable_reports_print_term_tests_contrasts_scale_anova_and_subgroups() {
    let case = &cases("contrasts.json")[0];
    let (file, data) = case_input(case, "meridian-models-txt");
    let data: Vec<&str> = data.iter().map(String::as_str).collect();
    let text = |extra: &[&str]| {
        let out = run_cli(&[&[extra[0], file.as_str()][..], &data, &extra[1..]].concat());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let fit = text(&[
        "fit",
        "--mods",
        "ablat + factor(alloc)",
        "--contrast",
        "0,0,1,-1",
    ]);
    assert!(fit.contains("Tests of Terms:"), "{fit}");
    assert!(fit.contains("factor(alloc)  QM(df = 2)"), "{fit}");
    assert!(
        fit.contains("1: factor(alloc)random - factor(alloc)systematic = 0"),
        "{fit}"
    );
    assert!(
        fit.contains("Omnibus Test of Hypotheses:\nQM(df = 1)"),
        "{fit}"
    );
    let pooled = text(&["fit"]);
    assert!(!pooled.contains("Test of Moderators"), "{pooled}");
    let anova = text(&[
        "anova",
        "--mods",
        "ablat",
        "--reduced",
        "1",
        "--method",
        "ML",
    ]);
    assert!(
        anova.contains("Full") && anova.contains("Reduced"),
        "{anova}"
    );
    let groups = text(&["subgroup", "--by", "alloc"]);
    assert!(
        groups.contains("Test for subgroup differences: Q_between(df = 2)"),
        "{groups}"
    );
}

#[test]
fn r_scripts_reproduce_term_tests_contrasts_scale_anova_and_subgroups() {
    let case = &cases("anova.json")[0];
    let (file, data) = case_input(case, "meridian-models-r");
    let data: Vec<&str> = data.iter().map(String::as_str).collect();
    let script = |extra: &[&str]| {
        let args = [
            &[extra[0], file.as_str()][..],
            &data,
            &extra[1..],
            &["--r-script"],
        ]
        .concat();
        let out = run_cli(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let fit = script(&[
        "fit",
        "--mods",
        "ablat + factor(alloc)",
        "--btt",
        "factor(alloc)",
        "--contrast",
        "0,0,1,-1",
        "--scale",
        "ablat",
        "--method",
        "ML",
    ]);
    assert!(
        fit.contains("mods = ~ ablat + factor(alloc), scale = ~ ablat"),
        "{fit}"
    );
    assert!(
        fit.contains("anova(res, btt = c(3, 4))  # factor(alloc)"),
        "{fit}"
    );
    assert!(
        fit.contains("anova(res, X = rbind(c(0, 0, 1, -1)))"),
        "{fit}"
    );
    assert!(!fit.contains("forest("), "{fit}");
    let anova = script(&[
        "anova",
        "--mods",
        "ablat",
        "--reduced",
        "1",
        "--method",
        "ML",
    ]);
    assert!(
        anova.contains("res0 <- update(res, mods = ~ 1)\nanova(res, res0)"),
        "{anova}"
    );
    let groups = script(&["subgroup", "--by", "alloc", "--tau2-common"]);
    assert!(
        groups.contains("mixed <- update(res, mods = ~ factor(dat[[\"alloc\"]]))"),
        "{groups}"
    );
    assert!(groups.contains(", tau2 = mixed$tau2))"), "{groups}");
}
