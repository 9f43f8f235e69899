//! Bracketing and Brent's root finder, shared by every one-dimensional search of the core: the
//! Paule–Mandel estimate, the Q-profile bounds and the optimiser's fallback on the score.
//!
//! Written here rather than taken from a crate: the functions searched evaluate a GLS fit that
//! can fail (a typed error must travel out of the search), the tolerance is relative to the
//! scale of the parameter, and evaluations count against the fit's `Control::max_iter`;
//! `roots` takes infallible closures with an absolute tolerance, and `argmin` brings a timer
//! crate that needs the browser's bindings on wasm32, which the core must not name.

use super::spec::Control;

/// The absolute tolerance at x for a parameter of typical size `scale`: tol·(|x| + scale).
pub(crate) fn tolerance(control: &Control, x: f64, scale: f64) -> f64 {
    control.tol * (x.abs() + scale)
}

/// Why a search stopped without an answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum SearchFailure<E> {
    /// An evaluation of the function failed.
    Failed(E),
    /// `Control::max_iter` evaluations were used; `last` is the best point reached.
    Exhausted {
        /// Evaluations used.
        evaluations: usize,
        /// The last point reached.
        last: f64,
    },
}

impl<E> From<E> for SearchFailure<E> {
    fn from(e: E) -> Self {
        Self::Failed(e)
    }
}

/// A root with the number of function evaluations it took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Root {
    /// The root.
    pub x: f64,
    /// Evaluations used (the ones of the bracketing included).
    pub evaluations: usize,
}

/// An interval [lo, hi] with the function's values at both ends, of opposite signs (or 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bracket {
    /// Lower end.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
    /// f(lo).
    pub f_lo: f64,
    /// f(hi).
    pub f_hi: f64,
}

/// Finds `hi` > `lo` with f(hi) < 0, for an f with f(lo) > 0 that eventually turns negative:
/// steps lo + s, lo + 3s, lo + 7s, … (doubling), `s` = max(`scale`, |lo|). Returns the
/// bracket from the last point where f was still positive, and the evaluations used.
pub(crate) fn bracket_upward<E>(
    mut f: impl FnMut(f64) -> Result<f64, E>,
    lo: f64,
    f_lo: f64,
    scale: f64,
    control: &Control,
) -> Result<(Bracket, usize), SearchFailure<E>> {
    let mut step = scale.max(lo.abs());
    let (mut a, mut fa) = (lo, f_lo);
    let mut evaluations = 0;
    loop {
        let b = a + step;
        if evaluations >= control.max_iter || !b.is_finite() {
            return Err(SearchFailure::Exhausted {
                evaluations,
                last: a,
            });
        }
        evaluations += 1;
        let fb = f(b)?;
        if fb <= 0.0 {
            let bracket = Bracket {
                lo: a,
                hi: b,
                f_lo: fa,
                f_hi: fb,
            };
            return Ok((bracket, evaluations));
        }
        (a, fa) = (b, fb);
        step *= 2.0;
    }
}

/// Finds `lo` < `hi` with f(lo) > 0, for an f with f(hi) < 0, between `hi` and the bound
/// `bound` < `hi`: halves the distance to the bound (bound + (hi − bound)/2ⁿ) until f turns
/// positive, and tries the bound itself once the distance is below the tolerance. `None` when
/// f is not positive even at the bound. Returns the evaluations used too.
pub(crate) fn bracket_downward<E>(
    mut f: impl FnMut(f64) -> Result<f64, E>,
    hi: f64,
    f_hi: f64,
    bound: f64,
    scale: f64,
    control: &Control,
) -> Result<(Option<Bracket>, usize), SearchFailure<E>> {
    let (mut b, mut fb) = (hi, f_hi);
    let mut evaluations = 0;
    loop {
        if evaluations >= control.max_iter {
            return Err(SearchFailure::Exhausted {
                evaluations,
                last: b,
            });
        }
        let near = b - bound <= tolerance(control, bound, scale);
        let a = if near {
            bound
        } else {
            bound + 0.5 * (b - bound)
        };
        evaluations += 1;
        let fa = f(a)?;
        if fa > 0.0 {
            let bracket = Bracket {
                lo: a,
                hi: b,
                f_lo: fa,
                f_hi: fb,
            };
            return Ok((Some(bracket), evaluations));
        }
        if near {
            return Ok((None, evaluations));
        }
        (b, fb) = (a, fa);
    }
}

