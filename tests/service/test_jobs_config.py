"""The job table (leases, idempotency, compare-and-set, concurrent workers) on SQLite and PostgreSQL,
and the service settings; no chain."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from eth_account import Account

from tests.pgserver import run_concurrently, run_sql
from zkdl.chain.keys import AccountKeyError
from zkdl.service.config import ConfigError, load_config, load_keys
from zkdl.service.jobs import JobState, JobStore, JobStoreError, RequeueError

MID = "0x" + "ab" * 32


def add(jobs: JobStore, mid: str = MID, block: int = 5) -> bool:
    return jobs.add(
        model_id=mid,
        owner="0x" + "11" * 20,
        block_number=block,
        block_hash="0x" + "22" * 32,
        tx_hash="0x" + "33" * 32,
        registration={"bundle_uri": "file:///x"},
    )


@pytest.fixture
def open_jobs(db_location) -> Iterator[Callable[[], JobStore]]:
    """`open_jobs()`: one more connection to this test's job store, as another process has one."""
    opened: list[JobStore] = []

    def open_jobs() -> JobStore:
        opened.append(JobStore(db_location))
        return opened[-1]

    yield open_jobs
    for jobs in opened:
        jobs.close()


def test_add_is_idempotent_and_a_gone_job_comes_back(open_jobs):
    jobs = open_jobs()
    assert add(jobs) and not add(jobs)
    assert jobs.count() == 1 and jobs.get(MID).state is JobState.QUEUED
    job = jobs.claim("w1", 60)
    assert jobs.mark_gone(MID, "reorg") and jobs.get(MID).state is JobState.GONE
    assert jobs.claim("w1", 60) is None
    assert add(jobs, block=7)  # seen again (re-mined): queued again
    assert jobs.get(MID).state is JobState.QUEUED and jobs.get(MID).block_number == 7
    assert job.attempts == 1


def test_an_expired_lease_is_taken_over_and_the_old_worker_cannot_write(open_jobs):
    a, b = open_jobs(), open_jobs()
    add(a)
    assert a.claim("w1", 0.2).lease_owner == "w1"
    assert b.claim("w2", 60) is None  # still leased
    time.sleep(0.3)
    taken = b.claim("w2", 60)
    assert taken.lease_owner == "w2" and taken.attempts == 2
    assert not a.record_verdict(
        MID,
        "w1",
        verdict="valid",
        reason=None,
        report={},
        report_digest="0x",
        statement=None,
        proof_bytes=1,
        verify_seconds=0.1,
        intent_key="k",
    )
    assert not a.renew(MID, "w1", 60)
    assert b.record_verdict(
        MID,
        "w2",
        verdict="invalid",
        reason="bad",
        report={"a": 1},
        report_digest="0x01",
        statement=None,
        proof_bytes=1,
        verify_seconds=None,
        intent_key="k",
    )
    job = a.get(MID)
    assert (job.state, job.verdict, job.reason, job.report) == (JobState.INVALID, "invalid", "bad", {"a": 1})
    assert a.mark_attested(MID) and a.get(MID).state is JobState.ATTESTED


def test_retry_later_waits_and_a_node_outage_does_not_count(open_jobs):
    jobs = open_jobs()
    add(jobs)
    jobs.claim("w", 60)
    assert jobs.retry_later(MID, "w", "down", 0.3, release_attempt=True)
    assert jobs.get(MID).attempts == 0 and jobs.claim("w", 60) is None
    time.sleep(0.35)
    assert jobs.claim("w", 60).attempts == 1


