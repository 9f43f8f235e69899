//! What a multilevel model is made of: its random-effects terms as metafor writes them, the
//! known sampling covariance V, and the split of the rows into independent blocks (the
//! connected components of "shares a level of some grouping or a block of V"), by which the
//! marginal covariance is block-diagonal.

use nalgebra::DMatrix;

use crate::stats::order::sort_indices_by;
use crate::stats::StatsError;

/// The covariance of the true effects of an `~ inner | outer` term within one level of the
/// outer factor (metafor's `struct`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Structure {
    /// Compound symmetry: one τ² and one ρ; metafor: `struct = "CS"`.
    Cs,
    /// Heteroscedastic compound symmetry: a τ² per inner level and one ρ; metafor: `"HCS"`.
    Hcs,
    /// Unstructured: a τ² per inner level and a ρ per pair of levels; metafor: `"UN"`.
    Un,
    /// Diagonal: a τ² per inner level, uncorrelated; metafor: `"DIAG"`.
    Diag,
}

impl Structure {
    /// All structures.
    pub const ALL: [Structure; 4] = [Self::Cs, Self::Hcs, Self::Un, Self::Diag];

    /// metafor's name (`"CS"`, `"UN"`, …).
    pub fn metafor_name(self) -> &'static str {
        match self {
            Self::Cs => "CS",
            Self::Hcs => "HCS",
            Self::Un => "UN",
            Self::Diag => "DIAG",
        }
    }

    /// The structure metafor calls `name`, ignoring ASCII case.
    pub fn from_metafor_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.metafor_name().eq_ignore_ascii_case(name))
    }

    /// Number of τ² for `levels` inner levels.
    pub(crate) fn n_tau2(self, levels: usize) -> usize {
        match self {
            Self::Cs => 1,
            _ => levels,
        }
    }

    /// Number of ρ for `levels` inner levels (metafor estimates one even with one level for CS
    /// and HCS; it is then not identified, so it is refused before fitting).
    pub(crate) fn n_rho(self, levels: usize) -> usize {
        match self {
            Self::Cs | Self::Hcs => 1,
            Self::Un => levels * (levels - 1) / 2,
            Self::Diag => 0,
        }
    }
}

/// One random-effects term of a multilevel model. Levels are codes per row: only equality
/// matters.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RandomEffect {
    /// `~ 1 | g`: one random intercept per level of g with variance σ². A nested term
    /// `~ 1 | a/b` is two of these: `a`, and `a/b` whose levels are the (a, b) pairs.
    Intercept {
        /// The component's name as metafor prints it (`district`, `district/study`).
        name: String,
        /// Row i's level.
        levels: Vec<usize>,
    },
    /// `~ inner | outer`: the true effects of the inner levels (outcomes, time points) within
    /// one level of `outer` are correlated as `structure` says; different outer levels are
    /// independent.
    Structured {
        /// The inner factor's name (`outcome`).
        inner_name: String,
        /// The outer factor's name (`trial`).
        outer_name: String,
        /// Row i's inner level: an index into `inner_levels`.
        inner: Vec<usize>,
        /// The inner levels' names, sorted as metafor sorts them.
        inner_levels: Vec<String>,
        /// Row i's outer level.
        outer: Vec<usize>,
        /// The structure.
        structure: Structure,
    },
}

/// The known sampling covariance V of the effects, block-diagonal: a diagonal of sampling
/// variances, or correlated blocks (several outcomes of one sample).
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingCovariance {
    k: usize,
    /// The blocks: their rows (ascending) and their covariance matrix.
    blocks: Vec<(Vec<usize>, DMatrix<f64>)>,
}

impl SamplingCovariance {
    /// V = diag(vᵢ).
    ///
    /// # Errors
    /// [`StatsError::InvalidVariance`] for a variance that is not positive and finite.
    pub fn diagonal(vi: &[f64]) -> Result<Self, StatsError> {
        check_variances(vi)?;
        Ok(Self {
            k: vi.len(),
            blocks: vi
                .iter()
                .enumerate()
                .map(|(i, v)| (vec![i], DMatrix::from_element(1, 1, *v)))
                .collect(),
        })
    }

