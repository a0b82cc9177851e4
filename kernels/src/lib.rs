//! Data-parallel primitives for zkdl over the BLS12-381 scalar field and group G1.
//!
//! Nothing here knows the protocol: these functions fold vectors, evaluate multilinear
//! extensions, compute sumcheck round polynomials, multiply integer matrices, decompose bits,
//! commit, run MSMs, hash the transcript and draw Keccak permutations. Conventions (variable order, encodings) are in
//! `docs/kernels.md`; the one that matters most: multilinear variables are LSB first, variable 0
//! is the least significant bit of the table index.

pub mod bits;
pub mod commit;
pub mod curve;
pub mod error;
pub mod field;
pub mod matmul;
pub mod mle;
pub mod shuffle;
pub mod sumcheck;
pub mod tensor;
pub mod transcript;

#[cfg(feature = "python")]
mod py;

pub use ark_bls12_381::{Fr, G1Affine, G1Projective};
pub use error::KernelError;

/// Below this many elements a loop runs on one thread: rayon's split costs more than it saves.
pub const PAR_MIN_LEN: usize = 1 << 11;
