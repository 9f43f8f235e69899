//! A GOSH request streams its subsets' points and ends with its summary, and an analysis split
//! into parts (one per worker) gives the same subsets and exactly the same summary as the
//! whole, whatever the number of parts and the order they finish in.

use super::*;
use crate::analysis::gosh::{GoshPoints, GoshRun};

#[test]
fn a_gosh_request_streams_its_subsets_points_and_ends_with_the_summary() {
    let mut without = input();
    without.spec.mods = None;
    let settings = GoshSettingsRecord {
        subsets: 1000,
        seed: 1,
    };
    let ask = Request::Gosh {
        input: without.clone(),
        settings,
        part: PartRecord { index: 0, of: 1 },
    };
    assert_eq!(ask.kind(), Kind::Gosh);
    assert!(ask.is_long());
    round_trip(&Envelope {
        id: 3,
        body: ask.clone(),
    });
    let mut mailbox = Mailbox::new(clock);
    mailbox.receive(Envelope { id: 3, body: ask });
    let answers = drain(&mut mailbox, 100);
    // 2⁸ − 1 = 255 ≤ 1000: every subset once, in slices of 100, 100 and 55.
    let mut points = GoshPoints::new(8);
    let mut done = Vec::new();
    for answer in &answers[..answers.len() - 1] {
        match answer.body.clone() {
            Response::GoshBatch {
                points: mut batch,
                done: d,
                total,
            } => {
                assert_eq!(total, 255);
                done.push(d);
                round_trip(&answer.body);
                points.append(&mut batch);
            }
            other => panic!("expected a batch, got {other:?}"),
        }
    }
    assert_eq!(done, [100, 200]);
    let Response::Gosh {
        points: mut last,
        part,
    } = answers[answers.len() - 1].body.clone()
    else {
        panic!("expected the end of the analysis");
    };
    points.append(&mut last);
    assert_eq!(points.len(), 255);
    let plain = analyse(CSV, &without.spec).expect("analyses");
    let mut direct = GoshRun::new(&plain.fitted, settings.into()).expect("subsets");
    assert_eq!(points, direct.step_points(1000));
    assert_eq!(*part, direct.part_record());
    let record = part.record(None);
    assert_eq!(record, direct.record(None));
    assert!(record.exact);
    assert_eq!((record.subsets, part.drawn, record.skipped), (255, 255, 0));
    // Subset 0 holds study A alone (bit 0), the last all eight; its estimate is the fit's.
    assert!(points.contains(0, 0) && !points.contains(0, 1));
    assert!((0..8).all(|i| points.contains(254, i)));
    let full = plain.analysis.summary.coefficients[0].estimate;
    assert!((points.estimate[254] - full).abs() < 1e-10);

    // A cancel between slices stops it; what was sent stays the page's.
    mailbox.receive(Envelope {
        id: 4,
        body: Request::Gosh {
            input: without,
            settings,
            part: PartRecord { index: 0, of: 1 },
        },
    });
    assert!(matches!(
        mailbox.work(10),
        Some(Envelope {
            id: 4,
            body: Response::GoshBatch { done: 10, .. }
        })
    ));
    assert_eq!(
        mailbox.receive(Envelope {
            id: 4,
            body: Request::Cancel
        }),
        Some(Envelope {
            id: 4,
            body: Response::Cancelled
        })
    );
    assert!(mailbox.is_idle());
}

/// Fourteen studies with a moderator: 2¹⁴ − 1 = 16,383 subsets, so 3,000 are random ones,
/// three blocks of sums and part of a fourth.
fn fourteen() -> Input {
    let mut text = String::from("study,yi,vi,x\n");
    for i in 0..14 {
        let x = f64::from(i);
        let yi = 0.1 + 0.05 * x + [0.2, -0.15, 0.05, -0.3, 0.25, 0.0, -0.1][i as usize % 7];
        let vi = 0.01 + 0.004 * f64::from(i % 5);
        text.push_str(&format!("S{i},{yi},{vi},{x}\n"));
    }
    Input {
        text,
        text_id: None,
        spec: AnalysisSpec {
            mods: Some("x".into()),
            ..AnalysisSpec::default()
        },
    }
}

