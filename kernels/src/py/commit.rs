//! `CommitKey`: Pedersen/Hyrax commitments with hash-to-curve generators.

use super::convert::{fr_scalar, fr_vec};
use super::curve::{flat, point_out, points_out, Point, Points};
use crate::commit;
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

/// Generators G_j = hash_to_g1(tag, b"zkdl/G" ‖ be64(j)), j < row_length, and
/// H = hash_to_g1(tag, b"zkdl/H"), cached affine.
#[pyclass(name = "CommitKey", module = "zkdl._kernels", frozen)]
pub struct PyCommitKey {
    inner: commit::CommitKey,
}

#[pymethods]
impl PyCommitKey {
    #[new]
    fn new(py: Python<'_>, domain_tag: &[u8], row_length: usize) -> PyResult<Self> {
        let inner = py.allow_threads(|| commit::CommitKey::new(domain_tag, row_length))?;
        Ok(Self { inner })
    }

    #[getter]
    fn row_length(&self) -> usize {
        self.inner.row_length()
    }

    fn generators<'py>(&self, py: Python<'py>) -> Points<'py> {
        points_out(py, self.inner.generators())
    }

    fn blinding_generator<'py>(&self, py: Python<'py>) -> Point<'py> {
        point_out(py, self.inner.blinding_generator())
    }

    /// Row commitments of `uint64[m·g, 4]` field entries with `uint64[m, 4]` blinds.
    fn commit_rows<'py>(
        &self,
        py: Python<'py>,
        values: PyReadonlyArray2<'py, u64>,
        blinds: PyReadonlyArray2<'py, u64>,
    ) -> PyResult<Points<'py>> {
        let (values, blinds) = (fr_vec(&values)?, fr_vec(&blinds)?);
        let out = py.allow_threads(|| self.inner.commit_rows(&values, &blinds))?;
        Ok(points_out(py, &out))
    }

    /// Row commitments of `int64[m·g]` entries.
    fn commit_rows_i64<'py>(
        &self,
        py: Python<'py>,
        values: PyReadonlyArray1<'py, i64>,
        blinds: PyReadonlyArray2<'py, u64>,
    ) -> PyResult<Points<'py>> {
        let (values, blinds) = (flat(&values), fr_vec(&blinds)?);
        let out = py.allow_threads(|| self.inner.commit_rows_i64(&values, &blinds))?;
        Ok(points_out(py, &out))
    }

    /// Row commitments of the 0/1 tensor whose entry i·width + j is bit j of `bits[i]`.
    fn commit_rows_bits<'py>(
        &self,
        py: Python<'py>,
        bits: PyReadonlyArray1<'py, u64>,
        width: usize,
        blinds: PyReadonlyArray2<'py, u64>,
    ) -> PyResult<Points<'py>> {
        let (bits, blinds) = (flat(&bits), fr_vec(&blinds)?);
        let out = py.allow_threads(|| self.inner.commit_rows_bits(&bits, width, &blinds))?;
        Ok(points_out(py, &out))
    }

    /// Σ_j v_j·G_j + ρ·H for `uint64[k, 4]` values, k ≤ row_length.
    fn commit_vector<'py>(
        &self,
        py: Python<'py>,
        values: PyReadonlyArray2<'py, u64>,
        blind: PyReadonlyArray1<'py, u64>,
    ) -> PyResult<Point<'py>> {
        let (values, blind) = (fr_vec(&values)?, fr_scalar(&blind)?);
        let out = py.allow_threads(|| self.inner.commit_vector(&values, blind))?;
        Ok(point_out(py, out))
    }

    fn __repr__(&self) -> String {
        format!("CommitKey(row_length={})", self.inner.row_length())
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCommitKey>()
}
