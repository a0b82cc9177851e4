"""`zkdl admin` on anvil, as an operator runs it: deploy, status, verifiers, quorum, fee, pause, the
two-step admin transfer and a model's revocation; idempotent actions send nothing, reverts and
missing roles come back as clear JSON errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from zkdl.chain import RegistryClient
from zkdl.cli import main


def _key(account) -> str:
    return "0x" + bytes(account.key).hex()


@pytest.fixture
def admin_cli(anvil_url, accounts, deployments_dir, monkeypatch, capsys):
    """`run(*args)` → (exit status, JSON answer) of `zkdl admin ARGS` against a fresh record directory."""
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(anvil_url))
    for account in accounts:
        w3.provider.make_request("anvil_setBalance", [account.address, hex(10**22)])
    monkeypatch.setenv("ZKDL_RPC_URL", anvil_url)
    monkeypatch.setenv("ZKDL_DEPLOYMENTS_DIR", str(deployments_dir))
    monkeypatch.setenv("ZKDL_DEPLOYER_KEY", _key(accounts[0]))
    for name in ("ZKDL_ADMIN_KEY", "ZKDL_ADMIN_KEYSTORE", "ZKDL_OWNER_KEY", "ZKDL_REGISTRY"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str) -> tuple[int, dict[str, Any]]:
        capsys.readouterr()
        status = main(["admin", *args])
        return status, json.loads(capsys.readouterr().out)

    run.w3 = w3  # type: ignore[attr-defined]
    return run


def test_an_operator_deploys_grants_sets_and_pauses_with_json_answers(admin_cli, accounts, monkeypatch):
    admin, verifier, stranger = accounts[0], accounts[1], accounts[7]
    status, deployed = admin_cli("deploy", "--quorum", "1")
    assert status == 0 and deployed["changed"] is True and deployed["admin"] == admin.address
    assert admin_cli("deploy")[1]["changed"] is False  # the record checks out: nothing sent

    status, granted = admin_cli("grant-verifier", verifier.address)
    assert status == 0 and granted["changed"] is True and granted["verifier_count"] == 1
    assert admin_cli("grant-verifier", verifier.address)[1] == {"ok": True, "action": "grant-verifier", "changed": False,
                                                                 "account": verifier.address, "verifier": True}  # fmt: skip
    status, refused = admin_cli("set-quorum", "2")
    assert status == 1 and refused["ok"] is False and refused["error"] == "ZkdlRegistryInvalidQuorum"
    assert admin_cli("set-fee", "1000")[1]["registration_fee_wei"] == 1000
    assert admin_cli("pause")[1]["paused"] is True and admin_cli("pause")[1]["changed"] is False

    st = admin_cli("status")[1]
    assert (st["paused"], st["quorum"], st["attestation_fee_wei"], st["version"][0]) == (True, 1, 1000, "2")
    assert st["verifiers"] == [{"account": verifier.address, "active": True, "granted_at": st["verifiers"][0]["granted_at"],
                                "removed_at": None, "attestations": 0}]  # fmt: skip
    assert (st["admin"], st["pending_admin_transfer"]) == (admin.address, None)

    monkeypatch.setenv("ZKDL_ADMIN_KEY", _key(stranger))
    status, denied = admin_cli("unpause")
    assert status == 1 and denied["error"] == "AccessControlUnauthorizedAccount"
    assert f"{stranger.address} does not hold the pauser role" in denied["reason"] and admin.address in denied["reason"]
    monkeypatch.delenv("ZKDL_ADMIN_KEY")
    assert admin_cli("unpause")[1]["paused"] is False
    assert admin_cli("revoke-verifier", verifier.address)[1]["verifier_count"] == 0
    assert admin_cli("status")[1]["verifiers"][0]["active"] is False


def test_the_admin_is_handed_over_in_two_steps_and_an_owner_revokes_its_model(admin_cli, accounts, monkeypatch):
    from tests.chain.conftest import request_for

    admin, successor, owner = accounts[0], accounts[2], accounts[4]
    assert admin_cli("deploy", "--admin-delay", "60")[0] == 0
    assert admin_cli("begin-admin-transfer", successor.address)[1]["pending_admin_transfer"]["to"] == successor.address
    monkeypatch.setenv("ZKDL_ADMIN_KEY", _key(successor))
    status, early = admin_cli("accept-admin-transfer")
    assert status == 1 and "can be accepted after chain time" in early["reason"]
    admin_cli.w3.provider.make_request("evm_increaseTime", [120])
    admin_cli.w3.provider.make_request("evm_mine", [])
    status, accepted = admin_cli("accept-admin-transfer")
    assert status == 0 and accepted["admin"] == successor.address and accepted["pending_admin_transfer"] is None

    registry = admin_cli("status")[1]["registry"]
    model_id = RegistryClient(admin_cli.w3, registry, owner).register_model(request_for("revoked")).model_id
    monkeypatch.setenv("ZKDL_OWNER_KEY", _key(admin))  # not the owner
    status, refused = admin_cli("revoke-model", "0x" + model_id.hex())
    assert status == 1 and refused["error"] == "ZkdlRegistryNotModelOwner"
    monkeypatch.setenv("ZKDL_OWNER_KEY", _key(owner))
    assert admin_cli("revoke-model", "0x" + model_id.hex())[1]["changed"] is True
    assert admin_cli("revoke-model", "0x" + model_id.hex())[1]["changed"] is False
    status, bad = admin_cli("revoke-model", "0x1234")
    assert status == 2 and bad["error"] == "model-id"


def test_a_key_without_ether_gets_a_clear_refusal(admin_cli, monkeypatch):
    from eth_account import Account

    poor = Account.create()
    assert admin_cli("deploy", "--admin", poor.address)[0] == 0
    monkeypatch.setenv("ZKDL_ADMIN_KEY", _key(poor))
    status, refused = admin_cli("pause")
    assert status == 1 and f"the node refused the transaction from {poor.address}" in refused["reason"]
    assert "needs funding" in refused["reason"]
