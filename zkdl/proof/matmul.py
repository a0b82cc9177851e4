"""The aggregated matrix-product relations (FAC4DNN): every (step, layer) instance at once.

Forward (R1): Z(ℓ, t) = A_in(ℓ, t)·W_t(ℓ) (with a bias, A_in's constant column d_ℓ times W's bias
row d_ℓ adds 2^(2R)·b). Backward (R2): G_A(ℓ, t) = G_Z(ℓ+1, t)·W_t(ℓ+1)ᵀ on the real columns
k < d_(ℓ+1) of hidden ℓ. Both are checked at a random point ρ of the output: a random linear combination of all
entries of all real instances (μ masks padded steps and layers), which one sumcheck over
(layer, step, inner index) reduces to one claim on each factor. The instance variables are
summed in the same sumcheck as the inner index, so the number of rounds is log(T·L) + log N.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from zkdl import backend
from zkdl.backend import Vector, from_ints, to_ints
from zkdl.proof import claims as cl
from zkdl.proof.claims import ClaimBook, Shape
from zkdl.proof.hidden import Hidden
from zkdl.proof.layout import Layout
from zkdl.proof.mle import contract_i64, partial, weighted_sum
from zkdl.proof.party import Party
from zkdl.proof.witness import ProverTables


def _instances(lay: Layout, inner: str) -> Shape:
    return (("layer", lay.log_layers), ("step", lay.log_steps), (inner, lay.log_width))


def _check_products(
    party: Party,
    label: bytes,
    lay: Layout,
    layers: range,
    output_value: Callable[[list[cl.Factor], dict[str, list[int]]], int],
    left: Callable[[dict[str, list[int]]], Vector],
    right: Callable[[dict[str, list[int]]], Vector],
) -> tuple[list[int], dict[str, list[int]], list[Hidden], list[cl.Factor]]:
    """Draws ρ over the output, has the prover send the masked output's value there, and reduces
    it by one sumcheck over (layer, step, inner). Returns the sumcheck's point, ρ's parts, the two
    factor values followed by the output value, and the instance weight."""
    rho = party.challenges(label + b" point", sum(log for _, log in lay.act))
    parts = cl.split_point(lay.act, rho)
    instance_weight = [
        cl.eq_factor("layer", parts["layer"]),
        lay.layer_mask(layers),
        cl.eq_factor("step", parts["step"]),
        lay.step_mask,
    ]
    (value,) = party.send(label + b" value", lambda: [output_value(instance_weight, parts)], 1)
    shape = _instances(lay, "inner")
    claim = cl.claim(shape, instance_weight, value)
    point, values = party.product(label, shape, [claim], lambda: [left(parts), right(parts)], 2)
    return point, parts, values + [value], instance_weight


def forward(party: Party, lay: Layout, book: ClaimBook, tables: ProverTables) -> None:
    """R1 over all real instances; claims go to BZ (the product), A_in and the weight history."""

    def value(weight, parts):
        claim = cl.claim(lay.act, weight + [cl.eq_factor("row", parts["row"]), cl.eq_factor("col", parts["col"])], 0)
        return weighted_sum(lay.act, claim, tables.field("Z"))

    point, parts, (a, w, v), weight = _check_products(
        party, b"forward", lay, range(lay.layers), value,
        lambda p: partial(tables.field("A_in"), lay.act, "row", p["row"]),
        lambda p: _snapshots(lay, tables, range(1 << lay.log_layers), "out", lambda _: backend.eq_vector(p["col"])),
    )  # fmt: skip
    book.add("BZ", cl.claim(lay.bits, weight + [  # Z = Σ_j κ_j·BZ_j at ρ
        cl.eq_factor("row", parts["row"]), cl.eq_factor("col", parts["col"]), lay.recompose
    ], v))  # fmt: skip
    at = cl.split_point(_instances(lay, "inner"), point)
    book.add("A_in", cl.claim(lay.act, [
        cl.eq_factor("layer", at["layer"]), cl.eq_factor("step", at["step"]),
        cl.eq_factor("row", parts["row"]), cl.eq_factor("col", at["inner"]),
    ], a))  # fmt: skip
    book.add("history", cl.claim(lay.history, [
        cl.eq_factor("layer", at["layer"]), cl.padded_factor(cl.eq_factor("step", at["step"]), lay.log_history),
        cl.eq_factor("in", at["inner"]), cl.eq_factor("out", parts["col"]),
    ], w))  # fmt: skip


def backward(party: Party, lay: Layout, book: ClaimBook, tables: ProverTables) -> None:
    """R2 for hidden layers; claims go to BG, G_Z (of the next layer) and the weight history."""

    # R2 is checked on the real columns k < d_(ℓ+1) of G_A only: the mask M_(ℓ+1) over (layer, col)
    # is part of the weight. With a bias, G_Z(ℓ+1)·W(ℓ+1)ᵀ has a non-zero column d_(ℓ+1) (the bias
    # row times G_Z), which the trainer never computes or range-checks: committing it could exceed
    # range_bits for a run the trainer accepted, and it is useless, since G_Z(ℓ) = M ⊙ S ⊙ G_A' masks
    # every column ≥ d_(ℓ+1) (so G_A's padded columns are inert, with or without a bias). The mask
    # goes into W's side as a factor over (layer, in): Σ_k eq(ρ_col, k)·M(ℓ, k)·W(ℓ+1, k, ·).
    columns = lay.output_columns

    def value(weight, parts):
        claim = cl.claim(lay.act, weight + [cl.eq_factor("row", parts["row"]), cl.eq_factor("col", parts["col"]), columns], 0)
        return weighted_sum(lay.act, claim, tables.field("G_A"))

    def next_layer(array: np.ndarray) -> np.ndarray:
        """out[ℓ] = array[ℓ + 1], zero for the last slot: layer ℓ's gradient reads layer ℓ + 1."""
        shifted = np.zeros_like(array)
        shifted[:-1] = array[1:]
        return shifted

    point, parts, (g, w, v), weight = _check_products(
        party, b"backward", lay, range(lay.layers - 1), value,
        lambda p: partial(backend.from_i64(next_layer(tables.G_Z)), lay.act, "row", p["row"]),
        lambda p: _next_layer_weights(lay, tables, columns, p["col"]),  # W(ℓ+1)'s input rows masked to G_A's real columns
    )  # fmt: skip
    book.add("BG", cl.claim(lay.bits, weight + [
        cl.eq_factor("row", parts["row"]), cl.eq_factor("col", parts["col"]), columns, lay.recompose
    ], v))  # fmt: skip
    at = cl.split_point(_instances(lay, "inner"), point)
    from_next = cl.shifted_factor(cl.eq_factor("layer", at["layer"]), -1)  # Σ_ℓ e(ℓ)·X(ℓ+1) = Σ_ℓ' e(ℓ'−1)·X(ℓ')
    n = 1 << lay.log_width  # the mask re-indexed by W's layer ℓ' = ℓ + 1: M(ℓ'−1, k), zero for ℓ' = 0
    input_rows = cl.Factor(("layer", "in"), (0,) * n + columns.table[: len(columns.table) - n])
    book.add("G_Z", cl.claim(lay.act, [
        from_next, cl.eq_factor("step", at["step"]), cl.eq_factor("row", parts["row"]), cl.eq_factor("col", at["inner"]),
    ], g))  # fmt: skip
    book.add("history", cl.claim(lay.history, [
        from_next, cl.padded_factor(cl.eq_factor("step", at["step"]), lay.log_history),
        cl.eq_factor("in", parts["col"]), input_rows, cl.eq_factor("out", at["inner"]),
    ], w))  # fmt: skip


