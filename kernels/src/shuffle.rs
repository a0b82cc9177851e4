//! A Keccak-driven Fisher–Yates permutation of `0..n`, the same on every machine (the batch
//! schedule of `zkdl/data.py` draws one per epoch; this crate knows nothing of what it is for).
//!
//! Words: `w_c = K(prefix ‖ be64(c))` for c = 0, 1, 2, … in order, read as 256-bit big-endian
//! integers, K = Keccak-256 (the EVM's). For i = n−1 down to 1, with bound b = i + 1: draw words
//! until one lies below `2^256 − (2^256 mod b)` (so that `w mod b` is uniform), then swap entries
//! i and `w mod b`.

use sha3::{Digest, Keccak256};

/// The permutation of `0..n` drawn from the words under `prefix`.
pub fn permutation(prefix: &[u8], n: u64) -> Vec<u64> {
    let mut perm: Vec<u64> = (0..n).collect();
    let mut counter = 0u64;
    for i in (1..n).rev() {
        let bound = i + 1;
        let tail = pow256_mod(bound);
        let j = loop {
            let w = word(prefix, counter);
            counter += 1;
            if !in_tail(&w, tail) {
                break mod_small(&w, bound);
            }
        };
        perm.swap(i as usize, j as usize);
    }
    perm
}

fn word(prefix: &[u8], counter: u64) -> [u8; 32] {
    let mut hasher = Keccak256::new();
    hasher.update(prefix);
    hasher.update(counter.to_be_bytes());
    hasher.finalize().into()
}

/// 2^256 mod m (m ≥ 1): 2^128 mod m squared, every product below 2^128.
fn pow256_mod(m: u64) -> u64 {
    let m = u128::from(m);
    let r128 = (u128::MAX % m + 1) % m;
    ((r128 * r128) % m) as u64
}

/// Whether w ≥ 2^256 − tail (tail < 2^64): the top 192 bits all ones and the low 64 bits + tail carry.
fn in_tail(w: &[u8; 32], tail: u64) -> bool {
    let low = u64::from_be_bytes(w[24..].try_into().expect("8 bytes"));
    tail != 0 && w[..24].iter().all(|&b| b == 0xff) && low.checked_add(tail).is_none()
}

/// w mod m, byte by byte (each partial remainder below m < 2^64, so shifting by 8 fits u128).
fn mod_small(w: &[u8; 32], m: u64) -> u64 {
    let m = u128::from(m);
    w.iter().fold(0u128, |acc, &byte| ((acc << 8) | u128::from(byte)) % m) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_is_a_permutation() {
        let mut perm = permutation(b"test", 1000);
        perm.sort_unstable();
        assert_eq!(perm, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn small_cases_are_well_defined() {
        assert!(permutation(b"p", 0).is_empty());
        assert_eq!(permutation(b"p", 1), vec![0]);
    }

    #[test]
    fn the_tail_is_exactly_the_rejected_range() {
        assert_eq!(pow256_mod(3), 1); // 2^256 = (3 − 1)^256 ≡ 1 (mod 3)
        assert_eq!(pow256_mod(1 << 20), 0);
        let mut top = [0xff; 32];
        assert!(in_tail(&top, 1)); // 2^256 − 1 ≥ 2^256 − 1
        top[31] = 0xfe;
        assert!(!in_tail(&top, 1) && in_tail(&top, 2));
        assert!(!in_tail(&[0xff; 32], 0));
    }

    #[test]
    fn the_remainder_is_the_big_integers() {
        let mut w = [0u8; 32];
        w[0] = 1; // 2^248
        assert_eq!(mod_small(&w, 1_000_003), (0..248).fold(1u64, |r, _| r * 2 % 1_000_003));
    }
}
