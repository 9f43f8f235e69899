//! The exercises compiled into the program (`assets/exercises/*.json`), in the order the
//! panel lists them, so that the page needs no request to open one and works offline.

use std::sync::OnceLock;

use super::{parse, Exercise, ExerciseError};

/// Every bundled exercise file: its name and text.
pub const BUNDLED_FILES: [(&str, &str); 8] = [
    (
        "heterogeneity.json",
        include_str!("../../assets/exercises/heterogeneity.json"),
    ),
    (
        "fixed-random.json",
        include_str!("../../assets/exercises/fixed-random.json"),
    ),
    (
        "prediction-interval.json",
        include_str!("../../assets/exercises/prediction-interval.json"),
    ),
    (
        "meta-regression.json",
        include_str!("../../assets/exercises/meta-regression.json"),
    ),
    (
        "interaction.json",
        include_str!("../../assets/exercises/interaction.json"),
    ),
    (
        "few-studies.json",
        include_str!("../../assets/exercises/few-studies.json"),
    ),
    (
        "ecological-bias.json",
        include_str!("../../assets/exercises/ecological-bias.json"),
    ),
    (
        "dependent-effects.json",
        include_str!("../../assets/exercises/dependent-effects.json"),
    ),
];

/// Every bundled exercise, read once: the exercise, or why its file cannot be used (shown in
/// the panel, so that a teacher who adds a file sees what to fix; the tests require every
/// bundled file to read).
pub fn bundled() -> &'static [Result<Exercise, ExerciseError>] {
    static EXERCISES: OnceLock<Vec<Result<Exercise, ExerciseError>>> = OnceLock::new();
    EXERCISES.get_or_init(|| {
        BUNDLED_FILES
            .iter()
            .map(|(file, text)| parse(file, text))
            .collect()
    })
}
