//! Egger's regression test for funnel-plot asymmetry of the fitted model (metafor's
//! `regtest()`): a refit with the standard error as a moderator, so it is computed only when
//! the funnel plot asks for it.

use super::record::Egger;
use super::stages::Fitted;

/// Egger's test of the fitted model; `None` when its model cannot be fitted (too few studies,
/// standard errors that are all equal).
pub fn egger(fitted: &Fitted) -> Option<Egger> {
    fitted.fit.regtest().ok().map(|r| (&r).into())
}
