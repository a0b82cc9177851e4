"""The packed low-axis prover: a product sumcheck over one packed table (bits or int64 entries)
without its field copy, with the dense prover's round polynomials exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zkdl import backend
from zkdl.backend import MODULUS, to_ints
from zkdl.proof.claims import Claim, Shape, combined_weight
from zkdl.proof.packed import BitTable, Int64Table, Table

MAX_LOW_VARS = 12  # the packed `weight` axis (2^15 entries for digits) is proven dense (docs/shape-exact.md §6)


class LowAxisProver:
    """The batched sumcheck Σ_y (Σ_k α_k w_k(y))·Π_m (V(y) + c_m), m ≤ 2, for one table V kept
    packed (bits, or int64 entries) whose last axis holds the lowest variables, when each weight
    is f_k(last)·R_k(rest).

    The last axis's variables are bound first. Until then the round polynomial needs only small
    tables: Σ_y w_k·(V + c) = Σ_j f_k(j)·(P_k(j) + c·S_k) with P_k(j) = Σ_e R_k(e)·V(e, j),
    S_k = Σ_e R_k(e), and for two factors (bits) the Gram matrix M_k[j1][j2] = Σ_e R_k(e)·V_j1(e)·V_j2(e)
    gives Σ_e R_k(e)·V(x, e)² = Σ eq(x, j1)·eq(x, j2)·M_k[j1][j2]. After those rounds the tables are
    the size of the other axes (V bound by a kernel, the weight rebuilt as one combination), and an
    ordinary dense sumcheck runs the rest. The round polynomials are the dense prover's exactly."""

    def __init__(
        self, shape: Shape, claims: Sequence[Claim], alphas: Sequence[int], table: BitTable | Int64Table, offsets: list[int]
    ) -> None:
        self.shape, self.rest = shape, shape[:-1]
        self.low_axis, self.low_vars = shape[-1][0], shape[-1][1]
        self.table, self.offsets = table, offsets
        self.num_vars, self.degree = sum(log for _, log in shape), len(offsets) + 1
        self.alphas = [a % MODULUS for a in alphas]
        self.claims = [Claim(tuple(f for f in c.factors if f.axes != (self.low_axis,)), c.value) for c in claims]
        ones = (1,) * (1 << self.low_vars)
        self.f = [list(next((f.table for f in c.factors if f.axes == (self.low_axis,)), ones)) for c in claims]
        self.P: list[list[int]] = []
        self.S: list[int] = []
        self.M: list[list[list[int]]] | None = [] if len(offsets) == 2 else None  # b·(b − 1): the bits' Gram matrix
        for c in self.claims:  # one weight table alive at a time: each is as large as the other axes
            rest = combined_weight(self.rest, [c], [1])
            self.P += table.weighted_sums([rest])
            self.S.append(backend.total(rest))
            if self.M is not None:
                assert isinstance(table, BitTable), "a product of two int64 tables is proven dense (low_axis_prover)"
                self.M.append(table.gram(rest))
        self.bound: list[int] = []
        self.dense: backend.ProductSumcheck | None = None
        self.finals: list[int] | None = None

    def round_values(self) -> list[int]:
        if self.dense is not None:
            return self.dense.round_values()
        c = self.offsets
        out = []
        for t in range(self.degree + 1):
            total = 0
            for k, alpha in enumerate(self.alphas):
                f, P, S = self.f[k], self.P[k], self.S[k]
                M = self.M[k] if self.M is not None else None  # two offsets: a product with the Gram matrix
                acc = 0
                for j in range(len(f) // 2):
                    ft = f[2 * j] + t * (f[2 * j + 1] - f[2 * j])
                    lin = P[2 * j] + t * (P[2 * j + 1] - P[2 * j])
                    if M is None:
                        value = lin + c[0] * S
                    else:
                        e = (1 - t, t)
                        quad = sum(e[a] * e[b] * M[2 * j + a][2 * j + b] for a in (0, 1) for b in (0, 1))
                        value = quad + (c[0] + c[1]) * lin + c[0] * c[1] * S
                    acc += ft * value
                total += alpha * (acc % MODULUS)
            out.append(total % MODULUS)
        return out

    def bind(self, r: int) -> None:
        if self.dense is not None:
            self.dense.bind(r)
            return
        fold = lambda v: [(v[2 * j] + r * (v[2 * j + 1] - v[2 * j])) % MODULUS for j in range(len(v) // 2)]  # noqa: E731
        self.f = [fold(f) for f in self.f]
        self.P = [fold(P) for P in self.P]
        if self.M is not None:
            e = (1 - r, r)
            half = len(self.M[0]) // 2
            self.M = [
                [
                    [sum(e[a] * e[b] * M[2 * i + a][2 * j + b] for a in (0, 1) for b in (0, 1)) % MODULUS for j in range(half)]
                    for i in range(half)
                ]
                for M in self.M
            ]
        self.bound.append(r)
        if len(self.bound) == self.low_vars:
            self._to_dense()

    def _to_dense(self) -> None:
        """Every variable of the last axis is bound: tables of the other axes for the rest."""
        coefficients = [a * f[0] for a, f in zip(self.alphas, self.f)]
        weight = combined_weight(self.rest, self.claims, coefficients)
        bound = self.table.bind_low(self.bound)
        tables = [weight] + [bound if c % MODULUS == 0 else backend.add(bound, backend.full(len(bound), c)) for c in self.offsets]
        if len(bound) == 1:
            self.finals = [to_ints(t)[0] for t in tables]
        else:
            self.dense = backend.ProductSumcheck(tables)

    def final_values(self) -> list[int]:
        if self.dense is not None:
            return self.dense.final_values()
        assert self.finals is not None, "the final values exist once every variable is bound"
        return self.finals


def low_axis_prover(shape: Shape, claims: Sequence[Claim], alphas: Sequence[int], tables: Sequence[Table]) -> LowAxisProver | None:
    """The packed prover when the tables are one packed table (plus constants: bits only) and
    every weight separates its factor on the last axis; None otherwise (the dense prover runs)."""
    if not shape or not 1 <= len(tables) <= 2:
        return None
    low_axis, low_vars = shape[-1]
    if low_vars > MAX_LOW_VARS:  # its per-claim tables are Python lists: longer ones cost more than the dense copy
        return None
    if any(low_axis in f.axes and f.axes != (low_axis,) for c in claims for f in c.factors):
        return None
    packed = [p for p in (_packed(table, low_vars, shape) for table in tables) if p is not None]
    if len(packed) < len(tables) or any(not packed[0].same_entries(p) for p in packed[1:]):
        return None
    first = packed[0]
    if first.width != 1 << low_vars or (len(packed) > 1 and isinstance(first, Int64Table)):
        return None  # int64 tables have no Gram kernel: a product of two is proven dense
    return LowAxisProver(shape, claims, alphas, first, [p.offset % MODULUS for p in packed])


def _packed(table: Table, low_vars: int, shape: Shape) -> BitTable | Int64Table | None:
    """A table as packed entries of the shape, or None (a 0/1 field table is packed as bits)."""
    size = 1 << sum(log for _, log in shape)
    if isinstance(table, Int64Table):
        return table if len(table.values) == size else None
    if isinstance(table, BitTable):
        words = table.words
        ok = isinstance(words, np.ndarray) and words.dtype == np.uint64 and words.ndim == 1 and len(words) * table.width == size
        return table if ok else None  # not packed words: the dense path reads it through bits_to_field
    if low_vars > 0 and len(table) == size:  # a field vector
        try:
            return BitTable(backend.bits_from_field(table, 1 << low_vars), 1 << low_vars)
        except backend.KernelError:  # not a 0/1 table
            return None
    return None
