//! Meridian: meta-analysis and meta-regression, from a table of studies to a fitted model.
//!
//! Layers, each calling only the ones below it: [`stats`] (the numerical core: no web,
//! plotting or I/O) ← [`data`] (text → table → studies → design) ← [`analysis`] (the pipeline
//! in stages and the plain, serializable records of an analysis and of every derived analysis)
//! ← [`guidance`] (plain-language readings and warnings) ← [`app`] (the page's state and its
//! persistence) ← [`exercise`] (guided exercises checked against the analysis) ← [`plots`] and
//! [`ui`] (drawings and components, which only map records).
//! [`format`] prints numbers for all of them. [`worker`] runs the engine in Web Workers for
//! the page. The browser app and the `meridian` command line
//! run the very same engine.

pub mod analysis;
pub mod app;
pub mod data;
pub mod exercise;
pub mod format;
pub mod guidance;
pub mod plots;
pub mod stats;
pub mod ui;
pub mod worker;
