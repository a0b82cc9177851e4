"""RegistryClient against both backends (embedded eth-tester and anvil): every rule, typed errors."""

from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from zkdl.chain import AttestationRequest, RegistryClient, Status, Verdict
from zkdl.chain import errors as E
from zkdl.chain.eip712 import attestation_message, registration_message, sign_attestation, typed_data_hash


def attestation(model_id: bytes, verdict: Verdict = Verdict.VALID, **kw) -> AttestationRequest:
    fields = dict(
        model_id=model_id,
        verdict=verdict,
        verifier_version=keccak(text="zkdl-verifier/1"),
        report_digest=keccak(model_id + bytes([verdict])),
    )
    fields.update(kw)
    return AttestationRequest(**fields)


def registered(env, make_request, tag="m0"):
    req = make_request(tag)
    return req, env.client_as(env.owner).register_model(req).model_id


# -- registration ------------------------------------------------------------------------------------


def test_register_stores_everything_and_derives_the_documented_id(env, make_request):
    owner = env.client_as(env.owner)
    req = make_request("a")
    result = owner.register_model(req)
    expected = keccak(
        abi_encode(
            ["uint256", "address", "address", "bytes32", "bytes32"],
            [env.w3.eth.chain_id, env.client.address, env.owner.address, req.c_wt_digest, req.proof_digest],
        )
    )
    assert result.model_id == expected == owner.compute_model_id(env.owner.address, req.c_wt_digest, req.proof_digest)
    model = owner.get_model(result.model_id)
    assert model.owner == env.owner.address and model.request == req
    assert model.registered_at == env.w3.eth.get_block(result.tx.block_number)["timestamp"]
    assert not model.revoked and owner.model_exists(result.model_id)
    assert [e["event"] for e in result.tx.events] == ["ModelRegistered"]
    (event,) = owner.registered_events(from_block=result.tx.block_number)
    assert (event.model_id, event.owner, event.request, event.submitter) == (result.model_id, env.owner.address, req, env.owner.address)


def test_retried_registration_raises_model_already_registered(env, make_request):
    req, model_id = registered(env, make_request)
    with pytest.raises(E.ModelAlreadyRegisteredError) as info:
        env.client_as(env.owner).register_model(req)
    assert info.value.modelId == "0x" + model_id.hex()
    assert info.value.code == "ZkdlRegistryModelAlreadyRegistered"
    assert "already registered" in str(info.value) and "get_model" in str(info.value)


def test_missing_field_and_long_uri_are_typed_value_errors(env, make_request):
    owner = env.client_as(env.owner)
    with pytest.raises(E.MissingFieldError) as info:
        owner.register_model(make_request("z", proof_digest=bytes(32)))
    assert info.value.field == "proofDigest" and isinstance(info.value, ValueError)
    with pytest.raises(E.UriTooLongError) as info:
        owner.register_model(make_request("l", bundle_uri="x" * 2049))
    assert (info.value.field, info.value.length, info.value.maxLength) == ("bundleUri", 2049, 2048)


def test_register_by_sig_lets_a_relayer_pay(env, make_request):
    req = make_request("sig")
    signed = env.client.sign_registration(env.owner, req)
    result = env.client_as(env.relayer).register_model_by_sig(signed)
    model = env.client.get_model(result.model_id)
    assert model.owner == env.owner.address
    assert env.client.nonce_used(env.owner.address, signed.nonce)
    (event,) = env.client.registered_events(from_block=result.tx.block_number)
    assert event.submitter == env.relayer.address
    # A replay of the very same signature is recognised as the duplicate it is.
    with pytest.raises(E.ModelAlreadyRegisteredError):
        env.client_as(env.stranger).register_model_by_sig(signed)


def test_signature_for_another_chain_or_registry_is_rejected(env, make_request):
    req = make_request("wrong")
    deadline = env.client.deadline_in()
    from zkdl.chain import sign_registration

    for chain_id, registry in [(1, env.client.address), (env.w3.eth.chain_id, env.stranger.address)]:
        signed = sign_registration(env.owner, chain_id, registry, req, deadline=deadline)
        with pytest.raises(E.InvalidSignatureError) as info:
            env.client_as(env.relayer).register_model_by_sig(signed)
        assert info.value.signer == env.owner.address


def test_expired_and_reused_nonce_are_rejected(env, make_request):
    relayer = env.client_as(env.relayer)
    past = env.w3.eth.get_block("latest")["timestamp"] - 1
    with pytest.raises(E.ExpiredSignatureError) as info:
        relayer.register_model_by_sig(env.client.sign_registration(env.owner, make_request("e"), deadline=past))
    assert info.value.deadline == past and info.value.timestamp > past
    relayer.register_model_by_sig(env.client.sign_registration(env.owner, make_request("n1"), nonce=5))
    with pytest.raises(E.NonceAlreadyUsedError) as info:
        relayer.register_model_by_sig(env.client.sign_registration(env.owner, make_request("n2"), nonce=5))
    assert (info.value.signer, info.value.nonce) == (env.owner.address, 5)


