//! Validation of the data a fit receives: the edge where user data enters the core.
//!
//! Everything after this module trusts that lengths agree, values are finite, variances are
//! positive and the design has full column rank.

use nalgebra::DMatrix;

use super::qr::Qr;
use super::{Design, StatsError};

/// A column whose distance from the span of the earlier columns is below this fraction of its
/// own norm counts as collinear with them (R's `qr` uses 1e-7; this is a little stricter so a
/// legitimately ill-conditioned design, such as a quadratic in calendar years, still fits).
const RANK_TOLERANCE: f64 = 1e-9;

/// Validated inputs of a fit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Inputs {
    /// Effect sizes.
    pub y: Vec<f64>,
    /// Effect sizes centred at their unweighted mean. metafor's moment estimators and QE use
    /// these; with an intercept (any constant in the column space of X) residuals and hence
    /// all quadratic forms are unchanged, and without one this reproduces metafor.
    pub y_centred: Vec<f64>,
    /// Sampling variances, all positive and finite.
    pub v: Vec<f64>,
    /// The k × p design, full column rank.
    pub x: DMatrix<f64>,
    /// log det(X'X), which the restricted likelihood needs.
    pub log_det_xtx: f64,
}

impl Inputs {
    /// Checks lengths, finiteness, positivity of the variances and the rank of the design.
    pub fn new(yi: &[f64], vi: &[f64], design: &Design) -> Result<Self, StatsError> {
        let k = design.k();
        let p = design.p();
        if yi.len() != vi.len() || yi.len() != k {
            return Err(StatsError::LengthMismatch {
                effects: yi.len(),
                variances: vi.len(),
                rows: k,
            });
        }
        if k == 0 {
            return Err(StatsError::NoStudies);
        }
        if p == 0 || design.names.len() != p {
            return Err(StatsError::MalformedDesign {
                columns: p,
                names: design.names.len(),
            });
        }
        if let Some((study, &value)) = yi.iter().enumerate().find(|(_, y)| !y.is_finite()) {
            return Err(StatsError::NonFiniteEffect { study, value });
        }
        // The weight 1/v must be finite too, or the weighted design overflows.
        if let Some((study, &value)) = vi
            .iter()
            .enumerate()
            .find(|(_, v)| !(v.is_finite() && **v > 0.0 && (1.0 / **v).is_finite()))
        {
            return Err(StatsError::InvalidVariance { study, value });
        }
        for (j, col) in design.x.column_iter().enumerate() {
            if let Some(study) = col.iter().position(|x| !x.is_finite()) {
                return Err(StatsError::NonFiniteModerator {
                    study,
                    column: design.names[j].clone(),
                });
            }
        }
        if k < p {
            return Err(StatsError::TooFewStudies { k, p });
        }
        let log_det_xtx = check_rank(&design.x, &design.names)?;
        Ok(Self {
            y: yi.to_vec(),
            y_centred: centred(yi),
            v: vi.to_vec(),
            x: design.x.clone(),
            log_det_xtx,
        })
    }

    /// Number of studies.
    pub fn k(&self) -> usize {
        self.x.nrows()
    }

    /// Number of coefficients.
    pub fn p(&self) -> usize {
        self.x.ncols()
    }

    /// Whether the design is the column of ones alone (a model without moderators), whose
    /// likelihood and Q statistic are weighted sums ([`super::intercept`]).
    pub fn is_intercept_only(&self) -> bool {
        self.p() == 1 && self.x.iter().all(|&x| x == 1.0)
    }

    /// The same studies with another design (same number of rows, already validated).
    pub fn with_design(&self, x: DMatrix<f64>, log_det_xtx: f64) -> Self {
        Self {
            y: self.y.clone(),
            y_centred: self.y_centred.clone(),
            v: self.v.clone(),
            x,
            log_det_xtx,
        }
    }
}

