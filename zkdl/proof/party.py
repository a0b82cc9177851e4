"""One description of the protocol for both parties.

Each sub-protocol is written once, against a `Party`: the prover's party computes a message (the
`compute` callbacks run only on its side, over its private tables) and sends it; the verifier's
party receives the same message from the proof. Checks that relate messages run on both sides:
on the prover's side a failure is a bug in the prover, on the verifier's side a rejected proof.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from zkdl.proof.channel import ProverChannel, VerifierChannel
from zkdl.proof import opening
from zkdl.proof.claims import Claim, Shape, prove_product, verify_product
from zkdl.proof.commitment import TensorCommitment, TensorOpening
from zkdl.proof.errors import VerificationError


class Party(Protocol):
    channel: ProverChannel | VerifierChannel

    def send(self, label: bytes, compute: Callable[[], Sequence[int]], n: int) -> list[int]: ...

    def product(
        self, label: bytes, shape: Shape, claims: Sequence[Claim], tables: Callable[[], Sequence[np.ndarray]], n: int
    ) -> tuple[list[int], list[int]]: ...

    def check(self, condition: bool, message: str) -> None: ...

    def open(
        self, label: bytes, commitment: TensorCommitment, secret: Callable[[], TensorOpening], point: list[int], value: int
    ) -> None: ...

    def challenges(self, label: bytes, n: int) -> list[int]: ...


class ProverParty:
    def __init__(self, channel: ProverChannel) -> None:
        self.channel = channel

    def challenges(self, label: bytes, n: int) -> list[int]:
        return self.channel.challenges(label, n)

    def send(self, label: bytes, compute: Callable[[], Sequence[int]], n: int) -> list[int]:
        values = [int(v) for v in compute()]
        assert len(values) == n, f"{label.decode()}: computed {len(values)} values, expected {n}"
        self.channel.send_scalars(label, values)
        return list(self.channel.messages[-1].scalars)

    def product(self, label, shape, claims, tables, n):
        return prove_product(self.channel, label, shape, claims, tables())

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            raise AssertionError(f"prover bug: {message}")

    def open(self, label, commitment, secret, point, value):
        proof = opening.prove(self.channel.transcript, commitment, secret(), point, value, 0)
        self.channel.record_opening(label, proof)


class VerifierParty:
    def __init__(self, channel: VerifierChannel) -> None:
        self.channel = channel

    def challenges(self, label: bytes, n: int) -> list[int]:
        return self.channel.challenges(label, n)

    def send(self, label: bytes, compute: Callable[[], Sequence[int]], n: int) -> list[int]:
        return self.channel.receive_scalars(label, n)

    def product(self, label, shape, claims, tables, n):
        return verify_product(self.channel, label, shape, claims, n)

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            raise VerificationError(message)

    def open(self, label, commitment, secret, point, value):
        proof = self.channel.take_opening(label)
        opening.verify(self.channel.transcript, commitment, point, opening.commit_value(value, 0), proof)
