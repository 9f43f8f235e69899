//! The marginal covariance of the effects as a type: a variance model M(θ) over a named vector
//! of variance parameters θ, offering what GLS and the likelihood need (whitening, log det,
//! and the traces and quadratic forms of Gⱼ = ∂M/∂θⱼ), so that the objective and the optimiser
//! never look inside it.
//!
//! Implemented: [`CommonTau2`], M = diag(vᵢ + τ²), the model of `rma.uni`. The interface is
//! the one a block-diagonal model by cluster (M = V + Σ σ²ⱼZⱼZⱼ', factorised cluster by
//! cluster) or a per-study model (vᵢ + exp(zᵢ'α)) implements: all terms are expressed through
//! the whitened derivatives G̃ⱼ = L⁻¹GⱼL⁻ᵀ and the basis Q of the whitened design, with
//! tr(PGⱼ) = tr(G̃ⱼ) − tr(Q'G̃ⱼQ),
//! tr(PGⱼPGₗ) = tr(G̃ⱼG̃ₗ) − 2 tr(Q'G̃ⱼG̃ₗQ) + tr(Q'G̃ⱼQ·Q'G̃ₗQ) and y'PGⱼPy = ẽ'G̃ⱼẽ.

use nalgebra::{DMatrix, DVector};

use super::gls::{Gls, Whiten};

/// What a variance parameter is, which fixes its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParameterKind {
    /// A variance (τ², σ²): at least 0.
    Variance,
    /// A correlation (ρ): between −1 and 1.
    Correlation,
    /// A parameter on the whole real line (a log-scale coefficient α of a location-scale
    /// model).
    Real,
}

impl ParameterKind {
    /// The closed interval the parameter lives in.
    pub fn bounds(self) -> (f64, f64) {
        match self {
            Self::Variance => (0.0, f64::INFINITY),
            Self::Correlation => (-1.0, 1.0),
            Self::Real => (f64::NEG_INFINITY, f64::INFINITY),
        }
    }
}

/// One variance parameter of a model: its name as metafor prints it and its kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// Name (`tau2`; later `sigma2.1`, `rho`, `alpha.x`).
    pub name: String,
    /// Kind, which fixes the bounds.
    pub kind: ParameterKind,
}

/// One variance parameter of a fitted model with its estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct VarianceComponent {
    /// The parameter.
    pub parameter: Parameter,
    /// Estimate (or the fixed value).
    pub estimate: f64,
    /// Standard error as metafor computes it for the estimator; `None` when the parameter is
    /// fixed.
    pub se: Option<f64>,
    /// Whether the model fixes the value instead of estimating it (τ² = 0 in FE/EE models).
    pub fixed: bool,
}

/// Which matrix the traces of [`Derivatives`] are taken with: M⁻¹ (the likelihood) or the
/// projection P (the restricted likelihood).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TraceOf {
    /// A = M⁻¹.
    Marginal,
    /// A = P = M⁻¹ − M⁻¹X(X'M⁻¹X)⁻¹X'M⁻¹.
    Projection,
}

/// The derivative terms of the (restricted) likelihood at one θ, for A = M⁻¹ or P.
#[derive(Debug, Clone)]
pub(crate) struct Derivatives {
    /// tr(A·Gⱼ).
    pub trace: DVector<f64>,
    /// y'P·Gⱼ·P·y.
    pub quad: DVector<f64>,
    /// tr(A·Gⱼ·A·Gₗ).
    pub info: DMatrix<f64>,
}

/// A model M(θ) of the marginal covariance of the effects.
pub(crate) trait VarianceModel: Whiten {
    /// The parameters θ, in order.
    fn parameters(&self) -> &[Parameter];
    /// The typical size sⱼ of each parameter, the scale of the relative convergence criterion
    /// |Δθⱼ| ≤ tol·(|θⱼ| + sⱼ) (for variances the typical sampling variance, so the criterion
    /// does not depend on the units of the effects).
    fn scales(&self) -> &[f64];
    /// Moves the model to θ (inside the bounds of [`Self::parameters`]).
    fn set(&mut self, theta: &[f64]);
    /// The derivative terms at the current θ for the GLS fit `gls` (made with this model's
    /// whitening) and its response `r`.
    fn derivatives(&self, gls: &Gls, r: usize, of: TraceOf) -> Derivatives;
}

/// M = diag(vᵢ + τ²): one between-study variance τ² added to every sampling variance
/// (the random- and mixed-effects model of metafor's `rma.uni`).
#[derive(Debug, Clone)]
pub(crate) struct CommonTau2 {
    v: Vec<f64>,
    parameters: [Parameter; 1],
    scales: [f64; 1],
    tau2: f64,
    /// wᵢ = 1/(vᵢ + τ²): also the whitened derivative G̃ = L⁻¹·I·L⁻ᵀ = W.
    w: Vec<f64>,
    /// √wᵢ, the whitening.
    sqrt_w: Vec<f64>,
}

impl CommonTau2 {
    /// The model for sampling variances `v` (positive, finite), with `scale` the typical
    /// sampling variance, at τ² = `tau2`.
    pub fn new(v: &[f64], scale: f64, tau2: f64) -> Self {
        let mut m = Self {
            v: v.to_vec(),
            parameters: [Parameter {
                name: "tau2".to_owned(),
                kind: ParameterKind::Variance,
            }],
            scales: [scale],
            tau2: f64::NAN,
            w: Vec::new(),
            sqrt_w: Vec::new(),
        };
        m.set(&[tau2]);
        m
    }

    /// The weights wᵢ = 1/(vᵢ + τ²).
    pub fn weights(&self) -> &[f64] {
        &self.w
    }
}

