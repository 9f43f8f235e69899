//! Weighted least squares through a QR factorisation of √W·X.
//!
//! With W = diag(wᵢ) and √W·X = Q·R (Q k × p with orthonormal columns, R p × p upper
//! triangular), the GLS estimate is b = R⁻¹Q'√W·y and (X'WX)⁻¹ = R⁻¹R⁻ᵀ. The projection
//! P = W − WX(X'WX)⁻¹X'W that all τ² estimators and the Q statistics use is
//! P = √W (I − QQ') √W, so every trace below is computed from Q's rows in O(k·p²) without ever
//! forming a k × k matrix.

use nalgebra::{DMatrix, DVector};

/// A weighted least-squares fit of y on X with weights w.
#[derive(Debug, Clone)]
pub(crate) struct Wls {
    /// The weights wᵢ.
    pub w: Vec<f64>,
    /// k × p, orthonormal columns: √W·X = Q·R.
    q: DMatrix<f64>,
    /// p × p upper triangular factor.
    r: DMatrix<f64>,
    /// GLS coefficients.
    pub coef: DVector<f64>,
    /// Residuals y − Xb (unweighted).
    pub resid: Vec<f64>,
    /// hᵢ = ‖qᵢ‖², the diagonal of the weighted hat matrix.
    pub hat: Vec<f64>,
}

impl Wls {
    /// Fits y on X with weights w (all positive and finite). `None` when √W·X is numerically
    /// singular (an exact zero on R's diagonal or non-finite coefficients).
    pub fn new(x: &DMatrix<f64>, y: &[f64], w: Vec<f64>) -> Option<Self> {
        let k = x.nrows();
        let sw = DVector::from_iterator(k, w.iter().map(|wi| wi.sqrt()));
        let mut a = x.clone();
        for mut col in a.column_iter_mut() {
            col.component_mul_assign(&sw);
        }
        let sy = DVector::from_iterator(k, y.iter().zip(sw.iter()).map(|(yi, s)| yi * s));
        let qr = a.qr();
        let q = qr.q();
        let r = qr.r();
        let qty = q.tr_mul(&sy);
        let coef = r.solve_upper_triangular(&qty)?;
        if !coef.iter().all(|c| c.is_finite()) {
            return None;
        }
        let fitted = x * &coef;
        let resid = y
            .iter()
            .zip(fitted.iter())
            .map(|(yi, fi)| yi - fi)
            .collect();
        let mut hat = vec![0.0; k];
        for col in q.column_iter() {
            for (h, qij) in hat.iter_mut().zip(col.iter()) {
                *h += qij * qij;
            }
        }
        Some(Self {
            w,
            q,
            r,
            coef,
            resid,
            hat,
        })
    }

    /// Σ wᵢ: the trace of W.
    pub fn sum_w(&self) -> f64 {
        self.w.iter().sum()
    }

    /// y'Py = Σ wᵢ eᵢ²: the weighted residual sum of squares (the generalised Q statistic).
    pub fn rss(&self) -> f64 {
        self.w.iter().zip(&self.resid).map(|(w, e)| w * e * e).sum()
    }

    /// y'PPy = Σ wᵢ² eᵢ², because Py = We.
    pub fn ypppy(&self) -> f64 {
        self.w
            .iter()
            .zip(&self.resid)
            .map(|(w, e)| w * w * e * e)
            .sum()
    }

    /// tr(P) = Σ wᵢ (1 − hᵢ).
    pub fn trace_p(&self) -> f64 {
        self.w
            .iter()
            .zip(&self.hat)
            .map(|(w, h)| w * (1.0 - h))
            .sum()
    }

    /// tr(P·D) for a diagonal D = diag(d): Σ wᵢ dᵢ (1 − hᵢ).
    pub fn trace_pd(&self, d: &[f64]) -> f64 {
        self.w
            .iter()
            .zip(&self.hat)
            .zip(d)
            .map(|((w, h), d)| w * d * (1.0 - h))
            .sum()
    }

    /// tr(P·A·P·B) for diagonal A = diag(a) and B = diag(b).
    ///
    /// With M = I − QQ', α = W·a and β = W·b this is tr(M·α·M·β)
    /// = Σ αᵢβᵢ(1 − 2hᵢ) + tr((Q'αQ)(Q'βQ)).
    pub fn trace_papb(&self, a: &[f64], b: &[f64]) -> f64 {
        let alpha: Vec<f64> = self.w.iter().zip(a).map(|(w, a)| w * a).collect();
        let beta: Vec<f64> = self.w.iter().zip(b).map(|(w, b)| w * b).collect();
        let diag: f64 = alpha
            .iter()
            .zip(&beta)
            .zip(&self.hat)
            .map(|((a, b), h)| a * b * (1.0 - 2.0 * h))
            .sum();
        let ga = self.gram(&alpha);
        let gb = self.gram(&beta);
        diag + ga.component_mul(&gb).sum()
    }

    /// tr(P·P) = Σ wᵢ²(1 − 2hᵢ) + ‖Q'WQ‖²_F (the case A = B = I of [`Self::trace_papb`], with
    /// one Gram matrix instead of two).
    pub fn trace_pp(&self) -> f64 {
        let diag: f64 = self
            .w
            .iter()
            .zip(&self.hat)
            .map(|(w, h)| w * w * (1.0 - 2.0 * h))
            .sum();
        diag + self.gram(&self.w).norm_squared()
    }

