//! Benchmarks of the profile plot's request as the page's worker answers it (issue 14): the
//! profile likelihood of τ² at k = 20,000 studies, REML with the three moderators x + z + w
//! of the end-to-end tests' table (tests/e2e/tables.mjs), and the profile of each σ² of a
//! three-level model (`~ 1 | cluster/effect`, two moderators) at k = 10,000 effects in
//! clusters of 10. The engine's stages are kept between requests, so each iteration is the
//! profile alone, run to the end in one slice.
//!
//! Run with `cargo bench --bench profile`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use meridian::analysis::multilevel::Dependence;
use meridian::analysis::request::{Envelope, Input, Record, Request, Response};
use meridian::analysis::session::Mailbox;
use meridian::analysis::AnalysisSpec;
use meridian::data::clusters::RandomTerm;

/// tests/e2e/tables.mjs's `studies(k)`: the same linear congruential noise, the same columns.
fn studies(k: usize) -> String {
    let mut seed: u64 = 12345;
    let mut rand = || {
        seed = (seed * 1_103_515_245 + 12345) % 2_147_483_648;
        seed as f64 / 2_147_483_648.0
    };
    let mut text = String::from("study,yi,vi,x,z,w\n");
    for i in 0..k {
        let x = 10.0 + 50.0 * rand();
        let yi = 0.3 - 0.02 * x + 0.4 * (rand() - 0.5);
        let vi = 0.01 + 0.1 * rand();
        let (z, w) = (rand() * 4.0, rand() - 0.5);
        text += &format!("S{},{yi:.4},{vi:.4},{x:.2},{z:.3},{w:.3}\n", i + 1);
    }
    text
}

/// `k` effects in clusters of 10, with cluster effects: columns cluster, effect, yi, vi, x, z.
fn nested(k: usize) -> String {
    let mut seed: u64 = 6789;
    let mut rand = || {
        seed = (seed * 1_103_515_245 + 12345) % 2_147_483_648;
        seed as f64 / 2_147_483_648.0
    };
    let mut text = String::from("cluster,effect,yi,vi,x,z\n");
    let mut shift = 0.0;
    for i in 0..k {
        if i % 10 == 0 {
            shift = 0.4 * (rand() - 0.5);
        }
        let x = rand();
        let z = rand();
        let vi = 0.01 + 0.2 * rand();
        let yi = 0.3 - 0.2 * x + 0.1 * z + shift + 0.3 * (rand() - 0.5);
        text += &format!("C{},E{i},{yi:.4},{vi:.4},{x:.3},{z:.3}\n", i / 10);
    }
    text
}

/// The profile request of `text` with formula `mods` and dependence `dependence`.
fn request(text: String, mods: &str, dependence: Dependence) -> Request {
    Request::Profile {
        input: Input {
            text,
            text_id: None,
            spec: AnalysisSpec {
                mods: Some(mods.to_owned()),
                dependence,
                ..AnalysisSpec::default()
            },
        },
    }
}

/// The final answer of `mailbox` to `ask`, all of it in one slice.
fn answer(mailbox: &mut Mailbox, ask: &Request) -> Record {
    mailbox.receive(Envelope {
        id: 1,
        body: ask.clone(),
    });
    loop {
        match mailbox.work(usize::MAX).map(|e| e.body) {
            Some(Response::Record { record, .. }) => return *record,
            Some(Response::Progress { .. }) => {}
            other => panic!("expected the profile, got {other:?}"),
        }
    }
}

fn clock() -> f64 {
    0.0
}

fn profile(c: &mut Criterion) {
    let mut group = c.benchmark_group("profile");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    let tau2 = request(studies(20_000), "x + z + w", Dependence::default());
    let mut mailbox = Mailbox::new(clock);
    assert!(matches!(
        answer(&mut mailbox, &tau2),
        Record::Profile { .. }
    ));
    group.bench_function("tau2_k20000_3_moderators", |b| {
        b.iter(|| black_box(answer(&mut mailbox, &tau2)))
    });
    let three_level = Dependence {
        random: vec![RandomTerm {
            inner: None,
            outer: vec!["cluster".into(), "effect".into()],
        }],
        ..Dependence::default()
    };
    let sigma2 = request(nested(10_000), "x + z", three_level);
    let mut mailbox = Mailbox::new(clock);
    assert!(matches!(
        answer(&mut mailbox, &sigma2),
        Record::ComponentProfiles { .. }
    ));
    group.bench_function("sigma2_three_level_k10000_2_moderators", |b| {
        b.iter(|| black_box(answer(&mut mailbox, &sigma2)))
    });
    group.finish();
}

criterion_group!(benches, profile);
criterion_main!(benches);