def test_the_operator_requeues_a_given_up_job_and_only_such_a_job(open_jobs, db_location, capsys):
    from zkdl.cli import main

    jobs = open_jobs()
    with pytest.raises(RequeueError, match="no job for model"):
        jobs.requeue(MID)
    add(jobs)
    with pytest.raises(RequeueError, match="is queued, not requeued: it is in the queue already"):
        jobs.requeue(MID)
    jobs.claim("w", 60)
    jobs.spend_fetch_time(MID, "w", 30.0)
    jobs.finish_leased(MID, "w", JobState.UNAVAILABLE, error="unreachable (gave up after 5 attempts)")
    assert jobs.claim("w", 60) is None
    assert main(["admin", "requeue", MID.upper().replace("0X", "0x"), "--db", str(db_location)]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "queued"
    job = jobs.get(MID)
    assert (job.state, job.attempts, job.fetch_seconds, job.error) == (JobState.QUEUED, 0, 0.0, "requeued by the operator")
    assert jobs.claim("w", 60).model_id == MID


def test_a_failed_attestation_is_due_again_on_requeue_and_keeps_its_verdict(open_jobs):
    jobs = open_jobs()
    add(jobs)
    jobs.claim("w", 60)
    verdict = dict(reason=None, report={}, report_digest="0x" + "44" * 32, statement=None, proof_bytes=1, verify_seconds=0.1)
    jobs.record_verdict(MID, "w", verdict="valid", intent_key="attestation:x", **verdict)
    assert jobs.mark_failed(MID, "attestation transaction failed: the registry is paused")
    assert [j.model_id for j in jobs.failed_attestations()] == [MID]
    assert jobs.retry_attestation(MID, 600) and jobs.get(MID).state is JobState.VERIFIED
    jobs.mark_failed(MID, "again")
    assert jobs.failed_attestations() == ()  # backing off
    assert jobs.requeue(MID).state is JobState.FAILED and [j.model_id for j in jobs.failed_attestations()] == [MID]
    assert jobs.get(MID).verdict == "valid"


def test_the_database_belongs_to_one_chain_registry_and_verifier(db_location, open_jobs):
    jobs = open_jobs()
    jobs.bind(1, "0xR", "0xV")
    jobs.bind(1, "0xR", "0xV")
    with pytest.raises(JobStoreError, match="registry"):
        jobs.bind(1, "0xOther", "0xV")
    jobs.set_cursor(10, "0xh")
    assert open_jobs().cursor() == (10, "0xh")
    run_sql(db_location, "zkdl_service", "UPDATE meta SET value = '3' WHERE name = 'schema'")
    with pytest.raises(JobStoreError, match="has schema version 3, this zkdl expects 2; upgrade zkdl"):
        JobStore(db_location)


def test_a_version_1_database_is_upgraded_in_place_with_its_jobs(db_location, open_jobs):
    jobs = open_jobs()
    add(jobs)
    jobs.claim("w", 60)
    jobs.close()
    run_sql(db_location, "zkdl_service", "ALTER TABLE jobs DROP COLUMN fetch_seconds")  # as version 1 made it
    run_sql(db_location, "zkdl_service", "UPDATE meta SET value = '1' WHERE name = 'schema'")
    upgraded = open_jobs()
    job = upgraded.get(MID)
    assert (job.state, job.attempts, job.fetch_seconds) == (JobState.LEASED, 1, 0.0)
    assert upgraded.spend_fetch_time(MID, "w", 1.5) and upgraded.spend_fetch_time(MID, "w", 2.0)
    assert not upgraded.spend_fetch_time(MID, "another worker", 9.0)  # only the lease holder's fetches count
    assert upgraded.get(MID).fetch_seconds == 3.5
    assert open_jobs().get(MID).fetch_seconds == 3.5  # a second open finds version 2: nothing to do


def test_many_workers_claim_every_job_exactly_once(open_jobs):
    stores = [open_jobs() for _ in range(8)]  # a connection per worker, as a process each
    mids = [f"0x{i:064x}" for i in range(120)]
    for i, mid in enumerate(mids):
        add(stores[0], mid, block=i % 7)
    claims: list[tuple[str, str]] = []
    all_hold_one = threading.Barrier(len(stores), timeout=60)  # on a busy machine one thread could take every job

    def work(w: int) -> None:
        jobs, worker = stores[w], f"w{w}"
        while (job := jobs.claim(worker, 60)) is not None:
            claims.append((job.model_id, worker))
            assert job.lease_owner == worker and job.attempts == 1
            if sum(owner == worker for _, owner in claims) == 1:
                all_hold_one.wait()  # every worker holds a lease at once before any goes on
            assert jobs.finish_leased(job.model_id, worker, JobState.SKIPPED)

    run_concurrently(len(stores), work)
    assert Counter(mid for mid, _ in claims) == Counter(mids)  # each once, none left out
    assert stores[0].counts()["skipped"] == len(mids)
    assert len({worker for _, worker in claims}) == len(stores)  # they worked side by side


def test_a_connection_lost_inside_a_claim_loses_no_job(pg_server, pg_url):
    jobs = JobStore(pg_url)
    first, second = "0x" + "01" * 32, "0x" + "02" * 32
    add(jobs, first, block=1)
    add(jobs, second, block=2)
    assert jobs.claim("w1", 60).model_id == first
    claim_sql = jobs._db.execute

    def execute_then_drop(sql: str, args=()):
        cursor = claim_sql(sql, args)
        if "SKIP LOCKED" in sql:  # the job is selected and locked, not yet leased
            pg_server.drop_connections(pg_url.rsplit("/", 1)[1])
        return cursor

    jobs._db.execute = execute_then_drop
    with pytest.raises(JobStoreError, match="verifier service database .* failed"):
        jobs.claim("w2", 60)
    del jobs._db.execute
    seen = JobStore(pg_url)  # as another process sees it
    assert (seen.get(first).state, seen.get(first).lease_owner) == (JobState.LEASED, "w1")  # accepted: kept
    assert (seen.get(second).state, seen.get(second).attempts) == (JobState.QUEUED, 0)  # not lost, not leased
    assert seen.claim("w3", 60).model_id == second
    seen.close()
    jobs.close()


def test_config_precedence_defaults_file_env_flags(tmp_path):
    toml = tmp_path / "service.toml"
    toml.write_text("[service]\nconfirmations = 5\nport = 9000\nmax_bundle_bytes = 1000\n")
    config = load_config(toml, env={"ZKDL_CONFIRMATIONS": "7", "ZKDL_DB": "x.sqlite"}, overrides={"port": 9100})
    assert (config.confirmations, config.port, config.max_bundle_bytes, config.db) == (7, 9100, 1000, "x.sqlite")
    assert config.outbox_path.endswith("x.outbox.sqlite")
    assert load_config(None, env={}).confirmations is None  # unset: chosen for the chain on connecting (test_confirmations.py)


def test_config_takes_database_urls():
    url = "postgresql://zkdl:secret@db.example:5432/zkdl"
    config = load_config(None, env={"ZKDL_DB": url})
    assert config.outbox_path == url  # the outbox's own schema in the same database
    public = config.public_json()
    assert "secret" not in json.dumps(public) and public["db"].startswith("postgresql://zkdl:***@")
    assert load_config(None, env={"ZKDL_DB": "sqlite:///var/s.sqlite"}).outbox_path == "var/s.outbox.sqlite"
    split = load_config(None, env={"ZKDL_DB": "s.sqlite", "ZKDL_OUTBOX": url})
    assert (split.db, split.outbox_path) == ("s.sqlite", url)
    with pytest.raises(ConfigError, match="is not a database location"):
        load_config(None, env={"ZKDL_OUTBOX": "mysql://h/db"})


def test_config_refuses_keys_in_files_and_bad_values(tmp_path):
    toml = tmp_path / "service.toml"
    toml.write_text('verifier_key = "0x01"\n')
    with pytest.raises(ConfigError, match="must not be in a config file"):
        load_config(toml, env={})
    with pytest.raises(ConfigError, match="not a valid int"):
        load_config(None, env={"ZKDL_CONFIRMATIONS": "three"})
    with pytest.raises(ConfigError, match="rpc_url"):
        load_config(None, env={"ZKDL_RPC_URL": "ws://x"})
    with pytest.raises(ConfigError, match="explorer_url 'javascript:alert"):
        load_config(None, env={"ZKDL_EXPLORER_URL": "javascript:alert(1)"})
    assert load_config(None, env={"ZKDL_EXPLORER_URL": "https://etherscan.io"}).explorer_url == "https://etherscan.io"
    with pytest.raises(ConfigError, match="unknown setting"):
        toml.write_text("confirmation = 3\n")
        load_config(toml, env={})


def test_keys_from_env_or_keystore_never_echoed(tmp_path):
    config = load_config(None, env={})
    account = Account.create()
    verifier, relayer = load_keys(config, env={"ZKDL_VERIFIER_KEY": account.key.hex()})
    assert verifier.address == relayer.address == account.address
    keystore = tmp_path / "key.json"
    keystore.write_text(json.dumps(Account.encrypt(account.key, "pw")))
    verifier, _ = load_keys(config, env={"ZKDL_VERIFIER_KEYSTORE": str(keystore), "ZKDL_VERIFIER_KEYSTORE_PASSWORD": "pw"})
    assert verifier.address == account.address
    with pytest.raises(AccountKeyError) as err:
        load_keys(config, env={"ZKDL_VERIFIER_KEY": "0xnot-a-key-secret"})
    assert "secret" not in str(err.value)
    with pytest.raises(AccountKeyError, match="no verifier key"):
        load_keys(config, env={})


_SAMPLES = {
    "rpc_url": "http://node.test:8545",
    "db": "a.sqlite",
    "outbox": "b.sqlite",
    "log_level": "debug",
    "verifier_version": "0x" + "11" * 32,
    "explorer_url": "https://explorer.test",
}


_OLDER_FLAGS = {"fetch_timeout_s": "--fetch-timeout", "poll_interval_s": "--poll-interval", "lease_s": "--lease"}


def _sample(name: str, field) -> tuple[str, object]:
    """A valid value of each setting, as text and as the setting holds it."""
    if name in _SAMPLES:
        return _SAMPLES[name], _SAMPLES[name]
    if field.annotation is bool:  # a switch: true in the file and the environment, the bare flag
        return "true", True
    kind = next(k for k in (int, float, str) if k == field.annotation or k in getattr(field.annotation, "__args__", ()))
    return {int: ("7", 7), float: ("2.5", 2.5), str: ("some/where", "some/where")}[kind]


def test_every_setting_comes_from_the_file_the_environment_and_the_command_line(tmp_path):
    from zkdl.cli import build_parser
    from zkdl.service.config import ServiceConfig

    for name, field in ServiceConfig.model_fields.items():
        text, value = _sample(name, field)
        toml = tmp_path / "service.toml"
        toml.write_text(f"{name} = {text if isinstance(value, (int, float)) else repr(text)}\n")
        assert getattr(load_config(toml, env={}), name) == value, name
        assert getattr(load_config(None, env={f"ZKDL_{name.upper()}": text}), name) == value, name
        flag = _OLDER_FLAGS.get(name, "--" + name.replace("_", "-"))
        args = build_parser().parse_args(["serve", flag] if value is True else ["serve", flag, text])
        assert getattr(args, name) == value, name
    assert build_parser().parse_args(["serve"]).allow_local is None  # no flag: the file or environment decides


def test_the_older_names_of_two_settings_still_work():
    config = load_config(None, env={"ZKDL_FETCH_TIMEOUT": "7", "ZKDL_POLL_INTERVAL": "0.5"})
    assert (config.fetch_timeout_s, config.poll_interval_s) == (7.0, 0.5)
