"""A data set's identity (zkdl.proof.dataset) and its range proof (zkdl.proof.data_range): the
encoding, completeness, reproducibility of a public commitment, and a rejection for every way the
committed data can break the record's claims (values out of range, non-zero padding, labels not
one-hot, a tampered or re-bound proof)."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from tests import proof_cheats as pc
from zkdl import backend
from zkdl.data import Dataset
from zkdl.dataset_files import DatasetFileError, check, committed
from zkdl.proof import commitment as cm
from zkdl.proof.bundle import BundleFormatError, DatasetBundle
from zkdl.proof.channel import Message
from zkdl.proof.data_range import CommittedDataset, DatasetSecrets, commit_dataset, new_key, prove_dataset, value_bits, verify_dataset
from zkdl.proof.dataset import PUBLIC_KEY, DatasetCommitment, DatasetFormatError
from zkdl.proof.errors import VerificationError


@pytest.fixture(scope="module")
def data() -> Dataset:
    return pc.synthetic(24, 6, 3)


@pytest.fixture(scope="module")
def public(data) -> tuple[CommittedDataset, list[Message]]:
    dataset = commit_dataset(data, PUBLIC_KEY)
    return dataset, prove_dataset(dataset)


def rejection(header: DatasetCommitment, messages: list[Message]) -> str:
    with pytest.raises(VerificationError) as info:
        verify_dataset(header, messages)
    return info.value.user_message


def lying(dataset: CommittedDataset, *, x: np.ndarray | None = None, y: np.ndarray | None = None, **header) -> CommittedDataset:
    """The data set with other tables committed (under the same blinds) and header fields replaced."""
    secrets, fields = dataset.secrets, dict(header)
    if x is not None:
        c_x, o_x = cm.open_int64(x, secrets.x.blinds)
        secrets, fields["c_x"] = dataclasses.replace(secrets, x=o_x), cm.encode(c_x)
    if y is not None:
        c_y, o_y = cm.open_int64(y, secrets.y.blinds)
        secrets, fields["c_y"] = dataclasses.replace(secrets, y=o_y), cm.encode(c_y)
    return CommittedDataset(dataclasses.replace(dataset.commitment, **fields), DatasetSecrets(secrets.x, secrets.y))


def test_an_honest_range_proof_verifies_and_the_header_says_the_data(data, public):
    dataset, messages = public
    verify_dataset(dataset.commitment, messages)
    header = dataset.commitment
    assert (header.samples, header.features, header.classes, header.frac_bits) == (24, 6, 3, 4)
    assert (header.value_bits, header.signed, header.public, header.value_range) == (5, False, True, (0, 32))  # pixels 0..16


def test_the_encoding_round_trips_and_malformed_ones_are_refused(public):
    header = public[0].commitment
    good = header.encode()
    assert DatasetCommitment.decode(good) == header
    for bad, reason in [
        (b"X" + good[1:], "bad magic"),
        (good[:12] + b"\x00\x02" + good[14:], "version 2 is not supported"),
        (good[:20], "truncated"),
        (good[:-1], "truncated in C_Y"),
        (good + b"\x00", "unexpected bytes"),
        (dataclasses.replace(header, value_bits=0).encode(), "out-of-range"),
        (dataclasses.replace(header, value_bits=63).encode(), "out-of-range"),
        (dataclasses.replace(header, samples=0).encode(), "out-of-range"),
    ]:
        with pytest.raises(DatasetFormatError, match=reason):
            DatasetCommitment.decode(bad)


def test_a_public_commitment_is_the_data_s_alone_and_a_private_one_is_not(data, public):
    """Anyone recomputes a public data set's commitment from the file: the same data gives the same
    id, other data another; a private one is fresh under every key."""
    assert commit_dataset(data, PUBLIC_KEY).commitment == public[0].commitment
    other = pc.synthetic(24, 6, 3, seed=1)
    assert commit_dataset(other, PUBLIC_KEY).commitment.digest() != public[0].commitment.digest()
    key = new_key()
    private = commit_dataset(data, key).commitment
    assert not private.public and private.c_x != public[0].commitment.c_x
    assert commit_dataset(data, key).commitment == private  # the owner re-derives it from the key
    assert commit_dataset(data, new_key()).commitment != private


def test_the_file_check_compares_the_data(data, public):
    bundle = DatasetBundle(public[0].commitment, tuple(public[1]))
    assert DatasetBundle.decode(bundle.encode()).encode() == bundle.encode()
    assert check(bundle, data).data_matches is True
    assert check(bundle, pc.synthetic(24, 6, 3, seed=1)).data_matches is False
    with pytest.raises(DatasetFileError, match="is not the data set"):
        committed(pc.synthetic(24, 6, 3, seed=1), bundle, None)
    private = commit_dataset(data, new_key())
    with pytest.raises(DatasetFileError, match="private"):
        check(DatasetBundle(private.commitment, tuple(prove_dataset(private))), data)


def test_the_narrowest_range_is_chosen():
    assert value_bits(np.array([0, 16])) == (5, False)
    assert value_bits(np.array([-8, 8])) == (5, True)  # [−16, 16)
    assert value_bits(np.array([-1, 0])) == (1, True)
    assert value_bits(np.array([0, 0])) == (1, False)


@pytest.mark.parametrize(
    "edit, relation",
    [
        ({"value_bits": 4}, r"^(merge|opening) (X|BX)\b"),  # 16 needs 5 bits
        ({"signed": True}, r"^(merge|opening) (X|BX)\b"),  # 16 is outside [−16, 16)
    ],
    ids=["narrower", "signed"],
)
def test_values_outside_the_claimed_range_are_rejected(public, edit, relation):
    """The honest prover on a header that claims a narrower range than the data's, committing each
    value's low bits where they do not fit (what else could it commit)."""
    cheat = lying(public[0], **edit)
    with pc._patched(backend, "bits_decompose", _low_bits):
        assert re.search(relation, rejection(cheat.commitment, prove_dataset(cheat)))


