"""Integer kernels (exact matmul, packed bits) against Python integers."""

import random

import numpy as np
import pytest

from tests import reference as ref
from zkdl import _kernels as k
from zkdl.backend.native import to_ints


@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 5, 2), (64, 128, 10), (7, 300, 9)])
def test_matmul_is_exact_and_reports_the_widest_entry(shape):
    m, inner, n = shape
    rng = np.random.default_rng(m * inner * n)
    a = rng.integers(-(2**40), 2**40, size=(m, inner), dtype=np.int64)
    b = rng.integers(-(2**14), 2**14, size=(inner, n), dtype=np.int64)
    c, bits = k.matmul_i64(a, b)
    exact = a.astype(object) @ b.astype(object)
    assert (c.astype(object) == exact).all()
    assert bits == max(int(v).bit_length() + 1 if v >= 0 else (-int(v) - 1).bit_length() + 1 for v in exact.flat)


def test_matmul_overflow_names_the_entry():
    a = np.array([[1, 0], [0, 2**40]], dtype=np.int64)
    b = np.array([[1, 0], [0, 2**30]], dtype=np.int64)
    with pytest.raises(k.KernelError, match=r"entry \(1, 1\) of the product needs 72 bits"):
        k.matmul_i64(a, b)
    with pytest.raises(ValueError, match="inner dimensions differ"):
        k.matmul_i64(a, b[:1])


@pytest.mark.parametrize("width", [1, 2, 8, 16, 48, 64])
@pytest.mark.parametrize("n", [1, 5, 64, 1000])
def test_bit_decomposition_is_twos_complement(width, n):
    rng = random.Random(width * 7 + n)
    lo, hi = -(2 ** (width - 1)), 2 ** (width - 1) - 1
    values = [rng.randint(lo, hi) for _ in range(n - 2)] + [lo, hi][: min(n, 2)]
    words = k.bits_decompose(np.array(values, dtype=np.int64), width)
    assert [[(int(w) >> j) & 1 for j in range(width)] for w in words] == [ref.bits_of(v, width) for v in values]
    flat = [bit for v in values for bit in ref.bits_of(v, width)]
    assert to_ints(k.bits_to_field(words, width)) == flat


def test_values_outside_the_width_are_errors():
    with pytest.raises(k.KernelError, match=r"element 1 = 128 does not fit in 8-bit"):
        k.bits_decompose(np.array([0, 128], dtype=np.int64), 8)
