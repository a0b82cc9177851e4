//! Vectors over F_r, the BLS12-381 scalar field: conversions and element-wise arithmetic.

use crate::error::{KernelError, Result};
use crate::{Fr, PAR_MIN_LEN};
use ark_ff::{BigInteger, One, PrimeField, Zero};
use rayon::prelude::*;

/// The field element of a signed integer: negative x maps to r − |x|.
pub fn from_i64(x: i64) -> Fr {
    let magnitude = Fr::from(x.unsigned_abs());
    if x < 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// x·R⁻¹ (R the Montgomery radix): the element whose Montgomery form is |x|, negated for x < 0,
/// made without the multiplication `from_i64` costs. Linear combinations of int64 entries then
/// cost one multiplication per entry and one by `montgomery_radix()` at the end.
pub fn from_i64_unscaled(x: i64) -> Fr {
    let magnitude = Fr::new_unchecked(ark_ff::BigInt([x.unsigned_abs(), 0, 0, 0]));
    if x < 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// R as a field element: `from_i64_unscaled(x)·montgomery_radix() = from_i64(x)`.
pub fn montgomery_radix() -> Fr {
    Fr::new_unchecked(Fr::R2)
}

/// The signed integer whose field element this is, if it lies in int64's range.
pub fn to_i64(x: &Fr) -> Option<i64> {
    let fits = |v: &Fr| {
        let limbs = v.into_bigint().0;
        (limbs[1] == 0 && limbs[2] == 0 && limbs[3] == 0).then_some(limbs[0])
    };
    if let Some(v) = fits(x).filter(|&v| v <= i64::MAX as u64) {
        return Some(v as i64);
    }
    // r − |x| for a negative x: its magnitude is −x, at most 2^63.
    fits(&-*x).filter(|&v| v <= 1u64 << 63).map(|v| (v as i128).wrapping_neg() as i64)
}

pub fn vec_from_i64(values: &[i64]) -> Vec<Fr> {
    values.par_iter().with_min_len(PAR_MIN_LEN).map(|&v| from_i64(v)).collect()
}

pub fn vec_to_i64(values: &[Fr]) -> Result<Vec<i64>> {
    values.par_iter().with_min_len(PAR_MIN_LEN).enumerate().map(|(index, v)| to_i64(v).ok_or(KernelError::OutOfRange { index })).collect()
}

/// Canonical 32-byte big-endian encoding (EVM word order).
pub fn to_bytes_be(x: &Fr) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&x.into_bigint().to_bytes_be());
    out
}

/// Decodes a canonical 32-byte big-endian encoding; a value ≥ r is rejected, not reduced.
pub fn from_bytes_be(bytes: &[u8; 32]) -> Option<Fr> {
    let mut limbs = [0u64; 4];
    for (i, chunk) in bytes.chunks_exact(8).enumerate() {
        limbs[3 - i] = u64::from_be_bytes(chunk.try_into().expect("8-byte chunk"));
    }
    Fr::from_bigint(ark_ff::BigInt(limbs))
}

fn check_lengths(a: &[Fr], b: &[Fr]) -> Result<()> {
    if a.len() != b.len() {
        return Err(KernelError::LengthMismatch { what: "second operand", got: b.len(), expected: a.len() });
    }
    Ok(())
}

fn zip_map(a: &[Fr], b: &[Fr], op: impl Fn(&Fr, &Fr) -> Fr + Sync) -> Result<Vec<Fr>> {
    check_lengths(a, b)?;
    Ok(a.par_iter().with_min_len(PAR_MIN_LEN).zip(b).map(|(x, y)| op(x, y)).collect())
}

pub fn add(a: &[Fr], b: &[Fr]) -> Result<Vec<Fr>> {
    zip_map(a, b, |x, y| *x + y)
}

pub fn sub(a: &[Fr], b: &[Fr]) -> Result<Vec<Fr>> {
    zip_map(a, b, |x, y| *x - y)
}

pub fn mul(a: &[Fr], b: &[Fr]) -> Result<Vec<Fr>> {
    zip_map(a, b, |x, y| *x * y)
}

pub fn scale(a: &[Fr], s: Fr) -> Vec<Fr> {
    a.par_iter().with_min_len(PAR_MIN_LEN).map(|x| *x * s).collect()
}

