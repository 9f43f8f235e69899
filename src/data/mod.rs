//! The data layer: from text as people bring it to what the numerical core fits.
//!
//! [`parse`] (text → table) → [`roles`] (columns → studies, with [`effect_size`] computing
//! y_i and v_i from raw data) → [`formula`] (model formula → design matrix); [`report`] holds
//! a fitted model under the stable keys of `meridian fit --json`; [`analysis`] runs the whole
//! pipeline in one call, for the command line and the web app alike. Pure functions over `&str`
//! and plain data: no file I/O, no web or plotting crate, so the browser app and the
//! `meridian` command line share every step.

pub mod analysis;
pub mod effect_size;
pub mod examples;
pub mod export;
pub mod formula;
pub mod parse;
pub mod report;
pub mod roles;
pub mod session;
