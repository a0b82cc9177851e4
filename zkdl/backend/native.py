"""The native backend: the Rust extension `zkdl._kernels` (docs/kernels.md), multi-threaded on CPU.

A `Vector` here is the kernels' numpy `uint64[n, 4]` (the Montgomery limbs of each element) and a
field tensor `uint64[*shape, 4]`; nothing outside this module relies on that. Scalars cross the
boundary as Python ints, converted through the canonical 32-byte big-endian encoding, which the
kernels check. Every function calls the extension at call time, so a test that replaces one of
its functions (the prover's randomness `fr_random`, say) reaches every caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

import zkdl._kernels as _kernels  # the Rust extension (no type stubs)

__all__ = [
    "G1_COMPRESSED_BYTES",
    "G1_POINT_BYTES",
    "MODULUS",
    "CommitKey",
    "KernelError",
    "ProductSumcheck",
    "Transcript",
    "Vector",
    "add",
    "bits_bind_low",
    "bits_decompose",
    "bits_fold_high",
    "bits_from_field",
    "bits_gram",
    "bits_to_field",
    "bits_weighted_sums",
    "concat",
    "contract_i64",
    "eq_vector",
    "flatten",
    "from_i64",
    "from_ints",
    "full",
    "g1_add",
    "g1_compress",
    "g1_decompress",
    "g1_fold",
    "g1_identity",
    "g1_scale",
    "g1_scale_each",
    "hash_to_g1",
    "inner",
    "keccak_permutation",
    "matmul_i64",
    "mle_evaluate",
    "msm",
    "pad",
    "partial_evaluate",
    "random",
    "scalars_from_bytes",
    "scale",
    "shape",
    "sub",
    "tensor_combination",
    "to_ints",
    "total",
]  # fmt: skip

MODULUS = int(_kernels.MODULUS)
KernelError = _kernels.KernelError  # a kernel refused its input (a ValueError)
Vector = np.ndarray
G1_POINT_BYTES = _kernels.G1_POINT_BYTES
G1_COMPRESSED_BYTES = _kernels.G1_COMPRESSED_BYTES
CommitKey = _kernels.CommitKey
Transcript = _kernels.Transcript


# ---- field vectors -------------------------------------------------------------------------------


def from_ints(values: Iterable[int]) -> Vector:
    """A field vector from integers (reduced mod r; negative x becomes r − |x|)."""
    encoded = b"".join((v % MODULUS).to_bytes(32, "big") for v in values)
    return _kernels.fr_from_bytes(np.frombuffer(encoded, dtype=np.uint8).reshape(-1, 32))


def from_int(value: int) -> np.ndarray:
    """One element (`uint64[4]`): the kernels' scalar argument."""
    return from_ints([value])[0]


def to_ints(vector: Vector) -> list[int]:
    encoded = _kernels.fr_to_bytes(np.ascontiguousarray(vector).reshape(-1, 4))
    return [int.from_bytes(row.tobytes(), "big") for row in encoded]


def to_int(element: np.ndarray) -> int:
    return to_ints(element.reshape(1, 4))[0]


def from_i64(values: np.ndarray) -> Vector:
    """The entries of an int64 tensor of any shape, row-major, as a field vector."""
    return _kernels.fr_from_i64(np.ascontiguousarray(values).reshape(-1))


def scalars_from_bytes(data: bytes) -> list[int]:
    """Canonical 32-byte big-endian encodings; KernelError names the first one ≥ r."""
    return to_ints(_kernels.fr_from_bytes(np.frombuffer(data, dtype=np.uint8).reshape(-1, 32)))


def random(n: int) -> Vector:
    """n uniform elements from the operating system (blinds and masks)."""
    return _kernels.fr_random(n)


def full(n: int, value: int) -> Vector:
    return np.ascontiguousarray(np.broadcast_to(from_int(value), (n, 4)))


def pad(vector: Vector, n: int) -> Vector:
    """The vector followed by zeros up to n entries."""
    out = np.zeros((n, 4), dtype=np.uint64)  # zero is all-zero limbs
    out[: len(vector)] = vector
    return out


def concat(vectors: Sequence[Vector]) -> Vector:
    return np.concatenate(vectors)


def shape(tensor: Vector) -> tuple[int, ...]:
    """The shape of a field tensor (at least one axis); ValueError if it is none."""
    if not isinstance(tensor, np.ndarray) or tensor.ndim < 2 or tensor.shape[-1] != 4 or tensor.dtype != np.uint64:
        raise ValueError(
            f"field entries must be uint64[..., 4], got {getattr(tensor, 'dtype', type(tensor))}{getattr(tensor, 'shape', '')}"
        )
    return tuple(tensor.shape[:-1])


def flatten(tensor: Vector) -> Vector:
    """A field tensor's entries in row-major order."""
    return tensor.reshape(-1, 4)


def add(a: Vector, b: Vector) -> Vector:
    return _kernels.fr_add(a, b)


def sub(a: Vector, b: Vector) -> Vector:
    return _kernels.fr_sub(a, b)


def scale(vector: Vector, scalar: int) -> Vector:
    return _kernels.fr_scale(vector, from_int(scalar))


def inner(a: Vector, b: Vector) -> int:
    return to_int(_kernels.fr_inner(a, b))


def total(vector: Vector) -> int:
    return to_int(_kernels.fr_sum(vector))


# ---- multilinear extensions (variable 0 is the lowest index bit) ---------------------------------


def eq_vector(point: Sequence[int]) -> Vector:
    """eq(point, x) for every x of the hypercube."""
    return _kernels.eq_vector(from_ints(point))


def mle_evaluate(table: Vector, point: Sequence[int]) -> int:
    return to_int(_kernels.mle_evaluate(table, from_ints(point)))


