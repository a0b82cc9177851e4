"""Weighted claims: weights evaluate like their tables, and the batched product sumcheck is
complete and rejects a wrong claim or a wrong factor value."""

import dataclasses
import random

import numpy as np
import pytest

from tests import reference as ref
from zkdl import _kernels, backend
from zkdl.backend.native import from_ints, to_int, to_ints
from zkdl.proof import claims as cl
from zkdl.proof import low_axis, product
from zkdl.proof.channel import ProverChannel, VerifierChannel
from zkdl.proof.errors import VerificationError
from zkdl.proof.opening import Batch, commit_values, value_generator
from zkdl.proof.packed import BitTable, Int64Table
from zkdl.proof.transcript import Transcript

SHAPE = (("layer", 1), ("row", 2), ("col", 3))


def _random_claim(rng, tensors, factors):
    """A claim on the product of `tensors` with the given factors and its true value."""
    claim = cl.claim(SHAPE, factors, 0)
    weight = to_ints(cl.weight_table(SHAPE, claim))
    product = [1] * len(weight)
    for t in tensors:
        product = [p * v % ref.R for p, v in zip(product, t)]
    return dataclasses.replace(claim, value=cl.Hidden.of(sum(w * p for w, p in zip(weight, product)) % ref.R))


def _factors(rng):
    point = ref.random_ints(rng, 6)
    mask = cl.Factor(("layer", "col"), tuple(int(k < 5) for _ in range(2) for k in range(8)))
    return cl.eq_factors(SHAPE, point) + (mask,)


def test_weight_evaluation_matches_the_table_mle():
    rng = random.Random(1)
    claim = cl.claim(SHAPE, _factors(rng), 0)
    point = ref.random_ints(rng, 6)
    table = cl.weight_table(SHAPE, claim)
    assert cl.evaluate_weight(SHAPE, claim, point) == to_int(_kernels.mle_evaluate(table, from_ints(point)))


def test_overlapping_factors_are_merged_into_one():
    rng = random.Random(2)
    claim = cl.claim(SHAPE, _factors(rng), 0)
    assert sorted(f.axes for f in claim.factors) == [("layer", "col"), ("row",)]


def test_split_and_join_points_are_inverse_and_lsb_first():
    point = list(range(6))
    parts = cl.split_point(SHAPE, point)
    assert parts == {"col": [0, 1, 2], "row": [3, 4], "layer": [5]}
    assert cl.join_point(SHAPE, parts) == point


@pytest.mark.parametrize("n_tensors", [1, 2])
def test_batched_product_is_complete_and_commits_the_values(n_tensors):
    rng = random.Random(n_tensors)
    tensors = [ref.random_ints(rng, 64) for _ in range(n_tensors)]
    claims = [_random_claim(rng, tensors, _factors(rng)) for _ in range(3)]
    prover = ProverChannel(Transcript(b"t"))
    point, values = product.prove_product(prover, b"p", SHAPE, claims, [from_ints(t) for t in tensors])
    verifier = VerifierChannel(Transcript(b"t"), prover.messages)
    vpoint, committed = product.verify_product(verifier, b"p", SHAPE, claims, n_tensors)
    verifier.finish()
    assert vpoint == point
    assert [prover.ledger.value(v) for v in values] == [ref.mle_evaluate(t, point) for t in tensors]
    for mine, theirs in zip(values, committed):  # the verifier holds commitments to exactly those values
        opened = commit_values([prover.ledger.value(mine)], [prover.ledger.blind(mine)])[0]
        assert bytes(verifier.ledger.point(theirs)) == bytes(opened)


@pytest.mark.parametrize("deferred", [False, True], ids=["checked at once", "checked in a batch"])
def test_wrong_claim_or_value_is_rejected(deferred):
    rng = random.Random(5)
    tensors = [ref.random_ints(rng, 64) for _ in range(2)]
    claims = [_random_claim(rng, tensors, _factors(rng)) for _ in range(2)]
    prover = ProverChannel(Transcript(b"t"))
    product.prove_product(prover, b"p", SHAPE, claims, [from_ints(t) for t in tensors])

    def verify(messages, claims_):
        checks = Batch() if deferred else None  # the verifier's way: every Σ-check in one MSM at the end
        product.verify_product(VerifierChannel(Transcript(b"t"), messages), b"p", SHAPE, claims_, 2, checks)
        if checks is not None:
            checks.verify()

    verify(prover.messages, claims)
    wrong = [claims[0], dataclasses.replace(claims[1], value=claims[1].value + 1)]
    with pytest.raises(VerificationError, match="^p final: the committed value is not zero$"):
        verify(prover.messages, wrong)
    i = next(i for i, m in enumerate(prover.messages) if m.label == b"factor values")
    for position in (0, 1):
        points = prover.messages[i].points.copy()
        points[position] = _kernels.g1_add(points[position][None], value_generator()[None])[0]
        bad = dataclasses.replace(prover.messages[i], points=points)
        with pytest.raises(VerificationError, match="^p: the committed product is not the product of its factors$"):
            verify(prover.messages[:i] + [bad] + prover.messages[i + 1 :], claims)


