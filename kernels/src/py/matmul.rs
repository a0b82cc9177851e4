use crate::matmul;
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray2};
use pyo3::prelude::*;

/// `(a·b, max_bits)` for int64 matrices, exact with 128-bit accumulation.
#[pyfunction]
fn matmul_i64<'py>(
    py: Python<'py>,
    a: PyReadonlyArray2<'py, i64>,
    b: PyReadonlyArray2<'py, i64>,
) -> PyResult<(Bound<'py, PyArray2<i64>>, u32)> {
    let (m, k) = a.as_array().dim();
    let (k2, n) = b.as_array().dim();
    if k != k2 {
        return Err(pyo3::exceptions::PyValueError::new_err(format!("matmul_i64: inner dimensions differ ({k} vs {k2})")));
    }
    let (a, b) = (a.as_array().iter().copied().collect::<Vec<_>>(), b.as_array().iter().copied().collect::<Vec<_>>());
    let (c, bits) = py.allow_threads(|| matmul::matmul_i64(&a, &b, m, k, n))?;
    Ok((Array2::from_shape_vec((m, n), c).expect("m x n").into_pyarray(py), bits))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(matmul_i64, m)?)
}
