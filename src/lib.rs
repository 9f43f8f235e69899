//! Meridian: meta-analysis and meta-regression, from a table of studies to a fitted model.
//!
//! Data flows one way: text → [`data`] → [`stats`] → [`plots`] and [`ui`]. The numerical core in
//! [`stats`] knows nothing of the web, plotting or I/O, so the browser app and the `meridian`
//! command line run the very same engine.

pub mod data;
pub mod format;
pub mod plots;
pub mod stats;
pub mod ui;
