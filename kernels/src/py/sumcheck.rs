use super::convert::{fr_scalar, fr_vec, fr_vec_to_py};
use crate::sumcheck;
use numpy::{PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

/// The prover's tables of Σ_x eq(w, x)·f_1(x)·…·f_k(x), held in native memory across rounds.
#[pyclass(module = "zkdl._kernels")]
struct ProductSumcheck(sumcheck::ProductSumcheck);

#[pymethods]
impl ProductSumcheck {
    #[new]
    #[pyo3(signature = (factors, eq_point=None))]
    fn new(factors: Vec<PyReadonlyArray2<'_, u64>>, eq_point: Option<PyReadonlyArray2<'_, u64>>) -> PyResult<Self> {
        let tables = factors.iter().map(fr_vec).collect::<PyResult<Vec<_>>>()?;
        let w = eq_point.as_ref().map(fr_vec).transpose()?;
        Ok(Self(sumcheck::ProductSumcheck::new(tables, w.as_deref())?))
    }

    #[getter]
    fn num_vars(&self) -> u32 {
        self.0.num_vars()
    }

    #[getter]
    fn degree(&self) -> usize {
        self.0.degree()
    }

    /// The round polynomial at 0, 1, …, degree.
    fn round_evaluations<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<u64>>> {
        let out = py.allow_threads(|| self.0.round_evaluations())?;
        Ok(fr_vec_to_py(py, &out))
    }

    fn bind(&mut self, py: Python<'_>, r: PyReadonlyArray1<'_, u64>) -> PyResult<()> {
        let r = fr_scalar(&r)?;
        Ok(py.allow_threads(|| self.0.bind(r))?)
    }

    /// Each factor's value at the bound point (the eq factor excluded).
    fn final_values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<u64>>> {
        Ok(fr_vec_to_py(py, &self.0.final_values()?))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ProductSumcheck>()
}
