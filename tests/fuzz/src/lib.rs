//! The fuzzing harness: how the fuzzer's bytes become Meridian inputs, and what must hold for
//! every input. Each target returns the engine's own answer (a value or a typed error): an error
//! is a correct answer to bad input, so the fuzzer's findings are panics (a failed check below
//! included), hangs (`-timeout`) and runaway memory (`-rss_limit_mb`).
//!
//! Bytes that are not UTF-8 become text by lossy decoding (U+FFFD for each bad sequence), as
//! the browser's `FileReader.readAsText` does with a dropped file: the fuzzer reaches the
//! parser with every byte string instead of wasting most inputs on a UTF-8 check.
//!
//! The native regression test `tests/fuzz_regressions.rs` compiles this file as a module, so a
//! committed input replays exactly as the fuzzer ran it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::ControlFlow;

use meridian::analysis::{analyse, AnalysisError, AnalysisSpec};
use meridian::app::{PageState, StateError};
use meridian::data::effect_size::{Measure, RawRole};
use meridian::data::export::{results_csv, results_json};
use meridian::data::formula::{factor_levels, Formula, FormulaError, Kind};
use meridian::data::parse::{parse as parse_table, ColumnKind, ParseError, Table};
use meridian::data::report::FitReport;
use meridian::data::roles;
use meridian::stats::{Design, ModelSpec, PermutationSettings, StatsError, Tau2Method, Test};

