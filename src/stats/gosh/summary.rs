//! The running summary of a GOSH analysis: per statistic (the first coefficient, I², τ², QE)
//! its minimum, maximum and mean over the subsets fitted, in O(number of subsets / [`BLOCK`])
//! memory.
//!
//! Floating-point addition is not associative, so a mean summed in another order can differ in
//! its last digits. The sums are therefore kept per block of [`BLOCK`] consecutive subsets,
//! numbered by their place in the whole analysis, and the blocks are added in order. An
//! analysis split into parts on block boundaries (one part per Web Worker) then merges into
//! exactly the summary the whole analysis gives in one go, whatever the number of parts.

use super::GoshFit;

/// Subsets per block of sums.
pub const BLOCK: usize = 1024;

/// The sums of the statistics over the subsets of one block that were fitted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockSums {
    /// The block's number: its subsets are `block · BLOCK ..` in the whole analysis.
    pub block: usize,
    /// The sums of the first coefficient, I², τ² and QE.
    pub sums: [f64; 4],
}

/// The minimum, maximum and mean of one statistic over the subsets fitted so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean value.
    pub mean: f64,
}

/// A running summary of a GOSH analysis (or of a part of one).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GoshSummary {
    /// Subsets fitted.
    pub count: usize,
    /// The smallest first coefficient, I², τ² and QE (meaningless while `count` is 0).
    pub mins: [f64; 4],
    /// The largest of each.
    pub maxs: [f64; 4],
    /// The sums by block, in ascending block order.
    pub blocks: Vec<BlockSums>,
}

impl GoshSummary {
    /// Adds the fit of subset `index` (its place in the whole analysis). Subsets come in
    /// ascending order.
    pub fn add(&mut self, index: usize, fit: &GoshFit) {
        let values = [fit.estimates[0], fit.i2, fit.tau2, fit.qe];
        let block = index / BLOCK;
        match self.blocks.last_mut() {
            Some(last) if last.block == block => {
                for (sum, v) in last.sums.iter_mut().zip(values) {
                    *sum += v;
                }
            }
            _ => self.blocks.push(BlockSums {
                block,
                sums: values,
            }),
        }
        for (j, v) in values.into_iter().enumerate() {
            if self.count == 0 {
                self.mins[j] = v;
                self.maxs[j] = v;
            }
            self.mins[j] = self.mins[j].min(v);
            self.maxs[j] = self.maxs[j].max(v);
        }
        self.count += 1;
    }

    /// The summary of two parts of one analysis together. Parts split on block boundaries give
    /// exactly the summary of the whole; a block both parts hold (a split inside a block) is
    /// added in the order `self`, `other`.
    pub fn merge(&self, other: &Self) -> Self {
        if self.count == 0 {
            return other.clone();
        }
        if other.count == 0 {
            return self.clone();
        }
        let mut blocks = Vec::with_capacity(self.blocks.len() + other.blocks.len());
        let (mut a, mut b) = (
            self.blocks.iter().peekable(),
            other.blocks.iter().peekable(),
        );
        while let (Some(&&x), Some(&&y)) = (a.peek(), b.peek()) {
            if x.block < y.block {
                blocks.push(x);
                a.next();
            } else if y.block < x.block {
                blocks.push(y);
                b.next();
            } else {
                let mut sums = x.sums;
                for (s, v) in sums.iter_mut().zip(y.sums) {
                    *s += v;
                }
                blocks.push(BlockSums {
                    block: x.block,
                    sums,
                });
                a.next();
                b.next();
            }
        }
        blocks.extend(a.copied());
        blocks.extend(b.copied());
        let pair = |f: fn(f64, f64) -> f64, x: [f64; 4], y: [f64; 4]| {
            std::array::from_fn(|j| f(x[j], y[j]))
        };
        Self {
            count: self.count + other.count,
            mins: pair(f64::min, self.mins, other.mins),
            maxs: pair(f64::max, self.maxs, other.maxs),
            blocks,
        }
    }

    /// Subsets added.
    pub fn count(&self) -> usize {
        self.count
    }

    fn spread(&self, j: usize) -> Option<Spread> {
        (self.count > 0).then(|| Spread {
            min: self.mins[j],
            max: self.maxs[j],
            mean: self.blocks.iter().fold(0.0, |s, b| s + b.sums[j]) / self.count as f64,
        })
    }

    /// The first coefficient (the pooled effect without moderators); `None` before any subset.
    pub fn estimate(&self) -> Option<Spread> {
        self.spread(0)
    }

    /// I².
    pub fn i2(&self) -> Option<Spread> {
        self.spread(1)
    }

    /// τ².
    pub fn tau2(&self) -> Option<Spread> {
        self.spread(2)
    }

    /// QE.
    pub fn qe(&self) -> Option<Spread> {
        self.spread(3)
    }
}
