"""The relayer and its outbox on both chain backends (embedded eth-tester and anvil) and both outbox
backends (SQLite and PostgreSQL): idempotency, signatures relayed, reverts decoded, crash windows,
stuck transactions, taken nonces, nonce allocation under concurrency.

The kill/restart, RPC outage and reorg tests are in test_relayer_faults.py; connection losses and
open errors of the PostgreSQL outbox in test_outbox_postgres.py."""

from __future__ import annotations

import random
import time

import pytest
from eth_utils import keccak
from web3 import Web3

from tests.pgserver import run_concurrently, run_sql
from zkdl.chain import AttestationRequest, Status, Verdict
from zkdl.chain.client import model_id_for
from zkdl.chain.outbox import (
    OUTCOME_EXISTING,
    OUTCOME_INCLUDED,
    IntentKind,
    IntentState,
    OutboxError,
    SignedTx,
    SqlOutbox,
)
from zkdl.chain.relayer import Relayer, RelayerError, bundle_request
from zkdl.store import LocalStore, fetch

VERSION = keccak(text="zkdl-verifier/1")


@pytest.fixture
def outbox(db_location):
    box = SqlOutbox(db_location)
    yield box
    box.close()


def make_relayer(env, outbox, **kw) -> Relayer:
    kw.setdefault("confirmations", 1)
    kw.setdefault("poll_interval_s", 0.02)
    return Relayer(env.w3, env.client_as(env.relayer), env.relayer, outbox, **kw)


def attestation(model_id: bytes, verdict: Verdict = Verdict.VALID) -> AttestationRequest:
    return AttestationRequest(model_id, verdict, keccak(model_id + bytes([verdict])))


def chain_nonce(env) -> int:
    return env.w3.eth.get_transaction_count(env.relayer.address)


def registrations_of(env, model_id: bytes) -> int:
    return sum(e.model_id == model_id for e in env.client.registered_events())


def test_local_model_id_matches_the_contract(env, make_request):
    req = make_request("id")
    expected = env.client.compute_model_id(env.owner.address, req)
    assert model_id_for(env.client.chain_id, env.client.address, env.owner.address, req) == expected


def test_registers_each_model_once_and_duplicates_return_the_same_intent(env, outbox, make_request):
    relayer = make_relayer(env, outbox)
    before = chain_nonce(env)
    intents = [relayer.enqueue_registration(make_request(f"r{i}")) for i in range(3)]
    assert relayer.enqueue_registration(make_request("r1")).id == intents[1].id
    assert relayer.run_until_idle(30).idle
    for intent in intents:
        done = outbox.get(intent.id)
        assert (done.state, done.outcome, done.receipt_status) == (IntentState.CONFIRMED, OUTCOME_INCLUDED, 1)
        assert env.client.get_model(done.model_id).owner == env.relayer.address
        assert registrations_of(env, done.model_id) == 1
    assert chain_nonce(env) == before + 3
    assert sorted(outbox.get(i.id).nonce for i in intents) == list(range(before, before + 3))
    # Enqueuing a finished registration again changes nothing and sends nothing.
    assert relayer.enqueue_registration(make_request("r0")).state is IntentState.CONFIRMED
    assert relayer.process_once().idle and chain_nonce(env) == before + 3


def test_relays_signed_registrations_and_attestations(env, outbox, make_request):
    relayer = make_relayer(env, outbox)
    signed = env.client.sign_registration(env.owner, make_request("sig"))
    reg = relayer.enqueue_signed_registration(signed)
    assert relayer.run_until_idle(30).idle
    model_id = outbox.get(reg.id).model_id
    assert env.client.get_model(model_id).owner == env.owner.address
    atts = [relayer.enqueue_attestation(env.client.sign_attestation(v, attestation(model_id))) for v in env.verifiers[:2]]
    again = relayer.enqueue_attestation(env.client.sign_attestation(env.verifiers[0], attestation(model_id)))
    assert again.id == atts[0].id and again.kind is IntentKind.ATTEST_BY_SIG
    assert relayer.run_until_idle(30).idle
    assert all(outbox.get(a.id).outcome == OUTCOME_INCLUDED for a in atts)
    assert env.client.get_status(model_id).status is Status.VERIFIED