def test_a_cheating_prover_cannot_close_a_false_sum():
    """The honest prover's code on tables that do not satisfy the claim: its Σ-proof of zero fails."""
    rng = random.Random(6)
    tensors = [ref.random_ints(rng, 64)]
    claims = [dataclasses.replace(_random_claim(rng, tensors, _factors(rng)), value=cl.Hidden.of(1))]
    prover = ProverChannel(Transcript(b"t"))
    product.prove_product(prover, b"p", SHAPE, claims, [from_ints(t) for t in tensors])
    with pytest.raises(VerificationError, match="^p final: the committed value is not zero$"):
        product.verify_product(VerifierChannel(Transcript(b"t"), prover.messages), b"p", SHAPE, claims, 1)


def _rounds(prover, rng):
    """Every round's values and the final values, binding random challenges."""
    out = []
    for _ in range(prover.num_vars):
        out.append(prover.round_values())
        prover.bind(rng.randrange(ref.R))
    return out, prover.final_values()


@pytest.mark.parametrize("kind", ["int64", "bits", "bits and bits minus one"])
def test_packed_tables_give_the_dense_prover_s_rounds(kind):
    """The low-axis prover (int64 or packed bits) is the dense sumcheck prover, round for round."""
    rng = random.Random(7)
    claims = [cl.claim(SHAPE, cl.eq_factors(SHAPE, ref.random_ints(rng, 6)), 0) for _ in range(3)]  # separable weights
    alphas = ref.random_ints(rng, 3)
    if kind == "int64":
        ints = np.array([rng.randrange(-(1 << 40), 1 << 40) for _ in range(64)], np.int64)
        tables = [Int64Table(ints, 8)]
        dense = [_kernels.fr_from_i64(ints)]
    else:
        words = np.array([rng.randrange(256) for _ in range(8)], np.uint64)
        tables = [BitTable(words, 8)] + ([BitTable(words, 8, -1)] if "minus" in kind else [])
        dense = [t.field() for t in tables]
    packed = low_axis.low_axis_prover(SHAPE, claims, alphas, tables)
    assert isinstance(packed, low_axis.LowAxisProver)
    plain = backend.ProductSumcheck([cl.combined_weight(SHAPE, claims, alphas), *dense])
    seed = rng.randrange(1 << 30)
    packed_rounds, packed_finals = _rounds(packed, random.Random(seed))
    plain_rounds, plain_finals = _rounds(plain, random.Random(seed))
    assert packed_rounds == plain_rounds and packed_finals == plain_finals


def test_a_packed_table_with_a_long_low_axis_is_proven_dense():
    """The low-axis prover keeps a Python table per claim over the low axis: beyond 2^MAX_LOW_VARS
    entries (the packed `weight` axis) the dense prover runs instead."""
    long = low_axis.MAX_LOW_VARS + 1
    for low_vars, expected in ((low_axis.MAX_LOW_VARS, low_axis.LowAxisProver), (long, type(None))):
        shape = (("row", 1), ("col", low_vars))
        claims = [cl.claim(shape, cl.eq_factors(shape, [2] * (1 + low_vars)), 0)]
        table = Int64Table(np.arange(2 << low_vars, dtype=np.int64), 1 << low_vars)
        assert isinstance(low_axis.low_axis_prover(shape, claims, [1], [table]), expected)


def test_a_long_axis_is_split_at_the_int64_table_s_rows():
    """Claims over a packed axis longer than the table's rows (eq points and block factors whose
    blocks' lowest inner factor is an eq, as the weight claims are) are proven by the low-axis
    prover on the axis split at the rows, with the dense prover's rounds; a factor of another
    kind leaves it to the dense prover."""
    from zkdl.proof.packing import Packing, Term

    rng = random.Random(11)
    packing = Packing("weight", [("w0", 5), ("w1", 4), ("b0", 2), ("b1", 2)])
    shape = (("step", 1), ("weight", packing.log_size))

    def eq(n: int) -> cl.EqFactor:
        return cl.EqFactor("x", ref.random_ints(rng, n))

    terms = [Term("w0", 3, ((eq(3), 3), (eq(2), 2))), Term("w1", 5, ((eq(2), 2), (eq(2), 2))), Term("b1", 7, ((eq(2), 2),))]
    claims = [
        cl.claim(shape, [cl.eq_factor("step", ref.random_ints(rng, 1)), packing.factor(terms)], 0),
        cl.claim(shape, [cl.eq_factor("weight", ref.random_ints(rng, packing.log_size))], 0),
        cl.claim(shape, [cl.onehot_factor("step", 1, 1), packing.factor(terms[1:])], 0),  # one step: the other is skipped
    ]
    alphas = ref.random_ints(rng, 3)
    ints = np.array([rng.randrange(-(1 << 40), 1 << 40) for _ in range(1 << (1 + packing.log_size))], np.int64)
    packed = low_axis.low_axis_prover(shape, claims, alphas, [Int64Table(ints, 4)])
    assert isinstance(packed, low_axis.LowAxisProver) and packed.shape[-1] == ("weight", 2)
    plain = backend.ProductSumcheck([cl.combined_weight(shape, claims, alphas), _kernels.fr_from_i64(ints)])
    seed = rng.randrange(1 << 30)
    assert _rounds(packed, random.Random(seed)) == _rounds(plain, random.Random(seed))
    other = [cl.claim(shape, [cl.Factor(("weight",), ref.random_ints(rng, 1 << packing.log_size))], 0)]
    assert low_axis.low_axis_prover(shape, other, [1], [Int64Table(ints, 4)]) is None
