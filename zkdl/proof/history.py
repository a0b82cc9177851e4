"""The weight history: W_t is never committed, only W_0 and W_T.

W_τ(ℓ) = W_0(ℓ) − Σ_(τ' < τ) A_in(ℓ, τ')ᵀ·G_Z(ℓ, τ') (exact: the weight scale makes the SGD
update an integer subtraction). Claims on the history at several points are merged into one
point (τ*, …) by a sumcheck over the history table; there the definition becomes a claim on W_0
plus one sumcheck over (layer, step, row) of the public prefix weight P(τ') = Σ_τ eq(τ*, τ)·[τ' < τ]
times the two partially evaluated factors. The final weights are the snapshot τ = T. With a bias,
row d_ℓ of each snapshot is 2^R·b and A_in's constant column d_ℓ is 2^R, so the same formula
updates it by 2^R·Σ_batch G_Z = 2^R·G_b (docs/protocol.md §1.1).
"""

from __future__ import annotations

from zkdl import backend
from zkdl.backend import to_ints
from zkdl.proof import claims as cl
from zkdl.proof.claims import ClaimBook
from zkdl.proof.layout import Layout
from zkdl.proof.mle import evaluate_i64, partial
from zkdl.proof.packed import Int64Table
from zkdl.proof.party import Party
from zkdl.proof.witness import ProverTables


def final_weights(party: Party, lay: Layout, book: ClaimBook, tables: ProverTables) -> None:
    """R4: W_T, committed in the statement, equals the history's snapshot T at a random point."""
    omega = party.challenges(b"final weights point", sum(log for _, log in lay.weights))
    parts = cl.split_point(lay.weights, omega)
    factors = [cl.eq_factor(axis, parts[axis]) for axis in ("layer", "in", "out")]

    def value() -> list[int]:
        return [evaluate_i64(tables.history[:, lay.steps], lay.weights, omega)]

    (v,) = party.send(b"final weights value", value, 1)
    book.add("WT", cl.claim(lay.weights, factors, v))
    book.add("history", cl.claim(lay.history, factors + [cl.onehot_factor("step", lay.steps, lay.log_history)], v))


def prefix_weights(lay: Layout, tau_point: list[int]) -> cl.Factor:
    """P(τ') = Σ_τ eq(τ*, τ)·[τ' < τ] over the real steps τ' < T (padded steps carry no update)."""
    eq = to_ints(backend.eq_vector(tau_point))
    suffix, table = 0, []
    sums = [0] * (len(eq) + 1)
    for tau in range(len(eq) - 1, -1, -1):  # sums[τ'] = Σ_(τ > τ') eq(τ*, τ)
        sums[tau] = suffix
        suffix += eq[tau]
    for step in range(1 << lay.log_steps):
        table.append(sums[step] if step < lay.steps else 0)
    return cl.Factor(("step",), tuple(table))


def weight_history(party: Party, lay: Layout, book: ClaimBook, tables: ProverTables) -> None:
    """Reduces every history claim to one on W_0 and one each on A_in and G_Z."""
    history_claims = book.take("history")
    packed_history = lambda: [Int64Table(tables.history.reshape(-1), 1 << lay.log_width)]  # noqa: E731
    point, (w_star,) = party.product(b"history merge", lay.history, history_claims, packed_history, 1)
    at = cl.split_point(lay.history, point)
    w0_factors = [cl.eq_factor(axis, at[axis]) for axis in ("layer", "in", "out")]

    def w0_value() -> list[int]:
        return [evaluate_i64(tables.history[:, 0], lay.weights, cl.join_point(lay.weights, at))]

    (w0,) = party.send(b"initial weights value", w0_value, 1)
    book.add("W0", cl.claim(lay.weights, w0_factors, w0))
    # Σ_τ eq(τ*, τ)·W_τ = W_0 − Σ_(ℓ, τ', b) eq(ℓ*, ℓ)·P(τ')·A_in(ℓ, τ', b, k*)·G_Z(ℓ, τ', b, c*)
    shape = (("layer", lay.log_layers), ("step", lay.log_steps), ("row", lay.log_batch))
    weight = cl.claim(shape, [cl.eq_factor("layer", at["layer"]), prefix_weights(lay, at["step"])], w0 - w_star)
    updates = lambda: [  # noqa: E731
        partial(tables.field("A_in"), lay.act, "col", at["in"]),
        partial(tables.field("G_Z"), lay.act, "col", at["out"]),
    ]
    point, (a, g) = party.product(b"history updates", shape, [weight], updates, 2)
    by = cl.split_point(shape, point)
    rows = [cl.eq_factor("layer", by["layer"]), cl.eq_factor("step", by["step"]), cl.eq_factor("row", by["row"])]
    book.add("A_in", cl.claim(lay.act, rows + [cl.eq_factor("col", at["in"])], a))
    book.add("G_Z", cl.claim(lay.act, rows + [cl.eq_factor("col", at["out"])], g))
