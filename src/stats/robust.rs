//! Cluster-robust (sandwich) inference for any fitted model, single-level or multilevel:
//! V^CR = M·(Σ꜀ X꜀'W꜀A꜀e꜀e꜀'A꜀W꜀X꜀)·M with M = (X'WX)⁻¹, W = Φ⁻¹ the model's inverse marginal
//! covariance (the working model) and e the residuals.
//!
//! - CR1 (metafor's `robust(fit, cluster, adjust = TRUE)`): A꜀ = I and the factor n/(n − p),
//!   n clusters; t tests with n − p df, the omnibus test F with (m, n − p) df.
//! - CR2 (bias-reduced linearisation; Bell & McCaffrey, 2002; Pustejovsky & Tipton, 2018):
//!   A꜀ = L(L'S꜀L)^{−½}L' with Φ꜀ = LL' and S꜀ = Φ꜀ − X꜀MX꜀' (the covariance of e꜀ under the
//!   working model), so that V^CR2 is unbiased when the working model holds. Each coefficient
//!   is tested with t on Satterthwaite degrees of freedom, ν = 2E²/Var of its variance
//!   estimate under the working model; the omnibus test is the HTZ test (Tipton &
//!   Pustejovsky, 2015): CVC' approximated by a Wishart with η df matched to its total
//!   variance, F = (η − q + 1)/(ηq)·Q on (q, η − q + 1) df.
//!
//! Written as every term is a sum over clusters of p × p products: with u꜀ = A꜀W꜀X꜀Mℓ for a
//! contrast ℓ, ℓ'Vℓ = Σ꜀(u꜀'e꜀)², and under the working model
//! Cov(u꜀'e꜀, uₖ'eₖ) = δ꜀ₖ·u꜀'Φ꜀u꜀ − (X꜀'u꜀)'M(Xₖ'uₖ), so nothing is k × k or n × n. This needs W
//! block-diagonal by cluster: the model's dependent rows (a shared random effect, correlated
//! sampling errors) must lie in one cluster.

use nalgebra::{DMatrix, DVector, SymmetricEigen};
use statrs::distribution::{ContinuousCDF, FisherSnedecor};

use super::summary::Reference;
use super::StatsError;

/// The kind of cluster-robust covariance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RobustType {
    /// CR1: the n/(n − p) small-sample factor, t and F on n − p df; metafor:
    /// `robust(..., adjust = TRUE)`.
    Cr1,
    /// CR2 with Satterthwaite df and the HTZ test; clubSandwich: `coef_test(..., vcov = "CR2")`
    /// and `Wald_test(..., test = "HTZ")`.
    Cr2,
}

impl RobustType {
    /// The name as clubSandwich writes it (`"CR1"`, `"CR2"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Cr1 => "CR1",
            Self::Cr2 => "CR2",
        }
    }

    /// The type called `name`, ignoring ASCII case.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Cr1, Self::Cr2]
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name))
    }
}

/// One coefficient under cluster-robust inference.
#[derive(Debug, Clone, PartialEq)]
pub struct RobustCoefficient {
    /// Name of the design column.
    pub name: String,
    /// Estimate b (the model's).
    pub estimate: f64,
    /// Robust standard error.
    pub se: f64,
    /// t statistic b / se.
    pub statistic: f64,
    /// Degrees of freedom of the t reference (n − p, or Satterthwaite's for CR2).
    pub df: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Lower confidence bound.
    pub ci_lower: f64,
    /// Upper confidence bound.
    pub ci_upper: f64,
}

/// A robust F test that a set of coefficients are all zero.
#[derive(Debug, Clone, PartialEq)]
pub struct RobustTest {
    /// The tested columns (0-based).
    pub columns: Vec<usize>,
    /// F statistic (for HTZ the scaled (η − q + 1)/(ηq)·Q).
    pub statistic: f64,
    /// Numerator df q.
    pub df: usize,
    /// Denominator df (n − p, or η − q + 1 for HTZ).
    pub df2: f64,
    /// p-value.
    pub p_value: f64,
}

