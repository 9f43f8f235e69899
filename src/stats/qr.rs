//! Householder QR of a tall k × p matrix in buffers that are reused from one factorisation to
//! the next, so that an iterative fit allocates its k × p storage once, not once per iteration.
//!
//! A = Q·R with Q k × p (orthonormal columns, formed explicitly because hat values and the
//! traces of the likelihood need its rows) and R p × p upper triangular. The algorithms are
//! the textbook Householder QR and the backward accumulation of Q (Golub & Van Loan, *Matrix
//! Computations*, 4th ed., Algorithms 5.2.1 and 5.1.5; LAPACK's `dgeqr2` and `dorg2r`): both
//! are backward stable whatever the conditioning of A, unlike forming Q = A·R⁻¹ or solving the
//! normal equations, which lose up to twice the digits of an ill-conditioned design (a
//! quadratic in calendar years). Every inner loop runs over one contiguous column.

use nalgebra::DMatrix;

/// A thin QR factorisation A = Q·R of a k × p matrix, k ≥ p ≥ 1.
#[derive(Debug, Clone, Default)]
pub(crate) struct Qr {
    k: usize,
    p: usize,
    /// k × p, column-major: A on input, then Householder vectors below R, then Q.
    a: Vec<f64>,
    /// p × p, column-major, upper triangular.
    r: Vec<f64>,
    /// The Householder scalars τⱼ of Hⱼ = I − τⱼvⱼvⱼ'.
    tau: Vec<f64>,
}

impl Qr {
    /// Factorises the k × p matrix that `fill` writes, column-major, into the buffer it is
    /// given (whose old contents are unspecified). Returns `false` when R has a zero on its
    /// diagonal or a non-finite entry, so that A has no full column rank in floating point.
    pub fn factorise(&mut self, k: usize, p: usize, fill: impl FnOnce(&mut [f64])) -> bool {
        debug_assert!(k >= p && p >= 1, "a tall matrix: {k} × {p}");
        self.k = k;
        self.p = p;
        self.a.resize(k * p, 0.0);
        self.r.resize(p * p, 0.0);
        self.tau.resize(p, 0.0);
        fill(&mut self.a);
        self.householder();
        for j in 0..p {
            for i in 0..p {
                self.r[j * p + i] = if i <= j { self.a[j * k + i] } else { 0.0 };
            }
        }
        let ok = (0..p).all(|j| {
            let d = self.r[j * p + j];
            d != 0.0 && d.is_finite()
        }) && self.r.iter().all(|x| x.is_finite());
        self.accumulate_q();
        ok
    }

    /// Number of rows k.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Number of columns p.
    pub fn p(&self) -> usize {
        self.p
    }

    /// Column j of Q.
    pub fn q_col(&self, j: usize) -> &[f64] {
        &self.a[j * self.k..(j + 1) * self.k]
    }

    /// Rᵢⱼ.
    pub fn r(&self, i: usize, j: usize) -> f64 {
        self.r[j * self.p + i]
    }

    /// log |det R| = Σ log |Rⱼⱼ|.
    pub fn log_abs_det_r(&self) -> f64 {
        (0..self.p).map(|j| self.r(j, j).abs().ln()).sum()
    }

    /// c = Q'b (length p) and e = b − Q·c (length k): the least-squares coefficients in the
    /// basis Q and the residual of b.
    ///
    /// One pass over the rows for all of c and one for e, instead of two per column: at large
    /// k the passes over memory are the cost. Each cⱼ is summed exactly as [`dot`] sums it and
    /// each eᵢ subtracts c₀q₀ᵢ, c₁q₁ᵢ, … in column order, so the result is the same to the bit.
    pub fn project(&self, b: &[f64], c: &mut [f64], e: &mut [f64]) {
        let cols: Vec<&[f64]> = (0..self.p).map(|j| self.q_col(j)).collect();
        let n = b.len() - b.len() % 4;
        let mut s = vec![[0.0; 4]; self.p];
        for (i, y) in b[..n].chunks_exact(4).enumerate() {
            for (sj, q) in s.iter_mut().zip(&cols) {
                let x = &q[4 * i..4 * i + 4];
                for l in 0..4 {
                    sj[l] += x[l] * y[l];
                }
            }
        }
        for ((cj, sj), q) in c.iter_mut().zip(&s).zip(&cols) {
            let tail: f64 = (n..b.len()).map(|i| q[i] * b[i]).sum();
            *cj = (sj[0] + sj[1]) + (sj[2] + sj[3]) + tail;
        }
        for (i, (ei, bi)) in e.iter_mut().zip(b).enumerate() {
            let mut v = *bi;
            for (cj, q) in c.iter().zip(&cols) {
                v -= *cj * q[i];
            }
            *ei = v;
        }
    }

