//! The page's side: a pool of lanes — one Web Worker per core (`navigator.hardwareConcurrency`,
//! or `?workers=N` in the page's address, where 0 asks for none), or one lane on the main
//! thread where workers cannot start — started on first use and kept.
//!
//! Each [`Kind`] of request has its latest run ([`Latest`]): a new request supersedes the
//! kind's running one, which is cancelled, and answers of a run that is no longer the latest
//! are dropped, so no stale result is ever shown. Quick requests (the analysis, a derived
//! record) go to the first lane, which answers them before the next slice of a long one; a
//! permutation test or a GOSH analysis is split into one part per lane ([`PartRecord`]),
//! merged by [`Gather`], so its result does not depend on the number of lanes. The envelope of part p of run r of kind
//! k is numbered `(r · 8 + k) · 256 + p`, so every answer names its kind, run and part. A
//! worker that fails to start sends the pool to the main thread, and the runs under way start
//! again there.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, MessageEvent, Url, Worker, WorkerOptions, WorkerType};

use super::Batch;
use crate::analysis::gosh::{GoshPoints, GoshRecord};
use crate::analysis::request::{
    Envelope, Gather, Gathered, Kind, Latest, PartRecord, Record, Request, Response, StageTime,
};
use crate::analysis::session::Mailbox;
use crate::stats::PermutationResult;

/// Most lanes the pool starts, whatever the machine reports.
const MAX_WORKERS: usize = 16;
/// Envelope numbers per run and kind: a run has at most this many parts.
const PARTS: u64 = 256;
/// Kinds' room in an envelope number: one per kind.
const KINDS: u64 = Kind::ALL.len() as u64;

/// What a run tells the page.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Work done so far.
    Progress {
        /// Units done.
        done: usize,
        /// Units in all.
        total: usize,
        /// Estimated milliseconds left, once something is done.
        remaining_ms: Option<f64>,
    },
    /// The result of a whole permutation test.
    Permutation(PermutationResult),
    /// Subsets of a GOSH analysis fitted since the last batch.
    GoshBatch {
        /// Their points.
        points: GoshPoints,
        /// Subsets drawn so far.
        done: usize,
        /// Subsets in all.
        total: usize,
        /// Estimated milliseconds left, once something is done.
        remaining_ms: Option<f64>,
    },
    /// The end of a GOSH analysis: its last points and the summary.
    Gosh {
        /// The last subsets' points.
        points: GoshPoints,
        /// The summary of all subsets.
        record: Box<GoshRecord>,
    },
    /// The record of a quick request and the stages the engine ran for it.
    Record(Box<Record>, Vec<StageTime>),
    /// The run failed; the sentence says why.
    Failed(String),
}

/// A run the page started, to cancel it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunId {
    kind: Kind,
    id: u64,
}

/// The page's callback for a run's events.
type OnEvent = Rc<dyn Fn(Event)>;

/// A kind's run whose answers are shown.
struct Current {
    request: Request,
    /// The parts of a split run; `None` for a quick request.
    gather: Option<Gather>,
    started: f64,
    on_event: OnEvent,
}

/// Where requests run.
enum Lane {
    /// A Web Worker, with the messages posted before it said it was ready and the last text
    /// it was sent (and its number).
    Worker {
        worker: Worker,
        ready: Cell<bool>,
        queued: RefCell<Vec<JsValue>>,
        text: RefCell<Option<(u64, String)>>,
    },
    /// Slices on the main thread.
    Main(Rc<MainLane>),
}

impl Lane {
    /// Posts an envelope. To a worker, a text it was not sent last goes first, on its own and
    /// numbered, and the request names its number instead of carrying it.
    fn send(&self, mut envelope: Envelope<Request>) {
        match self {
            Self::Worker {
                worker,
                ready,
                queued,
                text,
            } => {
                let post = |message: JsValue| {
                    if ready.get() {
                        // A worker that has gone reports through its error handler.
                        let _ = worker.post_message(&message);
                    } else {
                        queued.borrow_mut().push(message);
                    }
                };
                if let Some(input) = envelope.body.input_mut() {
                    let mut sent = text.borrow_mut();
                    let id = match &*sent {
                        Some((id, t)) if *t == input.text => *id,
                        _ => {
                            let id = NEXT_TEXT.replace(NEXT_TEXT.get() + 1);
                            post(text_message(id, &input.text));
                            *sent = Some((id, input.text.clone()));
                            id
                        }
                    };
                    input.text = String::new();
                    input.text_id = Some(id);
                }
                // Requests are plain records; serialising one cannot fail.
                let json = serde_json::to_string(&envelope).expect("requests serialise");
                post(JsValue::from_str(&json));
            }
            Self::Main(main) => main.send(envelope),
        }
    }
}

