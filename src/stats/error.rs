//! The one error type of the numerical core.
//!
//! Every variant carries the context a person needs to fix the input (which study, which
//! moderator, how far the iteration got), and its `Display` is a sentence that says what to do.

use std::fmt;

use super::Tau2Method;

/// Why the numerical core could not produce a result.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StatsError {
    /// There are no studies at all.
    NoStudies,
    /// The effect sizes, the sampling variances and the rows of the design disagree in number.
    LengthMismatch {
        /// Number of effect sizes.
        effects: usize,
        /// Number of sampling variances.
        variances: usize,
        /// Number of rows of the design matrix.
        rows: usize,
    },
    /// The design has no column, or its names do not match its columns.
    MalformedDesign {
        /// Number of columns of the matrix.
        columns: usize,
        /// Number of coefficient names.
        names: usize,
    },
    /// An effect size is missing (NaN) or infinite.
    NonFiniteEffect {
        /// 0-based index of the study.
        study: usize,
        /// The offending value.
        value: f64,
    },
    /// A sampling variance is zero, negative, missing or infinite (or so small that its
    /// inverse overflows).
    InvalidVariance {
        /// 0-based index of the study.
        study: usize,
        /// The offending value.
        value: f64,
    },
    /// A moderator value is missing (NaN) or infinite.
    NonFiniteModerator {
        /// 0-based index of the study.
        study: usize,
        /// Name of the design column.
        column: String,
    },
    /// Fewer studies than the model needs: τ² (or the Knapp–Hartung scale) cannot be
    /// estimated unless there are more studies than coefficients.
    TooFewStudies {
        /// Number of studies.
        k: usize,
        /// Number of coefficients.
        p: usize,
    },
    /// A column of the design is a linear combination of other columns.
    RankDeficient {
        /// Name of the column that adds no information.
        column: String,
        /// Names of the earlier columns it is a combination of.
        collinear_with: Vec<String>,
    },
    /// The weighted design became numerically singular during the fit (extreme weights).
    NumericallySingular {
        /// The τ² value at which the weighted least-squares step failed.
        tau2: f64,
    },
    /// An iterative estimator did not converge.
    NoConvergence {
        /// The estimator (or "Q-profile" search, reported as the estimator of the fit).
        method: Tau2Method,
        /// Iterations performed.
        iterations: usize,
        /// The last value of τ² reached.
        last_tau2: f64,
    },
    /// A profile asked of a variance component the model does not have, or at a value a
    /// variance cannot take (negative or not finite).
    InvalidProfileGrid {
        /// The component asked for, from 1.
        component: usize,
        /// The number of components.
        components: usize,
    },
    /// The confidence level is not strictly between 0 and 1.
    InvalidLevel {
        /// The level given.
        level: f64,
    },
    /// The convergence control is unusable: the tolerance is not positive and finite, or no
    /// iteration is allowed.
    InvalidControl {
        /// The tolerance given.
        tol: f64,
        /// The iteration cap given.
        max_iter: usize,
    },
    /// A vector of moderator values has the wrong length.
    WrongPredictorLength {
        /// Number of coefficients of the model.
        expected: usize,
        /// Number of values given.
        got: usize,
    },
    /// A moderator value given for a prediction is missing or infinite.
    NonFinitePredictor {
        /// 0-based index of the value.
        index: usize,
    },
    /// A test names no coefficient, or a column the model does not have.
    InvalidColumns {
        /// The columns asked for.
        columns: Vec<usize>,
        /// Number of coefficients of the model.
        p: usize,
    },
    /// A refit names a study the model does not have.
    InvalidRows {
        /// The 0-based index given.
        row: usize,
        /// Number of studies of the model.
        k: usize,
    },
    /// Variance parameters given to a model are too many, too few or outside their bounds.
    InvalidParameters {
        /// The values given.
        given: Vec<f64>,
    },
    /// A permutation test was asked for with no permutations.
    NoPermutations,
    /// A part of a permutation test that does not exist: parts are numbered from 0 and there
    /// is at least one.
    InvalidPart {
        /// The 0-based part asked for.
        index: usize,
        /// The number of parts the test is split into.
        of: usize,
    },
    /// An analysis that metafor defines for intercept-only models (the cumulative
    /// meta-analysis) was asked of a model with moderators.
    NeedsInterceptOnly {
        /// The analysis, as a noun phrase ("a cumulative meta-analysis").
        analysis: &'static str,
    },
    /// An order of studies names a study twice, one the model does not have, or not all.
    InvalidOrder {
        /// Number of studies of the model.
        k: usize,
    },
    /// A GOSH analysis was asked for with no subsets.
    NoSubsets,
    /// A row of a linear hypothesis has the wrong number of weights, a non-finite weight or
    /// only zeros (or there is no row).
    InvalidContrast {
        /// 0-based index of the row.
        row: usize,
        /// Number of coefficients of the model (weights a row needs).
        expected: usize,
        /// Number of weights given.
        got: usize,
    },
    /// The rows of a linear hypothesis are linearly dependent.
    DependentContrasts {
        /// Number of rows given.
        rows: usize,
    },
    /// Two models to compare were not fitted to the same studies.
    DifferentStudies,
    /// The reduced model of a comparison is not nested in the full one: one of its columns is
    /// not a linear combination of the full model's columns.
    NotNested {
        /// The reduced model's column outside the full model.
        column: String,
    },
    /// The full model of a comparison does not have more parameters than the reduced one.
    NotFewerParameters {
        /// Estimated parameters of the full model.
        full: usize,
        /// Estimated parameters of the reduced model.
        reduced: usize,
    },
    /// Two models to compare were fitted with different estimators, or with one that has no
    /// likelihood to compare (anything but ML and REML).
    NoCommonLikelihood {
        /// The full model's estimator.
        full: Tau2Method,
        /// The reduced model's estimator.
        reduced: Tau2Method,
    },
    /// A location-scale model (or a profile likelihood) was asked of an estimator without a
    /// likelihood to maximise: only ML and REML have one.
    ScaleNeedsLikelihood {
        /// The estimator asked for.
        method: Tau2Method,
    },
    /// REML fits with different fixed effects were compared: their restricted likelihoods
    /// are of different data (the residual contrasts), so the test means nothing.
    RemlFixedEffectsDiffer,
    /// A multilevel model was asked for with an estimator other than REML or ML.
    MultilevelMethod {
        /// The estimator asked for.
        method: Tau2Method,
    },
    /// A grouping (a random-effects term's levels, a cluster) does not have one code per row.
    GroupingLength {
        /// What the grouping is (`district`, `robust cluster`).
        term: String,
        /// Codes given.
        rows: usize,
        /// Rows of the model.
        k: usize,
    },
    /// A correlation of sampling errors outside [−1, 1].
    InvalidRho {
        /// The value given.
        rho: f64,
    },
    /// A block of the sampling covariance V is not symmetric positive definite.
    SamplingCovarianceNotPositiveDefinite {
        /// 0-based first row of the block.
        row: usize,
    },
    /// More than one `~ inner | outer` term, or one whose inner factor has fewer than two
    /// levels where its structure has a correlation.
    InvalidStructure {
        /// The term (`outcome | trial`).
        term: String,
        /// Number of inner levels.
        levels: usize,
    },
    /// The multilevel likelihood's maximisation did not converge.
    MultilevelNoConvergence {
        /// Iterations performed.
        iterations: usize,
        /// The variance parameters' names and the last values reached.
        last: Vec<(String, f64)>,
    },
    /// A prediction interval of a model with several τ² needs the inner level to predict for.
    PredictionNeedsLevel,
    /// Cluster-robust inference with a single cluster.
    SingleCluster,
    /// Cluster-robust inference with no more clusters than coefficients.
    TooFewClusters {
        /// Number of clusters.
        clusters: usize,
        /// Number of coefficients.
        p: usize,
    },
    /// A robust cluster splits rows that the model makes dependent (rows sharing a level of
    /// a random effect or a block of V lie in two clusters).
    ClusterSplitsModel {
        /// 0-based row in a different cluster from a row it depends on.
        row: usize,
    },
    /// The result of a computation run in slices (a profile likelihood) was asked for before
    /// its last slice: a caller's slip, never the data's.
    RunUnfinished,
}

