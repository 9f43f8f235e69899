//! The profile (restricted) log-likelihood of τ² (metafor: `profile(res)`) for a profile
//! plot, and the profile-likelihood confidence interval of τ² (metafor:
//! `confint(res, type = "PL")`): { τ² ≥ 0 : 2(ℓ(τ̂²) − ℓ(τ²)) ≤ χ²₁,level }, β profiled out
//! at each τ², for ML and REML fits with one τ². Both are one [`ProfileRun`], which a caller
//! can run a few likelihood evaluations at a time (the page's worker reports progress between
//! slices and can stop); [`Fit::profile_tau2`] is the same run in one slice.

use statrs::distribution::ContinuousCDF;

use super::replay::{Halt, Replay};
use super::summary::chi_squared;
use super::{Fit, Interval, StatsError, Tau2Method};

/// Bisection steps of an interval bound: each halves the bracket, so 200 reach the
/// resolution of a double from any bracket a double can hold.
const BISECTIONS: usize = 200;
/// Doublings of the upper end before concluding that the likelihood never falls far enough
/// (it flattens out for a τ² far beyond any sampling variance only when k is tiny).
const DOUBLINGS: usize = 200;
/// About how many evaluations the interval's search takes, for the progress reported before it
/// ends: each bound's bisection halves a bracket of the size of τ̂² about 53 times to reach a
/// double's resolution.
const SEARCH_GUESS: usize = 110;

/// One point of the profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProfilePoint {
    /// τ².
    pub tau2: f64,
    /// The log-likelihood there (restricted for REML), β at its GLS estimate.
    pub log_likelihood: f64,
}

/// The profile of τ² on a grid with the maximum and the profile-likelihood interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The profile at each grid point, in the grid's order.
    pub points: Vec<ProfilePoint>,
    /// τ̂² and its maximised log-likelihood.
    pub maximum: ProfilePoint,
    /// The profile-likelihood confidence interval of τ² at the fit's level.
    pub interval: Interval,
    /// The log-likelihood at the interval's bounds: the maximum less χ²₁,level / 2.
    pub threshold: f64,
}

/// The τ² values a profile is evaluated at.
#[derive(Debug, Clone, PartialEq)]
pub enum ProfileGrid {
    /// These values, in this order.
    Points(Vec<f64>),
    /// `steps` (at least 2) even points from half the lower bound of the profile-likelihood
    /// interval to 1.5 times the larger of its upper bound and the estimate, the interval
    /// first widened to hold `cover` (another interval to be seen whole); with `marks`, the
    /// estimate and the bounds of both intervals join them, sorted, each value once, so that
    /// a drawn curve peaks at the maximum and passes through each crossing.
    Even {
        /// Even points.
        steps: usize,
        /// Bounds the grid must reach as well, if any.
        cover: Option<(f64, f64)>,
        /// Whether the estimate and the bounds are points of the grid.
        marks: bool,
    },
}

impl ProfileGrid {
    /// The values once the interval is known.
    pub fn values(&self, interval: &Interval) -> Vec<f64> {
        let (steps, cover, marks) = match self {
            Self::Points(points) => return points.clone(),
            Self::Even {
                steps,
                cover,
                marks,
            } => (*steps, *cover, *marks),
        };
        let (lo, hi) = match cover {
            Some((lower, upper)) => (interval.lower.min(lower), interval.upper.max(upper)),
            None => (interval.lower, interval.upper),
        };
        let (lo, hi) = (0.5 * lo, 1.5 * hi.max(interval.estimate));
        let n = steps.max(2);
        let even = (0..n).map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64);
        if !marks {
            return even.collect();
        }
        let mut grid: Vec<f64> = even
            .chain([interval.estimate, interval.lower, interval.upper])
            .chain(cover.into_iter().flat_map(|(l, u)| [l, u]))
            .filter(|x| x.is_finite())
            .collect();
        grid.sort_by(f64::total_cmp);
        grid.dedup();
        grid
    }

    /// How many values, before the interval is known.
    pub(crate) fn expected_len(&self) -> usize {
        match self {
            Self::Points(points) => points.len(),
            Self::Even { steps, marks, .. } => steps.max(&2) + if *marks { 5 } else { 0 },
        }
    }
}

