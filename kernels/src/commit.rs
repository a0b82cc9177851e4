//! Pedersen vector commitments and Hyrax row commitments over G1.
//!
//! A `CommitKey` for row length g holds g generators and a blinding generator, all from
//! hash-to-curve so that nobody knows a discrete-log relation between them:
//!
//! * `G_j = hash_to_g1(domain_tag, b"zkdl/G" ‖ j as u64 big-endian)` for j < g,
//! * `H   = hash_to_g1(domain_tag, b"zkdl/H")`.
//!
//! A flat vector t of length m·g is m rows of g consecutive entries; row i commits to
//! `C_i = Σ_j t[i·g + j]·G_j + ρ_i·H`. The blinding term is one scalar multiplication per row
//! (GLV), kept out of the row's MSM so that small-scalar rows stay on their short windows.

use crate::curve::{self, subset_sum};
use crate::error::{KernelError, Result};
use crate::{Fr, G1Affine, G1Projective};
use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_ff::Zero;
use ark_ff::PrimeField;
use rayon::prelude::*;
use std::sync::OnceLock;

/// The largest row length accepted: beyond it the key alone would not fit in memory sensibly.
pub const MAX_ROW_LENGTH: usize = 1 << 24;

/// Bits [flat, flat + 8) of the flat bit tensor as a byte (flat is a multiple of 8).
fn byte_at(bits: &[u64], width: usize, flat: usize) -> usize {
    if width >= 8 {
        ((bits[flat / width] >> (flat % width)) & 0xff) as usize
    } else {
        (0..8).fold(0, |acc, k| acc | ((((bits[(flat + k) / width] >> ((flat + k) % width)) & 1) as usize) << k))
    }
}

/// The message hashed to the j-th generator.
pub fn generator_message(j: u64) -> Vec<u8> {
    [b"zkdl/G".as_slice(), &j.to_be_bytes()].concat()
}

/// The message hashed to the blinding generator.
pub const BLINDING_MESSAGE: &[u8] = b"zkdl/H";

/// Generators for rows of `row_length` entries plus the blinding generator, cached affine.
#[derive(Clone, Debug)]
pub struct CommitKey {
    generators: Vec<G1Affine>,
    blinding: G1Affine,
    /// Subset sums of each group of 8 consecutive generators (256 per group), built on first use
    /// by `commit_rows_bits`: one mixed addition per 8 bits instead of one per set bit.
    byte_tables: OnceLock<Vec<G1Affine>>,
}

/// Bit rows use the byte tables from this many rows on (the tables cost ~32 additions per generator).
const BYTE_TABLE_MIN_ROWS: usize = 16;
/// Byte tables are built for keys up to this row length (2^16 generators: 200 MB of tables).
const BYTE_TABLE_MAX_ROW_LENGTH: usize = 1 << 16;

impl CommitKey {
    /// Derives the key; `row_length` must be a power of two in 1..=`MAX_ROW_LENGTH`.
    pub fn new(domain_tag: &[u8], row_length: usize) -> Result<Self> {
        if !row_length.is_power_of_two() {
            return Err(KernelError::NotPowerOfTwo { what: "row_length", len: row_length });
        }
        if row_length > MAX_ROW_LENGTH {
            return Err(KernelError::InvalidArgument(format!("row_length {row_length} exceeds {MAX_ROW_LENGTH}")));
        }
        let messages: Vec<Vec<u8>> = (0..row_length as u64).map(generator_message).collect();
        let generators = curve::hash_to_g1_many(domain_tag, &messages)?;
        let blinding = curve::hash_to_g1(domain_tag, BLINDING_MESSAGE)?;
        Ok(Self { generators, blinding, byte_tables: OnceLock::new() })
    }

    pub fn row_length(&self) -> usize {
        self.generators.len()
    }

    pub fn generators(&self) -> &[G1Affine] {
        &self.generators
    }

    pub fn blinding_generator(&self) -> G1Affine {
        self.blinding
    }

