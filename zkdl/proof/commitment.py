"""Hyrax matrix commitments of tensors (hiding Pedersen row commitments over BLS12-381 G1).

Matrix layout. A tensor of N entries, flattened row-major and padded with zeros to 2^k entries, is
read as an m×g matrix of consecutive rows: entry index i·g + j is row i, column j. The split is
square up to 2^MAX_ROW_VARS rows, then the rows grow longer up to 2^MAX_COL_VARS entries, then more
rows come (`MatrixLayout.of`, docs/opening.md §1). With the MLE's LSB-first variable order, the low
log g variables index the column j and the high log m variables the row i. Row i is committed as
C_i = Σ_j t[i, j]·G_j + ρ_i·H with a fresh uniformly random ρ_i, so every commitment hides.

Generators. G_j and H are the kernels' hash-to-curve generators under the fixed tag `DOMAIN_TAG`
(nobody knows their discrete logarithms); the only free parameter is the row length g, which the
shape determines. H does not depend on g, and G_j neither (a key is a prefix of any longer one).
The kernels keep the generators on disk, checked against pinned digests (docs/opening.md §1).

Padding stays outside the opening: a `TensorOpening` holds the tensor in its own shape and every
use pads with zeros, so no opening can hide non-zero values in the padding.
"""

from __future__ import annotations

import enum
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zkdl import backend
from zkdl.backend import Vector
from zkdl.errors import ZkdlError

DOMAIN_TAG = b"zkdl/v1"
WIRE_VERSION = 1
MAX_NDIM = 8
MAX_NUM_VARS = 40  # 2^40 entries: far beyond any run, and it bounds what a header can ask for
# The matrix split (`MatrixLayout.of`, docs/opening.md §1). A commitment is 48 bytes per row; its
# opening costs the prover about g scalar multiplications and the verifier an MSM over g generators,
# which hash-to-curve derives once (then cached on disk). Measured on the digits run (docs/opening.md §7):
MAX_ROW_VARS = 7  # ≤ 128 rows (6 kB) up to 2^22 entries: 24 kB less than 256 rows for X, Y, W0, WT at
# about +0.4 s of prover CPU (their rows grow to 2^11, 2^9); 64 rows would save 12 kB for +1 s more.
MAX_COL_VARS = 15  # rows ≤ 2^15: the bit tensors (2^25) take 1024 rows, 49 kB each; 2^14 would
# leave the digits proof near 260 kB (over the 200 kB aim), 2^16 doubles the prover's bit openings
# (+9 s CPU) and the verifier's largest MSM to save 25 kB.
COMPRESSED = backend.G1_COMPRESSED_BYTES
POINT = backend.G1_POINT_BYTES
_IDENTITY = backend.g1_identity().tobytes()


class CommitmentFormatError(ZkdlError, ValueError):
    """An encoded tensor commitment is truncated, non-canonical or not made of valid G1 points."""

    code = "commitment-format"


class EntryKind(enum.Enum):
    """How a `TensorOpening` stores its entries."""

    FIELD = "field"  # a backend field tensor (`backend.shape`)
    INT64 = "int64"  # int64[*shape], negative x is r − |x|
    BITS = "bits"  # uint64[n] packed words; the logical tensor is [n, width], bit index fastest