    /// The sampling errors of rows in one cluster correlate at ρ: Vᵢⱼ = ρ·√(vᵢvⱼ) (metafor's
    /// `vcalc(vi, cluster, obs, rho)` when every row of a cluster is a different observation).
    ///
    /// # Errors
    /// [`StatsError::InvalidVariance`], [`StatsError::InvalidRho`] for ρ outside [−1, 1],
    /// [`StatsError::GroupingLength`], or [`StatsError::SamplingCovarianceNotPositiveDefinite`]
    /// (ρ = −1 with two rows in a cluster, or ρ < −1/(n − 1) for n rows).
    pub fn vcalc(vi: &[f64], cluster: &[usize], rho: f64) -> Result<Self, StatsError> {
        check_variances(vi)?;
        if !(-1.0..=1.0).contains(&rho) {
            return Err(StatsError::InvalidRho { rho });
        }
        if cluster.len() != vi.len() {
            return Err(StatsError::GroupingLength {
                term: "sampling covariance cluster".to_owned(),
                rows: cluster.len(),
                k: vi.len(),
            });
        }
        let blocks = group_rows(cluster)
            .into_iter()
            .map(|rows| {
                let m = DMatrix::from_fn(rows.len(), rows.len(), |a, b| {
                    let (va, vb) = (vi[rows[a]], vi[rows[b]]);
                    if a == b {
                        va
                    } else {
                        rho * (va * vb).sqrt()
                    }
                });
                (rows, m)
            })
            .collect();
        Self::from_blocks(vi.len(), blocks)
    }

    /// V from its blocks: each row of 0..k in exactly one block, each block symmetric and
    /// positive definite (its diagonal the sampling variances). A block symmetric up to
    /// rounding (|Vₐᵦ − Vᵦₐ| ≤ 1e-12·√(VₐₐVᵦᵦ), as products computed in two orders give) is
    /// made exactly symmetric by averaging.
    ///
    /// # Errors
    /// [`StatsError::InvalidVariance`] for a diagonal entry that is not positive and finite,
    /// [`StatsError::InvalidRows`] for a row missing, repeated or out of range, and
    /// [`StatsError::SamplingCovarianceNotPositiveDefinite`] for a block that is not
    /// symmetric positive definite.
    pub fn from_blocks(
        k: usize,
        blocks: Vec<(Vec<usize>, DMatrix<f64>)>,
    ) -> Result<Self, StatsError> {
        let mut seen = vec![false; k];
        for (rows, m) in &blocks {
            if m.nrows() != rows.len() || m.ncols() != rows.len() {
                return Err(StatsError::InvalidRows {
                    row: rows.first().copied().unwrap_or(0),
                    k,
                });
            }
            for (a, &r) in rows.iter().enumerate() {
                if r >= k || seen[r] {
                    return Err(StatsError::InvalidRows { row: r, k });
                }
                seen[r] = true;
                let v = m[(a, a)];
                if !(v.is_finite() && v > 0.0 && (1.0 / v).is_finite()) {
                    return Err(StatsError::InvalidVariance { study: r, value: v });
                }
            }
            let symmetric = (0..rows.len()).all(|a| {
                (0..a).all(|b| {
                    let (x, y) = (m[(a, b)], m[(b, a)]);
                    x.is_finite()
                        && y.is_finite()
                        && (x - y).abs() <= SYMMETRY_TOLERANCE * (m[(a, a)] * m[(b, b)]).sqrt()
                })
            });
            if !symmetric || m.clone().cholesky().is_none() {
                return Err(StatsError::SamplingCovarianceNotPositiveDefinite { row: rows[0] });
            }
        }
        if let Some(row) = seen.iter().position(|s| !s) {
            return Err(StatsError::InvalidRows { row, k });
        }
        let mut blocks = blocks;
        for (rows, m) in &mut blocks {
            *m = (&*m + m.transpose()) * 0.5;
            // Rows ascending within a block, so that blocks compare and merge by row.
            let mut order: Vec<usize> = (0..rows.len()).collect();
            sort_indices_by(&mut order, &|a, b| rows[a].cmp(&rows[b]));
            *m = DMatrix::from_fn(rows.len(), rows.len(), |a, b| m[(order[a], order[b])]);
            *rows = order.iter().map(|&a| rows[a]).collect();
        }
        Ok(Self { k, blocks })
    }

    /// Number of effects.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The sampling variances, the diagonal of V.
    pub fn variances(&self) -> Vec<f64> {
        let mut v = vec![0.0; self.k];
        for (rows, m) in &self.blocks {
            for (a, &r) in rows.iter().enumerate() {
                v[r] = m[(a, a)];
            }
        }
        v
    }