thread_local! {
    /// The number of the next text sent to a worker.
    static NEXT_TEXT: Cell<u64> = const { Cell::new(1) };
}

/// The message that sends a worker text number `id`: the pair `[id, bytes]`, the text's UTF-8
/// bytes as they are, where a JSON string would cost the page (and the worker) the escaping
/// of every character of it and a JS string its conversion to UTF-16 and back.
fn text_message(id: u64, text: &str) -> JsValue {
    let bytes = js_sys::Uint8Array::from(text.as_bytes());
    js_sys::Array::of2(&JsValue::from_f64(id as f64), &bytes).into()
}

/// The fallback lane: a mailbox pumped between the browser's frames.
struct MainLane {
    mailbox: RefCell<Mailbox>,
    pumping: Cell<bool>,
    batch: Cell<Batch>,
}

impl Default for MainLane {
    fn default() -> Self {
        Self {
            mailbox: RefCell::new(Mailbox::new(now)),
            pumping: Cell::new(false),
            batch: Cell::new(Batch::new()),
        }
    }
}

impl MainLane {
    fn send(self: &Rc<Self>, envelope: Envelope<Request>) {
        let answer = self.mailbox.borrow_mut().receive(envelope);
        if let Some(answer) = answer {
            self.learn(&answer, 0.0);
            // Sent from inside the pool: the answer is delivered once the pool is free.
            leptos::task::spawn_local(async move { deliver(answer) });
        }
        if !self.pumping.replace(true) {
            let lane = self.clone();
            leptos::task::spawn_local(async move { lane.pump().await });
        }
    }

    /// Runs the mailbox in slices, yielding to the browser between them, until it is idle.
    async fn pump(self: Rc<Self>) {
        loop {
            yield_to_browser().await;
            let began = now();
            let answer = self.mailbox.borrow_mut().work(self.batch.get().units);
            let Some(answer) = answer else {
                self.pumping.set(false);
                return;
            };
            // Half the worker's slice: here it holds up the page.
            self.learn(&answer, 2.0 * (now() - began));
            deliver(answer);
        }
    }

    /// Learns the next slice's size from `answer`, which took `spent` milliseconds.
    fn learn(&self, answer: &Envelope<Response>, spent: f64) {
        let mut batch = self.batch.get();
        batch.learn(answer, spent);
        self.batch.set(batch);
    }
}

/// The lanes and the runs on them.
struct Pool {
    lanes: Vec<Lane>,
    latest: BTreeMap<Kind, Latest>,
    current: BTreeMap<Kind, Current>,
}

thread_local! {
    static POOL: RefCell<Option<Pool>> = const { RefCell::new(None) };
}

/// Sends `request`, superseding the running request of its kind; `on_event` hears its
/// progress and its answer.
pub fn request(request: Request, on_event: impl Fn(Event) + 'static) -> RunId {
    let on_event: OnEvent = Rc::new(on_event);
    with_pool(|pool| pool.start(request, on_event))
}

/// Cancels `run` if it is still the latest of its kind; its answers are dropped from now on.
pub fn cancel(run: RunId) {
    with_pool(|pool| {
        if pool.latest_of(run.kind).is_latest(run.id) {
            pool.stop(run.kind);
        }
    });
}

/// The number of lanes (1 on the main thread), starting the pool if needed.
pub fn lanes() -> usize {
    with_pool(|pool| pool.lanes.len())
}

fn with_pool<T>(f: impl FnOnce(&mut Pool) -> T) -> T {
    POOL.with(|cell| {
        let mut slot = cell.borrow_mut();
        let pool = slot.get_or_insert_with(Pool::new);
        f(pool)
    })
}

