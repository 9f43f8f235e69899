//! The messages survive JSON unchanged, keep their tags (the contract between page and
//! worker), the supersede rule shows only the latest request's answers, and a mailbox answers,
//! slices, cancels and splits as the page relies on.

use super::*;
use crate::analysis::session::Mailbox;
use crate::analysis::{analyse, AnalysisSpec};
use crate::stats::PermutationResult;

/// Eight studies with a moderator: 8! = 40 320 arrangements, so a few hundred permutations are
/// random ones.
const CSV: &str = "study,yi,vi,x\nA,0.10,0.01,1\nB,0.52,0.04,4\nC,0.31,0.09,2\nD,-0.12,0.16,0\nE,0.45,0.02,5\nF,0.05,0.03,1.5\nG,0.66,0.05,6\nH,0.20,0.02,3\n";

fn input() -> Input {
    Input {
        text: CSV.into(),
        text_id: None,
        spec: AnalysisSpec {
            mods: Some("x".into()),
            ..AnalysisSpec::default()
        },
    }
}

/// [`input`] naming text `id`, kept by the engine, instead of carrying it.
fn of_text(id: u64) -> Input {
    Input {
        text: String::new(),
        text_id: Some(id),
        ..input()
    }
}

fn permutation(iterations: usize, index: usize, of: usize) -> Request {
    Request::Permutation {
        input: input(),
        settings: SettingsRecord {
            iterations,
            seed: 20_260_101,
        },
        part: PartRecord { index, of },
    }
}

/// Stage times are not what these tests check.
fn clock() -> f64 {
    0.0
}

fn round_trip<T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug>(value: &T) {
    let json = serde_json::to_string(value).expect("serialises");
    let back: T = serde_json::from_str(&json).expect("reads back");
    assert_eq!(&back, value, "{json}");
}

/// The variant a message's JSON names: the one key of an object, or a bare string.
fn variant(json: &serde_json::Value) -> &str {
    match json {
        serde_json::Value::String(s) => s,
        serde_json::Value::Object(o) if o.len() == 1 => o.keys().next().map_or("", |k| k),
        _ => "",
    }
}

#[test]
fn requests_round_trip_through_json_with_their_tags() {
    for (body, tag) in [
        (Request::Analyse { input: input() }, "analyse"),
        (Request::FullAnalyse { input: input() }, "full_analyse"),
        (
            Request::Curve {
                input: input(),
                column: "x".into(),
            },
            "curve",
        ),
        (Request::Egger { input: input() }, "egger"),
        (Request::Egger { input: of_text(4) }, "egger"),
        (permutation(1000, 1, 4), "permutation"),
        (Request::Cancel, "cancel"),
    ] {
        let envelope = Envelope { id: 7, body };
        round_trip(&envelope);
        let json = serde_json::to_value(&envelope).expect("serialises");
        assert_eq!(json["id"], 7);
        assert_eq!(variant(&json["body"]), tag);
    }
}

#[test]
fn responses_round_trip_through_json_with_their_tags() {
    let analysis = analyse(CSV, &input().spec).expect("analyses").analysis;
    let counts = CountsRecord {
        total: 1000,
        done: 250,
        exceed: vec![3, 17],
        exceed_qm: Some(17),
        exact: false,
        permuted_rows: true,
    };
    for (body, tag) in [
        (Response::Ready, "ready"),
        (Response::Progress { done: 3, total: 9 }, "progress"),
        (
            Response::Record {
                record: Box::new(Record::Analysis {
                    analysis,
                    prediction_error: Some("no such level".into()),
                }),
                stages: vec![StageTime {
                    name: "fit".into(),
                    ms: 1.5,
                }],
            },
            "record",
        ),
        (Response::Permutation { counts }, "permutation"),
        (
            Response::Failed {
                message: "no studies".into(),
            },
            "failed",
        ),
        (Response::Cancelled, "cancelled"),
    ] {
        let envelope = Envelope { id: 3, body };
        round_trip(&envelope);
        let json = serde_json::to_value(&envelope).expect("serialises");
        assert_eq!(variant(&json["body"]), tag);
        if tag == "record" {
            let record = &json["body"]["record"]["record"];
            assert_eq!(variant(record), "analysis");
            // The fitted values go as one array per field, a value per study.
            let fitted = &record["analysis"]["analysis"]["summary"]["fitted"];
            assert_eq!(fitted["pred"].as_array().map(Vec::len), Some(8), "{fitted}");
            assert_eq!(fitted["pi_upper"].as_array().map(Vec::len), Some(8));
        }
    }
}

