"""RegistryClient against both backends (embedded eth-tester and anvil): every rule, typed errors."""

from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from zkdl.chain import AttestationRequest, DatasetRequest, IndexKind, RegistryClient, Status, Verdict, owner_key
from zkdl.chain import errors as E
from zkdl.chain.eip712 import attestation_message, registration_message, sign_attestation, typed_data_hash
from zkdl.chain.register import Outcome, RegistrationError, register_dataset


def attestation(model_id: bytes, verdict: Verdict = Verdict.VALID, **kw) -> AttestationRequest:
    fields = dict(model_id=model_id, verdict=verdict, report_digest=keccak(model_id + bytes([verdict])))
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
    digests = [req.c_data_digest, req.c_w0_digest, req.c_wt_digest, req.statement_digest, req.proof_digest, req.parent_digest]
    expected = keccak(
        abi_encode(
            ["uint256", "address", "address"] + ["bytes32"] * 7,
            [env.w3.eth.chain_id, env.client.address, env.owner.address, *digests, req.verifier_version],
        )
    )
    assert result.model_id == expected == owner.compute_model_id(env.owner.address, req) == owner.model_id_of(env.owner.address, req)
    model = owner.get_model(result.model_id)
    assert model.owner == env.owner.address and model.request == req
    assert model.registered_at == env.w3.eth.get_block(result.tx.block_number)["timestamp"]
    assert (model.registered_block, model.quorum) == (result.tx.block_number, 2)
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
        "2",
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
    assert (got.verdict, got.counted) == (Verdict.VALID, True)
    (shown,) = env.client.get_status(model_id).attestations
    assert shown.report_digest == event.report_digest == signed.attestation.report_digest
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


def test_removed_verifier_stops_counting_visibly(env, make_request):
    _, model_id = registered(env, make_request)
    for v in env.verifiers[:2]:
        env.client_as(v).attest(attestation(model_id))
    env.client.revoke_verifier(env.verifiers[1].address)
    status = env.client.get_status(model_id)
    assert (status.status, status.valid_count, status.ignored_count) == (Status.PENDING, 1, 1)
    assert [a.counted for a in status.attestations] == [True, False]
    removed = [v for v in env.client.get_verifiers() if v.removed]
    assert [(v.account, v.attestations) for v in removed] == [(env.verifiers[1].address, 1)]
    assert env.client.removed_verifier_events()[0]["verifier"] == env.verifiers[1].address
    with pytest.raises(E.QuorumAboveVerifiersError):  # 2 left for quorum 2: lower the quorum first
        env.client.revoke_verifier(env.verifiers[2].address)
    with pytest.raises(E.RenounceForbiddenError):
        env.client_as(env.verifiers[0]).renounce_role(env.client.verifier_role(), env.verifiers[0].address)


# -- administration, pause, pagination ---------------------------------------------------------------


def test_admin_rules(env):
    with pytest.raises(E.UnauthorizedAccountError) as info:
        env.client_as(env.stranger).set_quorum(1)
    assert info.value.account == env.stranger.address and info.value.neededRole == "0x" + "00" * 32
    with pytest.raises(E.InvalidQuorumError):
        env.client.set_quorum(0)
    with pytest.raises(E.InvalidQuorumError) as info:
        env.client.set_quorum(4)
    assert (info.value.quorum, info.value.maxQuorum) == (4, 3)
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
    assert list(env.client.iter_model_ids(owner=env.owner.address, page_size=3)) == ids[::-1]  # newest first
    assert env.client.get_model_ids_by(IndexKind.OWNER, owner_key(env.stranger.address)).items == ()
    with pytest.raises(E.PageOutOfRangeError) as info:
        env.client.get_model_ids(6, 1)
    assert (info.value.offset, info.value.total) == (6, 5) and isinstance(info.value, IndexError)
    with pytest.raises(E.InvalidPageSizeError):
        env.client.get_model_ids(0, 101)


