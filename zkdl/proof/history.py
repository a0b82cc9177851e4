"""The weight history: W_t is never committed, only W_0 and W_T.

W_τ(ℓ) = W_0(ℓ) − Σ_(τ' < τ) A_in(ℓ, τ')ᵀ·G_Z(ℓ, τ') (exact: the weight scale makes the SGD
update an integer subtraction). Each claim on the history (step, packed `weight` axis) is reduced
by that definition itself, with no sumcheck over the history: a claim on W_0 per claim, and one
sumcheck over (term, step, row) of every claim's terms, κ (the term's coefficient) times the public
prefix weight P(τ') = Σ_(τ > τ') s(τ) of the claim's step table times A_in read on the term's input
side and G_Z on its output side (`weight_history`). The final weights are the snapshot τ = T. With
a bias, block "b{ℓ}" of each snapshot is 2^R·b and its input side is the constant "one" of A_in,
2^R, so the same formula updates it by 2^R·Σ_batch G_Z = 2^R·G_b (docs/protocol.md §1.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkdl import backend
from zkdl.backend import MODULUS, Vector
from zkdl.proof import claims as cl
from zkdl.proof.claims import ClaimBook, Shape
from zkdl.proof.hidden import Hidden
from zkdl.proof.layout import Layout, log2_ceil
from zkdl.proof.mle import contract_i64, evaluate_i64
from zkdl.proof.packing import BlockFactor, Packing, Term
from zkdl.proof.party import Party
from zkdl.proof.witness import ProverTables, block


def final_weights(party: Party, lay: Layout, book: ClaimBook, tables: ProverTables) -> None:
    """R4: W_T, committed in the statement, equals the history's snapshot T at a random point."""
    omega = party.challenges(b"final weights point", sum(log for _, log in lay.weights))
    factor = cl.eq_factor("weight", omega)

    def value() -> list[int]:
        return [_weights_at(lay, tables.history[lay.steps], factor)]

    (v,) = party.send(b"final weights value", value, 1)
    book.add("WT", cl.claim(lay.weights, [factor], v))
    book.add("history", cl.claim(lay.history, [cl.onehot_factor("step", lay.steps, lay.log_history), factor], v))


def weight_history(party: Party, lay: Layout, book: ClaimBook, tables: ProverTables) -> None:
    """Each claim Σ_τ s(τ)·F(W_τ) on the history is, by W_τ's definition, S·F(W_0) − Σ_τ' P(τ')·F(U_τ')
    with S = Σ_τ s(τ), P(τ') = Σ_(τ > τ') s(τ) and U_τ' = W_τ' − W_(τ'+1) the update of step τ':
    a claim on W_0 per history claim, and one sumcheck over (term, step, row) for every update at
    once, F(U_τ') = Σ_terms κ·Σ_b Â(τ', b)·Ĝ(τ', b) with A_in read on the term's input side and
    G_Z on its output side. No sumcheck runs over the history itself (T + 1 snapshots of W)."""
    parts = [_HistoryClaim.of(lay, c) for c in book.take("history")]
    values = lambda: [_weights_at(lay, tables.history[0], part.weight) for part in parts]  # noqa: E731
    w0 = party.send(b"initial weights values", values, len(parts))  # F_c(W_0), hidden: W_0 is secret
    for part, value in zip(parts, w0, strict=True):
        book.add("W0", cl.claim(lay.weights, [part.weight], value))
    terms = [term for part in parts for term in part.terms]
    shape = _updates_shape(lay, len(terms))
    sides = [_sides(lay, term) for term in terms]
    updates = lambda: [  # noqa: E731
        _side_tables(lay, tables.A_in, lay.inputs, [(side.input, side.in_inner) for side in sides], shape),
        _side_tables(lay, tables.G_Z, lay.outputs, [(side.output, side.out_inner) for side in sides], shape),
    ]
    # Σ_c α_c·(S_c·w0_c − v_c) = Σ_c α_c·Σ κ·P_c·Â·Ĝ: the α_c are drawn inside, after every value is bound
    point, (a, g) = party.product(b"history updates", shape, _update_claims(lay, parts, w0, shape), updates, 2)
    a_factors, g_factors = update_factors(lay, sides, shape, point)
    book.add("A_in", cl.claim(lay.layer_inputs, a_factors, a))
    book.add("G_Z", cl.claim(lay.layer_outputs, g_factors, g))


