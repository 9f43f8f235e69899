//! Tests of role guessing, studies and the rows left out.
use super::*;
use crate::data::parse::parse;

const BCG_HEAD: &str = "trial,author,year,tpos,tneg,cpos,cneg,ablat,alloc\n\
    1,Aronson,1948,4,119,11,128,44,random\n\
    2,Ferguson & Simes,1949,6,300,29,274,55,random\n";

#[test]
fn guesses_metafor_names_case_insensitively() {
    let t = parse("Study,YI,sei,ai,bi,ci,di,x\nA,1,1,1,1,1,1,1\n").unwrap();
    let r = guess(&t);
    assert_eq!(r.slab.as_deref(), Some("Study"));
    assert_eq!(r.yi.as_deref(), Some("YI"));
    assert_eq!(r.vi, None);
    assert_eq!(r.sei.as_deref(), Some("sei"));
    assert_eq!(r.raw.len(), 4);
    assert_eq!(
        r.source(None).unwrap(),
        EffectSource::Given {
            yi: "YI".into(),
            variance: Variance::Sei("sei".into())
        }
    );
}

#[test]
fn label_prefers_author_over_trial_number() {
    let t = parse(BCG_HEAD).unwrap();
    assert_eq!(guess(&t).slab.as_deref(), Some("author"));
}

#[test]
fn label_prefers_a_text_column_over_a_numeric_study_index() {
    let t = parse("study,author,yi,vi\n1,Garfinkel,0.1,0.2\n").unwrap();
    assert_eq!(guess(&t).slab.as_deref(), Some("author"));
    let t = parse("study,yi,vi\n1,0.1,0.2\n").unwrap();
    assert_eq!(guess(&t).slab.as_deref(), Some("study"));
}

#[test]
fn raw_source_with_overridden_columns() {
    let t = parse(BCG_HEAD).unwrap();
    let mut r = guess(&t);
    for (role, col) in [
        (RawRole::Ai, "tpos"),
        (RawRole::Bi, "tneg"),
        (RawRole::Ci, "cpos"),
        (RawRole::Di, "cneg"),
    ] {
        r.raw.insert(role, col.into());
    }
    let source = r.source(Some(Measure::Or)).unwrap();
    let s = studies(&t, &source, r.slab.as_deref(), &["ablat"]).unwrap();
    // Aronson: log(4·128 / (119·11)) = −0.938694…
    assert!((s.yi[0] - (4.0f64 * 128.0 / (119.0 * 11.0)).ln()).abs() < 1e-14);
    assert_eq!(s.labels, ["Aronson", "Ferguson & Simes"]);
}

#[test]
fn missing_values_exclude_rows_and_say_which_columns() {
    let t = parse("yi,vi,x,g\n1,1,1,a\nNA,1,2,b\n3,1,.,\n4,1,4,d\n").unwrap();
    let source = guess(&t).source(None).unwrap();
    let s = studies(&t, &source, None, &["x", "g"]).unwrap();
    assert_eq!(s.yi, [1.0, 4.0]);
    assert_eq!(s.rows, [0, 3]);
    assert_eq!(s.labels, ["1", "4"]);
    assert_eq!(
        s.excluded,
        [
            Excluded {
                row: 2,
                line: 3,
                reason: Exclusion::Missing {
                    columns: vec!["yi".into()]
                }
            },
            Excluded {
                row: 3,
                line: 4,
                reason: Exclusion::Missing {
                    columns: vec!["x".into(), "g".into()]
                }
            }
        ]
    );
}

#[test]
fn error_no_effect_sizes() {
    let t = parse("a,b\n1,2\n").unwrap();
    assert_eq!(guess(&t).source(None), Err(RolesError::NoEffectSizes));
}

#[test]
fn error_no_variance() {
    let t = parse("yi,b\n1,2\n").unwrap();
    assert_eq!(
        guess(&t).source(None),
        Err(RolesError::NoVariance { yi: "yi".into() })
    );
}

#[test]
fn error_missing_raw_column() {
    let t = parse("ri,n\n0.1,20\n").unwrap();
    let e = guess(&t).source(Some(Measure::Zcor)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "measure ZCOR needs a column for ni: expected a column named ni, or one chosen for it"
    );
}

/// The one excluded row of `text` read with `measure` (raw columns guessed), and the
/// studies that remain.
fn one_left_out(text: &str, measure: Option<Measure>) -> (Excluded, Studies) {
    let t = parse(text).unwrap();
    let source = guess(&t).source(measure).unwrap();
    let s = studies(&t, &source, None, &[]).unwrap();
    assert_eq!(s.excluded.len(), 1, "{text}");
    (s.excluded[0].clone(), s)
}

