//! The intercept-only random-effects model in O(k) scalars: τ² by ML or REML of a model
//! without moderators ([`super::tau2`] takes it for such a design) and of the reduced model of
//! the pseudo-R² (τ²₀ on the same studies).
//!
//! With X = 1 and wᵢ = 1/(vᵢ + τ²) every term of the (restricted) likelihood is a weighted
//! sum (Viechtbauer, 2005): β̂ = Σwᵢyᵢ/Σwᵢ, eᵢ = yᵢ − β̂, y'Py = Σwᵢeᵢ², log det M = −Σ ln wᵢ,
//! X'M⁻¹X = Σwᵢ and the hat values hᵢ = wᵢ/Σwᵢ. With G = ∂M/∂τ² = I:
//! tr(M⁻¹G) = Σwᵢ, tr(M⁻¹GM⁻¹G) = Σwᵢ², y'PGPy = Σwᵢ²eᵢ²,
//! tr(PG) = Σwᵢ − Σwᵢ²/Σwᵢ and tr(PGPG) = Σwᵢ² − 2Σwᵢ³/Σwᵢ + (Σwᵢ²/Σwᵢ)².
//! The general path ([`super::tau2::estimate`]) builds a k × 1 design, a QR factorisation and
//! both responses' fits at every trial τ²; this objective needs one pass for the weighted
//! mean and one for the sums, and is maximised by the same optimiser from the same start
//! with the same convergence rule, so τ²₀ agrees with the general path to rounding.

use nalgebra::{DMatrix, DVector};

use super::input::Inputs;
use super::likelihood::Likelihood;
use super::objective::{Objective, Point};
use super::optimise::{maximise, Failure, Optimum};
use super::spec::Control;
use super::tau2::tau2_scale;
use super::variance::{Parameter, ParameterKind};
use super::{StatsError, Tau2Method};

/// The (restricted) log-likelihood of the intercept-only model of `y` (centred) and `v`.
struct InterceptOnly<'a> {
    y: &'a [f64],
    v: &'a [f64],
    kind: Likelihood,
    /// The weights at the last θ evaluated (a buffer kept between evaluations).
    w: Vec<f64>,
    parameters: [Parameter; 1],
    scales: [f64; 1],
}

impl Objective for InterceptOnly<'_> {
    fn parameters(&self) -> &[Parameter] {
        &self.parameters
    }

    fn scales(&self) -> &[f64] {
        &self.scales
    }

    fn evaluate(&mut self, theta: &[f64]) -> Result<Point, StatsError> {
        let tau2 = theta[0];
        let (sw, beta) = weighted_mean(self.y, self.v, tau2, &mut self.w);
        // Σwᵢeᵢ², Σwᵢ²eᵢ², Σwᵢ², Σwᵢ³ in lanes, and log det M = Σ ln mᵢ.
        let mut sums = [[0.0; LANES]; 4];
        let mut log_det = LogSum::new();
        let (y, w, v) = (
            self.y.chunks_exact(LANES),
            self.w.chunks_exact(LANES),
            self.v.chunks_exact(LANES),
        );
        let rest = y.remainder().iter().zip(w.remainder()).zip(v.remainder());
        for ((y, w), v) in y.zip(w).zip(v) {
            for l in 0..LANES {
                let e = y[l] - beta;
                let we2 = w[l] * e * e;
                sums[0][l] += we2;
                sums[1][l] += w[l] * we2;
                sums[2][l] += w[l] * w[l];
                sums[3][l] += w[l] * w[l] * w[l];
            }
            log_det.add([v[0] + tau2, v[1] + tau2, v[2] + tau2, v[3] + tau2]);
        }
        for ((y, w), v) in rest {
            let e = y - beta;
            let we2 = w * e * e;
            sums[0][0] += we2;
            sums[1][0] += w * we2;
            sums[2][0] += w * w;
            sums[3][0] += w * w * w;
            log_det.add_one(v + tau2);
        }
        let [rss, quad, sw2, sw3] = sums.map(total);
        let log_det_m = log_det.total();
        if !(sw > 0.0 && sw.is_finite() && rss.is_finite() && log_det_m.is_finite()) {
            return Err(StatsError::NumericallySingular { tau2 });
        }
        let k = self.y.len() as f64;
        let ln2pi = (2.0 * std::f64::consts::PI).ln();
        let (value, trace, info) = match self.kind {
            Likelihood::Ml => (-0.5 * (k * ln2pi + log_det_m + rss), sw, sw2),
            Likelihood::Reml => {
                let h = sw2 / sw;
                (
                    // log det X'X = ln k for the column of ones.
                    -0.5 * ((k - 1.0) * ln2pi - k.ln() + log_det_m + sw.ln() + rss),
                    sw - h,
                    sw2 - 2.0 * sw3 / sw + h * h,
                )
            }
        };
        Ok(Point {
            value,
            score: DVector::from_element(1, 0.5 * (quad - trace)),
            information: DMatrix::from_element(1, 1, 0.5 * info),
        })
    }
}

