//! numpy <-> arkworks conversions. Field elements cross as `uint64[..., 4]` Montgomery limbs;
//! limbs are checked to be below r so that a stray array can never become a non-reduced element.

use crate::Fr;
use ark_ff::{BigInt, PrimeField};
use numpy::ndarray::{Array1, Array2, ArrayView2};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rayon::prelude::*;

fn limbs_to_fr(limbs: [u64; 4], index: usize) -> PyResult<Fr> {
    let repr = BigInt(limbs);
    if repr >= Fr::MODULUS {
        return Err(PyValueError::new_err(format!("element {index}: limbs are not a reduced field element")));
    }
    Ok(Fr::new_unchecked(repr))
}

pub fn fr_vec_from_view(view: ArrayView2<'_, u64>) -> PyResult<Vec<Fr>> {
    if view.ncols() != 4 {
        return Err(PyValueError::new_err(format!("field vectors have shape (n, 4), got (n, {})", view.ncols())));
    }
    let owned;
    let flat = match view.as_slice() {
        Some(flat) => flat,
        None => {
            owned = view.iter().copied().collect::<Vec<u64>>();
            &owned
        }
    };
    flat.par_chunks_exact(4)
        .with_min_len(crate::PAR_MIN_LEN)
        .enumerate()
        .map(|(i, limbs)| limbs_to_fr([limbs[0], limbs[1], limbs[2], limbs[3]], i))
        .collect()
}

/// A field vector from a `uint64[n, 4]` array.
pub fn fr_vec(array: &PyReadonlyArray2<'_, u64>) -> PyResult<Vec<Fr>> {
    fr_vec_from_view(array.as_array())
}

/// A field element from a `uint64[4]` array.
pub fn fr_scalar(array: &PyReadonlyArray1<'_, u64>) -> PyResult<Fr> {
    let view = array.as_array();
    if view.len() != 4 {
        return Err(PyValueError::new_err(format!("a field element is uint64[4], got length {}", view.len())));
    }
    limbs_to_fr([view[0], view[1], view[2], view[3]], 0)
}

pub fn fr_vec_to_py<'py>(py: Python<'py>, values: &[Fr]) -> Bound<'py, PyArray2<u64>> {
    let flat: Vec<u64> = values.par_iter().with_min_len(crate::PAR_MIN_LEN).flat_map_iter(|x| x.0 .0).collect();
    Array2::from_shape_vec((values.len(), 4), flat).expect("n x 4").into_pyarray(py)
}

pub fn fr_scalar_to_py(py: Python<'_>, value: Fr) -> Bound<'_, PyArray1<u64>> {
    Array1::from_vec(value.0 .0.to_vec()).into_pyarray(py)
}
