//! Permutation tests against metafor 3.8's exact `permutest` (tests/fixtures/stats/
//! permutest.json; random permutations cannot be compared across generators), plus the
//! reproducibility, slicing, cancelling and splitting over Web Workers the web interface
//! relies on.

use std::ops::ControlFlow;

mod common;

use common::{fixture, method, test, Studies};
use meridian::stats::{Fit, ModelSpec, Part, PermutationCounts, PermutationSettings};
use serde::Deserialize;

/// Exact permutation p-values are ratios of counts: equal up to rounding of the division.
const EXACT_P_ABS: f64 = 1e-12;
/// Statistics of the observed data, converged iterative quantities.
const ITERATIVE_REL: f64 = 1e-6;

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct Case {
    name: String,
    method: String,
    test: String,
    #[serde(flatten)]
    studies: Studies,
    pval: Vec<f64>,
    QMp: Option<f64>,
    zval: Vec<f64>,
    iterations: usize,
}

fn fixture_fit(c: &Case) -> Fit {
    let spec = ModelSpec {
        method: method(&c.method),
        test: test(&c.test),
        level: 0.95,
        ..ModelSpec::default()
    };
    c.studies.fit(&spec).expect("fits")
}

fn cases() -> Vec<Case> {
    fixture("permutest.json")
}

#[test]
fn exact_permutation_p_values_match_metafor() {
    for c in cases() {
        let f = fixture_fit(&c);
        for (coef, z) in f.coefficients.iter().zip(&c.zval) {
            assert!(
                (coef.statistic - z).abs() <= ITERATIVE_REL * z.abs(),
                "{} statistic",
                c.name
            );
        }
        let settings = PermutationSettings {
            iterations: 10_000,
            seed: 7,
        };
        let result = f
            .permutation_test(settings)
            .expect("settings are valid")
            .run(|_| ControlFlow::Continue(()))
            .expect("all refits succeed")
            .expect("not cancelled");
        assert!(
            result.exact,
            "{}: k! or 2^k fits in 10 000 iterations",
            c.name
        );
        assert_eq!(
            result.iterations, c.iterations,
            "{}: distinct arrangements",
            c.name
        );
        for (i, (got, want)) in result.p_values.iter().zip(&c.pval).enumerate() {
            assert!(
                (got - want).abs() <= EXACT_P_ABS,
                "{} p[{i}]: got {got}, metafor {want}",
                c.name
            );
        }
        match (result.qm_p, c.QMp) {
            (Some(got), Some(want)) if f.p > 1 => {
                assert!(
                    (got - want).abs() <= EXACT_P_ABS,
                    "{} QMp: got {got}, metafor {want}",
                    c.name
                )
            }
            (None, _) => assert_eq!(f.p, 1, "{}: only intercept-only models lack QM", c.name),
            (got, want) => panic!("{} QMp: got {got:?}, metafor {want:?}", c.name),
        }
    }
}

#[test]
fn same_seed_gives_same_p_values_and_slices_add_up() {
    let c = cases().into_iter().next().expect("a case");
    let f = fixture_fit(&c);
    // 200 < 6!/2! = 360 distinct arrangements (two trials share a latitude): random.
    let settings = PermutationSettings {
        iterations: 200,
        seed: 42,
    };
    let whole = f
        .permutation_test(settings)
        .expect("valid")
        .run(|_| ControlFlow::Continue(()))
        .expect("refits succeed")
        .expect("not cancelled");
    assert!(!whole.exact);
    assert_eq!(whole.iterations, 200);
    let mut sliced = f.permutation_test(settings).expect("valid");
    let mut last = sliced.step(0).expect("no work");
    assert_eq!(last.done, 0);
    while !sliced.is_finished() {
        last = sliced.step(37).expect("refits succeed");
    }
    assert_eq!(last.done, 200);
    assert_eq!(sliced.result(), whole);
    let other = f
        .permutation_test(PermutationSettings {
            iterations: 200,
            seed: 43,
        })
        .expect("valid")
        .run(|_| ControlFlow::Continue(()))
        .expect("refits succeed")
        .expect("not cancelled");
    assert_ne!(
        other.p_values, whole.p_values,
        "another seed draws other permutations"
    );
}