/// Where a [`ProfileRun`] is.
#[derive(Debug, Clone)]
enum Stage {
    /// Searching the interval's bounds.
    Searching(Replay<f64>),
    /// Evaluating the grid.
    Evaluating {
        interval: Interval,
        grid: Vec<f64>,
        points: Vec<ProfilePoint>,
    },
    /// Finished, or failed.
    Done(Result<Profile, StatsError>),
}

/// The profile of τ² of one fit, computed a few likelihood evaluations at a time: first the
/// profile-likelihood interval (bisection of each bound), then the grid, which may depend on
/// the interval. At k = 20,000 with three moderators the whole profile takes some 80 ms
/// natively (benches/profile.rs).
#[derive(Debug, Clone)]
pub struct ProfileRun {
    maximum: ProfilePoint,
    threshold: f64,
    grid: ProfileGrid,
    /// The evaluations of the interval's search, once it has ended.
    searched: usize,
    stage: Stage,
}

impl ProfileRun {
    /// The profile of `fit`'s τ² on `grid`, to come.
    ///
    /// # Errors
    /// [`StatsError::ScaleNeedsLikelihood`] for a fit other than ML or REML,
    /// [`StatsError::InvalidParameters`] for a model without one τ².
    pub fn new(fit: &Fit, grid: ProfileGrid) -> Result<Self, StatsError> {
        let method = fit.spec.method;
        if !matches!(method, Tau2Method::Ml | Tau2Method::Reml) {
            return Err(StatsError::ScaleNeedsLikelihood { method });
        }
        let Some(tau2) = fit.tau2() else {
            return Err(StatsError::InvalidParameters {
                given: fit
                    .variance_components()
                    .iter()
                    .map(|c| c.estimate)
                    .collect(),
            });
        };
        let maximum = ProfilePoint {
            tau2,
            log_likelihood: fit.fit_statistics.loglik,
        };
        Ok(Self {
            maximum,
            threshold: maximum.log_likelihood - fit.profile_drop(),
            grid,
            searched: 0,
            stage: Stage::Searching(Replay::default()),
        })
    }

    /// Makes up to `n` more likelihood evaluations of `fit` (the fit the run was made for).
    pub fn step(&mut self, fit: &Fit, n: usize) {
        let mut budget = n;
        loop {
            let next = match &mut self.stage {
                Stage::Searching(replay) => {
                    replay.begin(budget);
                    let found = fit.profile_interval(self.maximum, self.threshold, |t| {
                        replay.evaluate(t, |t| fit.log_likelihood_at(&[t]))
                    });
                    budget = replay.budget();
                    self.searched = replay.evaluations();
                    match found {
                        Err(Halt::Paused) => return,
                        Err(Halt::Failed(e)) => Stage::Done(Err(e)),
                        Ok(interval) => Stage::Evaluating {
                            grid: self.grid.values(&interval),
                            interval,
                            points: Vec::new(),
                        },
                    }
                }
                Stage::Evaluating {
                    interval,
                    grid,
                    points,
                } => {
                    while points.len() < grid.len() {
                        if budget == 0 {
                            return;
                        }
                        budget -= 1;
                        let tau2 = grid[points.len()];
                        match fit.log_likelihood_at(&[tau2]) {
                            Ok(log_likelihood) => points.push(ProfilePoint {
                                tau2,
                                log_likelihood,
                            }),
                            Err(e) => {
                                self.stage = Stage::Done(Err(e));
                                return;
                            }
                        }
                    }
                    Stage::Done(Ok(Profile {
                        points: std::mem::take(points),
                        maximum: self.maximum,
                        interval: *interval,
                        threshold: self.threshold,
                    }))
                }
                Stage::Done(_) => return,
            };
            self.stage = next;
        }
    }

