//! Tests of parsing, coding and prediction rows against R's `model.matrix`.

use super::*;
use crate::data::parse::parse;
use crate::stats::Term;

#[test]
fn column_source_reads_back_as_the_same_column() {
    for (name, source) in [
        ("ablat", "ablat"),
        ("a.b_c2", "a.b_c2"),
        (".x", ".x"),
        ("año", "año"),
        (".5x", "`.5x`"),
        ("2nd", "`2nd`"),
        ("mean age", "`mean age`"),
        ("x:y", "`x:y`"),
        ("élan", "`élan`"),
        // Found by the share_link fuzzer: a backtick in a name must be escaped, as in R.
        ("stu`y", "`stu\\`y`"),
        ("a\\b", "`a\\\\b`"),
        ("a\\`", "`a\\\\\\``"),
    ] {
        assert_eq!(column_source(name), source);
        assert_eq!(Formula::parse(source).unwrap().columns(), [name]);
    }
    // A backslash before any other character is kept, so names typed before escapes existed
    // read as they did.
    assert_eq!(Formula::parse("`a\\b`").unwrap().columns(), ["a\\b"]);
}

const BCG: &str = "author,year,ablat,alloc\n\
    Aronson,1948,44,random\n\
    Ferguson & Simes,1949,55,random\n\
    Rosenthal et al,1960,42,random\n\
    Hart & Sutherland,1977,52,random\n\
    Frimodt-Moller et al,1973,13,alternate\n\
    Stein & Aronson,1953,44,alternate\n\
    Vandiviere et al,1973,19,random\n\
    TPT Madras,1980,13,random\n\
    Coetzee & Berjak,1968,27,random\n\
    Rosenthal et al,1961,42,systematic\n\
    Comstock et al,1974,18,systematic\n\
    Comstock & Webster,1969,33,systematic\n\
    Comstock et al,1976,33,systematic\n";

fn design(formula: &str) -> Design {
    let t = parse(BCG).unwrap();
    let rows: Vec<usize> = (0..t.rows()).collect();
    Formula::parse(formula)
        .unwrap()
        .design(&t, &rows, &BTreeMap::new())
        .unwrap()
}

fn err(formula: &str) -> FormulaError {
    let t = parse(BCG).unwrap();
    let rows: Vec<usize> = (0..t.rows()).collect();
    Formula::parse(formula)
        .and_then(|f| f.design(&t, &rows, &BTreeMap::new()))
        .unwrap_err()
}

#[test]
fn numeric_moderator_with_intercept() {
    let d = design("ablat");
    assert_eq!(d.names, ["intrcpt", "ablat"]);
    assert_eq!(d.x[(0, 1)], 44.0);
    assert!(d.intercept);
    assert_eq!(
        d.terms,
        [Term {
            label: "ablat".into(),
            columns: vec![1]
        }]
    );
}

#[test]
fn text_column_is_a_factor_with_c_locale_levels() {
    // Levels alternate < random < systematic; alternate is the reference.
    let d = design("alloc");
    assert_eq!(d.names, ["intrcpt", "allocrandom", "allocsystematic"]);
    assert_eq!(d.x.column(1).iter().sum::<f64>(), 7.0);
    assert_eq!(d.x.column(2).iter().sum::<f64>(), 4.0);
    let d = design("factor(alloc)");
    assert_eq!(
        d.names,
        ["intrcpt", "factor(alloc)random", "factor(alloc)systematic"]
    );
    assert_eq!(d.terms[0].columns, [1, 2]);
}

#[test]
fn c_locale_puts_capitals_before_lower_case() {
    let t = parse("g\nb\nB\na\n").unwrap();
    let d = Formula::parse("g")
        .unwrap()
        .design(&t, &[0, 1, 2], &BTreeMap::new())
        .unwrap();
    assert_eq!(d.names, ["intrcpt", "ga", "gb"]); // levels B < a < b
}

#[test]
fn factor_levels_follow_r_order_and_skip_missing_cells() {
    // levels(factor(dat.bcg$alloc)) in R: "alternate" "random" "systematic".
    let t = parse(BCG).unwrap();
    let rows: Vec<usize> = (0..t.rows()).collect();
    assert_eq!(
        factor_levels(&t, "alloc", &rows).unwrap(),
        ["alternate", "random", "systematic"]
    );
    // levels(factor(c(10, 9, 10, NA))) is "9" "10": by value, not by text.
    let t = parse("x\n10\n9\n10\nNA\n").unwrap();
    assert_eq!(factor_levels(&t, "x", &[0, 1, 2, 3]).unwrap(), ["9", "10"]);
    assert!(factor_levels(&t, "nope", &[0]).is_err());
}

