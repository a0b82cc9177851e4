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

pub(crate) fn check_words(bits: &[u64], width: u32) -> Result<()> {
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
        .fold(
            || vec![Fr::zero(); w],
            |mut acc, (&word, e)| {
                let mut rest = word;
                while rest != 0 {
                    acc[rest.trailing_zeros() as usize] += e;
                    rest &= rest - 1;
                }
                acc
            },
        )
        .reduce(|| vec![Fr::zero(); w], |a, b| a.iter().zip(&b).map(|(x, y)| *x + y).collect()))
}

/// The bit chunks of a word used by the bucketed kernels: chunk p covers bits [8p, min(8p + 8, width)).
fn chunks(width: u32) -> usize {
    (width as usize).div_ceil(8)
}

fn chunk_of(word: u64, p: usize) -> usize {
    ((word >> (8 * p)) & 0xff) as usize
}

/// Elements split into one contiguous piece per thread (bucket tables are per piece).
fn pieces(n: usize) -> usize {
    n.div_ceil(rayon::current_num_threads().max(1)).max(PAR_MIN_LEN)
}

/// For each weight vector w (one entry per element), the `width` sums Σ_i w_i·bit_j(i): one
/// bucket addition per 8 bits and weight, then a 256-entry expansion per chunk.
pub fn weighted_sums(bits: &[u64], width: u32, weights: &[&[Fr]]) -> Result<Vec<Vec<Fr>>> {
    check_words(bits, width)?;
    if let Some(bad) = weights.iter().find(|w| w.len() != bits.len()) {
        return Err(KernelError::LengthMismatch { what: "weights", got: bad.len(), expected: bits.len() });
    }
    let (k, c) = (weights.len(), chunks(width));
    let buckets = bits
        .par_chunks(pieces(bits.len()))
        .enumerate()
        .map(|(piece, words)| {
            let start = piece * pieces(bits.len());
            let mut acc = vec![Fr::zero(); k * c * 256];
            for (offset, &word) in words.iter().enumerate() {
                if word == 0 {
                    continue;
                }
                for (w, weight) in weights.iter().enumerate() {
                    let value = weight[start + offset];
                    if value.is_zero() {
                        continue; // weights are often zero on whole blocks (masks, one-hot factors)
                    }
                    for p in 0..c {
                        let byte = chunk_of(word, p);
                        if byte != 0 {
                            acc[(w * c + p) * 256 + byte] += value;
                        }
                    }
                }
            }
            acc
        })
        .reduce(
            || vec![Fr::zero(); k * c * 256],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                a
            },
        );
    Ok((0..k)
        .map(|w| {
            let mut out = vec![Fr::zero(); width as usize];
            for p in 0..c {
                for byte in 1..256usize {
                    let value = buckets[(w * c + p) * 256 + byte];
                    if value.is_zero() {
                        continue; // also every byte with a bit at or above the width: words are clean
                    }
                    let mut rest = byte;
                    while rest != 0 {
                        out[8 * p + rest.trailing_zeros() as usize] += value;
                        rest &= rest - 1;
                    }
                }
            }
            out
        })
        .collect())
}

