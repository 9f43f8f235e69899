//! A search run a few evaluations at a time without being rewritten as a state machine (the
//! profile-likelihood bounds: bisection, bracketing, Brent's method). Each slice runs the
//! search again from its start, and the evaluations it made in earlier slices are answered
//! from their record, in the order the search asked for them, so only the new ones cost
//! anything; when the slice's budget is spent, the next new evaluation stops the search with
//! [`Halt::Paused`]. The searches are deterministic (given the same answers they ask for the
//! same points), so each slice goes on exactly where the last stopped and the result is, bit
//! for bit, that of the search run in one go.

use super::StatsError;

/// Why an evaluation did not answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Halt<E> {
    /// The slice's budget is spent: the search goes on in the next slice.
    Paused,
    /// The evaluation failed.
    Failed(E),
}

impl<E> From<E> for Halt<E> {
    fn from(e: E) -> Self {
        Self::Failed(e)
    }
}

impl Halt<StatsError> {
    /// The error of a search that was given no budget limit, where a pause cannot happen.
    pub(crate) fn into_error(self) -> StatsError {
        match self {
            Self::Failed(e) => e,
            Self::Paused => StatsError::RunUnfinished,
        }
    }
}

/// The evaluations of one search so far, each with its argument, and the current slice's
/// place in them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Replay<T> {
    record: Vec<(f64, T)>,
    read: usize,
    budget: usize,
}

impl<T: Clone> Replay<T> {
    /// Starts a slice that may make up to `budget` new evaluations; the search is to be run
    /// again from its start.
    pub(crate) fn begin(&mut self, budget: usize) {
        self.read = 0;
        self.budget = budget;
    }

    /// The value at `x`: the recorded one if the search made this evaluation in an earlier
    /// slice, else `f(x)` while the budget lasts.
    pub(crate) fn evaluate<E>(
        &mut self,
        x: f64,
        f: impl FnOnce(f64) -> Result<T, E>,
    ) -> Result<T, Halt<E>> {
        if let Some((at, value)) = self.record.get(self.read) {
            if at.to_bits() == x.to_bits() {
                self.read += 1;
                return Ok(value.clone());
            }
            // A deterministic search asks for the same points again; were it ever to differ,
            // the record from here on is of another search and is dropped.
            self.record.truncate(self.read);
        }
        if self.budget == 0 {
            return Err(Halt::Paused);
        }
        self.budget -= 1;
        let value = f(x)?;
        self.record.push((x, value.clone()));
        self.read += 1;
        Ok(value)
    }

    /// Evaluations made so far, in every slice.
    pub(crate) fn evaluations(&self) -> usize {
        self.record.len()
    }

    /// Of the current slice's budget, what is left.
    pub(crate) fn budget(&self) -> usize {
        self.budget
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The number of halvings of [0, 1] until x is within 1e-6: a deterministic search.
    fn search(replay: &mut Replay<f64>, calls: &mut usize) -> Result<f64, Halt<()>> {
        let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
        while hi - lo > 1e-6 {
            let mid = 0.5 * (lo + hi);
            let f = replay.evaluate(mid, |x| {
                *calls += 1;
                Ok::<_, ()>(x * x - 0.5)
            })?;
            if f < 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    #[test]
    fn a_search_resumed_slice_by_slice_evaluates_each_point_once_and_ends_where_one_go_does() {
        let mut whole = Replay::default();
        whole.begin(usize::MAX);
        let mut calls = 0;
        let once = search(&mut whole, &mut calls).expect("no pause without a limit");
        assert_eq!(calls, 20, "20 halvings reach 1e-6");
        let mut sliced = Replay::default();
        let mut calls = 0;
        let mut slices = 0;
        let resumed = loop {
            slices += 1;
            sliced.begin(3);
            match search(&mut sliced, &mut calls) {
                Ok(x) => break x,
                Err(Halt::Paused) => assert_eq!(sliced.budget(), 0),
                Err(Halt::Failed(())) => panic!("the function does not fail"),
            }
        };
        assert_eq!(resumed.to_bits(), once.to_bits());
        assert_eq!(calls, 20, "no point evaluated twice");
        assert_eq!(sliced.evaluations(), 20);
        assert_eq!(slices, 7, "three new evaluations a slice");
    }
}
