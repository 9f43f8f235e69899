//! Every way user data can be unfit for a model is a typed error whose message names the
//! study or moderator at fault; nothing panics.

use meridian::stats::{fit, Design, ModelSpec, StatsError, Tau2Method, Test};
use nalgebra::DMatrix;

fn design(names: &[&str], columns: &[&[f64]]) -> Design {
    let k = columns[0].len();
    Design {
        x: DMatrix::from_fn(k, columns.len(), |i, j| columns[j][i]),
        names: names.iter().map(|n| (*n).to_owned()).collect(),
        intercept: names.first() == Some(&"intrcpt"),
        terms: Vec::new(),
    }
}

const Y: [f64; 5] = [0.1, 0.4, -0.2, 0.3, 0.0];
const V: [f64; 5] = [0.05, 0.08, 0.04, 0.1, 0.06];

fn reml() -> ModelSpec {
    ModelSpec::default()
}

#[test]
fn a_non_positive_or_missing_variance_names_the_study() {
    for bad in [0.0, -0.1, f64::NAN, f64::INFINITY, 1e-320] {
        let mut v = V;
        v[2] = bad;
        let err = fit(&Y, &v, &Design::intercept_only(5), &reml()).unwrap_err();
        assert!(
            matches!(err, StatsError::InvalidVariance { study: 2, .. }),
            "{err:?}"
        );
        assert!(
            err.to_string().starts_with("study 3 has sampling variance"),
            "{err}"
        );
    }
}

#[test]
fn a_missing_effect_or_moderator_names_the_study() {
    let mut y = Y;
    y[4] = f64::NAN;
    let err = fit(&y, &V, &Design::intercept_only(5), &reml()).unwrap_err();
    // NaN ≠ NaN, so match rather than compare.
    assert!(matches!(err, StatsError::NonFiniteEffect { study: 4, value } if value.is_nan()));
    assert!(
        err.to_string().starts_with("study 5 has effect size NaN"),
        "{err}"
    );
    let x = [1.0, 2.0, f64::NAN, 4.0, 5.0];
    let d = design(&["intrcpt", "dose"], &[&[1.0; 5], &x]);
    let err = fit(&Y, &V, &d, &reml()).unwrap_err();
    assert_eq!(
        err,
        StatsError::NonFiniteModerator {
            study: 2,
            column: "dose".into()
        }
    );
    assert!(err.to_string().contains("study 3") && err.to_string().contains("`dose`"));
}

#[test]
fn collinear_moderators_are_named() {
    let a = [1.0, 2.0, 3.0, 4.0, 6.0];
    let b = [0.5, 0.1, 0.9, 0.3, 0.2];
    let sum: Vec<f64> = a.iter().zip(&b).map(|(a, b)| a + b).collect();
    let d = design(
        &["intrcpt", "a", "b", "a_plus_b"],
        &[&[1.0; 5], &a, &b, &sum],
    );
    let spec = ModelSpec {
        method: Tau2Method::Fe,
        ..reml()
    };
    let err = fit(&Y, &V, &d, &spec).unwrap_err();
    assert_eq!(
        err,
        StatsError::RankDeficient {
            column: "a_plus_b".into(),
            collinear_with: vec!["a".into(), "b".into()]
        }
    );
    assert_eq!(err.to_string(), "moderator `a_plus_b` is a linear combination of `a`, `b`; remove one of them from the model");
    // Dummies of every level next to an intercept.
    let g1 = [1.0, 1.0, 0.0, 0.0, 0.0];
    let g2 = [0.0, 0.0, 1.0, 1.0, 1.0];
    let d = design(&["intrcpt", "g1", "g2"], &[&[1.0; 5], &g1, &g2]);
    let err = fit(&Y, &V, &d, &spec).unwrap_err();
    assert!(
        matches!(&err, StatsError::RankDeficient { column, collinear_with }
        if column == "g2" && collinear_with == &["intrcpt".to_owned(), "g1".to_owned()])
    );
    let d = design(&["intrcpt", "zero"], &[&[1.0; 5], &[0.0; 5]]);
    let err = fit(&Y, &V, &d, &spec).unwrap_err();
    assert!(err.to_string().contains("`zero` is constant zero"), "{err}");
}

#[test]
fn too_few_studies_for_the_coefficients() {
    let d = design(&["intrcpt", "x"], &[&[1.0, 1.0], &[0.0, 1.0]]);
    let err = fit(&Y[..2], &V[..2], &d, &reml()).unwrap_err();
    assert_eq!(err, StatsError::TooFewStudies { k: 2, p: 2 });
    // A fixed-effect model can interpolate, but Knapp–Hartung needs residual df.
    let fe = ModelSpec {
        method: Tau2Method::Fe,
        test: Test::Z,
        level: 0.95,
    };
    let f = fit(&Y[..2], &V[..2], &d, &fe).expect("FE with k = p fits");
    assert_eq!(f.heterogeneity.qe_p, None);
    assert!(f.confint_tau2(0.95).is_err());
    let knha = ModelSpec {
        test: Test::KnappHartung,
        ..fe
    };
    assert_eq!(
        fit(&Y[..2], &V[..2], &d, &knha).unwrap_err(),
        StatsError::TooFewStudies { k: 2, p: 2 }
    );
}

#[test]
fn malformed_inputs_and_settings_are_reported() {
    let d = Design::intercept_only(5);
    assert!(matches!(
        fit(&Y[..4], &V, &d, &reml()).unwrap_err(),
        StatsError::LengthMismatch {
            effects: 4,
            variances: 5,
            rows: 5
        }
    ));
    assert_eq!(
        fit(&[], &[], &Design::intercept_only(0), &reml()).unwrap_err(),
        StatsError::NoStudies
    );
    for level in [0.0, 1.0, 95.0, f64::NAN] {
        let spec = ModelSpec { level, ..reml() };
        assert!(matches!(
            fit(&Y, &V, &d, &spec).unwrap_err(),
            StatsError::InvalidLevel { .. }
        ));
    }
    let f = fit(&Y, &V, &d, &reml()).expect("fits");
    assert_eq!(
        f.predict(&[1.0, 2.0]).unwrap_err(),
        StatsError::WrongPredictorLength {
            expected: 1,
            got: 2
        }
    );
    assert_eq!(
        f.predict(&[f64::NAN]).unwrap_err(),
        StatsError::NonFinitePredictor { index: 0 }
    );
    for columns in [&[][..], &[1][..], &[0, 0][..]] {
        assert!(matches!(
            f.wald_test(columns).unwrap_err(),
            StatsError::InvalidColumns { .. }
        ));
    }
    assert!(matches!(
        f.confint_tau2(1.5).unwrap_err(),
        StatsError::InvalidLevel { .. }
    ));
}

#[test]
fn every_message_is_a_sentence_that_says_what_to_do() {
    let errors = [
        StatsError::NoStudies,
        StatsError::TooFewStudies { k: 3, p: 4 },
        StatsError::NumericallySingular { tau2: 0.5 },
        StatsError::NoConvergence {
            method: Tau2Method::Reml,
            iterations: 1000,
            last_tau2: 0.2,
        },
        StatsError::NoPermutations,
    ];
    for e in errors {
        let s = e.to_string();
        assert!(s.contains(';'), "{s}: states the problem, then the remedy");
        assert!(s.chars().next().is_some_and(char::is_lowercase), "{s}");
    }
}
