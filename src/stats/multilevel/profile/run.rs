//! The profile of every σ² of a multilevel fit as the profile plot draws it, computed a few
//! profile fits at a time so that a caller can report progress between slices and stop: for
//! each component in turn, its profile-likelihood interval (the search of
//! [`MvFit::confint_sigma2`], resumed slice by slice through a
//! [`Replay`]) and then its profile on a grid that may depend on the interval (each point
//! warm-started at the last one's optimum, as [`MvFit::profile_sigma2`]). Each unit is one
//! fit of the other variance parameters: at k = 10,000 effects in clusters of 10 the whole
//! run takes about 1.3 s natively (benches/profile.rs).

use super::{ComponentProfilePoint, MvFit};
use crate::stats::profile::ProfileGrid;
use crate::stats::replay::{Halt, Replay};
use crate::stats::spec::check_level;
use crate::stats::{Interval, StatsError};

/// About how many profile fits an interval's search takes, for the progress reported before
/// it ends: bracketing the upper bound and Brent's method on each side.
const SEARCH_GUESS: usize = 20;

/// One σ²'s profile-likelihood interval and its profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Sigma2Profile {
    /// σ̂² and its profile-likelihood interval (metafor: `confint()`).
    pub interval: Interval,
    /// The profile at each grid point, in the grid's order.
    pub points: Vec<ComponentProfilePoint>,
}

/// Where a [`Sigma2ProfileRun`] is, in component `j`.
#[derive(Debug, Clone)]
enum Stage {
    /// Searching the interval's bounds: the fits so far, each with the optimum of the other
    /// parameters that starts the next.
    Searching {
        j: usize,
        replay: Replay<(f64, Vec<f64>)>,
    },
    /// Evaluating the grid, from the optimum `warm` of the last point.
    Evaluating {
        j: usize,
        interval: Interval,
        /// Fits of the interval's search.
        searched: usize,
        grid: Vec<f64>,
        points: Vec<ComponentProfilePoint>,
        warm: Vec<f64>,
    },
    /// Finished, or failed.
    Done(Result<Vec<Sigma2Profile>, StatsError>),
}

/// The profiles of every σ² of one multilevel fit with their intervals, to come.
#[derive(Debug, Clone)]
pub struct Sigma2ProfileRun {
    threshold: f64,
    grid: ProfileGrid,
    components: usize,
    /// The components finished.
    profiles: Vec<Sigma2Profile>,
    /// Fits of the components finished.
    fits: usize,
    stage: Stage,
}

impl Sigma2ProfileRun {
    /// The profile of each σ² of `mv` on `grid` with its interval at `level`.
    ///
    /// # Errors
    /// [`StatsError::InvalidLevel`].
    pub fn new(mv: &MvFit, level: f64, grid: ProfileGrid) -> Result<Self, StatsError> {
        check_level(level)?;
        let components = mv.sigma2.len();
        let stage = if components == 0 {
            Stage::Done(Ok(Vec::new()))
        } else {
            Stage::Searching {
                j: 0,
                replay: Replay::default(),
            }
        };
        Ok(Self {
            threshold: mv.profile_threshold(level)?,
            grid,
            components,
            profiles: Vec::with_capacity(components),
            fits: 0,
            stage,
        })
    }

    /// Makes up to `n` more profile fits of `mv` (the fit the run was made for).
    pub fn step(&mut self, mv: &MvFit, n: usize) {
        let mut budget = n;
        loop {
            let next = match &mut self.stage {
                Stage::Searching { j, replay } => {
                    let j = *j;
                    let mut profiler = mv.profiler(j);
                    replay.begin(budget);
                    let estimate = mv.sigma2[j].estimate;
                    let found = mv.search_interval(j, estimate, self.threshold, &mut |x| {
                        let (value, warm) = replay.evaluate(x, |x| {
                            let value = profiler.at(x)?;
                            Ok::<_, StatsError>((value, profiler.warm.clone()))
                        })?;
                        // A fit answered from the record starts the next as it did then.
                        profiler.warm = warm;
                        Ok(value)
                    });
                    budget = replay.budget();
                    match found {
                        Err(Halt::Paused) => return,
                        Err(Halt::Failed(e)) => Stage::Done(Err(e)),
                        Ok(interval) => {
                            let grid = self.grid.values(&interval);
                            match mv.check_profile_grid(j, &grid) {
                                Err(e) => Stage::Done(Err(e)),
                                Ok(()) => Stage::Evaluating {
                                    j,
                                    interval,
                                    searched: replay.evaluations(),
                                    grid,
                                    points: Vec::new(),
                                    // Each grid starts from the fit, as in one go.
                                    warm: mv.profiler(j).warm,
                                },
                            }
                        }
                    }
                }
                Stage::Evaluating {
                    j,
                    interval,
                    searched,
                    grid,
                    points,
                    warm,
                } => {
                    let mut profiler = mv.profiler(*j);
                    profiler.warm.clone_from(warm);
                    while points.len() < grid.len() {
                        if budget == 0 {
                            warm.clone_from(&profiler.warm);
                            return;
                        }
                        budget -= 1;
                        let value = grid[points.len()];
                        match profiler.at(value) {
                            Ok(log_likelihood) => points.push(ComponentProfilePoint {
                                value,
                                log_likelihood,
                            }),
                            Err(e) => {
                                self.stage = Stage::Done(Err(e));
                                return;
                            }
                        }
                    }
                    self.fits += *searched + points.len();
                    self.profiles.push(Sigma2Profile {
                        interval: *interval,
                        points: std::mem::take(points),
                    });
                    if *j + 1 < self.components {
                        Stage::Searching {
                            j: *j + 1,
                            replay: Replay::default(),
                        }
                    } else {
                        Stage::Done(Ok(std::mem::take(&mut self.profiles)))
                    }
                }
                Stage::Done(_) => return,
            };
            self.stage = next;
        }
    }

    /// Profile fits made and in all (estimated while an interval's search is under way).
    pub fn progress(&self) -> (usize, usize) {
        let later =
            |j: usize| (self.components - j - 1) * (SEARCH_GUESS + 1 + self.grid.expected_len());
        match &self.stage {
            Stage::Searching { j, replay } => {
                let done = replay.evaluations();
                let current = done.max(SEARCH_GUESS) + 1 + self.grid.expected_len();
                (self.fits + done, self.fits + current + later(*j))
            }
            Stage::Evaluating {
                j,
                searched,
                grid,
                points,
                ..
            } => {
                let before = self.fits + searched;
                (before + points.len(), before + grid.len() + later(*j))
            }
            Stage::Done(_) => (self.fits, self.fits),
        }
    }

    /// The profiles, in the order of [`MvFit::sigma2`], once [`Sigma2ProfileRun::step`] has
    /// made every fit (the run is left empty).
    ///
    /// # Errors
    /// What a profile fit gave (non-convergence), an interval whose grid a variance cannot
    /// take ([`StatsError::InvalidProfileGrid`]), or [`StatsError::RunUnfinished`].
    pub fn finish(&mut self) -> Result<Vec<Sigma2Profile>, StatsError> {
        match std::mem::replace(&mut self.stage, Stage::Done(Err(StatsError::RunUnfinished))) {
            Stage::Done(result) => result,
            unfinished => {
                self.stage = unfinished;
                Err(StatsError::RunUnfinished)
            }
        }
    }
}
