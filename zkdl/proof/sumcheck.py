"""The zero-knowledge sumcheck for Σ_x f_1(x)·…·f_k(x) over the boolean hypercube.

Variables are bound LSB first (variable 0 first), matching the backend. Each round the prover
sends the round polynomial s as commitments to its values at 0, 2, 3, …, d (commit-and-prove, as
in Hyrax): s(1) is the running claim minus s(0), and the next claim s(r) is a Lagrange combination
of the values, so both round checks are linear relations between commitments that hold by
construction: the verifier never sees a round value, and the proof carries no per-round Σ-protocol.
The sumcheck leaves a committed subclaim (point, claim) that the caller closes with Σ-protocols
against the factors' committed values (zkdl.proof.product).

Why it is sound: the commitments bind the prover to one polynomial per round before its
challenge; Schwartz–Zippel then applies round by round as in the plain sumcheck. Why it reveals
nothing: each commitment has a fresh uniform blind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from zkdl import backend
from zkdl.backend import MODULUS, Vector
from zkdl.proof.channel import ProverChannel, VerifierChannel
from zkdl.proof.hidden import Hidden, combination
from zkdl.proof.transcript import Transcript


@dataclass(frozen=True)
class Subclaim:
    """What the sumcheck leaves to check: Π f_i(point) must equal the committed `value`."""

    point: tuple[int, ...]
    value: Hidden


def lagrange_weights(n: int, x: int) -> list[int]:
    """L_i(x) for the nodes 0, 1, …, n − 1: s(x) = Σ_i L_i(x)·s(i) for deg s < n."""
    weights = []
    for i in range(n):
        num, den = 1, 1
        for j in range(n):
            if j != i:
                num, den = num * (x - j) % MODULUS, den * (i - j) % MODULUS
        weights.append(num * pow(den, -1, MODULUS) % MODULUS)
    return weights


def next_claim(claim: Hidden, sent: Sequence[Hidden], r: int) -> Hidden:
    """s(r) from the committed s(0), s(2), …, s(d) and s(1) = claim − s(0)."""
    values = [sent[0], claim - sent[0], *sent[1:]]
    return combination(lagrange_weights(len(values), r), values)


class RoundProver(Protocol):
    """The prover's side of one sumcheck, however its tables are held: the round polynomial's
    values at 0, 1, …, degree, the fold at a challenge, and each factor's final value."""

    num_vars: int
    degree: int

    def round_values(self) -> list[int]: ...

    def bind(self, r: int) -> None: ...

    def final_values(self) -> list[int]: ...


def prove(
    channel: ProverChannel, label: bytes, factors: Sequence[Vector], claim: Hidden, eq_point: Sequence[int] | None = None
) -> tuple[tuple[int, ...], list[int], Hidden]:
    """Proves the committed `claim` is the sum of the product of `factors` (backend field vectors
    of one power-of-two length), eq-weighted when `eq_point` is given. Returns the bound point,
    each factor's value there and the committed final claim."""
    return prove_rounds(channel, label, backend.ProductSumcheck(factors, eq_point), claim)


def prove_rounds(channel: ProverChannel, label: bytes, prover: RoundProver, claim: Hidden) -> tuple[tuple[int, ...], list[int], Hidden]:
    """The Fiat–Shamir rounds over any RoundProver: the messages depend only on the polynomial."""
    _absorb_shape(channel.transcript, label, prover.num_vars, prover.degree)
    point = []
    for _ in range(prover.num_vars):
        values = prover.round_values()
        sent = channel.send_hidden(b"sumcheck round", (values[0], *values[2:]))  # bound before its challenge
        r = channel.challenge(b"sumcheck challenge")
        claim = next_claim(claim, sent, r)
        prover.bind(r)
        point.append(r)
    return tuple(point), prover.final_values(), claim


def verify(channel: VerifierChannel, label: bytes, claim: Hidden, num_vars: int, degree: int) -> Subclaim:
    """Replays the rounds on the commitments; raises VerificationError on a malformed proof, else
    returns the committed subclaim."""
    _absorb_shape(channel.transcript, label, num_vars, degree)
    point = []
    for _ in range(num_vars):
        sent = channel.receive_hidden(b"sumcheck round", degree)  # the degree bound, checked on receipt
        r = channel.challenge(b"sumcheck challenge")
        claim = next_claim(claim, sent, r)
        point.append(r)
    return Subclaim(tuple(point), claim)


def _absorb_shape(transcript: Transcript, label: bytes, num_vars: int, degree: int) -> None:
    """Domain-separates each sumcheck instance and binds its shape before any message."""
    transcript.absorb_bytes(b"sumcheck", label + num_vars.to_bytes(4, "big") + degree.to_bytes(4, "big"))