def test_work_already_on_chain_is_confirmed_without_sending(env, outbox, make_request):
    req = make_request("pre")
    env.client_as(env.owner).register_model(req)  # e.g. a previous relayer run that lost its outbox
    model_id = env.client.compute_model_id(env.owner.address, req)
    env.client.attest_by_sig(env.client.sign_attestation(env.verifiers[0], attestation(model_id)), sender=env.owner)
    relayer = make_relayer(env, outbox)
    before = chain_nonce(env)
    reg = relayer.enqueue_signed_registration(env.client.sign_registration(env.owner, req))
    att = relayer.enqueue_attestation(env.client.sign_attestation(env.verifiers[0], attestation(model_id)))
    assert relayer.run_until_idle(30).idle
    for intent in (reg, att):
        done = outbox.get(intent.id)
        assert (done.state, done.outcome) == (IntentState.CONFIRMED, OUTCOME_EXISTING)
        assert outbox.txs(intent.id) == []
    assert chain_nonce(env) == before


def test_a_revert_is_a_terminal_failure_with_the_decoded_reason(env, outbox, make_request):
    relayer = make_relayer(env, outbox)
    reg = relayer.enqueue_registration(make_request("rev"))
    assert relayer.run_until_idle(30).idle
    model_id = outbox.get(reg.id).model_id
    bad = relayer.enqueue_attestation(env.client.sign_attestation(env.stranger, attestation(model_id)))
    expired = relayer.enqueue_signed_registration(env.client.sign_registration(env.owner, make_request("late"), deadline=1))
    before = chain_nonce(env)
    assert relayer.run_until_idle(30).idle
    assert outbox.get(bad.id).state is IntentState.FAILED
    assert "is not an authorised verifier" in outbox.get(bad.id).error
    assert "signature expired" in outbox.get(expired.id).error
    assert chain_nonce(env) == before and outbox.txs(bad.id) == []  # refused before a nonce was spent


def test_crash_after_broadcast_before_the_outbox_heard_of_it(env, outbox, make_request):
    relayer = make_relayer(env, outbox)
    intent = relayer.enqueue_registration(make_request("crash"))
    real_send = env.w3.eth.send_raw_transaction

    def send_then_die(raw):
        real_send(raw)
        raise SystemExit("killed between broadcast and the outbox write")

    env.w3.eth.send_raw_transaction = send_then_die
    with pytest.raises(SystemExit):
        relayer.process_once()
    del env.w3.eth.send_raw_transaction
    assert outbox.get(intent.id).state is IntentState.SIGNED
    before = env.w3.eth.get_transaction_count(env.relayer.address, "pending")  # anvil may not have mined it yet
    restarted = make_relayer(env, SqlOutbox(outbox.location))
    assert restarted.run_until_idle(30).idle
    restarted.outbox.close()
    done = outbox.get(intent.id)
    assert (done.state, done.outcome) == (IntentState.CONFIRMED, OUTCOME_INCLUDED)
    assert chain_nonce(env) == before and registrations_of(env, done.model_id) == 1
    assert len(outbox.txs(intent.id)) == 1


def test_a_nonce_taken_by_another_transaction_is_given_up_and_resigned(env, outbox, make_request):
    relayer = make_relayer(env, outbox)
    intent = relayer.enqueue_registration(make_request("taken"))

    def refuse(raw):
        raise ConnectionError("node unreachable")

    env.w3.eth.send_raw_transaction = refuse
    report = relayer.process_once()
    del env.w3.eth.send_raw_transaction
    assert "node unreachable" in report.rpc_error and not report.idle
    first_nonce = outbox.get(intent.id).nonce
    env.client_as(env.relayer).register_model(make_request("other"))  # same key, outside the relayer
    assert chain_nonce(env) == first_nonce + 1
    assert relayer.run_until_idle(30).idle
    done = outbox.get(intent.id)
    assert done.state is IntentState.CONFIRMED and done.nonce == first_nonce + 1
    assert [tx.nonce for tx in outbox.txs(intent.id)] == [first_nonce, first_nonce + 1]