/// Cluster-robust inference of one fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Robust {
    /// CR1 or CR2.
    pub kind: RobustType,
    /// Number of clusters.
    pub clusters: usize,
    /// The robust covariance of the coefficients.
    pub vcov: DMatrix<f64>,
    /// Coefficients in design order.
    pub coefficients: Vec<RobustCoefficient>,
    /// The omnibus test of the moderators; `None` for an intercept-only model.
    pub moderators: Option<RobustTest>,
}

/// What robust inference reads of a fit, rows in the fit's order.
pub(crate) struct Working<'a> {
    /// The k × p design.
    pub x: &'a DMatrix<f64>,
    /// The residuals y − Xb.
    pub resid: Vec<f64>,
    /// The marginal covariance's independent blocks: first row and matrix (rows contiguous).
    pub blocks: Vec<(usize, DMatrix<f64>)>,
    /// (X'WX)⁻¹.
    pub model_vcov: &'a DMatrix<f64>,
    /// b.
    pub beta: &'a DVector<f64>,
    /// Coefficient names.
    pub names: Vec<String>,
    /// Whether column 0 is the intercept.
    pub intercept: bool,
    /// Confidence level.
    pub level: f64,
}

/// One cluster's terms.
struct ClusterTerms {
    /// X꜀'W꜀A꜀e꜀.
    v: DVector<f64>,
    /// X꜀'Ũ꜀ with Ũ꜀ = A꜀W꜀X꜀ (CR2).
    k: DMatrix<f64>,
    /// Ũ꜀'Φ꜀Ũ꜀ (CR2).
    j: DMatrix<f64>,
}

/// Cluster-robust inference of `w` with clusters `cluster` (a code per row, in the fit's order).
pub(crate) fn robust(
    w: &Working,
    cluster: &[usize],
    kind: RobustType,
) -> Result<Robust, StatsError> {
    let (k, p) = (w.x.nrows(), w.x.ncols());
    if cluster.len() != k {
        return Err(StatsError::GroupingLength {
            term: "robust cluster".to_owned(),
            rows: cluster.len(),
            k,
        });
    }
    let groups = super::multilevel::group_rows(cluster);
    let n = groups.len();
    if n < 2 {
        return Err(StatsError::SingleCluster);
    }
    if n <= p {
        return Err(StatsError::TooFewClusters { clusters: n, p });
    }
    // Row → (block, position), and every block within one cluster.
    let mut at = vec![(0, 0); k];
    for (b, (start, m)) in w.blocks.iter().enumerate() {
        for a in 0..m.nrows() {
            at[start + a] = (b, a);
            if cluster[start + a] != cluster[*start] {
                return Err(StatsError::ClusterSplitsModel { row: start + a });
            }
        }
    }
    let mx = w.model_vcov;
    let terms: Vec<ClusterTerms> = groups
        .iter()
        .map(|rows| cluster_terms(w, rows, &at, kind))
        .collect::<Result<_, _>>()?;
    let mut meat = DMatrix::zeros(p, p);
    for t in &terms {
        meat += &t.v * t.v.transpose();
    }
    let mut vcov = mx * meat * mx;
    if kind == RobustType::Cr1 {
        vcov *= n as f64 / (n - p) as f64;
    }
    let unit = |j: usize| {
        let mut e = DVector::zeros(p);
        e[j] = 1.0;
        e
    };
    let coefficients = (0..p)
        .map(|j| {
            let se = vcov[(j, j)].max(0.0).sqrt();
            let df = match kind {
                RobustType::Cr1 => (n - p) as f64,
                RobustType::Cr2 => satterthwaite(&terms, mx, &unit(j)),
            };
            let reference = Reference::T { df };
            let crit = reference.critical(w.level);
            let estimate = w.beta[j];
            let statistic = estimate / se;
            RobustCoefficient {
                name: w.names[j].clone(),
                estimate,
                se,
                statistic,
                df,
                p_value: reference.p_value(statistic),
                ci_lower: estimate - crit * se,
                ci_upper: estimate + crit * se,
            }
        })
        .collect();
    let columns: Vec<usize> = (usize::from(w.intercept)..p).collect();
    let moderators = if columns.is_empty() {
        None
    } else {
        Some(wald(w.beta, &vcov, &columns, kind, &terms, mx, n)?)
    };
    Ok(Robust {
        kind,
        clusters: n,
        vcov,
        coefficients,
        moderators,
    })
}