#[test]
fn only_the_latest_request_is_shown_and_only_until_its_final_answer() {
    let mut latest = Latest::default();
    let (first, replaced) = latest.issue();
    assert_eq!((first, replaced), (1, None));
    assert!(latest.is_latest(first));
    let (second, replaced) = latest.issue();
    assert_eq!(replaced, Some(first), "the first is to be cancelled");
    assert!(
        !latest.is_latest(first),
        "a superseded request's progress is dropped"
    );
    assert!(!latest.finish(first), "and so is its result");
    assert!(latest.is_latest(second));
    assert!(latest.finish(second), "the latest's result is shown");
    assert!(!latest.is_running());
    assert!(!latest.is_latest(second), "nothing after the final answer");
    assert!(!latest.finish(second));
    let (third, replaced) = latest.issue();
    assert_eq!(replaced, None, "the second had finished");
    assert_eq!(latest.cancel(), Some(third));
    assert!(!latest.is_latest(third), "cancelled by the page");
    assert_eq!(latest.cancel(), None);
}

/// Runs `mailbox` to idle, `n` units a slice; the answers in order.
fn drain(mailbox: &mut Mailbox, n: usize) -> Vec<Envelope<Response>> {
    std::iter::from_fn(|| mailbox.work(n)).collect()
}

#[test]
fn a_mailbox_answers_in_order_and_reports_progress() {
    let mut mailbox = Mailbox::new(clock);
    assert!(mailbox
        .receive(Envelope {
            id: 1,
            body: Request::Analyse { input: input() }
        })
        .is_none());
    assert!(mailbox
        .receive(Envelope {
            id: 2,
            body: permutation(100, 0, 1)
        })
        .is_none());
    let answers = drain(&mut mailbox, 30);
    assert!(mailbox.is_idle());
    match &answers[0] {
        Envelope {
            id: 1,
            body: Response::Record { record, stages },
        } => {
            assert!(
                matches!(&**record, Record::Analysis { analysis, prediction_error: None } if analysis.summary.k == 8)
            );
            let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(names, ["parse", "studies", "design", "fit", "predict"]);
        }
        other => panic!("expected the analysis, got {other:?}"),
    }
    let progress: Vec<_> = answers[1..answers.len() - 1]
        .iter()
        .map(|e| (e.id, e.body.clone()))
        .collect();
    assert_eq!(
        progress,
        [30, 60, 90].map(|done| (2, Response::Progress { done, total: 100 }))
    );
    match &answers[answers.len() - 1] {
        Envelope {
            id: 2,
            body: Response::Permutation { counts },
        } => {
            assert_eq!((counts.done, counts.total), (100, 100));
        }
        other => panic!("expected the counts, got {other:?}"),
    }
}

#[test]
fn a_cancel_stops_the_running_request_or_drops_a_queued_one() {
    let mut mailbox = Mailbox::new(clock);
    mailbox.receive(Envelope {
        id: 1,
        body: permutation(100, 0, 1),
    });
    assert!(matches!(
        mailbox.work(10),
        Some(Envelope {
            id: 1,
            body: Response::Progress { done: 10, .. }
        })
    ));
    mailbox.receive(Envelope {
        id: 2,
        body: Request::Analyse { input: input() },
    });
    let cancel = |id| Envelope {
        id,
        body: Request::Cancel,
    };
    assert_eq!(
        mailbox.receive(cancel(2)),
        Some(Envelope {
            id: 2,
            body: Response::Cancelled
        })
    );
    assert_eq!(
        mailbox.receive(cancel(1)),
        Some(Envelope {
            id: 1,
            body: Response::Cancelled
        })
    );
    assert_eq!(mailbox.receive(cancel(1)), None, "already stopped");
    assert!(mailbox.is_idle());
    assert_eq!(mailbox.work(10), None);
}

#[test]
fn a_failing_request_answers_with_its_sentence() {
    let mut mailbox = Mailbox::new(clock);
    let bad = Input {
        text: "study,yi\nA,1\n".into(),
        text_id: None,
        spec: AnalysisSpec::default(),
    };
    mailbox.receive(Envelope {
        id: 4,
        body: Request::Analyse { input: bad },
    });
    mailbox.receive(Envelope {
        id: 5,
        body: permutation(100, 4, 4),
    });
    let answers = drain(&mut mailbox, 10);
    assert!(matches!(&answers[0].body, Response::Failed { message } if !message.is_empty()));
    assert_eq!(
        answers[1].body,
        Response::Failed {
            message: crate::stats::StatsError::InvalidPart { index: 4, of: 4 }.to_string()
        }
    );
}