def _update_claims(lay: Layout, parts: list[_HistoryClaim], w0: list[Hidden], shape: Shape) -> list[cl.Claim]:
    """Claim c of the updates' sumcheck: κ of its own terms on the term axis (zero on the others'),
    P_c on the steps, and the value S_c·F_c(W_0) − v_c that its updates must account for."""
    claims, first, size = [], 0, 1 << shape[0][1]
    for part, value in zip(parts, w0, strict=True):
        kappa = [0] * first + [t.coefficient for t in part.terms] + [0] * (size - first - len(part.terms))
        factors = [cl.Factor(("term",), kappa), prefix_weights(lay, part.steps)]
        claims.append(cl.claim(shape, factors, value * part.total - part.value))
        first += len(part.terms)
    return claims


def prefix_weights(lay: Layout, steps: list[int]) -> cl.Factor:
    """P(τ') = Σ_(τ > τ') s(τ) over the real steps τ' < T (padded steps carry no update)."""
    table, suffix = [0] * (1 << lay.log_steps), 0
    for tau in range(len(steps) - 1, 0, -1):  # suffix = Σ_(τ ≥ tau) s(τ), the weight of step tau − 1
        suffix = (suffix + steps[tau]) % MODULUS
        if tau - 1 < lay.steps:
            table[tau - 1] = suffix
    return cl.Factor(("step",), tuple(table))


def update_factors(lay: Layout, sides: list[_Sides], shape: Shape, point: list[int]) -> tuple[list[cl.Factor], list[cl.Factor]]:
    """The factors of the claims on A_in and G_Z that the updates' sumcheck leaves at its point:
    Σ_t eq(t°, t)·(term t's side of the tensor), at the step and row."""
    by = cl.split_point(shape, point)
    term_eq = [cl.eq_at([t >> k & 1 for k in range(len(by["term"]))], by["term"]) for t in range(len(sides))]
    rows = [cl.eq_factor("step", by["step"]), cl.eq_factor("row", by["row"])]
    a_terms = [Term(side.input, e, side.in_inner) for side, e in zip(sides, term_eq, strict=True)]
    g_terms = [Term(side.output, e, side.out_inner) for side, e in zip(sides, term_eq, strict=True)]
    return [*rows, lay.inputs.factor(a_terms)], [*rows, lay.outputs.factor(g_terms)]


Inner = tuple[tuple[cl.Factor, int], ...]


@dataclass(frozen=True)
class _HistoryClaim:
    """A claim Σ_τ s(τ)·F(W_τ) = value on the history: s over the snapshots, F on `weight` (an eq
    point or a block factor), F's terms on the weight blocks (the gap of `weight` is W_0's in every
    snapshot: no update reaches it) and S = Σ_τ s(τ)."""

    steps: list[int]
    weight: cl.Factor
    terms: tuple[Term, ...]
    total: int
    value: Hidden

    @classmethod
    def of(cls, lay: Layout, claim: cl.Claim) -> _HistoryClaim:
        steps, weight = list(cl.factor_on(claim, "step").table), cl.factor_on(claim, "weight")
        if isinstance(weight, BlockFactor):
            terms = weight.terms
        elif isinstance(weight, cl.EqFactor):
            terms = tuple(lay.weight_blocks.eq_terms(weight.point, list(lay.weight_names)))
        else:
            raise ValueError(f"a history claim's weight factor must be an eq point or a block factor, got {type(weight).__name__}")
        return cls(steps, weight, terms, sum(steps) % MODULUS, claim.value)


