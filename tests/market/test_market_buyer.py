"""The buyer's Python API on the embedded chain: provenance and the weight check."""

from __future__ import annotations

import json

import pytest
from eth_utils import keccak

from zkdl.api import OpeningFormatError
from zkdl.chain.errors import UnknownModelError
from zkdl.chain.outbox import SqlOutbox
from zkdl.chain.register import VERIFIER_VERSION, register_bundle
from zkdl.chain.relayer import Relayer
from zkdl.chain.structs import AttestationRequest, RegistrationRequest, Status, Verdict
from zkdl.market import ModelIdError, UnusableWeightsError, check_weights, looks_like_model_id, provenance
from zkdl.store import IntegrityError, LocalStore


def _register(env, proved, tmp_path, owner=None, store="store", bundle: bytes | None = None) -> bytes:
    box = SqlOutbox(tmp_path / "outbox.sqlite")
    try:
        relayer = Relayer(env.w3, env.client, env.relayer, box, poll_interval_s=0.01)
        return register_bundle(
            bundle if bundle is not None else proved.bundle,
            client=env.client,
            relayer=relayer,
            store=LocalStore(tmp_path / store),
            owner_account=owner or env.owner,
            by_signature=True,
            timeout_s=60,
        ).model_id
    finally:
        box.close()


def _attest(env, model_id: bytes, verdict: Verdict = Verdict.VALID, verifier=None) -> None:
    env.client_as(verifier or env.verifier).attest(AttestationRequest(model_id, verdict, keccak(text="report")))


def test_model_ids_are_recognised():
    assert looks_like_model_id("0x" + "ab" * 32) and not looks_like_model_id("run.zkdl")
    assert not looks_like_model_id("0x" + "ab" * 31) and not looks_like_model_id("0x" + "g" * 64)


def test_provenance_of_a_pending_then_verified_model(env, proved, tmp_path):
    model_id = _register(env, proved, tmp_path)
    info = provenance(env.client, model_id)
    assert info.status.status is Status.PENDING and not info.verified and info.attestations == ()
    assert info.claims is not None and info.bundle_error is None and info.mismatches == ()
    st = info.claims.statement
    assert (list(st.widths), st.batch, st.steps) == ([64, 8, 10], 4, 2)
    assert info.verifier_version_name == "zkdl/training/v7"
    _attest(env, model_id)
    info = provenance(env.client, "0x" + model_id.hex())
    assert info.verified and info.status.valid_count == 1
    (att,) = info.attestations
    assert att.counted and att.attestation.verifier == env.verifier.address
    data = json.loads(json.dumps(info.to_json()))
    assert data["status"] == "verified" and data["bundle"]["statement"]["widths"] == [64, 8, 10]
    assert data["attestations"][0]["verdict"] == "valid" and data["mismatches"] == []
    text = info.describe()
    assert "status VERIFIED" in text and "MLP 64-8-10, 2 SGD steps of batch 4" in text
    # A verifier removed from the set: its attestation stays listed, but no longer counts.
    env.client.revoke_verifier(env.verifier.address)
    info = provenance(env.client, model_id)
    assert info.status.status is Status.PENDING and not info.attestations[0].counted
    assert "verdict from a removed verifier: not counted" in info.describe()
    assert info.to_json()["attestations"][0]["removed_verifier"] is True


def test_provenance_without_the_bundle_still_shows_the_chain_record(env, proved, tmp_path):
    model_id = _register(env, proved, tmp_path, store="gone")
    LocalStore(tmp_path / "gone").path_for(keccak(proved.bundle)).unlink()
    info = provenance(env.client, model_id)
    assert info.claims is None and "does not exist" in info.bundle_error
    assert "the bundle is unavailable" in info.describe()


def test_a_bundle_that_is_not_the_registered_one_is_never_decoded(env, proved, tmp_path):
    model_id = _register(env, proved, tmp_path)
    path = LocalStore(tmp_path / "store").path_for(keccak(proved.bundle))
    path.write_bytes(proved.bundle[:-1] + bytes([proved.bundle[-1] ^ 1]))
    info = provenance(env.client, model_id)
    assert info.claims is None and "altered" in info.bundle_error
    with pytest.raises(IntegrityError):
        check_weights(env.client, model_id, proved.weights, proved.opening_path)