#[test]
fn unusable_raw_data_leave_the_row_out_naming_row_and_column() {
    let t = parse("study,xi,ni\nA,3,10\nB,12,10\n").unwrap();
    let source = guess(&t).source(Some(Measure::Plo)).unwrap();
    let s = studies(&t, &source, Some("study"), &[]).unwrap();
    assert_eq!(s.labels, ["A"]);
    let e = &s.excluded[0];
    assert_eq!((e.row, e.line), (2, 3));
    assert_eq!(
        e.reason.to_string(),
        "column \"xi\": xi is 12, more events than the 10 participants in ni: expected 0 ≤ xi ≤ ni"
    );
}

#[test]
fn a_correlation_of_one_leaves_the_row_out_naming_the_ri_column() {
    let t = parse("r,n\n0.5,20\n-1,30\n").unwrap();
    let mut roles = Roles::default();
    roles.raw.insert(RawRole::Ri, "r".into());
    roles.raw.insert(RawRole::Ni, "n".into());
    let source = roles.source(Some(Measure::Cor)).unwrap();
    let s = studies(&t, &source, None, &[]).unwrap();
    assert_eq!(s.rows, [0]);
    assert!(matches!(
        &s.excluded[0],
        Excluded { row: 2, reason: Exclusion::Unusable { column, .. }, .. } if column == "r"
    ));
}

#[test]
fn zero_and_negative_variances_leave_the_row_out() {
    for (text, value) in [
        ("yi,vi\n1,0.1\n2,-0.1\n3,0.2\n", -0.1),
        ("yi,vi\n1,0.1\n2,0\n3,0.2\n", 0.0),
    ] {
        let (e, s) = one_left_out(text, None);
        assert_eq!(
            e,
            Excluded {
                line: 3,
                row: 2,
                reason: Exclusion::Variance {
                    column: "vi".into(),
                    value
                }
            }
        );
        assert_eq!(s.yi, [1.0, 3.0]);
    }
    // A standard error whose square overflows weighs nothing either.
    let (e, _) = one_left_out("yi,sei\n1,0.1\n2,1e200\n", None);
    assert_eq!(
        e.reason.to_string(),
        "column \"sei\" is 1e200: expected a sampling variance or standard error above zero"
    );
}

#[test]
fn rows_metafor_leaves_out_are_left_out_with_their_reason() {
    // metafor's escalc gives NA (and rma then omits the study) for each of these.
    let cases: [(&str, Measure, &str); 4] = [
        (
            "ri,ni\n0.3,20\n1,30\n0.2,25\n",
            Measure::Zcor,
            "column \"ri\": ri is 1: expected a correlation strictly between -1 and 1",
        ),
        (
            "ri,ni\n0.3,20\n0.5,3\n0.2,25\n",
            Measure::Zcor,
            "column \"ni\": ni is 3: expected more than 3 for this measure's variance",
        ),
        (
            "m1i,sd1i,n1i,m2i,sd2i,n2i\n5,1,10,4,1,10\n5,1,1,4,1,1\n6,2,20,5,2,20\n",
            Measure::Smd,
            "column \"n2i\": n2i is 1: expected more than 2 for this measure's variance",
        ),
        (
            "m1i,sd1i,n1i,m2i,sd2i,n2i\n5,1,10,4,1,10\n-5,1,10,4,1,10\n6,2,20,5,2,20\n",
            Measure::Rom,
            "column \"m1i\": m1i is -5: expected a positive mean for the log ratio of means",
        ),
    ];
    for (text, measure, reason) in cases {
        let (e, s) = one_left_out(text, Some(measure));
        assert_eq!(
            (e.row, e.reason.to_string().as_str()),
            (2, reason),
            "{measure}"
        );
        assert_eq!(s.rows, [0, 2], "{measure}");
    }
    // Both standard deviations 0 for a mean difference: a variance of 0.
    let (e, _) = one_left_out(
        "m1i,sd1i,n1i,m2i,sd2i,n2i\n5,1,10,4,1,10\n5,0,10,4,0,10\n",
        Some(Measure::Md),
    );
    assert_eq!(e.reason, Exclusion::ComputedVariance { value: 0.0 });
}

#[test]
fn error_non_numeric_effect_cell() {
    let t = parse("yi,vi\n1,0.1\nabc,0.1\n").unwrap();
    let source = guess(&t).source(None).unwrap();
    assert!(matches!(
        studies(&t, &source, None, &[]),
        Err(RolesError::Parse(ParseError::NotANumber { line: 3, .. }))
    ));
}

#[test]
fn error_unknown_moderator_column() {
    let t = parse("yi,vi\n1,0.1\n").unwrap();
    let source = guess(&t).source(None).unwrap();
    assert!(matches!(
        studies(&t, &source, None, &["ablat"]),
        Err(RolesError::Parse(ParseError::UnknownColumn { .. }))
    ));
}

#[test]
fn error_no_complete_rows() {
    for text in ["yi,vi\nNA,0.1\n2,NA\n", "yi,vi\nNA,0.1\n2,0\n"] {
        let t = parse(text).unwrap();
        let source = guess(&t).source(None).unwrap();
        assert_eq!(
            studies(&t, &source, None, &[]),
            Err(RolesError::NoStudies { excluded: 2 })
        );
    }
}
