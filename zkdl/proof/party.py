"""One description of the protocol for both parties.

Each sub-protocol is written once, against a `Party`: the prover's party computes a message (the
`compute` callbacks run only on its side, over its private tables) and sends it; the verifier's
party receives the same message from the proof. Every value the prover states is committed
(`Hidden`, zkdl.proof.hidden): sub-protocols combine such values linearly, and a relation that
must hold between them is shown with `zero`, a Σ-protocol that reveals nothing. Checks run on
both sides: on the prover's side a failure is a bug in the prover, on the verifier's side a
rejected proof.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from zkdl.proof import opening, sigma
from zkdl.proof.channel import ProverChannel, VerifierChannel
from zkdl.proof.claims import Claim, ClaimBook, Shape
from zkdl.proof.commitment import TensorCommitment, TensorOpening
from zkdl.proof.errors import VerificationError
from zkdl.proof.hidden import Hidden
from zkdl.proof.packed import Table
from zkdl.proof.product import prove_product, verify_product


class Party(Protocol):
    @property
    def channel(self) -> ProverChannel | VerifierChannel: ...

    def send(self, label: bytes, compute: Callable[[], Sequence[int]], n: int) -> list[Hidden]: ...

    def product(
        self, label: bytes, shape: Shape, claims: Sequence[Claim], tables: Callable[[], Sequence[Table]], n: int
    ) -> tuple[list[int], list[Hidden]]: ...

    def zero(self, label: bytes, value: Hidden) -> None: ...

    def check(self, condition: bool, message: str) -> None: ...

    def open(
        self, label: bytes, commitment: TensorCommitment, secret: Callable[[], TensorOpening], point: list[int], value: Hidden
    ) -> None: ...

    def challenges(self, label: bytes, n: int) -> list[int]: ...


class ProverParty:
    def __init__(self, channel: ProverChannel) -> None:
        self.channel = channel

    def challenges(self, label: bytes, n: int) -> list[int]:
        return self.channel.challenges(label, n)

    def send(self, label: bytes, compute: Callable[[], Sequence[int]], n: int) -> list[Hidden]:
        values = [int(v) for v in compute()]
        assert len(values) == n, f"{label.decode()}: computed {len(values)} values, expected {n}"
        return self.channel.send_hidden(label, values)

    def product(self, label, shape, claims, tables, n):
        return prove_product(self.channel, label, shape, claims, tables())

    def zero(self, label: bytes, value: Hidden) -> None:
        sigma.prove_zero(self.channel, label, value)

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            raise AssertionError(f"prover bug: {message}")

    def open(self, label, commitment, secret, point, value):
        ledger = self.channel.ledger
        proof = opening.prove(self.channel.transcript, commitment, secret(), point, ledger.value(value), ledger.blind(value))
        self.channel.record_opening(label, proof)


class VerifierParty:
    """`checks` collects the equations of the openings and Σ-protocols, checked together by
    `checks.verify()`: no proof is accepted before that call."""

    def __init__(self, channel: VerifierChannel, checks: opening.Batch) -> None:
        self.channel = channel
        self.checks = checks

    def challenges(self, label: bytes, n: int) -> list[int]:
        return self.channel.challenges(label, n)

    def send(self, label: bytes, compute: Callable[[], Sequence[int]], n: int) -> list[Hidden]:
        return self.channel.receive_hidden(label, n)

    def product(self, label, shape, claims, tables, n):
        return verify_product(self.channel, label, shape, claims, n, self.checks)

    def zero(self, label: bytes, value: Hidden) -> None:
        sigma.verify_zero(self.channel, label, value, self.checks)

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            raise VerificationError(message)

    def open(self, label, commitment, secret, point, value):
        proof = self.channel.take_opening(label)
        C_v = self.channel.ledger.point(value)
        opening.verify(self.channel.transcript, commitment, point, C_v, proof, self.checks, label.decode())


def merge_and_open(
    party: Party,
    name: str,
    shape: Shape,
    commitment: TensorCommitment,
    claims: Sequence[Claim],
    table: Callable[[], Table],
    secret: Callable[[], TensorOpening],
) -> None:
    """Every claim on one committed tensor, merged by one sumcheck into a claim at one point, which
    one zero-knowledge opening proves: each committed tensor is opened once."""
    party.check(bool(claims), f"no claim reached the committed tensor {name}")
    point, (value,) = party.product(b"merge " + name.encode(), shape, claims, lambda: [table()], 1)
    party.open(b"opening " + name.encode(), commitment, secret, point, value)


def settle(party: Party, book: ClaimBook) -> None:
    """Every claim of the book was reduced (a claim left over would be a claim never proven)."""
    party.check(not book.pending(), f"claims left unreduced: {book.pending()}")
