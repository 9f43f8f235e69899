//! The model matrix the engine fits: the contract between the data layer, which builds it from
//! a formula, and the numerical core, which only reads it.

use nalgebra::DMatrix;

/// One term of a model formula and the columns of the model matrix it produced, so that a test
/// can address a whole term at once (for example all dummies of `factor(alloc)`).
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The term as the formula wrote it, e.g. `factor(alloc)` or `ablat:year`.
    pub label: String,
    /// 0-based indices of this term's columns in [`Design::x`].
    pub columns: Vec<usize>,
}

/// A k × p model matrix with its coefficient names.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// The k × p model matrix, one row per study.
    pub x: DMatrix<f64>,
    /// One name per column, as R names them (`intrcpt`, `ablat`, `allocrandom`, `ablat:year`).
    pub names: Vec<String>,
    /// Whether column 0 is the intercept (a column of ones the omnibus test leaves out).
    pub intercept: bool,
    /// The formula's terms, the intercept excluded.
    pub terms: Vec<Term>,
}

impl Design {
    /// The intercept-only design for `k` studies.
    pub fn intercept_only(k: usize) -> Self {
        Self {
            x: DMatrix::from_element(k, 1, 1.0),
            names: vec!["intrcpt".to_owned()],
            intercept: true,
            terms: Vec::new(),
        }
    }

    /// Number of studies (rows).
    pub fn k(&self) -> usize {
        self.x.nrows()
    }

    /// Number of coefficients (columns).
    pub fn p(&self) -> usize {
        self.x.ncols()
    }
}
