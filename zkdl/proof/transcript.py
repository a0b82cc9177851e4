"""The Fiat–Shamir transcript with the protocol's scalar types (Python ints in [0, r)).

The byte layout is the kernel's (kernels/src/transcript.rs); this wrapper only converts. Prover
and verifier call the same methods in the same order: every prover message is absorbed right
before the challenge that depends on it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zkdl import backend
from zkdl.backend import from_ints, to_ints


class Transcript:
    def __init__(self, domain: bytes) -> None:
        self._inner = backend.Transcript(domain)

    def absorb_bytes(self, label: bytes, data: bytes) -> None:
        self._inner.absorb_bytes(label, data)

    def absorb_scalars(self, label: bytes, values: Sequence[int]) -> None:
        self._inner.absorb_fr(label, from_ints(values))

    def absorb_points(self, label: bytes, points: np.ndarray) -> None:
        self._inner.absorb_points(label, points)

    def challenge_scalars(self, label: bytes, n: int) -> list[int]:
        return to_ints(self._inner.challenge(label, n))

    def challenge_scalar(self, label: bytes) -> int:
        return self.challenge_scalars(label, 1)[0]

    def state(self) -> bytes:
        return bytes(self._inner.state())