def test_store_then_register_a_bundle(env, outbox, tmp_path):
    relayer = make_relayer(env, outbox)
    store = LocalStore(tmp_path / "bundles")
    bundle = b"a proof bundle" * 100
    digests = dict(
        c_data_digest=keccak(b"d"),
        c_w0_digest=keccak(b"w0"),
        c_wt_digest=keccak(b"wt"),
        statement_digest=keccak(b"s"),
        verifier_version=VERSION,
    )
    intent = relayer.register_bundle(store, bundle, **digests)
    assert relayer.enqueue_registration(bundle_request(store, bundle, **digests)).id == intent.id
    assert relayer.run_until_idle(30).idle
    model = env.client.get_model(outbox.get(intent.id).model_id)
    assert fetch(model.bundle_uri, model.proof_digest) == bundle


def test_configuration_errors(env, outbox, make_request):
    with pytest.raises(RelayerError, match="fee_bump"):
        make_relayer(env, outbox, fee_bump=1.1)
    with pytest.raises(RelayerError, match="confirmations"):
        make_relayer(env, outbox, confirmations=-1)
    # One outbox key is handled by one relayer key: a second relayer does not take it over.
    make_relayer(env, outbox).enqueue_signed_registration(env.client.sign_registration(env.owner, make_request("k")))
    other = Relayer(env.w3, env.client_as(env.stranger), env.stranger, outbox, confirmations=0)
    with pytest.raises(RelayerError, match="already in the outbox"):
        other.enqueue_signed_registration(env.client.sign_registration(env.owner, make_request("k")))


# -- anvil only: a mempool that holds transactions ----------------------------------------------------

# These tests run on anvil only: the embedded chain mines every transaction at once, so it has no
# mempool in which a transaction can wait (they override the chain fixture's backends).
anvil_only = pytest.mark.parametrize("chain", ["anvil"], indirect=True)


@pytest.fixture
def manual_mining(chain, request):
    env = request.getfixturevalue("env")
    env.w3.provider.make_request("evm_setAutomine", [False])
    yield env
    env.w3.provider.make_request("evm_setAutomine", [True])


def mine(w3: Web3, blocks: int = 1) -> None:
    for _ in range(blocks):
        w3.provider.make_request("evm_mine", [])


@anvil_only
def test_a_stuck_transaction_is_replaced_with_both_fees_bumped(manual_mining, outbox, make_request):
    env = manual_mining
    relayer = make_relayer(env, outbox, stuck_after_s=0)
    head = relayer.enqueue_registration(make_request("stuck"))
    behind = relayer.enqueue_registration(make_request("behind"))
    relayer.process_once()  # signed and broadcast; no block comes
    relayer.process_once()  # still pending after stuck_after_s: the head is replaced
    first, second = outbox.txs(head.id)
    assert first.nonce == second.nonce
    assert second.max_fee_per_gas >= first.max_fee_per_gas * 9 / 8
    assert second.max_priority_fee_per_gas >= first.max_priority_fee_per_gas * 9 / 8
    assert len(outbox.txs(behind.id)) == 1  # waits for the head: not underpriced, not bumped
    mine(env.w3)
    assert relayer.run_until_idle(30).idle
    done = outbox.get(head.id)
    assert done.state is IntentState.CONFIRMED and done.tx_hash == second.tx_hash
    assert registrations_of(env, done.model_id) == 1 and registrations_of(env, behind.model_id) == 1


@anvil_only
def test_no_replacement_above_the_fee_cap(manual_mining, outbox, make_request):
    env = manual_mining
    # The cap is the market fee itself (no block is mined meanwhile): the first fee hits it.
    cap = 2 * env.w3.eth.get_block("latest")["baseFeePerGas"] + env.w3.eth.max_priority_fee
    relayer = make_relayer(env, outbox, stuck_after_s=0, max_fee_cap_wei=cap)
    intent = relayer.enqueue_registration(make_request("capped"))
    relayer.process_once()
    relayer.process_once()
    (only,) = outbox.txs(intent.id)
    assert only.max_fee_per_gas == cap
    assert "fee cap" in outbox.get(intent.id).error
    mine(env.w3)
    assert relayer.run_until_idle(30).idle


