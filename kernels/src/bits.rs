//! Packed bit tensors: the two's-complement decomposition of int64 tensors, one u64 word per
//! element, and the sumcheck operations on them that never expand bits to field elements first.
//!
//! The logical tensor is `[n, width]` with entry (i, j) = bit j of element i, so the bit index is
//! the fastest axis: the lowest log2(width) multilinear variables index the bit.

use crate::error::{KernelError, Result};
use crate::mle::{check_power_of_two, eq_vector};
use crate::{Fr, PAR_MIN_LEN};
use ark_ff::{One, Zero};
use rayon::prelude::*;

fn check_width(width: u32) -> Result<()> {
    if !(1..=64).contains(&width) {
        return Err(KernelError::InvalidArgument(format!("bit width {width} is outside 1..=64")));
    }
    Ok(())
}

fn mask(width: u32) -> u64 {
    if width == 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// Packs each value's `width`-bit two's complement; a value that needs more bits is an error.
pub fn decompose(values: &[i64], width: u32) -> Result<Vec<u64>> {
    check_width(width)?;
    let (lo, hi) = if width == 64 { (i64::MIN, i64::MAX) } else { (-(1i64 << (width - 1)), (1i64 << (width - 1)) - 1) };
    values
        .par_iter()
        .with_min_len(PAR_MIN_LEN)
        .enumerate()
        .map(|(index, &value)| {
            if value < lo || value > hi {
                return Err(KernelError::BitWidth { index, value, width });
            }
            Ok(value as u64 & mask(width))
        })
        .collect()
}

fn check_words(bits: &[u64], width: u32) -> Result<()> {
    check_width(width)?;
    if let Some(index) = bits.iter().position(|w| w & !mask(width) != 0) {
        return Err(KernelError::InvalidArgument(format!("word {index} has bits set above width {width}")));
    }
    Ok(())
}

fn bit_at(bits: &[u64], width: u32, flat: usize) -> usize {
    ((bits[flat / width as usize] >> (flat % width as usize)) & 1) as usize
}

/// The bits as field elements, flat index i·width + j.
pub fn to_field(bits: &[u64], width: u32) -> Result<Vec<Fr>> {
    check_words(bits, width)?;
    let n = bits.len() * width as usize;
    let values = [Fr::zero(), Fr::one()];
    Ok((0..n).into_par_iter().with_min_len(PAR_MIN_LEN).map(|f| values[bit_at(bits, width, f)]).collect())
}

/// Binds variable 0 of the logical bit tensor (flat length n·width, a power of two) to r.
/// A pair of bits (b0, b1) folds to b0 + r(b1 − b0), one of four constants: no multiplication.
pub fn fold(bits: &[u64], width: u32, r: Fr) -> Result<Vec<Fr>> {
    check_words(bits, width)?;
    let n = bits.len() * width as usize;
    check_power_of_two("bit tensor", n)?;
    if n < 2 {
        return Err(KernelError::InvalidArgument("a single bit has no variable to fold".into()));
    }
    let table = [Fr::zero(), Fr::one() - r, r, Fr::one()]; // indexed by b0 + 2·b1
    Ok((0..n / 2)
        .into_par_iter()
        .with_min_len(PAR_MIN_LEN)
        .map(|j| table[bit_at(bits, width, 2 * j) + 2 * bit_at(bits, width, 2 * j + 1)])
        .collect())
}

/// Binds every element variable to `point` (n = 2^len(point)), leaving the `width` values
/// Σ_i eq(point, i)·bit_j(i): additions of eq entries only.
pub fn partial_evaluate(bits: &[u64], width: u32, point: &[Fr]) -> Result<Vec<Fr>> {
    check_words(bits, width)?;
    if bits.len() != 1usize << point.len() {
        return Err(KernelError::LengthMismatch { what: "bit tensor", got: bits.len(), expected: 1 << point.len() });
    }
    let eq = eq_vector(point);
    let w = width as usize;
    Ok(bits
        .par_iter()
        .zip(&eq)
        .with_min_len(PAR_MIN_LEN)
        .fold(|| vec![Fr::zero(); w], |mut acc, (&word, e)| {
            let mut rest = word;
            while rest != 0 {
                acc[rest.trailing_zeros() as usize] += e;
                rest &= rest - 1;
            }
            acc
        })
        .reduce(|| vec![Fr::zero(); w], |a, b| a.iter().zip(&b).map(|(x, y)| *x + y).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mle::{evaluate, fold as fold_field};
    use ark_std::UniformRand;
    use rand::{Rng, SeedableRng};

    fn random_words(n: usize, width: u32, rng: &mut impl Rng) -> Vec<u64> {
        let lo = if width == 64 { i64::MIN } else { -(1i64 << (width - 1)) };
        let hi = if width == 64 { i64::MAX } else { (1i64 << (width - 1)) - 1 };
        let values: Vec<i64> = (0..n).map(|_| rng.gen_range(lo..=hi)).collect();
        decompose(&values, width).unwrap()
    }

    #[test]
    fn decomposition_recomposes_in_twos_complement() {
        let values = [0i64, 1, -1, 5, -6, 127, -128];
        let words = decompose(&values, 8).unwrap();
        for (v, w) in values.iter().zip(&words) {
            let recomposed = (0..8).map(|j| ((w >> j) & 1) as i64 * if j == 7 { -128 } else { 1 << j }).sum::<i64>();
            assert_eq!(recomposed, *v);
        }
        assert_eq!(decompose(&[i64::MIN, -1], 64).unwrap(), vec![1u64 << 63, u64::MAX]);
        assert_eq!(decompose(&[1, 128], 8), Err(KernelError::BitWidth { index: 1, value: 128, width: 8 }));
        assert_eq!(decompose(&[-129], 8), Err(KernelError::BitWidth { index: 0, value: -129, width: 8 }));
    }

    #[test]
    fn packed_operations_agree_with_the_field_table() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for (n, width) in [(1usize, 2u32), (4, 1), (8, 16), (32, 64), (64, 8)] {
            let words = random_words(n, width, &mut rng);
            let table = to_field(&words, width).unwrap();
            assert_eq!(table.len(), n * width as usize);
            let r = Fr::rand(&mut rng);
            assert_eq!(fold(&words, width, r).unwrap(), fold_field(&table, r).unwrap());
            let point: Vec<Fr> = (0..n.trailing_zeros()).map(|_| Fr::rand(&mut rng)).collect();
            let partial = partial_evaluate(&words, width, &point).unwrap();
            let inner: Vec<Fr> = (0..width.trailing_zeros()).map(|_| Fr::rand(&mut rng)).collect();
            let full: Vec<Fr> = inner.iter().chain(&point).copied().collect();
            assert_eq!(evaluate(&partial, &inner).unwrap(), evaluate(&table, &full).unwrap());
        }
    }

    #[test]
    fn malformed_words_are_errors() {
        assert!(to_field(&[0b100], 2).is_err());
        assert!(decompose(&[0], 0).is_err());
        assert!(fold(&[0, 0, 0], 2, Fr::one()).is_err());
        assert!(partial_evaluate(&[0, 0, 0], 2, &[Fr::one()]).is_err());
    }
}