/// The envelope number of part `part` of run `id` of `kind`.
fn envelope_id(kind: Kind, id: u64, part: usize) -> u64 {
    (id * KINDS + kind as u64) * PARTS + part as u64
}

impl Pool {
    /// Workers if they can start, else the main thread.
    fn new() -> Self {
        let workers = match wanted_workers() {
            0 => Vec::new(),
            n => (0..n).map_while(|index| spawn(index).ok()).collect(),
        };
        let lanes = if workers.is_empty() {
            vec![Lane::Main(Rc::default())]
        } else {
            workers
        };
        Self {
            lanes,
            latest: BTreeMap::new(),
            current: BTreeMap::new(),
        }
    }

    fn latest_of(&mut self, kind: Kind) -> &mut Latest {
        self.latest.entry(kind).or_default()
    }

    fn start(&mut self, request: Request, on_event: OnEvent) -> RunId {
        let kind = request.kind();
        self.stop(kind);
        let (id, _) = self.latest_of(kind).issue();
        let of = self.lanes.len();
        let shares: Option<Vec<Request>> = (0..of)
            .map(|index| request.share(PartRecord { index, of }))
            .collect();
        let gather = match shares {
            Some(shares) => {
                for (index, (lane, body)) in self.lanes.iter().zip(shares).enumerate() {
                    lane.send(Envelope {
                        id: envelope_id(kind, id, index),
                        body,
                    });
                }
                Some(Gather::new(of))
            }
            None => {
                self.lanes[0].send(Envelope {
                    id: envelope_id(kind, id, 0),
                    body: request.clone(),
                });
                None
            }
        };
        self.current.insert(
            kind,
            Current {
                request,
                gather,
                started: now(),
                on_event,
            },
        );
        RunId { kind, id }
    }

    /// Cancels the kind's current run on every lane it runs on.
    fn stop(&mut self, kind: Kind) {
        let Some(id) = self.latest_of(kind).cancel() else {
            return;
        };
        let parts = match self.current.remove(&kind) {
            Some(Current {
                gather: Some(_), ..
            }) => self.lanes.len(),
            _ => 1,
        };
        for (index, lane) in self.lanes.iter().enumerate().take(parts) {
            lane.send(Envelope {
                id: envelope_id(kind, id, index),
                body: Request::Cancel,
            });
        }
    }

    /// Handles an answer; returns the event for the page, if any.
    fn answer(&mut self, envelope: Envelope<Response>) -> Option<(OnEvent, Event)> {
        let part = (envelope.id % PARTS) as usize;
        let run = envelope.id / PARTS;
        let kind = *Kind::ALL.get((run % KINDS) as usize)?;
        let id = run / KINDS;
        if !self.latest_of(kind).is_latest(id) {
            return None;
        }
        let current = self.current.get_mut(&kind)?;
        // Until every part has reported, the number asked for stands in for the total.
        let asked = match &current.request {
            Request::Permutation { settings, .. } => settings.iterations,
            Request::Gosh { settings, .. } => settings.subsets,
            _ => 0,
        };
        let started = current.started;
        // Units done by every part and in all, with the time left at the pace so far.
        let pace = |gather: Option<&mut Gather>, done: usize, total: usize| {
            let (done, total) = match gather {
                Some(g) => g.progress(part, done, total),
                None => (done, Some(total)),
            };
            let total = total.unwrap_or(asked.max(done));
            let elapsed = now() - started;
            let remaining_ms =
                (done > 0).then(|| elapsed * total.saturating_sub(done) as f64 / done as f64);
            (done, total, remaining_ms)
        };
        let event = match (envelope.body, &mut current.gather) {
            (Response::Progress { done, total }, gather) => {
                let (done, total, remaining_ms) = pace(gather.as_mut(), done, total);
                Event::Progress {
                    done,
                    total,
                    remaining_ms,
                }
            }
            (
                Response::GoshBatch {
                    points,
                    done,
                    total,
                },
                Some(gather),
            ) => {
                let (done, total, remaining_ms) = pace(Some(gather), done, total);
                Event::GoshBatch {
                    points,
                    done,
                    total,
                    remaining_ms,
                }
            }
            (
                Response::Gosh {
                    points,
                    part: record,
                },
                Some(gather),
            ) => match gather.finish_gosh(part, &record) {
                Gathered::Waiting => {
                    let (done, total, remaining_ms) =
                        pace(Some(gather), record.drawn, record.drawn);
                    Event::GoshBatch {
                        points,
                        done,
                        total,
                        remaining_ms,
                    }
                }
                Gathered::Done(record) => Event::Gosh {
                    points,
                    record: Box::new(record),
                },
                Gathered::Failed(message) => Event::Failed(message),
            },
            (Response::Ready | Response::Cancelled, _) => return None,
            (Response::Record { record, stages }, None) => Event::Record(record, stages),
            (Response::Failed { message }, None) => Event::Failed(message),
            (body, Some(gather)) => match gather.finish(part, body) {
                Gathered::Waiting => return None,
                Gathered::Done(result) => Event::Permutation(result),
                Gathered::Failed(message) => Event::Failed(message),
            },
            (body, None) => Event::Failed(format!("the engine answered {body:?}")),
        };
        let on_event = current.on_event.clone();
        if !matches!(event, Event::Progress { .. } | Event::GoshBatch { .. }) {
            self.latest_of(kind).finish(id);
            self.current.remove(&kind);
        }
        Some((on_event, event))
    }