    /// Likelihood evaluations made and in all (estimated until the interval is found).
    pub fn progress(&self) -> (usize, usize) {
        match &self.stage {
            Stage::Searching(replay) => {
                let done = replay.evaluations();
                (done, done.max(SEARCH_GUESS) + 1 + self.grid.expected_len())
            }
            Stage::Evaluating { grid, points, .. } => {
                (self.searched + points.len(), self.searched + grid.len())
            }
            Stage::Done(Ok(p)) => {
                let done = self.searched + p.points.len();
                (done, done)
            }
            Stage::Done(Err(_)) => (self.searched, self.searched),
        }
    }

    /// The profile, once [`ProfileRun::step`] has made every evaluation (the run is left
    /// empty).
    ///
    /// # Errors
    /// What an evaluation or the interval's search gave (a numerically singular design at
    /// some τ², a likelihood that never falls far enough), or [`StatsError::RunUnfinished`].
    pub fn finish(&mut self) -> Result<Profile, StatsError> {
        match std::mem::replace(&mut self.stage, Stage::Done(Err(StatsError::RunUnfinished))) {
            Stage::Done(result) => result,
            unfinished => {
                self.stage = unfinished;
                Err(StatsError::RunUnfinished)
            }
        }
    }
}

impl Fit {
    /// The profile log-likelihood of τ² at each of `grid` and the profile-likelihood
    /// interval; an empty grid takes `steps` points evenly from half the lower bound of the
    /// interval to 1.5 times its upper bound. A [`ProfileRun`] in one slice.
    ///
    /// # Errors
    /// [`StatsError::ScaleNeedsLikelihood`] for a fit other than ML or REML,
    /// [`StatsError::InvalidParameters`] for a model without one τ² or a negative grid value,
    /// and a numerically singular design at some τ².
    pub fn profile_tau2(&self, grid: &[f64], steps: usize) -> Result<Profile, StatsError> {
        let grid = if grid.is_empty() {
            ProfileGrid::Even {
                steps,
                cover: None,
                marks: false,
            }
        } else {
            ProfileGrid::Points(grid.to_vec())
        };
        let mut run = ProfileRun::new(self, grid)?;
        run.step(self, usize::MAX);
        run.finish()
    }

    /// How far the profile falls from its maximum at the interval's bounds: χ²₁,level / 2.
    fn profile_drop(&self) -> f64 {
        chi_squared(1.0).inverse_cdf(self.spec.level) / 2.0
    }

    /// The bounds where the profile `loglik` (this fit's, through a [`Replay`]) falls to
    /// `target` (χ²₁/2 below its maximum), by bisection: the likelihood of τ² is unimodal in
    /// the models it is used for, so each side has one root.
    fn profile_interval<E: From<StatsError>>(
        &self,
        maximum: ProfilePoint,
        target: f64,
        mut loglik: impl FnMut(f64) -> Result<f64, E>,
    ) -> Result<Interval, E> {
        let mut below = |t: f64| -> Result<bool, E> { Ok(loglik(t)? < target) };
        let t = maximum.tau2;
        let lower = if t == 0.0 || !below(0.0)? {
            0.0
        } else {
            bisect(&mut below, t, 0.0)?
        };
        let typical = self.heterogeneity.typical_variance;
        let mut hi = if t > 0.0 { 2.0 * t } else { typical.max(1e-8) };
        let mut doublings = 0;
        while !below(hi)? {
            doublings += 1;
            if doublings > DOUBLINGS {
                return Err(StatsError::NoConvergence {
                    method: self.spec.method,
                    iterations: doublings,
                    last_tau2: hi,
                }
                .into());
            }
            hi *= 2.0;
        }
        let upper = bisect(&mut below, t, hi)?;
        Ok(Interval {
            estimate: t,
            lower,
            upper,
        })
    }
}

/// The point between `inside` (not `below`) and `outside` (`below`) where `below` turns, to
/// a double's resolution.
fn bisect<E>(
    below: &mut impl FnMut(f64) -> Result<bool, E>,
    mut inside: f64,
    mut outside: f64,
) -> Result<f64, E> {
    for _ in 0..BISECTIONS {
        let mid = 0.5 * (inside + outside);
        if mid == inside || mid == outside {
            break;
        }
        if below(mid)? {
            outside = mid;
        } else {
            inside = mid;
        }
    }
    Ok(0.5 * (inside + outside))
}
