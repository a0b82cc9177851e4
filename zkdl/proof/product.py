"""The batched product sumcheck every sub-protocol is built from.

`prove_product` / `verify_product` reduce a batch of claims (zkdl.proof.claims) on a product of
tensors Π_m U_m to the values of each U_m at one random point: the claims are combined with random
coefficients (Schwartz–Zippel), one zero-knowledge sumcheck runs over the combined weight times
the factors, the prover sends commitments to the factors' values at the sumcheck's point, and
Σ-protocols show that the weight's value there times their product is the sumcheck's committed
final claim.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from zkdl import backend
from zkdl.backend import MODULUS
from zkdl.proof import sigma, sumcheck
from zkdl.proof.channel import ProverChannel, VerifierChannel
from zkdl.proof.claims import Claim, Shape, combined_weight, evaluate_weight
from zkdl.proof.hidden import Hidden, combination
from zkdl.proof.low_axis import low_axis_prover
from zkdl.proof.opening import Batch
from zkdl.proof.packed import BitTable, Int64Table, Table


def _coefficients(channel: ProverChannel | VerifierChannel, claims: Sequence[Claim]) -> list[int]:
    """Random coefficients batching the claims: one sumcheck then checks all of them. The claims'
    values are commitments already in the transcript, or public."""
    channel.transcript.absorb_bytes(b"claims", len(claims).to_bytes(4, "big"))
    return channel.challenges(b"batching coefficients", len(claims))


def _weight_at(alphas: Sequence[int], shape: Shape, claims: Sequence[Claim], point: Sequence[int]) -> int:
    """The batched weight Σ α_k·w_k at the point: public, the verifier computes it itself."""
    return sum(a * evaluate_weight(shape, c, point) for a, c in zip(alphas, claims)) % MODULUS


def prove_product(
    channel: ProverChannel, label: bytes, shape: Shape, claims: Sequence[Claim], tables: Sequence[Table]
) -> tuple[list[int], list[Hidden]]:
    """Reduces claims on Π tables to the tables' committed values at one point; returns point and
    values. A table is a field vector, a `BitTable` or an `Int64Table`; packed tables (and
    0/1 field tables) are proven by `LowAxisProver`, with the same messages as the dense prover."""
    alphas = _coefficients(channel, claims)
    total = combination(alphas, [c.value for c in claims])
    prover: sumcheck.RoundProver | None = low_axis_prover(shape, claims, alphas, tables)
    if prover is None:
        dense = [t.field() if isinstance(t, BitTable | Int64Table) else t for t in tables]
        prover = backend.ProductSumcheck([combined_weight(shape, claims, alphas), *dense])
    point, finals, final = sumcheck.prove_rounds(channel, label, prover, total)
    values = channel.send_hidden(b"factor values", finals[1:])  # the verifier computes the weight's value itself
    _close(
        label,
        final,
        _weight_at(alphas, shape, claims, point),
        values,
        partial(sigma.prove_product, channel),
        partial(sigma.prove_zero, channel),
    )
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
    _close(
        label,
        sub.value,
        _weight_at(alphas, shape, claims, sub.point),
        values,
        partial(sigma.verify_product, channel, batch=checks),
        partial(sigma.verify_zero, channel, batch=checks),
    )
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
