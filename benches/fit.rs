//! Benchmarks of the numerical core: REML meta-regression fits with p = 4 coefficients at
//! k = 10 to 1 000 000 studies, and a 1 000-permutation test at k = 50.
//!
//! Run with `cargo bench --bench fit`. The data are simulated from a fixed seed:
//! y = Xβ + u + ε with an intercept and three uniform moderators, τ² = 0.1, vᵢ ∈ [0.01, 0.21).

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

/// k simulated studies with an intercept and three moderators.
fn simulate(k: usize) -> (Vec<f64>, Vec<f64>, Design) {
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let beta = [0.5, -0.2, 0.1, 0.3];
    let x = DMatrix::from_fn(k, 4, |_, j| if j == 0 { 1.0 } else { uniform(&mut rng) });
    let vi: Vec<f64> = (0..k).map(|_| 0.01 + 0.2 * uniform(&mut rng)).collect();
    let yi = (0..k)
        .map(|i| {
            let mean: f64 = (0..4).map(|j| x[(i, j)] * beta[j]).sum();
            mean + 0.1_f64.sqrt() * normal(&mut rng) + vi[i].sqrt() * normal(&mut rng)
        })
        .collect();
    let design = Design {
        x,
        names: ["intrcpt", "x1", "x2", "x3"].map(String::from).to_vec(),
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
    };
    let mut group = c.benchmark_group("reml_fit_p4");
    for k in [10, 1_000, 100_000, 1_000_000] {
        let (yi, vi, design) = simulate(k);
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
    };
    let (yi, vi, design) = simulate(50);
    let fitted = fit(&yi, &vi, &design, &spec).expect("fits");
    let settings = PermutationSettings {
        iterations: 1_000,
        seed: 1,
    };
    let mut group = c.benchmark_group("permutation_test");
    group.sample_size(10);
    group.bench_function("reml_k50_p4_1000", |b| {
        b.iter(|| {
            fitted
                .permutation_test(settings)
                .expect("valid settings")
                .run(|_| ControlFlow::Continue(()))
                .expect("refits succeed")
        })
    });
    group.finish();
}

criterion_group!(benches, reml_fits, permutation_test);
criterion_main!(benches);
