"""The packed low-axis prover: a product sumcheck over one packed table (bits or int64 entries)
without its field copy, with the dense prover's round polynomials exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zkdl import backend
from zkdl.backend import MODULUS, to_ints
from zkdl.proof.claims import Claim, EqFactor, Factor, Shape, combined_weight, prefix_factor
from zkdl.proof.packed import BitTable, Int64Table, RowRanges, Table
from zkdl.proof.packing import BlockFactor, Packing, Term

MAX_LOW_VARS = 12  # a longer low axis (the packed `weight` axis) is split at its table's rows, or proven dense


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
        # an int64 table is read only on the rows each weight covers (a block factor's blocks)
        self.ranges = [_row_ranges(self.rest, c) if isinstance(table, Int64Table) else None for c in self.claims]
        for c, ranges in zip(self.claims, self.ranges, strict=True):  # one weight table alive at a time
            if ranges is not None:
                assert isinstance(table, Int64Table)
                self.P.append(table.row_range_sums(ranges))
                self.S.append(ranges.total())
                continue
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
        dense = [k for k, ranges in enumerate(self.ranges) if ranges is None]
        weight = combined_weight(self.rest, [self.claims[k] for k in dense], [coefficients[k] for k in dense])
        for ranges, coefficient in zip(self.ranges, coefficients, strict=True):
            if ranges is not None:
                ranges.add_to(weight, coefficient)
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


def _row_ranges(shape: Shape, claim: Claim) -> RowRanges | None:
    """A claim's weight as `RowRanges` when one factor alone covers the last axis (the rows);
    None when none or several do."""
    if not shape:  # a table of one row: nothing to restrict
        return None
    *outer_shape, (last, _) = shape
    on_last = [f for f in claim.factors if last in f.axes]
    if len(on_last) != 1 or on_last[0].axes != (last,):
        return None
    rows = on_last[0]
    others = Claim(tuple(f for f in claim.factors if f is not rows), claim.value)
    outer = to_ints(combined_weight(tuple(outer_shape), [others], [1]))
    if isinstance(rows, BlockFactor):
        return RowRanges(outer, [(rows.packing[t.block].offset, t.vector()) for t in rows.terms])
    return RowRanges(outer, [(0, rows.vector())])


def low_axis_prover(shape: Shape, claims: Sequence[Claim], alphas: Sequence[int], tables: Sequence[Table]) -> LowAxisProver | None:
    """The packed prover when the tables are one packed table (plus constants: bits only) and
    every weight separates its factor on the last axis; None otherwise (the dense prover runs)."""
    if not shape or not 1 <= len(tables) <= 2:
        return None
    low_axis, low_vars = shape[-1]
    if any(low_axis in f.axes and f.axes != (low_axis,) for c in claims for f in c.factors):
        return None
    packed = [p for p in (_packed(table, low_vars, shape) for table in tables) if p is not None]
    if len(packed) < len(tables) or any(not packed[0].same_entries(p) for p in packed[1:]):
        return None
    first = packed[0]
    if len(packed) > 1 and isinstance(first, Int64Table):
        return None  # int64 tables have no Gram kernel: a product of two is proven dense
    if isinstance(first, Int64Table) and first.width < 1 << low_vars:  # rows shorter than the axis: split it
        split = _split_low(shape, claims, alphas, first.width.bit_length() - 1)
        if split is None:
            return None
        shape, claims, alphas = split
        low_vars = shape[-1][1]
    if first.width != 1 << low_vars or low_vars > MAX_LOW_VARS:  # per-claim Python tables: longer ones cost more than dense
        return None
    return LowAxisProver(shape, claims, alphas, first, [p.offset % MODULUS for p in packed])


def _split_low(shape: Shape, claims: Sequence[Claim], alphas: Sequence[int], low: int) -> tuple[Shape, list[Claim], list[int]] | None:
    """The claims with the shape's last axis split at its `low` lowest variables (an int64 table's
    rows): each claim's factor on that axis as a sum of separable pieces (low part) × (high part),
    one sub-claim with the claim's coefficient each; None where a factor has no such form here."""
    axis, log = shape[-1]
    high = f"{axis} high"
    split_shape = (*shape[:-1], (high, log - low), (axis, low))
    out_claims, out_alphas = [], []
    for claim, alpha in zip(claims, alphas, strict=True):
        rest = [f for f in claim.factors if f.axes != (axis,)]
        on_axis = [f for f in claim.factors if f.axes == (axis,)]
        ones = [(prefix_factor(axis, 1 << low, low), prefix_factor(high, 1 << (log - low), log - low))]
        pieces = _pieces(on_axis[0], high, low) if on_axis else ones
        if pieces is None:
            return None
        out_claims += [Claim((*rest, high_part, low_part), claim.value) for low_part, high_part in pieces]
        out_alphas += [alpha] * len(pieces)
    return split_shape, out_claims, out_alphas


def _pieces(factor: Factor, high: str, low: int) -> list[tuple[Factor, Factor]] | None:
    """(low part, high part) pairs summing to the factor: an eq splits into the eq of its low and
    of its high variables; a block factor term by term, when each term's lowest inner factor is an
    eq over at least `low` variables (the packed weights' output sides)."""
    axis = factor.axes[0]
    if isinstance(factor, EqFactor):
        return [(EqFactor(axis, factor.point[:low]), EqFactor(high, factor.point[low:]))]
    if not isinstance(factor, BlockFactor) or min(b.log_size for b in factor.packing.blocks.values()) < low:
        return None
    rows = Packing(high, [(name, b.log_size - low) for name, b in factor.packing.blocks.items()])  # the same placement
    out: list[tuple[Factor, Factor]] = []
    for term in factor.terms:
        if not term.inner or not isinstance(term.inner[-1][0], EqFactor) or term.inner[-1][1] < low:
            return None
        *others, (last, num_vars) = term.inner
        assert isinstance(last, EqFactor)
        high_term = Term(term.block, term.coefficient, (*others, (EqFactor(high, last.point[low:]), num_vars - low)))
        out.append((EqFactor(axis, last.point[:low]), rows.factor([high_term])))
    return out


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
