//! The numerical core: fixed- and random-effects models and meta-regression.
//!
//! Pure computation on numbers: no web, plotting or I/O crate is named here (CI checks it).

pub mod design;

pub use design::{Design, Term};