/// The points (in part order) and the record of `input`'s GOSH analysis split into `of` parts,
/// each in its own mailbox (as each in its own worker), gathered in reverse order.
fn split(input: &Input, settings: GoshSettingsRecord, of: usize) -> (GoshPoints, GoshRecord) {
    let mut gather = Gather::new(of);
    let mut parts = Vec::new();
    let mut last = Gathered::Waiting;
    for index in (0..of).rev() {
        let mut mailbox = Mailbox::new(clock);
        mailbox.receive(Envelope {
            id: 1,
            body: Request::Gosh {
                input: input.clone(),
                settings,
                part: PartRecord { index, of },
            },
        });
        let mut points = GoshPoints::new(14);
        for answer in drain(&mut mailbox, 700) {
            match answer.body {
                Response::GoshBatch {
                    points: mut batch,
                    done,
                    total,
                } => {
                    gather.progress(index, done, total);
                    points.append(&mut batch);
                }
                Response::Gosh {
                    points: mut batch,
                    part,
                } => {
                    round_trip(&*part);
                    points.append(&mut batch);
                    last = gather.finish_gosh(index, &part);
                }
                other => panic!("part {index} of {of} answered {other:?}"),
            }
        }
        parts.push(points);
    }
    let mut points = GoshPoints::new(14);
    for mut part in parts.into_iter().rev() {
        points.append(&mut part);
    }
    match last {
        Gathered::Done(record) => (points, record),
        other => panic!("{of} parts gave {other:?}"),
    }
}

#[test]
fn a_gosh_analysis_split_over_workers_is_the_whole_analysis_whatever_their_number() {
    let input = fourteen();
    let settings = GoshSettingsRecord {
        subsets: 3000,
        seed: 11,
    };
    let staged = analyse(&input.text, &input.spec).expect("analyses");
    let mut direct = GoshRun::new(&staged.fitted, settings.into()).expect("subsets");
    let whole = direct.step_points(usize::MAX);
    let record = direct.record(None);
    assert!(!record.exact);
    assert_eq!(record.subsets + record.skipped, 3000);
    for of in [1, 2, 3, 5, 7] {
        let (points, gathered) = split(&input, settings, of);
        // Bit for bit: the same subsets in the same order, and the same means.
        assert_eq!(points, whole, "{of} parts");
        assert_eq!(gathered, record, "{of} parts");
    }
    // Another seed draws other subsets.
    let (other, _) = split(
        &input,
        GoshSettingsRecord {
            seed: 12,
            ..settings
        },
        2,
    );
    assert_ne!(other.members, whole.members);
}

#[test]
fn parts_of_different_analyses_do_not_merge() {
    let mut without = input();
    without.spec.mods = None;
    let exact = split_of_eight(&without, 0, 2);
    let mut random = exact.clone();
    random.exact = false;
    let mut gather = Gather::new(2);
    assert_eq!(gather.finish_gosh(0, &exact), Gathered::Waiting);
    assert!(matches!(
        gather.finish_gosh(1, &random),
        Gathered::Failed(_)
    ));
}

/// Part `index` of `of` of the exact GOSH analysis of eight studies.
fn split_of_eight(input: &Input, index: usize, of: usize) -> GoshPartRecord {
    let mut mailbox = Mailbox::new(clock);
    mailbox.receive(Envelope {
        id: 1,
        body: Request::Gosh {
            input: input.clone(),
            settings: GoshSettingsRecord {
                subsets: 255,
                seed: 1,
            },
            part: PartRecord { index, of },
        },
    });
    match drain(&mut mailbox, 1000).pop().map(|a| a.body) {
        Some(Response::Gosh { part, .. }) => *part,
        other => panic!("expected the part's end, got {other:?}"),
    }
}
