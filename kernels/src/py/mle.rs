use super::convert::{fr_scalar, fr_scalar_to_py, fr_vec, fr_vec_to_py};
use crate::mle;
use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

#[pyfunction]
fn mle_evaluate<'py>(
    py: Python<'py>,
    table: PyReadonlyArray2<'py, u64>,
    point: PyReadonlyArray2<'py, u64>,
) -> PyResult<Bound<'py, PyArray1<u64>>> {
    let (table, point) = (fr_vec(&table)?, fr_vec(&point)?);
    let value = py.allow_threads(|| mle::evaluate(&table, &point))?;
    Ok(fr_scalar_to_py(py, value))
}

#[pyfunction]
fn mle_fold<'py>(py: Python<'py>, table: PyReadonlyArray2<'py, u64>, r: PyReadonlyArray1<'py, u64>) -> PyResult<Bound<'py, PyArray2<u64>>> {
    let (table, r) = (fr_vec(&table)?, fr_scalar(&r)?);
    let out = py.allow_threads(|| mle::fold(&table, r))?;
    Ok(fr_vec_to_py(py, &out))
}

#[pyfunction]
fn eq_vector<'py>(py: Python<'py>, point: PyReadonlyArray2<'py, u64>) -> PyResult<Bound<'py, PyArray2<u64>>> {
    let point = fr_vec(&point)?;
    let out = py.allow_threads(|| mle::eq_vector(&point));
    Ok(fr_vec_to_py(py, &out))
}

/// Binds every variable of `axis` of a row-major tensor with axis lengths 2^log_shape[i].
#[pyfunction]
fn mle_partial_evaluate<'py>(
    py: Python<'py>,
    table: PyReadonlyArray2<'py, u64>,
    log_shape: Vec<u32>,
    axis: usize,
    point: PyReadonlyArray2<'py, u64>,
) -> PyResult<Bound<'py, PyArray2<u64>>> {
    let (table, point) = (fr_vec(&table)?, fr_vec(&point)?);
    let out = py.allow_threads(|| mle::partial_evaluate(&table, &log_shape, axis, &point))?;
    Ok(fr_vec_to_py(py, &out))
}

/// Σ_k weights[k]·table[…, k, …] over `axis` of a row-major int64 tensor (entries read as field
/// elements, negative x as r − |x|), with no field copy of the tensor.
#[pyfunction]
fn i64_contract<'py>(
    py: Python<'py>,
    table: PyReadonlyArray1<'py, i64>,
    log_shape: Vec<u32>,
    axis: usize,
    weights: PyReadonlyArray2<'py, u64>,
) -> PyResult<Bound<'py, PyArray2<u64>>> {
    let (table, weights) = (table.as_slice()?, fr_vec(&weights)?);
    let out = py.allow_threads(|| mle::contract_i64(table, &log_shape, axis, &weights))?;
    Ok(fr_vec_to_py(py, &out))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(mle_evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(mle_fold, m)?)?;
    m.add_function(wrap_pyfunction!(eq_vector, m)?)?;
    m.add_function(wrap_pyfunction!(mle_partial_evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(i64_contract, m)?)?;
    Ok(())
}
