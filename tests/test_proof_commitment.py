"""Hyrax tensor commitments: the layout matches the MLE convention, commitments hide and bind the
three entry kinds alike, and the wire form round-trips and rejects every malformed input."""

from __future__ import annotations

import contextlib
import random

import numpy as np
import pytest
from py_ecc import optimized_bls12_381 as ecc
from py_ecc.bls.point_compression import compress_G1

from tests import reference as ref
from zkdl import _kernels as k
from zkdl.backend.native import from_ints, to_int, to_ints
from zkdl.errors import ZkdlError
from zkdl.proof import commitment as cm

P = ecc.field_modulus


def _field_tensor(seed: int, n: int) -> tuple[list[int], np.ndarray]:
    values = ref.random_ints(random.Random(seed), n)
    return values, from_ints(values)


def _point(seed: int, n: int) -> list[int]:
    return ref.random_ints(random.Random(seed), n)


def _opening_like(opening: cm.TensorOpening, kind: cm.EntryKind, entries: np.ndarray, width: int = 0) -> cm.TensorOpening:
    """Another entry representation with the same blinds, so commitments can be compared."""
    return cm.TensorOpening(kind, entries, opening.blinds, width)


# ---- layout ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n,rows,row_length", [(1, 1, 1), (2, 1, 2), (3, 2, 2), (4, 2, 2), (5, 2, 4), (8, 2, 4), (9, 4, 4), (100, 8, 16), (4096, 64, 64)]
)
def test_matrix_shape(n, rows, row_length):
    layout = cm.MatrixLayout.of((n,))
    assert (layout.num_rows, layout.row_length) == (rows, row_length)
    assert layout.num_rows <= layout.row_length and layout.num_rows * layout.row_length == 1 << layout.num_vars


@pytest.mark.parametrize(
    "shape,row_vars,col_vars",
    [
        ((1,), 0, 0),
        ((3,), 1, 1),
        ((100,), 3, 4),
        ((1 << 14,), 7, 7),  # square up to 2^7 × 2^7
        ((1 << 15,), 7, 8),
        ((4, 128, 128), 7, 9),  # digits: W_0, W_T (2^16 entries): 128 rows of 512, not 256 × 256
        ((2048, 128), 7, 11),  # digits: X, Y (2^18 entries): 128 rows of 2048, not 512 × 512
        ((3000, 100), 7, 12),  # 300,000 entries pad to 2^19
        ((1 << 22,), 7, 15),  # the last size with 2^7 rows
        ((1 << 23,), 8, 15),  # beyond it the row length stays at 2^15 and rows grow
        ((1 << 19, 64), 10, 15),  # digits: the bit tensors BZ, BG (2^25 bits)
        ((1 << 20, 1 << 20), 25, 15),  # 2^40, the largest a commitment may claim
    ],
)
def test_layout_rule(shape, row_vars, col_vars):
    layout = cm.MatrixLayout.of(shape)
    assert (layout.row_vars, layout.col_vars) == (row_vars, col_vars)
    assert layout.num_rows * layout.row_length == 1 << layout.num_vars