@dataclass(frozen=True)
class _Sides:
    """A weight term's input side (a block of `in` and the factors on it) and output side (`next`)."""

    input: str
    in_inner: Inner
    output: str
    out_inner: Inner


def _sides(lay: Layout, term: Term) -> _Sides:
    """Where a term of block "w{ℓ}" (input index high, output low) reads A_in and G_Z, its inner
    factors split at the output side's variables (an eq across the boundary splits in two); "b{ℓ}"
    is the output side alone, its input the constant "one"."""
    layer, logs = lay.weight_layer(term.block), lay.weight_names[term.block]
    in_inner: list[tuple[cl.Factor, int]] = []
    out_inner: list[tuple[cl.Factor, int]] = []
    low = 0  # variables of the block below the factor (the last factor owns the lowest)
    for factor, num_vars in reversed(term.inner):
        below = min(max(logs[-1] - low, 0), num_vars)  # of its variables, those on the output side
        if 0 < below < num_vars:
            if not isinstance(factor, cl.EqFactor):
                raise ValueError(f"term of block {term.block!r}: only an eq factor may span its input and output sides")
            out_inner.insert(0, (cl.EqFactor(factor.axes[0], factor.point[:below]), below))
            in_inner.insert(0, (cl.EqFactor(factor.axes[0], factor.point[below:]), num_vars - below))
        else:
            (out_inner if below else in_inner).insert(0, (factor, num_vars))
        low += num_vars
    input_block = lay.input_block(layer) if len(logs) == 2 else "one"
    return _Sides(input_block, tuple(in_inner), lay.output_block(layer), tuple(out_inner))


def _updates_shape(lay: Layout, terms: int) -> Shape:
    """The updates' sumcheck: one (step, row) table per term of every history claim."""
    return (("term", log2_ceil(terms)), ("step", lay.log_steps), ("row", lay.log_batch))


def _side_tables(lay: Layout, array: np.ndarray, packing: Packing, sides: list[tuple[str, Inner]], shape: Shape) -> Vector:
    """Per term, the (step, row) table of `array`'s block contracted with the side's factors; zero
    for the padded term indices."""
    steps_rows = (1 << lay.log_steps) * lay.batch
    out = []
    for name, inner in sides:
        side = Term(name, 1, inner)
        cols = sum(num_vars for _, num_vars in inner)
        block_shape = (("step", lay.log_steps), ("row", lay.log_batch), ("col", cols))
        out.append(contract_i64(block(array, packing, name), block_shape, "col", side.vector()))
    padded = (1 << shape[0][1]) - len(sides)
    return backend.concat([*out, backend.full(padded * steps_rows, 0)])


def _weights_at(lay: Layout, weights: np.ndarray, factor: cl.Factor) -> int:
    """Σ_w F(w)·W(w) for int64 weights on `weight`: an eq point as a matrix (half its variables
    contracted first: no 2^|weight| eq table), a block factor term by term."""
    if isinstance(factor, BlockFactor):
        return sum(_term_at(block(weights, factor.packing, t.block), t) for t in factor.terms) % MODULUS
    assert isinstance(factor, cl.EqFactor), "weights are read at an eq point or a block factor"
    log = len(factor.point)
    matrix = (("high", log - log // 2), ("low", log // 2))
    return evaluate_i64(weights, matrix, factor.point)


def _term_at(values: np.ndarray, term: Term) -> int:
    """A term's weighted sum over its block's int64 values: its lowest factor contracted in the
    kernels (rows in parallel), the rest, the size of the block's other variables, in the field."""
    if not term.inner:
        return term.coefficient * int(values[0]) % MODULUS
    *others, (last, num_vars) = term.inner
    shape = (("rest", len(values).bit_length() - 1 - num_vars), ("low", num_vars))
    rest = contract_i64(values, shape, "low", last.vector())
    return backend.inner(Term(term.block, term.coefficient, tuple(others)).vector(), rest)
