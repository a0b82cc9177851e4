"""The operations the protocol is composed of: the seam between `zkdl.proof` and the hardware.

The protocol (`zkdl/proof/`) keeps single scalars as Python ints in [0, MODULUS) and everything
larger in the backend's types; it calls only the functions below and never looks inside them.
The Rust extension (`native`, docs/kernels.md) is the one backend today; a GPU backend (cupy over
`kernels/cuda/`) would be another module with the same names, chosen here.

Types:

* `Vector`: a vector of field elements, opaque. The protocol passes vectors to the functions
  here, takes `len(v)` and slices `v[i:j]`, nothing else. A field tensor is a vector with a shape
  (`shape`, `flatten`): only tensor commitments of field entries use one.
* int64 tensors and packed bits (numpy `uint64[n]`, bit j of word i is entry (i, j) of the tensor
  [n, width]) stay numpy arrays on the host: the prover builds its witness tables with numpy.
* G1 points: numpy `uint8[n, 96]` (arkworks' uncompressed affine), made only by the backend;
  `G1_COMPRESSED_BYTES`-byte encodings on the wire.
* `CommitKey(domain_tag, row_length)`: hash-to-curve generators; `generators()`,
  `blinding_generator()`, and row commitments `commit_rows(values, blinds)`,
  `commit_rows_i64(values, blinds)`, `commit_rows_bits(words, width, blinds)` (blinds a Vector).
* `Transcript(domain)`: Keccak-256 Fiat–Shamir; `absorb_bytes`, `absorb_fr(label, Vector)`,
  `absorb_points`, `challenge(label, n) -> Vector`, `state()`.

Operations, by kind (each documented where it is defined):

* conversions: `from_ints`, `to_ints`, `from_i64`, `scalars_from_bytes`; making vectors:
  `random` (the operating system's), `full`, `pad`, `concat`, `shape`, `flatten`;
* arithmetic: `add`, `sub`, `scale`, `inner`, `total`;
* multilinear extensions (variable 0 is the lowest index bit): `eq_vector`, `mle_evaluate`,
  `partial_evaluate`, `contract_i64`, `tensor_combination`, and the dense sumcheck prover
  `ProductSumcheck`;
* packed bits: `bits_decompose`, `bits_to_field`, `bits_from_field`, `bits_weighted_sums`,
  `bits_gram`, `bits_bind_low`, `bits_fold_high`; exact integer products: `matmul_i64`; the
  Keccak-driven Fisher–Yates permutation `keccak_permutation` (the batch schedule's);
* curve: `g1_identity`, `hash_to_g1`, `g1_compress`, `g1_decompress`, `g1_add`, `g1_scale`,
  `g1_scale_each`, `g1_fold`, `msm`.

A refused input raises `KernelError` (a `ValueError`).
"""

from zkdl.backend.native import *  # noqa: F403 - the one backend: its __all__ is the surface
