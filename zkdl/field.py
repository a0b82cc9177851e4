"""Scalars of F_r as Python ints, and their conversion to the kernels' vector form.

The protocol keeps single scalars (claims, challenges) as Python ints in [0, r) and vectors as the
kernels' `uint64[n, 4]` arrays (see docs/kernels.md). Conversions go through the canonical 32-byte
big-endian encoding, which the kernels check.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from zkdl import _kernels

MODULUS = int(_kernels.MODULUS)


def from_ints(values: Iterable[int]) -> np.ndarray:
    """A field vector from integers (reduced mod r; negative x becomes r − |x|)."""
    encoded = b"".join((v % MODULUS).to_bytes(32, "big") for v in values)
    return _kernels.fr_from_bytes(np.frombuffer(encoded, dtype=np.uint8).reshape(-1, 32))


def from_int(value: int) -> np.ndarray:
    return from_ints([value])[0]


def to_ints(vector: np.ndarray) -> list[int]:
    encoded = _kernels.fr_to_bytes(np.ascontiguousarray(vector).reshape(-1, 4))
    return [int.from_bytes(row.tobytes(), "big") for row in encoded]


def to_int(element: np.ndarray) -> int:
    return to_ints(element.reshape(1, 4))[0]
