"""The statement's canonical encoding: round trip, a fixed digest, and strict decoding."""

import dataclasses

import pytest

from zkdl.proof.statement import Statement, StatementFormatError

EXAMPLE = Statement(
    widths=(64, 128, 128, 10), bias=False, frac_bits=16, lr_exp=10, range_bits=64, batch=64, steps=16,
    schedule_seed=7, n_train=1437, data_frac_bits=4, c_data=b"\x01" * 5, c_w0=b"\x02" * 3, c_wt=b"",
)  # fmt: skip


def test_round_trip():
    assert Statement.decode(EXAMPLE.encode()) == EXAMPLE


def test_digest_is_keccak_of_the_encoding_and_stable():
    # A golden value: changing the encoding must be a deliberate, versioned decision.
    assert EXAMPLE.digest().hex() == GOLDEN_DIGEST


@pytest.mark.parametrize(
    "change",
    [
        {"widths": (64, 128, 10)}, {"bias": True}, {"frac_bits": 15}, {"lr_exp": 9}, {"range_bits": 63},
        {"batch": 32}, {"steps": 17}, {"schedule_seed": 8}, {"n_train": 1436}, {"data_frac_bits": 5},
        {"c_data": b"\x01" * 4}, {"c_w0": b"\x02\x02\x03"}, {"c_wt": b"\x00"},
    ],
)  # fmt: skip
def test_every_field_changes_the_digest(change):
    assert dataclasses.replace(EXAMPLE, **change).digest() != EXAMPLE.digest()


def test_malformed_encodings_are_rejected_with_a_reason():
    good = EXAMPLE.encode()
    cases = {
        b"X" + good[1:]: "bad magic",
        good[:14] + b"\x00\x02" + good[16:]: "version 2 is not supported",
        good[:-1]: "truncated",
        good + b"\x00": "unexpected bytes",
    }
    for data, reason in cases.items():
        with pytest.raises(StatementFormatError, match=reason):
            Statement.decode(data)
    bias_offset = 14 + 4 + 4 * 4
    bad_bias = good[:bias_offset] + b"\x02" + good[bias_offset + 1 :]
    with pytest.raises(StatementFormatError, match="out-of-range"):
        Statement.decode(bad_bias)


def test_every_truncation_is_a_format_error():
    good = EXAMPLE.encode()
    for cut in range(len(good)):
        with pytest.raises(StatementFormatError, match=rf"^statement truncated at byte {cut} "):
            Statement.decode(good[:cut])


GOLDEN_DIGEST = "37f391aec08631954ad699cda84132e51323a91e36a9c0ea94ede1681c122aa4"
