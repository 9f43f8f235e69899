//! The engine's answers as the page holds them: a request memo turned into a signal of the
//! last answer ([`ask`]), whether a newer one is being computed and how far it is, and the
//! stages the engine ran added to the page's performance timeline.

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

use super::timed;
use crate::analysis::request::{Record, Request, StageTime};
use crate::app::StateError;
use crate::worker::client::{self, Event, RunId};

/// An answer of the engine as the page holds it: the last one (or why there is none), and
/// whether a newer one is being computed.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::ui) struct Remote<T> {
    /// The last answer, or why there is none.
    pub(in crate::ui) last: Result<T, StateError>,
    /// Whether a newer answer is being computed.
    pub(in crate::ui) updating: bool,
    /// How far the newer answer is, while a long request reports it.
    pub(in crate::ui) progress: Option<RunProgress>,
}

/// How far the newer answer of `remote` is, while one is computed and reports progress.
pub(super) fn running<T>(remote: &Remote<T>) -> Option<RunProgress> {
    remote.updating.then_some(remote.progress).flatten()
}

/// The Sensitivity pane's refits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refitting {
    /// The model without each study (influence, leave-one-out, Baujat).
    CaseDeletions,
    /// The cumulative meta-analysis.
    Cumulative,
}

/// How far a long request is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunProgress {
    /// Units done (refits).
    pub done: usize,
    /// Units in all.
    pub total: usize,
    /// Estimated milliseconds left, once something is done.
    pub remaining_ms: Option<f64>,
}

/// The engine's answer to `request`, asked again whenever the request changes and cancelled
/// when it goes (`None`) or cannot be made (`Err`). The record is taken from the answer by
/// `pick`; the stages the engine ran are added to the page's performance timeline.
pub(in crate::ui) fn ask<T>(
    request: Memo<Option<Result<Request, StateError>>>,
    pick: fn(Record) -> Option<T>,
) -> RwSignal<Remote<T>>
where
    T: Clone + PartialEq + Send + Sync + 'static,
{
    let remote = RwSignal::new(Remote {
        last: Err(StateError::Computing),
        updating: false,
        progress: None,
    });
    let run = StoredValue::new(None::<RunId>);
    Effect::new(move |_| {
        let asked = match request.get() {
            Some(Ok(asked)) => asked,
            other => {
                if let Some(r) = run.get_value() {
                    client::cancel(r);
                }
                run.set_value(None);
                let why = match other {
                    Some(Err(e)) => e,
                    _ => StateError::Computing,
                };
                remote.set(Remote {
                    last: Err(why),
                    updating: false,
                    progress: None,
                });
                return;
            }
        };
        remote.update(|r| {
            r.updating = true;
            r.progress = None;
        });
        let id = timed("request", || {
            client::request(asked, move |event| match event {
                Event::Record(record, stages) => {
                    add_measures(&stages);
                    if let Some(value) = pick(*record) {
                        remote.set(Remote {
                            last: Ok(value),
                            updating: false,
                            progress: None,
                        });
                    }
                }
                Event::Failed(message) => remote.set(Remote {
                    last: Err(StateError::Engine { message }),
                    updating: false,
                    progress: None,
                }),
                Event::Progress {
                    done,
                    total,
                    remaining_ms,
                } => remote.update(|r| {
                    r.progress = Some(RunProgress {
                        done,
                        total,
                        remaining_ms,
                    });
                }),
                Event::Permutation(_) | Event::GoshBatch { .. } | Event::Gosh { .. } => {}
            })
        });
        run.set_value(Some(id));
    });
    remote
}

/// A derived analysis the engine computes when `request` asks for one: `None` when not
/// asked, else the last answer.
pub(super) fn derived<T>(
    request: Memo<Option<Result<Request, StateError>>>,
    pick: fn(Record) -> Option<T>,
) -> Memo<Option<Result<T, StateError>>>
where
    T: Clone + PartialEq + Send + Sync + 'static,
{
    asked(request, ask(request, pick))
}

/// The last answer in `remote` while `request` asks for one, else `None`.
pub(in crate::ui) fn asked<T>(
    request: Memo<Option<Result<Request, StateError>>>,
    remote: RwSignal<Remote<T>>,
) -> Memo<Option<Result<T, StateError>>>
where
    T: Clone + PartialEq + Send + Sync + 'static,
{
    Memo::new(move |_| {
        request
            .with(Option::is_some)
            .then(|| remote.with(|r| r.last.clone()))
    })
}

/// Adds the engine's stages to the page's performance timeline as `meridian:engine:NAME`,
/// one after the other, ending now.
fn add_measures(stages: &[StageTime]) {
    let Some(performance) = window().performance() else {
        return;
    };
    let end = performance.now();
    // performance.measure(name, { start, end }): web-sys offers it only as an unstable API.
    let Some(measure) = js_sys::Reflect::get(&performance, &JsValue::from_str("measure"))
        .ok()
        .and_then(|m| m.dyn_into::<js_sys::Function>().ok())
    else {
        return;
    };
    // The stages ran one after the other, the last ending about now.
    let mut start = end - stages.iter().map(|s| s.ms).sum::<f64>();
    for stage in stages {
        let options = js_sys::Object::new();
        // Setting a property of a fresh object cannot fail.
        let _ = js_sys::Reflect::set(&options, &"start".into(), &start.into());
        let _ = js_sys::Reflect::set(&options, &"end".into(), &(start + stage.ms).into());
        start += stage.ms;
        let name = JsValue::from_str(&format!("meridian:engine:{}", stage.name));
        // Measures only inform tools and tests; a browser without them loses nothing.
        let _ = measure.call2(&performance, &name, &options);
    }
}
