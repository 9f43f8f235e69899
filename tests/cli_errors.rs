//! The command line on bad input: exit 1 for a data or model error and exit 2 for a usage
//! error, each with one sentence on stderr naming the file, line and column where they apply,
//! and never a panic or a backtrace (binary garbage, an empty file, infinities, …).

mod common;

use std::path::PathBuf;

use common::{run_cli, BCG_OR};

/// Writes `bytes` to a file of this test's own in the temporary directory.
fn file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("meridian-cli-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs `fit` on `bytes` with `args`, expects exit `code`, and returns stderr, checked to be
/// one line without a panic.
fn fails(name: &str, bytes: &[u8], args: &[&str], code: i32) -> String {
    let path = file(name, bytes);
    let path = path.to_str().unwrap();
    let mut all = vec!["fit", path];
    all.extend(args);
    let out = run_cli(&all);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(code), "{name}: {stderr}");
    assert!(out.stdout.is_empty(), "{name}: wrote to stdout");
    assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    assert!(stderr.starts_with("meridian: "), "{name}: {stderr}");
    stderr
}

#[test]
fn binary_garbage() {
    // A deterministic byte soup with NULs, as a PNG or a zip file would have.
    let bytes: Vec<u8> = (0u32..4096)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let e = fails("garbage.bin", &bytes, &[], 1);
    assert!(e.contains("NUL byte"), "{e}");
}

#[test]
fn latin1_garbage_without_nul_is_read_and_rejected_as_data() {
    let bytes: Vec<u8> = (1u8..=255).cycle().take(3000).filter(|&b| b != 0).collect();
    fails("latin1.bin", &bytes, &[], 1);
}

#[test]
fn empty_file() {
    let e = fails("empty.csv", b"", &[], 1);
    assert!(e.contains("the table is empty"), "{e}");
    let e = fails("header.csv", b"yi,vi\n", &[], 1);
    assert!(e.contains("no data rows"), "{e}");
}

#[test]
fn infinities() {
    let e = fails("inf.csv", b"yi,vi\n0.1,0.01\nInf,0.02\n", &[], 1);
    assert!(
        e.contains("line 3 (data row 2), column \"yi\": found \"Inf\", expected a finite number"),
        "{e}"
    );
    fails("inf2.csv", b"yi,vi\n0.1,0.01\n0.2,1e999\n", &[], 1);
}

#[test]
fn ragged_row() {
    let e = fails("ragged.csv", b"yi,vi,x\n0.1,0.01,1\n0.2,0.02\n", &[], 1);
    assert!(
        e.ends_with("ragged.csv: line 3 has 2 fields: expected 3, as many as the header row\n"),
        "{e}"
    );
}

#[test]
fn not_a_number() {
    let e = fails("text.csv", b"yi,vi\n0.1,0.01\nabc,0.02\n", &[], 1);
    assert!(
        e.contains("column \"yi\": found \"abc\", expected a number"),
        "{e}"
    );
}

