//! G1 wrappers: points cross as `uint8[n, 96]` (internal) or `uint8[n, 48]` (wire).

use super::convert::{fr_scalar, fr_vec};
use crate::curve::{self, COMPRESSED_BYTES, POINT_BYTES};
use crate::G1Affine;
use numpy::ndarray::{Array1, Array2, Dimension};
use numpy::{Element, IntoPyArray, PyArray1, PyArray2, PyReadonlyArray, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::borrow::Cow;

pub(super) type Points<'py> = Bound<'py, PyArray2<u8>>;
pub(super) type Point<'py> = Bound<'py, PyArray1<u8>>;

/// The array's elements in row-major order, borrowed when it is C-contiguous.
pub(super) fn flat<'a, T: Element + Copy, D: Dimension>(array: &'a PyReadonlyArray<'_, T, D>) -> Cow<'a, [T]> {
    match array.as_slice() {
        Ok(slice) => Cow::Borrowed(slice),
        Err(_) => Cow::Owned(array.as_array().iter().copied().collect()),
    }
}

fn check_width(array: &PyReadonlyArray2<'_, u8>, width: usize, what: &str) -> PyResult<()> {
    let cols = array.as_array().ncols();
    if cols != width {
        return Err(PyValueError::new_err(format!("{what} have shape (n, {width}), got (n, {cols})")));
    }
    Ok(())
}

/// Decodes internal `uint8[n, 96]` points (no curve checks: only kernels produce them).
pub(super) fn points_in(py: Python<'_>, array: &PyReadonlyArray2<'_, u8>) -> PyResult<Vec<G1Affine>> {
    check_width(array, POINT_BYTES, "points")?;
    let bytes = flat(array);
    Ok(py.allow_threads(|| curve::decode(&bytes))?)
}

pub(super) fn bytes_2d(py: Python<'_>, bytes: Vec<u8>, width: usize) -> Points<'_> {
    let n = bytes.len() / width;
    Array2::from_shape_vec((n, width), bytes).expect("whole rows").into_pyarray(py)
}

pub(super) fn points_out<'py>(py: Python<'py>, points: &[G1Affine]) -> Points<'py> {
    bytes_2d(py, curve::encode(points), POINT_BYTES)
}

pub(super) fn point_out(py: Python<'_>, point: G1Affine) -> Point<'_> {
    Array1::from_vec(curve::encode(&[point])).into_pyarray(py)
}

/// RFC 9380 hash-to-curve, suite BLS12381G1_XMD:SHA-256_SSWU_RO_.
#[pyfunction]
fn hash_to_g1<'py>(py: Python<'py>, domain_tag: &[u8], message: &[u8]) -> PyResult<Point<'py>> {
    Ok(point_out(py, curve::hash_to_g1(domain_tag, message)?))
}

#[pyfunction]
fn g1_compress<'py>(py: Python<'py>, points: PyReadonlyArray2<'py, u8>) -> PyResult<Points<'py>> {
    let points = points_in(py, &points)?;
    Ok(bytes_2d(py, py.allow_threads(|| curve::compress(&points)), COMPRESSED_BYTES))
}

/// Decodes wire encodings with every check; a bad one is an error naming its index and reason.
#[pyfunction]
fn g1_decompress<'py>(py: Python<'py>, encodings: PyReadonlyArray2<'py, u8>) -> PyResult<Points<'py>> {
    check_width(&encodings, COMPRESSED_BYTES, "compressed points")?;
    let bytes = flat(&encodings);
    let points = py.allow_threads(|| curve::decompress(&bytes))?;
    Ok(points_out(py, &points))
}

#[pyfunction]
fn g1_add<'py>(py: Python<'py>, a: PyReadonlyArray2<'py, u8>, b: PyReadonlyArray2<'py, u8>) -> PyResult<Points<'py>> {
    let (a, b) = (points_in(py, &a)?, points_in(py, &b)?);
    let out = py.allow_threads(|| curve::add(&a, &b))?;
    Ok(points_out(py, &out))
}

