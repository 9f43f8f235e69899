//! One stable sort of study indices for the whole program. Each `sort_by` with a closure of
//! its own compiles the standard library's sort anew (about 4.5 KB of Wasm per call site:
//! 250 sort functions and 120 KB in the web bundle before), so the index sorts of the plots,
//! tables and the engine all go through this one, which takes the comparison as a trait
//! object.

use std::cmp::Ordering;

/// Sorts `indices` by `compare`, keeping the order of equal ones (a stable sort).
pub fn sort_indices_by(indices: &mut [usize], compare: &dyn Fn(usize, usize) -> Ordering) {
    indices.sort_by(|&a, &b| compare(a, b));
}

/// Sorts `indices` by `key` ascending in IEEE total order (NaN after +∞), stable.
pub fn sort_indices_by_key(indices: &mut [usize], key: &dyn Fn(usize) -> f64) {
    sort_indices_by(indices, &|a, b| key(a).total_cmp(&key(b)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_keep_their_order_and_nan_sorts_last() {
        let keys = [2.0, f64::NAN, 1.0, 2.0, -0.5, 1.0];
        let mut order: Vec<usize> = (0..keys.len()).collect();
        sort_indices_by_key(&mut order, &|i| keys[i]);
        assert_eq!(order, [4, 2, 5, 0, 3, 1]);
        sort_indices_by(&mut order, &|a, b| keys[b].total_cmp(&keys[a]));
        assert_eq!(order, [1, 0, 3, 2, 5, 4]);
    }
}
