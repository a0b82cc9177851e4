//! Exact integer matrix products for the trainer: int64 inputs, 128-bit accumulation, and the
//! widest two's-complement width seen, which the trainer checks against the range proof's width.

use crate::error::{KernelError, Result};
use rayon::prelude::*;

/// Bits of two's complement needed for v: the smallest w with −2^(w−1) ≤ v < 2^(w−1).
pub fn twos_complement_bits(v: i128) -> u32 {
    let magnitude_bits = 128 - if v < 0 { (!v).leading_zeros() } else { v.leading_zeros() };
    magnitude_bits + 1
}

fn magnitude_bits(values: &[i64]) -> u32 {
    let max = values.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0);
    64 - max.leading_zeros()
}

/// The dot product of a row and a (transposed) column in i128; `checked` guards against i128
/// overflow when the operands' widths do not rule it out.
fn dot(row: &[i64], col: &[i64], checked: bool) -> Option<i128> {
    if !checked {
        return Some(row.iter().zip(col).map(|(&x, &y)| x as i128 * y as i128).sum());
    }
    row.iter().zip(col).try_fold(0i128, |acc, (&x, &y)| acc.checked_add(x as i128 * y as i128))
}

/// C = A·B for row-major A (m×k) and B (k×n), exactly. Returns C and the widest entry's
/// two's-complement bit width; an entry outside int64 is an error naming it.
pub fn matmul_i64(a: &[i64], b: &[i64], m: usize, k: usize, n: usize) -> Result<(Vec<i64>, u32)> {
    if a.len() != m * k {
        return Err(KernelError::LengthMismatch { what: "left matrix", got: a.len(), expected: m * k });
    }
    if b.len() != k * n {
        return Err(KernelError::LengthMismatch { what: "right matrix", got: b.len(), expected: k * n });
    }
    // A product of two entries fits in |x||y| < 2^(bits_a + bits_b); k of them add log2(k) bits.
    let bound = magnitude_bits(a) + magnitude_bits(b) + usize::BITS - k.leading_zeros();
    let checked = bound >= 127;
    let bt: Vec<i64> = (0..n * k).map(|idx| b[(idx % k) * n + idx / k]).collect();
    let wide: Vec<Option<i128>> =
        (0..m * n).into_par_iter().with_min_len(64).map(|idx| dot(&a[(idx / n) * k..][..k], &bt[(idx % n) * k..][..k], checked)).collect();
    let mut out = Vec::with_capacity(m * n);
    let mut max_bits = 1;
    for (idx, value) in wide.into_iter().enumerate() {
        let (row, col) = (idx / n, idx % n);
        let value = value.ok_or(KernelError::Overflow { row, col, bits: 128 })?;
        let bits = twos_complement_bits(value);
        max_bits = max_bits.max(bits);
        out.push(i64::try_from(value).map_err(|_| KernelError::Overflow { row, col, bits })?);
    }
    Ok((out, max_bits))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn naive(a: &[i64], b: &[i64], m: usize, k: usize, n: usize) -> Vec<i128> {
        (0..m * n).map(|idx| (0..k).map(|l| a[(idx / n) * k + l] as i128 * b[l * n + idx % n] as i128).sum()).collect()
    }

    #[test]
    fn widths() {
        assert_eq!(twos_complement_bits(0), 1);
        assert_eq!(twos_complement_bits(-1), 1);
        assert_eq!(twos_complement_bits(1), 2);
        assert_eq!(twos_complement_bits(-2), 2);
        assert_eq!(twos_complement_bits(i64::MAX as i128), 64);
        assert_eq!(twos_complement_bits(i64::MIN as i128), 64);
        assert_eq!(twos_complement_bits(i64::MAX as i128 + 1), 65);
    }

    #[test]
    fn agrees_with_naive_product() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for (m, k, n) in [(1, 1, 1), (3, 5, 7), (64, 33, 17)] {
            let a: Vec<i64> = (0..m * k).map(|_| rng.gen_range(-(1 << 40)..1 << 40)).collect();
            let b: Vec<i64> = (0..k * n).map(|_| rng.gen_range(-(1 << 20)..1 << 20)).collect();
            let (c, bits) = matmul_i64(&a, &b, m, k, n).unwrap();
            let expected = naive(&a, &b, m, k, n);
            assert!(c.iter().zip(&expected).all(|(x, y)| *x as i128 == *y));
            assert_eq!(bits, expected.iter().map(|v| twos_complement_bits(*v)).max().unwrap());
        }
    }

    #[test]
    fn overflow_is_an_error_naming_the_entry() {
        let a = vec![1i64 << 40, 0, 0, 1];
        let b = vec![1i64 << 30, 1, 1, 1];
        assert_eq!(matmul_i64(&a, &b, 2, 2, 2), Err(KernelError::Overflow { row: 0, col: 0, bits: 72 }));
        let big = vec![i64::MIN; 4];
        assert!(matches!(matmul_i64(&big, &big, 1, 4, 1), Err(KernelError::Overflow { bits: 128, .. })));
        assert!(matches!(matmul_i64(&a, &b, 2, 3, 2), Err(KernelError::LengthMismatch { .. })));
    }
}
