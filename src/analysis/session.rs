//! The engine's side of the [`request`](super::request) messages, with no browser in it: a
//! [`Mailbox`] takes requests in order, runs one at a time in slices ([`Mailbox::work`]) and
//! answers with envelopes; a cancel stops the running request between slices or drops a
//! queued one. The Web Worker drives a mailbox between its message events, and so does the page
//! itself where workers are unavailable, so both run the very same code; the tests drive it
//! directly.
//!
//! A new long analysis is one more [`Job`] variant: how to start it from its request, and how
//! to run a slice of it.

use std::collections::VecDeque;

use super::request::{Envelope, Input, Request, Response};
use super::{analyse, AnalysisError, Run};
use crate::stats::PermutationTest;

/// The last analysis run, kept so that the next request on the same input (each part of a
/// permutation test, say) refits nothing.
#[derive(Debug, Default)]
struct Cache {
    last: Option<(Input, Run)>,
}

impl Cache {
    /// The analysis of `input`, from the cache when it is the last one.
    fn run(&mut self, input: &Input) -> Result<&Run, AnalysisError> {
        if self.last.as_ref().is_none_or(|(i, _)| i != input) {
            self.last = None;
            let run = analyse(&input.text, &input.spec)?;
            self.last = Some((input.clone(), run));
        }
        Ok(&self
            .last
            .as_ref()
            .expect("filled on the line above when it was empty")
            .1)
    }
}

/// A request being answered.
#[derive(Debug)]
enum Job {
    /// The answer is ready.
    Answer(Response),
    /// A permutation test (or one part of it) under way.
    Permutation(Box<PermutationTest>),
}

impl Job {
    /// The job of `request`; work that needs no slices (the analysis) is done here.
    fn start(request: Request, cache: &mut Cache) -> Self {
        let failed = |message: String| Self::Answer(Response::Failed { message });
        match request {
            Request::Analyse { input } => match cache.run(&input) {
                Ok(run) => Self::Answer(Response::Analysis {
                    analysis: Box::new(run.analysis.clone()),
                }),
                Err(e) => failed(e.to_string()),
            },
            Request::Permutation {
                input,
                settings,
                part,
            } => {
                let run = match cache.run(&input) {
                    Ok(run) => run,
                    Err(e) => return failed(e.to_string()),
                };
                let test = part
                    .part()
                    .and_then(|part| PermutationTest::part(&run.fitted.fit, settings.into(), part));
                match test {
                    Ok(t) => Self::Permutation(Box::new(t)),
                    Err(e) => failed(e.to_string()),
                }
            }
            Request::Cancel => Self::Answer(Response::Cancelled),
        }
    }

    /// Runs up to `n` units of work: the final response when done, else progress.
    fn step(&mut self, n: usize) -> Response {
        match self {
            Self::Answer(response) => std::mem::replace(response, Response::Cancelled),
            Self::Permutation(test) => match test.step(n) {
                Err(e) => Response::Failed {
                    message: e.to_string(),
                },
                Ok(_) if test.is_finished() => Response::Permutation {
                    counts: test.counts().into(),
                },
                Ok(p) => Response::Progress {
                    done: p.done,
                    total: p.total,
                },
            },
        }
    }
}

/// Requests in the order they came, the first one running.
#[derive(Debug, Default)]
pub struct Mailbox {
    cache: Cache,
    running: Option<(u64, Job)>,
    queue: VecDeque<Envelope<Request>>,
}

impl Mailbox {
    /// An empty mailbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes a request. A cancel acts at once: it answers [`Response::Cancelled`] for the
    /// request it names if that is running or queued, and nothing otherwise (it had finished).
    pub fn receive(&mut self, envelope: Envelope<Request>) -> Option<Envelope<Response>> {
        let id = envelope.id;
        if envelope.body != Request::Cancel {
            self.queue.push_back(envelope);
            return None;
        }
        let cancelled = Some(Envelope {
            id,
            body: Response::Cancelled,
        });
        if self.running.as_ref().is_some_and(|(r, _)| *r == id) {
            self.running = None;
            return cancelled;
        }
        let queued = self.queue.len();
        self.queue.retain(|e| e.id != id);
        if self.queue.len() < queued {
            cancelled
        } else {
            None
        }
    }

    /// Whether there is nothing to do.
    pub fn is_idle(&self) -> bool {
        self.running.is_none() && self.queue.is_empty()
    }

    /// Runs a slice of up to `n` units of the running request (starting the next one if none
    /// is running) and returns its response, or `None` when idle.
    pub fn work(&mut self, n: usize) -> Option<Envelope<Response>> {
        if self.running.is_none() {
            let next = self.queue.pop_front()?;
            self.running = Some((next.id, Job::start(next.body, &mut self.cache)));
        }
        let (id, job) = self.running.as_mut()?;
        let id = *id;
        let body = job.step(n);
        if body.is_final() {
            self.running = None;
        }
        Some(Envelope { id, body })
    }
}
