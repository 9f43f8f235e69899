//! The numerical core: fixed- and random-effects models and meta-regression.
//!
//! Pure computation on numbers: no web, plotting or I/O crate is named here (CI checks it).
//! Entry point: [`fit`] takes effect sizes, sampling variances, a [`Design`] and a
//! [`ValidSpec`] (a [`ModelSpec`] after [`ModelSpec::check`]) and returns a [`Fit`];
//! summaries under other covariance kinds, predictions, Wald tests, R², Q-profile intervals,
//! refits and permutation tests start from a `Fit`, and so do the sensitivity analyses:
//! case deletions ([`Deletions`]) read by [`Influence`], [`leave_one_out`] and [`baujat`];
//! [`cumulative`]; BLUPs ([`Fit::blup`], [`Fit::ranef`]); residuals ([`Fit::rstandard`]);
//! the radial plot's points ([`Fit::radial`]) and Q–Q normal scores ([`normal_scores`]);
//! GOSH ([`Gosh`], an iterator over subset fits).
//! Multilevel and multivariate models ([`fit_multilevel`], metafor's `rma.mv`) give an
//! [`MvFit`]; cluster-robust inference of either kind of fit is [`Fit::robust`].
//! Within- versus across-study effects of individual participant data or subgroups are
//! [`ipd`] (two-stage: a regression per study, then [`fit`] twice).
//!
//! Inside, one path serves every fit and refit: the variance model ([`variance`]: the
//! marginal covariance as a type) gives GLS ([`gls`], through [`qr`]) what it needs; the
//! objectives ([`objective`]: ML, REML, EB) are maximised by the one safeguarded optimiser
//! ([`optimise`]), with [`roots`] for one-dimensional searches; [`summary`] turns estimates and
//! a covariance kind into tests and intervals.

mod baujat;
mod blup;
mod confint;
mod cumul;
mod deletion;
pub mod design;
mod error;
mod fit;
mod gls;
mod gosh;
mod heterogeneity;
mod hypothesis;
mod influence;
mod input;
mod intercept;
pub mod ipd;
mod leave1out;
mod likelihood;
mod location_scale;
mod lrt;
mod multilevel;
mod objective;
mod optimise;
pub mod order;
mod permutation;
mod predict;
mod profile;
mod qr;
mod radial;
pub mod regtest;
mod replay;
mod robust;
mod roots;
mod spec;
mod summary;
mod tau2;
mod variance;

pub use baujat::{baujat, BaujatPoint};
pub use blup::Blup;
pub use confint::{HeterogeneityIntervals, Interval};
pub use cumul::{cumulative, CumulativeRun, CumulativeStep};
pub use deletion::{Deletion, DeletionRun, Deletions};
pub use design::{Design, Term};
pub use error::StatsError;
pub use fit::{fit, Fit};
pub use gosh::{BlockSums, Gosh, GoshFit, GoshSettings, GoshSummary, Spread};
pub use heterogeneity::{Heterogeneity, PseudoR2};
pub use hypothesis::{Combination, LinearHypotheses};
pub use influence::{Influence, InfluenceCriterion, StandardizedResidual, StudyInfluence};
pub use leave1out::{leave_one_out, LeftOut};
pub use likelihood::{FitStatistics, Likelihood};
pub use location_scale::{LocationScale, ScaleModel};
pub use lrt::{likelihood_ratio, Comparison, ModelFit};
pub use multilevel::{
    fit_multilevel, ComponentProfilePoint, MultilevelI2, MvFit, RandomEffect, SamplingCovariance,
    Sigma2, Sigma2Profile, Sigma2ProfileRun, StructEstimate, StructIntervals, Structure,
};
pub use permutation::{
    Part, PermutationCounts, PermutationResult, PermutationSettings, PermutationTest, Progress,
};
pub use predict::Prediction;
pub use profile::{Profile, ProfileGrid, ProfilePoint, ProfileRun};
pub use radial::{normal_scores, Radial, RadialPoint};
pub use robust::{Robust, RobustCoefficient, RobustTest, RobustType};
pub use spec::{Control, ModelSpec, Tau2Method, Test, ValidSpec};
pub use summary::{Coefficient, CovarianceKind, Summary, WaldTest};
pub use variance::{Parameter, ParameterKind, VarianceComponent};
