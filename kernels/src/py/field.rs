use super::convert::{fr_scalar, fr_scalar_to_py, fr_vec, fr_vec_to_py};
use crate::field;
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

type Vec2<'py> = Bound<'py, PyArray2<u64>>;

#[pyfunction]
fn fr_from_i64<'py>(py: Python<'py>, values: PyReadonlyArray1<'py, i64>) -> PyResult<Vec2<'py>> {
    let values = values.as_slice()?;
    let out = py.allow_threads(|| field::vec_from_i64(values));
    Ok(fr_vec_to_py(py, &out))
}

/// Canonical big-endian encodings, `uint8[n, 32]`.
#[pyfunction]
fn fr_to_bytes<'py>(py: Python<'py>, values: PyReadonlyArray2<'py, u64>) -> PyResult<Bound<'py, PyArray2<u8>>> {
    let values = fr_vec(&values)?;
    let flat: Vec<u8> = values.iter().flat_map(field::to_bytes_be).collect();
    Ok(Array2::from_shape_vec((values.len(), 32), flat).expect("n x 32").into_pyarray(py))
}

/// Decodes `uint8[n, 32]` canonical encodings; any value ≥ r is an error naming its index.
#[pyfunction]
fn fr_from_bytes<'py>(py: Python<'py>, encodings: PyReadonlyArray2<'py, u8>) -> PyResult<Vec2<'py>> {
    let view = encodings.as_array();
    if view.ncols() != 32 {
        return Err(pyo3::exceptions::PyValueError::new_err("field encodings have shape (n, 32)"));
    }
    let values = view
        .rows()
        .into_iter()
        .enumerate()
        .map(|(index, row)| {
            let bytes: [u8; 32] = std::array::from_fn(|i| row[i]);
            field::from_bytes_be(&bytes).ok_or(crate::KernelError::NonCanonical { index })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(fr_vec_to_py(py, &values))
}

macro_rules! binary_op {
    ($name:ident, $op:path) => {
        #[pyfunction]
        fn $name<'py>(py: Python<'py>, a: PyReadonlyArray2<'py, u64>, b: PyReadonlyArray2<'py, u64>) -> PyResult<Vec2<'py>> {
            let (a, b) = (fr_vec(&a)?, fr_vec(&b)?);
            let out = py.allow_threads(|| $op(&a, &b))?;
            Ok(fr_vec_to_py(py, &out))
        }
    };
}

binary_op!(fr_add, field::add);
binary_op!(fr_sub, field::sub);
binary_op!(fr_mul, field::mul);

#[pyfunction]
fn fr_scale<'py>(py: Python<'py>, a: PyReadonlyArray2<'py, u64>, s: PyReadonlyArray1<'py, u64>) -> PyResult<Vec2<'py>> {
    let (a, s) = (fr_vec(&a)?, fr_scalar(&s)?);
    let out = py.allow_threads(|| field::scale(&a, s));
    Ok(fr_vec_to_py(py, &out))
}

#[pyfunction]
fn fr_sum<'py>(py: Python<'py>, a: PyReadonlyArray2<'py, u64>) -> PyResult<Bound<'py, PyArray1<u64>>> {
    let a = fr_vec(&a)?;
    let out = py.allow_threads(|| field::sum(&a));
    Ok(fr_scalar_to_py(py, out))
}

#[pyfunction]
fn fr_inner<'py>(py: Python<'py>, a: PyReadonlyArray2<'py, u64>, b: PyReadonlyArray2<'py, u64>) -> PyResult<Bound<'py, PyArray1<u64>>> {
    let (a, b) = (fr_vec(&a)?, fr_vec(&b)?);
    let out = py.allow_threads(|| field::inner_product(&a, &b))?;
    Ok(fr_scalar_to_py(py, out))
}

/// `n` uniform field elements from the operating system's randomness (for blinding only).
#[pyfunction]
fn fr_random(py: Python<'_>, n: usize) -> Vec2<'_> {
    fr_vec_to_py(py, &field::random(n))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fr_from_i64, m)?)?;
    m.add_function(wrap_pyfunction!(fr_to_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(fr_from_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(fr_add, m)?)?;
    m.add_function(wrap_pyfunction!(fr_sub, m)?)?;
    m.add_function(wrap_pyfunction!(fr_mul, m)?)?;
    m.add_function(wrap_pyfunction!(fr_scale, m)?)?;
    m.add_function(wrap_pyfunction!(fr_sum, m)?)?;
    m.add_function(wrap_pyfunction!(fr_inner, m)?)?;
    m.add_function(wrap_pyfunction!(fr_random, m)?)?;
    Ok(())
}