    /// A worker failed to start: the pool moves to the main thread and the runs under way
    /// start again there.
    fn fall_back(&mut self) {
        for lane in &self.lanes {
            if let Lane::Worker { worker, .. } = lane {
                worker.terminate();
            }
        }
        self.lanes = vec![Lane::Main(Rc::default())];
        let runs = std::mem::take(&mut self.current);
        for (kind, current) in runs {
            self.latest_of(kind).cancel();
            self.start(current.request, current.on_event);
        }
    }
}

/// Hands an answer to the pool and its event to the page, with no borrow held while the page
/// reacts.
fn deliver(envelope: Envelope<Response>) {
    let event = POOL.with(|cell| cell.borrow_mut().as_mut()?.answer(envelope));
    if let Some((on_event, event)) = event {
        on_event(event);
    }
}

/// Reads the next part of `envelope` left as text, in this task, and the rest in tasks after
/// it; hands the envelope on in the task after the last.
fn read_then_deliver(envelope: Envelope<Response>) {
    if timed("answer-part", || envelope.body.read_next_part()) {
        leptos::prelude::set_timeout(
            move || read_then_deliver(envelope),
            std::time::Duration::ZERO,
        );
    } else {
        deliver(envelope);
    }
}

/// A worker's message (the bytes of an envelope's JSON): the engine's first `Ready`, or an answer.
fn on_worker_message(index: usize, data: &JsValue) {
    let read = || {
        let bytes = data.dyn_ref::<js_sys::Uint8Array>()?.to_vec();
        serde_json::from_slice::<Envelope<Response>>(&bytes).ok()
    };
    let Some(envelope) = timed("answer", read) else {
        return;
    };
    if envelope.body == Response::Ready {
        POOL.with(|cell| {
            if let Some(Lane::Worker {
                worker,
                ready,
                queued,
                ..
            }) = cell.borrow().as_ref().and_then(|p| p.lanes.get(index))
            {
                ready.set(true);
                for message in queued.borrow_mut().drain(..) {
                    let _ = worker.post_message(&message);
                }
            }
        });
        return;
    }
    // The page reacts in a task of its own, after one for each part left as text: reading an
    // analysis of 20,000 studies (3.8 MB of JSON) and redrawing the page with it take tens of
    // milliseconds each. Timers of equal delay run in order, so answers reach the pool in
    // the order they came, except one with parts to read, which others of other requests may
    // pass; the pool drops an answer that a newer request superseded meanwhile.
    leptos::prelude::set_timeout(
        move || read_then_deliver(envelope),
        std::time::Duration::ZERO,
    );
}

/// A worker's error: one that never became ready (no module workers, a blocked script)
/// sends the pool to the main thread.
fn on_worker_error(index: usize) {
    POOL.with(|cell| {
        let mut slot = cell.borrow_mut();
        let Some(pool) = slot.as_mut() else { return };
        let unready =
            matches!(pool.lanes.get(index), Some(Lane::Worker { ready, .. }) if !ready.get());
        if unready {
            pool.fall_back();
        }
    });
}

