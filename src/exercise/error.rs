//! Why an exercise file cannot be used: [`ExerciseError`], which names the file or exercise and
//! the step, and reads as a sentence a teacher can act on.

use std::fmt;

/// A malformed exercise file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExerciseError {
    /// The file is not JSON, or not a JSON object.
    Json {
        /// The file's name (`heterogeneity.json`).
        file: String,
        /// The JSON reader's message, with line and column.
        message: String,
    },
    /// A field of the exercise itself (not of a step) is missing or wrong.
    Exercise {
        /// The exercise's id, or the file's name before the id is known.
        exercise: String,
        /// The field (`dataset`, `start.method`).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A field of one step is missing or wrong.
    Step {
        /// The exercise's id.
        exercise: String,
        /// The step's position, from 1.
        number: usize,
        /// The step's id, when it has a readable one.
        id: Option<String>,
        /// The field (`check.tolerance`, `hints`), empty when the step as a whole is wrong.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl fmt::Display for ExerciseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json { file, message } => {
                write!(f, "exercise file {file} is not a JSON object: {message}")
            }
            Self::Exercise {
                exercise,
                field,
                reason,
            } => write!(f, "exercise \"{exercise}\", field \"{field}\": {reason}"),
            Self::Step {
                exercise,
                number,
                id,
                field,
                reason,
            } => {
                write!(f, "exercise \"{exercise}\", step {number}")?;
                if let Some(id) = id {
                    write!(f, " (\"{id}\")")?;
                }
                if !field.is_empty() {
                    write!(f, ", field \"{field}\"")?;
                }
                write!(f, ": {reason}")
            }
        }
    }
}

impl std::error::Error for ExerciseError {}
