//! The Python extension `zkdl._kernels`: thin wrappers that convert numpy arrays, release the
//! GIL around the work and map `KernelError` to Python exceptions. No logic lives here.

mod bits;
mod commit;
mod convert;
mod curve;
mod field;
mod matmul;
mod mle;
mod shuffle;
mod sumcheck;
mod tensor;
mod transcript;

use pyo3::prelude::*;

pyo3::create_exception!(_kernels, KernelError, pyo3::exceptions::PyValueError, "A kernel refused its input.");

impl From<crate::KernelError> for PyErr {
    fn from(err: crate::KernelError) -> PyErr {
        KernelError::new_err(err.to_string())
    }
}

#[pymodule]
fn _kernels(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("KernelError", m.py().get_type::<KernelError>())?;
    m.add("MODULUS", crate::field::modulus_decimal())?;
    field::register(m)?;
    mle::register(m)?;
    sumcheck::register(m)?;
    tensor::register(m)?;
    matmul::register(m)?;
    bits::register(m)?;
    curve::register(m)?;
    commit::register(m)?;
    transcript::register(m)?;
    shuffle::register(m)?;
    Ok(())
}
