//! The arrangements a permutation test runs through: classes of identical rows of X, the count
//! of distinct arrangements, the lexicographic walk through them (and a jump to the n-th, so
//! that a part of an exact test can start in the middle), and unbiased shuffles.

use std::collections::HashMap;

use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;

/// For each row of X, the index of the first row identical to it: one pass with a hash map
/// from the row's values (−0 read as 0, so equal numbers hash alike), O(k·p).
pub(super) fn row_classes(x: &nalgebra::DMatrix<f64>) -> Vec<usize> {
    let mut first: HashMap<Vec<u64>, usize> = HashMap::with_capacity(x.nrows());
    (0..x.nrows())
        .map(|i| {
            let key = x.row(i).iter().map(|v| (v + 0.0).to_bits()).collect();
            *first.entry(key).or_insert(i)
        })
        .collect()
}

/// The number of distinct arrangements of `labels`, k!/∏ mᵢ! for multiplicities mᵢ, or `None`
/// when it does not fit in a u64. Built as a product of binomial coefficients, one factor at a
/// time, so every intermediate value is an integer.
pub(super) fn multinomial(labels: &[usize]) -> Option<u64> {
    let mut sorted = labels.to_vec();
    sorted.sort_unstable();
    let mut acc: u128 = 1;
    let mut n: u128 = 0;
    let mut run: u128 = 0;
    for (i, label) in sorted.iter().enumerate() {
        run = if i > 0 && sorted[i - 1] == *label {
            run + 1
        } else {
            1
        };
        n += 1;
        acc = acc.checked_mul(n)? / run;
        if acc > u128::from(u64::MAX) {
            return None;
        }
    }
    u64::try_from(acc).ok()
}

/// 2ᵏ, or `None` when it does not fit in a u64.
pub(super) fn two_to_the(k: usize) -> Option<u64> {
    u32::try_from(k).ok().and_then(|k| 1u64.checked_shl(k))
}

/// Advances `order` to the next distinct permutation in lexicographic order (repeated values
/// are arranged once; wraps to the first after the last, which the caller never reaches because
/// it stops after counting them all).
pub(super) fn next_permutation(order: &mut [usize]) {
    let n = order.len();
    let Some(i) = (1..n).rev().find(|&i| order[i - 1] < order[i]) else {
        order.reverse();
        return;
    };
    let j = (i..n)
        .rev()
        .find(|&j| order[j] > order[i - 1])
        .expect("order[i] > order[i - 1]");
    order.swap(i - 1, j);
    order[i..].reverse();
}

/// The `rank`-th distinct arrangement of `labels` in lexicographic order (rank 0 is `labels`
/// sorted), or `None` when there are not that many. Each position takes the smallest label
/// whose arrangements of the rest, counted as A·mᵥ/n for the A arrangements of the n labels
/// left of which mᵥ equal that label, still cover the remaining rank.
pub(super) fn nth_arrangement(labels: &[usize], mut rank: u64) -> Option<Vec<usize>> {
    let mut left: Vec<(usize, u64)> = Vec::new();
    let mut sorted = labels.to_vec();
    sorted.sort_unstable();
    for label in sorted {
        match left.last_mut() {
            Some((l, m)) if *l == label => *m += 1,
            _ => left.push((label, 1)),
        }
    }
    let mut arrangements = u128::from(multinomial(labels)?);
    if u128::from(rank) >= arrangements {
        return None;
    }
    let mut out = Vec::with_capacity(labels.len());
    for n in (1..=labels.len() as u128).rev() {
        for slot in 0..left.len() {
            let (label, m) = left[slot];
            let with = arrangements * u128::from(m) / n;
            if u128::from(rank) < with {
                out.push(label);
                arrangements = with;
                if m == 1 {
                    left.remove(slot);
                } else {
                    left[slot].1 -= 1;
                }
                break;
            }
            // `with` ≤ arrangements ≤ u64::MAX, and rank ≥ with here.
            rank -= with as u64;
        }
    }
    Some(out)
}

/// Fisher–Yates shuffle with unbiased bounded draws.
pub(super) fn shuffle(order: &mut [usize], rng: &mut ChaCha8Rng) {
    for i in (1..order.len()).rev() {
        let j = below(rng, i as u64 + 1) as usize;
        order.swap(i, j);
    }
}

/// A uniform integer in 0..n (n ≥ 1): draws below 2⁶⁴ mod n are rejected so every residue is
/// equally likely.
fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    let reject_below = n.wrapping_neg() % n;
    loop {
        let x = rng.next_u64();
        if x >= reject_below {
            return x % n;
        }
    }
}

#[cfg(test)]
mod tests {
    use rand_core::SeedableRng;

    use super::*;

    #[test]
    fn multinomial_counts_distinct_arrangements() {
        assert_eq!(multinomial(&[0, 1, 2, 3]), Some(24));
        // Two identical rows among six: 6!/2! = 360 (the BCG trials 1 and 6 share a latitude).
        assert_eq!(multinomial(&[0, 1, 2, 3, 4, 0]), Some(360));
        assert_eq!(multinomial(&[0, 0, 0, 1, 1]), Some(10));
        assert_eq!(
            multinomial(&(0..21).collect::<Vec<_>>()),
            None,
            "21! overflows u64"
        );
    }

    #[test]
    fn identical_rows_share_the_first_index() {
        let x = nalgebra::DMatrix::from_row_slice(
            5,
            2,
            &[1.0, 0.0, 1.0, 2.0, 1.0, -0.0, 1.0, 2.0, 1.0, 3.0],
        );
        assert_eq!(row_classes(&x), vec![0, 1, 0, 1, 4]);
    }

    #[test]
    fn next_permutation_visits_each_distinct_arrangement_once() {
        let mut order = vec![0, 0, 1, 2];
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..12 {
            assert!(seen.insert(order.clone()), "{order:?} repeated");
            next_permutation(&mut order);
        }
        assert_eq!(
            order,
            vec![0, 0, 1, 2],
            "wraps to the first after 4!/2! = 12"
        );
    }

    #[test]
    fn the_nth_arrangement_is_the_nth_step_of_the_walk() {
        let labels = [2, 0, 1, 0, 2];
        let mut order = vec![0, 0, 1, 2, 2];
        let count = multinomial(&labels).expect("small");
        assert_eq!(count, 30);
        for rank in 0..count {
            assert_eq!(
                nth_arrangement(&labels, rank),
                Some(order.clone()),
                "rank {rank}"
            );
            next_permutation(&mut order);
        }
        assert_eq!(nth_arrangement(&labels, count), None, "past the last");
    }

    #[test]
    fn bounded_draws_cover_the_range_evenly() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut counts = [0usize; 6];
        for _ in 0..60_000 {
            counts[below(&mut rng, 6) as usize] += 1;
        }
        // Each count is Binomial(60 000, 1/6): mean 10 000, SD about 91.
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
    }
}