/// The terms of one cluster with rows `rows`.
fn cluster_terms(
    w: &Working,
    rows: &[usize],
    at: &[(usize, usize)],
    kind: RobustType,
) -> Result<ClusterTerms, StatsError> {
    let nc = rows.len();
    let p = w.x.ncols();
    let phi = DMatrix::from_fn(nc, nc, |a, b| {
        let ((ba, pa), (bb, pb)) = (at[rows[a]], at[rows[b]]);
        if ba == bb {
            w.blocks[ba].1[(pa, pb)]
        } else {
            0.0
        }
    });
    let xc = DMatrix::from_fn(nc, p, |a, j| w.x[(rows[a], j)]);
    let ec = DVector::from_iterator(nc, rows.iter().map(|&r| w.resid[r]));
    let singular = || StatsError::NumericallySingular { tau2: f64::NAN };
    // The fit factorised these blocks, so they are positive definite.
    let l = phi.clone().cholesky().ok_or_else(singular)?.l();
    let solve_l = |m: &DMatrix<f64>| -> Result<DMatrix<f64>, StatsError> {
        let mut a = m.clone();
        l.solve_lower_triangular_mut(&mut a)
            .then_some(a)
            .ok_or_else(singular)
    };
    let solve_lt = |m: &DMatrix<f64>| -> Result<DMatrix<f64>, StatsError> {
        let mut a = m.clone();
        l.transpose()
            .solve_upper_triangular_mut(&mut a)
            .then_some(a)
            .ok_or_else(singular)
    };
    match kind {
        RobustType::Cr1 => {
            // X꜀'W꜀e꜀ with W꜀ = L⁻ᵀL⁻¹.
            let we = solve_lt(&solve_l(&DMatrix::from_column_slice(nc, 1, ec.as_slice()))?)?;
            Ok(ClusterTerms {
                v: (xc.transpose() * we).column(0).into_owned(),
                k: DMatrix::zeros(0, 0),
                j: DMatrix::zeros(0, 0),
            })
        }
        RobustType::Cr2 => {
            let s = &phi - &xc * w.model_vcov * xc.transpose();
            let b = l.transpose() * s * &l;
            let b = (&b + b.transpose()) * 0.5;
            let root = inverse_sqrt(b);
            // Ũ꜀ = A꜀W꜀X꜀ = L·B^{−½}·L⁻¹X꜀.
            let u = &l * root * solve_l(&xc)?;
            Ok(ClusterTerms {
                v: u.transpose() * &ec,
                k: xc.transpose() * &u,
                j: u.transpose() * &phi * &u,
            })
        }
    }
}

/// Eigenvalues below this fraction of the largest count as 0 in B^{−½} (a cluster the
/// moderators fit exactly, as a cluster-level dummy does, has a singular B; clubSandwich uses
/// the Moore–Penrose inverse there).
const EIGEN_TOLERANCE: f64 = 1e-12;

/// The symmetric square root of the Moore–Penrose inverse of a symmetric positive
/// semi-definite matrix.
fn inverse_sqrt(b: DMatrix<f64>) -> DMatrix<f64> {
    let eig = SymmetricEigen::new(b);
    let top = eig.eigenvalues.iter().fold(0.0_f64, |a, &v| a.max(v));
    let d = eig.eigenvalues.map(|v| {
        if v > EIGEN_TOLERANCE * top {
            1.0 / v.sqrt()
        } else {
            0.0
        }
    });
    &eig.eigenvectors * DMatrix::from_diagonal(&d) * eig.eigenvectors.transpose()
}

