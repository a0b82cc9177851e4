"""Weighted claims and the batched product sumcheck every sub-protocol is built from.

A claim on a tensor V says Σ_x w(x)·V(x) = value for a public weight w that is a product of small
factor tables over disjoint groups of V's axes (eq tables of a point, masks, the schedule's
selection table, the prefix table of the weight history). The verifier evaluates such a weight's
multilinear extension itself, factor by factor: it never trusts a weight value from the prover.

`prove_product` / `verify_product` reduce a batch of claims on a product of tensors
Π_m U_m to the values of each U_m at one random point: the claims are combined with random
coefficients (Schwartz–Zippel), one zero-knowledge sumcheck runs over the combined weight times
the factors, the prover sends commitments to the factors' values at the sumcheck's point, and
Σ-protocols show that the weight's value there times their product is the sumcheck's committed
final claim.

Shapes are tuples of (axis name, log2 size) in numpy order; multilinear variables are LSB first,
so a point lists the last axis's variables first (docs/kernels.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from zkdl import backend
from zkdl.backend import MODULUS, Vector, from_ints, to_ints
from zkdl.proof import sigma, sumcheck
from zkdl.proof.channel import ProverChannel, VerifierChannel
from zkdl.proof.hidden import Hidden, combination
from zkdl.proof.opening import Batch

Shape = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Factor:
    """A public table over `axes` (numpy order, row-major), entries as ints mod r."""

    axes: tuple[str, ...]
    table: tuple[int, ...]


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


def join_point(shape: Shape, parts: dict[str, Sequence[int]]) -> list[int]:
    return [u for name, _ in reversed(shape) for u in parts[name]]


def eq_factor(axis: str, point: Sequence[int]) -> Factor:
    return Factor((axis,), tuple(to_ints(backend.eq_vector(point))))


def eq_factors(shape: Shape, point: Sequence[int]) -> tuple[Factor, ...]:
    """eq(point, ·) over the whole shape, as one factor per axis (it is a product)."""
    parts = split_point(shape, point)
    return tuple(eq_factor(name, parts[name]) for name, _ in shape)


def onehot_factor(axis: str, index: int, log_size: int) -> Factor:
    """Selects one index of an axis (e.g. the final weights among the snapshots)."""
    return Factor((axis,), tuple(int(i == index) for i in range(1 << log_size)))


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
    sub = [u for axis in reversed(factor.axes) for u in parts[axis]]
    return backend.mle_evaluate(from_ints(factor.table), sub)


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
    vector = from_ints(factor.table)
    _FACTOR_VECTORS[id(factor)] = (factor, vector)
    return vector


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


Table = Vector | BitTable | Int64Table  # what a product sumcheck multiplies (`prove_product`)


class _LowAxisProver:
    """The batched sumcheck Σ_y (Σ_k α_k w_k(y))·Π_m (V(y) + c_m), m ≤ 2, for one table V kept
    packed (bits, or int64 entries) whose last axis holds the lowest variables, when each weight
    is f_k(last)·R_k(rest).

    The last axis's variables are bound first. Until then the round polynomial needs only small
    tables: Σ_y w_k·(V + c) = Σ_j f_k(j)·(P_k(j) + c·S_k) with P_k(j) = Σ_e R_k(e)·V(e, j),
    S_k = Σ_e R_k(e), and for two factors (bits) the Gram matrix M_k[j1][j2] = Σ_e R_k(e)·V_j1(e)·V_j2(e)
    gives Σ_e R_k(e)·V(x, e)² = Σ eq(x, j1)·eq(x, j2)·M_k[j1][j2]. After those rounds the tables are
    the size of the other axes (V bound by a kernel, the weight rebuilt as one combination), and an
    ordinary dense sumcheck runs the rest. The round polynomials are the dense prover's exactly."""

    def __init__(self, shape: Shape, claims: Sequence[Claim], alphas: Sequence[int], table: BitTable | Int64Table, offsets: list[int]) -> None:
        self.shape, self.rest = shape, shape[:-1]
        self.low_axis, self.low_vars = shape[-1][0], shape[-1][1]
        self.table, self.offsets = table, offsets
        self.num_vars, self.degree = sum(log for _, log in shape), len(offsets) + 1
        self.alphas = [a % MODULUS for a in alphas]
        self.claims = [Claim(tuple(f for f in c.factors if f.axes != (self.low_axis,)), c.value) for c in claims]
        ones = (1,) * (1 << self.low_vars)
        self.f = [list(next((f.table for f in c.factors if f.axes == (self.low_axis,)), ones)) for c in claims]
        self.P, self.S, self.M = [], [], [] if len(offsets) == 2 else None
        for c in self.claims:  # one weight table alive at a time: each is as large as the other axes
            rest = combined_weight(self.rest, [c], [1])
            self.P += table.weighted_sums([rest])
            self.S.append(backend.total(rest))
            if self.M is not None:
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
                acc = 0
                for j in range(len(f) // 2):
                    ft = f[2 * j] + t * (f[2 * j + 1] - f[2 * j])
                    lin = P[2 * j] + t * (P[2 * j + 1] - P[2 * j])
                    if len(c) == 1:
                        value = lin + c[0] * S
                    else:
                        M, e = self.M[k], (1 - t, t)
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
                [[sum(e[a] * e[b] * M[2 * i + a][2 * j + b] for a in (0, 1) for b in (0, 1)) % MODULUS for j in range(half)] for i in range(half)]
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
        return self.finals if self.dense is None else self.dense.final_values()


def _low_axis_prover(shape: Shape, claims: Sequence[Claim], alphas: Sequence[int], tables: Sequence) -> _LowAxisProver | None:
    """The packed prover when the tables are one packed table (plus constants: bits only) and
    every weight separates its factor on the last axis; None otherwise (the dense prover runs)."""
    if not shape or not 1 <= len(tables) <= 2:
        return None
    low_axis, low_vars = shape[-1]
    if any(low_axis in f.axes and f.axes != (low_axis,) for c in claims for f in c.factors):
        return None
    packed = [_packed(table, low_vars, shape) for table in tables]
    first = packed[0]
    if first is None or any(p is None or not first.same_entries(p) for p in packed[1:]):
        return None
    if first.width != 1 << low_vars or len(packed) > 1 and isinstance(first, Int64Table):
        return None  # int64 tables have no Gram kernel: a product of two is proven dense
    return _LowAxisProver(shape, claims, alphas, first, [p.offset % MODULUS for p in packed])


def _packed(table, low_vars: int, shape: Shape) -> BitTable | Int64Table | None:
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


def _coefficients(channel: ProverChannel | VerifierChannel, claims: Sequence[Claim]) -> list[int]:
    """Random coefficients batching the claims: one sumcheck then checks all of them. The claims'
    values are commitments already in the transcript, or public."""
    channel.transcript.absorb_bytes(b"claims", len(claims).to_bytes(4, "big"))
    return channel.challenges(b"batching coefficients", len(claims))


def _weight_at(alphas: Sequence[int], shape: Shape, claims: Sequence[Claim], point: Sequence[int]) -> int:
    """The batched weight Σ α_k·w_k at the point: public, the verifier computes it itself."""
    return sum(a * evaluate_weight(shape, c, point) for a, c in zip(alphas, claims)) % MODULUS


def prove_product(
    channel: ProverChannel, label: bytes, shape: Shape, claims: Sequence[Claim], tables: Sequence
) -> tuple[list[int], list[Hidden]]:
    """Reduces claims on Π tables to the tables' committed values at one point; returns point and
    values. A table is a field vector, a `BitTable` or an `Int64Table`; packed tables (and
    0/1 field tables) are proven by `_LowAxisProver`, with the same messages as the dense prover."""
    alphas = _coefficients(channel, claims)
    total = combination(alphas, [c.value for c in claims])
    prover = _low_axis_prover(shape, claims, alphas, tables)
    if prover is None:
        dense = [t.field() if isinstance(t, BitTable | Int64Table) else t for t in tables]
        prover = backend.ProductSumcheck([combined_weight(shape, claims, alphas), *dense])
    point, finals, final = sumcheck.prove_rounds(channel, label, prover, total)
    values = channel.send_hidden(b"factor values", finals[1:])  # the verifier computes the weight's value itself
    _close(label, final, _weight_at(alphas, shape, claims, point), values, partial(sigma.prove_product, channel), partial(sigma.prove_zero, channel))
    return list(point), values


def verify_product(
    channel: VerifierChannel, label: bytes, shape: Shape, claims: Sequence[Claim], n_tables: int, checks: Batch | None = None
) -> tuple[list[int], list[Hidden]]:
    """Checks the batched sumcheck; returns the point and the factors' committed values there. With
    `checks`, the closing Σ-protocols' equations join it (`checks.verify()` decides)."""
    alphas = _coefficients(channel, claims)
    total = combination(alphas, [c.value for c in claims])
    sub = sumcheck.verify(channel, label, total, sum(log for _, log in shape), n_tables + 1)
    values = channel.receive_hidden(b"factor values", n_tables)
    _close(label, sub.value, _weight_at(alphas, shape, claims, sub.point), values, partial(sigma.verify_product, channel, batch=checks), partial(sigma.verify_zero, channel, batch=checks))
    return list(sub.point), values


def _close(
    label: bytes,
    final: Hidden,
    weight: int,
    values: Sequence[Hidden],
    multiply: Callable[[bytes, Hidden, Hidden], Hidden],
    zero: Callable[[bytes, Hidden], None],
) -> None:
    """The sumcheck's final check weight(x*)·Π U_m(x*) = final claim, on commitments: the products
    by Σ-protocols, then a proof that the difference commits to zero."""
    product = values[0]
    for value in values[1:]:
        product = multiply(label, product, value)
    zero(label + b" final", final - weight * product)