def _low_bits(values: np.ndarray, width: int) -> np.ndarray:
    """The low `width` bits of each value (the kernel refuses values that do not fit)."""
    half = 1 << (width - 1)
    return _honest_bits(((np.asarray(values) + half) & ((1 << width) - 1)) - half, width)


_honest_bits = backend.bits_decompose


def test_shifted_values_under_an_unsigned_range_are_rejected(public):
    """Pixels shifted to −8..8 under the unsigned [0, 32) of the real ones (the issue's cheat)."""
    x = np.asarray(public[0].secrets.x.entries).copy()
    x[:24, :6] -= 8
    cheat = lying(public[0], x=x)
    assert re.search(r"^(merge|opening) (X|BX)\b", rejection(cheat.commitment, prove_dataset(cheat)))


@pytest.mark.parametrize("where", ["padded column", "padded row"])
def test_values_hidden_in_the_padding_are_rejected(public, where):
    """A 25th sample or a 7th feature hidden in D_X's padding: the record would not be the data set it says."""
    x = np.asarray(public[0].secrets.x.entries).copy()
    if where == "padded column":
        x[0, 6] = 3
    else:
        x[24, 0] = 3
    cheat = lying(public[0], x=x)
    assert re.search(r"^(merge|opening) (X|BX)\b", rejection(cheat.commitment, prove_dataset(cheat)))


@pytest.mark.parametrize(
    "row", [[1, 1, 0, 0], [0, 0, 0, 1], [1, 0, 0, 1], [2, -1, 0, 0]], ids=["two-hot", "padded class", "a padded class too", "not 0/1"]
)
def test_labels_that_are_not_one_hot_are_rejected(public, row):
    y = np.asarray(public[0].secrets.y.entries).copy()
    y[0] = row
    cheat = lying(public[0], y=y)
    assert re.search(r"^((merge|opening) Y|targets)\b", rejection(cheat.commitment, prove_dataset(cheat)))


def test_a_value_held_in_one_non_binary_bit_is_rejected_by_binarity(public):
    """40 (6 bits) under a 5-bit range, committed whole as "bit" 0: the recomposition holds (κ_0 = 1),
    only the binarity of the committed bits can refuse it."""
    x = np.asarray(public[0].secrets.x.entries).copy()
    x[0, 0] = 40
    cheat = lying(public[0], x=x)

    def whole_in_bit_zero(values: np.ndarray, width: int) -> pc.FieldBits:
        bits = np.zeros((values.size, width), np.int64)
        bits[:, 0] = np.asarray(values).reshape(-1)
        return pc.FieldBits(backend.from_i64(bits.reshape(-1)), width)

    with pc._patched(backend, "bits_decompose", whole_in_bit_zero), pc.field_bits_prover():
        messages = prove_dataset(cheat)
    assert re.search(r"^binarity\b", rejection(cheat.commitment, messages))


def test_a_label_in_a_padded_row_is_rejected(public):
    y = np.asarray(public[0].secrets.y.entries).copy()
    y[24, 0] = 1
    cheat = lying(public[0], y=y)
    assert re.search(r"^((merge|opening) Y|targets)\b", rejection(cheat.commitment, prove_dataset(cheat)))


@pytest.mark.parametrize(
    "edit",
    [{"value_bits": 6}, {"frac_bits": 5}, {"public": False}, {"samples": 23}, {"classes": 4}],
    ids=lambda e: next(iter(e)),
)
def test_a_proof_is_bound_to_its_header(public, edit):
    """Every header field is absorbed before any challenge: the proof of one header does not verify
    for another (a wider range, another scale, another size)."""
    rejection(dataclasses.replace(public[0].commitment, **edit), public[1])


def test_tampered_and_truncated_proofs_are_rejected(public):
    header, messages = public[0].commitment, public[1]
    rejection(header, messages[:-1])
    rejection(header, [*messages, messages[-1]])
    first = messages[1]
    assert first.scalars or first.points is not None
    bundle = DatasetBundle(header, tuple(messages)).encode()
    for offset in range(len(bundle) - 1, len(bundle) - 2000, -97):  # bytes across the last messages
        flipped = bundle[:offset] + bytes([bundle[offset] ^ 1]) + bundle[offset + 1 :]
        try:
            decoded = DatasetBundle.decode(flipped)
        except BundleFormatError:
            continue
        rejection(decoded.dataset, list(decoded.messages))