@dataclass(frozen=True)
class MatrixLayout:
    """The matrix view of a tensor shape: 2^num_vars padded entries in num_rows rows of row_length."""

    num_vars: int
    row_vars: int  # log2 of the number of rows: the high variables
    col_vars: int  # log2 of the row length: the low variables

    @staticmethod
    def of(shape: Sequence[int]) -> MatrixLayout:
        """The split of docs/opening.md §1: square (g = 2^ceil(k/2)) while that gives at most
        2^MAX_ROW_VARS rows, then longer rows up to 2^MAX_COL_VARS, then more rows."""
        size = math.prod(shape)
        if size < 1:
            raise ValueError(f"a committed tensor needs at least one entry, shape {tuple(shape)}")
        num_vars = (size - 1).bit_length()
        col_vars = min(MAX_COL_VARS, max(num_vars - num_vars // 2, num_vars - MAX_ROW_VARS))
        return MatrixLayout(num_vars, num_vars - col_vars, col_vars)

    @property
    def row_length(self) -> int:
        return 1 << self.col_vars

    @property
    def num_rows(self) -> int:
        return 1 << self.row_vars

    def split(self, point: Sequence[int]) -> tuple[list[int], list[int]]:
        """(u_col, u_row): the low col_vars coordinates pick the column, the rest the row."""
        if len(point) != self.num_vars:
            raise ValueError(f"the point has {len(point)} coordinates, the tensor {self.num_vars} variables")
        return list(point[: self.col_vars]), list(point[self.col_vars :])


@dataclass(frozen=True, eq=False)
class TensorCommitment:
    """The public part: the tensor's shape and its m row commitments (uint8[m, 96])."""

    shape: tuple[int, ...]
    rows: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(d) for d in self.shape))  # hashable, plain ints
        expected = (self.layout.num_rows, POINT)
        if self.rows.shape != expected or self.rows.dtype != np.uint8:
            raise ValueError(f"rows must be uint8{expected} for shape {self.shape}, got {self.rows.dtype}{self.rows.shape}")
        _freeze(self, "rows")

    @property
    def layout(self) -> MatrixLayout:
        return MatrixLayout.of(self.shape)

    @property
    def num_vars(self) -> int:
        return self.layout.num_vars

    @property
    def row_length(self) -> int:
        return self.layout.row_length

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorCommitment) and self.shape == other.shape and np.array_equal(self.rows, other.rows)

    def __hash__(self) -> int:
        return hash((self.shape, self.rows.tobytes()))


