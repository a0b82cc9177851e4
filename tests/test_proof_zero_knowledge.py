"""Zero knowledge of the whole proof, checked on a real run: the bundle shows commitments with
fresh blinds, Σ-protocol responses and opening proofs, so two proofs of one run share no element,
and no witness value, nor any value the prover computed from the witness (every MLE evaluation of
a witness tensor at the transcript's points and every sumcheck round value: the prover's ledger
of committed scalars), appears in it, whether as a scalar, in any 32-byte window of the bytes, or
as an unblinded commitment v·G_V. The simulators for one sumcheck and one opening are in
test_proof_sumcheck.py and test_proof_opening.py."""

from __future__ import annotations

import numpy as np
import pytest

from zkdl import _kernels
from zkdl.backend.native import MODULUS, from_ints
from zkdl.proof import training
from zkdl.proof.bundle import Bundle
from zkdl.proof.hidden import ProverLedger
from zkdl.proof.opening import value_generator

WITNESS_TABLES = ("Z", "G_A", "A_in", "G_Z", "history", "data_x", "data_y", "Z_rescaled", "G_A_rescaled", "sign")


PUBLIC = {b"chunking"}  # the proof's public parameter (its chunk size), like the statement


def _elements(messages) -> list[bytes]:
    """Every element of the proof but its public parameters: points compressed (48 bytes),
    scalars as 32 bytes."""
    out: list[bytes] = []
    for m in messages:
        if m.label in PUBLIC:
            continue
        points = [m.points] if m.points is not None else []
        scalars = list(m.scalars)
        if m.opening is not None:
            points += [m.opening.L, m.opening.R, m.opening.A[None]]
            scalars += [m.opening.z1, m.opening.z2]
        for group in points:
            if len(group):
                out += [bytes(p) for p in _kernels.g1_compress(np.ascontiguousarray(group))]
        out += [v.to_bytes(32, "big") for v in scalars]
    return out


@pytest.fixture(scope="module")
def recorded(tiny_proof):
    """A fresh proof of the tiny run with every value the prover committed recorded."""
    stated: list[int] = []
    commit = ProverLedger.commit

    def recording(self, values):
        values = list(values)
        stated.extend(int(v) % MODULUS for v in values)
        return commit(self, values)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ProverLedger, "commit", recording)
        messages = training.prove(tiny_proof.statement, tiny_proof.secrets, tiny_proof.tables)
    return messages, stated


def test_two_proofs_of_one_run_share_no_element(tiny_proof, recorded):
    messages, _ = recorded
    training.verify(tiny_proof.statement, list(messages))
    first, second = _elements(tiny_proof.messages), _elements(messages)
    assert len(first) > 600 and len(second) == len(first)
    assert len(set(first) | set(second)) == 2 * len(first), "an element repeats within or across the proofs"


def _secrets(tiny_proof, stated: list[int]) -> set[int]:
    witness = {int(v) % MODULUS for name in WITNESS_TABLES for v in np.asarray(getattr(tiny_proof.tables, name)).reshape(-1)}
    return witness | set(stated)


def test_the_bundle_shows_no_witness_value_or_evaluation(tiny_proof, recorded):
    messages, stated = recorded
    assert len(stated) > 300  # round values, claimed evaluations, products: what the prover knows
    secrets = _secrets(tiny_proof, stated)
    private = tuple(m for m in messages if m.label not in PUBLIC)
    proof_bytes = Bundle(tiny_proof.statement, private).encode()[len(tiny_proof.statement.encode()) :]
    windows = {proof_bytes[i : i + 32] for i in range(len(proof_bytes) - 31)}
    encoded = {v.to_bytes(32, "big") for v in secrets}
    assert not windows & encoded, "a witness value or evaluation appears in the proof's bytes"
    values = sorted(secrets)
    unblinded = _kernels.g1_scale_each(np.repeat(value_generator()[None], len(values), axis=0), from_ints(values))
    assert not {bytes(p) for p in _kernels.g1_compress(unblinded)} & set(_elements(messages)), "an unblinded commitment"


def test_the_scan_would_find_a_value_in_the_clear(tiny_proof, recorded):
    """The scan can fail: a proof with one stated value written in the clear is caught."""
    messages, stated = recorded
    leaked = list(messages) + [type(messages[0])(b"leak", scalars=(stated[-1],))]
    assert set(_elements(leaked)) & {v.to_bytes(32, "big") for v in _secrets(tiny_proof, stated)}
