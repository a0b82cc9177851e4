//! `Transcript`: the Keccak-256 Fiat–Shamir transcript (byte layout in `transcript.rs`).

use super::convert::{fr_vec, fr_vec_to_py};
use super::curve::points_in;
use crate::transcript;
use numpy::{PyArray2, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

#[pyclass(name = "Transcript", module = "zkdl._kernels")]
#[derive(Clone)]
pub struct PyTranscript {
    inner: transcript::Transcript,
}

#[pymethods]
impl PyTranscript {
    #[new]
    fn new(domain: &[u8]) -> Self {
        Self { inner: transcript::Transcript::new(domain) }
    }

    fn absorb_bytes(&mut self, label: &[u8], data: &[u8]) {
        self.inner.absorb_bytes(label, data);
    }

    /// Absorbs `uint64[n, 4]` field elements as canonical 32-byte big-endian encodings.
    fn absorb_fr(&mut self, label: &[u8], values: PyReadonlyArray2<'_, u64>) -> PyResult<()> {
        self.inner.absorb_fr(label, &fr_vec(&values)?);
        Ok(())
    }

    /// Absorbs `uint8[n, 96]` points as 48-byte compressed encodings.
    fn absorb_points(&mut self, py: Python<'_>, label: &[u8], points: PyReadonlyArray2<'_, u8>) -> PyResult<()> {
        let points = points_in(py, &points)?;
        self.inner.absorb_points(label, &points);
        Ok(())
    }

    /// `n` challenges as `uint64[n, 4]`.
    fn challenge<'py>(&mut self, py: Python<'py>, label: &[u8], n: usize) -> PyResult<Bound<'py, PyArray2<u64>>> {
        Ok(fr_vec_to_py(py, &self.inner.challenge(label, n)?))
    }

    /// The 32-byte running digest.
    fn state<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.state())
    }

    /// An independent copy.
    fn fork(&self) -> Self {
        self.clone()
    }

    fn __repr__(&self) -> String {
        let hex: String = self.inner.state().iter().map(|b| format!("{b:02x}")).collect();
        format!("Transcript(state={hex})")
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTranscript>()
}
