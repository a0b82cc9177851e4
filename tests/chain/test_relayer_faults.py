"""Faults a relayer must survive, on real anvil nodes started per test:

* SIGKILL at seeded random points of a batch of registrations, then restart: none lost, none
  duplicated, no nonce gap (with a SQLite and with a PostgreSQL outbox);
* the RPC node disappears (state dumped) and comes back (state loaded) on the same port;
* reorgs shallower than the confirmation depth: the dropped transaction is included again exactly
  once, a transaction moved to another block is followed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from tests.chain.conftest import ROOT, request_for
from tests.localnode import anvil, free_port
from zkdl.chain import RegistryClient, deploy_registry
from zkdl.chain.outbox import OUTCOME_INCLUDED, IntentState, SqlOutbox
from zkdl.chain.relayer import Relayer

WORKER = Path(__file__).with_name("relayer_worker.py")
SEED = 20261121
BATCHES, COUNT = 2, 5
# A worker passes 12 crash points per registration of a fresh batch: 6 outbox changes or broadcasts
# (enqueue, sign, broadcast, sent, mined, confirmed), each with a point before and one after.
POINTS_PER_REGISTRATION = 12


def setup_registry(w3: Web3, accounts: list[LocalAccount]) -> tuple[RegistryClient, LocalAccount]:
    admin, relayer = accounts[0], accounts[5]
    for account in (admin, relayer):
        w3.provider.make_request("anvil_setBalance", [account.address, hex(10**22)])
    record = deploy_registry(w3, admin)
    return RegistryClient(w3, record.address, admin), relayer


def mine(w3: Web3, blocks: int = 1) -> None:
    for _ in range(blocks):
        w3.provider.make_request("evm_mine", [])


def assert_each_registered_once(w3: Web3, client: RegistryClient, outbox: SqlOutbox, relayer: LocalAccount, count: int) -> None:
    intents = outbox.intents()
    assert len(intents) == count and len({i.key for i in intents}) == count
    assert all((i.state, i.outcome) == (IntentState.CONFIRMED, OUTCOME_INCLUDED) for i in intents), [
        (i.key, i.state, i.outcome, i.error) for i in intents
    ]
    per_model = Counter(e.model_id for e in client.registered_events())
    assert sorted(per_model.values()) == [1] * count and set(per_model) == {i.model_id for i in intents}
    # One transaction per registration and no gap: nonces 0..count-1, none left pending.
    assert w3.eth.get_transaction_count(relayer.address) == count
    assert w3.eth.get_transaction_count(relayer.address, "pending") == count
    assert sorted(i.nonce for i in intents) == list(range(count))


def run_worker(
    url: str, registry: str, outbox: str, key: bytes, batch: int, crash_at: int | None = None, kill_after_s: float | None = None
) -> int:
    """Run the worker to its end, or SIGKILL it `kill_after_s` after it enqueued its batch."""
    cmd = [sys.executable, str(WORKER), url, registry, outbox, str(batch), str(COUNT), "--timeout", "60"]
    if crash_at is not None:
        cmd += ["--crash-at", str(crash_at)]
    env = dict(os.environ, ZKDL_TEST_RELAYER_KEY="0x" + bytes(key).hex(), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        if kill_after_s is not None and proc.stdout.readline() == "enqueued\n":
            time.sleep(kill_after_s)
            proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=90)
        print(f"worker batch {batch} crash_at={crash_at} kill_after_s={kill_after_s}: {proc.returncode} {out.strip()}")
        return proc.returncode
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigkill_at_random_points_neither_loses_nor_duplicates(db_location, accounts):
    rng = random.Random(SEED)
    # Interval mining: transactions wait in the mempool, so kills also hit the sent/mined states.
    with anvil(free_port(), "--block-time", "0.5") as w3:
        client, relayer = setup_registry(w3, accounts)
        url = w3.provider.endpoint_uri
        kills = []
        for batch in range(BATCHES):
            # Two kills at crash points (the second one into the restarted, shorter run), one from
            # outside at a random time after the batch is enqueued, then a run to completion.
            runs = [
                dict(crash_at=rng.randrange(POINTS_PER_REGISTRATION * COUNT)),
                dict(crash_at=rng.randrange(POINTS_PER_REGISTRATION * COUNT // 2)),
                dict(kill_after_s=rng.uniform(0.0, 1.0)),
                {},
            ]
            for run in runs:
                code = run_worker(url, client.address, db_location, relayer.key, batch, **run)
                assert code in (0, -signal.SIGKILL), (batch, run, code)
                kills.append((batch, run)) if code else None
            assert code == 0, f"batch {batch} did not finish"
        # The first kill of a batch always lands (it is within a fresh batch's points).
        assert len(kills) >= BATCHES, kills
        assert_each_registered_once(w3, client, SqlOutbox(db_location), relayer, BATCHES * COUNT)


def test_rpc_node_disappears_and_returns(tmp_path, accounts):
    port, state = free_port(), tmp_path / "anvil-state.json"
    outbox = SqlOutbox(tmp_path / "outbox.sqlite")
    with anvil(port, "--dump-state", str(state)) as w3:
        client, key = setup_registry(w3, accounts)
        relayer = Relayer(w3, RegistryClient(w3, client.address), key, outbox, confirmations=3, poll_interval_s=0.02, max_backoff_s=0.2)
        for i in range(2):
            relayer.enqueue_registration(request_for(f"rpc-{i}"))
        relayer.process_once()
        relayer.process_once()  # both mined, not yet 3 deep
        w3.provider.make_request("evm_setAutomine", [False])
        for i in range(2, 4):
            relayer.enqueue_registration(request_for(f"rpc-{i}"))
        relayer.process_once()  # broadcast, waiting in the mempool when the node goes away
    before = [(i.state, i.nonce) for i in outbox.intents()]
    assert [s for s, _ in before] == [IntentState.MINED] * 2 + [IntentState.SENT] * 2

    report = relayer.process_once()
    assert report.rpc_error and not report.idle
    assert relayer.run_until_idle(0.5).rpc_error
    assert [(i.state, i.nonce) for i in outbox.intents()] == before  # nothing lost, nothing invented
    relayer.enqueue_registration(request_for("rpc-4"))  # enqueuing needs no node

    with anvil(port, "--load-state", str(state)) as w3:  # same port: the relayer's URL works again
        for _ in range(40):
            if relayer.process_once().idle:
                break
            mine(w3)
        assert_each_registered_once(w3, relayer.client, outbox, key, 5)


def test_reorg_drops_the_transaction_and_it_is_included_again_once(tmp_path, accounts):
    with anvil(free_port()) as w3:
        client, key = setup_registry(w3, accounts)
        outbox = SqlOutbox(tmp_path / "outbox.sqlite")
        relayer = Relayer(w3, RegistryClient(w3, client.address), key, outbox, confirmations=3)
        snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
        intent = relayer.enqueue_registration(request_for("reorg"))
        relayer.process_once()
        relayer.process_once()
        mined = outbox.get(intent.id)
        assert mined.state is IntentState.MINED
        mine(w3)  # 2 deep, confirmations=3: not final yet

        w3.provider.make_request("evm_revert", [snapshot])  # a 2-block reorg: our block is gone
        mine(w3, 2)
        assert w3.eth.get_block(mined.block_number)["hash"] != mined.block_hash
        relayer.process_once()  # receipt gone: back to sent, broadcast again (automine includes it)
        assert outbox.get(intent.id).reorgs == 1
        for _ in range(10):
            if relayer.process_once().idle:
                break
            mine(w3)
        done = outbox.get(intent.id)
        assert (done.state, done.outcome, done.reorgs) == (IntentState.CONFIRMED, OUTCOME_INCLUDED, 1)
        assert done.block_hash != mined.block_hash
        assert len(outbox.txs(intent.id)) == 1  # the very same signed transaction, never re-signed
        assert_each_registered_once(w3, client, outbox, key, 1)


def test_reorg_moving_the_transaction_to_another_block_is_followed(tmp_path, accounts):
    with anvil(free_port()) as w3:
        client, key = setup_registry(w3, accounts)
        outbox = SqlOutbox(tmp_path / "outbox.sqlite")
        relayer = Relayer(w3, RegistryClient(w3, client.address), key, outbox, confirmations=2)
        intent = relayer.enqueue_registration(request_for("moved"))
        relayer.process_once()
        relayer.process_once()
        mined = outbox.get(intent.id)
        raw = outbox.txs(intent.id)[0].raw
        # Replace the last block by one holding the same transaction (a 1-block reorg).
        w3.provider.make_request("anvil_reorg", [1, [["0x" + raw.hex(), 0]]])
        relayer.process_once()
        moved = outbox.get(intent.id)
        assert moved.state is IntentState.MINED and moved.reorgs == 1
        assert moved.block_number == mined.block_number and moved.block_hash != mined.block_hash
        mine(w3, 2)
        assert relayer.process_once().idle
        assert_each_registered_once(w3, client, outbox, key, 1)
