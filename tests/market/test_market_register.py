"""zkdl.chain.register on the embedded chain: the bundle in, one registration out, whatever the retries."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from zkdl import api
from zkdl.chain.keys import AccountKeyError, load_account
from zkdl.chain.outbox import SqlOutbox
from zkdl.chain.register import (
    VERIFIER_VERSION,
    VERIFIER_VERSION_TAG,
    Outcome,
    RegistrationError,
    register_bundle,
)
from zkdl.chain.relayer import Relayer
from zkdl.proof.bundle import BundleFormatError
from zkdl.store import LocalStore


def _register(
    env,
    proved,
    tmp_path,
    *,
    by_signature: bool,
    owner=None,
    outbox: str = "outbox.sqlite",
    store: str = "store",
    bundle: bytes | None = None,
    **kw,
):
    owner = owner or env.owner
    sender = env.relayer if by_signature else owner
    box = SqlOutbox(tmp_path / outbox)
    try:
        relayer = Relayer(env.w3, env.client, sender, box, poll_interval_s=0.01)
        return register_bundle(
            proved.bundle if bundle is None else bundle,
            client=env.client,
            relayer=relayer,
            store=LocalStore(tmp_path / store),
            owner_account=owner,
            by_signature=by_signature,
            timeout_s=60,
            **kw,
        )
    finally:
        box.close()


def _registrations(env, model_id: bytes) -> int:
    return sum(1 for e in env.client.registered_events() if e.model_id == model_id)


def test_the_verifier_version_is_keccak_of_the_protocol_tag():
    assert VERIFIER_VERSION_TAG == b"zkdl/training/v7" and keccak(VERIFIER_VERSION_TAG) == VERIFIER_VERSION


@pytest.mark.parametrize("by_signature", [False, True], ids=["direct", "by-signature"])
def test_register_builds_the_request_from_the_bundle(env, proved, tmp_path, by_signature):
    result = _register(env, proved, tmp_path, by_signature=by_signature, metadata_uri="ipfs://meta")
    info = api.inspect(proved.bundle)
    model = env.client.get_model(result.model_id)
    assert result.outcome is Outcome.REGISTERED and result.tx_hash is not None
    assert result.model_id == env.client.compute_model_id(env.owner.address, model.request)
    assert model.parent_digest == bytes(32)  # not fine-tuned: no parent
    assert model.owner == env.owner.address
    assert "0x" + model.proof_digest.hex() == info["proof_digest"] == "0x" + keccak(proved.bundle).hex()
    assert "0x" + model.statement_digest.hex() == info["statement_digest"]
    assert {k: "0x" + getattr(model, f"{k}_digest").hex() for k in ("c_data", "c_w0", "c_wt")} == info["commitment_digests"]
    assert model.verifier_version == VERIFIER_VERSION and model.metadata_uri == "ipfs://meta"
    stored = LocalStore(tmp_path / "store").path_for(model.proof_digest)
    assert model.bundle_uri == stored.as_uri() and stored.read_bytes() == proved.bundle
    (event,) = [e for e in env.client.registered_events() if e.model_id == result.model_id]
    assert event.submitter == (env.relayer.address if by_signature else env.owner.address)
    assert result.to_json()["outcome"] == "registered"


@pytest.mark.parametrize("by_signature", [False, True], ids=["direct", "by-signature"])
def test_registering_twice_is_a_no_op_with_the_same_model_id(env, proved, tmp_path, by_signature):
    first = _register(env, proved, tmp_path, by_signature=by_signature)
    nonce = env.w3.eth.get_transaction_count(first.submitter)
    again = _register(env, proved, tmp_path, by_signature=by_signature)  # same outbox
    fresh = _register(env, proved, tmp_path, by_signature=by_signature, outbox="other.sqlite")  # another one
    assert first.model_id == again.model_id == fresh.model_id
    assert again.outcome is Outcome.ALREADY_REGISTERED and fresh.outcome is Outcome.ALREADY_REGISTERED
    assert env.w3.eth.get_transaction_count(first.submitter) == nonce  # nothing sent
    assert _registrations(env, first.model_id) == 1
    other = SqlOutbox(tmp_path / "other.sqlite")
    assert other.intents() == []  # the chain said "done" first: nothing was queued
    other.close()


def test_another_owner_cannot_register_a_copy_and_gets_another_model_id_for_its_own_proof(env, proved, tmp_path):
    """The proof is bound to its owner: another key registering the same bundle is refused before
    anything is sent (a copy); the same run proven for that key is its own model."""
    mine = _register(env, proved, tmp_path, by_signature=True)
    with pytest.raises(RegistrationError, match=f"a copy: the proof is bound to owner {env.owner.address}"):
        _register(env, proved, tmp_path, by_signature=True, owner=env.other_owner)
    own = proved.for_owner(env.other_owner.address).read_bytes()
    theirs = _register(env, proved, tmp_path, by_signature=True, owner=env.other_owner, bundle=own)
    assert mine.model_id != theirs.model_id and theirs.outcome is Outcome.REGISTERED
    assert env.client.get_model(theirs.model_id).owner == env.other_owner.address


def test_a_refused_registration_raises_the_decoded_revert(env, proved, tmp_path):
    env.client.pause()
    with pytest.raises(RegistrationError, match="the registry is paused"):
        _register(env, proved, tmp_path, by_signature=True)
    env.client.unpause()
    # The refusal is final in that outbox (the first payload wins); the error says what to do.
    with pytest.raises(RegistrationError, match="new outbox"):
        _register(env, proved, tmp_path, by_signature=True)
    assert _register(env, proved, tmp_path, by_signature=True, outbox="new.sqlite").outcome is Outcome.REGISTERED


def test_a_direct_registration_needs_the_relayer_on_the_owner_key(env, proved, tmp_path):
    box = SqlOutbox(tmp_path / "o.sqlite")
    relayer = Relayer(env.w3, env.client, env.relayer, box)
    with pytest.raises(RegistrationError, match="sent by its owner"):
        register_bundle(
            proved.bundle, client=env.client, relayer=relayer, store=LocalStore(tmp_path / "s"), owner_account=env.owner, by_signature=False
        )
    box.close()


def test_a_malformed_bundle_is_refused_before_anything_is_stored(env, proved, tmp_path):
    with pytest.raises(BundleFormatError):
        _register(env, proved, tmp_path, by_signature=True, bundle=proved.bundle[:200])
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").iterdir())


def test_keys_come_from_the_environment_or_a_keystore(env, tmp_path):
    import json

    from eth_account import Account

    key = "0x" + env.owner.key.hex().removeprefix("0x")
    assert load_account("owner", {"ZKDL_OWNER_KEY": key}).address == env.owner.address
    with pytest.raises(AccountKeyError, match=r"no owner key: set \$ZKDL_OWNER_KEY"):
        load_account("owner", {})
    assert load_account("relayer", {}, required=False) is None
    with pytest.raises(AccountKeyError, match="not a valid private key") as err:
        load_account("owner", {"ZKDL_OWNER_KEY": "0x1234"})
    assert "1234" not in str(err.value)
    (tmp_path / "k.json").write_text(json.dumps(Account.encrypt(env.owner.key, "pw", iterations=2)))
    got = load_account("owner", {"ZKDL_OWNER_KEYSTORE": str(tmp_path / "k.json"), "ZKDL_OWNER_KEYSTORE_PASSWORD": "pw"})
    assert got.address == env.owner.address
    with pytest.raises(AccountKeyError, match="cannot decrypt"):
        load_account("owner", {"ZKDL_OWNER_KEYSTORE": str(tmp_path / "k.json"), "ZKDL_OWNER_KEYSTORE_PASSWORD": "no"})


def test_an_unfunded_sender_fails_fast(env, proved, tmp_path):
    from eth_account import Account

    owner = Account.create()
    with pytest.raises(RegistrationError, match="has no ether"):
        _register(env, proved, tmp_path, by_signature=False, owner=owner, bundle=proved.for_owner(owner.address).read_bytes())


def test_a_queued_registration_is_finished_with_the_keys_that_queued_it(env, proved, tmp_path):
    from zkdl.chain.register import request_for_bundle

    box = SqlOutbox(tmp_path / "outbox.sqlite")
    Relayer(env.w3, env.client, env.owner, box).enqueue_registration(
        request_for_bundle(proved.bundle, LocalStore(tmp_path / "store"))
    )  # queued, then "crashed"
    box.close()
    with pytest.raises(RegistrationError, match="already queued in this outbox to be sent by"):
        _register(env, proved, tmp_path, by_signature=True)
    assert _register(env, proved, tmp_path, by_signature=False).outcome is Outcome.REGISTERED  # resumed


def test_a_sender_that_cannot_pay_the_fee_fails_fast_and_a_funded_one_pays_it(env, proved, tmp_path):
    env.client.set_attestation_fee(10**18)
    poor = env.relayer.address  # left with less than 1 ETH (the fee: one verifier) once its transfer's gas is paid
    env.w3.eth.send_transaction({"from": poor, "to": env.admin.address, "value": env.w3.eth.get_balance(poor) - 10**18})
    with pytest.raises(RegistrationError, match=r"not enough for the registry's fee of 1000000000000000000 wei"):
        _register(env, proved, tmp_path, by_signature=True)
    env.w3.eth.send_transaction({"from": env.admin.address, "to": poor, "value": 10**19})
    result = _register(env, proved, tmp_path, by_signature=True)
    assert result.outcome is Outcome.REGISTERED and env.client.reward_pool() == 10**18
