//! Benchmarks of the sensitivity analyses (issue 12): influence diagnostics and leave-one-out
//! at k = 1 000 (REML, an intercept and two moderators: 1 000 refits of 999 studies), and GOSH
//! with 10⁵ random subsets at k = 30 (REML, intercept only).
//!
//! Run with `cargo bench --bench sensitivity`. The data are simulated from a fixed seed:
//! y = Xβ + u + ε with uniform moderators, τ² = 0.1, vᵢ ∈ [0.01, 0.21).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use meridian::stats::{
    fit, leave_one_out, Deletions, Design, Gosh, GoshSettings, Influence, ModelSpec,
};
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

/// k simulated studies with an intercept and p − 1 ≤ 2 moderators.
fn simulate(k: usize, p: usize) -> (Vec<f64>, Vec<f64>, Design) {
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let beta = [0.5, -0.2, 0.1];
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
        names: ["intrcpt", "x1", "x2"][..p]
            .iter()
            .map(|n| n.to_string())
            .collect(),
        intercept: true,
        terms: Vec::new(),
    };
    (yi, vi, design)
}

fn case_deletion(c: &mut Criterion) {
    let (yi, vi, design) = simulate(1_000, 3);
    let model = fit(&yi, &vi, &design, &ModelSpec::default()).expect("fits");
    let mut group = c.benchmark_group("k1000_reml_p3");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("influence", |b| {
        b.iter(|| {
            let deletions = Deletions::without_r2(black_box(&model));
            Influence::new(&model, &deletions).expect("influence")
        })
    });
    group.bench_function("leave1out", |b| {
        b.iter(|| leave_one_out(&Deletions::new(black_box(&model)).expect("refits")))
    });
    group.finish();
}

fn gosh(c: &mut Criterion) {
    let (yi, vi, design) = simulate(30, 1);
    let model = fit(&yi, &vi, &design, &ModelSpec::default()).expect("fits");
    let mut group = c.benchmark_group("gosh_k30_reml");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("100000_subsets", |b| {
        b.iter(|| {
            let settings = GoshSettings {
                subsets: 100_000,
                seed: 1,
            };
            Gosh::new(black_box(&model), settings)
                .expect("subsets")
                .fold(0.0, |acc, f| acc + f.estimates[0])
        })
    });
    group.finish();
}

criterion_group!(benches, case_deletion, gosh);
criterion_main!(benches);
