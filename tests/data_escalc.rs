//! Effect sizes against metafor's `escalc` (fixtures written by `tests/r/make_data_fixtures.R`
//! with metafor's defaults: BCG trials, a table set with zero cells, Normand 1999, Curtis et al.
//! 1998, Molloy et al. 2014, Pritz 1997 and a proportion set with 0 and n events).

use meridian::data::effect_size::{compute, Measure, RawRole};
use serde_json::Value;

/// Six significant digits asked for; the formulas agree to round-off, so check far tighter.
const REL_TOL: f64 = 1e-10;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= REL_TOL * b.abs().max(1e-300) || (a - b).abs() < 1e-14
}

#[test]
fn every_measure_matches_metafor_escalc() {
    let text = std::fs::read_to_string("tests/fixtures/data/escalc.json").unwrap();
    let fixture: Value = serde_json::from_str(&text).unwrap();
    let mut checked = std::collections::BTreeSet::new();
    for case in fixture["cases"].as_array().unwrap() {
        let measure: Measure = case["measure"].as_str().unwrap().parse().unwrap();
        let column = |role: RawRole| -> Vec<f64> {
            case["inputs"][role.name()]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        };
        let columns: Vec<Vec<f64>> = measure.roles().iter().map(|&r| column(r)).collect();
        let yi = case["yi"].as_array().unwrap();
        let vi = case["vi"].as_array().unwrap();
        for i in 0..yi.len() {
            let values: Vec<f64> = columns.iter().map(|c| c[i]).collect();
            let e = compute(measure, &values).unwrap();
            let (ry, rv) = (yi[i].as_f64().unwrap(), vi[i].as_f64().unwrap());
            assert!(
                close(e.yi, ry),
                "{measure} study {}: yi {} vs metafor {ry}",
                i + 1,
                e.yi
            );
            assert!(
                close(e.vi, rv),
                "{measure} study {}: vi {} vs metafor {rv}",
                i + 1,
                e.vi
            );
        }
        checked.insert(measure.name());
    }
    assert_eq!(
        checked.len(),
        Measure::ALL.len(),
        "a measure has no fixture"
    );
}