def _snapshots(lay: Layout, tables: ProverTables, slots: range, axis: str, weights: Callable[[int], Vector]) -> Vector:
    """Per layer ℓ, the history slot slots[ℓ] over its first T' snapshots (the weights of the real
    and padded steps; the history has T + 1, padded to a power of two) contracted over `axis` with
    weights(ℓ); zero where slots has no ℓ. A (layer, step, ·) field table from the int64 history."""
    steps, n = 1 << lay.log_steps, 1 << lay.log_width
    slot = (("step", lay.log_steps), ("in", lay.log_width), ("out", lay.log_width))
    return backend.concat([
        contract_i64(tables.history[slots[l], :steps], slot, axis, weights(l)) if l < len(slots) else backend.full(steps * n, 0)
        for l in range(1 << lay.log_layers)
    ])  # fmt: skip


def _next_layer_weights(lay: Layout, tables: ProverTables, columns: cl.Factor, rho_col: list[int]) -> Vector:
    """R(ℓ, τ, c) = Σ_k eq(ρ_col, k)·M(ℓ, k)·W_τ(ℓ + 1, k, c) over (layer, step, out); zero for the
    last layer slot."""
    n, eq = 1 << lay.log_width, to_ints(backend.eq_vector(rho_col))

    def masked(l: int) -> Vector:  # eq(ρ_col, k)·M(ℓ, k) over k
        return from_ints([e * m for e, m in zip(eq, columns.table[l * n : (l + 1) * n])])

    return _snapshots(lay, tables, range(1, 1 << lay.log_layers), "in", masked)
