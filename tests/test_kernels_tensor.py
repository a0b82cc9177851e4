"""The kernels added for the prover's speed, against the pure-Python references (tests/reference.py):
tensor-product combinations of factor tables, the bucketed packed-bit kernels (weighted sums, Gram
matrix, binding the bit variables, folding the high variables, packing a 0/1 field vector) and the
point-vector fold of the inner-product argument."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from tests import reference as ref
from zkdl import _kernels as k
from zkdl.backend.native import from_int, from_ints, to_ints

R = ref.R


def _coords(x: int, log_shape: list[int]) -> list[int]:
    out = []
    for log in reversed(log_shape):
        out.append(x & ((1 << log) - 1))
        x >>= log
    return out[::-1]


def _naive_combination(log_shape, terms) -> list[int]:
    total = sum(log_shape)
    out = []
    for x in range(1 << total):
        c = _coords(x, log_shape)
        value = 0
        for alpha, factors in terms:
            v = alpha
            for axes, table in factors:
                index = 0
                for a in axes:
                    index = (index << log_shape[a]) | c[a]
                v = v * table[index] % R
            value += v
        out.append(value % R)
    return out


@pytest.mark.parametrize("log_shape", [[2, 3, 4], [1, 0, 5], [3], [4, 2, 1, 6]])
def test_tensor_combination_is_the_sum_of_products(log_shape):
    rng = random.Random(sum(log_shape) * 7 + len(log_shape))
    m = len(log_shape)
    groups = [[[a] for a in range(m)], [[m - 1, 0]] if m > 1 else [[0]], [], [[a] for a in range(1, m)]]
    terms = []
    for axes_list in groups:
        factors = [(axes, ref.random_ints(rng, 1 << sum(log_shape[a] for a in axes))) for axes in axes_list]
        terms.append((rng.randrange(R), factors))
    kernel_terms = [(from_int(alpha), [(axes, from_ints(t)) for axes, t in factors]) for alpha, factors in terms]
    assert to_ints(k.fr_tensor_combination(log_shape, kernel_terms)) == _naive_combination(log_shape, terms)


def test_tensor_combination_refuses_malformed_terms():
    one = from_int(1)
    table = from_ints([1, 2, 3, 4])
    with pytest.raises(k.KernelError):
        k.fr_tensor_combination([2, 2], [(one, [([2], table)])])  # no such axis
    with pytest.raises(k.KernelError):
        k.fr_tensor_combination([2, 2], [(one, [([0], table), ([0], table)])])  # an axis twice
    with pytest.raises(k.KernelError):
        k.fr_tensor_combination([2, 2], [(one, [([0, 1], table)])])  # table too short


def _words(rng: random.Random, n: int, width: int) -> np.ndarray:
    values = [rng.randrange(-(1 << (width - 1)), 1 << (width - 1)) >> rng.randrange(width) for _ in range(n)]
    return k.bits_decompose(np.array(values, dtype=np.int64), width)


def _bit(words: np.ndarray, width: int, flat: int) -> int:
    return int(words[flat // width] >> np.uint64(flat % width)) & 1


@pytest.mark.parametrize("n,width", [(1, 2), (8, 4), (16, 8), (32, 64), (64, 16)])
def test_bucketed_bit_kernels_match_the_references(n, width):
    rng = random.Random(n * 100 + width)
    words = _words(rng, n, width)
    words[0] = np.uint64(0)
    bits = [[_bit(words, width, i * width + j) for j in range(width)] for i in range(n)]
    weights = [ref.random_ints(rng, n) for _ in range(2)]
    sums = to_ints(k.bits_weighted_sums(words, width, [from_ints(w) for w in weights]))
    for w_index, w in enumerate(weights):
        expected = [sum(w[i] * bits[i][j] for i in range(n)) % R for j in range(width)]
        assert sums[w_index * width : (w_index + 1) * width] == expected
    gram = to_ints(k.bits_gram(words, width, from_ints(weights[0])))
    for j1, j2 in itertools.product(range(width), repeat=2):
        assert gram[j1 * width + j2] == sum(weights[0][i] * bits[i][j1] * bits[i][j2] for i in range(n)) % R
    point = ref.random_ints(rng, width.bit_length() - 1)
    assert to_ints(k.bits_bind_low(words, width, from_ints(point))) == [ref.mle_evaluate(b, point) for b in bits]
    flat = [b for row in bits for b in row]
    total = (n * width).bit_length() - 1
    for high in sorted({0, total // 2, total}):
        u = ref.random_ints(rng, high)
        g = len(flat) >> high
        eq = ref.eq_table(u)
        expected = [sum(eq[row] * flat[row * g + col] for row in range(1 << high)) % R for col in range(g)]
        assert to_ints(k.bits_fold_high(words, width, from_ints(u))) == expected
    packed = k.bits_from_field(k.bits_to_field(words, width), width)
    assert np.array_equal(packed, words)


def test_bit_kernels_refuse_dirty_words_and_non_bits():
    dirty = np.array([0b100], dtype=np.uint64)
    one = from_ints([1])
    with pytest.raises(k.KernelError, match="above width"):
        k.bits_weighted_sums(dirty, 2, [one])
    with pytest.raises(k.KernelError, match="above width"):
        k.bits_gram(dirty, 2, one)
    with pytest.raises(k.KernelError):
        k.bits_bind_low(np.zeros(2, np.uint64), 4, one)  # 4 bits need a 2-coordinate point
    with pytest.raises(k.KernelError, match="neither 0 nor 1"):
        k.bits_from_field(from_ints([0, 1, 2, 0]), 2)


def test_point_fold_is_scale_and_add():
    rng = random.Random(5)
    points = k.CommitKey(b"zkdl/test/fold", 16).generators()
    lo, hi = rng.randrange(R), rng.randrange(R)
    expected = k.g1_add(k.g1_scale(points[:8], from_int(lo)), k.g1_scale(points[8:], from_int(hi)))
    assert np.array_equal(k.g1_fold(points, from_int(lo), from_int(hi)), expected)
    expected = k.g1_add(points[:8], k.g1_scale(points[8:], from_int(hi)))
    assert np.array_equal(k.g1_fold(points, from_int(1), from_int(hi)), expected)
    with pytest.raises(k.KernelError):
        k.g1_fold(points[:3], from_int(lo), from_int(hi))
