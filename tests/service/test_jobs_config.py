"""The job table (leases, idempotency, compare-and-set) and the service settings; no chain."""

from __future__ import annotations

import json
import time

import pytest
from eth_account import Account

from zkdl.service.config import ConfigError, load_config, load_keys
from zkdl.service.jobs import JobState, JobStore, JobStoreError

MID = "0x" + "ab" * 32


def add(jobs: JobStore, mid: str = MID, block: int = 5) -> bool:
    return jobs.add(model_id=mid, owner="0x" + "11" * 20, block_number=block, block_hash="0x" + "22" * 32,
                    tx_hash="0x" + "33" * 32, registration={"bundle_uri": "file:///x"})


def test_add_is_idempotent_and_a_gone_job_comes_back(tmp_path):
    jobs = JobStore(tmp_path / "s.sqlite")
    assert add(jobs) and not add(jobs)
    assert jobs.count() == 1 and jobs.get(MID).state is JobState.QUEUED
    job = jobs.claim("w1", 60)
    assert jobs.mark_gone(MID, "reorg") and jobs.get(MID).state is JobState.GONE
    assert jobs.claim("w1", 60) is None
    assert add(jobs, block=7)  # seen again (re-mined): queued again
    assert jobs.get(MID).state is JobState.QUEUED and jobs.get(MID).block_number == 7
    assert job.attempts == 1


def test_an_expired_lease_is_taken_over_and_the_old_worker_cannot_write(tmp_path):
    path = tmp_path / "s.sqlite"
    a, b = JobStore(path), JobStore(path)  # two processes' connections
    add(a)
    assert a.claim("w1", 0.2).lease_owner == "w1"
    assert b.claim("w2", 60) is None  # still leased
    time.sleep(0.3)
    taken = b.claim("w2", 60)
    assert taken.lease_owner == "w2" and taken.attempts == 2
    assert not a.record_verdict(MID, "w1", verdict="valid", reason=None, report={}, report_digest="0x",
                                statement=None, proof_bytes=1, verify_seconds=0.1, intent_key="k")
    assert not a.renew(MID, "w1", 60)
    assert b.record_verdict(MID, "w2", verdict="invalid", reason="bad", report={"a": 1}, report_digest="0x01",
                            statement=None, proof_bytes=1, verify_seconds=None, intent_key="k")
    job = a.get(MID)
    assert (job.state, job.verdict, job.reason, job.report) == (JobState.INVALID, "invalid", "bad", {"a": 1})
    assert a.mark_attested(MID) and a.get(MID).state is JobState.ATTESTED


def test_retry_later_waits_and_a_node_outage_does_not_count(tmp_path):
    jobs = JobStore(tmp_path / "s.sqlite")
    add(jobs)
    jobs.claim("w", 60)
    assert jobs.retry_later(MID, "w", "down", 0.3, release_attempt=True)
    assert jobs.get(MID).attempts == 0 and jobs.claim("w", 60) is None
    time.sleep(0.35)
    assert jobs.claim("w", 60).attempts == 1


def test_the_database_belongs_to_one_chain_registry_and_verifier(tmp_path):
    jobs = JobStore(tmp_path / "s.sqlite")
    jobs.bind(1, "0xR", "0xV")
    jobs.bind(1, "0xR", "0xV")
    with pytest.raises(JobStoreError, match="registry"):
        jobs.bind(1, "0xOther", "0xV")
    jobs.set_cursor(10, "0xh")
    assert JobStore(tmp_path / "s.sqlite").cursor() == (10, "0xh")


def test_config_precedence_defaults_file_env_flags(tmp_path):
    toml = tmp_path / "service.toml"
    toml.write_text('[service]\nconfirmations = 5\nport = 9000\nmax_bundle_bytes = 1000\n')
    config = load_config(toml, env={"ZKDL_CONFIRMATIONS": "7", "ZKDL_DB": "x.sqlite"}, overrides={"port": 9100})
    assert (config.confirmations, config.port, config.max_bundle_bytes, config.db) == (7, 9100, 1000, "x.sqlite")
    assert config.outbox_path.endswith("x.outbox.sqlite")
    assert load_config(None, env={}).confirmations == 3


def test_config_refuses_keys_in_files_and_bad_values(tmp_path):
    toml = tmp_path / "service.toml"
    toml.write_text('verifier_key = "0x01"\n')
    with pytest.raises(ConfigError, match="must not be in a config file"):
        load_config(toml, env={})
    with pytest.raises(ConfigError, match="not a valid int"):
        load_config(None, env={"ZKDL_CONFIRMATIONS": "three"})
    with pytest.raises(ConfigError, match="rpc_url"):
        load_config(None, env={"ZKDL_RPC_URL": "ws://x"})
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
    with pytest.raises(ConfigError) as err:
        load_keys(config, env={"ZKDL_VERIFIER_KEY": "0xnot-a-key-secret"})
    assert "secret" not in str(err.value)
    with pytest.raises(ConfigError, match="no verifier key"):
        load_keys(config, env={})
