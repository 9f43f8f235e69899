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
        ..ModelSpec::default()
    };
    let f = fit(&Y[..2], &V[..2], &d, &fe).expect("FE with k = p fits");
    // metafor: QE(df = 0) = 0, p-val = 1 (QE is 0 on 0 df, not rounding residue).
    assert_eq!(f.heterogeneity.qe, 0.0);
    assert_eq!(f.heterogeneity.qe_p, 1.0);
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
        StatsError::InvalidControl {
            tol: 0.0,
            max_iter: 10,
        },
        StatsError::InvalidRows { row: 20, k: 13 },
        StatsError::InvalidParameters { given: vec![-1.0] },
    ];
    for e in errors {
        let s = e.to_string();
        assert!(s.contains(';'), "{s}: states the problem, then the remedy");
        assert!(s.chars().next().is_some_and(char::is_lowercase), "{s}");
    }
}

/// Awkward but legal data: every method and test either fits with finite results or returns an
/// error, and the follow-up analyses behave the same way.
#[test]
fn awkward_data_never_panics() {
    let ones = [1.0; 6];
    let datasets: Vec<(&str, Vec<f64>, Vec<f64>, Design)> = vec![
        (
            "identical effects",
            vec![0.3; 6],
            V.iter().chain(&[0.07]).copied().collect(),
            Design::intercept_only(6),
        ),
        (
            "two studies",
            vec![0.1, 0.9],
            vec![0.01, 0.02],
            Design::intercept_only(2),
        ),
        (
            "tiny variances",
            Y.iter().chain(&[0.2]).copied().collect(),
            vec![1e-12, 2e-12, 1e-11, 5e-12, 3e-12, 1e-12],
            Design::intercept_only(6),
        ),
        (
            "variances spanning 1e-8 to 1e4",
            Y.iter().chain(&[0.2]).copied().collect(),
            vec![1e-8, 1e4, 0.1, 1.0, 1e-3, 10.0],
            Design::intercept_only(6),
        ),
        (
            "moderator on a 1e12 scale",
            Y.iter().chain(&[0.2]).copied().collect(),
            V.iter().chain(&[0.07]).copied().collect(),
            design(
                &["intrcpt", "big"],
                &[&ones, &[1e12, 2e12, 3e12, 4.5e12, 5e12, 7e12]],
            ),
        ),
        (
            "interpolating moderators (k = p + 1)",
            Y.iter().chain(&[0.2]).copied().collect(),
            V.iter().chain(&[0.07]).copied().collect(),
            design(
                &["intrcpt", "a", "b", "c", "d"],
                &[
                    &ones,
                    &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                    &[1.0, 4.0, 9.0, 16.0, 25.0, 36.0],
                    &[0.0, 1.0, 0.0, 1.0, 0.0, 1.0],
                    &[3.0, 1.0, 4.0, 1.0, 5.0, 9.0],
                ],
            ),
        ),
    ];
    for (name, y, v, d) in &datasets {
        let mut fitted = 0;
        for method in Tau2Method::ALL {
            for test in [Test::Z, Test::KnappHartung] {
                let spec = ModelSpec {
                    method,
                    test,
                    level: 0.95,
                    ..ModelSpec::default()
                };
                let Ok(f) = fit(y, v, d, &spec) else { continue };
                fitted += 1;
                let tau2 = f.tau2().expect("one tau2");
                assert!(
                    tau2.is_finite() && tau2 >= 0.0,
                    "{name} {method:?}: tau2 {tau2}"
                );
                assert!(
                    f.coefficients.iter().all(|c| c.estimate.is_finite()),
                    "{name} {method:?}"
                );
                let x0: Vec<f64> = (0..f.p).map(|j| d.x[(0, j)]).collect();
                assert!(f.predict(&x0).is_ok(), "{name} {method:?}");
                if let Ok(ci) = f.confint_tau2(0.95) {
                    assert!(ci.tau2.lower <= ci.tau2.upper, "{name} {method:?}");
                }
                let settings = meridian::stats::PermutationSettings {
                    iterations: 20,
                    seed: 3,
                };
                if let Ok(mut t) = f.permutation_test(settings) {
                    let _ = t.step(20);
                }
            }
        }
        // Else the checks above ran on nothing: these data are awkward, not unfittable, and at
        // least half of the method × test pairs fit each set (18 to 20 of 20 do today).
        assert!(
            fitted >= Tau2Method::ALL.len(),
            "{name}: only {fitted} fits"
        );
    }
}

#[test]
fn eb_converges_where_fisher_scoring_crawls_and_agrees_with_pm() {
    // Sampling variances spanning 12 orders of magnitude: metafor 3.8's EB iteration crawls
    // and stops with "Fisher scoring algorithm did not converge" under
    // control = list(maxiter = 10000, threshold = 1e-10), and so did the engine's before the
    // safeguarded optimiser. EB and PM solve the same equation Q(τ²) = k − p; metafor's PM
    // with control = list(tol = 1e-12) gives 0.000685122828909 (its default tolerance stops
    // at 0.000693).
    let y = [0.1, 0.4, -0.2, 0.3, 0.0, 0.2];
    let v = [1e-8, 1e4, 0.1, 1.0, 1e-3, 10.0];
    let d = Design::intercept_only(6);
    for method in [Tau2Method::Eb, Tau2Method::Pm] {
        let spec = ModelSpec { method, ..reml() };
        let f = fit(&y, &v, &d, &spec).unwrap_or_else(|e| panic!("{method:?}: {e}"));
        let tau2 = f.tau2().expect("tau2");
        assert!(
            (tau2 - 0.000685122828909).abs() <= 1e-6 * 0.000685122828909,
            "{method:?}: {tau2}"
        );
    }
    // With too few iterations allowed, non-convergence is an error with the last value.
    let capped = ModelSpec {
        method: Tau2Method::Eb,
        control: meridian::stats::Control {
            tol: 1e-10,
            max_iter: 2,
        },
        ..reml()
    };
    match fit(&y, &v, &d, &capped).unwrap_err() {
        StatsError::NoConvergence {
            method,
            iterations,
            last_tau2,
        } => {
            assert_eq!(method, Tau2Method::Eb);
            assert_eq!(iterations, 2);
            assert!(last_tau2.is_finite() && last_tau2 >= 0.0);
        }
        other => panic!("expected non-convergence, got {other:?}"),
    }
}

#[test]
fn non_convergence_names_the_estimator_as_metafor_does() {
    let e = StatsError::NoConvergence {
        method: Tau2Method::Reml,
        iterations: 1000,
        last_tau2: 0.25,
    };
    assert_eq!(
        e.to_string(),
        "the REML estimate of tau^2 did not converge after 1000 iterations (last value 0.25); \
         try another estimator"
    );
}