/// Runs `fit --json` on `bytes` with `args`, expects success, and returns the JSON.
fn fits(name: &str, bytes: &[u8], args: &[&str]) -> serde_json::Value {
    let path = file(name, bytes);
    let mut all = vec!["fit", path.to_str().unwrap(), "--json"];
    all.extend(args);
    let out = run_cli(&all);
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn invalid_raw_data_leave_the_row_out_naming_the_column() {
    // As metafor leaves out a study escalc cannot compute (issue 10): the row and the reason
    // in `excluded`, the rest analysed.
    let csv = b"tpos,tneg,cpos,cneg\n4,119,11,128\n-1,300,29,274\n6,300,29,274\n3,200,15,180\n";
    let json = fits("negative.csv", csv, &BCG_OR);
    assert_eq!(
        (json["k"].as_u64(), &json["excluded_rows"]),
        (Some(3), &serde_json::json!([2]))
    );
    let reason = json["excluded"][0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("column \"tpos\": ai is -1"), "{reason}");
    let json = fits(
        "r.csv",
        b"ri,ni\n0.2,30\n1.2,40\n0.3,25\n0.1,50\n",
        &["--measure", "COR"],
    );
    assert_eq!(json["excluded"][0]["row"], 2);
    assert!(json["excluded"][0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("column \"ri\""));
    let csv = b"m1i,sd1i,n1i,m2i,sd2i,n2i\n1,1,10,2,-1,10\n1,1,10,2,1,10\n3,1,10,2,1,12\n";
    let json = fits("sd.csv", csv, &["--measure", "SMD"]);
    assert!(json["excluded"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("column \"sd2i\": sd2i is -1"));
    // Too few studies left is still an error: one usable row cannot be a random-effects model.
    let e = fails(
        "one.csv",
        b"ri,ni\n0.2,30\n1.2,40\n",
        &["--measure", "COR"],
        1,
    );
    assert!(e.contains("only 1 studies"), "{e}");
}

#[test]
fn unknown_columns() {
    let e = fails(
        "cols.csv",
        b"yi,vi\n0.1,0.01\n0.3,0.02\n",
        &["--mods", "ablat"],
        1,
    );
    assert!(
        e.contains("characters 1–5: there is no column \"ablat\""),
        "{e}"
    );
    let e = fails("cols2.csv", b"yi,vi\n0.1,0.01\n", &["--yi", "es"], 1);
    assert!(e.contains("there is no column \"es\""), "{e}");
    let e = fails("cols3.csv", b"x\n1\n", &[], 1);
    assert!(e.contains("no effect sizes"), "{e}");
}

#[test]
fn model_errors() {
    // Every row lacks a value the model needs.
    let e = fails("allna.csv", b"yi,vi\nNA,0.1\n0.2,\n", &[], 1);
    assert!(e.contains("all 2 rows are left out"), "{e}");
    // A zero sampling variance leaves its row out, reported with its place in the file.
    let json = fits("zero.csv", b"yi,vi\n0.1,0.01\n0.3,0\n0.2,0.02\n", &[]);
    assert_eq!(json["k"], 2);
    assert_eq!(
        json["excluded"],
        serde_json::json!([{"row": 2, "reason": "column \"vi\" is 0: expected a sampling variance or standard error above zero"}])
    );
    // More coefficients than studies.
    fails(
        "few.csv",
        b"yi,vi,x\n0.1,0.01,1\n0.3,0.02,2\n",
        &["--mods", "x"],
        1,
    );
    // A prediction at a level the factor does not have.
    let csv = b"yi,vi,g\n0.1,0.01,a\n0.3,0.02,b\n0.2,0.03,a\n0.5,0.01,b\n";
    let e = fails("level.csv", csv, &["--mods", "g", "--predict-at", "g=c"], 1);
    assert!(e.contains("expected one of its levels \"a\", \"b\""), "{e}");
}

#[test]
fn missing_file() {
    let out = run_cli(&["fit", "/nonexistent/meridian/data.csv"]);
    assert_eq!(out.status.code(), Some(1));
    let e = String::from_utf8(out.stderr).unwrap();
    assert!(
        e.starts_with("meridian: /nonexistent/meridian/data.csv: cannot read the file"),
        "{e}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let csv = b"yi,vi\n0.1,0.01\n0.3,0.02\n";
    for (args, says) in [
        (&["--method", "XYZ"][..], "unknown --method \"XYZ\""),
        (&["--test", "f"], "unknown --test \"f\""),
        (&["--level", "150"], "--level expects"),
        (&["--measure", "HR"], "unknown effect-size measure \"HR\""),
        (&["--mods", "ablat +"], "found the end of the formula"),
        (&["--mods", "log(x)"], "log() is not supported"),
        (&["--frobnicate", "1"], "unknown option --frobnicate"),
        (&["--predict-at", "x"], "--predict-at expects NAME=VALUE"),
        (
            &["--permutations", "many"],
            "--permutations expects a whole number",
        ),
        (&["--seed", "3"], "--seed applies to a permutation test"),
        (&["--ai", "a"], "raw-data columns need --measure"),
        (&["--yi", "yi", "--measure", "OR"], "not both"),
        (&["--json", "extra.csv"], "unexpected argument"),
        (&["--mods"], "missing argument"),
    ] {
        let e = fails("usage.csv", csv, args, 2);
        assert!(e.contains(says), "{args:?}: {e}");
    }
    let out = run_cli(&["fit"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run_cli(&["summarise", "x.csv"]);
    assert_eq!(out.status.code(), Some(2));
    // Bare `meridian` shows the help.
    let out = run_cli(&[]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn excluded_rows_are_reported_in_the_readable_report() {
    let out = run_cli(
        &[
            &["fit", "tests/data/bcg_missing.csv"][..],
            &BCG_OR,
            &["--mods", "ablat"],
        ]
        .concat(),
    );
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("2 row(s) with missing values excluded (data rows 3, 7)"),
        "{text}"
    );
}

#[test]
fn semicolon_file_with_decimal_commas_and_latin1_labels() {
    // "Müller" in Latin-1 (0xFC), as an older spreadsheet export writes it.
    let mut csv =
        b"study;yi;vi\nM\xfcller;0,10;0,010\nSmith;0,30;0,020\nLee;-0,05;0,015\n".to_vec();
    csv.extend_from_slice(b"Tanaka;0,22;0,030\n");
    let path = file("euro.csv", &csv);
    let out = run_cli(&["fit", path.to_str().unwrap(), "--method", "DL", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["k"], 4);
}
