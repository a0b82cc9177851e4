//! The one error type of the kernels. Untrusted input gets a `KernelError`, never a panic.

use thiserror::Error;

/// Why a kernel refused its input.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum KernelError {
    /// Two inputs that must have the same length do not.
    #[error("length mismatch: {what} has {got} elements, expected {expected}")]
    LengthMismatch { what: &'static str, got: usize, expected: usize },
    /// A length that must be a power of two is not.
    #[error("{what} has length {len}, which is not a power of two")]
    NotPowerOfTwo { what: &'static str, len: usize },
    /// A field element's encoding is not the canonical one (value not below the modulus).
    #[error("element {index} is not a canonical field element (value not below r)")]
    NonCanonical { index: usize },
    /// A field element does not fit the signed 64-bit integer asked for.
    #[error("element {index} does not fit in int64")]
    OutOfRange { index: usize },
    /// An exact integer result left the int64 range.
    #[error("entry ({row}, {col}) of the product needs {bits} bits, more than int64 holds")]
    Overflow { row: usize, col: usize, bits: u32 },
    /// Zero has no inverse.
    #[error("element {index} is zero and has no inverse")]
    ZeroInverse { index: usize },
    /// A value does not fit the bit width asked for.
    #[error("element {index} = {value} does not fit in {width}-bit two's complement")]
    BitWidth { index: usize, value: i64, width: u32 },
    /// A point encoding is malformed, off the curve or outside the prime-order subgroup.
    #[error("point {index} is invalid: {reason}")]
    InvalidPoint { index: usize, reason: String },
    /// Any other argument outside its documented range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

pub type Result<T> = std::result::Result<T, KernelError>;