def test_unlocked_node_account_can_send(env, make_request):
    # Both nodes unlock their own dev accounts; a plain address is a valid sender.
    node_account = env.w3.eth.accounts[0]
    if env.w3.eth.get_balance(node_account) == 0:
        pytest.fail("the node's first account should be funded")
    result = env.client.register_model(make_request("unlocked"), sender=node_account)
    assert env.client.get_model(result.model_id).owner == node_account


def test_constants_and_version(env):
    c = env.client
    assert c.version() == c.check_version() == "2.0.0"
    assert c.verifier_role() == keccak(text="VERIFIER_ROLE") and c.pauser_role() == keccak(text="PAUSER_ROLE")
    assert (c.max_page_size(), c.max_uri_length()) == (100, 2048)
    assert c.has_role(c.default_admin_role(), env.admin.address)
    assert c.verifier_count() == 3 and c.default_admin() == env.admin.address
    assert [v.account for v in c.get_verifiers()] == [v.address for v in env.verifiers]
    assert c.get_role_admin(c.verifier_role()) == bytes(32)
    assert c.supports_interface(bytes.fromhex("7965db0b"))
    assert c.registration_typehash() == keccak(
        text="Registration(address owner,bytes32 cDataDigest,bytes32 cW0Digest,bytes32 cWTDigest,"
        "bytes32 statementDigest,bytes32 proofDigest,bytes32 parentDigest,bytes32 verifierVersion,"
        "string bundleUri,string metadataUri,uint256 nonce,uint256 deadline)"
    )
    assert c.attestation_typehash() == keccak(
        text="Attestation(address verifier,bytes32 modelId,uint8 verdict,bytes32 reportDigest,uint256 nonce,uint256 deadline)"
    )


def test_renounce_role_needs_self_confirmation(env):
    role = env.client.pauser_role()
    with pytest.raises(E.BadConfirmationError):
        env.client.renounce_role(role, env.verifiers[1].address)
    env.client.renounce_role(role, env.admin.address)
    assert not env.client.has_role(role, env.admin.address)


def test_no_sender_is_a_clear_error(env, make_request):
    with pytest.raises(E.RegistryError, match="sender"):
        RegistryClient(env.w3, env.client.address).register_model(make_request("x"))


# -- registry v2: records, data sets, indexes, fees, versions ------------------------------------------


def test_a_verdict_names_the_whole_record(env, make_request):
    """The id hashes every digest: a registration differing in one digest only is another model, and a
    signature for one does not count for the other."""
    _, model_id = registered(env, make_request)
    other = env.client_as(env.owner).register_model(make_request("m0", statement_digest=keccak(text="other"))).model_id
    assert other != model_id
    signed = env.client.sign_attestation(env.verifiers[0], attestation(model_id))
    moved = type(signed)(signed.verifier, attestation(other), signed.nonce, signed.deadline, signed.signature)
    with pytest.raises(E.InvalidSignatureError):
        env.client_as(env.relayer).attest_by_sig(moved)


def test_signature_lifetime_is_capped(env, make_request):
    longest = env.client.max_signature_ttl()
    assert longest == 30 * 24 * 3600
    with pytest.raises(ValueError, match="at most"):
        env.client.deadline_in(longest + 1)
    far = env.w3.eth.get_block("latest")["timestamp"] + 10 * longest
    with pytest.raises(E.DeadlineTooFarError):
        env.client_as(env.relayer).register_model_by_sig(env.client.sign_registration(env.owner, make_request("far"), deadline=far))


