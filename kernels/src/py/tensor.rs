//! Sums of tensor products of small factor tables (`crate::tensor`).

use super::convert::{fr_scalar, fr_vec, fr_vec_to_py};
use crate::tensor::{self, Factor, Term};
use crate::Fr;
use numpy::{PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

type FactorIn<'py> = (Vec<usize>, PyReadonlyArray2<'py, u64>);
type TermIn<'py> = (PyReadonlyArray1<'py, u64>, Vec<FactorIn<'py>>);
/// A term read out of Python (α, [(axes, table)]): the kernel then runs without the GIL.
type TermOwned = (Fr, Vec<(Vec<usize>, Vec<Fr>)>);

/// Σ_k α_k·Π_f f(x) over the tensor of axis lengths 2^log_shape[i]. `terms` is a list of
/// (α as uint64[4], [(axes, uint64[2^Σ log, 4] table), …]); a factor's axes index `log_shape` and
/// give the table's row-major order; the factors of one term cover disjoint axes.
#[pyfunction]
fn fr_tensor_combination<'py>(py: Python<'py>, log_shape: Vec<u32>, terms: Vec<TermIn<'py>>) -> PyResult<Bound<'py, PyArray2<u64>>> {
    let mut owned: Vec<TermOwned> = Vec::with_capacity(terms.len());
    for (coefficient, factors) in &terms {
        let factors = factors.iter().map(|(axes, table)| Ok((axes.clone(), fr_vec(table)?))).collect::<PyResult<Vec<_>>>()?;
        owned.push((fr_scalar(coefficient)?, factors));
    }
    let out = py.allow_threads(|| {
        let terms: Vec<Term<'_>> = owned
            .iter()
            .map(|(coefficient, factors)| Term {
                coefficient: *coefficient,
                factors: factors.iter().map(|(axes, table)| Factor { axes: axes.clone(), table }).collect(),
            })
            .collect();
        tensor::combination(&log_shape, &terms)
    })?;
    Ok(fr_vec_to_py(py, &out))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fr_tensor_combination, m)?)
}
