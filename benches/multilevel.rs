//! Benchmark of the multilevel model (issue 11): three-level REML meta-regression
//! (`~ 1 | cluster/effect`, an intercept and 2 moderators) at k = 1 000, 10 000 and 100 000
//! effects in k/10 clusters of 10. The marginal covariance is factorised cluster by cluster,
//! so a fit should grow linearly in k.
//!
//! Run with `cargo bench --bench multilevel`. The data are simulated from a fixed seed:
//! y = Xβ + u_cluster + u_effect + ε with σ²₁ = 0.05, σ²₂ = 0.03, vᵢ ∈ [0.01, 0.21).
//! tests/r/bench_multilevel.R times metafor's `rma.mv` on the same kind of data.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use meridian::stats::{fit_multilevel, Design, ModelSpec, RandomEffect, SamplingCovariance};
use nalgebra::DMatrix;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// Effects per cluster.
const CLUSTER_SIZE: usize = 10;

fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u = 1.0 - uniform(rng);
    let v = uniform(rng);
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// k effects in k/10 clusters: effects, sampling covariance, design, random terms.
fn simulate(k: usize) -> (Vec<f64>, SamplingCovariance, Design, Vec<RandomEffect>) {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let x = DMatrix::from_fn(k, 3, |_, j| if j == 0 { 1.0 } else { uniform(&mut rng) });
    let vi: Vec<f64> = (0..k).map(|_| 0.01 + 0.2 * uniform(&mut rng)).collect();
    let clusters = k / CLUSTER_SIZE;
    let u: Vec<f64> = (0..clusters)
        .map(|_| 0.05_f64.sqrt() * normal(&mut rng))
        .collect();
    let yi = (0..k)
        .map(|i| {
            0.3 - 0.2 * x[(i, 1)]
                + 0.1 * x[(i, 2)]
                + u[i / CLUSTER_SIZE]
                + 0.03_f64.sqrt() * normal(&mut rng)
                + vi[i].sqrt() * normal(&mut rng)
        })
        .collect();
    let design = Design {
        x,
        names: vec!["intrcpt".into(), "x1".into(), "x2".into()],
        intercept: true,
        terms: Vec::new(),
    };
    let random = vec![
        RandomEffect::Intercept {
            name: "cluster".into(),
            levels: (0..k).map(|i| i / CLUSTER_SIZE).collect(),
        },
        RandomEffect::Intercept {
            name: "cluster/effect".into(),
            levels: (0..k).collect(),
        },
    ];
    let v = SamplingCovariance::diagonal(&vi).expect("positive variances");
    (yi, v, design, random)
}

fn three_level_reml(c: &mut Criterion) {
    let spec = ModelSpec::default();
    let mut group = c.benchmark_group("three_level_reml_2_moderators");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for k in [1_000, 10_000, 100_000] {
        let (yi, v, design, random) = simulate(k);
        group.bench_with_input(BenchmarkId::from_parameter(k), &k, |b, _| {
            b.iter(|| black_box(fit_multilevel(&yi, &v, &design, &random, &spec).expect("a fit")));
        });
    }
    group.finish();
}

criterion_group!(benches, three_level_reml);
criterion_main!(benches);
