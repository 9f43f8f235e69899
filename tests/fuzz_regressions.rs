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

use meridian::analysis::AnalysisError;
use meridian::app::persist::MAX_FRAGMENT_JSON;
use meridian::app::StateError;
use meridian::data::formula::{Formula, FormulaError, MAX_DESIGN_CELLS, MAX_TERMS};
use meridian::data::parse::parse;

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

    let table = parse(harness::FORMULA_TABLE).expect("the table parses");
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
    let text = parse("g\n1\nx\n").expect("parses");
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

/// Probing the `formula` target: twenty columns crossed with `*` (46 characters) expand to
/// 2²⁰ − 1 terms, each checked against all before it, and froze the parser. A formula now
/// stops at `MAX_TERMS` terms, with duplicates found by lookup.
#[test]
fn exponential_interaction() {
    let formula = String::from_utf8(regression("formula", "exponential_interaction"))
        .expect("the input is text");
    let expected = Err(FormulaError::TooManyTerms {
        formula: formula.clone(),
    });
    assert_eq!(harness::formula(formula.as_bytes()), expected);
    assert!(Formula::parse(&formula)
        .unwrap_err()
        .to_string()
        .contains("expands to more than 1024 terms"));
}

/// The limit at its edge: ten crossed columns give 2¹⁰ − 1 = 1023 terms, eleven 2047.
#[test]
fn term_limit_admits_the_tenfold_interaction() {
    let ten = "a*b*c*d*e*f*g*h*i*j";
    let f = Formula::parse(ten).expect("1023 terms are allowed");
    assert_eq!(f.term_labels().len(), 1023);
    assert_eq!(MAX_TERMS, 1024);
    assert!(matches!(
        Formula::parse(&format!("{ten}*k")),
        Err(FormulaError::TooManyTerms { .. })
    ));
    // `(a+…+j):(k+…+t)` would be 100 terms, `(…):(…):(…)` 1000, one more factor too many.
    let sum = |cols: &str| {
        format!(
            "({})",
            cols.chars().map(String::from).collect::<Vec<_>>().join("+")
        )
    };
    let three = format!(
        "{}:{}:{}",
        sum("abcdefghij"),
        sum("klmnopqrst"),
        sum("uvwxyzABCD")
    );
    assert_eq!(
        Formula::parse(&three)
            .expect("1000 terms")
            .term_labels()
            .len(),
        1000
    );
    assert!(matches!(
        Formula::parse(&format!("{three}:(E+F)")),
        Err(FormulaError::TooManyTerms { .. })
    ));
}

/// Probing the `formula` target: 20,000 nested parentheses overflowed the stack of the
/// recursive parser (a crash, not a panic: in the page, the tab dies). Nesting now stops at 64.
#[test]
fn deep_parentheses() {
    let bytes = regression("formula", "deep_parentheses");
    let Err(FormulaError::Syntax { span, expected, .. }) = harness::formula(&bytes) else {
        panic!("expected a syntax error");
    };
    // The 65th "(" is character 65.
    assert_eq!(span.start, 64);
    assert_eq!(expected, "a term: parentheses nest at most 64 deep");
    let nested = |n: usize| format!("{}x{}", "(".repeat(n), ")".repeat(n));
    assert_eq!(
        Formula::parse(&nested(64))
            .expect("64 levels parse")
            .term_labels(),
        ["x"]
    );
    assert!(Formula::parse(&nested(65)).is_err());
}

/// Two text columns with a level per study crossed (`g:h`, 800 studies) asked for a model
/// matrix of 640,000 columns, 4 GB, and timed out the `pipeline` target while it grew. A
/// design now stops while its column names are counted, as soon as they outnumber the
/// studies (a later run starved on 102,721 columns for 321 studies, under the cell limit).
#[test]
fn factor_by_factor_design() {
    let result = harness::pipeline(&regression("pipeline", "factor_by_factor_design"));
    assert_eq!(
        result,
        Some(Err(harness::PipelineError::Analysis(
            AnalysisError::Formula(FormulaError::MoreCoefficientsThanStudies {
                formula: "g:h".into(),
                studies: 800,
            })
        )))
    );
}

