//! The lab's participants: seeded, reproducible draws from the generating model of
//! [`super::LabSettings`] (ChaCha8, the same stream on every platform, so a seed names the same
//! trials in the page, the command line and the tests).

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use super::LabSettings;
use crate::stats::ipd::IpdStudy;

/// The log odds of the event for a participant with score 0 and no treatment (risk 1.8 %):
/// every point of score adds 1 to the log odds.
pub const BASE_LOG_ODDS: f64 = -4.0;
/// The noise of the trial characteristic around the trial's mean score (log scale): it tracks
/// the mean, as a dose chosen for sicker populations would, without being equal to it.
const CHARACTERISTIC_NOISE: f64 = 0.3;

/// One simulated trial: its participants and the trial-level values behind them.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawnTrial {
    /// The participants (treatment alternates 1, 0, …: a 1:1 allocation).
    pub people: IpdStudy,
    /// The trial's expected score (the centre of its participants' scores).
    pub expected_score: f64,
    /// The trial characteristic minus the population's mean score.
    pub characteristic: f64,
}

/// Uniform and normal draws from one ChaCha stream.
struct Draws {
    rng: ChaCha8Rng,
}

impl Draws {
    /// A uniform number in (0, 1]: 53 random bits, shifted off zero so that its log is finite.
    fn uniform(&mut self) -> f64 {
        ((self.rng.next_u64() >> 11) as f64 + 1.0) * (1.0 / (1u64 << 53) as f64)
    }

    /// A standard normal number (Box–Muller, one of the pair: simpler than keeping the
    /// other, and the lab draws few enough that the second uniform costs nothing).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// A log-normal number with the given mean and log-scale standard deviation `s`.
    fn log_normal(&mut self, mean: f64, s: f64) -> f64 {
        mean * (s * self.normal() - s * s / 2.0).exp()
    }
}

/// The logistic function.
pub fn expit(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

/// The treatment's log odds ratio for a participant with score `x` in a trial whose
/// characteristic is `characteristic` (0 for the population's typical trial).
pub fn conditional_log_or(s: &LabSettings, x: f64, characteristic: f64) -> f64 {
    s.odds_ratio.ln() + s.interaction * (x - s.mean_score) + s.confounder * characteristic
}

/// Draws the trials of `s`, in order T1, T2, …
pub fn draw(s: &LabSettings) -> Vec<DrawnTrial> {
    let mut d = Draws {
        rng: ChaCha8Rng::seed_from_u64(s.seed),
    };
    (0..s.trials)
        .map(|j| {
            let expected_score = d.log_normal(s.mean_score, s.between_spread);
            let characteristic = d.log_normal(expected_score, CHARACTERISTIC_NOISE) - s.mean_score;
            let n = s.participants;
            let (mut treat, mut covariate, mut outcome) = (
                Vec::with_capacity(n),
                Vec::with_capacity(n),
                Vec::with_capacity(n),
            );
            for i in 0..n {
                let t = if i % 2 == 0 { 1.0 } else { 0.0 };
                let x = d.log_normal(expected_score, s.within_spread);
                let eta = BASE_LOG_ODDS + x + t * conditional_log_or(s, x, characteristic);
                let y = if d.uniform() <= expit(eta) { 1.0 } else { 0.0 };
                treat.push(t);
                covariate.push(x);
                outcome.push(y);
            }
            DrawnTrial {
                people: IpdStudy {
                    label: format!("T{}", j + 1),
                    treat,
                    covariate,
                    outcome,
                },
                expected_score,
                characteristic,
            }
        })
        .collect()
}
