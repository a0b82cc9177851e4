use super::convert::{fr_scalar, fr_vec, fr_vec_to_py};
use crate::bits;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

/// Packed `width`-bit two's complement of each int64 (any shape; flattened row-major).
#[pyfunction]
fn bits_decompose<'py>(py: Python<'py>, values: numpy::PyReadonlyArrayDyn<'py, i64>, width: u32) -> PyResult<Bound<'py, PyArray1<u64>>> {
    let values: Vec<i64> = values.as_array().iter().copied().collect();
    let out = py.allow_threads(|| bits::decompose(&values, width))?;
    Ok(out.into_pyarray(py))
}

#[pyfunction]
fn bits_to_field<'py>(py: Python<'py>, bits: PyReadonlyArray1<'py, u64>, width: u32) -> PyResult<Bound<'py, PyArray2<u64>>> {
    let bits = bits.as_slice()?;
    let out = py.allow_threads(|| bits::to_field(bits, width))?;
    Ok(fr_vec_to_py(py, &out))
}

#[pyfunction]
fn bits_fold<'py>(py: Python<'py>, bits: PyReadonlyArray1<'py, u64>, width: u32, r: PyReadonlyArray1<'py, u64>) -> PyResult<Bound<'py, PyArray2<u64>>> {
    let (bits, r) = (bits.as_slice()?, fr_scalar(&r)?);
    let out = py.allow_threads(|| bits::fold(bits, width, r))?;
    Ok(fr_vec_to_py(py, &out))
}

#[pyfunction]
fn bits_partial_evaluate<'py>(py: Python<'py>, bits: PyReadonlyArray1<'py, u64>, width: u32, point: PyReadonlyArray2<'py, u64>) -> PyResult<Bound<'py, PyArray2<u64>>> {
    let (bits, point) = (bits.as_slice()?, fr_vec(&point)?);
    let out = py.allow_threads(|| bits::partial_evaluate(bits, width, &point))?;
    Ok(fr_vec_to_py(py, &out))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bits_decompose, m)?)?;
    m.add_function(wrap_pyfunction!(bits_to_field, m)?)?;
    m.add_function(wrap_pyfunction!(bits_fold, m)?)?;
    m.add_function(wrap_pyfunction!(bits_partial_evaluate, m)?)?;
    Ok(())
}