def test_a_registration_that_misdescribes_its_bundle_is_flagged(env, proved, tmp_path):
    """Digests on chain that the bundle does not imply: the chain wins, the buyer is warned."""
    digest, uri = LocalStore(tmp_path / "store").put(proved.bundle)
    from zkdl import api

    real = api.inspect(proved.bundle)["commitment_digests"]
    request = RegistrationRequest(
        real["c_data"], real["c_w0"], real["c_wt"], keccak(text="another statement"), digest, VERIFIER_VERSION, uri
    )
    model_id = env.client_as(env.owner).register_model(request).model_id
    _attest(env, model_id)
    info = provenance(env.client, model_id)
    assert len(info.mismatches) == 1 and "statement digest" in info.mismatches[0]
    assert "WARNING" in info.describe()
    result = check_weights(env.client, model_id, proved.weights, proved.opening_path)
    assert not result.ok and "does not match its registration" in result.reason


def test_an_unknown_model_is_an_error_for_provenance_and_a_no_for_the_check(env, proved):
    with pytest.raises(UnknownModelError):
        provenance(env.client, "0x" + "11" * 32)
    result = check_weights(env.client, "0x" + "11" * 32, proved.weights, proved.opening_path)
    assert not result.ok and result.status is None and "not registered" in result.reason
    with pytest.raises(ModelIdError):
        provenance(env.client, "0x1234")


def test_check_weights(env, proved, tmp_path):
    model_id = _register(env, proved, tmp_path)
    pending = check_weights(env.client, model_id, proved.weights, proved.opening_path)
    assert not pending.ok and pending.weights_match and pending.status is Status.PENDING
    assert "not verified" in pending.reason
    _attest(env, model_id)
    good = check_weights(env.client, model_id, proved.weights, proved.opening_path)
    assert good.ok and good.reason is None and good.to_json()["status"] == "verified"
    changed = check_weights(env.client, model_id, proved.changed_weights, proved.opening_path)
    assert not changed.ok and changed.weights_match is False and "do not recompute" in changed.reason
    initial = check_weights(env.client, model_id, proved.run_dir / "weights_initial.npz", proved.opening_path)
    assert not initial.ok and initial.weights_match is False
    shape = check_weights(env.client, model_id, proved.wrong_shape, proved.opening_path)
    assert not shape.ok and "architecture" in shape.reason
    with pytest.raises(UnusableWeightsError):
        check_weights(env.client, model_id, tmp_path / "missing.npz", proved.opening_path)
    (tmp_path / "junk.npz").write_bytes(b"not an npz")
    with pytest.raises(UnusableWeightsError):
        check_weights(env.client, model_id, tmp_path / "junk.npz", proved.opening_path)


def test_a_disputed_model_fails_the_check_even_with_the_right_weights(env, proved, tmp_path):
    model_id = _register(env, proved, tmp_path)
    _attest(env, model_id, Verdict.INVALID)
    result = check_weights(env.client, model_id, proved.weights, proved.opening_path)
    assert not result.ok and result.weights_match and "disputed" in result.reason