#[test]
fn reference_level_can_be_changed() {
    let t = parse(BCG).unwrap();
    let rows: Vec<usize> = (0..t.rows()).collect();
    let refs = BTreeMap::from([("alloc".to_owned(), "random".to_owned())]);
    let d = Formula::parse("alloc")
        .unwrap()
        .design(&t, &rows, &refs)
        .unwrap();
    assert_eq!(d.names, ["intrcpt", "allocalternate", "allocsystematic"]);
    let refs = BTreeMap::from([("alloc".to_owned(), "cluster".to_owned())]);
    let e = Formula::parse("alloc")
        .unwrap()
        .design(&t, &rows, &refs)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "column \"alloc\" has no level \"cluster\" to use as reference: expected one of \"alternate\", \"random\", \"systematic\""
    );
}

#[test]
fn error_reference_for_a_column_that_is_not_a_factor() {
    let t = parse(BCG).unwrap();
    let rows: Vec<usize> = (0..t.rows()).collect();
    for (formula, column) in [("ablat", "alloc"), ("ablat", "ablat")] {
        let refs = BTreeMap::from([(column.to_owned(), "random".to_owned())]);
        let e = Formula::parse(formula)
            .unwrap()
            .design(&t, &rows, &refs)
            .unwrap_err();
        assert!(
            matches!(e, FormulaError::ReferenceNotFactor { column: ref c, .. } if c == column),
            "{formula}: {e}"
        );
    }
}

#[test]
fn crossing_expands_and_orders_by_degree() {
    let d = design("ablat*year");
    assert_eq!(d.names, ["intrcpt", "ablat", "year", "ablat:year"]);
    assert_eq!(d.x[(0, 3)], 44.0 * 1948.0);
    let d = design("ablat:year + alloc");
    assert_eq!(
        d.names,
        ["intrcpt", "allocrandom", "allocsystematic", "ablat:year"]
    );
}

#[test]
fn interaction_of_numeric_and_factor_follows_r_coding() {
    // With the main effect of alloc present, ablat:alloc uses contrasts…
    let d = design("ablat * alloc");
    assert_eq!(
        d.names,
        [
            "intrcpt",
            "ablat",
            "allocrandom",
            "allocsystematic",
            "ablat:allocrandom",
            "ablat:allocsystematic"
        ]
    );
    // …without it, every level gets its own slope (R: model.matrix(~ ablat:alloc)).
    let d = design("ablat:alloc");
    assert_eq!(
        d.names,
        [
            "intrcpt",
            "ablat:allocalternate",
            "ablat:allocrandom",
            "ablat:allocsystematic"
        ]
    );
}

#[test]
fn no_intercept_gives_the_first_factor_all_levels() {
    for f in ["alloc - 1", "0 + alloc", "alloc + 0", "~ -1 + alloc"] {
        let d = design(f);
        assert!(!d.intercept, "{f}");
        assert_eq!(
            d.names,
            ["allocalternate", "allocrandom", "allocsystematic"],
            "{f}"
        );
    }
}

#[test]
fn powers_and_numeric_factors() {
    let d = design("ablat + I(ablat^2)");
    assert_eq!(d.names, ["intrcpt", "ablat", "I(ablat^2)"]);
    assert_eq!(d.x[(0, 2)], 1936.0);
    let d = design("I(ablat ^ -1)");
    assert_eq!(d.names, ["intrcpt", "I(ablat^-1)"]);
    let t = parse("x\n10\n2\n2.5\n10\n").unwrap();
    let d = Formula::parse("factor(x)")
        .unwrap()
        .design(&t, &[0, 1, 2, 3], &BTreeMap::new())
        .unwrap();
    // Numeric levels sort as numbers (2 < 2.5 < 10), not as text.
    assert_eq!(d.names, ["intrcpt", "factor(x)2.5", "factor(x)10"]);
}

#[test]
fn parentheses_distribute_and_minus_removes_terms() {
    // R 4.2: colnames(model.matrix(~ (ablat + year):alloc - ablat:alloc + ablat, dat.bcg))
    let d = design("(ablat + year):alloc - ablat:alloc + ablat");
    assert_eq!(
        d.names,
        [
            "intrcpt",
            "ablat",
            "year:allocalternate",
            "year:allocrandom",
            "year:allocsystematic"
        ]
    );
    // R: colnames(model.matrix(~ 0 + alloc + factor(year), dat.bcg)) — the second factor
    // uses contrasts; 12 distinct years give 11 dummies.
    let d = design("0 + alloc + factor(year)");
    assert_eq!(d.names.len(), 3 + 11);
    assert_eq!(d.names[3], "factor(year)1949");
    assert_eq!(
        Formula::parse("a*b - a:b").unwrap().term_labels(),
        ["a", "b"]
    );
    assert_eq!(
        Formula::parse("~ `my col` + 1").unwrap().columns(),
        ["my col"]
    );
}

