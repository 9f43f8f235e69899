//! Tests for small-study effects (funnel-plot asymmetry): Egger's regression test.
