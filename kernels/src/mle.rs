//! Multilinear extensions of tables over the boolean hypercube.
//!
//! Variable order is LSB first: `a[i] = ã(bit_0(i), …, bit_{k−1}(i))`, so variable 0 pairs the
//! entries (2j, 2j+1). A row-major tensor's first variables index its last axis.

use crate::error::{KernelError, Result};
use crate::{Fr, PAR_MIN_LEN};
use ark_ff::{One, Zero};
use rayon::prelude::*;

pub fn check_power_of_two(what: &'static str, len: usize) -> Result<u32> {
    if !len.is_power_of_two() {
        return Err(KernelError::NotPowerOfTwo { what, len });
    }
    Ok(len.trailing_zeros())
}

/// Binds variable 0 to r: `out[j] = a[2j] + r·(a[2j+1] − a[2j])`.
pub fn fold(a: &[Fr], r: Fr) -> Result<Vec<Fr>> {
    let vars = check_power_of_two("folded table", a.len())?;
    if vars == 0 {
        return Err(KernelError::InvalidArgument("a table of one entry has no variable left to fold".into()));
    }
    Ok(fold_unchecked(a, r))
}

pub(crate) fn fold_unchecked(a: &[Fr], r: Fr) -> Vec<Fr> {
    a.par_chunks(2).with_min_len(PAR_MIN_LEN).map(|p| p[0] + r * (p[1] - p[0])).collect()
}

/// ã(point), with point[0] binding variable 0.
pub fn evaluate(a: &[Fr], point: &[Fr]) -> Result<Fr> {
    let vars = check_power_of_two("evaluated table", a.len())?;
    if vars as usize != point.len() {
        return Err(KernelError::LengthMismatch { what: "point", got: point.len(), expected: vars as usize });
    }
    let Some((first, rest)) = point.split_first() else { return Ok(a[0]) };
    let mut table = fold_unchecked(a, *first);
    for r in rest {
        table = fold_unchecked(&table, *r);
    }
    Ok(table[0])
}

/// The table of eq(u, x) over x in {0,1}^k: `out[x] = Π_i (u_i x_i + (1 − u_i)(1 − x_i))`.
pub fn eq_vector(point: &[Fr]) -> Vec<Fr> {
    let mut table = vec![Fr::one()];
    for u in point {
        // Variable i is bit i: the new half with x_i = 1 sits above the old table.
        let low: Vec<Fr> = table.par_iter().with_min_len(PAR_MIN_LEN).map(|t| *t - *t * u).collect();
        let high: Vec<Fr> = table.par_iter().with_min_len(PAR_MIN_LEN).map(|t| *t * u).collect();
        table = low;
        table.extend(high);
    }
    table
}

/// Binds every variable of one axis of a row-major tensor whose axis lengths are 2^log_shape[i]
/// (numpy order: the last axis is the fastest). The result has that axis removed.
pub fn partial_evaluate(a: &[Fr], log_shape: &[u32], axis: usize, point: &[Fr]) -> Result<Vec<Fr>> {
    let axis_vars = axis_vars(log_shape, axis)?;
    if point.len() != axis_vars as usize {
        return Err(KernelError::LengthMismatch { what: "point", got: point.len(), expected: axis_vars as usize });
    }
    contract(a, log_shape, axis, &eq_vector(point), |x| *x)
}

fn axis_vars(log_shape: &[u32], axis: usize) -> Result<u32> {
    log_shape.get(axis).copied().ok_or_else(|| KernelError::InvalidArgument(format!("axis {axis} of a {}-axis tensor", log_shape.len())))
}

/// Σ_k weights[k]·a[…, k, …] over one axis of a row-major tensor (axis lengths 2^log_shape[i]):
/// the tensor with that axis removed. Entries of any type convertible to the field, so an int64
/// tensor is contracted without a field copy of it (weights stacks are the largest tensors).
pub fn contract<T: Sync>(a: &[T], log_shape: &[u32], axis: usize, weights: &[Fr], to_fr: impl Fn(&T) -> Fr + Sync) -> Result<Vec<Fr>> {
    let total: u32 = log_shape.iter().sum();
    if a.len() != 1usize << total {
        return Err(KernelError::LengthMismatch { what: "tensor", got: a.len(), expected: 1 << total });
    }
    let width = 1usize << axis_vars(log_shape, axis)?;
    if weights.len() != width {
        return Err(KernelError::LengthMismatch { what: "weights", got: weights.len(), expected: width });
    }
    let inner = 1usize << log_shape[axis + 1..].iter().sum::<u32>();
    if inner == 1 {
        // The last axis: one dot product per block, blocks in parallel.
        return Ok(a
            .par_chunks(width)
            .with_min_len(PAR_MIN_LEN / width.min(PAR_MIN_LEN))
            .map(|block| block.iter().zip(weights).map(|(x, w)| *w * to_fr(x)).sum::<Fr>())
            .collect());
    }
    // A higher axis: rows of `inner` entries accumulate, row by row (contiguous reads); the rows
    // of one block are split between threads, each with its own accumulator.
    let mut out = Vec::with_capacity(a.len() / width);
    for block in a.chunks(width * inner) {
        let sums = block
            .par_chunks(inner)
            .zip(weights.par_iter())
            .fold(
                || vec![Fr::zero(); inner],
                |mut acc, (row, w)| {
                    if !w.is_zero() {
                        acc.iter_mut().zip(row).for_each(|(s, x)| *s += *w * to_fr(x));
                    }
                    acc
                },
            )
            .reduce(
                || vec![Fr::zero(); inner],
                |mut x, y| {
                    x.iter_mut().zip(&y).for_each(|(s, t)| *s += t);
                    x
                },
            );
        out.extend(sums);
    }
    Ok(out)
}

