//! Tables that are sums of tensor products of small factor tables, built in one pass.
//!
//! A tensor of axis lengths 2^log_shape[i] (numpy order: the last axis is the fastest, so its
//! variables are the lowest) gets `out[x] = Σ_k α_k · Π_f f.table[index_f(x)]`, where each factor f
//! covers some axes (`f.axes`, indices into `log_shape`, in the factor table's own row-major order)
//! and `index_f(x)` reads those axes' coordinates out of x. The factors of one term cover disjoint
//! axes; an axis no factor covers contributes weight 1. Building such a table factor by factor costs
//! one full-size multiplication pass per factor; here each entry costs one multiplication per term
//! (plus one per factor that straddles the split below).

use crate::error::{KernelError, Result};
use crate::Fr;
use ark_ff::{One, Zero};
use rayon::prelude::*;

/// Axes whose bits lie below this many variables form the inner block (precomputed per term).
const INNER_MIN_VARS: u32 = 10;
/// The largest table built: 2^MAX_VARS entries.
const MAX_VARS: u32 = 40;

/// One factor table over `axes` (indices into the shape, the table's row-major order).
pub struct Factor<'a> {
    pub axes: Vec<usize>,
    pub table: &'a [Fr],
}

/// α · Π factors.
pub struct Term<'a> {
    pub coefficient: Fr,
    pub factors: Vec<Factor<'a>>,
}

/// A factor's pairs (bit of x, bit of the factor's index).
type BitMap = Vec<(u32, u32)>;

/// For each factor, its bit map.
fn bit_maps(log_shape: &[u32], term: &Term<'_>) -> Result<Vec<BitMap>> {
    let mut offsets = vec![0u32; log_shape.len()]; // the lowest variable of each axis
    for i in (0..log_shape.len().saturating_sub(1)).rev() {
        offsets[i] = offsets[i + 1] + log_shape[i + 1];
    }
    let mut used = vec![false; log_shape.len()];
    let mut maps = Vec::with_capacity(term.factors.len());
    for factor in &term.factors {
        let mut map = vec![];
        let mut position = 0u32; // the factor's own index: its last axis is the fastest
        for &axis in factor.axes.iter().rev() {
            let Some(&log) = log_shape.get(axis) else {
                return Err(KernelError::InvalidArgument(format!("factor axis {axis} of a {}-axis shape", log_shape.len())));
            };
            if std::mem::replace(&mut used[axis], true) {
                return Err(KernelError::InvalidArgument(format!("axis {axis} is covered by two factors of one term")));
            }
            map.extend((0..log).map(|k| (offsets[axis] + k, position + k)));
            position += log;
        }
        if factor.table.len() != 1usize << position {
            return Err(KernelError::LengthMismatch { what: "factor table", got: factor.table.len(), expected: 1 << position });
        }
        maps.push(map);
    }
    Ok(maps)
}

fn scatter(map: &[(u32, u32)], x: usize) -> usize {
    map.iter().fold(0, |acc, &(from, to)| acc | (((x >> from) & 1) << to))
}

