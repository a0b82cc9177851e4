"""Fixed-point helpers: rescaling, signs, bit widths, overflow-safe subtraction, parameters."""

from __future__ import annotations

import numpy as np
import pytest

from zkdl.errors import SpecError, ZkdlError
from zkdl.quant import QuantParams, bit_width, checked_sub, dequantize, quantize, rescale, sign_bits

I64_MIN, I64_MAX = -(2**63), 2**63 - 1


def test_rescale_matches_round_half_up_with_python_ints() -> None:
    rng = np.random.default_rng(1)
    z = np.concatenate(
        [
            rng.integers(I64_MIN, I64_MAX, size=2000, endpoint=True),
            np.array([I64_MIN, I64_MAX, 0, -1, 1, 2**41, -(2**41), 3 * 2**41, -3 * 2**41]),
        ]
    ).astype(np.int64)
    for s in (1, 5, 42, 62):
        q, r = rescale(z, s)
        for v, qv, rv in zip(z.tolist(), q.tolist(), r.tolist()):
            assert qv == (v + 2 ** (s - 1)) // 2**s
            assert v == 2**s * qv + rv and -(2 ** (s - 1)) <= rv < 2 ** (s - 1)


def test_worked_example_of_the_module_docstring() -> None:
    q = QuantParams(frac_bits=2, lr_exp=1, range_bits=16)
    assert q.shift == 5 and q.product_exp == 7 and q.weight_exp == 5
    z_q, r = rescale(np.array([6 * 40, -240]), q.shift)
    assert z_q.tolist() == [8, -7] and r.tolist() == [-16, -16]
    assert (sign_bits(np.array([240, -240])) * z_q).tolist() == [8, 0]
    g_z = 8 - 4
    g_w = 6 * g_z
    assert (g_w, 40 - g_w) == (24, 16)
    assert dequantize(np.array(16), q.weight_exp) == 1.25 - q.learning_rate * 1.5 * 1.0


def test_sign_bit_is_taken_from_the_unrescaled_value() -> None:
    z = np.array([-1, 0, 1, -(2**40)], dtype=np.int64)
    assert sign_bits(z).tolist() == [0, 1, 1, 0]
    assert rescale(z, 5)[0].tolist() == [0, 0, 0, -(2**35)]  # -1 rescales to 0 but S = 0


@pytest.mark.parametrize(
    "values, bits",
    [
        ([0], 1),
        ([-1], 1),
        ([1], 2),
        ([-2], 2),
        ([127], 8),
        ([-128], 8),
        ([128], 9),
        ([I64_MAX], 64),
        ([I64_MIN], 64),
        ([], 1),
    ],
)
def test_bit_width(values: list[int], bits: int) -> None:
    assert bit_width(np.array(values, dtype=np.int64)) == bits


def test_checked_sub_detects_wrap_around() -> None:
    a = np.array([I64_MAX, I64_MIN, 5], dtype=np.int64)
    assert checked_sub(a, np.array([1, -1, 7], dtype=np.int64)).tolist() == [I64_MAX - 1, I64_MIN + 1, -2]
    assert checked_sub(a, np.array([-1, 0, 0], dtype=np.int64)) is None
    assert checked_sub(a, np.array([0, 1, 0], dtype=np.int64)) is None


def test_quantize_rounds_and_rejects_out_of_range() -> None:
    assert quantize(np.array([0.5, -0.25, 1.0]), 2).tolist() == [2, -1, 4]
    with pytest.raises(SpecError):
        quantize(np.array([1.0]), 63)
    with pytest.raises(SpecError):
        quantize(np.array([np.nan]), 1)


def test_default_scales() -> None:
    q = QuantParams()
    assert (q.frac_bits, q.lr_exp, q.range_bits) == (16, 10, 64)
    assert (q.shift, q.weight_exp, q.bias_exp, q.product_exp, q.bias_lift) == (42, 42, 26, 58, 2**32)
    assert q.learning_rate == 2.0**-10


@pytest.mark.parametrize("kwargs", [{"frac_bits": 0}, {"lr_exp": -1}, {"range_bits": 65}, {"range_bits": 43}])
def test_invalid_parameters_are_rejected(kwargs: dict[str, int]) -> None:
    with pytest.raises(SpecError) as err:
        QuantParams(**kwargs)
    assert isinstance(err.value, ZkdlError) and isinstance(err.value, ValueError)