/// The number of partial sums each sum over the studies is split into: independent additions
/// that need not wait for each other (a single running sum waits for the previous addition at
/// every study) and that the compiler packs into vector registers. Studies i, i + 4, i + 8, …
/// go to lane i mod 4, the few left over to lane 0.
const LANES: usize = 4;

/// The total of one sum's lanes.
fn total(lanes: [f64; LANES]) -> f64 {
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
}

/// Σwᵢ and the weighted mean β̂ = Σwᵢyᵢ/Σwᵢ with wᵢ = 1/(vᵢ + τ²), the weights left in `w`
/// for the pass that follows (the divisions are most of a pass: done once, side by side).
fn weighted_mean(y: &[f64], v: &[f64], tau2: f64, w: &mut Vec<f64>) -> (f64, f64) {
    w.clear();
    w.extend(v.iter().map(|v| 1.0 / (v + tau2)));
    let mut sums = [[0.0; LANES]; 2];
    let (yc, wc) = (y.chunks_exact(LANES), w.chunks_exact(LANES));
    let rest = yc.remainder().iter().zip(wc.remainder());
    for (y, w) in yc.zip(wc) {
        for l in 0..LANES {
            sums[0][l] += w[l];
            sums[1][l] += w[l] * y[l];
        }
    }
    for (y, w) in rest {
        sums[0][0] += w;
        sums[1][0] += w * y;
    }
    let [sw, swy] = sums.map(total);
    (sw, swy / sw)
}

/// Q(τ²) = Σwᵢ(yᵢ − β̂)² of the model without moderators, wᵢ = 1/(vᵢ + τ²) and β̂ the
/// weighted mean: the residual quadratic form y'Py of a design of ones, in two passes (the
/// one-pass Σwᵢyᵢ² − β̂Σwᵢyᵢ loses the digits of a small Q to cancellation); `w` is a buffer
/// for the weights.
pub(crate) fn weighted_q(y: &[f64], v: &[f64], tau2: f64, w: &mut Vec<f64>) -> f64 {
    let (_, beta) = weighted_mean(y, v, tau2, w);
    let mut sums = [0.0; LANES];
    let (yc, wc) = (y.chunks_exact(LANES), w.chunks_exact(LANES));
    let rest = yc.remainder().iter().zip(wc.remainder());
    for (y, w) in yc.zip(wc) {
        for l in 0..LANES {
            let e = y[l] - beta;
            sums[l] += w[l] * e * e;
        }
    }
    for (y, w) in rest {
        let e = y - beta;
        sums[0] += w * e * e;
    }
    total(sums)
}

/// Σ ln xᵢ of positive numbers with one logarithm per 32 terms instead of one each (the
/// logarithms were most of an evaluation): the terms multiplied in [`LANES`]
/// products side by side, each the product of [`LogSum::PER_LANE`] terms, so ln Π = Σ ln of
/// the products. A term outside [2⁻¹²⁰, 2¹²⁰] (where eight of them could leave the range of
/// a double) is taken by its own logarithm. The error is a few ulps of each block's
/// logarithm, far below the rounding that the optimiser's comparison of values already
/// allows for.
struct LogSum {
    /// The sum of the finished blocks' logarithms and of the terms taken directly.
    logs: f64,
    /// The current block's product per lane (1 when empty).
    product: [f64; LANES],
    /// Terms per lane in the current block.
    n: usize,
}

impl LogSum {
    const PER_LANE: usize = 8;
    /// The range of a term multiplied into a product: 2⁻¹²⁰ to 2¹²⁰.
    const HIGH: f64 = (1u128 << 120) as f64;
    const LOW: f64 = 1.0 / Self::HIGH;

    fn new() -> Self {
        Self {
            logs: 0.0,
            product: [1.0; LANES],
            n: 0,
        }
    }

