//! The engine off the page's main thread. The page and its Web Workers run one and the same
//! Wasm module: started in a worker, it serves requests ([`serve`]) instead of mounting the
//! page. The page's side ([`client`]) starts `navigator.hardwareConcurrency` workers from a
//! blob URL (the module's own JavaScript, imported from the same origin, and the compiled
//! module posted to it, so a worker makes no request), posts typed requests
//! ([`crate::analysis::request`]), routes answers to the run that asked, splits parallel work
//! over the workers, and falls back to slices on the main thread where workers are
//! unavailable. Both sides answer through [`crate::analysis::session::Mailbox`].

pub mod client;
mod serve;

pub use serve::{is_worker, serve};

use crate::analysis::request::{Envelope, Response};

/// How long one slice of work runs before the worker (or the page, in the fallback) looks at
/// its messages again: the delay of a cancel, and the time between progress reports.
const SLICE_MS: f64 = 40.0;

/// The slice size to try next, after `units` took `spent` milliseconds, so each slice stays
/// near [`SLICE_MS`].
fn next_batch(units: usize, spent: f64) -> usize {
    ((units as f64) * SLICE_MS / spent.max(0.1)).clamp(1.0, 100_000.0) as usize
}

/// The units of the next slice of the long request running, learnt from the last slice's
/// time. Once that request has ended the next one starts from one unit again: its units may
/// cost far more (a profile fit at k = 10,000 is some 10⁴ times a GOSH subset at k = 30).
#[derive(Debug, Clone, Copy)]
struct Batch {
    units: usize,
    /// The request the units were learnt from.
    of: Option<u64>,
}

impl Batch {
    const fn new() -> Self {
        Self { units: 1, of: None }
    }

    /// Learns from `answer`, for which a slice of [`Batch::units`] took `spent` milliseconds
    /// (the answer of a cancel took none).
    fn learn(&mut self, answer: &Envelope<Response>, spent: f64) {
        if answer.body.is_progress() {
            self.units = next_batch(self.units, spent);
            self.of = Some(answer.id);
        } else if answer.body.is_final() && self.of == Some(answer.id) {
            *self = Self::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(id: u64, body: Response) -> Envelope<Response> {
        Envelope { id, body }
    }

    fn progress() -> Response {
        Response::Progress { done: 1, total: 2 }
    }

    #[test]
    fn a_slice_size_is_learnt_from_its_request_and_forgotten_when_that_request_ends() {
        let mut batch = Batch::new();
        // One unit took 4 ms: ten fill the 40 ms slice.
        batch.learn(&answer(1, progress()), 4.0);
        assert_eq!(batch.units, 10);
        // Ten took 20 ms: twenty next.
        batch.learn(&answer(1, progress()), 20.0);
        assert_eq!(batch.units, 20);
        // Another request's final answer (a quick one between slices) keeps what was learnt.
        batch.learn(&answer(2, Response::Cancelled), 0.0);
        assert_eq!(batch.units, 20);
        // The request's own end starts the next one from a single unit.
        batch.learn(&answer(1, Response::Cancelled), 0.0);
        assert_eq!(batch.units, 1);
        assert_eq!(batch.of, None);
    }
}
