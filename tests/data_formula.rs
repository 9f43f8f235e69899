//! Design matrices against R's `model.matrix()` on the BCG data (fixture written by
//! `tests/r/make_data_fixtures.R`): coefficient names and every entry, for numeric and text
//! columns, `factor()`, `I()`, crossing, interactions with and without their margins,
//! parentheses, term removal and models without intercept.

use std::collections::BTreeMap;

use meridian::data::formula::Formula;
use meridian::data::parse::parse;
use serde_json::Value;

/// Entries are products of integers in the file: exact up to round-off.
const TOL: f64 = 1e-9;

#[test]
fn designs_match_r_model_matrix() {
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string("tests/fixtures/data/designs.json").unwrap())
            .unwrap();
    let table = parse(&std::fs::read_to_string("tests/data/bcg.csv").unwrap()).unwrap();
    let rows: Vec<usize> = (0..table.rows()).collect();
    for case in fixture["designs"].as_array().unwrap() {
        let formula = case["formula"].as_str().unwrap();
        let design = Formula::parse(formula)
            .and_then(|f| f.design(&table, &rows, &BTreeMap::new()))
            .unwrap_or_else(|e| panic!("{formula}: {e}"));
        let names: Vec<&str> = case["names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        assert_eq!(design.names, names, "{formula}");
        assert_eq!(design.intercept, names[0] == "intrcpt", "{formula}");
        let x = case["x"].as_array().unwrap();
        assert_eq!(design.x.nrows(), x.len(), "{formula}: rows");
        for (i, row) in x.iter().enumerate() {
            for (j, value) in row.as_array().unwrap().iter().enumerate() {
                let r = value.as_f64().unwrap();
                assert!(
                    (design.x[(i, j)] - r).abs() <= TOL * r.abs().max(1.0),
                    "{formula}: x[{i}, {j}] = {}, R {r}",
                    design.x[(i, j)]
                );
            }
        }
        let columns: usize = design.terms.iter().map(|t| t.columns.len()).sum();
        assert_eq!(
            columns + usize::from(design.intercept),
            names.len(),
            "{formula}"
        );
    }
}