/// Σ_k α_k · Π_f f(x) over the whole shape (length 2^Σ log_shape).
pub fn combination(log_shape: &[u32], terms: &[Term<'_>]) -> Result<Vec<Fr>> {
    let total: u32 = log_shape.iter().sum();
    if total > MAX_VARS {
        return Err(KernelError::InvalidArgument(format!("a table of 2^{total} entries is beyond 2^{MAX_VARS}")));
    }
    // The inner block: the fewest lowest axes with at least INNER_MIN_VARS variables (or all).
    let mut inner_vars = 0u32;
    for &log in log_shape.iter().rev() {
        if inner_vars >= INNER_MIN_VARS {
            break;
        }
        inner_vars += log;
    }
    let inner = 1usize << inner_vars;
    struct Prepared<'a> {
        coefficient: Fr,
        inner_vector: Vec<Fr>,                      // the product of the factors inside the block
        outer: Vec<(&'a [Fr], BitMap)>,             // factors above the block: one value per block
        mixed: Vec<(&'a [Fr], BitMap, Vec<usize>)>, // straddling factors: high map, low indices
    }
    let mut prepared = Vec::with_capacity(terms.len());
    for term in terms {
        let maps = bit_maps(log_shape, term)?;
        let mut inner_vector = vec![Fr::one(); inner];
        let (mut outer, mut mixed) = (vec![], vec![]);
        for (factor, map) in term.factors.iter().zip(maps) {
            let (low, high): (Vec<_>, Vec<_>) = map.into_iter().partition(|&(from, _)| from < inner_vars);
            if high.is_empty() {
                inner_vector.par_iter_mut().enumerate().for_each(|(x, v)| *v *= factor.table[scatter(&low, x)]);
            } else if low.is_empty() {
                outer.push((factor.table, high));
            } else {
                let indices = (0..inner).map(|x| scatter(&low, x)).collect();
                mixed.push((factor.table, high, indices));
            }
        }
        prepared.push(Prepared { coefficient: term.coefficient, inner_vector, outer, mixed });
    }
    let mut out = vec![Fr::zero(); 1usize << total];
    out.par_chunks_mut(inner).enumerate().for_each(|(block, chunk)| {
        let base = block << inner_vars;
        for term in &prepared {
            let constant = term.outer.iter().fold(term.coefficient, |acc, (table, map)| acc * table[scatter(map, base)]);
            if constant.is_zero() {
                continue;
            }
            if term.mixed.is_empty() {
                for (o, v) in chunk.iter_mut().zip(&term.inner_vector) {
                    *o += constant * v;
                }
            } else {
                let highs: Vec<usize> = term.mixed.iter().map(|(_, map, _)| scatter(map, base)).collect();
                for (x, (o, v)) in chunk.iter_mut().zip(&term.inner_vector).enumerate() {
                    let mut value = constant * v;
                    for ((table, _, lows), high) in term.mixed.iter().zip(&highs) {
                        value *= table[high | lows[x]];
                    }
                    *o += value;
                }
            }
        }
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_std::UniformRand;
    use rand::SeedableRng;

    fn random_vec(n: usize, rng: &mut impl rand::RngCore) -> Vec<Fr> {
        (0..n).map(|_| Fr::rand(rng)).collect()
    }

    /// Entry by entry: the coordinates of each axis, then each factor's row-major index.
    fn naive(log_shape: &[u32], terms: &[Term<'_>]) -> Vec<Fr> {
        let total: u32 = log_shape.iter().sum();
        (0..1usize << total)
            .map(|x| {
                let mut coords = vec![0usize; log_shape.len()];
                let mut rest = x;
                for i in (0..log_shape.len()).rev() {
                    coords[i] = rest & ((1 << log_shape[i]) - 1);
                    rest >>= log_shape[i];
                }
                terms
                    .iter()
                    .map(|t| {
                        t.factors.iter().fold(t.coefficient, |acc, f| {
                            let index = f.axes.iter().fold(0usize, |i, &a| (i << log_shape[a]) | coords[a]);
                            acc * f.table[index]
                        })
                    })
                    .sum()
            })
            .collect()
    }

    #[test]
    fn combinations_agree_with_the_entrywise_definition() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for log_shape in [vec![2u32, 3, 4, 6], vec![1, 5, 7], vec![3], vec![12, 2], vec![0, 4, 11]] {
            let m = log_shape.len();
            let tables: Vec<Vec<Fr>> = (0..8).map(|_| random_vec(1 << 18, &mut rng)).collect();
            let size = |axes: &[usize]| 1usize << axes.iter().map(|&a| log_shape[a]).sum::<u32>();
            // Single axes, a multi-axis factor spanning the first and last axis in reverse order, a gap.
            let groups: Vec<Vec<Vec<usize>>> = vec![
                (0..m).map(|a| vec![a]).collect(),
                vec![if m > 1 { vec![m - 1, 0] } else { vec![0] }],
                vec![],
                (1..m).map(|a| vec![a]).collect(),
            ];
            let terms: Vec<Term<'_>> = groups
                .iter()
                .enumerate()
                .map(|(k, axes)| Term {
                    coefficient: Fr::rand(&mut rng),
                    factors: axes.iter().enumerate().map(|(i, a)| Factor { axes: a.clone(), table: &tables[k + i][..size(a)] }).collect(),
                })
                .collect();
            assert_eq!(combination(&log_shape, &terms).unwrap(), naive(&log_shape, &terms), "{log_shape:?}");
        }
    }

    #[test]
    fn malformed_terms_are_errors() {
        let t = vec![Fr::one(); 4];
        let bad_axis = [Term { coefficient: Fr::one(), factors: vec![Factor { axes: vec![2], table: &t }] }];
        assert!(combination(&[2, 2], &bad_axis).is_err());
        let twice =
            [Term { coefficient: Fr::one(), factors: vec![Factor { axes: vec![0], table: &t }, Factor { axes: vec![0], table: &t }] }];
        assert!(combination(&[2, 2], &twice).is_err());
        let short = [Term { coefficient: Fr::one(), factors: vec![Factor { axes: vec![0, 1], table: &t }] }];
        assert!(matches!(combination(&[2, 2], &short), Err(KernelError::LengthMismatch { .. })));
        assert!(combination(&[41], &[]).is_err());
    }
}
