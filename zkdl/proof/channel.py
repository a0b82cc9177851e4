"""The prover's and the verifier's ends of the non-interactive proof.

Every prover message goes through `ProverChannel.send_*`, which absorbs it into the transcript and
appends it to the proof; the verifier's `VerifierChannel.receive_*` reads the same message, checks
its length, and absorbs it the same way. Challenges come from the shared transcript after the
messages they depend on, so prover and verifier run step for step and the proof is simply the
ordered list of messages. Values the prover states are sent hidden, as commitments; each end
keeps the ledger that gives them meaning (zkdl.proof.hidden).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zkdl.backend import MODULUS
from zkdl.proof.errors import VerificationError
from zkdl.proof.hidden import Hidden, ProverLedger, VerifierLedger
from zkdl.proof.opening import OpeningProof
from zkdl.proof.transcript import Transcript


@dataclass(frozen=True)
class Message:
    """One prover message: a label and field scalars, G1 points (uint8[n, 96]) or an opening proof
    (which absorbed its own parts into the transcript as it was made)."""

    label: bytes
    scalars: tuple[int, ...] = ()
    points: np.ndarray | None = None
    opening: OpeningProof | None = None


class ProverChannel:
    def __init__(self, transcript: Transcript) -> None:
        self.transcript = transcript
        self.messages: list[Message] = []
        self.ledger = ProverLedger()

    def send_hidden(self, label: bytes, values: Sequence[int]) -> list[Hidden]:
        """Sends each value as a fresh Pedersen commitment (zkdl.proof.hidden): nothing leaks."""
        points, hidden = self.ledger.commit(values)
        self.send_points(label, points)
        return hidden

    def send_scalars(self, label: bytes, values: Sequence[int]) -> None:
        values = tuple(int(v) % MODULUS for v in values)
        self.transcript.absorb_scalars(label, values)
        self.messages.append(Message(label, scalars=values))

    def send_points(self, label: bytes, points: np.ndarray) -> None:
        self.transcript.absorb_points(label, points)
        self.messages.append(Message(label, points=points))

    def record_opening(self, label: bytes, proof: OpeningProof) -> None:
        self.messages.append(Message(label, opening=proof))

    def challenge(self, label: bytes) -> int:
        return self.transcript.challenge_scalar(label)

    def challenges(self, label: bytes, n: int) -> list[int]:
        return self.transcript.challenge_scalars(label, n)


class VerifierChannel:
    def __init__(self, transcript: Transcript, messages: Sequence[Message], first: int = 0) -> None:
        """Reads `messages`, the proof's from index `first` on (a chunk's own, verified apart from the
        others): positions and errors count in the whole proof's indices."""
        self.transcript = transcript
        self._messages = list(messages)
        self._first = first
        self._next = first
        self.ledger = VerifierLedger()

    def receive_hidden(self, label: bytes, n: int) -> list[Hidden]:
        return self.ledger.add(self.receive_points(label, n))

    def _take(self, label: bytes) -> Message:
        if self._next >= self._end:
            raise VerificationError(f"the proof ends before the message {label.decode()!r}")
        message = self._messages[self._next - self._first]
        if message.label != label:
            found = message.label.decode(errors="replace")  # the label comes from an untrusted bundle
            raise VerificationError(f"message {self._next} is {found!r}, expected {label.decode()!r}")
        self._next += 1
        return message

    def receive_scalars(self, label: bytes, n: int) -> list[int]:
        message = self._take(label)
        if message.points is not None or len(message.scalars) != n:
            raise VerificationError(f"message {label.decode()!r} must hold {n} scalars")
        if any(not 0 <= v < MODULUS for v in message.scalars):
            raise VerificationError(f"message {label.decode()!r} holds a non-canonical scalar")
        self.transcript.absorb_scalars(label, message.scalars)
        return list(message.scalars)

    def receive_points(self, label: bytes, n: int) -> np.ndarray:
        message = self._take(label)
        if message.points is None or message.points.shape != (n, 96) or message.scalars:
            raise VerificationError(f"message {label.decode()!r} must hold {n} points")
        self.transcript.absorb_points(label, message.points)
        return message.points

    def take_opening(self, label: bytes) -> OpeningProof:
        message = self._take(label)
        if message.opening is None:
            raise VerificationError(f"message {label.decode()!r} must hold an opening proof")
        return message.opening

    def challenge(self, label: bytes) -> int:
        return self.transcript.challenge_scalar(label)

    def challenges(self, label: bytes, n: int) -> list[int]:
        return self.transcript.challenge_scalars(label, n)

    @property
    def position(self) -> int:
        """The index of the next message to read (a chunk's proof ends where the next begins)."""
        return self._next

    @property
    def _end(self) -> int:
        return self._first + len(self._messages)

    def finish(self) -> None:
        """Every message must have been read: trailing messages are a malformed proof."""
        if self._next != self._end:
            raise VerificationError(f"{self._end - self._next} unexpected messages at the end of the proof")
