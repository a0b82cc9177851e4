"""Multilinear-extension and sumcheck kernels against pure-Python references (ints mod r)."""

import random

import numpy as np
import pytest

from tests import reference as ref
from zkdl import _kernels as k
from zkdl.backend.native import from_int, from_ints, to_int, to_ints

VARS = [0, 1, 2, 3, 5, 8, 12]


@pytest.mark.parametrize("vars_", VARS)
def test_evaluate_fold_and_eq_match_the_reference(vars_):
    rng = random.Random(vars_)
    table, point = ref.random_ints(rng, 1 << vars_), ref.random_ints(rng, vars_)
    if vars_ <= 8:  # the quadratic reference is slow beyond that
        assert to_int(k.mle_evaluate(from_ints(table), from_ints(point))) == ref.mle_evaluate(table, point)
        assert to_ints(k.eq_vector(from_ints(point))) == ref.eq_table(point)
    if vars_ > 0:
        r = rng.randrange(ref.R)
        assert to_ints(k.mle_fold(from_ints(table), from_int(r))) == ref.fold(table, r)


def test_evaluation_at_a_boolean_point_reads_the_table_lsb_first():
    table = list(range(100, 116))
    assert to_int(k.mle_evaluate(from_ints(table), from_ints([1, 1, 0, 1]))) == table[0b1011]


@pytest.mark.parametrize("log_shape,axis", [([2, 3], 0), ([2, 3], 1), ([1, 2, 3], 1), ([3], 0), ([0, 2], 0)])
def test_partial_evaluation_binds_one_numpy_axis(log_shape, axis):
    rng = random.Random(sum(log_shape) * 10 + axis)
    table = ref.random_ints(rng, 1 << sum(log_shape))
    point = ref.random_ints(rng, log_shape[axis])
    got = to_ints(k.mle_partial_evaluate(from_ints(table), log_shape, axis, from_ints(point)))
    inner = 1 << sum(log_shape[axis + 1 :])
    width = 1 << log_shape[axis]
    eq = ref.eq_table(point)
    expected = []
    for block in range(len(table) // (width * inner)):
        for i in range(inner):
            expected.append(sum(eq[j] * table[(block * width + j) * inner + i] for j in range(width)) % ref.R)
    assert got == expected


def test_non_powers_of_two_and_wrong_points_are_errors():
    with pytest.raises(k.KernelError, match="not a power of two"):
        k.mle_fold(from_ints([1, 2, 3]), from_int(1))
    with pytest.raises(k.KernelError, match="point has 1 elements, expected 2"):
        k.mle_evaluate(from_ints([1, 2, 3, 4]), from_ints([1]))


@pytest.mark.parametrize("k_factors", [1, 2, 3])
@pytest.mark.parametrize("vars_", [1, 3, 6])
@pytest.mark.parametrize("with_eq", [False, True])
def test_product_sumcheck_rounds_match_the_reference(k_factors, vars_, with_eq):
    rng = random.Random(k_factors * 100 + vars_ * 10 + with_eq)
    factors = [ref.random_ints(rng, 1 << vars_) for _ in range(k_factors)]
    w = ref.random_ints(rng, vars_)
    tables = factors + ([ref.eq_table(w)] if with_eq else [])
    prover = k.ProductSumcheck([from_ints(f) for f in factors], from_ints(w) if with_eq else None)
    assert prover.num_vars == vars_ and prover.degree == len(tables)
    claim = sum(_product(tables, x) for x in range(1 << vars_)) % ref.R
    for _ in range(vars_):
        evaluations = to_ints(prover.round_evaluations())
        assert evaluations == ref.round_evaluations(tables, len(tables))
        assert (evaluations[0] + evaluations[1]) % ref.R == claim
        r = rng.randrange(ref.R)
        claim = ref.interpolate(evaluations, r)
        prover.bind(from_int(r))
        tables = [ref.fold(t, r) for t in tables]
    finals = to_ints(prover.final_values())
    assert finals == [t[0] for t in tables[:k_factors]]
    assert claim == _product(tables, 0) % ref.R


def _product(tables, x):
    value = 1
    for t in tables:
        value = value * t[x] % ref.R
    return value


def test_sumcheck_misuse_is_an_error():
    prover = k.ProductSumcheck([from_ints([1, 2])])
    with pytest.raises(k.KernelError, match="still free"):
        prover.final_values()
    prover.bind(from_int(3))
    with pytest.raises(k.KernelError, match="already bound"):
        prover.round_evaluations()


@pytest.mark.parametrize("log_shape,axis", [([2, 3], 0), ([2, 3], 1), ([1, 2, 3], 1), ([12], 0), ([11, 1], 0)])
def test_int64_contraction_is_the_weighted_sum_over_one_axis(log_shape, axis):
    """Including negative entries and the extremes of int64, read as field elements."""
    rng = random.Random(sum(log_shape) * 10 + axis)
    ints = [rng.randrange(-(1 << 63), 1 << 63) for _ in range(1 << sum(log_shape))]
    ints[:2] = [-(1 << 63), (1 << 63) - 1]
    weights = ref.random_ints(rng, 1 << log_shape[axis])
    got = to_ints(k.i64_contract(np.array(ints, np.int64), log_shape, axis, from_ints(weights)))
    inner, width = 1 << sum(log_shape[axis + 1 :]), 1 << log_shape[axis]
    expected = [
        sum(weights[j] * ints[(block * width + j) * inner + i] for j in range(width)) % ref.R
        for block in range(len(ints) // (width * inner))
        for i in range(inner)
    ]
    assert got == expected
    with pytest.raises(k.KernelError):
        k.i64_contract(np.array(ints, np.int64), log_shape, axis, from_ints(weights[:-1]))