pub fn sum(a: &[Fr]) -> Fr {
    a.par_iter().with_min_len(PAR_MIN_LEN).copied().sum()
}

pub fn inner_product(a: &[Fr], b: &[Fr]) -> Result<Fr> {
    check_lengths(a, b)?;
    Ok(a.par_iter().with_min_len(PAR_MIN_LEN).zip(b).map(|(x, y)| *x * y).sum())
}

/// Inverts every element with one field inversion (Montgomery's trick); zero is an error.
pub fn batch_inverse(a: &[Fr]) -> Result<Vec<Fr>> {
    if let Some(index) = a.iter().position(Zero::is_zero) {
        return Err(KernelError::ZeroInverse { index });
    }
    let mut out = a.to_vec();
    ark_ff::batch_inversion(&mut out);
    debug_assert!(out.first().is_none_or(|x| (*x * a[0]).is_one()));
    Ok(out)
}

/// The modulus r in decimal, for Python's own integer arithmetic.
pub fn modulus_decimal() -> String {
    Fr::MODULUS.to_string()
}

/// Uniform field elements from the operating system's randomness (blinding factors).
pub fn random(n: usize) -> Vec<Fr> {
    use ark_ff::UniformRand;
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::from_entropy();
    (0..n).map(|_| Fr::rand(&mut rng)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::One;
    use ark_std::UniformRand;
    use rand::SeedableRng;

    fn rng() -> rand_chacha::ChaCha20Rng {
        rand_chacha::ChaCha20Rng::seed_from_u64(7)
    }

    #[test]
    fn int64_round_trip_at_the_edges() {
        for v in [0, 1, -1, i64::MAX, i64::MIN, 12345, -98765] {
            assert_eq!(to_i64(&from_i64(v)), Some(v), "{v}");
        }
        assert_eq!(from_i64(-1) + Fr::one(), Fr::zero());
        assert_eq!(to_i64(&(from_i64(i64::MAX) + Fr::one())), None);
        assert_eq!(to_i64(&(from_i64(i64::MIN) - Fr::one())), None);
    }

    #[test]
    fn unscaled_int64_times_the_radix_is_the_int64() {
        for v in [0, 1, -1, i64::MAX, i64::MIN, 12345, -98765, 1 << 40] {
            assert_eq!(from_i64_unscaled(v) * montgomery_radix(), from_i64(v), "{v}");
        }
        assert_ne!(from_i64_unscaled(2), from_i64(2));
    }

    #[test]
    fn bytes_round_trip_and_reject_non_canonical() {
        let mut rng = rng();
        for _ in 0..100 {
            let x = Fr::rand(&mut rng);
            assert_eq!(from_bytes_be(&to_bytes_be(&x)), Some(x));
        }
        let modulus: [u8; 32] = Fr::MODULUS.to_bytes_be().try_into().unwrap();
        assert_eq!(from_bytes_be(&modulus), None);
        assert_eq!(from_bytes_be(&[0xff; 32]), None);
        assert_eq!(to_bytes_be(&Fr::one())[31], 1);
    }

    #[test]
    fn arithmetic_agrees_with_scalar_operations() {
        let mut rng = rng();
        for n in [1usize, 3, 1000, 5000] {
            let a: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
            let b: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
            let s = Fr::rand(&mut rng);
            let product = mul(&a, &b).unwrap();
            assert_eq!(inner_product(&a, &b).unwrap(), product.iter().sum::<Fr>());
            assert_eq!(sum(&add(&a, &b).unwrap()), sum(&a) + sum(&b));
            assert_eq!(sub(&a, &a).unwrap(), vec![Fr::zero(); n]);
            assert_eq!(scale(&a, s)[n - 1], a[n - 1] * s);
            let inv = batch_inverse(&a).unwrap();
            assert!(a.iter().zip(&inv).all(|(x, y)| (*x * y).is_one()));
        }
    }

    #[test]
    fn errors_instead_of_panics() {
        let a = vec![Fr::one(); 3];
        assert!(matches!(add(&a, &a[..2]), Err(KernelError::LengthMismatch { .. })));
        assert_eq!(batch_inverse(&[Fr::one(), Fr::zero()]), Err(KernelError::ZeroInverse { index: 1 }));
        assert_eq!(vec_to_i64(&[Fr::one(), -from_i64(i64::MIN) + Fr::one()]), Err(KernelError::OutOfRange { index: 1 }));
    }
}