/// The result of a permutation test split into `of` parts, each in its own mailbox (as each
/// in its own worker), gathered in reverse order.
fn split(of: usize) -> PermutationResult {
    let mut gather = Gather::new(of);
    let mut last = Gathered::Waiting;
    for index in (0..of).rev() {
        let mut mailbox = Mailbox::new(clock);
        mailbox.receive(Envelope {
            id: 1,
            body: permutation(300, index, of),
        });
        for answer in drain(&mut mailbox, 40) {
            match answer.body {
                Response::Progress { done, total } => {
                    let (d, t) = gather.progress(index, done, total);
                    assert!(d <= 300);
                    assert_eq!(
                        t.is_some(),
                        index == 0,
                        "all parts have reported once part 0 has"
                    );
                }
                body => last = gather.finish(index, body),
            }
        }
        if index > 0 {
            assert_eq!(
                last,
                Gathered::Waiting,
                "part {index} of {of} is not the last"
            );
        }
    }
    match last {
        Gathered::Done(result) => result,
        other => panic!("{of} parts gave {other:?}"),
    }
}

#[test]
fn the_same_seed_gives_the_same_p_values_with_one_worker_and_with_four() {
    let one = split(1);
    assert_eq!(one.iterations, 300);
    assert!(!one.exact);
    assert_eq!(split(4), one);
    assert_eq!(split(3), one);
}

#[test]
fn a_failed_part_fails_the_whole() {
    let mut gather = Gather::new(2);
    let failed = gather.finish(
        1,
        Response::Failed {
            message: "τ² did not converge".into(),
        },
    );
    assert_eq!(failed, Gathered::Failed("τ² did not converge".into()));
}

/// The names of the stages run for the record `answer` carries.
fn stages_of(answer: Option<Envelope<Response>>) -> Vec<String> {
    match answer {
        Some(Envelope {
            body: Response::Record { stages, .. },
            ..
        }) => stages.into_iter().map(|s| s.name).collect(),
        other => panic!("expected a record, got {other:?}"),
    }
}

#[test]
fn the_engine_keeps_its_stages_so_an_estimator_refits_without_reparsing() {
    let mut mailbox = Mailbox::new(clock);
    let mut dl = input();
    dl.spec.model.method = crate::stats::Tau2Method::Dl;
    mailbox.receive(Envelope {
        id: 1,
        body: Request::Analyse { input: input() },
    });
    mailbox.receive(Envelope {
        id: 2,
        body: Request::Analyse { input: dl.clone() },
    });
    mailbox.receive(Envelope {
        id: 3,
        body: Request::Egger { input: dl.clone() },
    });
    mailbox.receive(Envelope {
        id: 4,
        body: Request::Curve {
            input: dl,
            column: "x".into(),
        },
    });
    assert_eq!(
        stages_of(mailbox.work(1)).len(),
        5,
        "everything, the first time"
    );
    assert_eq!(stages_of(mailbox.work(1)), ["fit", "predict"]);
    assert_eq!(
        stages_of(mailbox.work(1)),
        ["egger"],
        "a derived record refits nothing"
    );
    assert_eq!(stages_of(mailbox.work(1)), ["moderator"]);
}

#[test]
fn the_analysis_without_a_study_and_that_of_every_study_are_answered_apart() {
    let mut mailbox = Mailbox::new(clock);
    let mut without = input();
    without.spec.without = Some(3);
    mailbox.receive(Envelope {
        id: 1,
        body: Request::Analyse { input: without },
    });
    mailbox.receive(Envelope {
        id: 2,
        body: Request::FullAnalyse { input: input() },
    });
    let k = |answer: Option<Envelope<Response>>| match answer {
        Some(Envelope {
            body: Response::Record { record, stages },
            ..
        }) => match *record {
            Record::Analysis { analysis, .. } => (analysis.summary.k, stages.len()),
            other => panic!("expected an analysis, got {other:?}"),
        },
        other => panic!("expected a record, got {other:?}"),
    };
    // The fourth of CSV's eight studies (table row 3) is left out, then every study is back:
    // the table is kept, the studies and what follows are not.
    assert_eq!(k(mailbox.work(1)), (7, 5));
    assert_eq!(k(mailbox.work(1)), (8, 4));
    assert_ne!(
        Request::FullAnalyse { input: input() }.kind(),
        Request::Analyse { input: input() }.kind()
    );
}