/// Bytes as text, lossily (see the module documentation).
fn text(data: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// Target `parse`: the bytes as a table. On success every column is read as numbers (which
/// may fail, naming its cell) and the roles are guessed, as the page does for every paste.
pub fn parse(data: &[u8]) -> Result<Table, ParseError> {
    let table = parse_table(&text(data))?;
    for column in &table.columns {
        assert_eq!(column.len(), table.rows(), "column {:?}", column.name);
        assert!(!column.name.is_empty(), "an unnamed column was kept");
        let numbers = table.numeric(&column.name);
        let numeric = matches!(
            column.kind,
            ColumnKind::Numeric | ColumnKind::NumericDecimalComma
        );
        // A column classified as numbers reads as numbers, up to an infinite cell.
        if numeric {
            assert!(
                !matches!(numbers, Err(ParseError::NotANumber { .. })),
                "column {:?} is {:?} but reads as {numbers:?}",
                column.name,
                column.kind
            );
        }
    }
    roles::guess(&table);
    Ok(table)
}

/// The fixed table of target `formula`: numeric, text and numeric-as-level columns, names that
/// need backticks, names of functions, a decimal-comma column and extreme magnitudes.
pub const FORMULA_TABLE: &str = "\
x;g;n;odd name;a.b;_u;\u{3b2};1st;I;factor;d;big
1.5;a;1;-2;p;u1;0;3;1;f1;0,5;1e300
-0.25;b;2;0;q;u2;1;1;4;f2;1,25;-1e300
0;c;2;3.5;p;u1;2;2;9;f1;-2,5;1e-300
2;a;3;1e-3;r;u3;3;5;16;f3;3;0
10;b;1;7;q;u2;4;8;25;f2;0,125;2
-3;c;3;2;r;u3;5;13;36;f1;8;-1
";

/// Target `formula`: the bytes as a formula. On success its columns are checked against
/// [`FORMULA_TABLE`] and, when they exist, the design is built three ways: with the default
/// reference levels, with the last level of every factor as reference, and as the row of a
/// prediction at the first study's values.
pub fn formula(data: &[u8]) -> Result<Design, FormulaError> {
    let table = parse_table(FORMULA_TABLE).expect("the fixed table parses");
    let rows: Vec<usize> = (0..table.rows()).collect();
    let formula = Formula::parse(&text(data))?;
    assert_eq!(formula.term_labels().len(), formula.term_vars().len());
    formula.check_columns(&table)?;
    let design = formula.design(&table, &rows, &BTreeMap::new())?;
    check_design(&design, rows.len());

    let mut factors = BTreeMap::new();
    for (kind, column) in formula.term_vars().into_iter().flatten() {
        let text_column = table.column(column).map(|c| c.kind) == Ok(ColumnKind::Text);
        if kind == Kind::Factor || text_column {
            let levels = factor_levels(&table, column, &rows).expect("the column exists");
            let last = levels.last().expect("every column has cells").clone();
            factors.insert(column.to_owned(), last);
        }
    }
    let releveled = formula.design(&table, &rows, &factors)?;
    assert_eq!(releveled.names.len(), design.names.len());
    check_design(&releveled, rows.len());

    let at: BTreeMap<String, String> = formula
        .columns()
        .into_iter()
        .map(|c| {
            let first = table.column(c).expect("the column exists").cell(0);
            (c.to_owned(), first.to_owned())
        })
        .collect();
    // The first study's own values are always a valid prediction point; for a column that is
    // both `x` and `factor(x)` the cell is the number and the level alike.
    let x0 = formula
        .predictor_row(&table, &rows, &BTreeMap::new(), &at)
        .expect("a study's own values are a valid prediction point");
    assert_eq!(x0.len(), design.p());
    let row0: Vec<f64> = design.x.row(0).iter().copied().collect();
    assert!(
        x0.iter()
            .zip(&row0)
            .all(|(a, b)| a == b || (a.is_nan() && b.is_nan())),
        "prediction row {x0:?} differs from the design's first row {row0:?}"
    );
    Ok(design)
}

fn check_design(design: &Design, k: usize) {
    assert_eq!(design.k(), k);
    assert_eq!(design.names.len(), design.p());
    for term in &design.terms {
        assert!(term.columns.iter().all(|&c| c < design.p()), "{term:?}");
    }
}

/// The decoded input of target `pipeline`.
#[derive(Debug, Clone)]
pub struct PipelineInput {
    /// What to analyse and how.
    pub spec: AnalysisSpec,
    /// The permutation test run after the fit.
    pub permutations: PermutationSettings,
    /// The table.
    pub text: String,
}

/// Decodes `pipeline` bytes; `None` when there are fewer than four.
///
/// Layout: byte 0 picks the τ² method (`Tau2Method::ALL[b % 10]`); byte 1 the test (bit 0:
/// Knapp–Hartung) and the permutation count (`2 + (b >> 1) % 31`); byte 2 the measure
/// (`0` none, else `Measure::ALL[(b - 1) % 10]`); byte 3 the confidence level
/// (`(b + 0.5) / 256`). The rest is text whose first four lines are the formula, the prediction
/// point, the reference levels and the column roles (each empty for none; pairs as
/// `name=value,name=value`, roles named `yi vi sei slab` or escalc's `ai n1i …`), the remaining
/// lines the table.
pub fn pipeline_input(data: &[u8]) -> Option<PipelineInput> {
    let (&[method, test, measure, level], rest) = data.split_first_chunk::<4>()?;
    let body = text(rest);
    let mut lines = body.splitn(5, '\n');
    let mut line = || lines.next().unwrap_or("");
    let mods = line().trim().to_owned();
    let predict_at = pairs(line());
    let references = pairs(line());
    let chosen = pairs(line());
    let table = line().to_owned();

    let mut spec = AnalysisSpec {
        measure: (measure != 0)
            .then(|| Measure::ALL[usize::from(measure - 1) % Measure::ALL.len()]),
        mods: (!mods.is_empty()).then_some(mods),
        references,
        predict_at: (!predict_at.is_empty()).then_some(predict_at),
        model: ModelSpec {
            method: Tau2Method::ALL[usize::from(method) % Tau2Method::ALL.len()],
            test: if test & 1 == 1 {
                Test::KnappHartung
            } else {
                Test::Z
            },
            level: (f64::from(level) + 0.5) / 256.0,
            ..ModelSpec::default()
        },
        ..AnalysisSpec::default()
    };
    for (role, column) in chosen {
        let slot = match role.as_str() {
            "yi" => &mut spec.columns.yi,
            "vi" => &mut spec.columns.vi,
            "sei" => &mut spec.columns.sei,
            "slab" => &mut spec.columns.slab,
            _ => {
                if let Some(raw) = RawRole::from_name(&role) {
                    spec.columns.raw.insert(raw, column);
                }
                continue;
            }
        };
        *slot = Some(column);
    }
    Some(PipelineInput {
        spec,
        permutations: PermutationSettings {
            iterations: 2 + usize::from(test >> 1) % 31,
            seed: u64::from(method),
        },
        text: table,
    })
}

/// `a=1,b=x` as a map; a pair without `=` is skipped, a later name replaces an earlier.
fn pairs(line: &str) -> BTreeMap<String, String> {
    line.split(',')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// Why a pipeline run stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum PipelineError {
    /// The analysis refused the input.
    Analysis(AnalysisError),
    /// The permutation test refused the fit.
    Permutation(StatsError),
}

/// Target `pipeline`: text to fit as `meridian fit` runs it (see [`pipeline_input`]):
/// [`analyse`] (parse, roles, effect sizes, design, fit, prediction, Q-profile intervals), then
/// a short permutation test and both exports. `None` for fewer than four bytes.
pub fn pipeline(data: &[u8]) -> Option<Result<FitReport, PipelineError>> {
    let input = pipeline_input(data)?;
    Some(run_pipeline(&input))
}

fn run_pipeline(input: &PipelineInput) -> Result<FitReport, PipelineError> {
    let run = analyse(&input.text, &input.spec).map_err(PipelineError::Analysis)?;
    let mut report = run.analysis.fit_report();
    let permutation = run
        .fitted
        .fit
        .permutation_test(input.permutations)
        .and_then(|test| test.run(|_| ControlFlow::Continue(())))
        .map_err(PipelineError::Permutation)?
        .expect("the progress callback never cancels");
    report.set_permutation(&permutation);
    check_report(&report);
    let json = results_json(&report);
    if let Err(e) = serde_json::from_str::<serde_json::Value>(&json) {
        panic!("results_json wrote invalid JSON ({e}): {json}");
    }
    results_csv(&report);
    Ok(report)
}

/// What every successful fit must satisfy, whatever the data.
fn check_report(r: &FitReport) {
    assert!(r.k > 0 && r.p > 0 && r.p <= r.k, "k = {}, p = {}", r.k, r.p);
    assert_eq!(r.coefficients.len(), r.p);
    assert_eq!(r.qe_df, r.k - r.p);
    assert!(r.tau2.is_finite() && r.tau2 >= 0.0, "tau2 = {}", r.tau2);
    assert!((0.0..=100.0).contains(&r.i2), "I2 = {}", r.i2);
    // An equal-effects model's H² is QE/df as metafor reports it, below 1 when the studies
    // agree more than sampling error predicts (metafor 3.8.1: QE 0.318 on 7 df gives H² 0.045);
    // a random-effects H² is (τ² + s²)/s², at least 1.
    let fixed = matches!(r.method.as_str(), "FE" | "EE");
    let h2_floor = if fixed { 0.0 } else { 1.0 };
    assert!(
        r.h2 >= h2_floor || r.h2.is_nan(),
        "H2 = {} ({})",
        r.h2,
        r.method
    );
    let probability = |what: &str, p: Option<f64>| {
        if let Some(p) = p {
            assert!(p.is_nan() || (0.0..=1.0).contains(&p), "{what} = {p}");
        }
    };
    probability("QE p", r.qe_p);
    probability("QM p", r.qm_p);
    probability("QM permutation p", r.qm_permutation_p);
    for c in &r.coefficients {
        assert!(c.estimate.is_finite(), "{c:?}");
        assert!(c.se >= 0.0, "{c:?}");
        probability("p", Some(c.p_value));
        probability("permutation p", c.permutation_p_value);
        assert!(in_order(c.ci_lower, c.ci_upper), "{c:?}");
    }
    for [lower, upper] in [r.tau2_ci, r.i2_ci, r.h2_ci].into_iter().flatten() {
        assert!(in_order(lower, upper), "interval [{lower}, {upper}]");
    }
    if let Some(p) = &r.prediction {
        assert!(in_order(p.ci_lower, p.ci_upper), "{p:?}");
        if let (Some(lower), Some(upper)) = (p.pi_lower, p.pi_upper) {
            assert!(in_order(lower, upper), "{p:?}");
        }
    }
}

/// Whether an interval's bounds are in order; a bound that is not a number (printed as null)
/// is left to the report's own rules.
fn in_order(lower: f64, upper: f64) -> bool {
    lower <= upper || lower.is_nan() || upper.is_nan()
}

/// Target `share_link`: the bytes as a share link or saved state. Byte 0 chooses: even, the
/// rest is the fragment text as a URL gives it (`v1.` + base64url of deflated JSON); odd, the
/// rest is page-state JSON, which is deflated and encoded into a fragment first, so that the
/// fuzzer also explores states behind a valid encoding. A restored state then goes through
/// what the page does with it: its settings are checked, its data analysed, its formula read
/// as checkbox states and edited; it must survive a round trip through a new link.
pub fn share_link(data: &[u8]) -> Option<Result<PageState, StateError>> {
    let (&mode, rest) = data.split_first()?;
    let fragment = if mode & 1 == 0 {
        text(rest).into_owned()
    } else {
        let json = PageState::from_json(&text(rest));
        match json {
            Ok(state) => state.to_fragment(),
            Err(e) => return Some(Err(e)),
        }
    };
    Some(PageState::from_fragment(&fragment).inspect(restore))
}

/// What the page does after restoring `state`.
fn restore(state: &PageState) {
    assert_eq!(
        PageState::from_fragment(&state.to_fragment()).as_ref(),
        Ok(state),
        "the state does not survive a round trip through its share link"
    );
    if state.spec().is_ok() {
        // Errors are the analysis's answer to the data, shown in the page.
        let _ = state.analyse();
    }
    let model = &state.model;
    let parses = Formula::parse(&model.formula).is_ok() || model.formula.trim().is_empty();
    let terms = model.terms();
    let Ok(table) = parse_table(&state.data.text) else {
        return;
    };
    let names = table.names();
    for name in &names {
        model.has_moderator(name);
        model.is_categorical(name, &table);
        state.is_average(name);
    }
    // Every edit of a formula that parses leaves one that parses.
    let mut edits: Vec<(String, String)> = Vec::new();
    let edited = |edit: &dyn Fn(&mut meridian::app::ModelState)| {
        let mut m = model.clone();
        edit(&mut m);
        m.formula
    };
    if let Some(first) = names.first() {
        let on = !model.has_moderator(first);
        edits.push((
            format!("set_moderator({first:?}, {on})"),
            edited(&|m| m.set_moderator(first, on, true)),
        ));
        let categorical = !model.is_categorical(first, &table);
        edits.push((
            format!("set_categorical({first:?})"),
            edited(&|m| m.set_categorical(first, categorical)),
        ));
        let second = names.get(1).unwrap_or(first);
        edits.push((
            format!("add_interaction({first:?}, {second:?})"),
            edited(&|m| m.add_interaction(first, second)),
        ));
    }
    if let Some(term) = terms.first() {
        edits.push((
            format!("remove_term({term:?})"),
            edited(&|m| m.remove_term(term)),
        ));
    }
    if parses {
        for (edit, formula) in edits {
            assert!(
                formula.trim().is_empty() || Formula::parse(&formula).is_ok(),
                "{edit} turned {:?} into {formula:?}, which does not parse",
                model.formula,
            );
        }
    }
}
