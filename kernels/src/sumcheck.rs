//! The prover's arithmetic of one sumcheck for Σ_x eq(w, x)·f_1(x)·…·f_k(x): the round
//! polynomial's values at 0..d and the fold that follows. Claims and challenges live in Python.

use crate::error::{KernelError, Result};
use crate::mle::{check_power_of_two, eq_vector, fold_unchecked};
use crate::{Fr, PAR_MIN_LEN};
use ark_ff::{One, Zero};
use rayon::prelude::*;

/// At most this many tables (factors plus eq): the round polynomial then has at most 8 values.
pub const MAX_TABLES: usize = 7;
const MAX_POINTS: usize = MAX_TABLES + 1;

/// The tables of a product sumcheck; the optional eq factor is just one more table.
pub struct ProductSumcheck {
    tables: Vec<Vec<Fr>>,
    has_eq: bool,
}

impl ProductSumcheck {
    /// `factors` are the tables of f_1..f_k (same power-of-two length); `eq_point`, if given,
    /// adds the factor eq(w, x) with w = eq_point.
    pub fn new(factors: Vec<Vec<Fr>>, eq_point: Option<&[Fr]>) -> Result<Self> {
        let len = factors.first().map(Vec::len).ok_or_else(|| KernelError::InvalidArgument("no factor".into()))?;
        let vars = check_power_of_two("sumcheck table", len)?;
        if let Some(bad) = factors.iter().find(|f| f.len() != len) {
            return Err(KernelError::LengthMismatch { what: "sumcheck factor", got: bad.len(), expected: len });
        }
        if factors.len() + usize::from(eq_point.is_some()) > MAX_TABLES {
            return Err(KernelError::InvalidArgument(format!("at most {MAX_TABLES} tables, eq included")));
        }
        let mut tables = factors;
        if let Some(w) = eq_point {
            if w.len() != vars as usize {
                return Err(KernelError::LengthMismatch { what: "eq point", got: w.len(), expected: vars as usize });
            }
            tables.push(eq_vector(w));
        }
        Ok(Self { tables, has_eq: eq_point.is_some() })
    }

    pub fn num_vars(&self) -> u32 {
        self.tables[0].len().trailing_zeros()
    }

    /// The round polynomial's degree: one per factor (each is multilinear in the bound variable).
    pub fn degree(&self) -> usize {
        self.tables.len()
    }

    /// s(t) = Σ_{x'} Π_i f_i(t, x') at t = 0, 1, …, degree.
    pub fn round_evaluations(&self) -> Result<Vec<Fr>> {
        if self.num_vars() == 0 {
            return Err(KernelError::InvalidArgument("every variable is already bound".into()));
        }
        let d = self.degree();
        let half = self.tables[0].len() / 2;
        let add = |mut a: [Fr; MAX_POINTS], b: [Fr; MAX_POINTS]| {
            a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
            a
        };
        let sums = (0..half)
            .into_par_iter()
            .with_min_len(PAR_MIN_LEN / 4)
            .fold(
                || [Fr::zero(); MAX_POINTS],
                |acc, j| {
                    let mut products = [Fr::one(); MAX_POINTS];
                    for table in &self.tables {
                        // The restriction of f to the line through x = (0, j) and (1, j), at t = 0..d.
                        let (mut value, step) = (table[2 * j], table[2 * j + 1] - table[2 * j]);
                        for p in products[..=d].iter_mut() {
                            *p *= value;
                            value += step;
                        }
                    }
                    add(acc, products)
                },
            )
            .reduce(|| [Fr::zero(); MAX_POINTS], add);
        Ok(sums[..=d].to_vec())
    }

    /// Binds variable 0 of every table to the verifier's challenge r.
    pub fn bind(&mut self, r: Fr) -> Result<()> {
        if self.num_vars() == 0 {
            return Err(KernelError::InvalidArgument("every variable is already bound".into()));
        }
        self.tables = self.tables.par_iter().map(|t| fold_unchecked(t, r)).collect();
        Ok(())
    }

