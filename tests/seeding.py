"""Seeded prover randomness, for tests only.

The prover's only randomness is `zkdl._kernels.fr_random` (the commitments' blinds, the openings'
and Σ-protocols' masks), which the proof modules look up on the module at each call. Inside
`seeded_prover(seed)` it returns a fixed stream of uniform field elements instead, so proving the
same run twice gives the same bundle byte for byte (tests/test_golden_bundle.py).

The verifier's batch weights come from `fr_random` too and must stay the operating system's coins:
enter the context around proving only, never around verifying.

The stream is defined here, not by `random` or numpy (whose sequences may change between
versions), so a committed vector made with it can be reproduced by any later Python:
element i is SHA-256(DOMAIN ‖ seed u64 ‖ counter u64) with its top bit cleared, for successive
counters, rejecting values ≥ r (r < 2^255, so about 1 in 10 is rejected and the rest are uniform).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator

import numpy as np

from zkdl import _kernels
from zkdl.backend.native import MODULUS, from_ints

DOMAIN = b"zkdl/tests/seeded-prover-randomness/v1"


@contextlib.contextmanager
def seeded_prover(seed: int) -> Iterator[None]:
    """Within the block, `_kernels.fr_random(n)` returns the next n elements of the seed's stream."""
    counter = 0

    def uniform() -> int:
        nonlocal counter
        while True:
            block = hashlib.sha256(DOMAIN + seed.to_bytes(8, "big") + counter.to_bytes(8, "big")).digest()
            counter += 1
            value = int.from_bytes(block, "big") & ((1 << 255) - 1)
            if value < MODULUS:
                return value

    def fr_random(n: int) -> np.ndarray:
        return from_ints([uniform() for _ in range(n)])

    original = _kernels.fr_random
    _kernels.fr_random = fr_random
    try:
        yield
    finally:
        _kernels.fr_random = original
