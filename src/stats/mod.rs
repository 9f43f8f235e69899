//! The numerical core: fixed- and random-effects models and meta-regression.
//!
//! Pure computation on numbers: no web, plotting or I/O crate is named here (CI checks it).
//! Entry point: [`fit`] takes effect sizes, sampling variances, a [`Design`] and a
//! [`ModelSpec`] and returns a [`Fit`]; predictions, Wald tests, Q-profile intervals and
//! permutation tests start from a `Fit`.

mod confint;
pub mod design;
mod error;
mod fit;
mod heterogeneity;
mod inference;
mod input;
mod likelihood;
mod permutation;
mod predict;
pub mod regtest;
mod spec;
mod tau2;
mod wls;

pub use confint::{HeterogeneityIntervals, Interval};
pub use design::{Design, Term};
pub use error::StatsError;
pub use fit::{fit, Fit};
pub use heterogeneity::Heterogeneity;
pub use inference::{Coefficient, WaldTest};
pub use likelihood::{FitStatistics, Likelihood};
pub use permutation::{PermutationResult, PermutationSettings, PermutationTest, Progress};
pub use predict::Prediction;
pub use spec::{ModelSpec, Tau2Method, Test};