impl Whiten for CommonTau2 {
    fn whiten(&self, src: &[f64], dst: &mut [f64]) {
        for ((d, s), w) in dst.iter_mut().zip(src).zip(&self.sqrt_w) {
            *d = s * w;
        }
    }

    fn log_det(&self) -> f64 {
        self.w.iter().map(|w| -w.ln()).sum()
    }
}

impl VarianceModel for CommonTau2 {
    fn parameters(&self) -> &[Parameter] {
        &self.parameters
    }

    fn scales(&self) -> &[f64] {
        &self.scales
    }

    fn set(&mut self, theta: &[f64]) {
        let tau2 = theta[0];
        if tau2 == self.tau2 {
            return;
        }
        self.tau2 = tau2;
        self.w.clear();
        self.w.extend(self.v.iter().map(|v| 1.0 / (v + tau2)));
        self.sqrt_w.clear();
        self.sqrt_w.extend(self.w.iter().map(|w| w.sqrt()));
    }

    fn derivatives(&self, gls: &Gls, r: usize, of: TraceOf) -> Derivatives {
        diagonal_derivatives(&[&self.w], gls, r, of)
    }
}

/// [`Derivatives`] for a diagonal M whose derivatives are diagonal as well, given the whitened
/// derivatives G̃ⱼ = diag(gⱼ) (for M = diag(mᵢ), G̃ⱼ = diag(∂mᵢ/∂θⱼ / mᵢ)). In O(k·p²) per pair.
pub(crate) fn diagonal_derivatives(g: &[&[f64]], gls: &Gls, r: usize, of: TraceOf) -> Derivatives {
    let n = g.len();
    let h = gls.hat();
    let e = gls.whitened_resid(r);
    let trace = DVector::from_iterator(
        n,
        g.iter().map(|gj| match of {
            TraceOf::Marginal => gj.iter().sum(),
            TraceOf::Projection => gj.iter().zip(h).map(|(g, h)| g * (1.0 - h)).sum(),
        }),
    );
    let quad = DVector::from_iterator(
        n,
        g.iter()
            .map(|gj| gj.iter().zip(e).map(|(g, e)| g * e * e).sum()),
    );
    let mut info = DMatrix::zeros(n, n);
    for j in 0..n {
        for l in 0..=j {
            let v = match of {
                TraceOf::Marginal => g[j].iter().zip(g[l]).map(|(a, b)| a * b).sum(),
                TraceOf::Projection => g[j]
                    .iter()
                    .zip(g[l])
                    .zip(h)
                    .map(|((a, b), h)| a * b * (1.0 - 2.0 * h))
                    .sum(),
            };
            info[(j, l)] = v;
            info[(l, j)] = v;
        }
    }
    if of == TraceOf::Projection {
        let grams: Vec<DMatrix<f64>> = g.iter().map(|gj| gls.gram(gj)).collect();
        for j in 0..n {
            for l in 0..=j {
                let v = grams[j].component_mul(&grams[l]).sum();
                info[(j, l)] += v;
                if l != j {
                    info[(l, j)] += v;
                }
            }
        }
    }
    Derivatives { trace, quad, info }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative agreement of the O(k·p²) terms with the explicit k × k products.
    const TRACE_REL: f64 = 1e-12;

    fn close(what: &str, a: f64, b: f64) {
        assert!(
            (a - b).abs() <= TRACE_REL * b.abs(),
            "{what}: {a:e} vs {b:e}"
        );
    }

    #[test]
    fn derivative_terms_match_the_explicit_matrices() {
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
        let model = CommonTau2::new(&v, 0.1, 0.3);
        let mut gls = Gls::default();
        assert!(gls.fit(&x, &model, &[&y]));
        // M = V + τ²I, P = M⁻¹ − M⁻¹X(X'M⁻¹X)⁻¹X'M⁻¹, G = ∂M/∂τ² = I.
        let w = DVector::from_iterator(7, v.iter().map(|v| 1.0 / (v + 0.3)));
        let m_inv = DMatrix::from_diagonal(&w);
        let xtmx = x.transpose() * &m_inv * &x;
        let inv = xtmx.clone().try_inverse().expect("full rank");
        let p = &m_inv - &m_inv * &x * &inv * x.transpose() * &m_inv;
        let yv = DVector::from_column_slice(&y);
        let py = &p * &yv;
        let marginal = model.derivatives(&gls, 0, TraceOf::Marginal);
        let projection = model.derivatives(&gls, 0, TraceOf::Projection);
        close("tr(M⁻¹G)", marginal.trace[0], m_inv.trace());
        close(
            "tr(M⁻¹GM⁻¹G)",
            marginal.info[(0, 0)],
            (&m_inv * &m_inv).trace(),
        );
        close("tr(PG)", projection.trace[0], p.trace());
        close("tr(PGPG)", projection.info[(0, 0)], (&p * &p).trace());
        close("y'PGPy", projection.quad[0], py.dot(&py));
        close("y'Py", gls.rss(0), yv.dot(&py));
        close(
            "ln|M|",
            gls.log_det_m(),
            -w.iter().map(|w| w.ln()).sum::<f64>(),
        );
        close("ln|X'M⁻¹X|", gls.log_det_xtmx(), xtmx.determinant().ln());
        for (a, b) in gls.inverse_xtmx().iter().zip(inv.iter()) {
            close("(X'M⁻¹X)⁻¹", *a, *b);
        }
        // Hat values: the diagonal of X(X'M⁻¹X)⁻¹X'M⁻¹.
        let hat = &x * &inv * x.transpose() * &m_inv;
        for (i, h) in gls.hat().iter().enumerate() {
            close("hat", *h, hat[(i, i)]);
        }
    }
}