@dataclass(frozen=True, eq=False)
class TensorOpening:
    """The secret part: the unpadded entries (see `EntryKind`) and the m row blinds (a field vector)."""

    kind: EntryKind
    entries: np.ndarray | Vector
    blinds: Vector
    width: int = 0  # the bit width of a BITS tensor; 0 otherwise

    def __post_init__(self) -> None:
        _check_entries(self.kind, self.entries, self.width)
        if backend.shape(self.blinds) != (self.layout.num_rows,):
            raise ValueError(f"blinds must be a field vector of {self.layout.num_rows}, got shape {backend.shape(self.blinds)}")
        _freeze(self, "entries")
        _freeze(self, "blinds")

    @property
    def shape(self) -> tuple[int, ...]:
        return _shape_of(self.kind, self.entries, self.width)

    @property
    def layout(self) -> MatrixLayout:
        return MatrixLayout.of(self.shape)

    def padded_field_entries(self) -> Vector:
        """The 2^num_vars entries as a field vector, zero padded (the table of the tensor's MLE)."""
        size = 1 << self.layout.num_vars
        if self.kind is EntryKind.BITS:
            words = _pad(self.entries, size // self.width)
            return backend.bits_to_field(words, self.width)
        if self.kind is EntryKind.INT64:
            return backend.from_i64(_pad(self.entries.reshape(-1), size))
        return backend.pad(backend.flatten(self.entries), size)


@functools.cache
def commit_key(row_length: int) -> backend.CommitKey:
    """The one key for rows of `row_length`, made once per process (its generators come from the
    kernels' verified disk cache, or from hash-to-curve)."""
    return backend.CommitKey(DOMAIN_TAG, row_length)


def blinding_generator() -> np.ndarray:
    """H, shared by every row length (its hash input does not involve g)."""
    return commit_key(1).blinding_generator()


def commit_field(values: Vector) -> tuple[TensorCommitment, TensorOpening]:
    """Commits a backend field tensor."""
    return _commit(EntryKind.FIELD, values)


def commit_int64(values: np.ndarray) -> tuple[TensorCommitment, TensorOpening]:
    """Commits signed integer entries int64[*shape] (negative x is r − |x|)."""
    return _commit(EntryKind.INT64, values)


def commit_public_int64(values: np.ndarray) -> tuple[TensorCommitment, TensorOpening]:
    """Commits int64 entries everyone knows, with every blind 1: anyone recomputes the commitment
    (blinds 0 would commit a zero row to the identity, which no commitment may hold)."""
    return open_int64(values, backend.full(MatrixLayout.of(values.shape).num_rows, 1))


def open_int64(values: np.ndarray, blinds: Vector) -> tuple[TensorCommitment, TensorOpening]:
    """The commitment of int64 entries under given blinds (another commitment's, reused), and its opening."""
    opening = TensorOpening(EntryKind.INT64, values, blinds)
    return recommit(opening), opening


def commit_bits(words: np.ndarray, width: int) -> tuple[TensorCommitment, TensorOpening]:
    """Commits the 0/1 tensor [n, width] whose entry (i, j) is bit j of `words[i]`."""
    return _commit(EntryKind.BITS, words, width)


def recommit(opening: TensorOpening) -> TensorCommitment:
    """The commitment an opening determines (how a buyer checks delivered weights against it)."""
    layout, key = opening.layout, commit_key(opening.layout.row_length)
    size = 1 << layout.num_vars
    if opening.kind is EntryKind.BITS:
        rows = key.commit_rows_bits(_pad(opening.entries, size // opening.width), opening.width, opening.blinds)
    elif opening.kind is EntryKind.INT64:
        rows = key.commit_rows_i64(_pad(opening.entries.reshape(-1), size), opening.blinds)
    else:
        rows = key.commit_rows(backend.pad(backend.flatten(opening.entries), size), opening.blinds)
    return TensorCommitment(opening.shape, rows)


def combine_rows(commitment: TensorCommitment, row_point: Sequence[int]) -> np.ndarray:
    """C* = Σ_i eq(row_point, i)·C_i (uint8[96]): the commitment to the row folded at row_point."""
    _check_row_point(commitment.layout, row_point)
    return backend.msm(commitment.rows, backend.eq_vector(row_point))


def fold_rows(opening: TensorOpening, row_point: Sequence[int]) -> tuple[Vector, int]:
    """(t*, ρ*): the row Σ_i eq(row_point, i)·t_i (g entries) and its blind Σ_i eq(row_point, i)·ρ_i,
    the opening of `combine_rows` at the same point."""
    layout = opening.layout
    _check_row_point(layout, row_point)
    if opening.kind is EntryKind.BITS:  # straight from the packed words: no field table of every bit
        words = _pad(opening.entries, (1 << layout.num_vars) // opening.width)
        folded = backend.bits_fold_high(words, opening.width, row_point)
    elif opening.kind is EntryKind.INT64:  # straight from the integers: no field copy of a weight stack
        entries = _pad(opening.entries.reshape(-1), 1 << layout.num_vars)
        folded = backend.contract_i64(entries, [layout.row_vars, layout.col_vars], 0, backend.eq_vector(row_point))
    else:
        table = opening.padded_field_entries()
        folded = backend.partial_evaluate(table, [layout.row_vars, layout.col_vars], 0, row_point)
    return folded, backend.inner(backend.eq_vector(row_point), opening.blinds)


def encode(commitment: TensorCommitment) -> bytes:
    """Wire form: version (1 byte) ‖ ndim (1 byte) ‖ each dimension (8 bytes, big-endian) ‖ the m
    rows as 48-byte compressed points. Every field is determined by the shape, so it is canonical."""
    header = bytes([WIRE_VERSION, len(commitment.shape)]) + b"".join(d.to_bytes(8, "big") for d in commitment.shape)
    return header + backend.g1_compress(commitment.rows).tobytes()


def decode(data: bytes) -> TensorCommitment:
    """The inverse of `encode`; raises CommitmentFormatError on any malformed input."""
    if len(data) < 2:
        raise CommitmentFormatError(f"tensor commitment: {len(data)} bytes, shorter than its 2-byte header")
    if data[0] != WIRE_VERSION:
        raise CommitmentFormatError(f"tensor commitment: unknown version {data[0]}, expected {WIRE_VERSION}")
    ndim = data[1]
    if ndim > MAX_NDIM:
        raise CommitmentFormatError(f"tensor commitment: {ndim} dimensions, at most {MAX_NDIM}")
    body = 2 + 8 * ndim
    if len(data) < body:
        raise CommitmentFormatError(f"tensor commitment: truncated shape header ({len(data)} of {body} bytes)")
    shape = tuple(int.from_bytes(data[2 + 8 * i : 10 + 8 * i], "big") for i in range(ndim))
    if any(d < 1 for d in shape) or math.prod(shape) > 1 << MAX_NUM_VARS:
        raise CommitmentFormatError(f"tensor commitment: shape {shape} is empty or above 2^{MAX_NUM_VARS} entries")
    num_rows = MatrixLayout.of(shape).num_rows
    if len(data) != body + num_rows * COMPRESSED:
        raise CommitmentFormatError(
            f"tensor commitment: {len(data) - body} bytes of rows, expected {num_rows} × {COMPRESSED} for shape {shape}"
        )
    return TensorCommitment(shape, decode_points(data[body:], "tensor commitment row", CommitmentFormatError))


def decode_points(data: bytes, what: str, error: type[ZkdlError]) -> np.ndarray:
    """Checked compressed points (on the curve, in the subgroup, canonical, not the identity; a
    hiding commitment or blinded message is the identity only with negligible probability)."""
    encodings = np.frombuffer(data, dtype=np.uint8).reshape(-1, COMPRESSED)
    try:
        points = backend.g1_decompress(encodings)
    except backend.KernelError as exc:
        raise error(f"{what}: {exc}") from None
    for i, point in enumerate(points):
        if point.tobytes() == _IDENTITY:
            raise error(f"{what} {i} is the identity")
    return points


def _commit(kind: EntryKind, entries: np.ndarray | Vector, width: int = 0) -> tuple[TensorCommitment, TensorOpening]:
    _check_entries(kind, entries, width)  # before the shape is read to count the blinds
    opening = TensorOpening(kind, entries, _fresh_blinds(_shape_of(kind, entries, width)), width)
    return recommit(opening), opening


def _shape_of(kind: EntryKind, entries: np.ndarray | Vector, width: int) -> tuple[int, ...]:
    """The logical tensor shape of an entry array (packed bits are not an axis)."""
    if kind is EntryKind.FIELD:
        return backend.shape(entries)
    if kind is EntryKind.BITS:
        return (len(entries), width)
    return tuple(entries.shape)


def _check_entries(kind: EntryKind, entries: np.ndarray | Vector, width: int) -> None:
    """Each kind's array form; packed words must be clean above `width` (one encoding per tensor)."""
    if (kind is EntryKind.BITS) != (width > 0):
        raise ValueError("a bit width is given exactly for BITS entries")
    if kind is EntryKind.FIELD:
        backend.shape(entries)  # raises unless a field tensor
    if kind is EntryKind.INT64 and entries.dtype != np.int64:
        raise ValueError(f"integer entries must be int64, got {entries.dtype}")
    if kind is EntryKind.BITS:
        if entries.ndim != 1 or entries.dtype != np.uint64:
            raise ValueError(f"packed bits must be uint64[n], got {entries.dtype}{entries.shape}")
        if width > 64 or width & (width - 1):
            raise ValueError(f"the bit width must be a power of two up to 64, got {width}")
        if width < 64 and np.any(entries >> np.uint64(width)):
            raise ValueError(f"a word has bits set above width {width}")


def _fresh_blinds(shape: Sequence[int]) -> Vector:
    """One uniformly random blind per row, from the operating system: the commitment hides."""
    return backend.random(MatrixLayout.of(shape).num_rows)


def _pad(flat: np.ndarray, size: int) -> np.ndarray:
    """`flat` (int64 entries or packed words) followed by zeros up to `size` entries."""
    out = np.zeros(size, dtype=flat.dtype)
    out[: len(flat)] = flat
    return out


def _check_row_point(layout: MatrixLayout, row_point: Sequence[int]) -> None:
    if len(row_point) != layout.row_vars:
        raise ValueError(f"the row point has {len(row_point)} coordinates, the tensor {layout.row_vars} row variables")


def _freeze(obj: object, name: str) -> None:
    """A read-only copy of an array field, so that the frozen dataclass is really immutable."""
    array = np.array(getattr(obj, name), copy=True)
    array.setflags(write=False)
    object.__setattr__(obj, name, array)
