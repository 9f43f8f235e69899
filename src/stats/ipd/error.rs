//! The errors of the two-stage IPD analyses: a study whose regression cannot be fitted (named
//! by its label, with what to do about it), or a pooling step that the numerical core refused.

use std::fmt;

use crate::stats::StatsError;

/// Which pooling step of a two-stage analysis failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The random-effects pooling of the within-study interactions.
    Within,
    /// The meta-regression of the studies' treatment effects on their covariate means.
    Across,
}

/// Why a two-stage IPD (or aggregate subgroup) analysis could not be computed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum IpdError {
    /// No study at all.
    NoStudies,
    /// A study's treatment, covariate and outcome vectors differ in length.
    LengthMismatch {
        /// The study's label.
        study: String,
    },
    /// A value of a study is missing or infinite.
    NonFinite {
        /// The study's label.
        study: String,
        /// Which variable (`treatment`, `covariate`, `outcome`).
        variable: &'static str,
    },
    /// A treatment value is not 0 (control) or 1 (treated).
    TreatmentNotBinary {
        /// The study's label.
        study: String,
        /// The offending value.
        value: f64,
    },
    /// A binary outcome is not 0 or 1.
    OutcomeNotBinary {
        /// The study's label.
        study: String,
        /// The offending value.
        value: f64,
    },
    /// A study has participants in one arm only, so it says nothing about treatment.
    SingleArm {
        /// The study's label.
        study: String,
    },
    /// A study has too few participants for its regression (and, for a continuous outcome,
    /// a residual variance).
    TooFewParticipants {
        /// The study's label.
        study: String,
        /// Participants it has.
        n: usize,
        /// Participants its regression needs.
        needed: usize,
    },
    /// The treatment × covariate interaction of a study cannot be estimated: within an arm the
    /// covariate takes a single value (or the columns are collinear in floating point).
    InestimableInteraction {
        /// The study's label.
        study: String,
    },
    /// A study's logistic regression has no finite maximum: the outcome is perfectly predicted
    /// by treatment and covariate (complete or quasi-complete separation, such as no events,
    /// or only events, in one arm).
    Separation {
        /// The study's label.
        study: String,
    },
    /// A study's regression fitted its outcome exactly (no residual variance), so its
    /// estimates have no sampling variance to weight them by.
    ExactFit {
        /// The study's label.
        study: String,
    },
    /// Too few studies for the meta-regression across studies (it needs more studies than its
    /// two coefficients).
    TooFewStudies {
        /// Number of studies.
        k: usize,
    },
    /// A subgroup row of aggregate data is unusable (a non-finite effect, a variance that is
    /// not positive, a share outside [0, 1]).
    InvalidSubgroupData {
        /// The study's label.
        study: String,
        /// What is wrong, as a phrase.
        problem: &'static str,
    },
    /// The numerical core could not pool the studies' estimates.
    Pooling {
        /// The pooling step.
        stage: Stage,
        /// The core's reason.
        source: StatsError,
    },
}

impl fmt::Display for IpdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoStudies => write!(f, "there are no studies: expected participants of at least three studies"),
            Self::LengthMismatch { study } => write!(f, "study \"{study}\": treatment, covariate and outcome have different numbers of participants"),
            Self::NonFinite { study, variable } => write!(f, "study \"{study}\": a {variable} value is missing or infinite: expected a number for every participant"),
            Self::TreatmentNotBinary { study, value } => write!(f, "study \"{study}\": found treatment {value}: expected 0 (control) or 1 (treated)"),
            Self::OutcomeNotBinary { study, value } => write!(f, "study \"{study}\": found outcome {value}: a binary outcome must be 0 or 1 (or use --family gaussian for a continuous one)"),
            Self::SingleArm { study } => write!(f, "study \"{study}\" has participants in one arm only: expected both treated (1) and control (0) participants; remove the study"),
            Self::TooFewParticipants { study, n, needed } => write!(f, "study \"{study}\" has {n} participants: its regression needs at least {needed}; remove the study"),
            Self::InestimableInteraction { study } => write!(f, "study \"{study}\": the treatment × covariate interaction cannot be estimated because the covariate does not vary within one of its arms; remove the study"),
            Self::Separation { study } => write!(f, "study \"{study}\": the outcome is perfectly predicted by treatment and covariate (complete or quasi-complete separation, e.g. no events or only events in one arm), so its logistic regression has no finite estimates; remove the study or analyse it on another scale"),
            Self::ExactFit { study } => write!(f, "study \"{study}\": the regression reproduces every outcome exactly, so its estimates have no sampling variance; check the outcome column"),
            Self::TooFewStudies { k } => write!(f, "{k} studies: the across-study meta-regression needs at least 3"),
            Self::InvalidSubgroupData { study, problem } => write!(f, "study \"{study}\": {problem}"),
            Self::Pooling { stage: Stage::Within, source } => write!(f, "pooling the within-study interactions failed: {source}"),
            Self::Pooling { stage: Stage::Across, source } => write!(f, "the across-study meta-regression failed: {source}"),
        }
    }
}

impl IpdError {
    /// The study the error is about, if it is about one.
    pub fn study(&self) -> Option<&str> {
        match self {
            Self::LengthMismatch { study }
            | Self::NonFinite { study, .. }
            | Self::TreatmentNotBinary { study, .. }
            | Self::OutcomeNotBinary { study, .. }
            | Self::SingleArm { study }
            | Self::TooFewParticipants { study, .. }
            | Self::InestimableInteraction { study }
            | Self::Separation { study }
            | Self::ExactFit { study }
            | Self::InvalidSubgroupData { study, .. } => Some(study),
            Self::NoStudies | Self::TooFewStudies { .. } | Self::Pooling { .. } => None,
        }
    }
}

impl std::error::Error for IpdError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Pooling { source, .. } => Some(source),
            _ => None,
        }
    }
}
