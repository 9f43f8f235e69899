//! The block-diagonal marginal covariance M(θ) = V + Σⱼ σ²ⱼZⱼZⱼ' (+ the covariance of an
//! `~ inner | outer` term) as a [`VarianceModel`]: factorised block by block (Cholesky of each
//! independent block), so that whitening, log det M and the likelihood's traces cost
//! O(Σ nᵦ³ + Σ nᵦ²·p) per evaluation and no k × k matrix exists unless the random terms link
//! every row (crossed factors that connect all rows make one dense block; that is the limit:
//! a block of n rows costs n³/3 per evaluation and n² memory per parameter).
//!
//! The rows are taken block by block (the fit permutes them once), so block b holds the
//! contiguous rows start..start + n. Whitened derivatives G̃ⱼ = L⁻¹GⱼL⁻ᵀ are block-diagonal
//! like M, and every term of [`Derivatives`] is a sum over blocks (see `variance.rs`).

use nalgebra::{DMatrix, DVector};

use super::structure::Structure;
use crate::stats::gls::{Gls, Whiten};
use crate::stats::variance::{Derivatives, Parameter, ParameterKind, TraceOf, VarianceModel};

/// The `~ inner | outer` term of a block model.
#[derive(Debug, Clone)]
pub(crate) struct StructTerm {
    /// The structure.
    pub structure: Structure,
    /// Number of inner levels L.
    pub levels: usize,
}

impl StructTerm {
    /// Number of τ² parameters.
    fn n_tau2(&self) -> usize {
        self.structure.n_tau2(self.levels)
    }

    /// Number of parameters (τ² then ρ).
    fn n_params(&self) -> usize {
        self.n_tau2() + self.structure.n_rho(self.levels)
    }

    /// τ² of inner level a.
    fn tau2(&self, theta: &[f64], a: usize) -> f64 {
        match self.structure {
            Structure::Cs => theta[0],
            _ => theta[a],
        }
    }

    /// The index (among the term's parameters) of the ρ of levels a ≠ b: metafor's order is
    /// the lower triangle by columns for UN.
    fn rho_index(&self, a: usize, b: usize) -> Option<usize> {
        let base = self.n_tau2();
        match self.structure {
            Structure::Cs | Structure::Hcs => Some(base),
            Structure::Diag => None,
            Structure::Un => {
                let (i, j) = (a.max(b), a.min(b));
                let before: usize = (0..j).map(|c| self.levels - 1 - c).sum();
                Some(base + before + (i - j - 1))
            }
        }
    }

    /// The covariance of two true effects of one outer level with inner levels a and b, and
    /// its derivatives in the term's parameters, added to `grad` (times `weight`).
    fn entry(&self, theta: &[f64], a: usize, b: usize, grad: Option<(&mut [f64], f64)>) -> f64 {
        let tau_index = |c: usize| match self.structure {
            Structure::Cs => 0,
            _ => c,
        };
        if a == b {
            if let Some((g, w)) = grad {
                g[tau_index(a)] += w;
            }
            return self.tau2(theta, a);
        }
        let Some(r) = self.rho_index(a, b) else {
            return 0.0;
        };
        let rho = theta[r];
        let (ta, tb) = (self.tau2(theta, a), self.tau2(theta, b));
        let root = (ta * tb).sqrt();
        if let Some((g, w)) = grad {
            g[r] += w * root;
            if self.structure == Structure::Cs {
                g[0] += w * rho;
            } else {
                // ∂(ρ√(τ²ₐτ²ᵦ))/∂τ²ₐ = ρ√τ²ᵦ/(2√τ²ₐ), infinite at τ²ₐ = 0: taken as 0 there,
                // so a level whose τ² sits on the boundary does not move through ρ.
                if ta > 0.0 {
                    g[tau_index(a)] += w * rho * (tb / ta).sqrt() / 2.0;
                }
                if tb > 0.0 {
                    g[tau_index(b)] += w * rho * (ta / tb).sqrt() / 2.0;
                }
            }
        }
        rho * root
    }
}

/// One independent block of rows.
#[derive(Debug, Clone)]
struct Block {
    /// First row (in the fit's order).
    start: usize,
    /// Sampling covariance of the block.
    v: DMatrix<f64>,
    /// For each σ² term, ZZ' of the block: 1 where two rows share the term's level.
    shared: Vec<DMatrix<f64>>,
    /// Per row, the inner level and the outer code of the `~ inner | outer` term.
    inner_outer: Vec<(usize, usize)>,
    /// The lower Cholesky factor of M at the current θ (NaN when M is not positive definite).
    l: DMatrix<f64>,
}

impl Block {
    fn len(&self) -> usize {
        self.v.nrows()
    }
}

/// What the fit hands over to build one block of a block model (rows in the fit's order).
#[derive(Debug, Clone)]
pub(crate) struct BlockData {
    /// The block's sampling covariance.
    pub v: DMatrix<f64>,
    /// Per row, the σ² terms' level codes.
    pub codes: Vec<Vec<usize>>,
    /// Per row, the structured term's (inner level, outer code).
    pub inner_outer: Vec<(usize, usize)>,
}