@anvil_only
def test_a_mined_revert_is_decoded_at_its_block(manual_mining, outbox, make_request):
    env = manual_mining
    owner = env.client_as(env.owner)
    env.w3.provider.make_request("evm_setAutomine", [True])
    model_id = owner.register_model(make_request("mrev")).model_id
    env.w3.provider.make_request("evm_setAutomine", [False])
    relayer = make_relayer(env, outbox)
    signed = env.client.sign_attestation(env.verifiers[0], attestation(model_id))
    intent = relayer.enqueue_attestation(signed)
    relayer.process_once()  # estimated, signed, broadcast: waiting in the mempool
    assert outbox.get(intent.id).state is IntentState.SENT
    # The verifier cancels that very nonce with a higher tip: mined first, ours then reverts.
    verifier = env.client_as(env.verifiers[0]).contract.functions.cancelNonce(signed.nonce)
    tx = verifier.build_transaction(
        {
            "from": env.verifiers[0].address,
            "nonce": env.w3.eth.get_transaction_count(env.verifiers[0].address),
            "maxPriorityFeePerGas": 10**11,
            "maxFeePerGas": 10**12,
        }
    )
    env.w3.eth.send_raw_transaction(env.verifiers[0].sign_transaction(tx).raw_transaction)
    mine(env.w3)
    assert relayer.run_until_idle(30).idle
    done = outbox.get(intent.id)
    assert (done.state, done.receipt_status) == (IntentState.FAILED, 0)
    assert "already used or cancelled" in done.error


# -- the outbox on its own ----------------------------------------------------------------------------


def fake_tx(nonce: int) -> SignedTx:
    return SignedTx(keccak(nonce.to_bytes(8, "big")), nonce, 21_000, 2, 1, b"raw")


def enqueue(box: SqlOutbox, key: str, payload: dict | None = None):
    return box.enqueue(
        key=key, kind=IntentKind.REGISTER, chain_id=1, registry="0xR", sender="0xS", model_id=bytes(32), payload=payload or {}
    )


def test_outbox_connections_never_hand_out_a_nonce_twice(db_location):
    SqlOutbox(db_location).close()  # create the schema once
    per_worker, workers = 8, 3

    def work(w: int) -> None:
        box = SqlOutbox(db_location)  # one connection per thread, as one per process
        try:
            for i in range(per_worker):
                intent = enqueue(box, f"k{w}-{i}")
                box.assign_nonce_and_sign(intent.id, 0, fake_tx)  # every worker thinks the chain is at 0
        finally:
            box.close()

    run_concurrently(workers, work)
    box = SqlOutbox(db_location)
    intents = box.intents()
    assert sorted(i.nonce for i in intents) == list(range(per_worker * workers))
    assert box.assign_nonce_and_sign(intents[0].id, 0, fake_tx) is None  # already signed: untouched
    assert enqueue(box, "k0-0", {"other": 1}).id == box.by_key("k0-0").id
    box.close()


def test_relayers_sharing_a_key_sign_each_intent_once(db_location):
    """Every process of the key works on every intent at once: each is signed by exactly one of
    them (no double send), and no nonce is handed out twice."""
    SqlOutbox(db_location).close()
    keys, workers = [f"shared-{i}" for i in range(12)], 4
    signed: list[tuple[int, str, int]] = []

    def work(w: int) -> None:
        box = SqlOutbox(db_location)
        order = random.Random(w).sample(keys, len(keys))
        try:
            for key in order:

                def sign(nonce: int, key: str = key) -> SignedTx:
                    time.sleep(0.002)  # widen the window between the pending check and the commit
                    signed.append((w, key, nonce))
                    return SignedTx(keccak(f"{w}/{key}/{nonce}".encode()), nonce, 21_000, 2, 1, b"raw")

                box.assign_nonce_and_sign(enqueue(box, key).id, 0, sign)
        finally:
            box.close()

    run_concurrently(workers, work)
    box = SqlOutbox(db_location)
    assert sorted(key for _, key, _ in signed) == sorted(keys), signed
    intents = box.intents()
    assert all(i.state is IntentState.SIGNED and len(box.txs(i.id)) == 1 for i in intents)
    assert sorted(i.nonce for i in intents) == list(range(len(keys)))
    box.close()