/// The Gram matrix M[j1·width + j2] = Σ_i w_i·bit_j1(i)·bit_j2(i) (row-major, symmetric): one
/// bucket addition per pair of chunks of a word (8-bit chunks for many elements, 4-bit ones for
/// few, where the 2^16-entry pair tables would not pay), then an expansion of each bucket table.
pub fn gram(bits: &[u64], width: u32, weights: &[Fr]) -> Result<Vec<Fr>> {
    check_words(bits, width)?;
    if weights.len() != bits.len() {
        return Err(KernelError::LengthMismatch { what: "weights", got: weights.len(), expected: bits.len() });
    }
    let cb: usize = if bits.len() >= 1 << 17 { 8 } else { 4 };
    let (size, mask) = (1usize << cb, (1u64 << cb) - 1);
    let c = (width as usize).div_ceil(cb);
    let pairs: Vec<(usize, usize)> = (0..c).flat_map(|p| (p..c).map(move |q| (p, q))).collect();
    let slot = |p: usize, q: usize| if p == q { size } else { size * size };
    let offsets: Vec<usize> = pairs
        .iter()
        .scan(0, |acc, &(p, q)| {
            let o = *acc;
            *acc += slot(p, q);
            Some(o)
        })
        .collect();
    let total = pairs.iter().map(|&(p, q)| slot(p, q)).sum::<usize>();
    let piece_len = pieces(bits.len());
    let buckets = bits
        .par_chunks(piece_len)
        .enumerate()
        .map(|(piece, words)| {
            let mut acc = vec![Fr::zero(); total];
            let mut chunk = vec![0usize; c];
            for (offset, &word) in words.iter().enumerate() {
                if word == 0 {
                    continue;
                }
                let value = weights[piece * piece_len + offset];
                if value.is_zero() {
                    continue;
                }
                for (p, v) in chunk.iter_mut().enumerate() {
                    *v = ((word >> (cb * p)) & mask) as usize;
                }
                for (&(p, q), &base) in pairs.iter().zip(&offsets) {
                    let (a, b) = (chunk[p], chunk[q]);
                    if a == 0 || b == 0 {
                        continue;
                    }
                    acc[base + if p == q { a } else { (a << cb) | b }] += value;
                }
            }
            acc
        })
        .reduce(
            || vec![Fr::zero(); total],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                a
            },
        );
    let blocks: Vec<Vec<Fr>> = pairs
        .par_iter()
        .zip(&offsets)
        .map(|(&(p, q), &base)| {
            let mut block = vec![Fr::zero(); cb * cb]; // [k1 of chunk p][k2 of chunk q]
            if p == q {
                for v in 1..size {
                    let value = buckets[base + v];
                    if value.is_zero() {
                        continue;
                    }
                    for k1 in (0..cb).filter(|k| (v >> k) & 1 == 1) {
                        for k2 in (0..cb).filter(|k| (v >> k) & 1 == 1) {
                            block[k1 * cb + k2] += value;
                        }
                    }
                }
            } else {
                for a in 1..size {
                    let mut row = vec![Fr::zero(); cb]; // Σ_b H[a][b]·bit_k2(b)
                    let mut any = false;
                    for b in 1..size {
                        let value = buckets[base + ((a << cb) | b)];
                        if value.is_zero() {
                            continue;
                        }
                        any = true;
                        let mut rest = b;
                        while rest != 0 {
                            row[rest.trailing_zeros() as usize] += value;
                            rest &= rest - 1;
                        }
                    }
                    if !any {
                        continue;
                    }
                    for k1 in (0..cb).filter(|k| (a >> k) & 1 == 1) {
                        for k2 in 0..cb {
                            block[k1 * cb + k2] += row[k2];
                        }
                    }
                }
            }
            block
        })
        .collect();
    let w = width as usize;
    let mut m = vec![Fr::zero(); w * w];
    for (&(p, q), block) in pairs.iter().zip(&blocks) {
        for k1 in 0..cb {
            for k2 in 0..cb {
                let (j1, j2) = (cb * p + k1, cb * q + k2);
                if j1 < w && j2 < w {
                    m[j1 * w + j2] = block[k1 * cb + k2];
                    m[j2 * w + j1] = block[k1 * cb + k2];
                }
            }
        }
    }
    Ok(m)
}