def test_indexes_list_copies_and_the_parent(env, make_request):
    req, original = registered(env, make_request)
    copy = env.client_as(env.stranger).register_model(req).model_id
    assert env.client.first_model_by(IndexKind.PROOF, req.proof_digest) == (original, 2)
    assert list(env.client.iter_model_ids_by(IndexKind.WEIGHTS, req.c_wt_digest, page_size=1)) == [copy, original]
    child = make_request("child", parent_digest=req.statement_digest)
    child_id = env.client_as(env.owner).register_model(child).model_id
    assert env.client.get_model(child_id).parent_digest == req.statement_digest
    assert list(env.client.iter_model_ids_by(IndexKind.STATEMENT, req.statement_digest)) == [copy, original]
    assert env.client.first_model_by(IndexKind.PROOF, keccak(text="none")) == (None, 0)


def test_register_dataset_is_idempotent_and_keeps_the_first_record(env, make_request):
    request = DatasetRequest(keccak(text="m0/C_data"), 1797, 64, 10, 8, keccak(text="range"), "ipfs://digits")
    first = register_dataset(env.client, request, sender=env.owner)
    assert first.outcome is Outcome.REGISTERED and first.tx_hash is not None
    assert (first.dataset.owner, first.dataset.request) == (env.owner.address, request)
    again = register_dataset(env.client, request, sender=env.owner)
    assert (again.outcome, again.tx_hash, again.dataset) == (Outcome.ALREADY_REGISTERED, None, first.dataset)
    with pytest.raises(RegistrationError, match=f"already registered by {env.owner.address}"):
        register_dataset(env.client, request, sender=env.stranger)
    with pytest.raises(RegistrationError, match="other fields"):
        register_dataset(env.client, DatasetRequest(*request.as_tuple()[:6], "ipfs://elsewhere"), sender=env.owner)
    with pytest.raises(RegistrationError, match="samples"):
        register_dataset(env.client, DatasetRequest(keccak(text="d2"), 0, 64, 10, 8, keccak(text="r"), "u"), sender=env.owner)
    _, model_id = registered(env, make_request)
    assert list(env.client.iter_model_ids_by(IndexKind.DATASET, request.dataset_id)) == [model_id]
    with pytest.raises(E.UnknownDatasetError):
        env.client.get_dataset(keccak(text="unknown"))


def test_the_fee_is_paid_by_registrations_and_earned_by_verifiers(env, make_request):
    env.client.set_attestation_fee(10**12)
    assert env.client.registration_fee() == 3 * 10**12
    with pytest.raises(E.FeeTooLowError) as info:
        env.client_as(env.owner).register_model(make_request("cheap"), fee=1)
    assert (info.value.paid, info.value.required) == (1, 3 * 10**12)
    _, model_id = registered(env, make_request)  # pays registration_fee() by default
    env.client_as(env.verifiers[0]).attest(attestation(model_id, Verdict.INVALID))
    assert env.client.rewards_of(env.verifiers[0].address) == 10**12
    before = env.w3.eth.get_balance(env.stranger.address)
    env.client_as(env.verifiers[0]).withdraw_rewards(env.stranger.address)
    assert env.w3.eth.get_balance(env.stranger.address) - before == 10**12
    with pytest.raises(E.NothingToWithdrawError):
        env.client_as(env.verifiers[0]).withdraw_rewards(env.stranger.address)


def test_a_registry_of_another_version_is_refused_by_name(env):
    class OldRegistry(RegistryClient):
        def version(self) -> str:
            return "1.0.0"

    with pytest.raises(E.RegistryVersionError, match="version 1.0.0; this zkdl speaks registry version 2"):
        OldRegistry(env.w3, env.client.address).check_version()


def test_shared_names_the_count_the_earliest_and_the_newest(env, make_request):
    req, original = registered(env, make_request)
    copy = env.client_as(env.stranger).register_model(req).model_id
    shared = env.client.shared(IndexKind.PROOF, req.proof_digest, listed=1)
    assert (shared.label, shared.total, shared.earliest, shared.models) == ("proof", 2, original, (copy,))
    assert shared.to_json()["earliest"] == "0x" + original.hex()
    assert env.client.shared(IndexKind.WEIGHTS, keccak(text="nobody")) is None