    /// Q'·diag(d)·Q, a p × p matrix, in O(k·p²). Works on Q's contiguous columns (column-major
    /// storage) so each pass is a plain loop over three slices.
    fn gram(&self, d: &[f64]) -> DMatrix<f64> {
        let k = self.q.nrows();
        let p = self.q.ncols();
        let cols = self.q.as_slice();
        let mut g = DMatrix::zeros(p, p);
        for j in 0..p {
            let qj = &cols[j * k..(j + 1) * k];
            let dq: Vec<f64> = qj.iter().zip(d).map(|(q, d)| q * d).collect();
            for l in 0..=j {
                let ql = &cols[l * k..(l + 1) * k];
                let s: f64 = dq.iter().zip(ql).map(|(a, b)| a * b).sum();
                g[(j, l)] = s;
                g[(l, j)] = s;
            }
        }
        g
    }

    /// Σ wᵢ eᵢ² for another response `y` fitted with the same X and weights: reuses the
    /// factorisation (one O(k·p) solve instead of a new QR).
    pub fn rss_of(&self, x: &DMatrix<f64>, y: &[f64]) -> Option<f64> {
        let sy = DVector::from_iterator(y.len(), y.iter().zip(&self.w).map(|(y, w)| y * w.sqrt()));
        let coef = self.r.solve_upper_triangular(&self.q.tr_mul(&sy))?;
        let fitted = x * coef;
        Some(
            y.iter()
                .zip(fitted.iter())
                .zip(&self.w)
                .map(|((y, f), w)| w * (y - f) * (y - f))
                .sum(),
        )
    }

    /// (X'WX)⁻¹ = R⁻¹R⁻ᵀ, from the p × p triangular factor only.
    pub fn xtwx_inverse(&self) -> DMatrix<f64> {
        let p = self.r.ncols();
        let r_inv = self
            .r
            .solve_upper_triangular(&DMatrix::identity(p, p))
            .expect("R has a non-zero diagonal: `new` solved with it already");
        &r_inv * r_inv.transpose()
    }

    /// log det(X'WX) = 2 Σ log |Rⱼⱼ|.
    pub fn log_det_xtwx(&self) -> f64 {
        2.0 * self.r.diagonal().iter().map(|d| d.abs().ln()).sum::<f64>()
    }

    /// Fitted values Xb.
    pub fn fitted(&self, y: &[f64]) -> Vec<f64> {
        y.iter().zip(&self.resid).map(|(y, e)| y - e).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative agreement of the O(k·p²) traces with the explicit k × k products.
    const TRACE_REL: f64 = 1e-12;

    /// P = W − WX(X'WX)⁻¹X'W built explicitly: fine for a test with k = 7.
    fn explicit_p(x: &DMatrix<f64>, w: &[f64]) -> DMatrix<f64> {
        let wm = DMatrix::from_diagonal(&DVector::from_column_slice(w));
        let xtwx = x.transpose() * &wm * x;
        let inv = xtwx.try_inverse().expect("full rank test design");
        &wm - &wm * x * inv * x.transpose() * &wm
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() <= TRACE_REL * b.abs(), "{a:e} vs {b:e}");
    }

    #[test]
    fn traces_match_the_explicit_projection() {
        let x = DMatrix::from_row_slice(
            7,
            3,
            &[
                1.0, 44.0, 0.0, 1.0, 55.0, 1.0, 1.0, 42.0, 0.0, 1.0, 52.0, 1.0, 1.0, 13.0, 0.0,
                1.0, 44.0, 1.0, 1.0, 19.0, 1.0,
            ],
        );
        let y = [-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62];
        let v = [0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.22];
        let tau2 = 0.3;
        let w: Vec<f64> = v.iter().map(|v| 1.0 / (v + tau2)).collect();
        let f = Wls::new(&x, &y, w.clone()).expect("full rank");
        let p = explicit_p(&x, &w);
        let vm = DMatrix::from_diagonal(&DVector::from_column_slice(&v));
        let yv = DVector::from_column_slice(&y);
        close(f.trace_p(), p.trace());
        close(f.trace_pp(), (&p * &p).trace());
        close(f.trace_pd(&v), (&p * &vm).trace());
        close(f.trace_papb(&v, &v), (&p * &vm * &p * &vm).trace());
        let ones = [1.0; 7];
        close(f.trace_papb(&v, &ones), (&p * &vm * &p).trace());
        close(f.rss(), (yv.transpose() * &p * &yv)[(0, 0)]);
        close(f.ypppy(), (yv.transpose() * &p * &p * &yv)[(0, 0)]);
        let wm = DMatrix::from_diagonal(&DVector::from_column_slice(&w));
        let xtwx = x.transpose() * &wm * &x;
        close(f.log_det_xtwx(), xtwx.determinant().ln());
        let inv = xtwx.try_inverse().expect("full rank");
        for (a, b) in f.xtwx_inverse().iter().zip(inv.iter()) {
            close(*a, *b);
        }
    }
}
