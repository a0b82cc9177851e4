"""The sumcheck protocol for Σ_x eq(w, x)·f_1(x)·…·f_k(x) over the boolean hypercube.

Variables are bound LSB first (variable 0 first), matching the kernels. Each round the prover
sends the round polynomial s as its values at 0, 2, 3, …, d; s(1) is implied by the running
claim (s(0) + s(1) = claim), which saves one element per round and makes the round check
implicit. The verifier returns a subclaim (point, expected value) and the caller checks it
against the factors' committed or computed values: the final check stays visible at the call site.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from zkdl import _kernels
from zkdl.field import MODULUS, from_int, from_ints, to_ints
from zkdl.proof.channel import ProverChannel, VerifierChannel
from zkdl.proof.transcript import Transcript


@dataclass(frozen=True)
class Subclaim:
    """What the sumcheck leaves to check: Π f_i(point)·eq(w, point) must equal `value`."""

    point: tuple[int, ...]
    value: int


def interpolate(values: Sequence[int], x: int) -> int:
    """s(x) for the polynomial of degree < len(values) with s(i) = values[i], i = 0, 1, …."""
    total = 0
    for i, v in enumerate(values):
        num, den = 1, 1
        for j in range(len(values)):
            if j != i:
                num, den = num * (x - j) % MODULUS, den * (i - j) % MODULUS
        total += v * num * pow(den, -1, MODULUS)
    return total % MODULUS


class RoundProver(Protocol):
    """The prover's side of one sumcheck, however its tables are held: the round polynomial's
    values at 0, 1, …, degree, the fold at a challenge, and each factor's final value."""

    num_vars: int
    degree: int

    def round_values(self) -> list[int]: ...

    def bind(self, r: int) -> None: ...

    def final_values(self) -> list[int]: ...


class DenseProver:
    """A RoundProver over full field tables (the kernels' ProductSumcheck)."""

    def __init__(self, factors: Sequence[np.ndarray], eq_point: Sequence[int] | None = None) -> None:
        eq = None if eq_point is None else from_ints(eq_point)
        self._inner = _kernels.ProductSumcheck(list(factors), eq)
        self.num_vars, self.degree = self._inner.num_vars, self._inner.degree

    def round_values(self) -> list[int]:
        return to_ints(self._inner.round_evaluations())

    def bind(self, r: int) -> None:
        self._inner.bind(from_int(r))

    def final_values(self) -> list[int]:
        return to_ints(self._inner.final_values())


def prove(
    channel: ProverChannel, label: bytes, factors: Sequence[np.ndarray], eq_point: Sequence[int] | None = None
) -> tuple[tuple[int, ...], list[int]]:
    """Proves the sum of the product of `factors` (kernel field vectors of one power-of-two
    length), eq-weighted when `eq_point` is given. Returns the bound point and each factor's
    value there."""
    return prove_rounds(channel, label, DenseProver(factors, eq_point))


def prove_rounds(channel: ProverChannel, label: bytes, prover: RoundProver) -> tuple[tuple[int, ...], list[int]]:
    """The Fiat–Shamir rounds over any RoundProver: the messages depend only on the polynomial."""
    _absorb_shape(channel.transcript, label, prover.num_vars, prover.degree)
    point = []
    for _ in range(prover.num_vars):
        values = prover.round_values()
        channel.send_scalars(b"sumcheck round", (values[0], *values[2:]))  # bound before its challenge
        r = channel.challenge(b"sumcheck challenge")
        prover.bind(r)
        point.append(r)
    return tuple(point), prover.final_values()


def verify(channel: VerifierChannel, label: bytes, claim: int, num_vars: int, degree: int) -> Subclaim:
    """Replays the rounds; raises VerificationError on a malformed proof, else the subclaim."""
    _absorb_shape(channel.transcript, label, num_vars, degree)
    point = []
    for _ in range(num_vars):
        message = channel.receive_scalars(b"sumcheck round", degree)  # the degree bound, checked on receipt
        r = channel.challenge(b"sumcheck challenge")
        s0 = message[0]
        claim = interpolate([s0, (claim - s0) % MODULUS, *message[1:]], r)  # s(1) = claim − s(0)
        point.append(r)
    return Subclaim(tuple(point), claim)


def _absorb_shape(transcript: Transcript, label: bytes, num_vars: int, degree: int) -> None:
    """Domain-separates each sumcheck instance and binds its shape before any message."""
    transcript.absorb_bytes(b"sumcheck", label + num_vars.to_bytes(4, "big") + degree.to_bytes(4, "big"))
