//! Tests of the effect-size measures against hand calculations and metafor's escalc.

use super::*;

/// Agreement with hand calculation: round-off only.
const TOL: f64 = 1e-12;

#[test]
fn measure_names_round_trip_case_insensitively() {
    for m in Measure::ALL {
        assert_eq!(m.name().to_lowercase().parse::<Measure>(), Ok(m));
    }
    let e = "OddsRatio".parse::<Measure>().unwrap_err();
    assert!(e
        .to_string()
        .starts_with("unknown effect-size measure \"OddsRatio\""));
}

#[test]
fn measures_and_roles_are_saved_under_their_metafor_names() {
    assert_eq!(serde_json::to_string(&Measure::Rr).unwrap(), "\"RR\"");
    let m: Measure = serde_json::from_str("\"smd\"").unwrap();
    assert_eq!(m, Measure::Smd);
    assert_eq!(serde_json::to_string(&RawRole::Sd1i).unwrap(), "\"sd1i\"");
    let e = serde_json::from_str::<RawRole>("\"events\"").unwrap_err();
    assert!(e
        .to_string()
        .starts_with("unknown raw-data role \"events\": expected one of ai, bi"));
    let e = serde_json::from_str::<Measure>("\"HR\"").unwrap_err();
    assert!(e
        .to_string()
        .starts_with("unknown effect-size measure \"HR\""));
}

#[test]
fn back_transforms_are_the_inverse_links() {
    // BCG pooled log risk ratio −0.7145 (metafor REML) is a risk ratio of e^−0.7145 ≈ 0.48944.
    assert!((Measure::Rr.back_transform(-0.7145) - 0.489_436_77).abs() < 1e-8);
    // tanh(0.5) = (e − 1)/(e + 1) with e = e^1.
    let e = 1f64.exp();
    assert!((Measure::Zcor.back_transform(0.5) - (e - 1.0) / (e + 1.0)).abs() < TOL);
    // logit⁻¹(0) = ½; logit⁻¹(ln 3) = 3/4.
    assert!((Measure::Plo.back_transform(0.0) - 0.5).abs() < TOL);
    assert!((Measure::Plo.back_transform(3f64.ln()) - 0.75).abs() < TOL);
    assert_eq!(Measure::Smd.back_transform(0.3), 0.3);
    assert_eq!(Measure::Smd.back_transformed_label(), None);
    assert_eq!(Measure::Or.back_transformed_label(), Some("odds ratio"));
    assert_eq!(Measure::Rr.reading_label(), "risk ratio");
    assert_eq!(Measure::Md.reading_label(), "mean difference");
}

#[test]
fn hedges_correction_matches_the_usual_approximation_for_large_m() {
    // J(m) ≈ 1 − 3/(4m − 1) (Hedges, 1981); the exact value differs by O(m⁻²).
    let m = 200.0;
    assert!((hedges_correction(m) - (1.0 - 3.0 / (4.0 * m - 1.0))).abs() < 1e-6);
    // J(2) = Γ(1)/(√1·Γ(1/2)) = 1/√π.
    assert!((hedges_correction(2.0) - 1.0 / std::f64::consts::PI.sqrt()).abs() < TOL);
}

#[test]
fn zero_cell_adds_half_to_every_cell() {
    // a=0,b=20,c=4,d=16 → 0.5,20.5,4.5,16.5: log(0.5·16.5/(20.5·4.5)).
    let e = compute(Measure::Or, &[0.0, 20.0, 4.0, 16.0]).unwrap();
    assert!((e.yi - (0.5f64 * 16.5 / (20.5 * 4.5)).ln()).abs() < TOL);
    assert!((e.vi - (1.0 / 0.5 + 1.0 / 20.5 + 1.0 / 4.5 + 1.0 / 16.5)).abs() < TOL);
}

#[test]
fn error_negative_count() {
    assert_eq!(
        compute(Measure::Rr, &[1.0, -2.0, 3.0, 4.0]),
        Err(EffectSizeError::NegativeCount {
            role: RawRole::Bi,
            value: -2.0
        })
    );
}

