"""The weight history's reduction (zkdl/proof/history.py, docs/protocol.md §5.4): how a claim's
terms split into the sides the updates read, and the prefix weights of its step table."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tests import reference as ref
from zkdl.backend import to_ints
from zkdl.proof import claims as cl
from zkdl.proof import history
from zkdl.proof.layout import Layout
from zkdl.proof.packing import Term

LAY = Layout((6, 8, 5, 3), 4, 3, 64, 16, 10, 4, 24, 0, True)


def _table(term: Term) -> list[int]:
    return to_ints(term.vector())


def test_an_eq_across_a_weight_block_splits_into_its_input_and_output_sides():
    """An eq over all of block w1's variables (the final weights' point) splits at the output
    index: the sides' tensor product is the block's eq, and they name layer 1's blocks."""
    rng = random.Random(3)
    logs = LAY.weight_names["w1"]
    term = Term("w1", 7, ((cl.EqFactor("weight", ref.random_ints(rng, sum(logs))), sum(logs)),))
    sides = history._sides(LAY, term)
    assert (sides.input, sides.output) == (LAY.input_block(1), LAY.output_block(1))
    assert [n for _, n in sides.in_inner] == [logs[0]] and [n for _, n in sides.out_inner] == [logs[1]]
    assert _table(Term("w1", 7, sides.in_inner + sides.out_inner)) == _table(term)


def test_separable_factors_keep_their_sides_and_a_bias_reads_the_constant():
    rng = random.Random(4)
    lin, lout = LAY.weight_names["w0"]
    masked = cl.masked_eq_factor("in", ref.random_ints(rng, lin), 5)
    out = cl.EqFactor("out", ref.random_ints(rng, lout))
    sides = history._sides(LAY, Term("w0", 1, ((masked, lin), (out, lout))))
    assert sides.in_inner == ((masked, lin),) and sides.out_inner == ((out, lout),)
    (lb,) = LAY.weight_names["b0"]
    bias = history._sides(LAY, Term("b0", 1, ((out, lb),)))
    assert (bias.input, bias.in_inner, bias.out_inner) == ("one", (), ((out, lb),))


def test_a_factor_other_than_an_eq_across_the_sides_is_refused():
    lin, lout = LAY.weight_names["w0"]
    across = cl.Factor(("weight",), tuple(range(1 << (lin + lout))))
    with pytest.raises(ValueError, match="only an eq factor may span"):
        history._sides(LAY, Term("w0", 1, ((across, lin + lout),)))


@pytest.mark.parametrize("steps", [1, 3, 4])
def test_prefix_weights_sum_the_step_table_after_each_real_step(steps):
    """P(τ') = Σ_(τ > τ') s(τ) for the real steps τ' < T, 0 on the padded ones."""
    lay = Layout((6, 8, 3), 4, steps, 64, 16, 10, 4, 24, 0)
    s = ref.random_ints(random.Random(steps), 1 << lay.log_history)
    expected = [sum(s[tau + 1 :]) % ref.R if tau < steps else 0 for tau in range(1 << lay.log_steps)]
    assert list(history.prefix_weights(lay, s).table) == expected


def test_the_weights_at_a_block_factor_are_its_terms_sums():
    """The prover's W_0 value of a claim: Σ over each term's block of its table times the weights."""
    rng = random.Random(5)
    packing = LAY.weight_blocks
    weights = np.array([rng.randrange(-(1 << 40), 1 << 40) for _ in range(1 << packing.log_size)], np.int64)
    lin, lout = LAY.weight_names["w1"]
    terms = [
        Term("w1", 3, ((cl.EqFactor("in", ref.random_ints(rng, lin)), lin), (cl.EqFactor("out", ref.random_ints(rng, lout)), lout))),
        Term("b1", 5, ((cl.EqFactor("out", ref.random_ints(rng, lout)), lout),)),
    ]
    expected = 0
    for term in terms:
        block = packing[term.block]
        values = weights[block.offset : block.offset + (1 << block.log_size)]
        expected += sum(a * int(v) for a, v in zip(_table(term), values, strict=True))
    assert history._weights_at(LAY, weights, packing.factor(terms)) == expected % ref.R
