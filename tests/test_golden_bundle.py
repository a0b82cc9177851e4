"""The committed golden bundle and its data set's proof file (tests/vectors/golden.zkdl and
golden.dataset, made by scripts/golden_bundle.py): today's verifier accepts them, today's prover
reproduces them byte for byte under its seed, and a one-byte edit is rejected. A change of the
bundle format, the transcript or the prover's messages therefore fails here instead of passing
silently."""

from __future__ import annotations

import dataclasses
import json

import pytest

from scripts import golden_bundle as golden
from zkdl import api
from zkdl.proof.bundle import Bundle, BundleFormatError

REGENERATE = (
    "if the change is intended, bump the proof version (zkdl.proof.bundle.VERSION, "
    "zkdl.proof.statement.PROTOCOL_TAG) and regenerate with `python -m scripts.golden_bundle`"
)


@pytest.fixture(scope="module")
def committed() -> bytes:
    return golden.BUNDLE.read_bytes()


@pytest.fixture(scope="module")
def dataset() -> bytes:
    return golden.DATASET.read_bytes()


def test_the_description_matches_the_committed_bundle(committed, dataset):
    """golden.json is golden.zkdl's description with today's versions: it is never stale."""
    assert json.loads(golden.DESCRIPTION.read_text()) == golden.describe(committed, dataset), REGENERATE


def test_the_committed_bundle_and_its_data_set_verify(committed, dataset):
    result = api.verify(committed, dataset)
    assert result.valid and result.dataset_checked, result.reason
    assert result.statement_digest == json.loads(golden.DESCRIPTION.read_text())["statement_digest"]
    check = api.check_data(golden.DATASET, golden.golden_data())  # public: anyone recomputes it from the data
    assert check.valid and check.data_matches


def test_reproving_the_golden_run_reproduces_the_committed_bundle(committed, dataset):
    reproved, reproved_dataset = golden.prove_golden()
    assert reproved_dataset == dataset, f"re-proving the golden data set no longer gives golden.dataset; {REGENERATE}"
    if reproved != committed:
        where = _first_difference(committed, reproved)
        pytest.fail(f"re-proving the golden run under its seed no longer gives golden.zkdl (first difference: {where}); {REGENERATE}")


def _first_difference(committed: bytes, reproved: bytes) -> str:
    try:
        old, new = Bundle.decode(committed), Bundle.decode(reproved)
    except BundleFormatError as exc:
        return f"the format ({exc.user_message})"
    if old.statement != new.statement:
        return "the statement"
    for i, (a, b) in enumerate(zip(old.messages, new.messages)):
        if Bundle(old.statement, (a,)).encode() != Bundle(old.statement, (b,)).encode():
            return f"message {i} ({a.label.decode()!r} now {b.label.decode()!r})"
    return f"the message count ({len(old.messages)} now {len(new.messages)})"


def test_a_one_byte_edit_of_a_proof_scalar_is_rejected(committed):
    """The last byte is the low byte of the final opening's last scalar: the edited bundle is still
    well-formed, so the verifier itself must reject it."""
    edited = committed[:-1] + bytes([committed[-1] ^ 1])
    Bundle.decode(edited)
    assert not api.verify(edited).valid


def test_a_one_byte_edit_of_the_data_set_proof_is_rejected(committed, dataset):
    edited = dataset[:-1] + bytes([dataset[-1] ^ 1])
    result = api.verify(committed, edited)
    assert not result.valid and "range proof" in (result.reason or ""), result.reason


def test_a_one_byte_edit_of_the_statement_is_rejected(committed):
    """Another schedule seed (one byte of the embedded statement) keeps the bundle well-formed and
    the layout unchanged; the proof of the committed run must not verify for it."""
    decoded = Bundle.decode(committed)
    statement = dataclasses.replace(decoded.statement, schedule_seed=decoded.statement.schedule_seed ^ 1)
    edited = Bundle(statement, decoded.messages).encode()
    assert len(edited) == len(committed) and sum(a != b for a, b in zip(edited, committed)) == 1
    assert not api.verify(edited).valid
