"""The aggregated matrix-product relations (FAC4DNN): every (step, layer) instance at once.

Forward (R1): Z(ℓ, t) = A_in(ℓ, t)·W_t(ℓ) (with a bias, A_in's constant "one" times W's block
"b{ℓ}" adds 2^(2R)·b). Backward (R2): G_A(ℓ, t) = G_Z(ℓ+1, t)·W_t(ℓ+1)ᵀ on the real columns
k < d_(ℓ+1) of hidden ℓ. Both are checked at a random point ρ of the output's packed axis, every
layer's block at once (zkdl.proof.layout): λ_j, the eq of block j's high variables at ρ, weighs
layer j's product, whose output side is read at ρ's low variables (real steps only). One
sumcheck over (step, inner packed axis) reduces it to one claim on each factor; its rounds are
log T + log |inner axis|, whatever the number of layers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from zkdl import backend
from zkdl.backend import Vector, from_ints
from zkdl.proof import claims as cl
from zkdl.proof.claims import ClaimBook, Shape
from zkdl.proof.hidden import Hidden
from zkdl.proof.layout import Layout
from zkdl.proof.mle import contract_i64, on_packing, partial, weighted_sum
from zkdl.proof.packing import Packing, Term
from zkdl.proof.party import Party
from zkdl.proof.witness import ProverTables, block


def forward(party: Party, lay: Layout, book: ClaimBook, tables: ProverTables) -> None:
    """R1 over every layer and real step; claims go to BZ and BO (the product), A_in and the history."""
    rho = party.challenges(b"forward point", _vars(lay.layer_outputs))
    at_rho = cl.split_point(lay.layer_outputs, rho)
    rho_out = at_rho["next"]
    steps, rows = _steps(lay, at_rho["step"]), cl.eq_factor("row", at_rho["row"])
    value_claim = cl.claim(lay.layer_outputs, [*steps, rows, cl.eq_factor("next", rho_out)], 0)
    (v,) = party.send(b"forward value", lambda: [weighted_sum(lay.layer_outputs, value_claim, tables.field("Z_next"))], 1)
    lam = {t.block: t.coefficient for t in lay.outputs.eq_terms(rho_out, list(lay.outputs.blocks))}
    weight = [_ones(lay.inputs, lay.input_block(l), lam[lay.output_block(l)]) for l in range(lay.layers)]
    if lay.bias:  # the constant input weighs every layer's bias: its λ is inside the table (below)
        weight.append(Term("one", 1, ()))
    at, (a, w) = _reduce(party, b"forward", lay, lay.inputs, weight, at_rho["step"], v, lambda: [
        partial(tables.field("A_in"), lay.layer_inputs, "row", at_rho["row"]),
        _forward_weights(lay, tables, rho_out, lam),
    ])  # fmt: skip
    # the value splits into the output layer's Z (BO) and the hidden layers' (BZ), both with κ
    out_vars = _low(rho_out, lay.outputs, "y")
    out_claim = cl.claim(lay.output, [*steps, rows, cl.eq_factor("out", out_vars)], 0)
    (u,) = party.send(b"forward output split", lambda: [weighted_sum(lay.output, out_claim, tables.field("Z_out"))], 1)
    book.add("BO", cl.claim(lay.output_bits, [*out_claim.factors, lay.recompose], u))
    hidden = lay.outputs.factor(lay.outputs.eq_terms(rho_out, _hidden(lay))).reblocked(lay.units)
    book.add("BZ", cl.claim(lay.hidden_bits, [*steps, rows, hidden, lay.recompose], v - lam["y"] * u))
    book.add("A_in", cl.claim(lay.layer_inputs, [cl.eq_factor("step", at["step"]), rows, cl.eq_factor("in", at["in"])], a))
    in_coefficient = {t.block: t.coefficient for t in lay.inputs.eq_terms(at["in"], list(lay.inputs.blocks))}
    history = []
    for l in range(lay.layers):
        name, out = lay.input_block(l), _low(rho_out, lay.outputs, lay.output_block(l))
        in_low = _low(at["in"], lay.inputs, name)
        history.append(_weight_term(f"w{l}", in_coefficient[name], ((cl.eq_factor("in", in_low), len(in_low)),), out))
        if lay.bias:
            history.append(_weight_term(f"b{l}", in_coefficient["one"] * lam[lay.output_block(l)], (), out))
    book.add("history", _history_claim(lay, at["step"], history, w))  # W's value: a claim on the history


def backward(party: Party, lay: Layout, book: ClaimBook, tables: ProverTables) -> None:
    """R2 for hidden layers on their real columns; claims go to BG, G_Z and the history."""
    rho = party.challenges(b"backward point", _vars(lay.hidden))
    at_rho = cl.split_point(lay.hidden, rho)
    steps, rows = _steps(lay, at_rho["step"]), cl.eq_factor("row", at_rho["row"])
    layers = range(1, lay.layers)  # G_A at block h_j is G_Z of layer j (its output block) times W_jᵀ
    # G_A is checked on its real columns only (the trainer computes no other, and G_Z = M ⊙ S ⊙ G_A'
    # masks every other column anyway): eq(ρ, k)·[k < d_j] per block, weighed by its λ_j
    real = {j: _real_columns(lay, t.block, at_rho["unit"], t.coefficient) for j, t in zip(layers, _unit_terms(lay, at_rho, layers))}
    masked = lay.units.factor(list(real.values()))
    value_claim = cl.claim(lay.hidden, [*steps, rows, masked], 0)
    (v,) = party.send(b"backward value", lambda: [weighted_sum(lay.hidden, value_claim, tables.field("G_A"))], 1)
    weight = [_ones(lay.outputs, lay.output_block(j), real[j].coefficient) for j in layers]
    at, (g, w) = _reduce(party, b"backward", lay, lay.outputs, weight, at_rho["step"], v, lambda: [
        partial(tables.field("G_Z"), lay.layer_outputs, "row", at_rho["row"]),
        _backward_weights(lay, tables, real),
    ])  # fmt: skip
    book.add("BG", cl.claim(lay.hidden_bits, [*steps, rows, masked, lay.recompose], v))
    book.add("G_Z", cl.claim(lay.layer_outputs, [cl.eq_factor("step", at["step"]), rows, cl.eq_factor("next", at["next"])], g))
    next_coefficient = {t.block: t.coefficient for t in lay.outputs.eq_terms(at["next"], list(lay.outputs.blocks))}
    history = []
    for j in layers:
        out = _low(at["next"], lay.outputs, lay.output_block(j))
        history.append(_weight_term(f"w{j}", next_coefficient[lay.output_block(j)], real[j].inner, out))
    book.add("history", _history_claim(lay, at["step"], history, w))  # W(ℓ+1)ᵀ's value: a claim on the history


def _reduce(
    party: Party,
    label: bytes,
    lay: Layout,
    inner: Packing,
    weight: list[Term],
    step_point: list[int],
    value: Hidden,
    tables: Callable[[], list[Vector]],
) -> tuple[dict[str, list[int]], list[Hidden]]:
    """One sumcheck over (step, inner axis) of the weight (real steps at the step point, each inner
    block's λ) times the two tables: returns its point's parts and the tables' values there."""
    shape: Shape = (("step", lay.log_steps), (inner.axis, inner.log_size))
    claim = cl.claim(shape, [*_steps(lay, step_point), inner.factor(weight)], value)
    point, values = party.product(label, shape, [claim], tables, 2)
    return cl.split_point(shape, point), values


def _forward_weights(lay: Layout, tables: ProverTables, rho_out: list[int], lam: dict[str, int]) -> Vector:
    """V(t, i) on `in`: layer ℓ's weights W_t(ℓ)(k, ρ's low variables) on its input block, and with
    a bias Σ_ℓ λ_ℓ·b_t(ℓ)(ρ's low variables) on the constant "one"."""
    steps = 1 << lay.log_steps
    blocks = {}
    for l in range(lay.layers):
        out = backend.eq_vector(_low(rho_out, lay.outputs, lay.output_block(l)))
        blocks[lay.input_block(l)] = _contract(lay, tables, f"w{l}", "out", out)
        if lay.bias:
            bias = backend.scale(_contract(lay, tables, f"b{l}", "out", out), lam[lay.output_block(l)])
            blocks["one"] = bias if l == 0 else backend.add(blocks["one"], bias)
    return on_packing(lay.inputs, steps, blocks)


def _backward_weights(lay: Layout, tables: ProverTables, real: dict[int, Term]) -> Vector:
    """V'(t, o) on `next`: Σ_k eq(ρ, k)·[k < d_j]·W_t(j)(k, c) on layer j's output block."""
    steps = 1 << lay.log_steps
    blocks = {lay.output_block(j): _contract(lay, tables, f"w{j}", "in", from_ints(term.inner[0][0].table)) for j, term in real.items()}
    return on_packing(lay.outputs, steps, blocks)


def _contract(lay: Layout, tables: ProverTables, name: str, axis: str, weights: Vector) -> Vector:
    """The weight block `name` of the snapshots t < T' contracted over its `axis` ("in" or "out")."""
    steps, logs = 1 << lay.log_steps, lay.weight_names[name]
    shape: Shape = (("step", lay.log_steps), *zip(("in", "out")[2 - len(logs) :], logs))
    return contract_i64(block(tables.history[:steps], lay.weight_blocks, name), shape, axis, weights)


def _history_claim(lay: Layout, step_point: list[int], terms: list[Term], value: Hidden) -> cl.Claim:
    """A claim on the weight history at a step point, weighed on `weight` block by block."""
    step = cl.padded_factor(cl.eq_factor("step", step_point), lay.log_history)
    return cl.claim(lay.history, [step, lay.weight_blocks.factor(terms)], value)


def _weight_term(name: str, coefficient: int, in_factors: Sequence[tuple[cl.Factor, int]], out: list[int]) -> Term:
    """A weight block's term: its input side weighed by `in_factors`, its output side by eq(out, ·)."""
    return Term(name, coefficient, (*in_factors, (cl.eq_factor("out", out), len(out))))


def _unit_terms(lay: Layout, at_rho: dict[str, list[int]], layers: range) -> list[Term]:
    """eq(ρ, ·) on `unit` as terms of the hidden blocks G_A of `layers` holds."""
    return lay.units.eq_terms(at_rho["unit"], [f"h{j}" for j in layers])


def _real_columns(lay: Layout, name: str, point: list[int], coefficient: int) -> Term:
    """eq(point, ·) on a hidden block's real columns k < d_j (zero on its padded ones)."""
    low = _low(point, lay.units, name)
    return Term(name, coefficient, ((cl.masked_eq_factor("unit", low, lay.widths[int(name[1:])]), len(low)),))


def _ones(packing: Packing, name: str, coefficient: int) -> Term:
    """A whole block weighed by one coefficient."""
    size = packing[name].log_size
    return Term(name, coefficient, ((cl.prefix_factor(packing.axis, 1 << size, size), size),))


def _steps(lay: Layout, step_point: list[int]) -> list[cl.Factor]:
    return [cl.eq_factor("step", step_point), lay.step_mask]


def _low(point: list[int], packing: Packing, name: str) -> list[int]:
    """A point's variables inside the named block (its lowest ones)."""
    return list(point[: packing[name].log_size])


def _hidden(lay: Layout) -> list[str]:
    return [f"h{j}" for j in range(1, lay.layers)]


def _vars(shape: Shape) -> int:
    return sum(log for _, log in shape)
