//! The data layer: from text as people bring it to what the numerical core fits.
//!
//! [`parse`] (text → table, each numeric column parsed once) → [`roles`] (columns → studies,
//! with [`effect_size`] computing y_i and v_i from raw data, and rows that cannot be used left
//! out with the reason) → [`formula`] (model formula → design matrix and its encoding);
//! [`report`] holds a fitted model under the stable keys of `meridian fit --json`, [`export`]
//! writes it as JSON and CSV. Pure functions over `&str` and plain data: no file I/O, no web or
//! plotting crate, so the browser app and the `meridian` command line share every step.

pub mod centring;
pub mod clusters;
pub mod effect_size;
pub mod examples;
pub mod export;
pub mod formula;
pub mod ipd;
pub mod labels;
pub mod model_report;
pub mod multilevel_report;
pub mod parse;
pub mod report;
pub mod roles;