#[pyfunction]
fn g1_scale<'py>(py: Python<'py>, points: PyReadonlyArray2<'py, u8>, scalar: PyReadonlyArray1<'py, u64>) -> PyResult<Points<'py>> {
    let (points, s) = (points_in(py, &points)?, fr_scalar(&scalar)?);
    let out = py.allow_threads(|| curve::scale(&points, s));
    Ok(points_out(py, &out))
}

#[pyfunction]
fn g1_scale_each<'py>(py: Python<'py>, points: PyReadonlyArray2<'py, u8>, scalars: PyReadonlyArray2<'py, u64>) -> PyResult<Points<'py>> {
    let (points, s) = (points_in(py, &points)?, fr_vec(&scalars)?);
    let out = py.allow_threads(|| curve::scale_each(&points, &s))?;
    Ok(points_out(py, &out))
}

/// w_lo·P[j] + w_hi·P[j + n/2] for each j < n/2 (a weight of one costs no multiplication).
#[pyfunction]
fn g1_fold<'py>(
    py: Python<'py>,
    points: PyReadonlyArray2<'py, u8>,
    w_lo: PyReadonlyArray1<'py, u64>,
    w_hi: PyReadonlyArray1<'py, u64>,
) -> PyResult<Points<'py>> {
    let points = points_in(py, &points)?;
    let (w_lo, w_hi) = (fr_scalar(&w_lo)?, fr_scalar(&w_hi)?);
    let out = py.allow_threads(|| curve::fold(&points, w_lo, w_hi))?;
    Ok(points_out(py, &out))
}

#[pyfunction]
fn g1_identity(py: Python<'_>) -> Point<'_> {
    point_out(py, curve::identity())
}

/// Σ s_i·P_i, scalars `uint64[n, 4]` Montgomery limbs.
#[pyfunction]
fn msm<'py>(py: Python<'py>, points: PyReadonlyArray2<'py, u8>, scalars: PyReadonlyArray2<'py, u64>) -> PyResult<Point<'py>> {
    let (points, s) = (points_in(py, &points)?, fr_vec(&scalars)?);
    Ok(point_out(py, py.allow_threads(|| curve::msm(&points, &s))?))
}

/// Σ s_i·P_i for signed 64-bit scalars (negative x is r − |x|).
#[pyfunction]
fn msm_i64<'py>(py: Python<'py>, points: PyReadonlyArray2<'py, u8>, scalars: PyReadonlyArray1<'py, i64>) -> PyResult<Point<'py>> {
    let points = points_in(py, &points)?;
    let s = flat(&scalars);
    Ok(point_out(py, py.allow_threads(|| curve::msm_i64(&points, &s))?))
}

/// Σ_{b_i = 1} P_i; every bit must be 0 or 1.
#[pyfunction]
fn msm_bits<'py>(py: Python<'py>, points: PyReadonlyArray2<'py, u8>, bits: PyReadonlyArray1<'py, u8>) -> PyResult<Point<'py>> {
    let points = points_in(py, &points)?;
    let b = flat(&bits);
    Ok(point_out(py, py.allow_threads(|| curve::msm_bits(&points, &b))?))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("G1_POINT_BYTES", POINT_BYTES)?;
    m.add("G1_COMPRESSED_BYTES", COMPRESSED_BYTES)?;
    m.add_function(wrap_pyfunction!(hash_to_g1, m)?)?;
    m.add_function(wrap_pyfunction!(g1_compress, m)?)?;
    m.add_function(wrap_pyfunction!(g1_decompress, m)?)?;
    m.add_function(wrap_pyfunction!(g1_add, m)?)?;
    m.add_function(wrap_pyfunction!(g1_scale, m)?)?;
    m.add_function(wrap_pyfunction!(g1_fold, m)?)?;
    m.add_function(wrap_pyfunction!(g1_scale_each, m)?)?;
    m.add_function(wrap_pyfunction!(g1_identity, m)?)?;
    m.add_function(wrap_pyfunction!(msm, m)?)?;
    m.add_function(wrap_pyfunction!(msm_i64, m)?)?;
    m.add_function(wrap_pyfunction!(msm_bits, m)?)?;
    Ok(())
}
