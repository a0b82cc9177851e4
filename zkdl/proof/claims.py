"""Weighted claims: the statements every sub-protocol reduces, and their public weights.

A claim on a tensor V says Σ_x w(x)·V(x) = value for a public weight w that is a product of small
factor tables over disjoint groups of V's axes (eq tables of a point, masks, the schedule's
selection table, the prefix table of the weight history). The verifier evaluates such a weight's
multilinear extension itself, factor by factor: it never trusts a weight value from the prover.
Claims are reduced by the batched product sumcheck (zkdl.proof.product).

The verifier needs each factor's extension at one point only. Where it has a closed form (eq
tables, prefix masks, one-hot indices, the schedule's sparse selection table: `ClosedFactor`) it is
evaluated in O(log size), or O(entries) for a sparse table, and the table itself is built only if a
prover or a merge of two factors on one axis asks for it: a statement's claimed sizes (2^24
samples) then cost the verifier nothing on the axes they name.

Shapes are tuples of (axis name, log2 size) in numpy order; multilinear variables are LSB first,
so a point lists the last axis's variables first (docs/kernels.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from zkdl import backend
from zkdl.backend import MODULUS, Vector, from_ints, to_ints
from zkdl.proof.hidden import Hidden

Shape = tuple[tuple[str, int], ...]


class Factor:
    """A public table over `axes` (numpy order, row-major), entries as ints mod r."""

    def __init__(self, axes: tuple[str, ...], table: Sequence[int]) -> None:
        self.axes = axes
        self._table = tuple(table)

    @property
    def table(self) -> tuple[int, ...]:
        return self._table

    def at(self, variables: Sequence[int]) -> int:
        """The table's multilinear extension at `variables` (LSB first)."""
        return backend.mle_evaluate(from_ints(self.table), variables)

    def vector(self) -> Vector:
        """The table as a field vector (the prover's weight tables)."""
        return from_ints(self.table)


class ClosedFactor(Factor):
    """A one-axis factor whose extension has a closed form (`closed`, evaluated by the verifier); its
    table is built by `build` when first read (by a prover, or a merge with another factor)."""

    def __init__(self, axis: str, build: Callable[[], Sequence[int]], closed: Callable[[Sequence[int]], int]) -> None:
        self.axes = (axis,)
        self._build, self._closed = build, closed
        self._built: tuple[int, ...] | None = None

    @property
    def table(self) -> tuple[int, ...]:
        if self._built is None:
            self._built = tuple(self._build())
        return self._built

    def at(self, variables: Sequence[int]) -> int:
        return self._closed(variables) % MODULUS


class EqFactor(ClosedFactor):
    """eq(point, ·) over one axis: its closed form for the verifier, and for the prover the field
    vector straight from the kernels (a point over the packed `weight` axis has 2^24 entries for
    the paper's network: never a Python list)."""

    def __init__(self, axis: str, point: Sequence[int]) -> None:
        self.point = list(point)
        super().__init__(axis, lambda: to_ints(self.vector()), lambda variables: eq_at(self.point, variables))

    def vector(self) -> Vector:
        return backend.eq_vector(self.point)


def eq_at(point: Sequence[int], variables: Sequence[int]) -> int:
    """eq(point, variables) = Π_i (p_i·x_i + (1 − p_i)(1 − x_i)): the extension of eq(point, ·)."""
    value = 1
    for p, x in zip(point, variables, strict=True):
        value = value * (p * x + (1 - p) * (1 - x)) % MODULUS
    return value


def prefix_at(n: int, variables: Sequence[int]) -> int:
    """The extension of [i < n] over 2^len(variables) entries at `variables` (LSB first), in O(log)."""
    return _prefix_sum(n, [1 - x for x in variables], list(variables))


def masked_eq_at(point: Sequence[int], n: int, variables: Sequence[int]) -> int:
    """The extension of eq(point, i)·[i < n] at `variables`: Σ_(i<n) eq(point, i)·eq(variables, i), in O(log)."""
    return _prefix_sum(n, [(1 - p) * (1 - x) for p, x in zip(point, variables, strict=True)], [p * x for p, x in zip(point, variables)])


