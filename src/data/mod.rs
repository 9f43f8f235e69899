//! The data layer: from text as people bring it to what the numerical core fits.
//!
//! `parse` (text → table) → `roles` (columns → studies) → `effect_size` (raw data → y_i, v_i)
//! → `formula` (model formula → design matrix). Pure functions over `&str` and plain data: no
//! file I/O, no web or plotting crate, so the browser app and the `meridian` command line share
//! every step.

pub mod effect_size;
pub mod formula;
pub mod parse;
pub mod roles;
pub mod report;