def partial_evaluate(table: Vector, log_shape: Sequence[int], axis: int, point: Sequence[int]) -> Vector:
    """Binds every variable of one axis of a row-major tensor table to the point."""
    return _kernels.mle_partial_evaluate(table, list(log_shape), axis, from_ints(point))


def contract_i64(values: np.ndarray, log_shape: Sequence[int], axis: int, weights: Vector) -> Vector:
    """Σ_k weights[k]·values[…, k, …] over one axis of an int64 tensor, with no field copy of it."""
    return _kernels.i64_contract(np.ascontiguousarray(values).reshape(-1), list(log_shape), axis, weights)


def tensor_combination(log_shape: Sequence[int], terms: Sequence[tuple[int, Sequence[tuple[Sequence[int], Vector]]]]) -> Vector:
    """Σ_k α_k·Π_f table_f(x restricted to axes_f) over a row-major shape: terms are (α_k, [(axes_f, table_f)])."""
    return _kernels.fr_tensor_combination(list(log_shape), [(from_int(alpha), list(factors)) for alpha, factors in terms])


class ProductSumcheck:
    """The rounds of Σ_x eq(w, x)·f_1(x)·…·f_k(x) over full tables (eq only with `eq_point`; at most
    7 tables, eq included): a `zkdl.proof.sumcheck.RoundProver`."""

    def __init__(self, factors: Sequence[Vector], eq_point: Sequence[int] | None = None) -> None:
        eq = None if eq_point is None else from_ints(eq_point)
        self._inner = _kernels.ProductSumcheck(list(factors), eq)
        self.num_vars, self.degree = self._inner.num_vars, self._inner.degree

    def round_values(self) -> list[int]:
        return to_ints(self._inner.round_evaluations())

    def bind(self, r: int) -> None:
        self._inner.bind(from_int(r))

    def final_values(self) -> list[int]:
        return to_ints(self._inner.final_values())


# ---- packed bits: uint64[n] words, bit j of word i is entry (i, j) of the tensor [n, width] ----------


def bits_decompose(values: np.ndarray, width: int) -> np.ndarray:
    """The two's-complement bits of an int64 tensor, one word per entry."""
    return _kernels.bits_decompose(values, width)


def bits_to_field(words: np.ndarray, width: int) -> Vector:
    return _kernels.bits_to_field(words, width)


def bits_from_field(vector: Vector, width: int) -> np.ndarray:
    """Packs a 0/1 field vector; KernelError if an entry is neither."""
    return _kernels.bits_from_field(vector, width)


def bits_weighted_sums(words: np.ndarray, width: int, weights: Sequence[Vector]) -> Vector:
    """Per weight vector w, the width sums Σ_i w_i·bit_j(i), concatenated."""
    return _kernels.bits_weighted_sums(words, width, list(weights))


def bits_gram(words: np.ndarray, width: int, weights: Vector) -> Vector:
    """Σ_i w_i·bit_j1(i)·bit_j2(i), width × width row-major."""
    return _kernels.bits_gram(words, width, weights)


def bits_bind_low(words: np.ndarray, width: int, point: Sequence[int]) -> Vector:
    """Binds the log2(width) bit variables: out[i] = Σ_j eq(point, j)·bit_j(i)."""
    return _kernels.bits_bind_low(words, width, from_ints(point))


def bits_fold_high(words: np.ndarray, width: int, point: Sequence[int]) -> Vector:
    """Binds the highest len(point) variables of the flat bit tensor (a Hyrax row fold)."""
    return _kernels.bits_fold_high(words, width, from_ints(point))


def matmul_i64(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    """Exact a @ b with 128-bit accumulation and the widest two's-complement width of an entry;
    KernelError if an entry leaves int64."""
    return _kernels.matmul_i64(a, b)


def keccak_permutation(prefix: bytes, n: int) -> np.ndarray:
    """The Keccak-driven Fisher–Yates permutation of range(n) under `prefix` (kernels/src/shuffle.rs), int64 [n]."""
    return _kernels.keccak_permutation(prefix, n).astype(np.int64)


# ---- G1 points: numpy uint8[n, 96], arkworks' uncompressed affine ---------------------------------


def g1_identity() -> np.ndarray:
    return _kernels.g1_identity()


def hash_to_g1(domain_tag: bytes, message: bytes) -> np.ndarray:
    """RFC 9380 hash-to-curve (BLS12381G1_XMD:SHA-256_SSWU_RO_)."""
    return _kernels.hash_to_g1(domain_tag, message)


def g1_compress(points: np.ndarray) -> np.ndarray:
    """The 48-byte wire encodings, uint8[n, 48]."""
    return _kernels.g1_compress(points)


def g1_decompress(encodings: np.ndarray) -> np.ndarray:
    """Checked wire encodings (on the curve, in the subgroup, canonical); KernelError names the first bad one."""
    return _kernels.g1_decompress(encodings)


def g1_add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _kernels.g1_add(a, b)


def g1_scale(points: np.ndarray, scalar: int) -> np.ndarray:
    return _kernels.g1_scale(points, from_int(scalar))


def g1_scale_each(points: np.ndarray, scalars: Vector) -> np.ndarray:
    return _kernels.g1_scale_each(points, scalars)


def g1_fold(points: np.ndarray, w_lo: int, w_hi: int) -> np.ndarray:
    """w_lo·P[j] + w_hi·P[j + n/2] for each j < n/2 (the inner-product argument's generator fold)."""
    return _kernels.g1_fold(points, from_int(w_lo), from_int(w_hi))


def msm(points: np.ndarray, scalars: Vector) -> np.ndarray:
    return _kernels.msm(points, scalars)
