"""Binarity: every entry of a committed bit tensor is 0 or 1.

One product sumcheck at a random point u: Σ_x eq(u, x)·b(x)·(b(x) − 1) = 0, which holds for a
random u only if b·(b − 1) vanishes everywhere. The sumcheck ends in claims on b and b − 1 at one
point; a Σ-protocol shows the second is the first minus one, so both become one claim on b.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from zkdl.proof import claims as cl
from zkdl.proof.claims import ClaimBook, Shape
from zkdl.proof.packed import BitTable
from zkdl.proof.party import Party


def binarity(party: Party, book: ClaimBook, name: str, shape: Shape, words: Callable[[], np.ndarray]) -> None:
    """Adds the claim on `name` (packed bits of `shape`, whose last axis is the bit index) that
    holds only if every bit is 0 or 1."""
    width = 1 << shape[-1][1]
    u = party.challenges(b"binarity point " + name.encode(), sum(log for _, log in shape))
    claim = cl.claim(shape, cl.eq_factors(shape, u), 0)

    def bit_tables() -> list[BitTable]:
        packed = words()  # kept packed: b and b − 1
        return [BitTable(packed, width), BitTable(packed, width, -1)]

    point, (b, b_minus_one) = party.product(b"binarity " + name.encode(), shape, [claim], bit_tables, 2)
    party.zero(b"binarity offset " + name.encode(), b - 1 - b_minus_one)  # the second factor is the bit minus one
    book.add(name, cl.claim(shape, cl.eq_factors(shape, point), b))