    /// Adds one term to each lane.
    fn add(&mut self, x: [f64; LANES]) {
        let mut outside = false;
        for (p, &x) in self.product.iter_mut().zip(&x) {
            let inside = (Self::LOW..=Self::HIGH).contains(&x);
            outside |= !inside;
            *p *= if inside { x } else { 1.0 };
        }
        if outside {
            // Subnormal, huge, infinite, NaN or not positive: its own logarithm says what
            // it is.
            for x in x {
                if !(Self::LOW..=Self::HIGH).contains(&x) {
                    self.logs += x.ln();
                }
            }
        }
        self.n += 1;
        if self.n == Self::PER_LANE {
            self.logs += self.product.iter().map(|p| p.ln()).sum::<f64>();
            (self.product, self.n) = ([1.0; LANES], 0);
        }
    }

    /// Adds one term by its own logarithm (the few studies after the last full set of lanes).
    fn add_one(&mut self, x: f64) {
        self.logs += x.ln();
    }

    fn total(&self) -> f64 {
        self.logs + self.product.iter().map(|p| p.ln()).sum::<f64>()
    }
}

/// The ML or REML (`kind`) optimum of the intercept-only model of the effects `y` with
/// sampling variances `v`, from `start`, with `scale` the scale of τ² in the convergence
/// criterion: the optimiser of the general path on the O(k) objective.
pub(crate) fn intercept_only_optimum(
    y: &[f64],
    v: &[f64],
    kind: Likelihood,
    scale: f64,
    start: f64,
    control: &Control,
) -> Result<Optimum, Failure> {
    let mut objective = InterceptOnly {
        y,
        v,
        kind,
        w: Vec::with_capacity(y.len()),
        parameters: [Parameter {
            name: "tau2".to_owned(),
            kind: ParameterKind::Variance,
        }],
        scales: [scale],
    };
    maximise(&mut objective, &[start], control)
}

/// The likelihood an iterative estimator maximises, `None` for one that maximises none.
pub(crate) fn likelihood_of(method: Tau2Method) -> Option<Likelihood> {
    match method {
        Tau2Method::Reml => Some(Likelihood::Reml),
        Tau2Method::Ml => Some(Likelihood::Ml),
        _ => None,
    }
}

/// The optimiser's failure as the error the general path reports for `method`.
pub(crate) fn no_convergence(method: Tau2Method) -> impl Fn(Failure) -> StatsError {
    move |e| match e {
        Failure::Objective(e) => e,
        Failure::NoConvergence { iterations, last } => StatsError::NoConvergence {
            method,
            iterations,
            last_tau2: last[0],
        },
    }
}