    /// Solves R·x = c in place (back substitution).
    pub fn solve_r(&self, c: &mut [f64]) {
        let p = self.p;
        for j in (0..p).rev() {
            c[j] /= self.r[j * p + j];
            let cj = c[j];
            for (i, ci) in c.iter_mut().enumerate().take(j) {
                *ci -= self.r[j * p + i] * cj;
            }
        }
    }

    /// (R'R)⁻¹ = R⁻¹R⁻ᵀ, which is (A'A)⁻¹, from the p × p factor only.
    pub fn inverse_gram(&self) -> DMatrix<f64> {
        let p = self.p;
        // Columns of R⁻¹ by back substitution on the unit vectors.
        let mut r_inv = DMatrix::zeros(p, p);
        let mut col = vec![0.0; p];
        for j in 0..p {
            col.iter_mut().for_each(|c| *c = 0.0);
            col[j] = 1.0;
            self.solve_r(&mut col);
            r_inv.column_mut(j).copy_from_slice(&col);
        }
        &r_inv * r_inv.transpose()
    }

    /// hᵢ = ‖row i of Q‖², the diagonal of QQ' (the hat values of the whitened design), at
    /// most 1.
    pub fn hat(&self, h: &mut [f64]) {
        h.iter_mut().for_each(|x| *x = 0.0);
        for j in 0..self.p {
            for (hi, qi) in h.iter_mut().zip(self.q_col(j)) {
                *hi += qi * qi;
            }
        }
        // A row of orthonormal columns has norm at most 1, but a study that carries nearly all
        // the weight gets 1 + ε from rounding; wᵢ(1 − hᵢ) then turned tr(P) and the typical
        // variance ṽ negative, and I² infinite or a Q-profile I² interval below 0 (pipeline
        // fuzzer).
        h.iter_mut().for_each(|x| *x = x.min(1.0));
    }

    /// Q'·diag(d)·Q, a p × p matrix, in O(k·p²).
    ///
    /// All p(p + 1)/2 entries in one pass over the rows (the cost at large k is the passes
    /// over memory), each summed as Σ qⱼᵢqₗᵢdᵢ in the four independent sums of [`dot`]: the same result to the bit.
    pub fn gram(&self, d: &[f64]) -> DMatrix<f64> {
        let p = self.p;
        let cols: Vec<&[f64]> = (0..p).map(|j| self.q_col(j)).collect();
        let pairs: Vec<(usize, usize)> =
            (0..p).flat_map(|j| (0..=j).map(move |l| (j, l))).collect();
        let n = d.len() - d.len() % 4;
        let mut s = vec![[0.0; 4]; pairs.len()];
        for (i, z) in d[..n].chunks_exact(4).enumerate() {
            let rows = 4 * i..4 * i + 4;
            for (sp, &(j, l)) in s.iter_mut().zip(&pairs) {
                let (x, y) = (&cols[j][rows.clone()], &cols[l][rows.clone()]);
                for m in 0..4 {
                    sp[m] += x[m] * y[m] * z[m];
                }
            }
        }
        let mut g = DMatrix::zeros(p, p);
        for (sp, &(j, l)) in s.iter().zip(&pairs) {
            let (x, y) = (cols[j], cols[l]);
            let tail: f64 = (n..d.len()).map(|i| x[i] * y[i] * d[i]).sum();
            let v = (sp[0] + sp[1]) + (sp[2] + sp[3]) + tail;
            g[(j, l)] = v;
            g[(l, j)] = v;
        }
        g
    }