#[test]
fn a_quick_request_is_answered_before_the_rest_of_a_long_one() {
    let mut mailbox = Mailbox::new(clock);
    mailbox.receive(Envelope {
        id: 1,
        body: permutation(100, 0, 1),
    });
    assert!(matches!(
        mailbox.work(10),
        Some(Envelope {
            id: 1,
            body: Response::Progress { done: 10, .. }
        })
    ));
    mailbox.receive(Envelope {
        id: 2,
        body: Request::Analyse { input: input() },
    });
    assert!(matches!(
        mailbox.work(10),
        Some(Envelope {
            id: 2,
            body: Response::Record { .. }
        })
    ));
    assert!(matches!(
        mailbox.work(10),
        Some(Envelope {
            id: 1,
            body: Response::Progress { done: 20, .. }
        })
    ));
}

#[test]
fn a_prediction_the_model_cannot_make_leaves_the_analysis_standing() {
    let mut mailbox = Mailbox::new(clock);
    let mut bad = input();
    bad.spec.predict_at = Some([("x".to_owned(), "many".to_owned())].into());
    mailbox.receive(Envelope {
        id: 1,
        body: Request::Analyse { input: bad },
    });
    match mailbox.work(1).map(|e| e.body) {
        Some(Response::Record { record, .. }) => match *record {
            Record::Analysis {
                analysis,
                prediction_error,
            } => {
                assert_eq!(analysis.summary.k, 8);
                assert!(analysis.prediction.is_none());
                assert!(
                    prediction_error.is_some_and(|m| m.contains("many")),
                    "the form's error"
                );
            }
            other => panic!("expected the analysis, got {other:?}"),
        },
        other => panic!("expected a record, got {other:?}"),
    }
}

/// The record of a quick request's answer.
fn record_of(answer: Option<Envelope<Response>>) -> Record {
    match answer.map(|e| e.body) {
        Some(Response::Record { record, .. }) => *record,
        other => panic!("expected a record, got {other:?}"),
    }
}

