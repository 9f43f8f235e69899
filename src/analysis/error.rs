//! Why an analysis failed: the error of the layer that failed, which names line, row and
//! column, wrapped so that the page and the command line report every stage the same way.

use std::fmt;

use crate::data::clusters::ClusterError;
use crate::data::formula::FormulaError;
use crate::data::ipd::IpdTableError;
use crate::data::parse::ParseError;
use crate::data::roles::RolesError;
use crate::stats::ipd::IpdError;
use crate::stats::StatsError;

/// Why an analysis failed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AnalysisError {
    /// The text is not a readable table.
    Parse(ParseError),
    /// The columns do not give effect sizes, or no row can be used.
    Roles(RolesError),
    /// The formula does not parse, names an unknown column, or the prediction point is wrong.
    Formula(FormulaError),
    /// A random-effects formula or cluster column cannot be used.
    Clusters(ClusterError),
    /// The model cannot be fitted.
    Stats {
        /// The engine's error.
        error: StatsError,
        /// 1-based line of the file of the study the error is about, if it is about one.
        line: Option<u64>,
        /// 1-based data row of that study.
        row: Option<usize>,
    },
    /// Values to predict at were given for a model without moderators.
    PredictionWithoutModerators {
        /// The columns named.
        columns: Vec<String>,
    },
    /// A picture along a moderator was asked of a model without moderators.
    NoModerators,
    /// A plot of the two groups of 2×2 tables (the L'Abbé plot) was asked of effect sizes
    /// that do not come from 2×2 tables.
    NeedsTwoByTwo {
        /// The plot, as a noun phrase ("a L'Abbé plot").
        analysis: &'static str,
    },
    /// A picture along a column the model's formula does not use was asked for.
    NotAModerator {
        /// The column asked for.
        column: String,
        /// The columns the formula uses.
        moderators: Vec<String>,
    },
    /// A study's value of a categorical column is none of its levels (the table changed
    /// after the analysis ran).
    UnknownLevel {
        /// The column.
        column: String,
        /// 1-based data row of the study.
        row: usize,
    },
    /// A term test names a term the formula does not have.
    UnknownTerm {
        /// The term asked for.
        term: String,
        /// The formula's terms.
        terms: Vec<String>,
    },
    /// The model of one subgroup cannot be fitted.
    Subgroup {
        /// The subgroup's level.
        level: String,
        /// The engine's error.
        error: StatsError,
    },
    /// A table of participants or subgroups cannot be read (issue 15).
    IpdTable(IpdTableError),
    /// A two-stage within/across analysis cannot be computed.
    Ipd(IpdError),
    /// A profile of σ² components was asked of a model without any.
    NoSigma2,
}

impl fmt::Display for AnalysisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Parse(e) => e.fmt(f),
            Self::Roles(e) => e.fmt(f),
            Self::Formula(e) => e.fmt(f),
            Self::Clusters(e) => e.fmt(f),
            Self::Stats {
                error,
                line: Some(line),
                row: Some(row),
            } => write!(f, "line {line} (data row {row}): {error}"),
            Self::Stats { error, .. } => error.fmt(f),
            Self::PredictionWithoutModerators { columns } => write!(
                f,
                "values to predict at were given for {} but the model has no moderators: expected a formula using them",
                columns.join(", ")
            ),
            Self::NoModerators => f.write_str(
                "the model has no moderators to plot against: expected a formula such as \"ablat\"",
            ),
            Self::NeedsTwoByTwo { analysis } => write!(
                f,
                "{analysis} needs 2×2 tables: expected counts (ai, bi, ci, di) with measure OR, RR or RD"
            ),
            Self::NotAModerator { column, moderators } => write!(
                f,
                "\"{column}\" is not a moderator of the model: expected one of {}",
                moderators.join(", ")
            ),
            Self::UnknownLevel { column, row } => write!(
                f,
                "data row {row} has a value of \"{column}\" that is none of its levels: run the analysis again"
            ),
            Self::UnknownTerm { term, terms } if terms.is_empty() => write!(
                f,
                "\"{term}\" is not a term of the model, which has no moderators: expected a formula using it"
            ),
            Self::UnknownTerm { term, terms } => write!(
                f,
                "\"{term}\" is not a term of the model: expected one of {}",
                terms.join(", ")
            ),
            Self::Subgroup { level, error } => write!(f, "subgroup \"{level}\": {error}"),
            Self::IpdTable(e) => e.fmt(f),
            Self::Ipd(e) => e.fmt(f),
            Self::NoSigma2 => f.write_str(
                "the model has no \u{3c3}\u{b2} component to profile: the \u{3c4}\u{b2} and \u{3c1} of its structured term have their profile intervals in the results",
            ),
        }
    }
}

impl std::error::Error for AnalysisError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Parse(e) => Some(e),
            Self::Roles(e) => Some(e),
            Self::Formula(e) => Some(e),
            Self::Clusters(e) => Some(e),
            Self::Stats { error, .. } | Self::Subgroup { error, .. } => Some(error),
            Self::IpdTable(e) => Some(e),
            Self::Ipd(e) => Some(e),
            Self::PredictionWithoutModerators { .. }
            | Self::NoModerators
            | Self::NeedsTwoByTwo { .. }
            | Self::NotAModerator { .. }
            | Self::UnknownLevel { .. }
            | Self::UnknownTerm { .. }
            | Self::NoSigma2 => None,
        }
    }
}

impl From<IpdTableError> for AnalysisError {
    fn from(e: IpdTableError) -> Self {
        // A parse error keeps its own variant, as every other stage reports it.
        match e {
            IpdTableError::Parse(e) => Self::Parse(e),
            e => Self::IpdTable(e),
        }
    }
}

impl From<IpdError> for AnalysisError {
    fn from(e: IpdError) -> Self {
        Self::Ipd(e)
    }
}

impl From<ParseError> for AnalysisError {
    fn from(e: ParseError) -> Self {
        Self::Parse(e)
    }
}

impl From<RolesError> for AnalysisError {
    fn from(e: RolesError) -> Self {
        Self::Roles(e)
    }
}

impl From<FormulaError> for AnalysisError {
    fn from(e: FormulaError) -> Self {
        Self::Formula(e)
    }
}

impl From<ClusterError> for AnalysisError {
    fn from(e: ClusterError) -> Self {
        Self::Clusters(e)
    }
}
