"""One-hot targets: the statement's loss is the square loss on one-hot targets, so the committed
targets D_Y must be one-hot at scale 2^R. Without this check a seller could commit any target
vector for a sample and steer its gradient freely.

Two checks at random points: every entry is 0 or 2^R (Σ_y eq(u, y)·Y(y)·(Y(y) − 2^R) = 0), and
every real row sums to 2^R over the real classes (a random combination of the rows). Entries in
{0, 2^R} summing to 2^R over a handful of classes leave exactly one 2^R per row.
"""

from __future__ import annotations

from zkdl import backend
from zkdl.backend import MODULUS, Vector, to_ints
from zkdl.proof import claims as cl
from zkdl.proof.claims import ClaimBook
from zkdl.proof.layout import Layout
from zkdl.proof.party import Party
from zkdl.proof.witness import ProverTables


def one_hot(party: Party, lay: Layout, book: ClaimBook, tables: ProverTables) -> None:
    scale = 1 << lay.frac_bits
    u = party.challenges(b"targets entries point", sum(log for _, log in lay.data))
    entries = cl.claim(lay.data, cl.eq_factors(lay.data, u), 0)

    def value_tables() -> list[Vector]:
        y = backend.from_i64(tables.data_y)
        return [y, backend.sub(y, backend.full(len(y), scale))]

    point, (y, y_minus_scale) = party.product(b"targets entries", lay.data, [entries], value_tables, 2)
    party.zero(b"targets offset", y - scale - y_minus_scale)  # the second factor is the entry minus 2^R
    book.add("Y", cl.claim(lay.data, cl.eq_factors(lay.data, point), y))
    v = party.challenges(b"targets rows point", lay.log_samples)
    rows = to_ints(backend.eq_vector(v))
    expected = scale * sum(rows[: lay.n_train]) % MODULUS  # padded rows must sum to zero
    classes = lay.prefix("col", lay.widths[-1], lay.log_width)
    book.add("Y", cl.claim(lay.data, [cl.Factor(("sample",), tuple(rows)), classes], expected))