/// τ²₀ of the intercept-only model on `data`'s studies by ML or REML (`method`), from `warm`,
/// else from the DerSimonian–Laird estimate, else from Hedges' — the starts of the general
/// path. `None` for any other estimator (which the general path fits).
///
/// # Errors
/// Non-convergence, as the general path reports it.
pub(crate) fn intercept_only_tau2(
    data: &Inputs,
    method: Tau2Method,
    control: &Control,
    warm: Option<f64>,
) -> Option<Result<f64, StatsError>> {
    let kind = likelihood_of(method)?;
    let (y, v) = (&data.y_centred, &data.v);
    let df = (y.len() - 1) as f64;
    // The fixed-effect fit: Q(0) and tr(P₀) = Σwᵢ − Σwᵢ²/Σwᵢ with wᵢ = 1/vᵢ.
    let (sw, swy, sw2) = y.iter().zip(v).fold((0.0, 0.0, 0.0), |(a, b, c), (y, v)| {
        let w = 1.0 / v;
        (a + w, b + w * y, c + w * w)
    });
    let beta = swy / sw;
    let q0: f64 = y.iter().zip(v).map(|(y, v)| (y - beta).powi(2) / v).sum();
    let trace_p0 = sw - sw2 / sw;
    let scale = tau2_scale(df / trace_p0, data);
    let start = warm.unwrap_or_else(|| match ((q0 - df) / trace_p0).max(0.0) {
        t if t > 0.0 => t,
        // Hedges: least squares about the unweighted mean (0 for the centred effects), with
        // tr((I − H)V) = (1 − 1/k)Σvᵢ.
        _ => {
            let k = y.len() as f64;
            let e2: f64 = y.iter().map(|y| y * y).sum();
            ((e2 - (1.0 - 1.0 / k) * v.iter().sum::<f64>()) / df).max(0.0)
        }
    });
    Some(
        intercept_only_optimum(y, v, kind, scale, start, control)
            .map(|optimum| optimum.theta[0])
            .map_err(no_convergence(method)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::tau2::{estimate, FixedEffect};

    /// Agreement of τ²₀ with the general path (rounding of two orders of summation, and at most
    /// a convergence decision apart) and with metafor (its own convergence tolerance).
    const GENERAL_REL: f64 = 1e-8;
    const METAFOR_REL: f64 = 1e-6;

    fn general(data: &Inputs, method: Tau2Method) -> f64 {
        let mut fe = FixedEffect::new(data).expect("fixed-effect fit");
        estimate(method, data, &mut fe, &Control::default(), None)
            .expect("converges")
            .0
            .tau2
    }

    fn inputs(yi: &[f64], vi: &[f64]) -> Inputs {
        Inputs::new(yi, vi, &crate::stats::Design::intercept_only(yi.len())).expect("valid")
    }

    fn close(what: &str, a: f64, b: f64, rel: f64) {
        assert!(
            (a - b).abs() <= rel * b.abs().max(1e-12),
            "{what}: {a:e} vs {b:e}"
        );
    }

    #[test]
    fn bcg_tau2_equals_the_general_path_and_metafor() {
        #[derive(serde::Deserialize)]
        struct Fixture {
            yi: Vec<f64>,
            vi: Vec<f64>,
            fits: Vec<MetaforFit>,
        }
        #[derive(serde::Deserialize)]
        struct MetaforFit {
            method: String,
            tau2: f64,
        }
        let fixture: Fixture =
            serde_json::from_str(include_str!("../../tests/fixtures/stats/bcg.json"))
                .expect("fixture");
        let data = inputs(&fixture.yi, &fixture.vi);
        for (method, name) in [(Tau2Method::Reml, "REML"), (Tau2Method::Ml, "ML")] {
            let scalar = intercept_only_tau2(&data, method, &Control::default(), None)
                .expect("ML and REML have a scalar path")
                .expect("converges");
            close(name, scalar, general(&data, method), GENERAL_REL);
            let metafor = fixture
                .fits
                .iter()
                .find(|f| f.method == name)
                .expect("metafor fit");
            close(name, scalar, metafor.tau2, METAFOR_REL);
        }
    }

    #[test]
    fn log_sum_equals_the_sum_of_logarithms() {
        // A subnormal among the lanes' terms, three terms after the last full set of lanes.
        let xs: Vec<f64> = [f64::MIN_POSITIVE / 4.0, 1e300, 1e-300]
            .into_iter()
            .chain((0..1000).map(|i| (1.0 + (i * 37 % 101) as f64) * 10f64.powi(i % 40 - 20)))
            .collect();
        let mut sum = LogSum::new();
        let chunks = xs.chunks_exact(LANES);
        chunks.remainder().iter().for_each(|&x| sum.add_one(x));
        chunks.for_each(|c| sum.add([c[0], c[1], c[2], c[3]]));
        let want: f64 = xs.iter().map(|x| x.ln()).sum();
        assert!(
            (sum.total() - want).abs() <= 1e-12 * want.abs(),
            "{} vs {want}",
            sum.total()
        );
    }

    /// Homogeneous studies (the boundary, from the Hedges start) and studies of very unequal
    /// precision (many scoring iterations) give the general path's τ²₀ too.
    #[test]
    fn boundary_and_unequal_precision_equal_the_general_path() {
        let k = 40;
        let homogeneous: Vec<f64> = (0..k).map(|i| 0.01 * ((i * 7) % 5) as f64).collect();
        let spread: Vec<f64> = (0..k).map(|i| ((i * 13) % 17) as f64 / 4.0 - 2.0).collect();
        let vi: Vec<f64> = (0..k)
            .map(|i| 0.001 * (1.0 + ((i * 31) % 97) as f64).powi(2))
            .collect();
        for yi in [&homogeneous, &spread] {
            let data = inputs(yi, &vi);
            for method in [Tau2Method::Reml, Tau2Method::Ml] {
                let scalar = intercept_only_tau2(&data, method, &Control::default(), None)
                    .expect("scalar path")
                    .expect("converges");
                let want = general(&data, method);
                assert!(
                    (scalar - want).abs() <= GENERAL_REL * want.max(1e-3),
                    "{method:?}: {scalar:e} vs {want:e}"
                );
            }
        }
        assert!(intercept_only_tau2(
            &inputs(&spread, &vi),
            Tau2Method::Dl,
            &Control::default(),
            None
        )
        .is_none());
    }
}