    /// The number of rows of a flat length, checked against the number of blinds.
    fn rows(&self, len: usize, blinds: usize) -> Result<usize> {
        let g = self.row_length();
        if !len.is_multiple_of(g) {
            return Err(KernelError::InvalidArgument(format!("{len} entries are not a whole number of rows of {g}")));
        }
        if blinds != len / g {
            return Err(KernelError::LengthMismatch { what: "blinds", got: blinds, expected: len / g });
        }
        Ok(len / g)
    }

    /// Adds each row's blinding term and normalises all rows with one shared inversion.
    fn finish(&self, rows: Vec<G1Projective>, blinds: &[Fr]) -> Vec<G1Affine> {
        let rows: Vec<G1Projective> = rows.into_par_iter().zip(blinds).map(|(c, rho)| c + self.blinding * rho).collect();
        G1Projective::normalize_batch(&rows)
    }

    /// Hyrax row commitments of field entries.
    pub fn commit_rows(&self, values: &[Fr], blinds: &[Fr]) -> Result<Vec<G1Affine>> {
        self.rows(values.len(), blinds.len())?;
        let rows = values
            .par_chunks(self.row_length())
            .map(|row| {
                let reprs: Vec<_> = row.iter().map(|v| v.into_bigint()).collect();
                G1Projective::msm_bigint(&self.generators, &reprs)
            })
            .collect();
        Ok(self.finish(rows, blinds))
    }

    /// Hyrax row commitments of int64 entries (negative x is r − |x|): 64-bit Pippenger per row.
    pub fn commit_rows_i64(&self, values: &[i64], blinds: &[Fr]) -> Result<Vec<G1Affine>> {
        self.rows(values.len(), blinds.len())?;
        let rows = values
            .par_chunks(self.row_length())
            .map(|row| {
                let (bases, reprs) = curve::signed_to_unsigned(&self.generators, row);
                G1Projective::msm_bigint(&bases, &reprs)
            })
            .collect();
        Ok(self.finish(rows, blinds))
    }

    /// Hyrax row commitments of the 0/1 tensor whose flat entry i·width + j is bit j of `bits[i]`:
    /// subset sums of the generators, no scalar multiplication except the blinding term. A word
    /// with a bit set at or above `width` is an error (each tensor has exactly one encoding).
    pub fn commit_rows_bits(&self, bits: &[u64], width: usize, blinds: &[Fr]) -> Result<Vec<G1Affine>> {
        if !width.is_power_of_two() || width > 64 {
            return Err(KernelError::InvalidArgument(format!("bit width {width} is not a power of two ≤ 64")));
        }
        crate::bits::check_words(bits, width as u32)?;
        let len = bits.len().checked_mul(width).ok_or_else(|| KernelError::InvalidArgument("bit tensor too large".into()))?;
        let m = self.rows(len, blinds.len())?;
        let g = self.row_length();
        let rows = if g >= 8 && m >= BYTE_TABLE_MIN_ROWS && g <= BYTE_TABLE_MAX_ROW_LENGTH {
            let tables = self.byte_tables();
            (0..m)
                .into_par_iter()
                .map(|i| {
                    (0..g / 8).fold(G1Projective::zero(), |acc, group| {
                        let byte = byte_at(bits, width, i * g + 8 * group);
                        if byte == 0 { acc } else { acc + tables[group * 256 + byte] }
                    })
                })
                .collect()
        } else {
            let bit = |flat: usize| (bits[flat / width] >> (flat % width)) & 1 == 1;
            (0..m).into_par_iter().map(|i| subset_sum(&self.generators, |j| bit(i * g + j))).collect()
        };
        Ok(self.finish(rows, blinds))
    }

    fn byte_tables(&self) -> &[G1Affine] {
        self.byte_tables.get_or_init(|| {
            let projective: Vec<G1Projective> = self
                .generators
                .par_chunks(8)
                .flat_map_iter(|group| {
                    let mut table = vec![G1Projective::zero(); 256];
                    for byte in 1..256usize {
                        let low = byte.trailing_zeros() as usize;
                        table[byte] = table[byte & (byte - 1)] + group[low];
                    }
                    table
                })
                .collect();
            G1Projective::normalize_batch(&projective)
        })
    }