#[test]
fn intercept_only_formula() {
    let d = design("1");
    assert_eq!(d.names, ["intrcpt"]);
    assert!(d.terms.is_empty());
}

#[test]
fn error_unknown_column_points_at_it() {
    let e = err("ablt + year");
    assert!(matches!(
        e,
        FormulaError::UnknownColumn {
            span: Span { start: 0, end: 4 },
            ..
        }
    ));
    assert!(e
        .to_string()
        .starts_with("formula \"ablt + year\", characters 1–4: there is no column \"ablt\""));
}

#[test]
fn error_syntax() {
    let e = err("ablat + ");
    assert_eq!(
        e.to_string(),
        "formula \"ablat + \", character 9: found the end of the formula, expected a column name, factor(column), I(column^n), within(column, cluster) or \"(\""
    );
    assert!(matches!(
        err("ablat year"),
        FormulaError::Syntax {
            span: Span { start: 6, .. },
            ..
        }
    ));
    assert!(matches!(err("(ablat + year"), FormulaError::Syntax { .. }));
    assert!(matches!(
        err("ablat $ year"),
        FormulaError::Syntax {
            span: Span { start: 6, end: 7 },
            ..
        }
    ));
    assert!(matches!(err("`ablat"), FormulaError::Syntax { .. }));
    assert!(matches!(err("I(ablat)"), FormulaError::Syntax { .. }));
    assert!(matches!(err("I(ablat^x)"), FormulaError::Syntax { .. }));
    assert!(matches!(err("2 + ablat"), FormulaError::Syntax { .. }));
    assert!(matches!(err("(1 + ablat)"), FormulaError::Syntax { .. }));
    assert!(matches!(err(""), FormulaError::Syntax { .. }));
}

#[test]
fn error_unsupported_function() {
    let e = err("log(ablat) + year");
    assert!(matches!(
        e,
        FormulaError::UnsupportedFunction {
            span: Span { start: 0, end: 10 },
            ..
        }
    ));
    assert!(e
        .to_string()
        .contains("the function log() is not supported"));
}

#[test]
fn error_bare_power() {
    let e = err("ablat^2");
    assert_eq!(
        e.to_string(),
        "formula \"ablat^2\", characters 1–7: a power must be written I(ablat^n), as in R"
    );
}

#[test]
fn error_power_of_text_column() {
    let e = err("I(alloc^2)");
    assert!(matches!(e, FormulaError::NotNumeric { ref column, .. } if column == "alloc"));
    assert!(e
        .to_string()
        .contains("line 2 (data row 1), column \"alloc\""));
}