/// Binds every bit variable (the lowest log2(width)) to `point`: out[i] = Σ_j eq(point, j)·bit_j(i),
/// eight table look-ups per element.
pub fn bind_low(bits: &[u64], width: u32, point: &[Fr]) -> Result<Vec<Fr>> {
    check_words(bits, width)?;
    let vars = check_power_of_two("bit width", width as usize)?;
    if point.len() != vars as usize {
        return Err(KernelError::LengthMismatch { what: "point", got: point.len(), expected: vars as usize });
    }
    let eq = eq_vector(point);
    let c = chunks(width);
    let mut tables = vec![Fr::zero(); c * 256];
    for p in 0..c {
        for byte in 1..256usize {
            let low = byte.trailing_zeros() as usize;
            let j = 8 * p + low;
            let prior = tables[p * 256 + (byte & (byte - 1))];
            tables[p * 256 + byte] = prior + if j < width as usize { eq[j] } else { Fr::zero() };
        }
    }
    Ok(bits.par_iter().with_min_len(PAR_MIN_LEN).map(|&word| (0..c).map(|p| tables[p * 256 + chunk_of(word, p)]).sum()).collect())
}

/// Binds the highest len(point) variables of the flat bit tensor (n·width entries, a power of
/// two): out[col] = Σ_row eq(point, row)·bit(row·g + col), g = n·width / 2^len(point). Additions
/// of eq entries only (the row fold of a Hyrax opening of packed bits).
pub fn fold_high(bits: &[u64], width: u32, point: &[Fr]) -> Result<Vec<Fr>> {
    check_words(bits, width)?;
    let total = check_power_of_two("bit tensor", bits.len() * width as usize)?;
    if point.len() > total as usize {
        return Err(KernelError::LengthMismatch { what: "point", got: point.len(), expected: total as usize });
    }
    let log_g = total - point.len() as u32;
    let g = 1usize << log_g;
    let eq = eq_vector(point);
    let w = width as usize;
    Ok(bits
        .par_chunks(pieces(bits.len()))
        .enumerate()
        .map(|(piece, words)| {
            let start = piece * pieces(bits.len());
            let mut acc = vec![Fr::zero(); g];
            for (offset, &word) in words.iter().enumerate() {
                let base = (start + offset) * w;
                let mut rest = word;
                while rest != 0 {
                    let flat = base + rest.trailing_zeros() as usize;
                    acc[flat & (g - 1)] += eq[flat >> log_g];
                    rest &= rest - 1;
                }
            }
            acc
        })
        .reduce(
            || vec![Fr::zero(); g],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                a
            },
        ))
}

