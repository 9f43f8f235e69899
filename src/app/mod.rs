//! The page's state above the analysis: what the user has chosen, split by concern
//! ([`state`]), kept in local storage and share links ([`persist`], [`storage`]). The page
//! turns these into analysis requests; nothing here computes a statistic.

use std::fmt;

pub mod dependence;
pub mod ipd;
pub mod persist;
pub mod state;
pub mod storage;

pub use dependence::{DependenceState, Robust, Within, DEFAULT_STRUCTURE};
pub use state::{
    analysis_spec, is_average, page_studies, Averages, ColumnState, DataState, ForestSort,
    ModelState, PageState, PlotOptions, PlotTab,
};

use crate::analysis::AnalysisError;
use persist::FRAGMENT_VERSION;

/// Why a state cannot be analysed or restored. Each displays as one sentence.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StateError {
    /// The confidence level is not strictly between 0 and 100 percent.
    InvalidLevel {
        /// The level, in percent.
        level: f64,
    },
    /// The data or the model cannot be analysed; the layer's own error says where.
    Analysis(AnalysisError),
    /// Saved state that is not a page state (from local storage or inside a share link), or
    /// that names a setting this version does not know.
    Json {
        /// The JSON reader's message, with line and column.
        message: String,
    },
    /// A share link written by a newer version of the app, or not by the app at all.
    FragmentVersion {
        /// The version tag found.
        found: String,
    },
    /// A share link whose content is damaged (cut short when copied, or edited).
    Fragment {
        /// What is wrong with it.
        reason: String,
    },
    /// A share link that expands to more than [`persist::MAX_FRAGMENT_JSON`] bytes: not
    /// written by the app (a "deflate bomb"), and refused before it is unpacked further.
    FragmentTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The engine (in a Web Worker) could not analyse the data; its sentence says why.
    Engine {
        /// The engine's error, as it reads.
        message: String,
    },
    /// The engine has not answered yet.
    Computing,
    /// A multilevel model of the effects within studies, but no column says which effect
    /// within its study a row is.
    NoEffectId,
    /// A multivariate model of the effects within studies, but no column names their outcomes.
    NoOutcome,
    /// The IPD view's table has no column chosen for a role.
    IpdColumn {
        /// The role, as a phrase ("outcome", "first subgroup's share").
        role: &'static str,
    },
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidLevel { level } => write!(
                f,
                "confidence level {level} %: expected a level between 0 and 100, such as 95"
            ),
            Self::Analysis(e) => e.fmt(f),
            Self::Json { message } => write!(f, "the saved session cannot be read: {message}"),
            Self::FragmentVersion { found } => write!(
                f,
                "the link holds a session in format \"{found}\": expected \"{FRAGMENT_VERSION}\" (it may come from a newer version of the app)"
            ),
            Self::Fragment { reason } => write!(
                f,
                "the link does not hold a readable session ({reason}): it may have been cut short when copied"
            ),
            Self::FragmentTooLarge { limit } => write!(
                f,
                "the link expands to more than {} MiB, more than any session the app writes: expected a link made by \"Share link\"",
                limit >> 20
            ),
            Self::Engine { message } => f.write_str(message),
            Self::Computing => f.write_str("computing the analysis…"),
            Self::NoEffectId => f.write_str(
                "the multilevel model needs an effect-ID column (which effect within its study \
                 a row is): choose one under Columns in the Data pane",
            ),
            Self::NoOutcome => f.write_str(
                "the multivariate model needs the column that names each effect's outcome: \
                 choose it under \"Effects within studies\" in the Model pane",
            ),
            Self::IpdColumn { role } => {
                write!(f, "choose the {role} column of the table")
            }
        }
    }
}

impl std::error::Error for StateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Analysis(e) => Some(e),
            _ => None,
        }
    }
}

impl From<AnalysisError> for StateError {
    fn from(e: AnalysisError) -> Self {
        Self::Analysis(e)
    }
}
#[cfg(test)]
mod tests;
