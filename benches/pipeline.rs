//! Benchmarks of the page's pipeline at k = 5 000 and 20 000 studies: the whole analysis from
//! text (parse, roles, design, REML fit, Q-profile intervals), the bubble plot's input (the
//! fitted line at 61 points with the other moderator held), the forest plot's subgroups (a
//! model per level and the test for subgroup differences) and the setup of a permutation test.
//!
//! Run with `cargo bench --bench pipeline`. The table is deterministic: a numeric moderator
//! `x`, a four-level text moderator `g`, effects y = 0.3 − 0.01·x + 0.1·[g] + noise.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use meridian::data::analysis::{analyse, AnalysisSpec};
use meridian::data::session::Session;
use meridian::plots::inputs::{bubble, forest};
use meridian::plots::ForestOrder;
use meridian::stats::PermutationSettings;

/// The sizes measured.
const SIZES: [usize; 2] = [5_000, 20_000];

/// The fractional part of (i + shift)·φ: an evenly spread sequence in [0, 1).
fn spread(i: usize, shift: f64) -> f64 {
    ((i as f64 + shift) * 0.618_033_988_749_895).fract()
}

/// A CSV table of `k` studies with a numeric and a categorical moderator.
fn table(k: usize) -> String {
    let mut text = String::from("study,yi,vi,x,g\n");
    for i in 0..k {
        let x = 10.0 + 50.0 * spread(i, 0.0);
        let g = ["a", "b", "c", "d"][i % 4];
        let y = 0.3 - 0.01 * x + 0.1 * (i % 4) as f64 + (spread(i, 0.5) - 0.5);
        let v = 0.01 + 0.1 * spread(i, 0.25);
        text += &format!("S{i},{y:.5},{v:.5},{x:.3},{g}\n");
    }
    text
}

fn session(k: usize) -> Session {
    let mut s = Session::default();
    s.load_text(table(k));
    s.formula = "x + g".to_owned();
    s
}

fn pipeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("pipeline");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));
    for k in SIZES {
        let s = session(k);
        let spec: AnalysisSpec = s.spec().expect("valid settings");
        group.bench_with_input(BenchmarkId::new("analyse", k), &k, |b, _| {
            b.iter(|| analyse(black_box(&s.text), &spec).expect("analyses"))
        });
        let a = s.analyse().expect("analyses");
        group.bench_with_input(BenchmarkId::new("bubble", k), &k, |b, _| {
            b.iter(|| bubble(black_box(&a), &s, "x").expect("a bubble plot"))
        });
        group.bench_with_input(BenchmarkId::new("subgroups", k), &k, |b, _| {
            b.iter(|| forest(black_box(&a), None, ForestOrder::Input, Some("g")).expect("forest"))
        });
        group.bench_with_input(BenchmarkId::new("permutation_setup", k), &k, |b, _| {
            b.iter(|| {
                a.fit
                    .permutation_test(PermutationSettings::default())
                    .expect("valid settings")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