fn at(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn x0(formula: &str, point: &[(&str, &str)]) -> Result<Vec<f64>, FormulaError> {
    let t = parse(BCG).unwrap();
    let rows: Vec<usize> = (0..t.rows()).collect();
    Formula::parse(formula)
        .unwrap()
        .predictor_row(&t, &rows, &BTreeMap::new(), &at(point))
}

#[test]
fn prediction_row_codes_like_the_design() {
    assert_eq!(x0("ablat", &[("ablat", "10")]).unwrap(), [1.0, 10.0]);
    assert_eq!(
        x0("ablat * year", &[("ablat", "10"), ("year", " 1950 ")]).unwrap(),
        [1.0, 10.0, 1950.0, 19500.0]
    );
    assert_eq!(
        x0(
            "factor(alloc) + I(ablat^2)",
            &[("alloc", "random"), ("ablat", "3")]
        )
        .unwrap(),
        [1.0, 1.0, 0.0, 9.0]
    );
    assert_eq!(
        x0("factor(year)", &[("year", "1949")]).unwrap()[..3],
        [1.0, 1.0, 0.0]
    );
}

#[test]
fn error_prediction_point() {
    assert!(matches!(
        x0("ablat", &[("ablat", "10"), ("year", "1")]),
        Err(FormulaError::UnusedPredictor { ref column, .. }) if column == "year"
    ));
    let e = x0("ablat + year", &[("ablat", "10")]).unwrap_err();
    assert_eq!(
        e,
        FormulaError::MissingPredictor {
            column: "year".into()
        }
    );
    assert!(matches!(
        x0("ablat", &[("ablat", "ten")]),
        Err(FormulaError::BadPredictor { .. })
    ));
    assert!(matches!(
        x0("ablat", &[("ablat", "inf")]),
        Err(FormulaError::BadPredictor { .. })
    ));
    let e = x0("alloc", &[("alloc", "cluster")]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the prediction point gives \"cluster\" for factor \"alloc\": expected one of its levels \"alternate\", \"random\", \"systematic\""
    );
}

#[test]
fn error_empty_model() {
    assert!(matches!(err("0"), FormulaError::Empty { .. }));
    assert!(matches!(
        err("ablat - ablat - 1"),
        FormulaError::Empty { .. }
    ));
}

#[test]
fn error_factor_with_a_single_level() {
    // R: model.matrix(~ factor(g), data.frame(g = c("a", "a"))) stops with "contrasts can be
    // applied only to factors with 2 or more levels"; metafor's rma() too.
    let t = parse("g,x\na,1\na,2\nb,3\n").unwrap();
    for formula in ["g", "factor(g) - 1", "x:g", "x + factor(x)"] {
        let rows = if formula.contains('x') && !formula.contains('g') {
            vec![0]
        } else {
            vec![0, 1]
        };
        let e = Formula::parse(formula)
            .unwrap()
            .design(&t, &rows, &BTreeMap::new())
            .unwrap_err();
        assert!(
            matches!(e, FormulaError::SingleLevel { .. }),
            "{formula}: {e}"
        );
    }
    let e = Formula::parse("x + g")
        .unwrap()
        .design(&t, &[0, 1], &BTreeMap::new())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "formula \"x + g\": column \"g\" has a single level (\"a\") among the 2 studies in the model, and a factor needs at least two (metafor refuses it too): expected a column whose studies differ, or a formula without it"
    );
    // With a second level among the studies, the same formula codes.
    assert!(Formula::parse("x + g")
        .unwrap()
        .design(&t, &[0, 1, 2], &BTreeMap::new())
        .is_ok());
}

#[test]
fn encoding_rows_are_the_design_rows_of_the_studies() {
    // Each study's own values, coded through the encoding alone, give its row of the matrix.
    let t = parse(BCG).unwrap();
    let rows: Vec<usize> = (0..t.rows()).collect();
    let refs = BTreeMap::from([("alloc".to_owned(), "random".to_owned())]);
    for formula in [
        "ablat * alloc + I(year^2)",
        "0 + alloc:ablat + factor(year)",
    ] {
        let encoded = Formula::parse(formula)
            .unwrap()
            .encode(&t, &rows, &refs)
            .unwrap();
        let columns = encoded.encoding.columns();
        for &r in &rows {
            let at: BTreeMap<String, String> = columns
                .iter()
                .map(|c| ((*c).to_owned(), t.column(c).unwrap().cell(r).to_owned()))
                .collect();
            let row = encoded.encoding.row(&at).unwrap();
            let expected: Vec<f64> = encoded.design.x.row(r).iter().copied().collect();
            assert_eq!(row, expected, "{formula}, row {r}");
        }
        assert_eq!(encoded.encoding.names, encoded.design.names);
    }
}

#[test]
fn centred_variables_read_their_moderator_and_cluster() {
    let f = Formula::parse("between(x, `my study`) + within(x, `my study`):z").unwrap();
    assert_eq!(
        f.term_labels(),
        ["between(x, my study)", "within(x, my study):z"]
    );
    // Rows missing x, the cluster or z are left out.
    assert_eq!(f.columns(), ["x", "my study", "z"]);
    let centring = f.centring();
    assert_eq!(centring.len(), 2);
    assert_eq!(centring[1].part, Part::Within);
    assert_eq!(centring[1].source_text(), "within(x, `my study`)");
    assert_eq!(
        f.centred("between(x, my study)").map(|c| c.part),
        Some(Part::Between)
    );
    for bad in ["within(x)", "within(x, )", "between(x y)"] {
        assert!(
            matches!(err(bad), FormulaError::Syntax { .. }),
            "{bad}: {:?}",
            err(bad)
        );
    }
}

#[test]
fn formula_edits_keep_centred_variables_as_typed() {
    let typed = "within(x, `my study`) + between(x, `my study`)";
    let added = edit::set_moderator(typed, "z", true, false).expect("z added");
    assert_eq!(added, "within(x, `my study`) + between(x, `my study`) + z");
    // A new table keeps a centred term while it has both columns.
    let present = |c: &str| ["x", "my study", "z"].contains(&c);
    assert_eq!(edit::retain_columns(&added, present), None);
    let gone = edit::retain_columns(&added, |c: &str| c != "my study").expect("dropped");
    assert_eq!(gone, "z");
}