impl fmt::Display for StatsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoStudies => write!(f, "there are no studies to analyse; add at least one row"),
            Self::LengthMismatch { effects, variances, rows } => write!(
                f,
                "there are {effects} effect sizes, {variances} sampling variances and {rows} \
                 design rows; give one of each per study"
            ),
            Self::MalformedDesign { columns, names } => write!(
                f,
                "the design has {columns} columns but {names} coefficient names; \
                 give the model at least one column and one name per column"
            ),
            Self::NonFiniteEffect { study, value } => write!(
                f,
                "study {} has effect size {value}; give a finite number or drop the study",
                study + 1
            ),
            Self::InvalidVariance { study, value } => write!(
                f,
                "study {} has sampling variance {value}; variances must be positive and finite, \
                 so correct it or drop the study",
                study + 1
            ),
            Self::NonFiniteModerator { study, column } => write!(
                f,
                "study {} has no finite value for moderator `{column}`; fill it in or drop the study",
                study + 1
            ),
            Self::TooFewStudies { k, p } => write!(
                f,
                "the model has {p} coefficients but only {k} studies; it needs more studies than \
                 coefficients, so remove moderators or add studies"
            ),
            Self::RankDeficient { column, collinear_with } => {
                if collinear_with.is_empty() {
                    write!(f, "moderator `{column}` is constant zero; remove it from the model")
                } else {
                    write!(
                        f,
                        "moderator `{column}` is a linear combination of `{}`; remove one of them \
                         from the model",
                        collinear_with.join("`, `")
                    )
                }
            }
            Self::NumericallySingular { tau2 } => write!(
                f,
                "the weighted design became numerically singular at tau^2 = {tau2}; rescale the \
                 moderators or check for extreme sampling variances"
            ),
            Self::NoConvergence { method, iterations, last_tau2 } => write!(
                f,
                "the {} estimate of tau^2 did not converge after {iterations} iterations \
                 (last value {last_tau2}); try another estimator",
                method.metafor_name()
            ),
            Self::InvalidProfileGrid { component, components } => write!(
                f,
                "cannot profile variance component {component} of {components}: a profile needs \
                 one of the model's components and values of at least 0"
            ),
            Self::InvalidLevel { level } => write!(
                f,
                "confidence level {level} is not between 0 and 1; use for example 0.95"
            ),
            Self::InvalidControl { tol, max_iter } => write!(
                f,
                "the convergence control (tolerance {tol}, at most {max_iter} iterations) cannot \
                 be used; give a positive tolerance such as 1e-10 and at least one iteration"
            ),
            Self::WrongPredictorLength { expected, got } => write!(
                f,
                "a prediction needs {expected} moderator values (one per coefficient, the \
                 intercept included) but {got} were given"
            ),
            Self::NonFinitePredictor { index } => write!(
                f,
                "moderator value {} of the prediction is not a finite number; give a number",
                index + 1
            ),
            Self::InvalidColumns { columns, p } => write!(
                f,
                "the test names coefficients {columns:?} but the model has coefficients 0 to {}; \
                 name at least one existing coefficient, each once",
                p.saturating_sub(1)
            ),
            Self::InvalidRows { row, k } => write!(
                f,
                "a refit names study {} but the model has studies 1 to {k}; name existing studies",
                row + 1
            ),
            Self::InvalidParameters { given } => write!(
                f,
                "the variance parameters {given:?} do not fit the model; give one value per \
                 parameter, variances at least 0 and correlations between -1 and 1"
            ),
            Self::NoPermutations => write!(
                f,
                "a permutation test needs at least one permutation; ask for 1000 or more"
            ),
            Self::InvalidPart { index, of } => write!(
                f,
                "part {index} of a permutation test split into {of} parts does not exist; \
                 parts are numbered from 0 and a test has at least one"
            ),
            Self::NeedsInterceptOnly { analysis } => write!(
                f,
                "{analysis} is defined for a model without moderators; remove the moderators"
            ),
            Self::InvalidOrder { k } => write!(
                f,
                "the order of studies must name each of the {k} studies once"
            ),
            Self::NoSubsets => write!(
                f,
                "a GOSH analysis needs at least one subset; ask for 1000 or more"
            ),
            Self::InvalidContrast { row, expected, got } => write!(
                f,
                "contrast {} has {got} weights but the model has {expected} coefficients; give \
                 one finite weight per coefficient (the intercept included), not all zero",
                row + 1
            ),
            Self::DependentContrasts { rows } => write!(
                f,
                "the {rows} contrasts are linearly dependent, so their joint test would count a \
                 hypothesis twice; remove a contrast that the others imply"
            ),
            Self::DifferentStudies => write!(
                f,
                "the two models were fitted to different studies; compare models of the same \
                 studies (a moderator with missing values leaves rows out of one of them)"
            ),
            Self::NotNested { column } => write!(
                f,
                "the models are not nested: `{column}` of the reduced model is not in the full \
                 model; the full model must contain every term of the reduced one"
            ),
            Self::NotFewerParameters { full, reduced } => write!(
                f,
                "the full model has {full} parameters and the reduced one {reduced}; the full \
                 model must have more"
            ),
            Self::NoCommonLikelihood { full, reduced } => write!(
                f,
                "a likelihood-ratio test needs two ML or two REML fits, not {} and {}; fit both \
                 with --method ML",
                full.metafor_name(),
                reduced.metafor_name()
            ),
            Self::ScaleNeedsLikelihood { method } => write!(
                f,
                "a model of tau^2 (scale moderators, a likelihood profile) is estimated by \
                 maximum likelihood, not {}; use --method REML or ML",
                method.metafor_name()
            ),
            Self::RemlFixedEffectsDiffer => write!(
                f,
                "REML fits with different moderators cannot be compared by their likelihoods; \
                 fit both models with --method ML"
            ),
            Self::MultilevelMethod { method } => write!(
                f,
                "a multilevel model is fitted by REML or ML, not {}; choose one of those",
                method.metafor_name()
            ),
            Self::GroupingLength { term, rows, k } => write!(
                f,
                "the grouping `{term}` has {rows} values but the model has {k} rows; give one \
                 value per row"
            ),
            Self::InvalidRho { rho } => write!(
                f,
                "the correlation of sampling errors {rho} is not between -1 and 1; give a value \
                 in that range, such as 0.6"
            ),
            Self::SamplingCovarianceNotPositiveDefinite { row } => write!(
                f,
                "the sampling covariance of the cluster of row {} is not positive definite; \
                 lower the correlation (with n rows in a cluster it must exceed -1/(n - 1))",
                row + 1
            ),
            Self::InvalidStructure { term, levels } => write!(
                f,
                "the random-effects term `{term}` cannot be fitted: a model takes one \
                 `~ inner | outer` term, and its inner factor needs at least two levels for a \
                 correlation ({levels} found)"
            ),
            Self::MultilevelNoConvergence { iterations, last } => write!(
                f,
                "the multilevel model did not converge after {iterations} iterations (last \
                 values {}); simplify the random effects or check for components that cannot be \
                 told apart",
                last.iter()
                    .map(|(n, v)| format!("{n} = {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Self::PredictionNeedsLevel => write!(
                f,
                "the model has a separate tau^2 per inner level, so a prediction interval needs \
                 the level to predict for; predict without an interval or per level"
            ),
            Self::SingleCluster => write!(
                f,
                "cluster-robust standard errors need at least two clusters, but every row is in \
                 one; choose a cluster column with several values"
            ),
            Self::TooFewClusters { clusters, p } => write!(
                f,
                "cluster-robust tests need more clusters than coefficients, but there are \
                 {clusters} clusters and {p} coefficients; remove moderators or use a finer \
                 cluster"
            ),
            Self::ClusterSplitsModel { row } => write!(
                f,
                "row {} is in a different robust cluster from rows the model makes dependent on \
                 it (a shared random effect or correlated sampling errors); cluster by the \
                 outermost grouping of the model",
                row + 1
            ),
            Self::RunUnfinished => f.write_str(
                "the result was asked for before the computation had finished; run it to the end",
            ),
        }
    }
}

impl std::error::Error for StatsError {}
