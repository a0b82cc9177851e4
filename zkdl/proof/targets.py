"""One-hot targets: the statement's loss is the square loss on one-hot targets, so the committed
labels D_Y must be one-hot: each real row a single 1 among the real classes, padded rows and padded
classes zero. Without this check a seller could commit any target vector for a sample and steer its
gradient freely (the training proof scales D_Y by 2^R itself: zkdl.proof.loss).

Three checks at random points: every entry is 0 or 1 (Σ_y eq(u, y)·Y(y)·(Y(y) − 1) = 0); a random
combination of the rows' sums over the real classes is that of [row < n] (each real row sums to 1,
each padded row to 0); and a random combination of the rows' sums over the padded classes is 0.
Entries in {0, 1} then leave exactly one 1 per real row, in a real class.
"""

from __future__ import annotations

from collections.abc import Callable

from zkdl import backend
from zkdl.backend import Vector
from zkdl.proof import claims as cl
from zkdl.proof.claims import ClaimBook, Factor, Shape
from zkdl.proof.layout import Layout
from zkdl.proof.party import Party
from zkdl.proof.witness import ProverTables


def one_hot(party: Party, lay: Layout, book: ClaimBook, tables: ProverTables) -> None:
    """The training proof's check of its data set's labels."""
    check_one_hot(party, book, lay.data_y, lay.n_train, lay.widths[-1], lambda: backend.from_i64(tables.data_y))


def check_one_hot(party: Party, book: ClaimBook, shape: Shape, samples: int, classes: int, labels: Callable[[], Vector]) -> None:
    """Claims on "Y" (of `shape`: sample, col) that hold iff its first `samples` rows are one-hot over
    the first `classes` columns and every other entry is zero."""
    u = party.challenges(b"targets entries point", sum(log for _, log in shape))
    entries = cl.claim(shape, cl.eq_factors(shape, u), 0)

    def value_tables() -> list[Vector]:
        y = labels()
        return [y, backend.sub(y, backend.full(len(y), 1))]

    point, (y, y_minus_one) = party.product(b"targets entries", shape, [entries], value_tables, 2)
    party.zero(b"targets offset", y - 1 - y_minus_one)  # the second factor is the entry minus 1
    book.add("Y", cl.claim(shape, cl.eq_factors(shape, point), y))
    v = party.challenges(b"targets rows point", dict(shape)["sample"])
    rows = cl.eq_factor("sample", v)
    real_rows = cl.prefix_at(samples, v)  # Σ_(n < samples) eq(v, n): padded rows must sum to zero
    book.add("Y", cl.claim(shape, [rows, _columns(shape, range(classes))], real_rows))
    padded = range(classes, 1 << dict(shape)["col"])
    if padded:  # a 1 in a padded class would be a row the loss never reads
        book.add("Y", cl.claim(shape, [rows, _columns(shape, padded)], 0))


def _columns(shape: Shape, columns: range) -> Factor:
    return Factor(("col",), tuple(int(k in columns) for k in range(1 << dict(shape)["col"])))
