//! Generalised least squares at one marginal covariance M = LL' of the effects.
//!
//! The whitened design X̃ = L⁻¹X is factorised as X̃ = QR ([`Qr`]); for each response y the
//! whitened residual ẽ = (I − QQ')L⁻¹y gives everything the estimators and the likelihood need
//! without a k × k matrix: with P = M⁻¹ − M⁻¹X(X'M⁻¹X)⁻¹X'M⁻¹ = L⁻ᵀ(I − QQ')L⁻¹,
//! y'Py = ‖ẽ‖², Py = L⁻ᵀẽ, β = R⁻¹Q'L⁻¹y, (X'M⁻¹X)⁻¹ = R⁻¹R⁻ᵀ and
//! log det(X'M⁻¹X) = 2 Σ log |Rⱼⱼ|. The buffers are kept between fits of the same size.

use nalgebra::{DMatrix, DVector};

use super::qr::Qr;

/// A marginal covariance M = LL' as far as least squares needs it: its whitening L⁻¹ and its
/// log-determinant.
pub(crate) trait Whiten {
    /// dst = L⁻¹·src for one column of length k.
    fn whiten(&self, src: &[f64], dst: &mut [f64]);
    /// log det M.
    fn log_det(&self) -> f64;
}

/// One response fitted by [`Gls`].
#[derive(Debug, Clone, Default)]
struct Fitted {
    /// L⁻¹y.
    whitened: Vec<f64>,
    /// β.
    coef: Vec<f64>,
    /// ẽ = (I − QQ')L⁻¹y.
    resid: Vec<f64>,
    /// y'Py = ‖ẽ‖².
    rss: f64,
}

impl Fitted {
    /// Fits `y` on the factorised whitened design `qr` under `m`: L⁻¹y, β, ẽ and ‖ẽ‖², in
    /// the one order of operations that every fit of a response uses, so that a value computed
    /// alone ([`Residual`]) or added later ([`Gls::add_response`]) has the same bits. Returns
    /// `false` for non-finite coefficients or residuals.
    fn solve(&mut self, qr: &Qr, m: &impl Whiten, y: &[f64]) -> bool {
        let (k, p) = (qr.k(), qr.p());
        self.whitened.resize(k, 0.0);
        self.resid.resize(k, 0.0);
        self.coef.resize(p, 0.0);
        m.whiten(y, &mut self.whitened);
        qr.project(&self.whitened, &mut self.coef, &mut self.resid);
        qr.solve_r(&mut self.coef);
        self.rss = self.resid.iter().map(|e| e * e).sum();
        self.coef.iter().all(|c| c.is_finite()) && self.rss.is_finite()
    }

    /// ‖L⁻¹y‖², the scale that decides whether `rss` is rounding residue: summed only when a
    /// caller asks whether the fit is exact, not on every iteration of an estimator.
    fn total(&self) -> f64 {
        self.whitened.iter().map(|e| e * e).sum()
    }
}

/// The residual sum of squares of a response counts as exactly zero when it is below this
/// multiple of (k·ε)²·‖L⁻¹y‖²: the backward error of Householder least squares is a few k·ε
/// times ‖L⁻¹y‖ (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §20.3),
/// so a smaller residual is indistinguishable from an exact fit.
const ROUNDING_MULTIPLE: f64 = 100.0;

/// Factorises the whitened design L⁻¹X of `x` under `m` into `qr`; `false` when it is
/// numerically singular.
fn factorise_whitened(qr: &mut Qr, x: &DMatrix<f64>, m: &impl Whiten) -> bool {
    let (k, p) = (x.nrows(), x.ncols());
    let cols = x.as_slice();
    qr.factorise(k, p, |a| {
        for (src, dst) in cols.chunks_exact(k).zip(a.chunks_exact_mut(k)) {
            m.whiten(src, dst);
        }
    })
}

/// A GLS fit of one or more responses on the same design and covariance.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gls {
    qr: Qr,
    fitted: Vec<Fitted>,
    hat: Vec<f64>,
    log_det_m: f64,
}

impl Gls {
    /// Fits each of `ys` on `x` under the covariance `m`. Returns `false` when the whitened
    /// design is numerically singular (a zero on R's diagonal or non-finite values).
    pub fn fit(&mut self, x: &DMatrix<f64>, m: &impl Whiten, ys: &[&[f64]]) -> bool {
        if !factorise_whitened(&mut self.qr, x, m) {
            return false;
        }
        self.log_det_m = m.log_det();
        self.fitted.resize_with(ys.len(), Fitted::default);
        let mut finite = true;
        for (f, y) in self.fitted.iter_mut().zip(ys) {
            finite &= f.solve(&self.qr, m, y);
        }
        self.hat.resize(x.nrows(), 0.0);
        self.qr.hat(&mut self.hat);
        finite
    }

    /// Fits one more response `y` on the design and covariance of the last [`Gls::fit`],
    /// `m` being that covariance still: the same operations as fitting it with the others, so
    /// the same bits. Returns `false` for non-finite coefficients or residuals.
    pub fn add_response(&mut self, m: &impl Whiten, y: &[f64]) -> bool {
        let mut f = Fitted::default();
        let ok = f.solve(&self.qr, m, y);
        self.fitted.push(f);
        ok
    }

    /// Number of responses fitted.
    pub fn responses(&self) -> usize {
        self.fitted.len()
    }

    /// Number of studies.
    pub fn k(&self) -> usize {
        self.qr.k()
    }

