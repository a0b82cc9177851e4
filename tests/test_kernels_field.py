"""Field-vector kernels against Python integers mod r, on random inputs of many sizes."""

import random

import numpy as np
import pytest

from tests.reference import R, random_ints
from zkdl import _kernels as k
from zkdl.backend.native import from_int, from_ints, to_int, to_ints

SIZES = [1, 2, 3, 7, 64, 100, 1000, 4096]


@pytest.mark.parametrize("n", SIZES)
def test_int64_conversion_maps_negatives(n):
    rng = np.random.default_rng(n)
    values = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, size=n, dtype=np.int64, endpoint=True)
    assert to_ints(k.fr_from_i64(values)) == [int(v) % R for v in values]


@pytest.mark.parametrize("n", SIZES)
def test_bytes_round_trip_is_canonical_big_endian(n):
    rng = random.Random(n)
    ints = random_ints(rng, n)
    encodings = k.fr_to_bytes(from_ints(ints))
    assert [int.from_bytes(row.tobytes(), "big") for row in encodings] == ints
    assert to_ints(k.fr_from_bytes(encodings)) == ints


def test_non_canonical_encodings_are_rejected():
    for bad in [R, R + 1, 2**256 - 1]:
        encoding = np.frombuffer(bad.to_bytes(32, "big"), dtype=np.uint8).reshape(1, 32)
        with pytest.raises(k.KernelError, match="not a canonical field element"):
            k.fr_from_bytes(encoding)


def test_unreduced_limbs_are_rejected():
    with pytest.raises(ValueError, match="not a reduced field element"):
        k.fr_add(np.full((1, 4), 2**64 - 1, dtype=np.uint64), np.zeros((1, 4), dtype=np.uint64))


@pytest.mark.parametrize("n", SIZES)
def test_arithmetic_matches_python_ints(n):
    rng = random.Random(1000 + n)
    a, b, s = random_ints(rng, n), random_ints(rng, n), rng.randrange(R)
    va, vb = from_ints(a), from_ints(b)
    assert to_ints(k.fr_add(va, vb)) == [(x + y) % R for x, y in zip(a, b)]
    assert to_ints(k.fr_sub(va, vb)) == [(x - y) % R for x, y in zip(a, b)]
    assert to_ints(k.fr_mul(va, vb)) == [x * y % R for x, y in zip(a, b)]
    assert to_ints(k.fr_scale(va, from_int(s))) == [x * s % R for x in a]
    assert to_int(k.fr_sum(va)) == sum(a) % R
    assert to_int(k.fr_inner(va, vb)) == sum(x * y for x, y in zip(a, b)) % R


def test_length_mismatch_is_an_error():
    with pytest.raises(k.KernelError, match="length mismatch"):
        k.fr_mul(from_ints([1, 2]), from_ints([1]))


def test_random_elements_are_distinct_and_reduced():
    values = to_ints(k.fr_random(64))
    assert len(set(values)) == 64 and all(0 <= v < R for v in values)