impl Inputs {
    /// The same studies with the rows of X taken in `order` (row i of the new design is row
    /// `order[i]` of this one); X'X and its determinant do not change.
    pub fn with_rows(&self, order: &[usize]) -> Self {
        let x = DMatrix::from_fn(self.k(), self.p(), |i, j| self.x[(order[i], j)]);
        self.with_design(x, self.log_det_xtx)
    }

    /// The same studies with the sign of yᵢ flipped where `flip(i)`.
    pub fn with_signs(&self, flip: impl Fn(usize) -> bool) -> Self {
        let y: Vec<f64> = self
            .y
            .iter()
            .enumerate()
            .map(|(i, y)| if flip(i) { -y } else { *y })
            .collect();
        Self {
            y_centred: centred(&y),
            y,
            v: self.v.clone(),
            x: self.x.clone(),
            log_det_xtx: self.log_det_xtx,
        }
    }

    /// The studies `rows` (0-based, in that order; for example all but one for a
    /// leave-one-out refit). The design is checked again, since leaving studies out can make
    /// it rank deficient (the only study of a factor level).
    ///
    /// # Errors
    /// [`StatsError::NoStudies`], [`StatsError::TooFewStudies`] or
    /// [`StatsError::RankDeficient`] for the subset, [`StatsError::InvalidRows`] for a row
    /// that does not exist.
    pub fn subset(&self, rows: &[usize], names: &[String]) -> Result<Self, StatsError> {
        let (k, p) = (self.k(), self.p());
        if let Some(&bad) = rows.iter().find(|&&r| r >= k) {
            return Err(StatsError::InvalidRows { row: bad, k });
        }
        if rows.is_empty() {
            return Err(StatsError::NoStudies);
        }
        if rows.len() < p {
            return Err(StatsError::TooFewStudies { k: rows.len(), p });
        }
        let x = DMatrix::from_fn(rows.len(), p, |i, j| self.x[(rows[i], j)]);
        let log_det_xtx = check_rank(&x, names)?;
        let y: Vec<f64> = rows.iter().map(|&r| self.y[r]).collect();
        Ok(Self {
            y_centred: centred(&y),
            y,
            v: rows.iter().map(|&r| self.v[r]).collect(),
            x,
            log_det_xtx,
        })
    }
}

/// y − ȳ with the unweighted mean ȳ.
fn centred(y: &[f64]) -> Vec<f64> {
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    y.iter().map(|y| y - mean).collect()
}

/// Returns log det(X'X), or names the first column that is a combination of earlier ones.
///
/// Householder QR without pivoting: |Rⱼⱼ| is the distance of column j from the span of columns
/// 0..j, as long as those are independent, so the first small |Rⱼⱼ| identifies a dependent
/// column and R's upper block gives its coefficients on the earlier ones.
pub(crate) fn check_rank(x: &DMatrix<f64>, names: &[String]) -> Result<f64, StatsError> {
    let (k, p) = (x.nrows(), x.ncols());
    let norms: Vec<f64> = x.column_iter().map(|c| c.norm()).collect();
    let mut qr = Qr::default();
    qr.factorise(k, p, |a| a.copy_from_slice(x.as_slice()));
    for j in 0..p {
        if qr.r(j, j).abs() > RANK_TOLERANCE * norms[j] && norms[j] > 0.0 {
            continue;
        }
        let upper = DMatrix::from_fn(j, j, |a, b| qr.r(a, b));
        let rhs = DMatrix::from_fn(j, 1, |a, _| qr.r(a, j));
        let collinear_with = upper
            .solve_upper_triangular(&rhs)
            .map(|c| {
                c.iter()
                    .enumerate()
                    .filter(|(i, ci)| ci.abs() * norms[*i] > 1e-8 * norms[j])
                    .map(|(i, _)| names[i].clone())
                    .collect()
            })
            .unwrap_or_default();
        return Err(StatsError::RankDeficient {
            column: names[j].clone(),
            collinear_with,
        });
    }
    Ok(2.0 * qr.log_abs_det_r())
}