    /// Number of coefficients.
    pub fn p(&self) -> usize {
        self.qr.p()
    }

    /// The coefficients β of response `r`.
    pub fn coef(&self, r: usize) -> DVector<f64> {
        DVector::from_column_slice(&self.fitted[r].coef)
    }

    /// The coefficients β of response `r`, with those that are rounding residue of an exact
    /// fit set to exactly 0. When the model reproduces the effects ([`Gls::rss_or_zero`] is 0),
    /// a coefficient whose share of the whitened fit, |βⱼ|·‖L⁻¹xⱼ‖ = |βⱼ|·‖R₍·ⱼ₎‖, is below the
    /// rounding level of the residual, √ROUNDING_MULTIPLE·k·ε·‖L⁻¹y‖, is 0 in exact arithmetic
    /// (three identical effects coded by a factor give the contrast ~1e-16 of either sign):
    /// with s² = 0 its Knapp–Hartung statistic is then 0/0, not ±∞ from the sign of the
    /// residue.
    pub fn coef_or_zero(&self, r: usize) -> DVector<f64> {
        let mut coef = self.coef(r);
        if self.rss_or_zero(r) == 0.0 {
            let f = &self.fitted[r];
            let level =
                ROUNDING_MULTIPLE.sqrt() * self.k() as f64 * f64::EPSILON * f.total().sqrt();
            for (j, b) in coef.iter_mut().enumerate() {
                let column = (0..=j).map(|i| self.qr.r(i, j).powi(2)).sum::<f64>().sqrt();
                if b.abs() * column <= level {
                    *b = 0.0;
                }
            }
        }
        coef
    }

    /// The whitened residual ẽ of response `r`.
    pub fn whitened_resid(&self, r: usize) -> &[f64] {
        &self.fitted[r].resid
    }

    /// y'Py = ‖ẽ‖² of response `r`, the generalised residual sum of squares.
    pub fn rss(&self, r: usize) -> f64 {
        self.fitted[r].rss
    }

    /// y'Py of response `r`, set to exactly 0 when it is below the rounding level of the data
    /// (the model reproduces the effects exactly, as when k = p or all effects are equal).
    pub fn rss_or_zero(&self, r: usize) -> f64 {
        let f = &self.fitted[r];
        let level = ROUNDING_MULTIPLE * (self.k() as f64 * f64::EPSILON).powi(2) * f.total();
        if self.k() == self.p() || f.rss <= level {
            0.0
        } else {
            f.rss
        }
    }

    /// The hat values hᵢ = ‖row i of Q‖² of the whitened design.
    pub fn hat(&self) -> &[f64] {
        &self.hat
    }

    /// The hat values, the rest of the fit dropped.
    pub fn into_hat(self) -> Vec<f64> {
        self.hat
    }

    /// log det M.
    pub fn log_det_m(&self) -> f64 {
        self.log_det_m
    }

    /// log det(X'M⁻¹X) = 2 Σ log |Rⱼⱼ|.
    pub fn log_det_xtmx(&self) -> f64 {
        2.0 * self.qr.log_abs_det_r()
    }

    /// (X'M⁻¹X)⁻¹ = R⁻¹R⁻ᵀ, the model-based covariance of β.
    pub fn inverse_xtmx(&self) -> DMatrix<f64> {
        self.qr.inverse_gram()
    }

    /// R, the p × p upper-triangular factor with X'M⁻¹X = R'R.
    pub fn r_factor(&self) -> DMatrix<f64> {
        let p = self.p();
        DMatrix::from_fn(p, p, |i, j| self.qr.r(i, j))
    }

    /// Column j of Q, the orthonormal basis of the whitened design (block models take their
    /// blocks' rows of it).
    pub fn q_col(&self, j: usize) -> &[f64] {
        self.qr.q_col(j)
    }

    /// (I − QQ')·b for a vector b in whitened coordinates: its residual on the whitened
    /// design, so that a'Pb = (L⁻¹a)'(I − QQ')(L⁻¹b).
    pub fn residual_of(&self, b: &[f64]) -> Vec<f64> {
        let mut c = vec![0.0; self.p()];
        let mut e = vec![0.0; b.len()];
        self.qr.project(b, &mut c, &mut e);
        e
    }

    /// Q'·diag(d)·Q (p × p) for a diagonal matrix in whitened coordinates.
    pub fn gram(&self, d: &[f64]) -> DMatrix<f64> {
        self.qr.gram(d)
    }
}

/// The residual quadratic form y'Py of one response, alone: what a search over Q(τ²) reads
/// at each trial τ². It skips what [`Gls::fit`] adds for estimation (hat values, log det M, a
/// second response) and computes y'Py with the same operations, so the value is the same to
/// the bit. The buffers are kept between evaluations.
#[derive(Debug, Clone, Default)]
pub(crate) struct Residual {
    qr: Qr,
    fitted: Fitted,
}

impl Residual {
    /// y'Py of `y` on `x` under the covariance `m`; `None` where [`Gls::fit`] returns `false`
    /// (a numerically singular whitened design, or non-finite coefficients or residuals).
    pub fn rss(&mut self, x: &DMatrix<f64>, m: &impl Whiten, y: &[f64]) -> Option<f64> {
        if !factorise_whitened(&mut self.qr, x, m) {
            return None;
        }
        let f = &mut self.fitted;
        f.solve(&self.qr, m, y).then_some(f.rss)
    }
}