#[test]
fn error_empty_group() {
    assert_eq!(
        compute(Measure::Rd, &[1.0, 2.0, 0.0, 0.0]),
        Err(EffectSizeError::EmptyGroup { role: RawRole::Ci })
    );
}

#[test]
fn error_events_exceed_group_size() {
    let e = compute(Measure::Pr, &[12.0, 10.0]).unwrap_err();
    assert_eq!(
        e,
        EffectSizeError::EventsExceedTotal {
            events: 12.0,
            total: 10.0
        }
    );
    assert_eq!(
        e.to_string(),
        "xi is 12, more events than the 10 participants in ni: expected 0 ≤ xi ≤ ni"
    );
}

#[test]
fn error_negative_sd() {
    assert_eq!(
        compute(Measure::Md, &[1.0, 1.0, 10.0, 2.0, -1.0, 10.0]),
        Err(EffectSizeError::NegativeSd {
            role: RawRole::Sd2i,
            value: -1.0
        })
    );
}

#[test]
fn error_zero_pooled_sd() {
    assert_eq!(
        compute(Measure::Smd, &[1.0, 0.0, 10.0, 2.0, 0.0, 10.0]),
        Err(EffectSizeError::ZeroPooledSd)
    );
}

#[test]
fn error_too_small_samples() {
    assert!(matches!(
        compute(Measure::Smd, &[1.0, 1.0, 2.0, 2.0, 1.0, 1.0]),
        Err(EffectSizeError::SampleTooSmall { .. })
    ));
    assert!(matches!(
        compute(Measure::Zcor, &[0.3, 3.0]),
        Err(EffectSizeError::SampleTooSmall { above, .. }) if above == 3.0
    ));
    assert!(matches!(
        compute(Measure::Md, &[1.0, 1.0, 0.0, 2.0, 1.0, 1.0]),
        Err(EffectSizeError::SampleTooSmall {
            role: RawRole::N1i,
            ..
        })
    ));
    assert!(matches!(
        compute(Measure::Plo, &[0.0, 0.0]),
        Err(EffectSizeError::SampleTooSmall {
            role: RawRole::Ni,
            ..
        })
    ));
}

#[test]
fn error_non_positive_mean_for_ratio_of_means() {
    assert_eq!(
        compute(Measure::Rom, &[0.0, 1.0, 10.0, 2.0, 1.0, 10.0]),
        Err(EffectSizeError::NonPositiveMean {
            role: RawRole::M1i,
            value: 0.0
        })
    );
}

#[test]
fn error_correlation_of_one() {
    for m in [Measure::Zcor, Measure::Cor] {
        assert_eq!(
            compute(m, &[1.0, 50.0]),
            Err(EffectSizeError::CorrelationOutOfRange { value: 1.0 })
        );
    }
}

#[test]
fn error_wrong_arity() {
    assert_eq!(
        compute(Measure::Or, &[1.0, 2.0]),
        Err(EffectSizeError::WrongArity {
            expected: 4,
            found: 2
        })
    );
}

#[test]
fn group_outcomes_adjust_only_the_group_with_a_zero_cell() {
    // Treatment 0 of 10 (no events: 1/2 added to its events and non-events), control 3 of 12.
    let table = [0.0, 10.0, 3.0, 9.0];
    let (t, c) = group_outcomes(Measure::Rr, table).unwrap();
    assert!((t - (0.5f64 / 11.0).ln()).abs() < TOL);
    assert!((c - (3.0f64 / 12.0).ln()).abs() < TOL);
    let (t, c) = group_outcomes(Measure::Or, table).unwrap();
    assert!((t - (0.5f64 / 10.5).ln()).abs() < TOL);
    assert!((c - (3.0f64 / 9.0).ln()).abs() < TOL);
    let (t, c) = group_outcomes(Measure::Rd, table).unwrap();
    assert!((t - 0.5 / 11.0).abs() < TOL);
    assert!((c - 0.25).abs() < TOL);
    assert_eq!(group_outcomes(Measure::Smd, table), None);
    assert_eq!(group_outcomes(Measure::Rr, [0.0, 0.0, 3.0, 9.0]), None);
    assert_eq!(group_outcomes(Measure::Or, [1.0, -1.0, 3.0, 9.0]), None);
}