/// The cell limit: 2²⁵ cells let 10,000 studies have 3,355 coefficients, so a factor of 3,356
/// levels (an intercept and 3,355 dummies) is refused before it is built. More coefficients
/// than studies within the limit stay a design, as in R; a model to fit stops at the number of
/// studies, before the matrix is built, as the engine would refuse it (k < p).
#[test]
fn coefficient_limit_is_the_cell_limit() {
    let studies = 10_000;
    assert_eq!(MAX_DESIGN_CELLS / studies, 3355);
    let none = BTreeMap::new();
    let rows: Vec<usize> = (0..studies).collect();
    let table = |levels: usize| {
        let text: String = std::iter::once("g\n".to_owned())
            .chain((0..studies).map(|i| format!("s{}\n", i % levels)))
            .collect();
        parse(&text).expect("parses")
    };
    let g = Formula::parse("g").expect("parses");
    // Building the largest allowed design would take 256 MiB; a smaller one shows the path.
    let design = g
        .design(&table(100), &rows, &none)
        .expect("100 coefficients");
    assert_eq!(design.p(), 100);
    let e = g.design(&table(3356), &rows, &none).unwrap_err();
    assert_eq!(
        e,
        FormulaError::TooManyCoefficients {
            formula: "g".into(),
            studies,
            limit: 3355
        }
    );
    assert_eq!(
        e.to_string(),
        "formula \"g\" gives more than 3355 coefficients, too many to hold in memory for 10000 \
         studies (and far more than they can estimate): expected fewer moderators or factors \
         with fewer levels"
    );
    let small = parse("g,x\na,1\nb,2\nc,3\n").expect("parses");
    let formula = Formula::parse("factor(g) + x").expect("parses");
    let design = formula
        .design(&small, &[0, 1, 2], &none)
        .expect("4 coefficients for 3 studies are a design");
    assert_eq!(design.p(), 4);
    // A model to fit stops at the number of studies, before building the matrix.
    let e = formula
        .encode_for_fit(&small, &[0, 1, 2], &none)
        .expect_err("4 coefficients for 3 studies cannot be fitted");
    assert_eq!(
        e,
        FormulaError::MoreCoefficientsThanStudies {
            formula: "factor(g) + x".into(),
            studies: 3
        }
    );
    assert_eq!(
        e.to_string(),
        "formula \"factor(g) + x\" gives more coefficients than the 3 studies in the model, and \
         a model needs at least as many studies as coefficients (metafor refuses it too): \
         expected fewer moderators, factors with fewer levels, or more studies"
    );
    assert!(Formula::parse("factor(g)")
        .expect("parses")
        .encode_for_fit(&small, &[0, 1, 2], &none)
        .is_ok());
}

/// A share link that inflates to 64 MiB and one byte of spaces (87 KB of link): refused at the
/// cap, and with a message that says why, instead of "the compressed data are damaged … it may
/// have been cut short when copied", which sent the user looking for a copying mistake.
#[test]
fn deflate_bomb() {
    let result = harness::share_link(&regression("share_link", "deflate_bomb"));
    let expected = StateError::FragmentTooLarge {
        limit: MAX_FRAGMENT_JSON,
    };
    assert_eq!(result, Some(Err(expected.clone())));
    assert_eq!(MAX_FRAGMENT_JSON, 64 << 20);
    assert_eq!(
        expected.to_string(),
        "the link expands to more than 64 MiB, more than any session the app writes: expected a \
         link made by \"Share link\""
    );
}

/// A column named `` stu`y `` (found by the share_link fuzzer): ticking it as a moderator wrote
/// `` factor(`stu`y`) ``, which does not parse. A backtick inside a backticked name is now
/// escaped as R escapes it, and the formula reads back as the same column.
#[test]
fn backtick_in_column_name() {
    let result = harness::share_link(&regression("share_link", "backtick_in_column_name"));
    assert!(result.is_some_and(|r| r.is_ok()), "the link restores");
    let mut model = meridian::app::ModelState::default();
    model.set_moderator("stu`y", true, true);
    assert_eq!(model.formula, "factor(`stu\\`y`)");
    let formula = Formula::parse(&model.formula).expect("the edited formula parses");
    assert_eq!(formula.columns(), ["stu`y"]);
}

/// Found by the pipeline fuzzer: an equal-effects meta-regression on BCG fragments whose QE is
/// below its degrees of freedom. Its H² is QE/df < 1, as metafor reports for FE models, and the
/// harness's invariant (H² ≥ 1) was the defect: it holds for random-effects models only.
#[test]
fn fixed_effect_h2_below_one() {
    let report = harness::pipeline(&regression("pipeline", "fixed_effect_h2_below_one"))
        .expect("a pipeline input")
        .expect("the model fits");
    assert_eq!(report.method, "FE");
    assert!(report.qe < report.qe_df as f64);
    let h2 = report.qe / report.qe_df as f64;
    assert!(
        (report.h2 - h2).abs() <= 1e-12 * h2,
        "H2 {} vs QE/df {h2}",
        report.h2
    );
    assert!(report.h2 < 1.0);
}

/// Found by the pipeline fuzzer (two workers, the same minute): a random-effects fit whose
/// typical sampling variance vanishes beside τ² reported I² = 100.00000000000001, because
/// (100·τ²)/(ṽ + τ²) rounds up where the share τ²/(ṽ + τ²) cannot exceed 1. The share is now
/// taken first, so I² is at most 100 exactly.
#[test]
fn i2_rounding_above_100() {
    let report = harness::pipeline(&regression("pipeline", "i2_rounding_above_100"))
        .expect("a pipeline input")
        .expect("the model fits");
    assert!(
        (100.0 - 1e-9..=100.0).contains(&report.i2),
        "I2 = {}",
        report.i2
    );
}

/// Found by the pipeline fuzzer: `factor(g)` on three studies, one with vᵢ = 6.7e22. The other
/// two studies of its level carry all the weight, so rounding gave its partner a hat value of
/// 1 + ε, wᵢ(1 − hᵢ) a negative term, tr(P) < 0 and I² = −1.3e-45. Hat values are now capped at
/// 1, so tr(P) is that huge-variance study's weight alone (its partner and the one-study level
/// are fitted exactly) and ṽ = (k − p)/tr(P) ≈ its vᵢ: I² is 0 to the last digit, not below.
#[test]
fn negative_typical_variance() {
    let report = harness::pipeline(&regression("pipeline", "negative_typical_variance"))
        .expect("a pipeline input")
        .expect("the model fits");
    assert!(report.i2 >= 0.0 && report.i2 < 1e-12, "I2 = {}", report.i2);
    if let Some([lower, upper]) = report.i2_ci {
        assert!(0.0 <= lower && lower <= upper, "I2 CI [{lower}, {upper}]");
    }
}
