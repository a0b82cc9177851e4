"""Data selection: each step's batch is the public schedule's rows of the committed data set.

A claim Σ_(t,b,k) f_t(t)·f_b(b)·g(k)·X_sel(t, b, k) on the selected rows is the claim
Σ_(n,k) c(n)·g(k)·D(n, k) on the committed data, with the public table
c(n) = Σ_(t < T, b: schedule[t][b] = n) f_t(t)·f_b(b): padded steps select nothing. c is sparse (at
most T·B of its 2^⌈log n⌉ entries are not zero), so it is kept as its entries: the verifier
evaluates its extension from them (zkdl.proof.claims.sparse_factor), whatever the number of samples
the statement claims. The data set is committed at its own width (zkdl.proof.dataset), the width
of the block `x` of A_in: g must vanish on the columns beyond it (a mask of the data's real
columns), so its prefix carries the whole claim.
"""

from __future__ import annotations

from zkdl.backend import MODULUS
from zkdl.proof import claims as cl
from zkdl.proof.claims import ClaimBook, Shape
from zkdl.proof.hidden import Hidden
from zkdl.proof.layout import Layout


def select(
    book: ClaimBook, data: str, shape: Shape, lay: Layout, f_step: cl.Factor, f_row: cl.Factor, g_col: cl.Factor, value: Hidden
) -> None:
    """Adds the claim on the data set `data` (of `shape`) equivalent to a claim on the scheduled rows."""
    book.add(data, cl.claim(shape, [selection(lay, f_step, f_row), _data_columns(shape, g_col)], value))


def selection(lay: Layout, f_step: cl.Factor, f_row: cl.Factor) -> cl.Factor:
    """c over the samples, from the schedule's T·B entries."""
    entries: dict[int, int] = {}
    steps, rows = f_step.table, f_row.table
    for t, scheduled in enumerate(lay.schedule.tolist()):
        for b, n in enumerate(scheduled):
            entries[n] = (entries.get(n, 0) + steps[t] * rows[b]) % MODULUS
    return cl.sparse_factor("sample", entries, lay.log_samples)


def _data_columns(shape: Shape, g_col: cl.Factor) -> cl.Factor:
    width = 1 << dict(shape)["col"]
    assert not any(g_col.table[width:]), "the column weight must vanish beyond the data set's width (mask its real columns)"
    return cl.Factor(("col",), g_col.table[:width])