/// `contract` of an int64 tensor (negative x is r − |x|), one field multiplication per entry:
/// entries enter unscaled (`field::from_i64_unscaled`) and each sum is rescaled once.
pub fn contract_i64(a: &[i64], log_shape: &[u32], axis: usize, weights: &[Fr]) -> Result<Vec<Fr>> {
    let radix = crate::field::montgomery_radix();
    let sums = contract(a, log_shape, axis, weights, |x| crate::field::from_i64_unscaled(*x))?;
    Ok(sums.into_par_iter().map(|s| s * radix).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_std::UniformRand;
    use rand::SeedableRng;

    fn random_vec(n: usize, seed: u64) -> Vec<Fr> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| Fr::rand(&mut rng)).collect()
    }

    #[test]
    fn evaluation_is_the_eq_weighted_sum() {
        for k in 0..8 {
            let a = random_vec(1 << k, k as u64);
            let u = random_vec(k, 100 + k as u64);
            let eq = eq_vector(&u);
            let expected: Fr = a.iter().zip(&eq).map(|(x, e)| *x * e).sum();
            assert_eq!(evaluate(&a, &u).unwrap(), expected);
        }
    }

    #[test]
    fn evaluation_on_the_hypercube_is_the_table_lsb_first() {
        let a = random_vec(8, 1);
        let point = [Fr::one(), Fr::zero(), Fr::one()]; // bits 0 and 2 set: index 5
        assert_eq!(evaluate(&a, &point).unwrap(), a[5]);
    }

    #[test]
    fn partial_evaluation_of_each_axis_agrees_with_full_evaluation() {
        let log_shape = [2u32, 3, 1];
        let a = random_vec(64, 9);
        let (u0, u1, u2) = (random_vec(2, 10), random_vec(3, 11), random_vec(1, 12));
        // Full point in LSB-first order: last axis first.
        let full: Vec<Fr> = u2.iter().chain(&u1).chain(&u0).copied().collect();
        let expected = evaluate(&a, &full).unwrap();
        let b = partial_evaluate(&a, &log_shape, 1, &u1).unwrap();
        assert_eq!(b.len(), 8);
        let rest: Vec<Fr> = u2.iter().chain(&u0).copied().collect();
        assert_eq!(evaluate(&b, &rest).unwrap(), expected);
        let c = partial_evaluate(&a, &log_shape, 0, &u0).unwrap();
        let rest: Vec<Fr> = u2.iter().chain(&u1).copied().collect();
        assert_eq!(evaluate(&c, &rest).unwrap(), expected);
    }

    #[test]
    fn contraction_is_the_weighted_sum_over_the_axis_for_field_and_int64_entries() {
        let log_shape = [3u32, 2, 4];
        let mut ints: Vec<i64> = (0..512).map(|i| (i * 7919 % 1000) as i64 - 500).collect();
        (ints[3], ints[77], ints[300]) = (i64::MIN, i64::MAX, -(1 << 40));
        let field: Vec<Fr> = ints.iter().map(|&v| crate::field::from_i64(v)).collect();
        for (axis, &vars) in log_shape.iter().enumerate() {
            let w = random_vec(1 << vars, 20 + axis as u64);
            let (width, inner) = (1usize << vars, 1usize << log_shape[axis + 1..].iter().sum::<u32>());
            let expected: Vec<Fr> = (0..512 / width)
                .map(|j| {
                    let (outer, i) = (j / inner, j % inner);
                    (0..width).map(|k| w[k] * field[(outer * width + k) * inner + i]).sum()
                })
                .collect();
            assert_eq!(contract(&field, &log_shape, axis, &w, |x| *x).unwrap(), expected);
            assert_eq!(contract(&ints, &log_shape, axis, &w, |x| crate::field::from_i64(*x)).unwrap(), expected);
            assert_eq!(contract_i64(&ints, &log_shape, axis, &w).unwrap(), expected);
        }
        assert!(contract(&field, &log_shape, 0, &random_vec(4, 1), |x| *x).is_err());
    }

    #[test]
    fn bad_shapes_are_errors() {
        assert!(matches!(fold(&random_vec(3, 1), Fr::one()), Err(KernelError::NotPowerOfTwo { .. })));
        assert!(matches!(fold(&random_vec(1, 1), Fr::one()), Err(KernelError::InvalidArgument(_))));
        assert!(matches!(evaluate(&random_vec(4, 1), &random_vec(3, 1)), Err(KernelError::LengthMismatch { .. })));
        assert!(partial_evaluate(&random_vec(8, 1), &[1, 2], 2, &[]).is_err());
    }
}
