"""Weighted claims and the batched product sumcheck every sub-protocol is built from.

A claim on a tensor V says Σ_x w(x)·V(x) = value for a public weight w that is a product of small
factor tables over disjoint groups of V's axes (eq tables of a point, masks, the schedule's
selection table, the prefix table of the weight history). The verifier evaluates such a weight's
multilinear extension itself, factor by factor: it never trusts a weight value from the prover.

`prove_product` / `verify_product` reduce a batch of claims on a product of tensors
Π_m U_m to the values of each U_m at one random point: the claims are combined with random
coefficients (Schwartz–Zippel), one sumcheck runs over the combined weight times the factors, and
the prover sends the factors' values at the sumcheck's point.

Shapes are tuples of (axis name, log2 size) in numpy order; multilinear variables are LSB first,
so a point lists the last axis's variables first (docs/kernels.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zkdl import _kernels
from zkdl.field import MODULUS, from_ints, to_int, to_ints
from zkdl.proof import sumcheck
from zkdl.proof.errors import VerificationError
from zkdl.proof.channel import ProverChannel, VerifierChannel

Shape = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Factor:
    """A public table over `axes` (numpy order, row-major), entries as ints mod r."""

    axes: tuple[str, ...]
    table: tuple[int, ...]


@dataclass(frozen=True)
class Claim:
    """Σ_x Π(factors)(x)·V(x) = value; axes without a factor are summed with weight 1. The factors
    cover disjoint axes (build claims with `claim`, which merges overlapping ones): only then is
    the weight's multilinear extension the product of the factors' extensions."""

    factors: tuple[Factor, ...]
    value: int


def claim(shape: Shape, factors: Sequence[Factor], value: int) -> Claim:
    """A claim whose factors on shared axes are multiplied into one factor over their union."""
    merged: list[Factor] = []
    for factor in factors:
        overlapping = [f for f in merged if set(f.axes) & set(factor.axes)]
        for f in overlapping:
            merged.remove(f)
            factor = _multiply(shape, f, factor)
        merged.append(factor)
    return Claim(tuple(merged), value % MODULUS)


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
    return Factor((axis,), tuple(to_ints(_kernels.eq_vector(from_ints(point)))))


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
    return to_int(_kernels.mle_evaluate(from_ints(factor.table), from_ints(sub)))


def evaluate_weight(shape: Shape, claim: Claim, point: Sequence[int]) -> int:
    value = 1
    for factor in claim.factors:
        value = value * evaluate_factor(shape, factor, point) % MODULUS
    return value


def weight_table(shape: Shape, claim: Claim) -> np.ndarray:
    """The prover's full weight table (kernel vector over the whole shape)."""
    sizes = {name: 1 << log_size for name, log_size in shape}
    full = np.broadcast_to(from_ints([1]).reshape((1,) * len(shape) + (4,)), tuple(sizes.values()) + (4,))
    total = np.ascontiguousarray(full).reshape(-1, 4)
    for factor in claim.factors:
        total = _kernels.fr_mul(total, _broadcast(shape, factor))
    return total


def _broadcast(shape: Shape, factor: Factor) -> np.ndarray:
    """The factor's table repeated over the axes it does not cover."""
    names = [name for name, _ in shape]
    order = sorted(factor.axes, key=names.index)
    sizes = [1 << dict(shape)[a] for a in factor.axes]
    table = from_ints(factor.table).reshape(*sizes, 4)
    table = np.transpose(table, [factor.axes.index(a) for a in order] + [len(sizes)])
    expanded = table.reshape([(1 << dict(shape)[n]) if n in factor.axes else 1 for n in names] + [4])
    full = np.broadcast_to(expanded, [1 << log for _, log in shape] + [4])
    return np.ascontiguousarray(full).reshape(-1, 4)


def combined_weight(shape: Shape, claims: Sequence[Claim], coefficients: Sequence[int]) -> np.ndarray:
    total = None
    for claim, alpha in zip(claims, coefficients, strict=True):
        term = _kernels.fr_scale(weight_table(shape, claim), from_ints([alpha])[0])
        total = term if total is None else _kernels.fr_add(total, term)
    return total


def _coefficients(channel: ProverChannel | VerifierChannel, claims: Sequence[Claim]) -> list[int]:
    """Random coefficients batching the claims: one sumcheck then checks all of them."""
    channel.transcript.absorb_scalars(b"claims", [c.value for c in claims])
    return channel.challenges(b"batching coefficients", len(claims))


def prove_product(
    channel: ProverChannel, label: bytes, shape: Shape, claims: Sequence[Claim], tables: Sequence[np.ndarray]
) -> tuple[list[int], list[int]]:
    """Reduces claims on Π tables to the tables' values at one point; returns point and values."""
    alphas = _coefficients(channel, claims)
    weight = combined_weight(shape, claims, alphas)
    point, finals = sumcheck.prove(channel, label, [weight, *tables])
    channel.send_scalars(b"factor values", finals[1:])  # the verifier computes the weight's value itself
    return list(point), finals[1:]


def verify_product(
    channel: VerifierChannel, label: bytes, shape: Shape, claims: Sequence[Claim], n_tables: int
) -> tuple[list[int], list[int]]:
    """Checks the batched sumcheck; returns the point and the (now bound) factor values."""
    alphas = _coefficients(channel, claims)
    claim = sum(a * c.value for a, c in zip(alphas, claims)) % MODULUS
    num_vars = sum(log for _, log in shape)
    sub = sumcheck.verify(channel, label, claim, num_vars, n_tables + 1)
    values = channel.receive_scalars(b"factor values", n_tables)
    expected = sum(a * evaluate_weight(shape, c, sub.point) for a, c in zip(alphas, claims)) % MODULUS
    for v in values:
        expected = expected * v % MODULUS
    if expected != sub.value:  # the sumcheck's final check: weight(x*)·Π U_m(x*)
        raise VerificationError(f"{label.decode()}: the final evaluation does not match the claimed factor values")
    return list(sub.point), values