    /// Householder triangularisation in place (`dgeqr2`): column j's vector vⱼ = (1, a[j+1..])
    /// is stored below the diagonal and R on and above it.
    fn householder(&mut self) {
        let (k, p) = (self.k, self.p);
        for j in 0..p {
            let (left, right) = self.a.split_at_mut((j + 1) * k);
            let col = &mut left[j * k..];
            let alpha = col[j];
            let tail_norm = norm(&col[j + 1..]);
            if tail_norm == 0.0 {
                // Already zero below the diagonal: H = I.
                self.tau[j] = 0.0;
                continue;
            }
            let beta = -alpha.signum() * alpha.hypot(tail_norm);
            self.tau[j] = (beta - alpha) / beta;
            let scale = 1.0 / (alpha - beta);
            col[j + 1..].iter_mut().for_each(|x| *x *= scale);
            col[j] = beta;
            let v = &col[j..];
            let tau = self.tau[j];
            for c in right.chunks_exact_mut(k) {
                reflect(v, tau, &mut c[j..]);
            }
        }
    }

    /// Overwrites the Householder vectors with the thin Q (`dorg2r`): Q = H₀·H₁⋯H_{p−1}·[I; 0],
    /// applied from the last reflector back.
    fn accumulate_q(&mut self) {
        let (k, p) = (self.k, self.p);
        for j in (0..p).rev() {
            let tau = self.tau[j];
            let (left, right) = self.a.split_at_mut((j + 1) * k);
            let col = &mut left[j * k..(j + 1) * k];
            // Apply Hⱼ to the columns already formed; vⱼ has an implicit 1 at row j.
            col[j] = 1.0;
            for c in right.chunks_exact_mut(k) {
                reflect(&col[j..], tau, &mut c[j..]);
            }
            col[j + 1..].iter_mut().for_each(|x| *x *= -tau);
            col[j] = 1.0 - tau;
            col[..j].iter_mut().for_each(|x| *x = 0.0);
        }
    }
}

/// x ← (I − τvv')x with v[0] taken as 1.
fn reflect(v: &[f64], tau: f64, x: &mut [f64]) {
    if tau == 0.0 {
        return;
    }
    let w = tau * (x[0] + dot(&v[1..], &x[1..]));
    x[0] -= w;
    for (xi, vi) in x[1..].iter_mut().zip(&v[1..]) {
        *xi -= w * vi;
    }
}

