"""The verifier service as real processes (`zkdl serve`, uvicorn) on a real node (anvil), with the
registering relayer and the buyer as separate clients: quorum of two verifiers, the provenance page
in headless Chromium, bad inputs, a restart mid-job (with the database on SQLite and on PostgreSQL), a
node outage, a shallow reorg."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest
from browser import CHROMIUM_FLAGS, chromium
from eth_utils import keccak
from svc_support import (
    ServiceProcess,
    TricklingServer,
    anvil,
    free_port,
    mine,
    model_hex,
    request_for,
    services,
    setup_registry,
    wait_until,
    write_toml,
)

from zkdl.chain import RegistryClient, Status, Verdict
from zkdl.chain.outbox import SqlOutbox
from zkdl.chain.relayer import Relayer
from zkdl.service.config import ServiceConfig
from zkdl.store import LocalStore


def register(w3, client: RegistryClient, relayer_account, owner, request, outbox: Path) -> bytes:
    """The registering side: the owner signs, a relayer (its own outbox) submits."""
    relayer = Relayer(w3, RegistryClient(w3, client.address), relayer_account, SqlOutbox(outbox))
    intent = relayer.enqueue_signed_registration(client.sign_registration(owner, request))
    report = relayer.run_until_idle(30)
    assert report.idle, report
    return intent.model_id


def dump_dom(url: str, profile: Path) -> str:
    out = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def visible_text(dom: str) -> str:
    text = re.sub(r"<style.*?</style>", " ", dom, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", text)


def test_two_verifiers_reach_quorum_and_a_buyer_sees_it_on_the_page(tmp_path, bundle, accounts):
    admin, v1, v2, owner, relayer = accounts[0], accounts[1], accounts[2], accounts[4], accounts[5]
    with anvil() as w3:
        client = setup_registry(w3, admin, [v1, v2], [owner, relayer], quorum=2)
        store_dir = tmp_path / "store"
        # the bundle is served from 127.0.0.1
        one = ServiceProcess.on(tmp_path, client, v1, "--bundle-dir", str(store_dir), "--allow-local", name="verifier-1")
        two = ServiceProcess.on(tmp_path, client, v2, "--allow-local", name="verifier-2")
        with services(one, two):
            one.start()
            two.start()
            # The bundle is published in verifier 1's store and fetched by both over HTTP.
            digest, _ = LocalStore(store_dir, base_url=one.url + "/bundles").put(bundle["bytes"])
            uri = f"{one.url}/bundles/{digest.hex()}.zkdl"
            assert one.get(f"/bundles/{digest.hex()}.zkdl").content == bundle["bytes"]
            mid = register(w3, client, relayer, owner, request_for(bundle, uri), tmp_path / "reg.sqlite")
            for svc in (one, two):
                job = svc.wait_job(mid, ("attested",))
                assert job["verdict"] == "valid" and job["proof_bytes"] == len(bundle["bytes"])
            # The buyer is one more independent client of the chain.
            buyer = RegistryClient(w3, client.address)
            status = wait_until("status Verified", lambda: (s := buyer.get_status(mid)).status is Status.VERIFIED and s)
            assert (status.valid_count, status.invalid_count, status.quorum) == (2, 0, 2)
            assert {a.verifier for a in status.attestations} == {v1.address, v2.address}
            assert [e.verifier for e in buyer.attested_events()].count(v1.address) == 1

            view = one.json(f"/models/{model_hex(mid)}")
            assert view["chain"]["status"] == "verified" and view["chain_live"] is True
            assert view["statement"]["statement"]["widths"] == [64, 8, 10]
            assert one.get(f"/models/{model_hex(mid)}/report").content  # the report behind the digest
            models = one.json("/models")["models"]
            assert [m["model_id"] for m in models] == [model_hex(mid)]

            dom = dump_dom(f"{one.url}/models/{model_hex(mid)}/page", tmp_path / "chromium-profile")
            text = visible_text(dom)
            assert 'id="status">Verified<' in dom
            for expected in (
                "Model provenance",
                "2 valid of quorum 2, 0 invalid",
                "MLP 64-8-10",
                "2 SGD steps, batch 4, learning rate 2^-10",
                bundle["info"]["statement_digest"],
                bundle["info"]["commitment_digests"]["c_data"],
                bundle["info"]["commitment_digests"]["c_w0"],
                bundle["info"]["commitment_digests"]["c_wt"],
                v1.address,
                v2.address,
                owner.address,
                "Proof size",
                f"{len(bundle['bytes']):,} bytes",
                "Verification time",
            ):
                assert expected in text, (expected, text[:3000])
            assert re.search(r"Verification time \d+\.\d\d s", text), text
            # What a buyer acts on: the report behind the digest, the bundle, the registry record, the command.
            assert f'<a href="/models/{model_hex(mid)}/report" id="report-link">' in dom
            assert f'<a href="{uri}" rel="nofollow noopener noreferrer" id="bundle-link"' in dom
            assert f"chain {w3.eth.chain_id}, registry" in text and client.address in text
            assert (
                f"zkdl check-weights {model_hex(mid)} weights_final.npz --opening run.zkdl.opening.json --registry {client.address}" in text
            )
            assert "2 verifiers attested the proof of this training run valid; this registry needs 2 for this model" in text


def test_bad_inputs_get_their_verdicts_and_the_service_keeps_running(tmp_path, bundle, other_bundle, accounts):
    admin, v1, owner, relayer = accounts[0], accounts[1], accounts[4], accounts[5]
    with anvil() as w3:
        client = setup_registry(w3, admin, [v1], [owner, relayer])
        store = LocalStore(tmp_path / "store")
        data = bundle["bytes"]
        _, good_uri = store.put(data)
        t_digest, t_uri = store.put(data[: len(data) // 3])
        big_digest, big_uri = store.put(b"\x01" * (len(data) + 10_000))
        _, other_uri = store.put(b"not the registered bundle")
        dead = f"http://127.0.0.1:{free_port()}/bundles/x.zkdl"
        k = lambda t: keccak(text=t)  # noqa: E731
        cases = {
            "unreachable": request_for(bundle, dead, c_wt_digest=k("1")),
            "oversized": request_for(bundle, big_uri, proof_digest=big_digest, c_wt_digest=k("2")),
            "digest-mismatch": request_for(bundle, other_uri, c_wt_digest=k("3")),
            "truncated": request_for(bundle, t_uri, proof_digest=t_digest, c_wt_digest=k("4")),
            "another-statement": request_for(bundle, good_uri, statement_digest=k("another statement")),
        }
        config = write_toml(
            tmp_path / "service.toml",
            {
                "max_bundle_bytes": len(data) + 100,
                "max_attempts": 2,
                "retry_base_s": 0.2,
                "fetch_timeout_s": 3,
                "fetch_retry_window_s": 0,
                "allow_local": True,  # the dead host is 127.0.0.1
            },
        )
        svc = ServiceProcess.on(tmp_path, client, v1, "--config", str(config), "--file-root", str(store.root))
        with services(svc):
            svc.start()
            ids = {name: register(w3, client, relayer, owner, req, tmp_path / "reg.sqlite") for name, req in cases.items()}
            _, other_uri = store.put(other_bundle["bytes"])
            good = register(w3, client, relayer, accounts[6], request_for(other_bundle, other_uri), tmp_path / "reg.sqlite")
            assert svc.wait_job(good, ("attested",))["verdict"] == "valid"
            expect = {
                "oversized": "bundle-too-large",
                "truncated": "malformed-bundle",
                "another-statement": "statement-mismatch",
            }
            for name, code in expect.items():
                job = svc.wait_job(ids[name], ("attested",))
                view = svc.json(f"/models/{model_hex(ids[name])}")
                assert job["verdict"] == "invalid" and view["report"]["code"] == code, (name, job)
                assert client.get_attestation(ids[name], v1.address).verdict is Verdict.INVALID
            for name, error in (("unreachable", "unreachable: "), ("digest-mismatch", "not the registered proof")):
                job = svc.wait_job(ids[name], ("unavailable",))  # only the registered bytes can be judged
                assert error in job["error"] and "gave up after 2 attempts" in job["error"] and job["verdict"] is None
                assert client.get_attestation(ids[name], v1.address).verdict is Verdict.NONE
            health = svc.json("/health")
            assert health["status"] == "ok" and health["jobs"]["attested"] == 4 and health["jobs"]["unavailable"] == 2
            metrics = svc.get("/metrics").text
            assert 'zkdl_bundle_fetch_errors_total{kind="not-registered-bytes"} 2.0' in metrics
            assert 'zkdl_jobs{state="attested"} 4.0' in metrics
            assert svc.get("/models/0x1234").status_code == 422
            assert svc.get(f"/models/{model_hex(good)}%0A").status_code == 422  # a trailing newline is not an id
            assert svc.get(f"/jobs?offset={2**63}").status_code == 422 and svc.get(f"/models?offset={2**63}").status_code == 422
            assert svc.get("/models/0x" + "00" * 32).status_code == 404
            page = svc.get(f"/models/{model_hex(ids['another-statement'])}/page").text
            assert "Disputed" in page and "another statement" in page
            assert svc.proc.poll() is None


def test_a_trickling_bundle_host_does_not_hold_up_a_valid_model(tmp_path, bundle, other_bundle, accounts):
    """One registration's host sends its bundle one byte a second (the whole would take hours); a
    valid model registered right behind it is verified while the trickler is still connected, and
    the trickler is cut at the fetch deadline each time, then given up as unavailable."""
    admin, v1, owner, other_owner, relayer = accounts[0], accounts[1], accounts[4], accounts[6], accounts[5]
    deadline = 10.0
    trickler = TricklingServer(bundle["bytes"], interval=1.0)
    with anvil() as w3:
        client = setup_registry(w3, admin, [v1], [owner, other_owner, relayer])
        store = LocalStore(tmp_path / "store")
        _, good_uri = store.put(other_bundle["bytes"])
        limits = ["--fetch-timeout", str(deadline), "--max-attempts", "2", "--retry-base-s", "0.5", "--fetch-retry-window-s", "0"]
        # the trickler is on 127.0.0.1
        svc = ServiceProcess.on(tmp_path, client, v1, "--allow-local", "--file-root", str(store.root), *limits)
        with services(svc):
            svc.start()
            slow = register(w3, client, relayer, owner, request_for(bundle, trickler.url + "/b.zkdl"), tmp_path / "reg.sqlite")
            good = register(w3, client, relayer, other_owner, request_for(other_bundle, good_uri), tmp_path / "reg.sqlite")
            assert svc.wait_job(good, ("verified", "attested"), timeout=60)["verdict"] == "valid"
            verified_at = time.monotonic()
            first_fetch_began = trickler.connections[0][0]
            assert verified_at < first_fetch_began + deadline, "the valid model waited for the trickler's fetch to be cut"
            job = svc.wait_job(slow, ("unavailable",), timeout=60)
            assert job["error"].startswith("timed out: ") and "gave up after 2 attempts" in job["error"], job
            assert client.get_attestation(slow, v1.address).verdict is Verdict.NONE
            # The server notices a hang-up at its next byte, a second later: each connection lasted the deadline.
            closed = lambda: [end - start for start, end in trickler.connections if end is not None]  # noqa: E731
            held = wait_until("the trickler to see both fetches cut", lambda: len(closed()) == 2 and closed(), timeout=10)
            assert all(seconds < deadline + 2.5 for seconds in held), held
    trickler.close()


@pytest.mark.parametrize("crash_at", ["fetched", "enqueued"])
def test_a_restart_mid_job_never_attests_twice(tmp_path, db_location, bundle, accounts, crash_at):
    admin, v1, owner, relayer = accounts[0], accounts[1], accounts[4], accounts[5]
    with anvil() as w3:
        client = setup_registry(w3, admin, [v1], [owner, relayer])
        store = LocalStore(tmp_path / "store")
        _, uri = store.put(bundle["bytes"])
        svc = ServiceProcess.on(tmp_path, client, v1, "--bundle-dir", str(store.root), "--lease", "3", env={"ZKDL_DB": db_location})
        with services(svc):
            svc.start(extra_env={"ZKDL_TEST_CRASH_AT": crash_at})
            mid = register(w3, client, relayer, owner, request_for(bundle, uri), tmp_path / "reg.sqlite")
            assert svc.wait_exit(90) == -9, svc.tail()  # SIGKILLed itself mid-job
            outbox = SqlOutbox(ServiceConfig(db=db_location).outbox_path)
            assert len(outbox.intents()) == (1 if crash_at == "enqueued" else 0)
            svc.start()  # the same database and outbox; the lease expires, the job is taken again
            job = svc.wait_job(mid, ("attested",))
            assert job["verdict"] == "valid" and job["attempts"] == 2
            assert [e.verifier for e in client.attested_events()] == [v1.address]
            intents = outbox.intents()
            assert len(intents) == 1 and intents[0].state.value == "confirmed" and intents[0].outcome == "included"
            assert w3.eth.get_transaction_count(v1.address) == 1  # one attestation transaction, ever
            assert svc.terminate() == 0  # SIGTERM: clean exit
            outbox.close()


def test_the_rpc_node_disappears_and_returns(tmp_path, bundle, other_bundle, accounts):
    admin, v1, owner, relayer = accounts[0], accounts[1], accounts[4], accounts[5]
    port, state = free_port(), tmp_path / "anvil-state.json"
    store = LocalStore(tmp_path / "store")
    _, uri = store.put(bundle["bytes"])
    with anvil(port, "--dump-state", str(state)) as w3:
        client = setup_registry(w3, admin, [v1], [owner, relayer])
        svc = ServiceProcess.on(tmp_path, client, v1, "--bundle-dir", str(store.root))
        svc.start()
        first = register(w3, client, relayer, owner, request_for(bundle, uri), tmp_path / "reg.sqlite")
        svc.wait_job(first, ("attested",))
        wait_until("the cached status", lambda: svc.json(f"/models/{model_hex(first)}")["chain"]["status"] == "verified")
    with services(svc):
        # The node is gone: the service stays up, says so, and serves what it knows.
        health = wait_until("health to report the outage", lambda: (h := svc.json("/health"))["rpc_ok"] is False and h)
        assert health["status"] == "degraded" and health["threads_alive"]
        view = svc.json(f"/models/{model_hex(first)}")
        assert view["chain_live"] is False and view["chain"]["status"] == "verified"
        cached = svc.get(f"/models/{model_hex(first)}/page").text
        assert "the last status this service read" in cached
        assert f"--registry {client.address}</pre>" in cached  # the buyer's command names the registry all the same
        assert svc.proc.poll() is None
        with anvil(port, "--load-state", str(state)) as w3:
            wait_until("health to recover", lambda: svc.json("/health")["rpc_ok"] is True)
            client = RegistryClient(w3, client.address, admin)
            _, other_uri = store.put(other_bundle["bytes"])
            second = register(w3, client, relayer, accounts[6], request_for(other_bundle, other_uri), tmp_path / "reg2.sqlite")
            assert svc.wait_job(second, ("attested",))["verdict"] == "valid"
            assert client.get_status(second).status is Status.VERIFIED
            assert sorted(e.model_id for e in client.attested_events()) == sorted([first, second])


def test_a_reorg_shallower_than_the_confirmation_depth_is_never_seen(tmp_path, bundle, other_bundle, accounts):
    admin, v1, owner = accounts[0], accounts[1], accounts[4]
    with anvil() as w3:
        client = setup_registry(w3, admin, [v1], [owner, accounts[6]])
        store = LocalStore(tmp_path / "store")
        _, uri = store.put(bundle["bytes"])
        svc = ServiceProcess.on(tmp_path, client, v1, "--bundle-dir", str(store.root), env={"ZKDL_CONFIRMATIONS": "3"})
        with services(svc):
            svc.start()
            snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
            dropped = client.register_model(request_for(bundle, uri, metadata_uri="dropped"), sender=owner).model_id
            mine(w3)  # 2 deep, confirmations 3: not seen yet
            head = w3.eth.block_number
            diagnose = lambda: f"node head {w3.eth.block_number}, health {svc.json('/health')}\n{svc.tail()}"  # noqa: E731
            wait_until("the watcher to reach the head", lambda: svc.json("/health")["head"] == head, on_timeout=diagnose)
            assert svc.job(dropped) is None
            w3.provider.make_request("evm_revert", [snapshot])  # a 2-block reorg removes the registration
            mine(w3, 4)
            assert not client.model_exists(dropped)
            head = w3.eth.block_number
            wait_until("the watcher to pass the reorg", lambda: svc.json("/health")["safe_head"] == head - 2, on_timeout=diagnose)
            assert svc.json("/jobs")["total"] == 0
            _, other_uri = store.put(other_bundle["bytes"])
            kept = client.register_model(request_for(other_bundle, other_uri, metadata_uri="kept"), sender=accounts[6]).model_id
            mine(w3, 2)
            assert svc.wait_job(kept, ("verified", "attested"))["verdict"] == "valid"
            mine(w3, 3)
            svc.wait_job(kept, ("attested",))
            assert [j["model_id"] for j in svc.json("/jobs")["jobs"]] == [model_hex(kept)]
            assert [e.model_id for e in client.attested_events()] == [kept]


def test_the_loop_recovers_when_its_outbox_cannot_be_opened_at_first(tmp_path, bundle, accounts, monkeypatch):
    """A failure half-way through building the watcher and relayer (here the outbox, as when SQLite
    reports a locked database) is retried whole: the service goes on to attest."""
    import sqlite3
    import threading

    from zkdl.service import service as service_module

    admin, v1, owner, relayer = accounts[0], accounts[1], accounts[4], accounts[5]
    loop_opens: list[str] = []

    def outbox_locked_once_for_the_loop(location):
        if threading.current_thread().name == "zkdl-loop":
            loop_opens.append(str(location))
            if len(loop_opens) == 1:
                raise sqlite3.OperationalError("database is locked")
        return SqlOutbox(location)

    monkeypatch.setattr(service_module, "SqlOutbox", outbox_locked_once_for_the_loop)
    with anvil() as w3:
        client = setup_registry(w3, admin, [v1], [owner, relayer])
        store = LocalStore(tmp_path / "store")
        _, uri = store.put(bundle["bytes"])
        config = ServiceConfig(
            rpc_url=w3.provider.endpoint_uri,
            registry=client.address,
            db=str(tmp_path / "service.sqlite"),
            confirmations=1,
            poll_interval_s=0.1,
        ).checked()
        svc = service_module.VerifierService(config, v1, file_roots=[store.root])
        svc.start()
        try:
            mid = register(w3, client, relayer, owner, request_for(bundle, uri), tmp_path / "reg.sqlite")
            job = wait_until(
                "the attestation", lambda: (j := svc.jobs.get(model_hex(mid))) is not None and j.state.value == "attested" and j
            )
            assert job.verdict == "valid" and len(loop_opens) == 2  # rebuilt once, whole
            assert client.get_attestation(mid, v1.address).verdict is Verdict.VALID
        finally:
            svc.stop()
            svc.jobs.close()


def test_health_says_why_attestations_cannot_land_until_the_role_is_granted(tmp_path, accounts):
    """An operator who forgot to grant the verifier role (or whose registry is paused) sees why on
    /health, degraded, until the cause is removed."""
    admin, v1 = accounts[0], accounts[1]
    with anvil() as w3:
        client = setup_registry(w3, admin, [], [v1])
        svc = ServiceProcess.on(tmp_path, client, v1)
        with services(svc):
            svc.start()
            health = wait_until("health to name the missing role", lambda: (h := svc.json("/health"))["blockers"] and h)
            assert health["status"] == "degraded" and f"key {v1.address} does not hold the verifier role" in health["blockers"][0]
            client.grant_verifier(v1.address)
            client.pause()
            wait_until("health to name the pause", lambda: [b for b in svc.json("/health")["blockers"] if "is paused" in b])
            client.unpause()
            wait_until("health to recover", lambda: (h := svc.json("/health"))["status"] == "ok" and not h["blockers"])
            assert "cannot attest: this service's key" in svc.tail()