#[test]
fn the_sensitivity_views_refits_are_asked_of_the_engine() {
    use crate::analysis::{cumul::cumul, sensitivity::sensitivity};
    let run = analyse(CSV, &input().spec).expect("analyses");
    let mut mailbox = Mailbox::new(clock);
    let ask = Request::Sensitivity { input: input() };
    assert_eq!(ask.kind(), Kind::Sensitivity);
    mailbox.receive(Envelope { id: 1, body: ask });
    let direct = sensitivity(&run.table, &run.fitted, &run.analysis.data).expect("deletions");
    // The eight refits run a few a slice, with progress between slices; the record is the
    // one made in one go.
    let progress = |answer: Option<Envelope<Response>>| match answer.map(|e| e.body) {
        Some(Response::Progress { done, total }) => (done, total),
        other => panic!("expected progress, got {other:?}"),
    };
    assert_eq!(progress(mailbox.work(3)), (3, 8));
    assert_eq!(progress(mailbox.work(3)), (6, 8));
    match record_of(mailbox.work(3)) {
        Record::Sensitivity { sensitivity } => {
            assert_eq!(sensitivity, direct);
            round_trip(&Record::Sensitivity { sensitivity });
        }
        other => panic!("expected the sensitivity record, got {other:?}"),
    }
    // Cancelled halfway, a run answers nothing more.
    mailbox.receive(Envelope {
        id: 9,
        body: Request::Sensitivity { input: input() },
    });
    assert_eq!(progress(mailbox.work(4)), (4, 8));
    assert_eq!(
        mailbox.receive(Envelope {
            id: 9,
            body: Request::Cancel
        }),
        Some(Envelope {
            id: 9,
            body: Response::Cancelled
        })
    );
    assert!(mailbox.is_idle());
    // The cumulative analysis needs a model without moderators: asked of one, a sentence.
    let mut without = input();
    without.spec.mods = None;
    let order = Some("x".to_owned());
    let cumulative = Request::Cumul {
        input: without.clone(),
        order: order.clone(),
    };
    assert_eq!(cumulative.kind(), Kind::Cumul);
    mailbox.receive(Envelope {
        id: 2,
        body: cumulative,
    });
    let plain = analyse(CSV, &without.spec).expect("analyses");
    let direct = cumul(&plain.table, &plain.analysis.data, &plain.fitted, Some("x"))
        .expect("a cumulative analysis");
    // Its eight fits run in slices too.
    assert_eq!(progress(mailbox.work(5)), (5, 8));
    match record_of(mailbox.work(5)) {
        Record::Cumul { cumul } => assert_eq!(cumul, direct),
        other => panic!("expected the cumulative record, got {other:?}"),
    }
    mailbox.receive(Envelope {
        id: 3,
        body: Request::Cumul {
            input: input(),
            order,
        },
    });
    match mailbox.work(10).map(|e| e.body) {
        Some(Response::Failed { message }) => {
            assert!(message.contains("without moderators"), "{message}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn the_lab_simulation_is_asked_of_the_engine() {
    use crate::analysis::lab::{run, Preset};
    let settings = Preset::NonCollapsibility.settings();
    let ask = Request::Lab { settings };
    assert_eq!(ask.kind(), Kind::Lab);
    round_trip(&Envelope {
        id: 3,
        body: ask.clone(),
    });
    let direct = run(&settings).expect("simulates");
    let mut mailbox = Mailbox::new(clock);
    mailbox.receive(Envelope { id: 1, body: ask });
    let answered = record_of(mailbox.work(10));
    round_trip(&answered);
    assert_eq!(answered, Record::Lab { lab: direct });
    // Settings out of range answer with the lab's own sentence.
    let mut bad = settings;
    bad.trials = 0;
    mailbox.receive(Envelope {
        id: 2,
        body: Request::Lab { settings: bad },
    });
    match mailbox.work(10).map(|e| e.body) {
        Some(Response::Failed { message }) => {
            assert_eq!(message, run(&bad).expect_err("out of range").to_string());
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn a_request_naming_a_kept_text_is_answered_with_that_text_and_never_with_another() {
    let analyse = |id, input| Envelope {
        id,
        body: Request::Analyse { input },
    };
    let k = |record: Record| match record {
        Record::Analysis { analysis, .. } => analysis.summary.k,
        other => panic!("expected the analysis, got {other:?}"),
    };
    let mut mailbox = Mailbox::new(clock);
    mailbox.keep_text(1, CSV.into());
    // Received while text 1 is kept, run after text 2 has replaced it: text 1's analysis,
    // the very record of a request carrying the text itself.
    assert!(mailbox.receive(analyse(1, of_text(1))).is_none());
    let four = "study,yi,vi,x\nA,0.1,0.01,1\nB,0.5,0.02,2\nC,0.2,0.03,3\nD,0.6,0.04,4\n";
    mailbox.keep_text(2, four.into());
    let kept = record_of(mailbox.work(1));
    let carried = record_of({
        let mut fresh = Mailbox::new(clock);
        assert!(fresh.receive(analyse(1, input())).is_none());
        fresh.work(1)
    });
    assert_eq!(kept, carried);
    assert_eq!(k(kept), 8);
    // Text 1 is no longer kept: a request naming it fails rather than being answered with
    // text 2.
    match mailbox.receive(analyse(2, of_text(1))) {
        Some(Envelope {
            id: 2,
            body: Response::Failed { message },
        }) => assert!(message.contains("number 1"), "{message}"),
        other => panic!("expected a failure, got {other:?}"),
    }
    assert!(mailbox.is_idle());
    assert!(mailbox.receive(analyse(3, of_text(2))).is_none());
    assert_eq!(k(record_of(mailbox.work(1))), 4);
}

#[test]
fn fitted_values_whose_columns_differ_in_length_do_not_read() {
    let analysis = analyse(CSV, &input().spec).expect("analyses").analysis;
    let mut json = serde_json::to_value(&*analysis.summary).expect("serialises");
    json["fitted"]["se"]
        .as_array_mut()
        .expect("the fitted values' standard errors")
        .pop();
    let read = serde_json::from_value::<crate::analysis::Summary>(json);
    let message = read
        .expect_err("7 standard errors for 8 studies")
        .to_string();
    assert!(message.contains("differ in length"), "{message}");
}

mod fixtures;
mod gosh;
mod parts;

#[test]
fn a_permutation_test_and_a_gosh_analysis_split_into_shares_and_nothing_else_does() {
    let part = PartRecord { index: 2, of: 3 };
    assert_eq!(
        permutation(100, 0, 1).share(part),
        Some(permutation(100, 2, 3))
    );
    let gosh = |part| Request::Gosh {
        input: input(),
        settings: GoshSettingsRecord {
            subsets: 10,
            seed: 1,
        },
        part,
    };
    assert_eq!(
        gosh(PartRecord { index: 0, of: 1 }).share(part),
        Some(gosh(part))
    );
    assert_eq!(Request::Analyse { input: input() }.share(part), None);
}
