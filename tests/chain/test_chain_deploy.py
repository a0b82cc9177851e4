"""Deployer: records, idempotency, key loading, and the command line against a real anvil node."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak
from web3 import Web3

from zkdl.chain import RegistryClient, client_from_deployment, deploy_registry, ensure_deployed, read_deployment
from zkdl.chain import errors as E
from zkdl.chain.artifacts import load_artifact
from zkdl.chain.deploy import record_path, write_deployment
from zkdl.chain.keys import AccountKeyError, load_account

ROOT = Path(__file__).resolve().parents[2]


def test_record_describes_the_deployment(chain, accounts):
    record = deploy_registry(chain, accounts[0], quorum=2, verifiers=[a.address for a in accounts[1:3]])
    receipt = chain.eth.get_transaction_receipt(record.transaction_hash)
    assert receipt["contractAddress"] == record.address and receipt["blockNumber"] == record.block_number
    assert record.block_hash == "0x" + bytes(receipt["blockHash"]).hex()
    assert record.code_hash == "0x" + keccak(bytes(chain.eth.get_code(record.address))).hex()
    assert (record.chain_id, record.deployer, record.admin, record.quorum) == (
        chain.eth.chain_id,
        accounts[0].address,
        accounts[0].address,
        2,
    )
    assert record.abi_hash == load_artifact().abi_hash
    client = RegistryClient(chain, record.address)
    assert client.quorum() == 2 and client.has_role(client.pauser_role(), accounts[0].address)
    assert client.verifier_count() == 2 and client.default_admin_delay() == 3 * 24 * 3600


def test_ensure_deployed_is_idempotent_and_detects_a_stale_record(chain, accounts, deployments_dir):
    first, deployed = ensure_deployed(chain, accounts[0], deployments_dir, quorum=1)
    assert deployed and record_path(chain.eth.chain_id, deployments_dir).exists()
    block = chain.eth.block_number
    again, deployed = ensure_deployed(chain, accounts[0], deployments_dir, quorum=1)
    assert (again, deployed, chain.eth.block_number) == (first, False, block)  # nothing was sent
    assert client_from_deployment(chain, deployments_dir).version() == "2.0.0"

    write_deployment(replace(first, address=accounts[5].address), deployments_dir)  # e.g. a reset dev node
    with pytest.raises(E.DeploymentError, match="no recorded registry code") as reset:
        ensure_deployed(chain, accounts[0], deployments_dir)
    assert "`zkdl admin deploy --redeploy`" in reset.value.hint
    fresh, deployed = ensure_deployed(chain, accounts[0], deployments_dir, redeploy=True)
    assert deployed and fresh.address != first.address
    assert read_deployment(chain.eth.chain_id, deployments_dir) == fresh


def test_record_from_another_abi_is_refused(chain, accounts, deployments_dir):
    record, _ = ensure_deployed(chain, accounts[0], deployments_dir)
    write_deployment(replace(record, abi_hash="00" * 32), deployments_dir)
    with pytest.raises(E.DeploymentError, match=r"another ABI \(registry version 2.0.0; this zkdl speaks version 2.x\)"):
        client_from_deployment(chain, deployments_dir)


def test_missing_record_is_a_clear_error(tmp_path):
    with pytest.raises(E.DeploymentError, match="no ModelRegistry deployment recorded for chain 5") as info:
        read_deployment(5, tmp_path)
    assert "zkdl admin deploy" in info.value.hint and "$ZKDL_DEPLOYMENTS_DIR" in info.value.hint


def test_constructor_revert_is_typed(chain, accounts):
    with pytest.raises(E.InvalidQuorumError):
        deploy_registry(chain, accounts[0], quorum=0)
    with pytest.raises(E.InvalidQuorumError, match="between 1 and 1"):
        deploy_registry(chain, accounts[0], quorum=2, verifiers=[accounts[1].address])


def test_deployer_key_from_env_or_keystore(tmp_path, accounts):
    key = accounts[3].key
    assert load_account("deployer", {"ZKDL_DEPLOYER_KEY": key.hex()}).address == accounts[3].address
    with pytest.raises(AccountKeyError) as info:
        load_account("deployer", {"ZKDL_DEPLOYER_KEY": "0x1234"})
    assert "1234" not in str(info.value)  # a bad key is never echoed
    keystore = tmp_path / "key.json"
    keystore.write_text(json.dumps(Account.encrypt(key, "pw", kdf="pbkdf2", iterations=1000)))
    env = {"ZKDL_DEPLOYER_KEYSTORE": str(keystore), "ZKDL_DEPLOYER_KEYSTORE_PASSWORD": "pw"}
    assert load_account("deployer", env).address == accounts[3].address
    with pytest.raises(AccountKeyError, match="cannot decrypt"):
        load_account("deployer", {**env, "ZKDL_DEPLOYER_KEYSTORE_PASSWORD": "wrong"})
    with pytest.raises(AccountKeyError, match="needs a password"):
        load_account("deployer", {"ZKDL_DEPLOYER_KEYSTORE": str(keystore)})
    with pytest.raises(AccountKeyError, match="no deployer key"):
        load_account("deployer", {})


def _run_step(url: str, deployments_dir: Path, env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZKDL_")}
    env.update(env_extra, PYTHONPATH=str(ROOT))
    verifiers = ["--verifier", "0x" + "11" * 20, "--verifier", "0x" + "22" * 20]
    cmd = [
        sys.executable,
        "deploy/001_model_registry.py",
        "--rpc",
        url,
        "--quorum",
        "2",
        *verifiers,
        "--deployments-dir",
        str(deployments_dir),
    ]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_deploy_step_against_anvil(anvil_url, accounts, deployments_dir):
    w3 = Web3(Web3.HTTPProvider(anvil_url))
    w3.provider.make_request("anvil_setBalance", [accounts[8].address, hex(10**21)])
    no_key = _run_step(anvil_url, deployments_dir, {})
    assert no_key.returncode == 2 and "ZKDL_DEPLOYER_KEY" in no_key.stderr

    key_env = {"ZKDL_DEPLOYER_KEY": accounts[8].key.hex()}
    first = _run_step(anvil_url, deployments_dir, key_env)
    assert first.returncode == 0, first.stderr
    assert "ModelRegistry deployed on chain 31337" in first.stdout
    record = json.loads((deployments_dir / "31337.json").read_text())
    assert record["deployer"] == accounts[8].address and record["quorum"] == 2
    assert RegistryClient(w3, record["address"]).quorum() == 2

    second = _run_step(anvil_url, deployments_dir, key_env)
    assert second.returncode == 0 and "already deployed" in second.stdout
    assert json.loads((deployments_dir / "31337.json").read_text()) == record