/// Packs a 0/1 field vector (flat index i·width + j) into words; any other value is an error.
/// `limbs` are the elements' Montgomery limbs, four per element (read in place, not copied).
pub fn pack_field_limbs(limbs: &[u64], width: u32) -> Result<Vec<u64>> {
    check_width(width)?;
    let w = width as usize;
    if !limbs.len().is_multiple_of(4 * w) {
        return Err(KernelError::InvalidArgument(format!("{} elements are not a whole number of {w}-bit words", limbs.len() / 4)));
    }
    let one = Fr::one().0 .0;
    limbs
        .par_chunks(4 * w)
        .with_min_len(PAR_MIN_LEN / 64)
        .enumerate()
        .map(|(word, chunk)| {
            let mut out = 0u64;
            for (j, element) in chunk.chunks_exact(4).enumerate() {
                if element == one {
                    out |= 1 << j;
                } else if element.iter().any(|&l| l != 0) {
                    return Err(KernelError::InvalidArgument(format!("element {} is neither 0 nor 1", word * w + j)));
                }
            }
            Ok(out)
        })
        .collect()
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

    #[test]
    fn bucketed_kernels_agree_with_the_field_table() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        for (n, width) in [(1usize, 2u32), (8, 4), (16, 16), (64, 64), (32, 8), (4, 64)] {
            let mut words = random_words(n, width, &mut rng);
            if n > 2 {
                words[1] = 0;
                words[2] = mask(width);
            }
            let table = to_field(&words, width).unwrap();
            let w = width as usize;
            let weights: Vec<Vec<Fr>> = (0..3).map(|_| (0..n).map(|_| Fr::rand(&mut rng)).collect()).collect();
            let refs: Vec<&[Fr]> = weights.iter().map(|v| v.as_slice()).collect();
            let sums = weighted_sums(&words, width, &refs).unwrap();
            let m = gram(&words, width, &weights[0]).unwrap();
            for (k, weight) in weights.iter().enumerate() {
                for j in 0..w {
                    let expected: Fr = (0..n).map(|i| weight[i] * table[i * w + j]).sum();
                    assert_eq!(sums[k][j], expected, "sums n={n} width={width}");
                }
            }
            for j1 in 0..w {
                for j2 in 0..w {
                    let expected: Fr = (0..n).map(|i| weights[0][i] * table[i * w + j1] * table[i * w + j2]).sum();
                    assert_eq!(m[j1 * w + j2], expected, "gram n={n} width={width} ({j1}, {j2})");
                }
            }
            let point: Vec<Fr> = (0..width.trailing_zeros()).map(|_| Fr::rand(&mut rng)).collect();
            let bound = bind_low(&words, width, &point).unwrap();
            for i in 0..n {
                assert_eq!(bound[i], evaluate(&table[i * w..(i + 1) * w], &point).unwrap());
            }
            let total = (n * w).trailing_zeros() as usize;
            for k in [0, 1, total / 2, total] {
                let high: Vec<Fr> = (0..k).map(|_| Fr::rand(&mut rng)).collect();
                let folded = fold_high(&words, width, &high).unwrap();
                let g = (n * w) >> k;
                let eq = eq_vector(&high);
                for col in 0..g {
                    let expected: Fr = (0..1usize << k).map(|row| eq[row] * table[row * g + col]).sum();
                    assert_eq!(folded[col], expected, "fold_high n={n} width={width} k={k}");
                }
            }
            let limbs: Vec<u64> = table.iter().flat_map(|x| x.0 .0).collect();
            assert_eq!(pack_field_limbs(&limbs, width).unwrap(), words);
        }
    }

    #[test]
    fn gram_with_wide_chunks_agrees_with_the_definition() {
        // Enough elements for the 8-bit chunk pairs; checked entrywise on a few (j1, j2).
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
        let n = 1usize << 17;
        let words: Vec<u64> = (0..n).map(|i| if i % 3 == 0 { rng.gen::<u64>() } else { (rng.gen::<i64>() >> 40) as u64 }).collect();
        let weights: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
        let m = gram(&words, 64, &weights).unwrap();
        for (j1, j2) in [(0usize, 0usize), (3, 60), (63, 63), (7, 8), (40, 17), (15, 31)] {
            let expected: Fr = (0..n).filter(|&i| (words[i] >> j1) & 1 == 1 && (words[i] >> j2) & 1 == 1).map(|i| weights[i]).sum();
            assert_eq!(m[j1 * 64 + j2], expected, "({j1}, {j2})");
            assert_eq!(m[j2 * 64 + j1], expected);
        }
    }

    #[test]
    fn bucketed_kernels_refuse_malformed_input() {
        let one = Fr::one();
        assert!(weighted_sums(&[0b100], 2, &[&[one]]).is_err());
        assert!(matches!(weighted_sums(&[1, 2], 2, &[&[one]]), Err(KernelError::LengthMismatch { .. })));
        assert!(gram(&[1], 1, &[one, one]).is_err());
        assert!(bind_low(&[1], 4, &[one]).is_err());
        assert!(bind_low(&[1], 3, &[one, one]).is_err());
        assert!(fold_high(&[1, 1, 1], 2, &[]).is_err());
        assert!(fold_high(&[1, 1], 2, &[one, one, one]).is_err());
        let two: Vec<u64> = (one + one).0 .0.to_vec();
        assert!(pack_field_limbs(&[two, vec![0; 4]].concat(), 2).is_err());
        assert!(pack_field_limbs(&[0; 12], 2).is_err());
    }
}