    /// Each f_i at the bound point (the eq factor excluded): the sumcheck's final claims.
    pub fn final_values(&self) -> Result<Vec<Fr>> {
        if self.num_vars() != 0 {
            return Err(KernelError::InvalidArgument(format!("{} variables are still free", self.num_vars())));
        }
        let k = self.tables.len() - usize::from(self.has_eq);
        Ok(self.tables[..k].iter().map(|t| t[0]).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mle::evaluate;
    use ark_std::UniformRand;
    use rand::SeedableRng;

    /// The value at x of the polynomial of degree < len(values) through (i, values[i]), i = 0..:
    /// the verifier's step from the round evaluations to s(r).
    fn interpolate(values: &[Fr], x: Fr) -> Fr {
        // Lagrange basis over the nodes 0..d, computed directly: d ≤ 5 here.
        (0..values.len())
            .map(|i| {
                let (mut num, mut den) = (Fr::one(), Fr::one());
                for j in (0..values.len()).filter(|&j| j != i) {
                    num *= x - Fr::from(j as u64);
                    den *= Fr::from(i as u64) - Fr::from(j as u64);
                }
                values[i] * num * ark_ff::Field::inverse(&den).expect("distinct nodes")
            })
            .sum()
    }

    fn random_vec(n: usize, rng: &mut impl rand::RngCore) -> Vec<Fr> {
        (0..n).map(|_| Fr::rand(rng)).collect()
    }

    /// A whole sumcheck with the verifier's checks: each round's s(0)+s(1) is the running claim.
    fn run(k: usize, vars: usize, with_eq: bool) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64((k * 10 + vars) as u64);
        let factors: Vec<Vec<Fr>> = (0..k).map(|_| random_vec(1 << vars, &mut rng)).collect();
        let w = random_vec(vars, &mut rng);
        let eq = eq_vector(&w);
        let mut claim: Fr =
            (0..1 << vars).map(|x| factors.iter().map(|f| f[x]).product::<Fr>() * if with_eq { eq[x] } else { Fr::one() }).sum();
        let mut prover = ProductSumcheck::new(factors.clone(), with_eq.then_some(&w[..])).unwrap();
        let mut point = vec![];
        for _ in 0..vars {
            let s = prover.round_evaluations().unwrap();
            assert_eq!(s.len(), k + usize::from(with_eq) + 1);
            assert_eq!(s[0] + s[1], claim);
            let r = Fr::rand(&mut rng);
            claim = interpolate(&s, r);
            prover.bind(r).unwrap();
            point.push(r);
        }
        let finals = prover.final_values().unwrap();
        for (f, v) in factors.iter().zip(&finals) {
            assert_eq!(evaluate(f, &point).unwrap(), *v);
        }
        let eq_value = if with_eq { evaluate(&eq, &point).unwrap() } else { Fr::one() };
        assert_eq!(claim, finals.iter().product::<Fr>() * eq_value);
    }

    #[test]
    fn complete_sumchecks_of_every_shape() {
        for k in 1..=3 {
            for vars in [1, 2, 5, 9] {
                run(k, vars, true);
                run(k, vars, false);
            }
        }
    }

    #[test]
    fn misuse_is_an_error() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut p = ProductSumcheck::new(vec![random_vec(2, &mut rng)], None).unwrap();
        assert!(p.final_values().is_err());
        p.bind(Fr::one()).unwrap();
        assert!(p.round_evaluations().is_err());
        assert!(p.bind(Fr::one()).is_err());
        assert!(ProductSumcheck::new(vec![random_vec(2, &mut rng), random_vec(4, &mut rng)], None).is_err());
        assert!(ProductSumcheck::new(vec![random_vec(4, &mut rng)], Some(&[Fr::one()])).is_err());
    }
}
