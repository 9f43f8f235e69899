//! Benchmarks of the numerical core: REML meta-regression fits with p = 4 coefficients at
//! k = 10 to 1 000 000 studies, 1 000 and 10 000 permutations at k = 50 (REML, two
//! moderators), and the setup of a permutation test at k = 5 000 and 20 000.
//!
//! Run with `cargo bench --bench fit`. The data are simulated from a fixed seed:
//! y = Xβ + u + ε with an intercept and uniform moderators, τ² = 0.1, vᵢ ∈ [0.01, 0.21).

use std::hint::black_box;
use std::ops::ControlFlow;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use meridian::stats::{fit, Design, ModelSpec, PermutationSettings, Tau2Method, Test};
use nalgebra::DMatrix;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// A uniform draw in [0, 1) from the top 53 bits.
fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u = 1.0 - uniform(rng);
    let v = uniform(rng);
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// k simulated studies with an intercept and p − 1 ≤ 3 moderators.
fn simulate(k: usize, p: usize) -> (Vec<f64>, Vec<f64>, Design) {
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let beta = [0.5, -0.2, 0.1, 0.3];
    let x = DMatrix::from_fn(k, p, |_, j| if j == 0 { 1.0 } else { uniform(&mut rng) });
    let vi: Vec<f64> = (0..k).map(|_| 0.01 + 0.2 * uniform(&mut rng)).collect();
    let yi = (0..k)
        .map(|i| {
            let mean: f64 = (0..p).map(|j| x[(i, j)] * beta[j]).sum();
            mean + 0.1_f64.sqrt() * normal(&mut rng) + vi[i].sqrt() * normal(&mut rng)
        })
        .collect();
    let design = Design {
        x,
        names: ["intrcpt", "x1", "x2", "x3"][..p]
            .iter()
            .map(|n| n.to_string())
            .collect(),
        intercept: true,
        terms: Vec::new(),
    };
    (yi, vi, design)
}

fn reml_fits(c: &mut Criterion) {
    let spec = ModelSpec {
        method: Tau2Method::Reml,
        test: Test::Z,
        level: 0.95,
        ..ModelSpec::default()
    };
    let mut group = c.benchmark_group("reml_fit_p4");
    for k in [10, 1_000, 100_000, 1_000_000] {
        let (yi, vi, design) = simulate(k, 4);
        if k >= 100_000 {
            group
                .sample_size(10)
                .measurement_time(Duration::from_secs(if k >= 1_000_000 { 20 } else { 5 }));
        }
        group.bench_with_input(BenchmarkId::from_parameter(k), &k, |b, _| {
            b.iter(|| fit(black_box(&yi), black_box(&vi), &design, &spec).expect("fits"))
        });
    }
    group.finish();
}

fn permutation_test(c: &mut Criterion) {
    let spec = ModelSpec {
        method: Tau2Method::Reml,
        test: Test::Z,
        level: 0.95,
        ..ModelSpec::default()
    };
    let (yi, vi, design) = simulate(50, 3);
    let fitted = fit(&yi, &vi, &design, &spec).expect("fits");
    let mut group = c.benchmark_group("permutation_test");
    group.sample_size(10);
    for iterations in [1_000, 10_000] {
        let settings = PermutationSettings {
            iterations,
            seed: 1,
        };
        if iterations >= 10_000 {
            group.measurement_time(Duration::from_secs(20));
        }
        group.bench_function(format!("reml_k50_p3_{iterations}"), |b| {
            b.iter(|| {
                fitted
                    .permutation_test(settings)
                    .expect("valid settings")
                    .run(|_| ControlFlow::Continue(()))
                    .expect("refits succeed")
            })
        });
    }
    group.finish();
}

/// Preparing a permutation test (counting the distinct arrangements of the rows of X), without
/// running any permutation.
fn permutation_setup(c: &mut Criterion) {
    let spec = ModelSpec {
        method: Tau2Method::Dl,
        test: Test::Z,
        level: 0.95,
        ..ModelSpec::default()
    };
    let mut group = c.benchmark_group("permutation_setup");
    group.sample_size(10);
    for k in [5_000, 20_000] {
        let (yi, vi, design) = simulate(k, 3);
        let fitted = fit(&yi, &vi, &design, &spec).expect("fits");
        let settings = PermutationSettings::default();
        group.bench_with_input(BenchmarkId::from_parameter(k), &k, |b, _| {
            b.iter(|| fitted.permutation_test(settings).expect("valid settings"))
        });
    }
    group.finish();
}

criterion_group!(benches, reml_fits, permutation_test, permutation_setup);
criterion_main!(benches);