/// Brent's method (Brent, 1973, *Algorithms for Minimization without Derivatives*, ch. 4,
/// procedure `zero`): the root of f in [a, b] where f(a) and f(b) differ in sign, by inverse
/// quadratic interpolation and secant steps kept inside the bracket, bisecting whenever they
/// do not shrink it fast enough. Stops when the bracket is narrower than about
/// tol·(|x| + `scale`) or f is exactly 0. `used` evaluations count against `max_iter`.
pub(crate) fn brent_root<E>(
    mut f: impl FnMut(f64) -> Result<f64, E>,
    bracket: Bracket,
    scale: f64,
    control: &Control,
    used: usize,
) -> Result<Root, SearchFailure<E>> {
    let (mut a, mut b, mut fa, mut fb) = (bracket.lo, bracket.hi, bracket.f_lo, bracket.f_hi);
    let mut evaluations = used;
    if fa == 0.0 {
        return Ok(Root { x: a, evaluations });
    }
    let (mut c, mut fc) = (a, fa);
    let mut d = b - a;
    let mut e = d;
    loop {
        if fb.signum() == fc.signum() {
            (c, fc) = (a, fa);
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            (a, b, c) = (b, c, b);
            (fa, fb, fc) = (fb, fc, fb);
        }
        let tol = 2.0 * f64::EPSILON * b.abs() + 0.5 * tolerance(control, b, scale);
        let m = 0.5 * (c - b);
        if m.abs() <= tol || fb == 0.0 {
            return Ok(Root { x: b, evaluations });
        }
        if evaluations >= control.max_iter {
            return Err(SearchFailure::Exhausted {
                evaluations,
                last: b,
            });
        }
        if e.abs() < tol || fa.abs() <= fb.abs() {
            d = m;
            e = m;
        } else {
            let s = fb / fa;
            let (mut p, mut q) = if a == c {
                (2.0 * m * s, 1.0 - s)
            } else {
                let q = fa / fc;
                let r = fb / fc;
                (
                    s * (2.0 * m * q * (q - r) - (b - a) * (r - 1.0)),
                    (q - 1.0) * (r - 1.0) * (s - 1.0),
                )
            };
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < 3.0 * m * q - (tol * q).abs() && p < (0.5 * e * q).abs() {
                e = d;
                d = p / q;
            } else {
                d = m;
                e = m;
            }
        }
        (a, fa) = (b, fb);
        b += if d.abs() > tol { d } else { tol.copysign(m) };
        evaluations += 1;
        fb = f(b)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bracket(lo: f64, hi: f64, f_lo: f64, f_hi: f64) -> Bracket {
        Bracket { lo, hi, f_lo, f_hi }
    }

    #[test]
    fn brent_finds_roots_to_the_relative_tolerance() {
        let control = Control::default();
        // x³ − 2x − 5 = 0 (Brent's own test function): x = 2.0945514815423265.
        let f = |x: f64| Ok::<_, ()>(x * x * x - 2.0 * x - 5.0);
        let root =
            brent_root(f, bracket(2.0, 3.0, -1.0, 16.0), 1.0, &control, 0).expect("converges");
        assert!(
            (root.x - 2.094_551_481_542_326_5).abs() < 1e-9,
            "{}",
            root.x
        );
        assert!(root.evaluations < 20, "{}", root.evaluations);
        // A root at 1e-9 with scale 1e-9 is found to about 1e-19, not to 1e-10 absolute.
        let g = |x: f64| Ok::<_, ()>(1e-9 - x);
        let root = brent_root(g, bracket(0.0, 1.0, 1e-9, 1e-9 - 1.0), 1e-9, &control, 0)
            .expect("converges");
        assert!((root.x - 1e-9).abs() < 1e-17, "{:e}", root.x);
    }

    #[test]
    fn bracketing_doubles_until_the_sign_changes() {
        let control = Control::default();
        let f = |x: f64| Ok::<_, ()>(100.0 - x);
        let (b, n) = bracket_upward(f, 0.0, 100.0, 1.0, &control).expect("found");
        assert!(
            b.f_lo > 0.0 && b.f_hi <= 0.0 && b.lo < 100.0 && b.hi >= 100.0,
            "{b:?}"
        );
        assert!(n <= 8, "{n}");
    }

    #[test]
    fn searches_stop_at_the_iteration_cap() {
        let control = Control {
            tol: 1e-10,
            max_iter: 3,
        };
        let f = |_: f64| Ok::<_, ()>(1.0);
        assert!(matches!(
            bracket_upward(f, 0.0, 1.0, 1.0, &control),
            Err(SearchFailure::Exhausted { evaluations: 3, .. })
        ));
    }
}
