"""Data selection: each step's batch is the public schedule's rows of the committed data set.

A claim Σ_(t,b,k) f_t(t)·f_b(b)·g(k)·X_sel(t, b, k) on the selected rows is the claim
Σ_(n,k) c(n)·g(k)·D(n, k) on the committed data, with the public table
c(n) = Σ_(t < T, b: schedule[t][b] = n) f_t(t)·f_b(b): padded steps select nothing.
"""

from __future__ import annotations

from zkdl.backend import MODULUS
from zkdl.proof import claims as cl
from zkdl.proof.claims import ClaimBook
from zkdl.proof.hidden import Hidden
from zkdl.proof.layout import Layout


def select(book: ClaimBook, data: str, lay: Layout, f_step: cl.Factor, f_row: cl.Factor, g_col: cl.Factor, value: Hidden) -> None:
    """Adds the data-set claim equivalent to a claim on the scheduled rows."""
    selection = [0] * (1 << lay.log_samples)
    for t, rows in enumerate(lay.schedule):
        for b, n in enumerate(rows):
            selection[int(n)] = (selection[int(n)] + f_step.table[t] * f_row.table[b]) % MODULUS
    book.add(data, cl.claim(lay.data, [cl.Factor(("sample",), tuple(selection)), g_col], value))