#[test]
fn random_permutations_approach_the_exact_p_value() {
    let c = cases().into_iter().next().expect("a case");
    let f = fixture_fit(&c);
    let random = f
        .permutation_test(PermutationSettings {
            iterations: 300,
            seed: 1,
        })
        .expect("valid")
        .run(|_| ControlFlow::Continue(()))
        .expect("refits succeed")
        .expect("not cancelled");
    assert!(!random.exact, "300 < 360 distinct arrangements");
    // 300 draws: the standard error of a p-value p is √(p(1 − p)/300) ≤ 0.029.
    for (got, want) in random.p_values.iter().zip(&c.pval) {
        assert!((got - want).abs() < 0.06, "random {got} vs exact {want}");
    }
}

#[test]
fn cancelling_stops_the_test() {
    let c = cases().into_iter().next().expect("a case");
    let f = fixture_fit(&c);
    let mut calls = 0;
    let outcome = f
        .permutation_test(PermutationSettings::default())
        .expect("valid")
        .run(|p| {
            calls += 1;
            assert!(p.done < p.total);
            ControlFlow::Break(())
        })
        .expect("refits succeed");
    assert!(outcome.is_none());
    assert_eq!(calls, 1);
}

#[test]
fn zero_iterations_is_an_error() {
    let c = cases().into_iter().next().expect("a case");
    let f = fixture_fit(&c);
    let err = f
        .permutation_test(PermutationSettings {
            iterations: 0,
            seed: 1,
        })
        .unwrap_err();
    assert!(err.to_string().contains("at least one permutation"));
}

/// The counts of `settings`' test of `f` run as `of` parts, merged in the order they finish
/// (last part first, as a slow first worker would have it).
fn in_parts(f: &Fit, settings: PermutationSettings, of: usize) -> PermutationCounts {
    let mut merged: Option<PermutationCounts> = None;
    for index in (0..of).rev() {
        let part = Part::new(index, of).expect("index < of");
        let mut test = meridian::stats::PermutationTest::part(f, settings, part).expect("valid");
        while !test.is_finished() {
            test.step(13).expect("refits succeed");
        }
        let counts = test.counts();
        merged = Some(match merged {
            None => counts,
            Some(m) => m.merge(&counts).expect("parts of one test"),
        });
    }
    merged.expect("at least one part")
}

#[test]
fn the_same_seed_gives_the_same_p_values_in_one_part_and_in_four() {
    let c = cases().into_iter().next().expect("a case");
    let f = fixture_fit(&c);
    // 250 < 360 distinct arrangements: random permutations, each from its own stream.
    let settings = PermutationSettings {
        iterations: 250,
        seed: 20_260_101,
    };
    let one = in_parts(&f, settings, 1);
    let four = in_parts(&f, settings, 4);
    assert!(!one.exact);
    assert_eq!(one.done, 250);
    assert!(four.is_complete());
    assert_eq!(four, one, "four parts count what one does");
    assert_eq!(
        four.result(),
        f.permutation_test(settings)
            .expect("valid")
            .run(|_| ControlFlow::Continue(()))
            .expect("refits succeed")
            .expect("not cancelled")
    );
}

#[test]
fn an_exact_test_in_parts_matches_metafor() {
    for c in cases() {
        let f = fixture_fit(&c);
        let settings = PermutationSettings {
            iterations: 10_000,
            seed: 7,
        };
        let result = in_parts(&f, settings, 3).result();
        assert!(result.exact, "{}", c.name);
        assert_eq!(result.iterations, c.iterations, "{}", c.name);
        for (i, (got, want)) in result.p_values.iter().zip(&c.pval).enumerate() {
            assert!(
                (got - want).abs() <= EXACT_P_ABS,
                "{} p[{i}] in three parts: got {got}, metafor {want}",
                c.name
            );
        }
    }
}

#[test]
fn counts_of_different_tests_do_not_merge() {
    let c = cases().into_iter().next().expect("a case");
    let f = fixture_fit(&c);
    let a = in_parts(
        &f,
        PermutationSettings {
            iterations: 100,
            seed: 1,
        },
        1,
    );
    let b = in_parts(
        &f,
        PermutationSettings {
            iterations: 120,
            seed: 1,
        },
        1,
    );
    assert_eq!(a.merge(&b), None, "other totals");
}
