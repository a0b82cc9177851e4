"""The tables a product sumcheck multiplies besides field vectors, kept packed: committed bits as
words and weight stacks as int64 (the largest tensors of the proof). Each gives its field form
(for the dense prover) and what the low-axis prover (zkdl.proof.low_axis) needs instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zkdl import backend
from zkdl.backend import MODULUS, Vector, to_ints


@dataclass(frozen=True, eq=False)
class BitTable:
    """A table over a shape whose last axis is a bit index, kept packed: entry (i, j) is
    bit j of words[i] plus `offset` (b − 1 is the BitTable of b with offset −1)."""

    words: np.ndarray
    width: int
    offset: int = 0

    def field(self) -> Vector:
        bits = backend.bits_to_field(self.words, self.width)
        if self.offset % MODULUS == 0:
            return bits
        return backend.add(bits, backend.full(len(bits), self.offset))

    def same_entries(self, other: object) -> bool:
        return isinstance(other, BitTable) and other.width == self.width and np.array_equal(other.words, self.words)

    def weighted_sums(self, rests: Sequence[Vector]) -> list[list[int]]:
        """P_k(j) = Σ_e R_k(e)·bit_j(e) for each weight R_k over the other axes."""
        flat = to_ints(backend.bits_weighted_sums(self.words, self.width, rests))
        return [flat[k * self.width : (k + 1) * self.width] for k in range(len(rests))]

    def gram(self, rest: Vector) -> list[list[int]]:
        """M[j1][j2] = Σ_e R(e)·bit_j1(e)·bit_j2(e) (bits are their own squares)."""
        flat = to_ints(backend.bits_gram(self.words, self.width, rest))
        return [flat[i * self.width : (i + 1) * self.width] for i in range(self.width)]

    def bind_low(self, point: Sequence[int]) -> Vector:
        return backend.bits_bind_low(self.words, self.width, point)


@dataclass(frozen=True, eq=False)
class Int64Table:
    """An int64 table (row-major, flat) whose last axis has `width` entries, never converted to
    the field as a whole: the weight stacks are the largest tensors of the proof."""

    values: np.ndarray
    width: int
    offset: int = 0

    def field(self) -> Vector:
        return backend.from_i64(self.values)

    def same_entries(self, other: object) -> bool:
        return other is self

    def _matrix(self) -> list[int]:
        return [(len(self.values) // self.width).bit_length() - 1, self.width.bit_length() - 1]

    def weighted_sums(self, rests: Sequence[Vector]) -> list[list[int]]:
        return [to_ints(backend.contract_i64(self.values, self._matrix(), 0, r)) for r in rests]

    def bind_low(self, point: Sequence[int]) -> Vector:
        return backend.contract_i64(self.values, self._matrix(), 1, backend.eq_vector(point))

    def row_range_sums(self, weight: RowRanges) -> list[int]:
        """P(j) = Σ_s outer(s)·Σ_(start, R) Σ_e R(e)·V(s, start + e, j), reading only the ranges' rows."""
        rows_per_outer = len(self.values) // self.width // len(weight.outer)
        log_width = self.width.bit_length() - 1
        total = [0] * self.width
        for s, outer in enumerate(weight.outer):
            for start, table in weight.ranges if outer % MODULUS else ():  # an outer index of weight zero reads nothing
                begin = (s * rows_per_outer + start) * self.width
                rows = self.values[begin : begin + len(table) * self.width]  # a view: no copy
                part = to_ints(backend.contract_i64(rows, [len(table).bit_length() - 1, log_width], 0, table))
                total = [(t + outer * p) % MODULUS for t, p in zip(total, part, strict=True)]
        return total


@dataclass(frozen=True)
class RowRanges:
    """A weight over (outer axes, rows) that is outer(s)·R(e) on a few row ranges [start, start +
    |R|) and zero elsewhere: a block factor's blocks, or one range over every row."""

    outer: list[int]
    ranges: list[tuple[int, Vector]]

    def total(self) -> int:
        return sum(self.outer) * sum(backend.total(r) for _, r in self.ranges) % MODULUS

    def add_to(self, weight: Vector, coefficient: int) -> None:
        """weight += coefficient·(this weight), range by range (the field vector is updated in place)."""
        rows = len(weight) // len(self.outer)
        for s, outer in enumerate(self.outer):
            scale = coefficient * outer % MODULUS
            for start, table in self.ranges if scale else ():
                at = s * rows + start
                weight[at : at + len(table)] = backend.add(weight[at : at + len(table)], backend.scale(table, scale))


Table = Vector | BitTable | Int64Table  # what a product sumcheck multiplies (`prove_product`)