def test_cancelled_nonce_voids_a_signed_registration(env, make_request):
    signed = env.client.sign_registration(env.owner, make_request("c"))
    env.client_as(env.owner).cancel_nonce(signed.nonce)
    with pytest.raises(E.NonceAlreadyUsedError):
        env.client_as(env.relayer).register_model_by_sig(signed)


def test_python_eip712_digests_equal_the_contract(env, make_request):
    req = make_request("hash")
    chain_id, registry = env.w3.eth.chain_id, env.client.address
    msg = registration_message(chain_id, registry, env.owner.address, req, 7, 1234)
    assert typed_data_hash(msg) == env.client.hash_registration(env.owner.address, req, 7, 1234)
    att = attestation(keccak(text="m"), Verdict.INVALID)
    msg = attestation_message(chain_id, registry, env.verifiers[0].address, att, 8, 99)
    assert typed_data_hash(msg) == env.client.hash_attestation(env.verifiers[0].address, att, 8, 99)
    domain = env.client.eip712_domain()
    assert (domain["name"], domain["version"], domain["chainId"], domain["verifyingContract"]) == (
        "ZkdlModelRegistry",
        "1",
        chain_id,
        registry,
    )


# -- attestations and status ---------------------------------------------------------------------------


def test_status_goes_pending_verified_disputed_revoked(env, make_request):
    _, model_id = registered(env, make_request)
    v1, v2, v3 = (env.client_as(v) for v in env.verifiers)
    assert env.client.get_status(model_id).status is Status.PENDING
    v1.attest(attestation(model_id))
    assert env.client.get_status(model_id).status is Status.PENDING
    v2.attest(attestation(model_id))
    status = env.client.get_status(model_id)
    assert (status.status, status.valid_count, status.quorum) == (Status.VERIFIED, 2, 2)
    assert [a.verifier for a in status.attestations] == [env.verifiers[0].address, env.verifiers[1].address]
    v3.attest(attestation(model_id, Verdict.INVALID))
    status = env.client.get_status(model_id)
    assert (status.status, status.valid_count, status.invalid_count) == (Status.DISPUTED, 2, 1)
    tx = env.client_as(env.owner).revoke_model(model_id)
    status = env.client.get_status(model_id)
    assert status.status is Status.REVOKED
    assert status.revoked_at == env.w3.eth.get_block(tx.block_number)["timestamp"]
    with pytest.raises(E.RevokedModelError):
        env.client_as(env.owner).revoke_model(model_id)


def test_attest_by_sig_is_relayed_and_final(env, make_request):
    _, model_id = registered(env, make_request)
    signed = env.client.sign_attestation(env.verifiers[0], attestation(model_id))
    tx = env.client_as(env.relayer).attest_by_sig(signed)
    (event,) = env.client.attested_events(from_block=tx.block_number)
    assert (event.model_id, event.verifier, event.verdict, event.submitter) == (
        model_id,
        env.verifiers[0].address,
        Verdict.VALID,
        env.relayer.address,
    )
    got = env.client.get_attestation(model_id, env.verifiers[0].address)
    assert (got.verdict, got.report_digest) == (Verdict.VALID, signed.attestation.report_digest)
    with pytest.raises(E.AlreadyAttestedError) as info:
        env.client_as(env.relayer).attest_by_sig(signed)
    assert info.value.verdict == Verdict.VALID
    with pytest.raises(E.AlreadyAttestedError):  # a second, different verdict is refused too
        env.client_as(env.verifiers[0]).attest(attestation(model_id, Verdict.INVALID))


def test_attestation_errors_are_typed(env, make_request):
    _, model_id = registered(env, make_request)
    stranger = env.client_as(env.stranger)
    with pytest.raises(E.UnauthorizedVerifierError) as info:
        stranger.attest(attestation(model_id))
    assert info.value.account == env.stranger.address and isinstance(info.value, PermissionError)
    v1 = env.client_as(env.verifiers[0])
    with pytest.raises(E.InvalidVerdictError):
        v1.attest(attestation(model_id, Verdict.NONE))
    other = keccak(text="zkdl-verifier/2")
    with pytest.raises(E.VerifierVersionMismatchError) as info:
        v1.attest(attestation(model_id, verifier_version=other))
    assert info.value.actual == "0x" + other.hex()
    with pytest.raises(E.UnknownModelError):
        v1.attest(attestation(keccak(text="nope")))
    # A forged signature claiming to be verifier 1, and verifier 1's signature replayed on another chain.
    forged = sign_attestation(
        env.stranger,
        env.w3.eth.chain_id,
        env.client.address,
        attestation(model_id),
        deadline=env.client.deadline_in(),
        verifier=env.verifiers[0].address,
    )
    with pytest.raises(E.InvalidSignatureError):
        env.client_as(env.relayer).attest_by_sig(forged)
    other_chain = sign_attestation(env.verifiers[0], 999, env.client.address, attestation(model_id), deadline=env.client.deadline_in())
    with pytest.raises(E.InvalidSignatureError):
        env.client_as(env.relayer).attest_by_sig(other_chain)


