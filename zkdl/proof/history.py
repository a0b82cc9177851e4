"""The weight history: W_t is never committed, only W_0 and W_T.

W_τ(ℓ) = W_0(ℓ) − Σ_(τ' < τ) A_in(ℓ, τ')ᵀ·G_Z(ℓ, τ') (exact: the weight scale makes the SGD
update an integer subtraction). Claims on the history (step, packed `weight` axis) at several
points are merged into one point (τ*, w*) by a sumcheck over the history table; there the
definition becomes a claim on W_0 plus one sumcheck over (block, step, row) of κ_β (the eq of
block β's high variables at w*) times the public prefix weight P(τ') = Σ_τ eq(τ*, τ)·[τ' < τ]
times the two factors read at w*'s low variables: A_in on the block's input side and G_Z on its
output side. The final weights are the snapshot τ = T. With a bias, block "b{ℓ}" of each snapshot
is 2^R·b and its input side is the constant "one" of A_in, 2^R, so the same formula updates it by
2^R·Σ_batch G_Z = 2^R·G_b (docs/protocol.md §1.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkdl import backend
from zkdl.backend import Vector, to_ints
from zkdl.proof import claims as cl
from zkdl.proof.claims import ClaimBook
from zkdl.proof.layout import Layout
from zkdl.proof.mle import contract_i64, evaluate_i64
from zkdl.proof.packed import Int64Table
from zkdl.proof.packing import Packing, Term
from zkdl.proof.party import Party
from zkdl.proof.witness import ProverTables, block


def final_weights(party: Party, lay: Layout, book: ClaimBook, tables: ProverTables) -> None:
    """R4: W_T, committed in the statement, equals the history's snapshot T at a random point."""
    omega = party.challenges(b"final weights point", sum(log for _, log in lay.weights))
    factor = cl.eq_factor("weight", omega)

    def value() -> list[int]:
        return [evaluate_i64(tables.history[lay.steps], lay.weights, omega)]

    (v,) = party.send(b"final weights value", value, 1)
    book.add("WT", cl.claim(lay.weights, [factor], v))
    book.add("history", cl.claim(lay.history, [cl.onehot_factor("step", lay.steps, lay.log_history), factor], v))


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
    packed_history = lambda: [Int64Table(tables.history.reshape(-1), 1 << lay.weight_rows)]  # noqa: E731
    point, (w_star,) = party.product(b"history merge", lay.history, history_claims, packed_history, 1)
    at = cl.split_point(lay.history, point)

    def w0_value() -> list[int]:
        return [evaluate_i64(tables.history[0], lay.weights, at["weight"])]

    (w0,) = party.send(b"initial weights value", w0_value, 1)
    book.add("W0", cl.claim(lay.weights, [cl.eq_factor("weight", at["weight"])], w0))
    # Σ_τ eq(τ*, τ)·W_τ(w*) = W_0(w*) − Σ_(β, τ', b) κ_β·P(τ')·Â_β(τ', b)·Ĝ_β(τ', b)
    names = list(lay.weight_names)
    kappa = [t.coefficient for t in lay.weight_blocks.eq_terms(at["weight"], names)]
    sides = {name: _sides(lay, name, at["weight"]) for name in names}
    blocks = cl.padded_factor(cl.Factor(("block",), tuple(kappa)), dict(lay.updates)["block"])
    weight = cl.claim(lay.updates, [blocks, prefix_weights(lay, at["step"])], w0 - w_star)
    updates = lambda: [  # noqa: E731
        _side_tables(lay, tables.A_in, lay.inputs, [(side.input, side.in_point) for side in sides.values()]),
        _side_tables(lay, tables.G_Z, lay.outputs, [(side.output, side.out_point) for side in sides.values()]),
    ]
    point, (a, g) = party.product(b"history updates", lay.updates, [weight], updates, 2)
    a_factors, g_factors = update_factors(lay, at["weight"], point)
    book.add("A_in", cl.claim(lay.layer_inputs, a_factors, a))
    book.add("G_Z", cl.claim(lay.layer_outputs, g_factors, g))


def update_factors(lay: Layout, weight_point: list[int], point: list[int]) -> tuple[list[cl.Factor], list[cl.Factor]]:
    """The factors of the claims on A_in and G_Z that the updates' sumcheck leaves at its point:
    Σ_β eq(β°, β)·(block β's side of the tensor read at w*'s low variables), at the step and row."""
    by = cl.split_point(lay.updates, point)
    sides = [_sides(lay, name, weight_point) for name in lay.weight_names]
    block_eq = [cl.eq_at([i >> k & 1 for k in range(len(by["block"]))], by["block"]) for i in range(len(sides))]
    rows = [cl.eq_factor("step", by["step"]), cl.eq_factor("row", by["row"])]
    a_terms = [_term(side.input, e, "in", side.in_point) for side, e in zip(sides, block_eq)]
    g_terms = [_term(side.output, e, "next", side.out_point) for side, e in zip(sides, block_eq)]
    return [*rows, lay.inputs.factor(a_terms)], [*rows, lay.outputs.factor(g_terms)]


@dataclass(frozen=True)
class _Sides:
    """A weight block's input side (a block of `in` and a point in it) and output side (`next`)."""

    input: str
    in_point: list[int]
    output: str
    out_point: list[int]


def _sides(lay: Layout, name: str, point: list[int]) -> _Sides:
    """Where block `name`'s update reads A_in and G_Z, and at which of w*'s low variables: "w{ℓ}" is
    (in high, out low), "b{ℓ}" the output side alone, its input the constant "one"."""
    layer, logs = lay.weight_layer(name), lay.weight_names[name]
    out_point = list(point[: logs[-1]])
    in_point = list(point[logs[-1] : sum(logs)]) if len(logs) == 2 else []
    return _Sides(lay.input_block(layer) if len(logs) == 2 else "one", in_point, lay.output_block(layer), out_point)


def _side_tables(lay: Layout, array: np.ndarray, packing: Packing, sides: list[tuple[str, list[int]]]) -> Vector:
    """Per weight block, the (step, row) table of `array`'s block contracted at the side's point;
    zero for the padded block indices."""
    steps_rows = (1 << lay.log_steps) * lay.batch
    out = []
    for name, side_point in sides:
        shape = (("step", lay.log_steps), ("row", lay.log_batch), ("col", len(side_point)))
        out.append(contract_i64(block(array, packing, name), shape, "col", backend.eq_vector(side_point)))
    padded = (1 << dict(lay.updates)["block"]) - len(sides)
    return backend.concat([*out, backend.full(padded * steps_rows, 0)])


def _term(name: str, coefficient: int, axis: str, side_point: list[int]) -> Term:
    return Term(name, coefficient, ((cl.eq_factor(axis, side_point), len(side_point)),) if side_point else ())