def test_layout_rule_bounds():
    from zkdl.proof import opening

    for num_vars in range(cm.MAX_NUM_VARS + 1):
        layout = cm.MatrixLayout.of((1 << num_vars,))
        assert layout.row_vars + layout.col_vars == num_vars
        assert layout.col_vars <= cm.MAX_COL_VARS <= opening.MAX_ROUNDS  # one IPA round per column variable
        if num_vars <= 2 * cm.MAX_ROW_VARS:  # small tensors keep the square split (fewest rows + columns)
            assert (layout.row_vars, layout.col_vars) == (num_vars // 2, num_vars - num_vars // 2)
        elif num_vars <= cm.MAX_ROW_VARS + cm.MAX_COL_VARS:
            assert layout.row_vars == cm.MAX_ROW_VARS
        else:
            assert layout.col_vars == cm.MAX_COL_VARS
        # Only the padded size matters: the axes are not padded one by one.
        if num_vars >= 2:
            assert cm.MatrixLayout.of((3, 1 << (num_vars - 2))) == layout
    # Every row length the rule can ask for has its generators pinned for the disk cache (k ≤ 16).
    assert cm.MAX_COL_VARS <= 16


@pytest.mark.parametrize("n", [1, 2, 3, 6, 16, 37, 256])
def test_rows_are_consecutive_chunks_and_the_mle_splits_low_columns_high_rows(n):
    values, field = _field_tensor(n, n)
    commitment, opening = cm.commit_field(field)
    layout = commitment.layout
    g = layout.row_length
    padded = values + [0] * ((1 << layout.num_vars) - n)
    key = cm.commit_key(g)
    for i in range(layout.num_rows):  # row i holds entries i·g … i·g + g − 1
        assert np.array_equal(commitment.rows[i], key.commit_vector(from_ints(padded[i * g : (i + 1) * g]), opening.blinds[i]))
    point = _point(100 + n, layout.num_vars)
    u_col, u_row = layout.split(point)
    t_star, rho_star = cm.fold_rows(opening, u_row)
    # The verifier's C* is the commitment to the prover's folded row …
    assert np.array_equal(cm.combine_rows(commitment, u_row), key.commit_vector(t_star, from_ints([rho_star])[0]))
    # … and the folded row against eq(u_col) is the tensor's MLE at the whole point.
    evaluation = to_int(k.fr_inner(t_star, k.eq_vector(from_ints(u_col).reshape(-1, 4))))
    assert evaluation == to_int(k.mle_evaluate(opening.padded_field_entries(), from_ints(point).reshape(-1, 4)))
    assert evaluation == ref.mle_evaluate(padded, point)


def test_points_of_the_wrong_length_are_refused():
    commitment, opening = cm.commit_field(_field_tensor(1, 16)[1])
    with pytest.raises(ValueError, match="row point has 1 coordinates"):
        cm.combine_rows(commitment, [1])
    with pytest.raises(ValueError, match="row point has 3 coordinates"):
        cm.fold_rows(opening, [1, 2, 3])
    with pytest.raises(ValueError, match="point has 3 coordinates"):
        commitment.layout.split([1, 2, 3])


# ---- hiding and binding ------------------------------------------------------------------------------


def test_recommit_reproduces_and_fresh_blinds_hide():
    field = _field_tensor(2, 50)[1]
    first, opening = cm.commit_field(field)
    second, _ = cm.commit_field(field)
    assert cm.recommit(opening) == first
    assert first.shape == second.shape == (50,)
    assert not any(np.array_equal(a, b) for a, b in zip(first.rows, second.rows))  # every row re-blinded


def test_a_changed_entry_or_blind_changes_the_commitment():
    commitment, opening = cm.commit_int64(np.arange(20, dtype=np.int64).reshape(4, 5))
    entries = opening.entries.copy()
    entries[3, 4] += 1
    assert cm.recommit(_opening_like(opening, cm.EntryKind.INT64, entries)) != commitment
    blinds = opening.blinds.copy()
    blinds[0] = from_ints([1])[0]
    assert cm.recommit(cm.TensorOpening(cm.EntryKind.INT64, opening.entries, blinds)) != commitment


def test_field_int64_and_bits_entries_commit_alike():
    rng = np.random.default_rng(3)
    width = 8
    words = rng.integers(0, 2**width, size=6, dtype=np.uint64)
    bits = ((words[:, None] >> np.arange(width, dtype=np.uint64)) & np.uint64(1)).astype(np.int64)  # [6, 8]
    commitment, opening = cm.commit_bits(words, width)
    assert commitment.shape == (6, width)
    as_int64 = _opening_like(opening, cm.EntryKind.INT64, bits)
    as_field = _opening_like(opening, cm.EntryKind.FIELD, k.fr_from_i64(bits.reshape(-1)).reshape(6, width, 4))
    for other in (as_int64, as_field):
        assert cm.recommit(other) == commitment
        assert np.array_equal(other.padded_field_entries(), opening.padded_field_entries())
        point = _point(4, commitment.layout.row_vars)
        for mine, theirs in zip(cm.fold_rows(opening, point), cm.fold_rows(other, point)):
            assert np.array_equal(mine, theirs)
    small = rng.integers(-(2**40), 2**40, size=(3, 7), dtype=np.int64)
    commitment, opening = cm.commit_int64(small)
    assert cm.recommit(_opening_like(opening, cm.EntryKind.FIELD, k.fr_from_i64(small.reshape(-1)).reshape(3, 7, 4))) == commitment


def test_padding_is_zero_and_openings_are_immutable():
    commitment, opening = cm.commit_int64(np.array([5, -1, 7], dtype=np.int64))
    assert to_ints(opening.padded_field_entries()) == [5, ref.R - 1, 7, 0]
    assert opening.shape == (3,) and commitment.num_vars == 2
    with pytest.raises(ValueError):
        opening.entries[0] = 9
    with pytest.raises(ValueError):
        commitment.rows[0, 0] = 1


def test_keys_are_cached_and_fixed_by_the_domain_tag():
    assert cm.commit_key(16) is cm.commit_key(16)
    assert np.array_equal(cm.commit_key(4).generators()[3], k.hash_to_g1(cm.DOMAIN_TAG, b"zkdl/G" + (3).to_bytes(8, "big")))
    assert np.array_equal(cm.blinding_generator(), cm.commit_key(64).blinding_generator())


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="power of two up to 64"):
        cm.commit_bits(np.ones(4, np.uint64), 3)
    with pytest.raises(ValueError, match="bits set above width 4"):
        cm.commit_bits(np.array([3, 16], np.uint64), 4)
    with pytest.raises(ValueError, match="uint64\\[n\\]"):
        cm.commit_bits(np.ones((2, 2), np.uint64), 2)
    with pytest.raises(ValueError, match="int64"):
        cm.commit_int64(np.ones(4, np.int32))
    with pytest.raises(ValueError, match="uint64\\[..., 4\\]"):
        cm.commit_field(np.ones((4, 3), np.uint64))
    with pytest.raises(ValueError, match="at least one entry"):
        cm.commit_int64(np.zeros((2, 0), np.int64))
    with pytest.raises(ValueError, match="not a reduced field element"):
        cm.commit_field(np.full((2, 4), 2**64 - 1, np.uint64))


