//! Replays the fuzzers' committed inputs natively, on the stable toolchain, as part of
//! `cargo test`: every seed (tests/fuzz/seeds/TARGET) and every input that once found a bug
//! (tests/fuzz/regressions/TARGET) goes through the very harness the fuzz target runs
//! (tests/fuzz/src/lib.rs, included below), so a fixed bug that comes back fails here without
//! nightly or libFuzzer. Each regression input also has its own test asserting the answer it
//! must now give.

#[path = "fuzz/src/lib.rs"]
mod harness;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use meridian::data::formula::{Formula, FormulaError};

/// The committed inputs of `target` under `kind` (`seeds` or `regressions`), by file name.
fn inputs(kind: &str, target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz")
        .join(kind)
        .join(target);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Vec<u8>)> = entries
        .map(|e| {
            let path = e.expect("a readable directory entry").path();
            let bytes = fs::read(&path).expect("a readable input file");
            (path.display().to_string(), bytes)
        })
        .collect();
    out.sort();
    out
}

/// One committed regression input.
fn regression(target: &str, name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/regressions")
        .join(target)
        .join(name);
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs every committed input of every target; a panic names the file that caused it.
#[test]
fn every_committed_input_runs_without_panic() {
    let mut runs = 0;
    for kind in ["seeds", "regressions"] {
        for (path, bytes) in inputs(kind, "parse") {
            eprintln!("{path}");
            let _ = harness::parse(&bytes);
            runs += 1;
        }
        for (path, bytes) in inputs(kind, "formula") {
            eprintln!("{path}");
            let _ = harness::formula(&bytes);
            runs += 1;
        }
        for (path, bytes) in inputs(kind, "pipeline") {
            eprintln!("{path}");
            let _ = harness::pipeline(&bytes);
            runs += 1;
        }
        for (path, bytes) in inputs(kind, "share_link") {
            eprintln!("{path}");
            let _ = harness::share_link(&bytes);
            runs += 1;
        }
    }
    // The seeds alone are over a hundred files: an empty count means the paths are wrong.
    assert!(runs > 100, "only {runs} committed inputs found");
}

/// The seeds reach the end of each pipeline, not only its first error: the bundled examples
/// fit with their suggested measure and moderators.
#[test]
fn seeds_reach_the_fit() {
    let ok = inputs("seeds", "pipeline")
        .iter()
        .filter(|(_, bytes)| matches!(harness::pipeline(bytes), Some(Ok(_))))
        .count();
    assert!(ok >= 20, "only {ok} pipeline seeds fit");
    let ok = inputs("seeds", "formula")
        .iter()
        .filter(|(_, bytes)| harness::formula(bytes).is_ok())
        .count();
    assert!(ok >= 15, "only {ok} formula seeds build a design");
    let ok = inputs("seeds", "share_link")
        .iter()
        .filter(|(_, bytes)| matches!(harness::share_link(bytes), Some(Ok(_))))
        .count();
    assert!(ok >= 15, "only {ok} share-link seeds restore a session");
}

/// Found by `formula` (input `d`): the fixed table's column `d` is written with decimal commas,
/// and predicting at the first study's own value `0,5` was refused as "not a number". A
/// prediction value is now read as the column's cells are, and a level of a numeric factor
/// matches its number however it is written.
#[test]
fn prediction_in_a_decimal_comma_column() {
    let design = harness::formula(&regression("formula", "decimal_comma_prediction"))
        .expect("`d` builds a design");
    assert_eq!(design.names, ["intrcpt", "d"]);

    let table = meridian::data::parse::parse(harness::FORMULA_TABLE).expect("the table parses");
    let rows: Vec<usize> = (0..table.rows()).collect();
    let none = BTreeMap::new();
    let at = |v: &str| BTreeMap::from([("d".to_owned(), v.to_owned())]);
    let d = Formula::parse("d").expect("parses");
    for written in ["0,5", "0.5", " 0,50 "] {
        assert_eq!(
            d.predictor_row(&table, &rows, &none, &at(written)),
            Ok(vec![1.0, 0.5]),
            "{written:?}"
        );
    }
    assert_eq!(
        d.predictor_row(&table, &rows, &none, &at("0,5x")),
        Err(FormulaError::BadPredictor {
            column: "d".into(),
            found: "0,5x".into()
        })
    );
    // factor(d): levels −2.5 (the reference), 0.125, 0.5, 1.25, 3, 8, named as R names them.
    let factor = Formula::parse("factor(d)").expect("parses");
    assert_eq!(
        factor.predictor_row(&table, &rows, &none, &at("0,5")),
        Ok(vec![1.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    );
    // In a text column a cell is a label, never a number: `1.0` is not the level `1`.
    let text = meridian::data::parse::parse("g\n1\nx\n").expect("parses");
    let g = Formula::parse("g").expect("parses");
    let at_g = |v: &str| BTreeMap::from([("g".to_owned(), v.to_owned())]);
    assert_eq!(
        g.predictor_row(&text, &[0, 1], &none, &at_g("1")),
        Ok(vec![1.0, 0.0])
    );
    assert_eq!(
        g.predictor_row(&text, &[0, 1], &none, &at_g("1.0")),
        Err(FormulaError::UnknownPredictorLevel {
            column: "g".into(),
            level: "1.0".into(),
            levels: vec!["1".into(), "x".into()]
        })
    );
}