/// The blocks of a block model, in the fit's row order.
#[derive(Debug, Clone)]
pub(crate) struct BlockLayout {
    /// The blocks.
    pub blocks: Vec<BlockData>,
}

/// M(θ) = V + Σⱼ σ²ⱼZⱼZⱼ' + the structured term, block by block.
#[derive(Debug, Clone)]
pub(crate) struct BlockModel {
    blocks: Vec<Block>,
    n_sigma: usize,
    term: Option<StructTerm>,
    parameters: Vec<Parameter>,
    scales: Vec<f64>,
    theta: Vec<f64>,
    log_det: f64,
}

impl BlockModel {
    /// The model of `layout` with `n_sigma` σ² terms and an optional structured term, the
    /// variances' typical size `scale`, at θ = `theta`.
    pub fn new(
        layout: BlockLayout,
        n_sigma: usize,
        term: Option<StructTerm>,
        scale: f64,
        theta: &[f64],
    ) -> Self {
        let mut parameters: Vec<Parameter> = (0..n_sigma)
            .map(|j| Parameter {
                name: format!("sigma2.{}", j + 1),
                kind: ParameterKind::Variance,
            })
            .collect();
        if let Some(t) = &term {
            let nt = t.n_tau2();
            for j in 0..nt {
                parameters.push(Parameter {
                    name: if nt == 1 {
                        "tau2".to_owned()
                    } else {
                        format!("tau2.{}", j + 1)
                    },
                    kind: ParameterKind::Variance,
                });
            }
            let nr = t.n_params() - nt;
            for j in 0..nr {
                parameters.push(Parameter {
                    name: if nr == 1 {
                        "rho".to_owned()
                    } else {
                        format!("rho.{}", j + 1)
                    },
                    kind: ParameterKind::Correlation,
                });
            }
        }
        let scales = parameters
            .iter()
            .map(|p| match p.kind {
                ParameterKind::Variance => scale,
                _ => 1.0,
            })
            .collect();
        let mut start = 0;
        let blocks = layout
            .blocks
            .into_iter()
            .map(
                |BlockData {
                     v,
                     codes,
                     inner_outer,
                 }| {
                    let n = v.nrows();
                    let shared = (0..n_sigma)
                        .map(|j| {
                            DMatrix::from_fn(n, n, |a, b| {
                                f64::from(u8::from(codes[a][j] == codes[b][j]))
                            })
                        })
                        .collect();
                    let block = Block {
                        start,
                        l: DMatrix::zeros(n, n),
                        v,
                        shared,
                        inner_outer,
                    };
                    start += n;
                    block
                },
            )
            .collect();
        let mut model = Self {
            blocks,
            n_sigma,
            term,
            parameters,
            scales,
            theta: Vec::new(),
            log_det: f64::NAN,
        };
        model.set(theta);
        model
    }

    /// Each block's first row and M at the current θ.
    pub fn marginal_blocks(&self) -> Vec<(usize, DMatrix<f64>)> {
        self.blocks
            .iter()
            .map(|b| (b.start, self.marginal(b)))
            .collect()
    }

    /// The diagonal of M⁻¹ at the current θ, in the fit's row order: with M = LL', entry i is
    /// the squared norm of column i of L⁻¹ (NaN where M is not positive definite).
    pub fn inverse_diagonal(&self) -> Vec<f64> {
        let mut d = Vec::new();
        for b in &self.blocks {
            let n = b.len();
            let mut inv = DMatrix::identity(n, n);
            if !b.l.solve_lower_triangular_mut(&mut inv) {
                d.extend(std::iter::repeat_n(f64::NAN, n));
                continue;
            }
            d.extend(inv.column_iter().map(|c| c.norm_squared()));
        }
        d
    }

    /// Σᵦ tr(Pᵦ) for the projection P of the GLS fit `gls` made with this model's whitening:
    /// tr(P) = tr(M⁻¹) − tr(Q'L⁻¹L⁻ᵀQ) (the G = I case of the traces).
    pub fn trace_projection(&self, gls: &Gls) -> f64 {
        let p = gls.p();
        let mut total = 0.0;
        for b in &self.blocks {
            let n = b.len();
            let g = whitened(&b.l, &DMatrix::identity(n, n));
            let q = q_rows(gls, b.start, n, p);
            total += g.trace() - q.component_mul(&(&g * &q)).sum();
        }
        total
    }

    /// M of block `b` at the current θ.
    fn marginal(&self, b: &Block) -> DMatrix<f64> {
        let n = b.len();
        let mut m = b.v.clone();
        for (j, s) in b.shared.iter().enumerate() {
            m += s * self.theta[j];
        }
        if let Some(t) = &self.term {
            let th = &self.theta[self.n_sigma..];
            for a in 0..n {
                for c in 0..n {
                    let ((ia, oa), (ic, oc)) = (b.inner_outer[a], b.inner_outer[c]);
                    if oa == oc {
                        m[(a, c)] += t.entry(th, ia, ic, None);
                    }
                }
            }
        }
        m
    }

