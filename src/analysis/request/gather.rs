//! The page's side of the messages: the supersede rule ([`Latest`]: only the latest request of
//! a kind is shown) and the gathering of a split request's parts ([`Gather`]: their progress,
//! and their results merged into the result of the whole, whatever the number of parts).

use super::{GoshPartRecord, GoshRecord, PermutationCounts, Response};
use crate::stats::PermutationResult;

/// The page's side of the supersede rule for one kind of request: the number of the request
/// whose answers it shows, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Latest {
    issued: u64,
    live: Option<u64>,
}

impl Latest {
    /// A new request: its number, and the number of the one it supersedes (still running,
    /// to be cancelled), if any. Numbers start at 1 and never repeat.
    pub fn issue(&mut self) -> (u64, Option<u64>) {
        self.issued += 1;
        (self.issued, self.live.replace(self.issued))
    }

    /// Whether answers to request `id` are to be shown: only the latest running request's.
    pub fn is_latest(&self, id: u64) -> bool {
        self.live == Some(id)
    }

    /// Request `id` has its final answer (all its parts have answered): whether to show it.
    /// Nothing of that request is shown after it.
    pub fn finish(&mut self, id: u64) -> bool {
        let latest = self.is_latest(id);
        if latest {
            self.live = None;
        }
        latest
    }

    /// Stops waiting: the number of the request to cancel, if one was running.
    pub fn cancel(&mut self) -> Option<u64> {
        self.live.take()
    }

    /// Whether a request is running.
    pub fn is_running(&self) -> bool {
        self.live.is_some()
    }
}

/// The parts of one split request as they come back: their progress, and their results
/// merged in whatever order they finish.
#[derive(Debug, Clone, PartialEq)]
pub struct Gather {
    progress: Vec<Option<(usize, usize)>>,
    finished: Vec<bool>,
    counts: Option<PermutationCounts>,
    gosh: Option<GoshPartRecord>,
}

/// What a part's final response made of the whole.
#[derive(Debug, Clone, PartialEq)]
pub enum Gathered<T> {
    /// Other parts are still running.
    Waiting,
    /// Every part has answered: the result of the whole.
    Done(T),
    /// A part failed (or answered for another request): the whole has failed.
    Failed(String),
}

impl Gather {
    /// Waits for `parts` parts.
    pub fn new(parts: usize) -> Self {
        Self {
            progress: vec![None; parts],
            finished: vec![false; parts],
            counts: None,
            gosh: None,
        }
    }

    /// Records part `index`'s progress; returns the units done by all parts, and the units in
    /// all once every part has reported.
    pub fn progress(&mut self, index: usize, done: usize, total: usize) -> (usize, Option<usize>) {
        if let Some(p) = self.progress.get_mut(index) {
            *p = Some((done, total));
        }
        let done = self.progress.iter().flatten().map(|(d, _)| d).sum();
        let total = self
            .progress
            .iter()
            .map(|p| p.map(|(_, t)| t))
            .sum::<Option<usize>>();
        (done, total)
    }

    /// Marks part `index`, which did `done` units, finished; whether every part now is.
    fn mark(&mut self, index: usize, done: usize) -> Result<bool, String> {
        let Some(seen) = self.finished.get_mut(index) else {
            return Err(format!("part {index} was not asked for"));
        };
        *seen = true;
        self.progress[index] = Some((done, done));
        Ok(self.finished.iter().all(|&f| f))
    }

    /// Records part `index`'s final response to a permutation test.
    pub fn finish(&mut self, index: usize, response: Response) -> Gathered<PermutationResult> {
        let counts = match response {
            Response::Permutation { counts } => PermutationCounts::from(counts),
            Response::Failed { message } => return Gathered::Failed(message),
            other => return Gathered::Failed(format!("a part answered {other:?}")),
        };
        let all = match self.mark(index, counts.done) {
            Ok(all) => all,
            Err(message) => return Gathered::Failed(message),
        };
        let merged = match self.counts.take() {
            None => Some(counts),
            Some(m) => m.merge(&counts),
        };
        let Some(merged) = merged else {
            return Gathered::Failed("the parts answered for different tests".into());
        };
        if all {
            Gathered::Done(merged.result())
        } else {
            self.counts = Some(merged);
            Gathered::Waiting
        }
    }

    /// Records part `index`'s summary of a GOSH analysis.
    pub fn finish_gosh(&mut self, index: usize, part: &GoshPartRecord) -> Gathered<GoshRecord> {
        let all = match self.mark(index, part.drawn) {
            Ok(all) => all,
            Err(message) => return Gathered::Failed(message),
        };
        let merged = match self.gosh.take() {
            None => Some(part.clone()),
            Some(m) => m.merge(part),
        };
        let Some(merged) = merged else {
            return Gathered::Failed("the parts answered for different analyses".into());
        };
        if all {
            Gathered::Done(merged.record(None))
        } else {
            self.gosh = Some(merged);
            Gathered::Waiting
        }
    }
}