# ---- wire form -------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (1,), (3,), (4, 5), (2, 3, 2)])
def test_encode_decode_round_trip(shape):
    commitment, _ = cm.commit_int64(np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape))
    data = cm.encode(commitment)
    assert len(data) == 2 + 8 * len(shape) + 48 * commitment.layout.num_rows
    assert data[:2] == bytes([1, len(shape)])
    decoded = cm.decode(data)
    assert decoded == commitment and decoded.shape == shape
    assert cm.encode(decoded) == data


def _non_subgroup_point() -> int:
    """The compressed form of a point on E(F_p) outside G1 (the first x = 1, 2, … that gives one)."""
    for x in range(1, 1000):
        rhs = (x**3 + 4) % P
        y = pow(rhs, (P + 1) // 4, P)
        if y * y % P == rhs:
            point = (ecc.FQ(x), ecc.FQ(y), ecc.FQ.one())
            if not ecc.is_inf(ecc.multiply(point, ref.R)):
                return compress_G1(point)
    raise AssertionError("no point found")


def _malformed_rows(good: bytes) -> dict[str, bytes]:
    """48-byte row encodings that the decoder must refuse, keyed by the reason it gives."""
    x = int.from_bytes(good, "big") % 2**381
    off_curve_x = next(x for x in range(1, 100) if pow((x**3 + 4) % P, (P - 1) // 2, P) == P - 1)
    return {
        "compression flag": x.to_bytes(48, "big"),
        "not below p": ((0b100 << 381) | P).to_bytes(48, "big"),
        "abscissa": ((0b100 << 381) | off_curve_x).to_bytes(48, "big"),
        "subgroup": _non_subgroup_point().to_bytes(48, "big"),
        "identity": bytes([0xC0]) + bytes(47),
    }


def test_decode_rejects_every_malformed_input():
    commitment, _ = cm.commit_int64(np.arange(12, dtype=np.int64).reshape(3, 4))  # 16 entries: 4 rows
    data = cm.encode(commitment)
    header, rows = data[:18], data[18:]
    cases = {
        "shorter than its 2-byte header": data[:1],
        "unknown version 2": bytes([2]) + data[1:],
        "9 dimensions": bytes([1, 9]) + bytes(72),
        "truncated shape header": data[:10],
        "is empty": header[:10] + bytes(8) + rows,
        "above 2\\^40": bytes([1, 2]) + (2**21).to_bytes(8, "big") * 2,
        "expected 4 × 48": data[:-1],
        "of rows, expected": data + bytes(48),
    }
    for reason, row in _malformed_rows(rows[:48]).items():
        cases[reason] = header + rows[:48] + row + rows[96:]
    for reason, bad in cases.items():
        with pytest.raises(cm.CommitmentFormatError, match=reason) as caught:
            cm.decode(bad)
        assert isinstance(caught.value, ValueError) and isinstance(caught.value, ZkdlError)
    with pytest.raises(cm.CommitmentFormatError) as caught:
        cm.decode(cases["identity"])
    assert "row 1" in str(caught.value)


def test_decode_never_crashes_on_mutations():
    data = cm.encode(cm.commit_int64(np.arange(9, dtype=np.int64))[0])
    rng = random.Random(7)
    for _ in range(200):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            mutated[rng.randrange(len(mutated))] ^= 1 << rng.randrange(8)
        cut = rng.choice([len(mutated), rng.randrange(len(mutated) + 1)])
        with contextlib.suppress(cm.CommitmentFormatError):
            cm.decode(bytes(mutated[:cut]))