def _prefix_sum(n: int, zero: Sequence[int], one: Sequence[int]) -> int:
    """Σ_(i<n) Π_j (one_j if bit j of i is set else zero_j), over len(zero) bits (LSB first): the
    indices below n are, for each set bit j of n, those equal to n above j with bit j clear."""
    free = [1]  # free[j] = Π_(i<j) (zero_i + one_i): the lower bits summed over both values
    for z, o in zip(zero, one, strict=True):
        free.append(free[-1] * (z + o) % MODULUS)
    if n >= 1 << len(zero):
        return free[-1]
    total, above = 0, 1  # above: the product over the bits of n higher than j
    for j in range(len(zero) - 1, -1, -1):
        if n >> j & 1:
            total = (total + above * zero[j] % MODULUS * free[j]) % MODULUS
            above = above * one[j] % MODULUS
        else:
            above = above * zero[j] % MODULUS
    return total


def sparse_at(entries: Mapping[int, int], variables: Sequence[int]) -> int:
    """Σ_i entries[i]·eq(i, variables): a table with few non-zero entries, through eq tables of the
    low and high halves of the variables (2·2^(m/2) entries, not 2^m)."""
    low = len(variables) // 2
    eq_low, eq_high = to_ints(backend.eq_vector(variables[:low])), to_ints(backend.eq_vector(variables[low:]))
    mask = (1 << low) - 1
    return sum(v * eq_low[i & mask] % MODULUS * eq_high[i >> low] for i, v in entries.items()) % MODULUS


def sparse_factor(axis: str, entries: Mapping[int, int], log_size: int) -> ClosedFactor:
    """The table of 2^log_size entries, zero but at `entries` (index: value)."""

    def build() -> list[int]:
        table = [0] * (1 << log_size)
        for i, v in entries.items():
            table[i] = v % MODULUS
        return table

    return ClosedFactor(axis, build, lambda variables: sparse_at(entries, variables))


def prefix_factor(axis: str, n: int, log_size: int) -> ClosedFactor:
    """[index < n] over an axis of 2^log_size entries."""
    return ClosedFactor(axis, lambda: [int(i < n) for i in range(1 << log_size)], lambda variables: prefix_at(n, variables))


def masked_eq_factor(axis: str, point: Sequence[int], n: int) -> ClosedFactor:
    """eq(point, ·) on the indices below n, zero above (a block's real columns weighed by a point)."""
    point = list(point)

    def build() -> list[int]:
        return [v if i < n else 0 for i, v in enumerate(to_ints(backend.eq_vector(point)))]

    return ClosedFactor(axis, build, lambda variables: masked_eq_at(point, n, variables))


@dataclass(frozen=True)
class Claim:
    """Σ_x Π(factors)(x)·V(x) = value (committed or public); axes without a factor are summed with weight 1. The factors
    cover disjoint axes (build claims with `claim`, which merges overlapping ones): only then is
    the weight's multilinear extension the product of the factors' extensions."""

    factors: tuple[Factor, ...]
    value: Hidden


def claim(shape: Shape, factors: Sequence[Factor], value: Hidden | int) -> Claim:
    """A claim whose factors on shared axes are multiplied into one factor over their union."""
    merged: list[Factor] = []
    for factor in factors:
        overlapping = [f for f in merged if set(f.axes) & set(factor.axes)]
        for f in overlapping:
            merged.remove(f)
            factor = _multiply(shape, f, factor)
        merged.append(factor)
    return Claim(tuple(merged), Hidden.of(value))


def _multiply(shape: Shape, f: Factor, g: Factor) -> Factor:
    """The pointwise product of two small factor tables, over the union of their axes."""
    names = [name for name, _ in shape]
    axes = tuple(sorted(set(f.axes) | set(g.axes), key=names.index))
    sizes = {name: 1 << log for name, log in shape}

    def spread(h: Factor) -> np.ndarray:
        table = np.array(h.table, dtype=object).reshape([sizes[a] for a in h.axes])
        table = np.transpose(table, [h.axes.index(a) for a in axes if a in h.axes])
        return table.reshape([sizes[a] if a in h.axes else 1 for a in axes])

    product = np.broadcast_to(spread(f) * spread(g), [sizes[a] for a in axes]) % MODULUS
    return Factor(axes, tuple(int(v) for v in product.reshape(-1)))


def split_point(shape: Shape, point: Sequence[int]) -> dict[str, list[int]]:
    """Each axis's variables of an LSB-first point (the last axis owns the first variables)."""
    out, offset = {}, 0
    for name, log_size in reversed(shape):
        out[name] = list(point[offset : offset + log_size])
        offset += log_size
    return out