    /// The derivatives Gⱼ = ∂M/∂θⱼ of block `b`.
    fn gradient(&self, b: &Block) -> Vec<DMatrix<f64>> {
        let n = b.len();
        let mut g: Vec<DMatrix<f64>> = b.shared.clone();
        if let Some(t) = &self.term {
            let th = &self.theta[self.n_sigma..];
            let np = t.n_params();
            let mut gs = vec![DMatrix::zeros(n, n); np];
            let mut buf = vec![0.0; np];
            for a in 0..n {
                for c in 0..n {
                    let ((ia, oa), (ic, oc)) = (b.inner_outer[a], b.inner_outer[c]);
                    if oa != oc {
                        continue;
                    }
                    buf.iter_mut().for_each(|x| *x = 0.0);
                    t.entry(th, ia, ic, Some((&mut buf, 1.0)));
                    for (gm, d) in gs.iter_mut().zip(&buf) {
                        gm[(a, c)] = *d;
                    }
                }
            }
            g.extend(gs);
        }
        g
    }
}

/// L⁻¹·G·L⁻ᵀ for a lower-triangular L.
fn whitened(l: &DMatrix<f64>, g: &DMatrix<f64>) -> DMatrix<f64> {
    let mut a = g.clone();
    if !l.solve_lower_triangular_mut(&mut a) {
        return DMatrix::from_element(g.nrows(), g.ncols(), f64::NAN);
    }
    let mut at = a.transpose();
    if !l.solve_lower_triangular_mut(&mut at) {
        return DMatrix::from_element(g.nrows(), g.ncols(), f64::NAN);
    }
    at
}

/// Rows start..start + n of the whitened design's Q.
fn q_rows(gls: &Gls, start: usize, n: usize, p: usize) -> DMatrix<f64> {
    DMatrix::from_fn(n, p, |i, j| gls.q_col(j)[start + i])
}

impl Whiten for BlockModel {
    fn whiten(&self, src: &[f64], dst: &mut [f64]) {
        for b in &self.blocks {
            let n = b.len();
            let mut x = DVector::from_column_slice(&src[b.start..b.start + n]);
            if !b.l.solve_lower_triangular_mut(&mut x) {
                x.fill(f64::NAN);
            }
            dst[b.start..b.start + n].copy_from_slice(x.as_slice());
        }
    }

    fn log_det(&self) -> f64 {
        self.log_det
    }
}

impl VarianceModel for BlockModel {
    fn parameters(&self) -> &[Parameter] {
        &self.parameters
    }

    fn scales(&self) -> &[f64] {
        &self.scales
    }

    fn set(&mut self, theta: &[f64]) {
        if theta == self.theta.as_slice() {
            return;
        }
        self.theta = theta.to_vec();
        let mut log_det = 0.0;
        for i in 0..self.blocks.len() {
            let m = self.marginal(&self.blocks[i]);
            let n = m.nrows();
            // M not positive definite (correlations that no covariance matrix has): NaN
            // factors make the whitened design non-finite, which the GLS fit reports.
            let l = m
                .cholesky()
                .map(|c| c.l())
                .unwrap_or_else(|| DMatrix::from_element(n, n, f64::NAN));
            log_det += 2.0 * l.diagonal().iter().map(|d| d.ln()).sum::<f64>();
            self.blocks[i].l = l;
        }
        self.log_det = log_det;
    }

    fn derivatives(&self, gls: &Gls, r: usize, of: TraceOf) -> Derivatives {
        let np = self.parameters.len();
        let p = gls.p();
        let e = gls.whitened_resid(r);
        let projection = of == TraceOf::Projection;
        let mut trace = DVector::zeros(np);
        let mut quad = DVector::zeros(np);
        let mut info = DMatrix::zeros(np, np);
        let mut grams = vec![DMatrix::zeros(p, p); np];
        for b in &self.blocks {
            let n = b.len();
            let gt: Vec<DMatrix<f64>> =
                self.gradient(b).iter().map(|g| whitened(&b.l, g)).collect();
            let eb = DVector::from_column_slice(&e[b.start..b.start + n]);
            let q = q_rows(gls, b.start, n, p);
            let gq: Vec<DMatrix<f64>> = if projection {
                gt.iter().map(|g| g * &q).collect()
            } else {
                Vec::new()
            };
            for j in 0..np {
                trace[j] += gt[j].trace();
                quad[j] += eb.dot(&(&gt[j] * &eb));
                if projection {
                    trace[j] -= q.component_mul(&gq[j]).sum();
                    grams[j] += q.transpose() * &gq[j];
                }
                for l in 0..=j {
                    let mut v = gt[j].component_mul(&gt[l]).sum();
                    if projection {
                        v -= 2.0 * gq[j].component_mul(&gq[l]).sum();
                    }
                    info[(j, l)] += v;
                }
            }
        }
        for j in 0..np {
            for l in 0..=j {
                if projection {
                    info[(j, l)] += grams[j].component_mul(&grams[l]).sum();
                }
                info[(l, j)] = info[(j, l)];
            }
        }
        Derivatives { trace, quad, info }
    }
}