def test_removed_verifier_stops_counting(env, make_request):
    _, model_id = registered(env, make_request)
    for v in env.verifiers[:2]:
        env.client_as(v).attest(attestation(model_id))
    env.client.revoke_verifier(env.verifiers[1].address)
    status = env.client.get_status(model_id)
    assert (status.status, status.valid_count, status.ignored_count) == (Status.PENDING, 1, 1)
    assert env.client.get_role_members(env.client.verifier_role()) == [env.verifiers[0].address, env.verifiers[2].address]


# -- administration, pause, pagination ---------------------------------------------------------------


def test_admin_rules(env):
    with pytest.raises(E.UnauthorizedAccountError) as info:
        env.client_as(env.stranger).set_quorum(1)
    assert info.value.account == env.stranger.address and info.value.neededRole == "0x" + "00" * 32
    with pytest.raises(E.InvalidQuorumError):
        env.client.set_quorum(0)
    env.client.set_quorum(3)
    assert env.client.quorum() == 3


def test_pause_blocks_writes_but_not_reads(env, make_request):
    _, model_id = registered(env, make_request)
    env.client.pause()
    assert env.client.paused()
    with pytest.raises(E.RegistryPausedError):
        env.client_as(env.owner).register_model(make_request("p"))
    with pytest.raises(E.RegistryPausedError):
        env.client_as(env.verifiers[0]).attest(attestation(model_id))
    assert env.client.get_status(model_id).status is Status.PENDING
    env.client_as(env.owner).revoke_model(model_id)  # owners can always withdraw
    env.client.unpause()
    with pytest.raises(E.RegistryNotPausedError):
        env.client.unpause()


def test_pagination(env, make_request):
    owner = env.client_as(env.owner)
    ids = [owner.register_model(make_request(f"p{i}")).model_id for i in range(5)]
    page = env.client.get_model_ids(0, 2)
    assert (page.items, page.total, page.next_offset) == (tuple(ids[:2]), 5, 2)
    assert env.client.get_model_ids(4, 2).next_offset is None
    assert list(env.client.iter_model_ids(page_size=2)) == ids
    assert list(env.client.iter_model_ids(owner=env.owner.address, page_size=3)) == ids
    assert env.client.get_model_ids_by_owner(env.stranger.address).items == ()
    with pytest.raises(E.PageOutOfRangeError) as info:
        env.client.get_model_ids(6, 1)
    assert (info.value.offset, info.value.total) == (6, 5) and isinstance(info.value, IndexError)
    with pytest.raises(E.InvalidPageSizeError):
        env.client.get_model_ids(0, 101)
    assert env.client.get_attestations(ids[0]).items == ()


def test_unlocked_node_account_can_send(env, make_request):
    # Both nodes unlock their own dev accounts; a plain address is a valid sender.
    node_account = env.w3.eth.accounts[0]
    if env.w3.eth.get_balance(node_account) == 0:
        pytest.fail("the node's first account should be funded")
    result = env.client.register_model(make_request("unlocked"), sender=node_account)
    assert env.client.get_model(result.model_id).owner == node_account


def test_constants_and_version(env):
    c = env.client
    assert c.version() == "1.0.0"
    assert c.verifier_role() == keccak(text="VERIFIER_ROLE") and c.pauser_role() == keccak(text="PAUSER_ROLE")
    assert (c.max_page_size(), c.max_uri_length()) == (100, 2048)
    assert c.has_role(c.default_admin_role(), env.admin.address)
    assert c.get_role_member_count(c.verifier_role()) == 3
    assert c.get_role_member(c.verifier_role(), 0) == env.verifiers[0].address
    assert c.get_role_admin(c.verifier_role()) == bytes(32)
    assert c.supports_interface(bytes.fromhex("7965db0b"))
    assert c.registration_typehash() == keccak(
        text="Registration(address owner,bytes32 cDataDigest,bytes32 cW0Digest,bytes32 cWTDigest,"
        "bytes32 statementDigest,bytes32 proofDigest,bytes32 verifierVersion,string bundleUri,"
        "string metadataUri,uint256 nonce,uint256 deadline)"
    )
    assert c.attestation_typehash() == keccak(
        text="Attestation(address verifier,bytes32 modelId,uint8 verdict,bytes32 verifierVersion,"
        "bytes32 reportDigest,uint256 nonce,uint256 deadline)"
    )


def test_renounce_role_needs_self_confirmation(env):
    role = env.client.verifier_role()
    v1 = env.client_as(env.verifiers[0])
    with pytest.raises(E.BadConfirmationError):
        v1.renounce_role(role, env.verifiers[1].address)
    v1.renounce_role(role, env.verifiers[0].address)
    assert not env.client.has_role(role, env.verifiers[0].address)


def test_no_sender_is_a_clear_error(env, make_request):
    with pytest.raises(E.RegistryError, match="sender"):
        RegistryClient(env.w3, env.client.address).register_model(make_request("x"))
