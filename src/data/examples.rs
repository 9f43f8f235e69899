//! The bundled example datasets: `assets/examples/*.csv` and their descriptions and suggested
//! analyses in `assets/examples/index.json`, compiled into the program so that the web app
//! needs no request to load one and works offline.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// The text of every bundled file, by the name `index.json` gives it.
const FILES: [(&str, &str); 7] = [
    ("bcg.csv", include_str!("../../assets/examples/bcg.csv")),
    (
        "molloy2014.csv",
        include_str!("../../assets/examples/molloy2014.csv"),
    ),
    (
        "curtis1998.csv",
        include_str!("../../assets/examples/curtis1998.csv"),
    ),
    (
        "hackshaw1998.csv",
        include_str!("../../assets/examples/hackshaw1998.csv"),
    ),
    (
        "raudenbush1985.csv",
        include_str!("../../assets/examples/raudenbush1985.csv"),
    ),
    (
        "normand1999.csv",
        include_str!("../../assets/examples/normand1999.csv"),
    ),
    (
        "konstantopoulos2011.csv",
        include_str!("../../assets/examples/konstantopoulos2011.csv"),
    ),
];

const INDEX: &str = include_str!("../../assets/examples/index.json");

/// One bundled dataset with the analysis it suggests.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Example {
    /// File name under `assets/examples/` (`bcg.csv`), which also identifies the example.
    pub file: String,
    /// Short title for a menu.
    pub title: String,
    /// What the studies are and which moderators the table has.
    pub description: String,
    /// The publication the data come from, and the metafor dataset.
    pub source: String,
    /// Effect-size measure to compute from raw data (metafor's name); `None` when the table
    /// has `yi` and `vi`.
    pub measure: Option<String>,
    /// Column per role: `escalc` raw-data roles (`ai`, `n1i`, …) or `yi`, `vi`, `sei`.
    pub columns: BTreeMap<String, String>,
    /// Study-label column.
    pub slab: Option<String>,
    /// Suggested model formula (right-hand side), `None` for intercept-only.
    pub mods: Option<String>,
    /// The CSV text.
    #[serde(skip)]
    pub text: &'static str,
}

#[derive(Deserialize)]
struct Index {
    examples: Vec<Example>,
}

/// Every bundled example, in the order of `index.json` (the order of the example menu).
pub fn examples() -> &'static [Example] {
    static EXAMPLES: OnceLock<Vec<Example>> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        let index: Index = serde_json::from_str(INDEX)
            .expect("the bundled index.json is valid; tests::index_matches_the_files checks it");
        index
            .examples
            .into_iter()
            .map(|mut e| {
                e.text = FILES
                    .iter()
                    .find(|(name, _)| *name == e.file)
                    .map(|(_, text)| *text)
                    .expect(
                        "every indexed file is bundled; tests::index_matches_the_files checks it",
                    );
                e
            })
            .collect()
    })
}

/// The example stored under this file name.
pub fn example(file: &str) -> Option<&'static Example> {
    examples().iter().find(|e| e.file == file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_matches_the_files() {
        let files: Vec<&str> = examples().iter().map(|e| e.file.as_str()).collect();
        let bundled: Vec<&str> = FILES.iter().map(|(name, _)| *name).collect();
        assert_eq!(files, bundled);
        assert!(examples().iter().all(|e| e.text.contains('\n')));
    }

    #[test]
    fn bcg_is_the_log_risk_ratio_analysis() {
        let bcg = example("bcg.csv").unwrap();
        assert_eq!(bcg.measure.as_deref(), Some("RR"));
        assert_eq!(bcg.columns["ai"], "tpos");
        assert_eq!(bcg.slab.as_deref(), Some("author"));
        assert!(bcg
            .text
            .starts_with("trial,author,year,tpos,tneg,cpos,cneg,ablat,alloc\n"));
        assert_eq!(example("missing.csv"), None);
    }
}
