//! The worker's side: read each message as an [`Envelope<Request>`] (or a text to keep, see
//! [`Mailbox::keep_text`]), hand it to a [`Mailbox`], and run the mailbox's work in slices of
//! about [`SLICE_MS`], yielding through a `MessageChannel` between slices (no timer clamping)
//! so that a cancel or a newer request is read within one slice.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageChannel, MessageEvent};

use super::{Batch, SLICE_MS};
use crate::analysis::request::{Envelope, Request, Response};
use crate::analysis::session::Mailbox;

/// Whether this module runs in a dedicated worker rather than a page.
pub fn is_worker() -> bool {
    js_sys::global()
        .dyn_into::<DedicatedWorkerGlobalScope>()
        .is_ok()
}

/// The worker's state: its mailbox, the next slice's size and whether a slice is scheduled.
struct Worker {
    scope: DedicatedWorkerGlobalScope,
    mailbox: RefCell<Mailbox>,
    batch: Cell<Batch>,
    scheduled: Cell<bool>,
    wake: MessageChannel,
}

impl Worker {
    /// Posts `envelope` to the page as the bytes of its JSON, their buffer transferred: a JS
    /// string would cost the page's main thread its copy into the module's memory (UTF-16 to
    /// UTF-8, 11 of the 33 ms an analysis of 20,000 studies took to read), the bytes a copy.
    fn post(&self, envelope: &Envelope<Response>) {
        // Responses are plain records; serialising one cannot fail.
        let json = serde_json::to_vec(envelope).expect("responses serialise");
        let bytes = js_sys::Uint8Array::from(json.as_slice());
        let transfer = js_sys::Array::of1(&bytes.buffer());
        // Posting a buffer to the page that started this worker cannot fail.
        let _ = self.scope.post_message_with_transfer(&bytes, &transfer);
    }

    /// Takes one message from the page: a text to keep (`[number, UTF-8 bytes]`), or a
    /// request.
    fn receive(&self, data: &JsValue) {
        if let Some(pair) = data.dyn_ref::<js_sys::Array>() {
            let bytes = pair.get(1).dyn_into::<js_sys::Uint8Array>().ok();
            let text = bytes.and_then(|b| String::from_utf8(b.to_vec()).ok());
            if let (Some(id), Some(text)) = (pair.get(0).as_f64(), text) {
                self.mailbox.borrow_mut().keep_text(id as u64, text);
                return;
            }
        }
        let parsed = data
            .as_string()
            .ok_or_else(|| "a message to the engine must be JSON text".to_owned())
            .and_then(|text| {
                serde_json::from_str::<Envelope<Request>>(&text).map_err(|e| e.to_string())
            });
        match parsed {
            Ok(envelope) => {
                if let Some(answer) = self.mailbox.borrow_mut().receive(envelope) {
                    self.learn(&answer, 0.0);
                    self.post(&answer);
                }
            }
            Err(message) => self.post(&Envelope {
                id: 0,
                body: Response::Failed {
                    message: format!("the engine could not read a request: {message}"),
                },
            }),
        }
        self.schedule();
    }

    /// Learns the next slice's size from `answer`, which took `spent` milliseconds.
    fn learn(&self, answer: &Envelope<Response>, spent: f64) {
        let mut batch = self.batch.get();
        batch.learn(answer, spent);
        self.batch.set(batch);
    }

    /// Asks for a slice after the messages already queued, unless one is asked for.
    fn schedule(&self) {
        if !self.scheduled.replace(true) {
            // Posting to our own channel cannot fail.
            let _ = self.wake.port2().post_message(&JsValue::NULL);
        }
    }

    /// Runs work for about one slice, posting every answer.
    fn slice(&self) {
        self.scheduled.set(false);
        let start = js_sys::Date::now();
        loop {
            let units = self.batch.get().units;
            let began = js_sys::Date::now();
            let Some(answer) = self.mailbox.borrow_mut().work(units) else {
                return;
            };
            let now = js_sys::Date::now();
            self.learn(&answer, now - began);
            self.post(&answer);
            if now - start >= SLICE_MS {
                break;
            }
        }
        self.schedule();
    }
}

/// Serves requests until the page ends the worker: installs the message handlers and tells
/// the page the engine is ready.
pub fn serve() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let Ok(wake) = MessageChannel::new() else {
        return;
    };
    let worker = Rc::new(Worker {
        scope,
        mailbox: RefCell::new(Mailbox::new(js_sys::Date::now)),
        batch: Cell::new(Batch::new()),
        scheduled: Cell::new(false),
        wake,
    });
    let on_message = {
        let worker = worker.clone();
        Closure::<dyn Fn(MessageEvent)>::new(move |e: MessageEvent| worker.receive(&e.data()))
    };
    let on_wake = {
        let worker = worker.clone();
        Closure::<dyn Fn(MessageEvent)>::new(move |_: MessageEvent| worker.slice())
    };
    worker
        .scope
        .set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker
        .wake
        .port1()
        .set_onmessage(Some(on_wake.as_ref().unchecked_ref()));
    // The handlers live as long as the worker.
    on_message.forget();
    on_wake.forget();
    worker.post(&Envelope {
        id: 0,
        body: Response::Ready,
    });
}
