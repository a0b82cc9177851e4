use super::convert::{fr_vec, fr_vec_to_py};
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

/// Per weight vector (uint64[n, 4] each), the `width` sums Σ_i w_i·bit_j(i): uint64[k·width, 4].
#[pyfunction]
fn bits_weighted_sums<'py>(
    py: Python<'py>,
    bits: PyReadonlyArray1<'py, u64>,
    width: u32,
    weights: Vec<PyReadonlyArray2<'py, u64>>,
) -> PyResult<Bound<'py, PyArray2<u64>>> {
    let bits = bits.as_slice()?;
    let weights = weights.iter().map(fr_vec).collect::<PyResult<Vec<_>>>()?;
    let out = py.allow_threads(|| {
        let refs: Vec<&[crate::Fr]> = weights.iter().map(Vec::as_slice).collect();
        bits::weighted_sums(bits, width, &refs)
    })?;
    Ok(fr_vec_to_py(py, &out.concat()))
}

/// The Gram matrix Σ_i w_i·bit_j1(i)·bit_j2(i), uint64[width·width, 4] row-major.
#[pyfunction]
fn bits_gram<'py>(
    py: Python<'py>,
    bits: PyReadonlyArray1<'py, u64>,
    width: u32,
    weights: PyReadonlyArray2<'py, u64>,
) -> PyResult<Bound<'py, PyArray2<u64>>> {
    let (bits, weights) = (bits.as_slice()?, fr_vec(&weights)?);
    let out = py.allow_threads(|| bits::gram(bits, width, &weights))?;
    Ok(fr_vec_to_py(py, &out))
}

/// Binds the log2(width) bit variables: out[i] = Σ_j eq(point, j)·bit_j(i).
#[pyfunction]
fn bits_bind_low<'py>(
    py: Python<'py>,
    bits: PyReadonlyArray1<'py, u64>,
    width: u32,
    point: PyReadonlyArray2<'py, u64>,
) -> PyResult<Bound<'py, PyArray2<u64>>> {
    let (bits, point) = (bits.as_slice()?, fr_vec(&point)?);
    let out = py.allow_threads(|| bits::bind_low(bits, width, &point))?;
    Ok(fr_vec_to_py(py, &out))
}

/// Binds the highest len(point) variables of the flat bit tensor (a Hyrax row fold).
#[pyfunction]
fn bits_fold_high<'py>(
    py: Python<'py>,
    bits: PyReadonlyArray1<'py, u64>,
    width: u32,
    point: PyReadonlyArray2<'py, u64>,
) -> PyResult<Bound<'py, PyArray2<u64>>> {
    let (bits, point) = (bits.as_slice()?, fr_vec(&point)?);
    let out = py.allow_threads(|| bits::fold_high(bits, width, &point))?;
    Ok(fr_vec_to_py(py, &out))
}

/// Packs a 0/1 field vector uint64[n·width, 4] into n words; any other entry is an error.
#[pyfunction]
fn bits_from_field<'py>(py: Python<'py>, values: PyReadonlyArray2<'py, u64>, width: u32) -> PyResult<Bound<'py, PyArray1<u64>>> {
    if values.as_array().ncols() != 4 {
        return Err(pyo3::exceptions::PyValueError::new_err("field vectors have shape (n, 4)"));
    }
    let limbs = values.as_slice()?;
    let out = py.allow_threads(|| bits::pack_field_limbs(limbs, width))?;
    Ok(out.into_pyarray(py))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bits_decompose, m)?)?;
    m.add_function(wrap_pyfunction!(bits_to_field, m)?)?;
    m.add_function(wrap_pyfunction!(bits_weighted_sums, m)?)?;
    m.add_function(wrap_pyfunction!(bits_gram, m)?)?;
    m.add_function(wrap_pyfunction!(bits_bind_low, m)?)?;
    m.add_function(wrap_pyfunction!(bits_fold_high, m)?)?;
    m.add_function(wrap_pyfunction!(bits_from_field, m)?)?;
    Ok(())
}
