//! The ecological-bias heuristic: whether a moderator's name suggests a study-level average of
//! patient characteristics, for the warning beside the results.

/// Whether a column's name suggests a study-level average of patient characteristics (mean
/// age, % female, baseline risk, BMI, …): a moderator of that kind risks ecological bias, as an
/// association across studies need not hold between patients within them (Berlin et al., 2002,
/// Stat. Med. 21(3):371–387; Thompson & Higgins, 2002, Stat. Med. 21(11):1559–1573). A guess
/// from the name only, for a warning the user can switch off (the page keeps the answers).
pub fn is_study_level_average(column: &str) -> bool {
    const WORDS: [&str; 21] = [
        "age",
        "ages",
        "bmi",
        "female",
        "females",
        "male",
        "males",
        "women",
        "men",
        "sex",
        "gender",
        "weight",
        "height",
        "baseline",
        "smokers",
        "smoking",
        "income",
        "education",
        "severity",
        "ethnicity",
        "white",
    ];
    const STATISTICS: [&str; 11] = [
        "mean",
        "avg",
        "average",
        "median",
        "pct",
        "percent",
        "percentage",
        "perc",
        "prop",
        "proportion",
        "fraction",
    ];
    if column.contains('%') {
        return true;
    }
    let lower = column.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let Some(first) = words.first() else {
        return false;
    };
    words
        .iter()
        .any(|w| WORDS.contains(w) || STATISTICS.contains(w))
        // Run-together names: meanage, pctfemale, propmale, avgbmi.
        || STATISTICS
            .iter()
            .any(|s| first.strip_prefix(s).is_some_and(|rest| WORDS.contains(&rest)))
        // Baseline or control-group risk, under its usual names (control event rate, …).
        || words.iter().any(|w| matches!(*w, "control" | "base"))
            && words.iter().any(|w| matches!(*w, "risk" | "rate"))
        || words.iter().any(|w| matches!(*w, "cer" | "baserisk" | "baselinerisk"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn study_level_averages_are_guessed_from_names() {
        for name in [
            "mean age",
            "meanage",
            "Age (years)",
            "age",
            "baseline risk",
            "% female",
            "pct_female",
            "prop_male",
            "mean_bmi",
            "BMI",
            "female_pct",
            "control_risk",
            "pctfemale",
            "avgweight",
            "MedianAge",
            "Control event rate",
        ] {
            assert!(is_study_level_average(name), "{name}");
        }
        for name in [
            "ablat",
            "year",
            "alloc",
            "weeks",
            "dose",
            "dosage",
            "design",
            "quality",
            "tester",
            "stage",
            "",
            "meanwhile_x",
        ] {
            assert!(!is_study_level_average(name), "{name}");
        }
    }
}