def join_point(shape: Shape, parts: Mapping[str, Sequence[int]]) -> list[int]:
    return [u for name, _ in reversed(shape) for u in parts[name]]


def eq_factor(axis: str, point: Sequence[int]) -> Factor:
    return EqFactor(axis, point)


def eq_factors(shape: Shape, point: Sequence[int]) -> tuple[Factor, ...]:
    """eq(point, ·) over the whole shape, as one factor per axis (it is a product)."""
    parts = split_point(shape, point)
    return tuple(eq_factor(name, parts[name]) for name, _ in shape)


def onehot_factor(axis: str, index: int, log_size: int) -> Factor:
    """Selects one index of an axis (e.g. the final weights among the snapshots)."""
    return sparse_factor(axis, {index: 1} if 0 <= index < 1 << log_size else {}, log_size)


def padded_factor(factor: Factor, log_size: int) -> Factor:
    """A one-axis factor extended with zeros to 2^log_size entries (a shorter axis embedded low)."""
    return Factor(factor.axes, factor.table + (0,) * ((1 << log_size) - len(factor.table)))


def shifted_factor(factor: Factor, by: int) -> Factor:
    """new[i] = old[i + by] (zero outside): re-indexes a claim on layer ℓ + by as one on layer ℓ."""
    n = len(factor.table)
    return Factor(factor.axes, tuple(factor.table[i + by] if 0 <= i + by < n else 0 for i in range(n)))


def scaled_factor(factor: Factor, scalar: int) -> Factor:
    return Factor(factor.axes, tuple(v * scalar % MODULUS for v in factor.table))


def factor_on(claim_: Claim, axis: str) -> Factor:
    """The claim's factor covering exactly `axis` (claims built from eq points have one per axis)."""
    for factor in claim_.factors:
        if factor.axes == (axis,):
            return factor
    raise ValueError(f"the claim has no factor on the axis {axis!r} alone")


class ClaimBook:
    """The claims collected so far, per tensor, in the order both parties add them."""

    def __init__(self) -> None:
        self._claims: dict[str, list[Claim]] = {}

    def add(self, tensor: str, claim_: Claim) -> None:
        self._claims.setdefault(tensor, []).append(claim_)

    def take(self, tensor: str) -> list[Claim]:
        """Removes and returns a tensor's claims: each is reduced exactly once."""
        return self._claims.pop(tensor, [])

    def pending(self) -> list[str]:
        return sorted(self._claims)


def evaluate_factor(shape: Shape, factor: Factor, point: Sequence[int]) -> int:
    """The factor's multilinear extension at the point's variables of its axes."""
    parts = split_point(shape, point)
    return factor.at([u for axis in reversed(factor.axes) for u in parts[axis]])


def evaluate_weight(shape: Shape, claim: Claim, point: Sequence[int]) -> int:
    value = 1
    for factor in claim.factors:
        value = value * evaluate_factor(shape, factor, point) % MODULUS
    return value


def weight_table(shape: Shape, claim: Claim) -> Vector:
    """The prover's full weight table (a field vector over the whole shape)."""
    return combined_weight(shape, [claim], [1])


def combined_weight(shape: Shape, claims: Sequence[Claim], coefficients: Sequence[int]) -> Vector:
    """Σ_k α_k·w_k as one field vector: each weight is a tensor product of its factor tables."""
    return backend.tensor_combination([log for _, log in shape], _terms(shape, claims, coefficients))


def _terms(shape: Shape, claims: Sequence[Claim], coefficients: Sequence[int]) -> list:
    names = [name for name, _ in shape]
    return [
        (alpha, [([names.index(a) for a in f.axes], _factor_vector(f)) for f in claim.factors])
        for claim, alpha in zip(claims, coefficients, strict=True)
    ]


_FACTOR_VECTORS: dict[int, tuple[Factor, Vector]] = {}


def _factor_vector(factor: Factor) -> Vector:
    """The factor's table as a field vector, remembered for the factor object's lifetime."""
    hit = _FACTOR_VECTORS.get(id(factor))
    if hit is not None and hit[0] is factor:
        return hit[1]
    if len(_FACTOR_VECTORS) > 4096:
        _FACTOR_VECTORS.clear()
    vector = factor.vector()
    _FACTOR_VECTORS[id(factor)] = (factor, vector)
    return vector