/// The cross-products of two contrasts s, t (as γ = Mℓ) over the clusters:
/// Σᵢⱼ Ωᵢⱼ^{ab}Ωᵢⱼ^{cd} with Ωᵢⱼ^{ab} = δᵢⱼ γₐ'Jᵢγ_b − (Kᵢγₐ)'M(Kⱼγ_b).
struct Cross<'a> {
    terms: &'a [ClusterTerms],
    mx: &'a DMatrix<f64>,
    /// Kᵢγ per cluster and contrast.
    r: Vec<Vec<DVector<f64>>>,
    gamma: Vec<DVector<f64>>,
}

impl<'a> Cross<'a> {
    fn new(terms: &'a [ClusterTerms], mx: &'a DMatrix<f64>, contrasts: &[DVector<f64>]) -> Self {
        let gamma: Vec<DVector<f64>> = contrasts.iter().map(|c| mx * c).collect();
        let r = terms
            .iter()
            .map(|t| gamma.iter().map(|g| &t.k * g).collect())
            .collect();
        Self {
            terms,
            mx,
            r,
            gamma,
        }
    }

    /// aᵢ^{ab} = γₐ'Jᵢγ_b.
    fn a(&self, i: usize, a: usize, b: usize) -> f64 {
        self.gamma[a].dot(&(&self.terms[i].j * &self.gamma[b]))
    }

    /// rᵢₐ'M rᵢ_b.
    fn rr(&self, i: usize, a: usize, b: usize) -> f64 {
        self.r[i][a].dot(&(self.mx * &self.r[i][b]))
    }

    /// Sᵃᵇ = Σᵢ rᵢₐ rᵢ_b'.
    fn s(&self, a: usize, b: usize) -> DMatrix<f64> {
        let p = self.mx.nrows();
        let mut s = DMatrix::zeros(p, p);
        for ri in &self.r {
            s += &ri[a] * ri[b].transpose();
        }
        s
    }

    /// E(ℓₐ'Vℓ_b) under the working model: Σᵢ (aᵢ^{ab} − rᵢₐ'Mrᵢ_b).
    fn expectation(&self, a: usize, b: usize) -> f64 {
        (0..self.terms.len())
            .map(|i| self.a(i, a, b) - self.rr(i, a, b))
            .sum()
    }

    /// Σᵢⱼ Ωᵢⱼ^{ab}Ωᵢⱼ^{cd}.
    fn t(&self, a: usize, b: usize, c: usize, d: usize) -> f64 {
        let mut total = 0.0;
        for i in 0..self.terms.len() {
            let (ab, cd) = (self.a(i, a, b), self.a(i, c, d));
            total += ab * cd - ab * self.rr(i, c, d) - cd * self.rr(i, a, b);
        }
        total + (self.s(c, a) * self.mx * self.s(b, d) * self.mx).trace()
    }
}

/// Satterthwaite's df of the CR2 variance of contrast ℓ: E²/Σᵢⱼ Ωᵢⱼ².
fn satterthwaite(terms: &[ClusterTerms], mx: &DMatrix<f64>, l: &DVector<f64>) -> f64 {
    let cross = Cross::new(terms, mx, std::slice::from_ref(l));
    let e = cross.expectation(0, 0);
    e * e / cross.t(0, 0, 0, 0)
}