def test_first_opens_of_a_new_sqlite_outbox_at_once_all_succeed(tmp_path):
    """The service's loop and workers open the same new file together: converting it to WAL makes
    SQLite answer "locked" without waiting, which must not reach them (it once stopped a service)."""
    for trial in range(100):
        path = tmp_path / f"outbox-{trial}.sqlite"
        run_concurrently(6, lambda w, path=path: SqlOutbox(path).close())
        assert SqlOutbox(path).intents() == []


def test_outbox_refuses_another_schema_version(db_location):
    SqlOutbox(db_location).close()
    run_sql(db_location, "zkdl_outbox", "UPDATE meta SET value = '99' WHERE name = 'schema'")
    with pytest.raises(OutboxError, match="schema version 99, this zkdl expects 2; upgrade zkdl"):
        SqlOutbox(db_location)
    run_sql(db_location, "zkdl_outbox", "UPDATE meta SET value = '0' WHERE name = 'schema'")
    with pytest.raises(OutboxError, match="schema version 0, .* or use a new database"):
        SqlOutbox(db_location)


def test_an_outbox_of_schema_1_is_upgraded_with_its_intents(db_location):
    box = SqlOutbox(db_location)
    kept = box.enqueue(key="k", kind=IntentKind.REGISTER, chain_id=1, registry="0xr", sender="0xs", model_id=b"m", payload={})
    box.close()
    run_sql(db_location, "zkdl_outbox", "DROP TABLE chains")
    run_sql(db_location, "zkdl_outbox", "UPDATE meta SET value = '1' WHERE name = 'schema'")
    box = SqlOutbox(db_location)
    assert box.by_key("k") == kept and box.genesis_of(1, b"g" * 32) == b"g" * 32
    box.close()


def test_an_outbox_of_another_chain_with_the_same_id_is_refused_before_anything_is_sent(env, outbox, make_request):
    """A development node restarted keeps its chain id: the outbox's nonces and transactions belong
    to the chain it first used (its block 0), and this node's would meet them."""
    relayer = make_relayer(env, outbox)
    outbox.genesis_of(env.client.chain_id, b"\x01" * 32)  # what a relayer on the earlier chain recorded
    relayer.enqueue_registration(make_request("reset"))
    before = chain_nonce(env)
    with pytest.raises(RelayerError, match="holds transactions of another chain with id .*use a new outbox"):
        relayer.process_once()
    assert chain_nonce(env) == before and outbox.intents()[0].state is IntentState.PENDING


def test_the_outbox_records_the_chain_it_relays_on(env, outbox, make_request):
    relayer = make_relayer(env, outbox)
    relayer.enqueue_registration(make_request("first"))
    assert relayer.run_until_idle(30).idle
    genesis = bytes(env.w3.eth.get_block(0)["hash"])
    assert outbox.genesis_of(env.client.chain_id, b"\x02" * 32) == genesis  # the first record stands


def test_outbox_file_that_cannot_be_opened(tmp_path):
    (tmp_path / "a-file").write_text("not a directory")
    with pytest.raises(OutboxError, match="cannot open the relayer outbox .*directory exists and is writable"):
        SqlOutbox(tmp_path / "a-file" / "outbox.sqlite")
    assert SqlOutbox(f"sqlite:///{tmp_path}/url.sqlite").path == f"{tmp_path}/url.sqlite"


def test_pays_the_registry_fee_when_it_registers(env, outbox, make_request):
    env.client.set_attestation_fee(10**9)
    relayer = make_relayer(env, outbox)
    intent = relayer.enqueue_signed_registration(env.client.sign_registration(env.owner, make_request("fee")))
    assert relayer.run_until_idle(30).idle
    assert outbox.get(intent.id).outcome == OUTCOME_INCLUDED
    assert env.client.reward_pool() == env.client.registration_fee() == 3 * 10**9