/// The number of workers to start: `?workers=N` if given, else one per core.
fn wanted_workers() -> usize {
    let window = leptos::prelude::window();
    let asked = window
        .location()
        .search()
        .ok()
        .and_then(|q| {
            q.trim_start_matches('?')
                .split('&')
                .find_map(|kv| kv.strip_prefix("workers=").map(str::to_owned))
        })
        .and_then(|n| n.parse::<usize>().ok());
    let cores = window.navigator().hardware_concurrency() as usize;
    asked.unwrap_or(cores.max(1)).min(MAX_WORKERS)
}

/// A string the page that loaded this module left in `window.NAME`, if any.
fn page_string(name: &str) -> Option<String> {
    js_sys::Reflect::get(&leptos::prelude::window(), &JsValue::from_str(name))
        .ok()
        .and_then(|v| v.as_string())
}

/// The URL of this module's JavaScript: the module Trunk preloads.
fn glue_url() -> Option<String> {
    let document = leptos::prelude::window().document()?;
    let link = document
        .query_selector("link[rel=modulepreload][href$='.js']")
        .ok()??;
    let href = link.get_attribute("href")?;
    let base = document.base_uri().ok()??;
    Url::new_with_base(&href, &base).ok().map(|u| u.href())
}

/// A module worker from a blob URL that imports this module's JavaScript and instantiates the
/// compiled module the page posts to it.
fn module_worker() -> Result<Worker, JsValue> {
    let glue = glue_url().ok_or_else(|| JsValue::from_str("no module URL"))?;
    let source = format!(
        "import init from {};\nself.onmessage = (e) => {{ self.onmessage = null; init({{ module_or_path: e.data }}); }};\n",
        serde_json::to_string(&glue).expect("a string serialises")
    );
    let bag = BlobPropertyBag::new();
    bag.set_type("text/javascript");
    let blob = Blob::new_with_str_sequence_and_options(
        &js_sys::Array::of1(&JsValue::from_str(&source)),
        &bag,
    )?;
    let url = Url::create_object_url_with_blob(&blob)?;
    let options = WorkerOptions::new();
    options.set_type(WorkerType::Module);
    Worker::new_with_options(&url, &options)
}

/// Starts worker `index` of the pool and posts it the compiled module. The worker script is
/// the classic one the page made (`window.meridianWorker`: the single file, where a page
/// opened from disk may start only classic workers), else a module worker.
fn spawn(index: usize) -> Result<Lane, JsValue> {
    let worker = match page_string("meridianWorker") {
        Some(url) => Worker::new(&url)?,
        None => module_worker()?,
    };
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |e: MessageEvent| {
        on_worker_message(index, &e.data())
    });
    let on_error = Closure::<dyn Fn(JsValue)>::new(move |_: JsValue| on_worker_error(index));
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    // The handlers live as long as the page, as the worker does.
    on_message.forget();
    on_error.forget();
    worker.post_message(&wasm_bindgen::module())?;
    Ok(Lane::Worker {
        worker,
        ready: Cell::new(false),
        queued: RefCell::new(Vec::new()),
        text: RefCell::new(None),
    })
}

/// Milliseconds from the page's clock (0 where it has none).
pub(crate) fn now() -> f64 {
    leptos::prelude::window()
        .performance()
        .map_or(0.0, |p| p.now())
}

/// Runs `f` inside a User Timing measure named `meridian:{name}`.
pub fn timed<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let performance = leptos::prelude::window().performance();
    let start = format!("meridian:{name}-start");
    if let Some(p) = &performance {
        let _ = p.mark(&start);
    }
    let out = f();
    if let Some(p) = &performance {
        // Measures only inform tools and tests; a browser without them loses nothing.
        let _ = p.measure_with_start_mark(&format!("meridian:{name}"), &start);
    }
    out
}

/// Resolves on the next macrotask, after the browser has had a chance to paint and handle input.
async fn yield_to_browser() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        // If the timer cannot be set, the promise never resolves and the loop simply stops.
        let _ = leptos::prelude::window().set_timeout_with_callback(&resolve);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