/// The robust test of `columns`: F on (m, n − p) df for CR1, HTZ for CR2.
fn wald(
    beta: &DVector<f64>,
    vcov: &DMatrix<f64>,
    columns: &[usize],
    kind: RobustType,
    terms: &[ClusterTerms],
    mx: &DMatrix<f64>,
    n: usize,
) -> Result<RobustTest, StatsError> {
    let q = columns.len();
    let p = beta.len();
    let singular = || StatsError::NumericallySingular { tau2: f64::NAN };
    let b = DVector::from_iterator(q, columns.iter().map(|&c| beta[c]));
    let vs = DMatrix::from_fn(q, q, |a, c| vcov[(columns[a], columns[c])]);
    let quadratic = {
        let chol = vs.cholesky().ok_or_else(singular)?;
        b.dot(&chol.solve(&b))
    };
    let (statistic, df2) = match kind {
        RobustType::Cr1 => (quadratic / q as f64, (n - p) as f64),
        RobustType::Cr2 => {
            let unit: Vec<DVector<f64>> = columns
                .iter()
                .map(|&c| {
                    let mut e = DVector::zeros(p);
                    e[c] = 1.0;
                    e
                })
                .collect();
            let omega = {
                let cross = Cross::new(terms, mx, &unit);
                DMatrix::from_fn(q, q, |a, c| cross.expectation(a, c))
            };
            // Contrasts standardised by Ω = LL': rows of L⁻¹C.
            let l = omega.cholesky().ok_or_else(singular)?.l();
            let c = DMatrix::from_fn(q, p, |a, j| unit[a][j]);
            let mut g = c;
            if !l.solve_lower_triangular_mut(&mut g) {
                return Err(singular());
            }
            let standard: Vec<DVector<f64>> =
                (0..q).map(|a| g.row(a).transpose().into_owned()).collect();
            let cross = Cross::new(terms, mx, &standard);
            let mut total = 0.0;
            for s in 0..q {
                for t in 0..q {
                    total += cross.t(s, s, t, t) + cross.t(s, t, t, s);
                }
            }
            let qf = q as f64;
            let eta = qf * (qf + 1.0) / total;
            ((eta - qf + 1.0) / (eta * qf) * quadratic, eta - qf + 1.0)
        }
    };
    let p_value = FisherSnedecor::new(q as f64, df2)
        .map(|d| d.sf(statistic))
        .unwrap_or(f64::NAN);
    Ok(RobustTest {
        columns: columns.to_vec(),
        statistic,
        df: q,
        df2,
        p_value,
    })
}

impl super::Fit {
    /// Cluster-robust inference of this single-level fit with clusters `cluster` (a code per
    /// study; only equality matters), the working model diag(vᵢ + τ²).
    ///
    /// # Errors
    /// [`StatsError::GroupingLength`], [`StatsError::SingleCluster`],
    /// [`StatsError::TooFewClusters`].
    pub fn robust(&self, cluster: &[usize], kind: RobustType) -> Result<Robust, StatsError> {
        let tau2 = self.tau2_or_zero();
        let working = Working {
            x: self.x(),
            resid: self.residuals.clone(),
            blocks: self
                .vi()
                .iter()
                .enumerate()
                .map(|(i, v)| (i, DMatrix::from_element(1, 1, v + tau2)))
                .collect(),
            model_vcov: self.model_vcov(),
            beta: &self.beta,
            names: self.names(),
            intercept: self.intercept,
            level: self.spec.level,
        };
        robust(&working, cluster, kind)
    }
}

impl super::MvFit {
    /// Cluster-robust inference of this multilevel fit with clusters `cluster` (a code per row
    /// as given to the fit), the working model the fitted marginal covariance M.
    ///
    /// # Errors
    /// [`StatsError::GroupingLength`], [`StatsError::SingleCluster`],
    /// [`StatsError::TooFewClusters`], [`StatsError::ClusterSplitsModel`] when rows the model
    /// makes dependent are in different clusters.
    pub fn robust(&self, cluster: &[usize], kind: RobustType) -> Result<Robust, StatsError> {
        let s = &self.state;
        if cluster.len() != self.k {
            return Err(StatsError::GroupingLength {
                term: "robust cluster".to_owned(),
                rows: cluster.len(),
                k: self.k,
            });
        }
        let blocked: Vec<usize> = s.order.iter().map(|&r| cluster[r]).collect();
        let fitted = &s.data.x * &s.beta;
        let working = Working {
            x: &s.data.x,
            resid: s
                .data
                .y
                .iter()
                .zip(fitted.iter())
                .map(|(y, f)| y - f)
                .collect(),
            blocks: s.model.marginal_blocks(),
            model_vcov: &self.vcov,
            beta: &s.beta,
            names: self.coefficients.iter().map(|c| c.name.clone()).collect(),
            intercept: s.intercept,
            level: self.spec.level,
        };
        robust(&working, &blocked, kind).map_err(|e| match e {
            StatsError::ClusterSplitsModel { row } => {
                StatsError::ClusterSplitsModel { row: s.order[row] }
            }
            e => e,
        })
    }
}