    /// Σ_j v_j·G_j + ρ·H for a vector of at most g entries (it uses the first k generators).
    pub fn commit_vector(&self, values: &[Fr], blind: Fr) -> Result<G1Affine> {
        if values.len() > self.row_length() {
            return Err(KernelError::InvalidArgument(format!(
                "a vector of {} entries is longer than the row length {}",
                values.len(),
                self.row_length()
            )));
        }
        let reprs: Vec<_> = values.iter().map(|v| v.into_bigint()).collect();
        let body = G1Projective::msm_bigint(&self.generators[..values.len()], &reprs);
        Ok((body + self.blinding * blind).into_affine())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::from_i64;
    use ark_ff::{UniformRand, Zero};
    use rand::{Rng, SeedableRng};

    fn rng() -> rand_chacha::ChaCha20Rng {
        rand_chacha::ChaCha20Rng::seed_from_u64(23)
    }

    /// Σ v_j·G_j + ρ·H by plain scalar multiplications: the reference.
    fn naive(key: &CommitKey, row: &[Fr], rho: Fr) -> G1Affine {
        let body: G1Projective = row.iter().zip(key.generators()).map(|(v, g)| *g * v).sum();
        (body + key.blinding_generator() * rho).into_affine()
    }

    fn randoms(n: usize, rng: &mut impl Rng) -> Vec<Fr> {
        (0..n).map(|_| Fr::rand(rng)).collect()
    }

    #[test]
    fn generators_are_deterministic_distinct_and_tag_bound() {
        let a = CommitKey::new(b"test/a", 64).unwrap();
        let again = CommitKey::new(b"test/a", 64).unwrap();
        let b = CommitKey::new(b"test/b", 64).unwrap();
        assert_eq!(a.generators(), again.generators());
        assert_eq!(a.blinding_generator(), again.blinding_generator());
        let mut all: Vec<G1Affine> = a.generators().to_vec();
        all.push(a.blinding_generator());
        all.extend_from_slice(b.generators());
        all.push(b.blinding_generator());
        assert!(all.iter().all(|p| !p.infinity && p.is_on_curve() && p.is_in_correct_subgroup_assuming_on_curve()));
        let encoded: std::collections::HashSet<Vec<u8>> = all.iter().map(|p| curve::compress(&[*p])).collect();
        assert_eq!(encoded.len(), all.len());
        // A shorter key is a prefix of a longer one with the same tag.
        assert_eq!(CommitKey::new(b"test/a", 8).unwrap().generators(), &a.generators()[..8]);
        assert_eq!(a.generators()[3], curve::hash_to_g1(b"test/a", &generator_message(3)).unwrap());
    }

    #[test]
    fn key_arguments_are_checked() {
        assert!(matches!(CommitKey::new(b"t", 0), Err(KernelError::NotPowerOfTwo { .. })));
        assert!(matches!(CommitKey::new(b"t", 12), Err(KernelError::NotPowerOfTwo { .. })));
        assert!(matches!(CommitKey::new(b"t", MAX_ROW_LENGTH * 2), Err(KernelError::InvalidArgument(_))));
        assert!(matches!(CommitKey::new(b"", 1), Err(KernelError::InvalidArgument(_))));
    }

    #[test]
    fn row_commitments_agree_with_the_reference() {
        let mut rng = rng();
        for (g, m) in [(1usize, 3usize), (4, 5), (64, 2), (256, 1)] {
            let key = CommitKey::new(b"test/rows", g).unwrap();
            let small: Vec<i64> = (0..m * g).map(|i| if i % 3 == 0 { rng.gen() } else { rng.gen_range(-300..300) }).collect();
            let values: Vec<Fr> = small.iter().map(|&v| from_i64(v)).collect();
            let blinds = randoms(m, &mut rng);
            let expected: Vec<G1Affine> = (0..m).map(|i| naive(&key, &values[i * g..][..g], blinds[i])).collect();
            assert_eq!(key.commit_rows(&values, &blinds).unwrap(), expected, "g = {g}");
            assert_eq!(key.commit_rows_i64(&small, &blinds).unwrap(), expected, "g = {g}");
            let full = randoms(m * g, &mut rng);
            assert_eq!(key.commit_rows(&full, &blinds).unwrap()[m - 1], naive(&key, &full[(m - 1) * g..], blinds[m - 1]));
        }
    }

    #[test]
    fn bit_rows_agree_with_the_field_path() {
        let mut rng = rng();
        for (g, width, n) in [(1usize, 1usize, 3usize), (8, 4, 6), (16, 64, 3), (64, 8, 24), (4, 16, 1), (8, 2, 64), (16, 64, 32), (64, 64, 64)] {
            let key = CommitKey::new(b"test/bits", g).unwrap();
            let mask = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
            let words: Vec<u64> = (0..n).map(|i| if i % 5 == 1 { 0 } else { rng.gen::<u64>() & mask }).collect();
            let flat: Vec<Fr> = (0..n * width).map(|f| Fr::from((words[f / width] >> (f % width)) & 1)).collect();
            let blinds = randoms(n * width / g, &mut rng);
            assert_eq!(
                key.commit_rows_bits(&words, width, &blinds).unwrap(),
                key.commit_rows(&flat, &blinds).unwrap(),
                "g = {g}, width = {width}"
            );
        }
    }

    #[test]
    fn bit_rows_refuse_bits_above_the_width() {
        let key = CommitKey::new(b"test/bits", 4).unwrap();
        let one = Fr::from(1u64);
        // Two word arrays that agree below the width must not give the same commitment silently.
        assert!(key.commit_rows_bits(&[0b0101, 0b0011], 2, &[one]).is_err());
        assert!(key.commit_rows_bits(&[0b01, 0b11], 2, &[one]).is_ok());
        assert!(key.commit_rows_bits(&[1 << 63; 64], 4, &[one; 64]).is_err());
    }

    #[test]
    fn vector_commitment_uses_a_prefix_of_the_generators() {
        let mut rng = rng();
        let key = CommitKey::new(b"test/vector", 8).unwrap();
        for k in [0usize, 1, 5, 8] {
            let v = randoms(k, &mut rng);
            let rho = Fr::rand(&mut rng);
            assert_eq!(key.commit_vector(&v, rho).unwrap(), naive(&key, &v, rho), "k = {k}");
        }
        let mut padded = randoms(3, &mut rng);
        let rho = Fr::rand(&mut rng);
        let short = key.commit_vector(&padded, rho).unwrap();
        padded.resize(8, Fr::zero());
        assert_eq!(key.commit_rows(&padded, &[rho]).unwrap(), vec![short]);
        assert!(matches!(key.commit_vector(&randoms(9, &mut rng), rho), Err(KernelError::InvalidArgument(_))));
    }

    #[test]
    fn shapes_are_checked() {
        let key = CommitKey::new(b"test/shapes", 4).unwrap();
        let one = Fr::from(1u64);
        assert!(matches!(key.commit_rows(&[one; 6], &[one]), Err(KernelError::InvalidArgument(_))));
        assert!(matches!(key.commit_rows(&[one; 8], &[one]), Err(KernelError::LengthMismatch { .. })));
        assert!(matches!(key.commit_rows_i64(&[1; 5], &[one]), Err(KernelError::InvalidArgument(_))));
        assert!(matches!(key.commit_rows_bits(&[1], 3, &[one]), Err(KernelError::InvalidArgument(_))));
        assert!(matches!(key.commit_rows_bits(&[1], 128, &[one]), Err(KernelError::InvalidArgument(_))));
        assert!(matches!(key.commit_rows_bits(&[1], 2, &[one]), Err(KernelError::InvalidArgument(_))));
        assert!(matches!(key.commit_rows_bits(&[1, 2], 4, &[one]), Err(KernelError::LengthMismatch { .. })));
        assert!(key.commit_rows(&[], &[]).unwrap().is_empty());
    }
}