    /// Vᵢⱼ (0 for rows in different blocks); for inspection, in O(number of blocks).
    pub fn get(&self, i: usize, j: usize) -> f64 {
        for (rows, m) in &self.blocks {
            if let (Some(a), Some(b)) = (
                rows.iter().position(|&r| r == i),
                rows.iter().position(|&r| r == j),
            ) {
                return m[(a, b)];
            }
        }
        0.0
    }

    /// Whether V is diagonal.
    pub fn is_diagonal(&self) -> bool {
        self.blocks.iter().all(|(rows, _)| rows.len() == 1)
    }

    /// The blocks (rows ascending, covariance).
    pub(crate) fn blocks(&self) -> &[(Vec<usize>, DMatrix<f64>)] {
        &self.blocks
    }
}

/// Relative asymmetry of a block of V that counts as rounding.
const SYMMETRY_TOLERANCE: f64 = 1e-12;

fn check_variances(vi: &[f64]) -> Result<(), StatsError> {
    match vi
        .iter()
        .enumerate()
        .find(|(_, v)| !(v.is_finite() && **v > 0.0 && (1.0 / **v).is_finite()))
    {
        Some((study, &value)) => Err(StatsError::InvalidVariance { study, value }),
        None => Ok(()),
    }
}

/// The rows of each distinct code, in order of first appearance, rows ascending.
pub(crate) fn group_rows(codes: &[usize]) -> Vec<Vec<usize>> {
    let mut index = std::collections::HashMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (row, code) in codes.iter().enumerate() {
        let g = *index.entry(*code).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(row);
    }
    groups
}

/// Number of distinct codes.
pub(crate) fn count_levels(codes: &[usize]) -> usize {
    codes.iter().collect::<std::collections::HashSet<_>>().len()
}

/// Disjoint sets over rows (union by size, path halving).
struct UnionFind {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a;
        self.size[a] += self.size[b];
    }
}

/// The independent blocks of the marginal covariance: the connected components of the rows
/// under "in one block of V" and "shares a level of some grouping" (each grouping a code per
/// row). Nested terms give the blocks of the outermost factor; crossed terms merge whatever
/// they link, up to one block of all k rows. Blocks in order of their first row, rows
/// ascending.
pub(crate) fn independent_blocks(
    v: &SamplingCovariance,
    groupings: &[&[usize]],
) -> Vec<Vec<usize>> {
    let k = v.k();
    let mut uf = UnionFind::new(k);
    for (rows, _) in v.blocks() {
        for w in rows.windows(2) {
            uf.union(w[0], w[1]);
        }
    }
    for codes in groupings {
        for rows in group_rows(codes) {
            for w in rows.windows(2) {
                uf.union(w[0], w[1]);
            }
        }
    }
    let roots: Vec<usize> = (0..k).map(|r| uf.find(r)).collect();
    group_rows(&roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_terms_block_by_the_outer_factor_and_crossed_terms_merge() {
        let v = SamplingCovariance::diagonal(&[1.0; 6]).expect("valid");
        let district = [0, 0, 1, 1, 2, 2];
        let study = [0, 1, 2, 3, 4, 5];
        assert_eq!(
            independent_blocks(&v, &[&district, &study]),
            vec![vec![0, 1], vec![2, 3], vec![4, 5]]
        );
        let year = [0, 1, 1, 2, 2, 3];
        assert_eq!(
            independent_blocks(&v, &[&district, &year]),
            vec![vec![0, 1, 2, 3, 4, 5]]
        );
    }

    #[test]
    fn vcalc_refuses_a_correlation_that_is_not_positive_definite() {
        assert!(matches!(
            SamplingCovariance::vcalc(&[1.0, 2.0], &[0, 0], 1.5),
            Err(StatsError::InvalidRho { .. })
        ));
        assert!(matches!(
            SamplingCovariance::vcalc(&[1.0, 2.0], &[0, 0], -1.0),
            Err(StatsError::SamplingCovarianceNotPositiveDefinite { row: 0 })
        ));
        let v = SamplingCovariance::vcalc(&[1.0, 4.0, 9.0], &[5, 5, 7], 0.6).expect("valid");
        assert_eq!(v.blocks()[0].1[(0, 1)], 0.6 * 2.0);
        assert!(!v.is_diagonal());
    }
}