def test_an_opening_of_another_statement_is_unusable(env, proved, tmp_path):
    model_id = _register(env, proved, tmp_path)
    meta = json.loads(proved.opening_path.read_text())
    meta["statement_digest"] = "0x" + "22" * 32
    (tmp_path / "other.json").write_text(json.dumps(meta))
    with pytest.raises(OpeningFormatError, match="opening of statement 0x2222"):
        check_weights(env.client, model_id, proved.weights, tmp_path / "other.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(OpeningFormatError, match="not a readable weights opening"):
        check_weights(env.client, model_id, proved.weights, tmp_path / "bad.json")


def test_a_copy_registered_by_another_owner_is_named_and_fails_the_check(env, proved, tmp_path):
    """Another key registers the seller's bundle under its own address, straight on the registry
    (zkdl register would refuse): provenance names it a copy and the weight check fails, even if a
    careless verifier attested it valid."""
    from zkdl.chain.register import request_for_bundle

    request = request_for_bundle(proved.bundle, LocalStore(tmp_path / "store"))
    copy = env.client_as(env.other_owner).register_model(request).model_id
    _attest(env, copy)
    info = provenance(env.client, copy)
    assert any(f"a copy: the proof is bound to owner {env.owner.address}" in m for m in info.mismatches), info.mismatches
    assert "WARNING" in info.describe()
    result = check_weights(env.client, copy, proved.weights, proved.opening_path)
    assert not result.ok and "a copy" in result.reason
    # The owner registers its own bundle after the copy landed (front-run): both list each other, and the
    # earliest is named, though only the owner's registration is the proven model.
    original = _register(env, proved, tmp_path)
    info = provenance(env.client, original)
    proof, weights = info.copies
    assert (proof.label, proof.total, proof.earliest, proof.models) == ("proof", 2, copy, (original, copy))
    assert (weights.total, weights.earliest) == (2, copy)
    assert f"2 registrations share this proof; the earliest is 0x{copy.hex()}" in info.describe()
    assert info.to_json()["copies"][0]["earliest"] == "0x" + copy.hex()
    _attest(env, original)
    checked = check_weights(env.client, original, proved.weights, proved.opening_path)
    assert checked.ok and not checked.earliest and checked.same_weights.total == 2


def test_provenance_shows_the_data_set_record_or_that_there_is_none(env, proved, tmp_path):
    from zkdl.chain.register import register_dataset
    from zkdl.chain.structs import DatasetRequest

    model_id = _register(env, proved, tmp_path)
    info = provenance(env.client, model_id)
    assert info.dataset is None and "not registered (no data-set record" in info.describe()
    st = info.claims.statement
    record = DatasetRequest(info.model.c_data_digest, st.n_train, st.widths[0], st.widths[-1], st.data_frac_bits, keccak(b"rp"), "ipfs://d")
    register_dataset(env.client, record, sender=env.other_owner)
    info = provenance(env.client, model_id)
    assert info.dataset.request == record and info.mismatches == ()
    assert f"registered by {env.other_owner.address}" in info.describe() and info.to_json()["dataset_registered"]


def test_a_data_set_record_of_other_data_is_flagged(env, proved, tmp_path):
    from zkdl.chain.register import register_dataset
    from zkdl.chain.structs import DatasetRequest

    model_id = _register(env, proved, tmp_path)
    c_data = env.client.get_model(model_id).c_data_digest
    register_dataset(env.client, DatasetRequest(c_data, 7, 64, 10, 8, keccak(b"rp"), "ipfs://d"), sender=env.other_owner)
    info = provenance(env.client, model_id)
    assert any("says samples 7" in m for m in info.mismatches), info.mismatches


def test_a_fine_tuned_model_shows_its_registered_parent(env, proved, tmp_path, run_zkdl):
    """Another seller buys the model, fine-tunes it from the delivered weights and proves it with the
    parent's bundle and opening: provenance names the parent registration whose C_WT is the child's
    C_W0; before the parent is registered, the lineage is reported unchecked."""
    from zkdl import api

    child_dir = tmp_path / "child"
    done = run_zkdl(
        "train",
        "--out",
        str(child_dir),
        "--hidden",
        "8",
        "--batch",
        "4",
        "--steps",
        "2",
        "--init-weights",
        str(proved.weights),
        "--no-progress",
    )
    assert done.returncode == 0, done.stderr
    api.prove(child_dir, tmp_path / "child.zkdl", owner=env.other_owner.address, parent=(proved.bundle_path, proved.opening_path))
    child_id = _register(env, proved, tmp_path, owner=env.other_owner, bundle=(tmp_path / "child.zkdl").read_bytes(), store="s2")
    alone = provenance(env.client, child_id)
    assert not alone.parents and any("is not registered here" in m for m in alone.mismatches), alone.mismatches
    parent_id = _register(env, proved, tmp_path)
    info = provenance(env.client, child_id)
    assert [p.model_id for p in info.parents] == [parent_id] and not info.mismatches and info.ancestors == ()
    assert "0x" + env.client.get_model(child_id).parent_digest.hex() == api.inspect(proved.bundle)["statement_digest"]
    assert f"parent: model {'0x' + parent_id.hex()}" in info.describe()
    assert info.claims.statement.origin()["parent_statement_digest"] == api.inspect(proved.bundle)["statement_digest"]


def test_a_disputed_model_is_answered_as_disputed_even_with_its_bundle_host_down(env, proved, tmp_path):
    """No weights pass a disputed model: the buyer hears that, not that the bundle cannot be fetched."""
    model_id = _register(env, proved, tmp_path)
    _attest(env, model_id, Verdict.INVALID)
    LocalStore(tmp_path / "store").path_for(keccak(proved.bundle)).unlink()  # the host is down
    result = check_weights(env.client, model_id, proved.weights, proved.opening_path)
    assert (
        not result.ok
        and result.status is Status.DISPUTED
        and "the model is disputed (0 valid, 1 invalid attestations); its bundle is unavailable" in result.reason
    )