/// Σ aᵢbᵢ, in four independent sums so the compiler can vectorise it.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut s = [0.0; 4];
    let n = a.len() - a.len() % 4;
    for (x, y) in a[..n].chunks_exact(4).zip(b[..n].chunks_exact(4)) {
        for l in 0..4 {
            s[l] += x[l] * y[l];
        }
    }
    let tail: f64 = (n..a.len()).map(|i| a[i] * b[i]).sum();
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// The Euclidean norm, scaled so that neither tiny nor huge entries underflow or overflow.
fn norm(x: &[f64]) -> f64 {
    let m = x.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    if m == 0.0 || !m.is_finite() {
        return m;
    }
    let s: f64 = x.iter().map(|v| (v / m) * (v / m)).sum();
    m * s.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Agreement with nalgebra's QR and with the defining identities, relative to the scale.
    const REL: f64 = 1e-12;

    fn factor(x: &DMatrix<f64>) -> Qr {
        let mut qr = Qr::default();
        assert!(qr.factorise(x.nrows(), x.ncols(), |a| a.copy_from_slice(x.as_slice())));
        qr
    }

    fn test_matrix() -> DMatrix<f64> {
        DMatrix::from_row_slice(
            6,
            3,
            &[
                1.0, 1948.0, 0.3, 1.0, 1949.0, -1.2, 1.0, 1960.0, 0.0, 1.0, 1977.0, 2.5, 1.0,
                1973.0, 0.7, 1.0, 1953.0, -0.4,
            ],
        )
    }

    #[test]
    fn q_is_orthonormal_and_qr_reproduces_a() {
        let x = test_matrix();
        let qr = factor(&x);
        let q = DMatrix::from_column_slice(6, 3, &qr.a);
        let r = DMatrix::from_column_slice(3, 3, &qr.r);
        let qtq = q.transpose() * &q;
        assert!((qtq - DMatrix::identity(3, 3)).amax() < REL);
        let back = &q * &r;
        assert!((back - &x).amax() < REL * x.amax());
        // |R| agrees with nalgebra's factor up to the signs of its rows.
        let nr = x.clone().qr().r();
        for j in 0..3 {
            for i in 0..=j {
                let (a, b) = (r[(i, j)].abs(), nr[(i, j)].abs());
                assert!((a - b).abs() <= REL * b.max(1.0), "R[{i},{j}] {a} vs {b}");
            }
        }
    }

    #[test]
    fn projection_solve_and_inverse_gram_are_least_squares() {
        let x = test_matrix();
        let qr = factor(&x);
        let b = [0.5, -0.1, 0.9, 1.3, -0.7, 0.2];
        let mut c = [0.0; 3];
        let mut e = [0.0; 6];
        qr.project(&b, &mut c, &mut e);
        qr.solve_r(&mut c);
        let xtx = x.transpose() * &x;
        let want = xtx
            .clone()
            .lu()
            .solve(&(x.transpose() * nalgebra::DVector::from_column_slice(&b)));
        let want = want.expect("full rank");
        for j in 0..3 {
            assert!(
                (c[j] - want[j]).abs() <= 1e-9 * want[j].abs().max(1e-3),
                "{j}"
            );
        }
        // The residual is orthogonal to the columns of A.
        let xe = x.transpose() * nalgebra::DVector::from_column_slice(&e);
        assert!(xe.amax() < 1e-9);
        let inv = qr.inverse_gram();
        let id = inv * xtx;
        assert!((id - DMatrix::identity(3, 3)).amax() < 1e-6);
    }

    #[test]
    fn dot_handles_every_remainder() {
        for n in 0..10 {
            let a: Vec<f64> = (0..n).map(|i| i as f64 + 1.0).collect();
            let want: f64 = a.iter().map(|x| x * x).sum();
            assert_eq!(dot(&a, &a), want, "{n}");
        }
    }

    #[test]
    fn a_zero_column_is_reported_singular() {
        let x = DMatrix::from_row_slice(3, 2, &[1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
        let mut qr = Qr::default();
        assert!(!qr.factorise(3, 2, |a| a.copy_from_slice(x.as_slice())));
    }

    /// The one-pass kernels give the same bits as the per-column sums they replace.
    #[test]
    fn one_pass_gram_and_projection_equal_the_per_column_sums_to_the_bit() {
        // 11 rows: two chunks of four and a tail of three.
        let x = DMatrix::from_fn(11, 4, |i, j| {
            ((i * 7 + j * 3) % 11) as f64 / 3.0
                + (j as f64).powi(2) * 0.1
                + if j == 0 { 1.0 } else { 0.0 }
        });
        let qr = factor(&x);
        let d: Vec<f64> = (0..11).map(|i| 0.3 + (i as f64).sin().abs()).collect();
        let g = qr.gram(&d);
        for j in 0..4 {
            for l in 0..=j {
                assert_eq!(
                    g[(j, l)].to_bits(),
                    dot3(qr.q_col(j), qr.q_col(l), &d).to_bits()
                );
            }
        }
        let b: Vec<f64> = (0..11).map(|i| (i as f64 * 0.7).cos()).collect();
        let (mut c, mut e) = (vec![0.0; 4], vec![0.0; 11]);
        qr.project(&b, &mut c, &mut e);
        let mut want = b.clone();
        for (j, cj) in c.iter().enumerate() {
            assert_eq!(cj.to_bits(), dot(qr.q_col(j), &b).to_bits());
            for (w, q) in want.iter_mut().zip(qr.q_col(j)) {
                *w -= cj * q;
            }
        }
        assert!(e.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    /// Σ aᵢbᵢcᵢ, in four independent sums.
    fn dot3(a: &[f64], b: &[f64], c: &[f64]) -> f64 {
        let mut s = [0.0; 4];
        let n = a.len() - a.len() % 4;
        for ((x, y), z) in a[..n]
            .chunks_exact(4)
            .zip(b[..n].chunks_exact(4))
            .zip(c[..n].chunks_exact(4))
        {
            for l in 0..4 {
                s[l] += x[l] * y[l] * z[l];
            }
        }
        let tail: f64 = (n..a.len()).map(|i| a[i] * b[i] * c[i]).sum();
        (s[0] + s[1]) + (s[2] + s[3]) + tail
    }
}
