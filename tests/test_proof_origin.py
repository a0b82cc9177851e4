"""Who proved a run and where its W_0 came from: the statement's owner and origin (statement.py).

A proof is bound to its owner (the transcript absorbs the statement, the owner first), a seeded
statement's C_W0 is recomputed by the verifier from the seed, and a fine-tuned statement's C_W0 is
its parent's C_WT itself.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tests import malicious as mal
from tests import proof_cheats as pc
from tests.conftest import tiny_spec
from tests.relations import assert_rejected_by
from zkdl import _kernels, api
from zkdl.errors import SpecError
from zkdl.model import Weights, init_weights
from zkdl.proof import commitment as cm
from zkdl.proof import training
from zkdl.proof.bundle import Bundle
from zkdl.proof.layout import Layout
from zkdl.proof.statement import Init
from zkdl.proof.witness import packed_weights
from zkdl.train import train

OWNER = bytes.fromhex("ab" * 20)


@pytest.fixture(scope="module")
def seeded(tiny_data):
    """An honest seeded run of the soundness network, proven for OWNER."""
    run = train(tiny_spec(), tiny_data)
    statement, secrets, tables = training.commit_statement(run.witness, tiny_data, OWNER)
    return run, statement, secrets, tables, training.prove(statement, secrets, tables)


def test_a_seeded_run_claims_its_seed_and_verifies(seeded):
    run, statement, _, _, messages = seeded
    assert (statement.init, statement.init_seed, statement.owner) == (Init.SEEDED, run.spec.init_seed, OWNER)
    assert statement.c_w0 == training.seeded_initial_commitment(Layout.of(statement), statement)  # public: anyone recomputes it
    training.verify(statement, messages)


def test_the_proof_does_not_verify_for_another_owner(seeded):
    """Re-binding: the same messages under a statement naming another owner. Every challenge depends
    on the owner (absorbed first), so the proof's messages answer other challenges; making a proof
    for the other owner means running the prover, which needs the witness."""
    _, statement, _, _, messages = seeded
    other = dataclasses.replace(statement, owner=bytes.fromhex("cd" * 20))
    assert_rejected_by(other, messages, "forward")


def test_laundered_initial_weights_under_a_seeded_statement_are_rejected(seeded, tiny_data):
    """A run from weights that are not the seed's (here: another run's final weights, as a short
    run that launders pre-trained weights would), claimed as seeded with C_W0 committing its real
    start: the verifier's recomputed seeded C_W0 differs."""
    run = seeded[0]
    laundered = train(tiny_spec(), tiny_data, initial=run.final)
    statement, secrets, tables = training.commit_statement(laundered.witness, tiny_data, OWNER, origin=Init.UNCONSTRAINED)
    claimed = dataclasses.replace(statement, init=Init.SEEDED, init_seed=laundered.spec.init_seed)
    assert_rejected_by(claimed, training.prove(claimed, secrets, tables), "seeded init")


def test_the_seeds_weights_committed_but_other_weights_trained_on_are_rejected(seeded, tiny_data):
    """The seeded C_W0 is honest (the public weights) and opened honestly, the training started
    elsewhere: only the merge of the weight history's claims on W_0 ties the run to C_W0."""
    run, statement = seeded[0], seeded[1]
    laundered = train(tiny_spec(), tiny_data, initial=run.final)
    tables = pc.build_tables(Layout.of(statement), laundered, data=tiny_data)
    public_w0 = packed_weights(tables.layout, init_weights(run.spec.model, run.spec.quant, run.spec.init_seed))
    c0, o0 = cm.commit_public_int64(public_w0)
    (cx, ox), (cy, oy), _, (cT, oT) = pc.commitments_of(tables)
    claimed = dataclasses.replace(pc.with_dataset(statement, c_x=cm.encode(cx), c_y=cm.encode(cy)), c_w0=cm.encode(c0), c_wt=cm.encode(cT))
    w0 = _kernels.fr_from_i64(public_w0.reshape(-1))
    with mal.malicious(mal.Script(tables={b"merge W0": lambda _t, _p: [w0]})), pc.field_bits_prover():
        messages = training.prove(claimed, training.StatementSecrets(ox, oy, o0, oT), tables)
    assert_rejected_by(claimed, messages, "merge W0")


def test_a_fine_tuned_run_starts_from_its_parents_committed_final_weights(seeded, tiny_data):
    """The child's C_W0 is the parent's C_WT byte for byte (the registry can link them by digest),
    and its statement names the parent's statement digest."""
    run, statement, secrets = seeded[0], seeded[1], seeded[2]
    child = train(tiny_spec(), tiny_data, initial=run.final)
    parent = training.Parent(statement.digest(), secrets.wt.blinds)
    st, sec, tables = training.commit_statement(child.witness, tiny_data, OWNER, parent)
    assert (st.init, st.parent, st.c_w0) == (Init.FINE_TUNED, statement.digest(), statement.c_wt)
    training.verify(st, training.prove(st, sec, tables))


def test_fine_tuning_is_proven_from_the_parents_bundle_and_opening_and_a_wrong_parent_is_refused(tmp_path, tiny_data):
    """api.prove with --parent: the opening must recompute the parent's C_WT from the run's W_0."""
    parent_run = train(tiny_spec(), tiny_data).save(tmp_path / "parent")
    parent = api.prove(parent_run, tmp_path / "parent.zkdl", owner="0x" + "ab" * 20, data=tiny_data)
    final = np.load(parent_run / "weights_final.npz")
    start = Weights(tuple(final[f"W{l}"] for l in range(3)))
    child_dir = train(tiny_spec(), tiny_data, initial=start).save(tmp_path / "child")
    pair = (parent.bundle_path, parent.opening_path)
    child = api.prove(child_dir, tmp_path / "child.zkdl", owner="0x" + "cd" * 20, parent=pair, data=tiny_data)
    bundle = Bundle.decode((tmp_path / "child.zkdl").read_bytes())
    assert bundle.statement.origin() == {"kind": "fine-tuned", "parent_statement_digest": parent.statement_digest}
    assert api.verify((tmp_path / "child.zkdl").read_bytes()).valid and child.statement_digest != parent.statement_digest
    stranger = train(tiny_spec(), tiny_data).save(tmp_path / "stranger")  # seeded: not the parent's final weights
    with pytest.raises(SpecError, match="did not start from the parent's final weights"):
        api.prove(stranger, tmp_path / "x.zkdl", owner="0x" + "cd" * 20, parent=pair, data=tiny_data)
