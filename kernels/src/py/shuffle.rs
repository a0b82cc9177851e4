//! `keccak_permutation`: the Keccak-driven Fisher–Yates permutation (`shuffle.rs`).

use crate::shuffle;
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;

/// The permutation of `0..n` drawn from the Keccak words under `prefix`, as `uint64[n]`.
#[pyfunction]
fn keccak_permutation<'py>(py: Python<'py>, prefix: &[u8], n: u64) -> Bound<'py, PyArray1<u64>> {
    let prefix = prefix.to_vec();
    py.allow_threads(move || shuffle::permutation(&prefix, n)).into_pyarray(py)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(keccak_permutation, m)?)
}
