"""The statement's canonical encoding: round trip, a fixed digest, and strict decoding."""

import dataclasses

import pytest

from zkdl.proof.dataset import DatasetCommitment
from zkdl.proof.statement import Init, Statement, StatementFormatError

DATASET = DatasetCommitment(1437, 64, 10, 4, 5, False, True, b"\x01" * 5, b"\x03" * 2)
EXAMPLE = Statement(
    widths=(64, 128, 128, 10), bias=False, frac_bits=16, lr_exp=10, range_bits=64, batch=64, steps=16,
    schedule_seed=7, c_data=DATASET.encode(), c_w0=b"\x02" * 3, c_wt=b"",
    owner=bytes.fromhex("6813eb9362372eef6200f3b1dbc3f819671cba69"), init=Init.SEEDED, init_seed=3,
)  # fmt: skip
FINE_TUNED = dataclasses.replace(EXAMPLE, init=Init.FINE_TUNED, init_seed=0, parent=b"\x07" * 32)


@pytest.mark.parametrize("statement", [EXAMPLE, FINE_TUNED, dataclasses.replace(EXAMPLE, init=Init.UNCONSTRAINED, init_seed=0)])
def test_round_trip(statement):
    assert Statement.decode(statement.encode()) == statement


def test_digest_is_keccak_of_the_encoding_and_stable():
    # A golden value: changing the encoding must be a deliberate, versioned decision.
    assert EXAMPLE.digest().hex() == GOLDEN_DIGEST


@pytest.mark.parametrize(
    "change",
    [
        {"widths": (64, 128, 10)}, {"bias": True}, {"frac_bits": 15}, {"lr_exp": 9}, {"range_bits": 63},
        {"batch": 32}, {"steps": 17}, {"schedule_seed": 8}, {"c_data": dataclasses.replace(DATASET, samples=1436).encode()},
        {"c_data": dataclasses.replace(DATASET, frac_bits=5).encode()}, {"c_data": dataclasses.replace(DATASET, c_x=b"\x01" * 4).encode()},
        {"c_w0": b"\x02\x02\x03"}, {"c_wt": b"\x00"}, {"owner": b"\x01" * 20},
        {"init_seed": 4}, {"init": Init.UNCONSTRAINED, "init_seed": 0},
    ],
)  # fmt: skip
def test_every_field_changes_the_digest(change):
    assert dataclasses.replace(EXAMPLE, **change).digest() != EXAMPLE.digest()


def test_malformed_encodings_are_rejected_with_a_reason():
    good = EXAMPLE.encode()
    cases = {
        b"X" + good[1:]: "bad magic",
        good[:14] + b"\x00\x01" + good[16:]: "version 1 is not supported",
        good[:14] + b"\x00\x02" + good[16:]: "version 2 is not supported",
        good[:-1]: "truncated",
        good + b"\x00": "unexpected bytes",
    }
    for data, reason in cases.items():
        with pytest.raises(StatementFormatError, match=reason):
            Statement.decode(data)
    bias_offset = 14 + 2 + 20 + 2 + 4 * 4
    bad_bias = good[:bias_offset] + b"\x02" + good[bias_offset + 1 :]
    with pytest.raises(StatementFormatError, match="out-of-range"):
        Statement.decode(bad_bias)


@pytest.mark.parametrize(
    "statement, reason",
    [
        (dataclasses.replace(EXAMPLE, init=Init.UNCONSTRAINED), "init seed or a parent"),
        (dataclasses.replace(FINE_TUNED, init_seed=5), "init seed or a parent"),
        (dataclasses.replace(EXAMPLE, parent=b"\x01" * 32), "init seed or a parent"),
    ],
)
def test_an_origin_field_the_origin_does_not_use_is_refused(statement, reason):
    """One statement, one encoding: an unconstrained W_0 with a seed, or a seeded one with a parent, is malformed."""
    with pytest.raises(StatementFormatError, match=reason):
        Statement.decode(statement.encode())


def test_a_data_set_that_does_not_fit_the_network_is_refused():
    """C_data must be a data set's commitment whose inputs and classes are the network's ends."""
    for dataset, reason in [
        (dataclasses.replace(DATASET, features=63), "63 inputs"),
        (dataclasses.replace(DATASET, classes=9), "9 classes"),
    ]:
        with pytest.raises(StatementFormatError, match=reason):
            Statement.decode(dataclasses.replace(EXAMPLE, c_data=dataset.encode()).encode())
    with pytest.raises(StatementFormatError, match="C_data: not a zkdl data-set commitment"):
        Statement.decode(dataclasses.replace(EXAMPLE, c_data=b"\x01" * 5).encode())


def test_an_unknown_origin_is_refused():
    init_offset = len(EXAMPLE.encode()) - 3 * 4 - len(DATASET.encode()) - 3 - 32 - 8 - 1
    good = EXAMPLE.encode()
    with pytest.raises(StatementFormatError, match="out-of-range"):
        Statement.decode(good[:init_offset] + b"\x03" + good[init_offset + 1 :])


def test_every_truncation_is_a_format_error():
    good = EXAMPLE.encode()
    for cut in range(len(good)):
        with pytest.raises(StatementFormatError, match=rf"^statement truncated at byte {cut} "):
            Statement.decode(good[:cut])


GOLDEN_DIGEST = "0f45649a447c36294d98a83284cecdb0120a32f99c7552bb5009805fb4e57a35"
