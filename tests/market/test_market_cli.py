"""The market commands as a seller and a buyer run them: subprocesses against a real anvil node.

register -> a verifier attests (the client, with a verifier key holding the role) -> provenance shows
VERIFIED -> check-weights exit 0; a changed weight exit 1; a pending model exit 1 "not verified";
registering twice gives the same model id and one registration; bad RPC URLs, missing keys and
reverts give clear messages and exit codes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_utils import keccak

from zkdl.chain.deploy import write_deployment
from zkdl.chain.structs import AttestationRequest, Verdict


@pytest.fixture(scope="module")
def seller(anvil_env, anvil_url, tmp_path_factory):
    """Command-line settings of the seller: node, registry, store, outbox, keys (env)."""
    root = tmp_path_factory.mktemp("seller")
    chain = ["--rpc", anvil_url, "--registry", anvil_env.client.address]
    files = ["--store", str(root / "bundles"), "--outbox", str(root / "outbox.sqlite")]
    keys = {"ZKDL_OWNER_KEY": anvil_env.owner.key.hex(), "ZKDL_RELAYER_KEY": anvil_env.relayer.key.hex()}
    return {"chain": chain, "files": files, "keys": keys, "root": root}


@pytest.fixture(scope="module")
def registered(run_zkdl, proved, seller):
    done = run_zkdl("register", str(proved.bundle_path), *seller["chain"], *seller["files"], "--json", env=seller["keys"])
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_register_then_attest_then_buyer_checks(run_zkdl, cli, proved, seller, registered, anvil_env):
    chain = seller["chain"]
    model_id = registered["model_id"]
    assert registered["outcome"] == "registered" and registered["by_signature"]
    assert registered["owner"] == anvil_env.owner.address and registered["submitter"] == anvil_env.relayer.address
    assert registered["proof_digest"] == "0x" + keccak(proved.bundle).hex()

    # Pending: the weights match, but the model is not verified -> exit 1 with the reason.
    pending = run_zkdl("check-weights", model_id, str(proved.weights), "--opening", str(proved.opening_path), *chain)
    assert pending.returncode == 1 and "not verified" in pending.stdout, pending.stdout + pending.stderr
    shown = json.loads(run_zkdl("provenance", model_id, *chain, "--json").stdout)
    assert shown["status"] == "pending" and shown["counts"]["valid"] == 0

    anvil_env.client_as(anvil_env.verifier).attest(AttestationRequest(model_id, Verdict.VALID, keccak(text="report")))

    shown = run_zkdl("provenance", model_id, *chain, "--json")
    assert shown.returncode == 0, shown.stderr
    info = json.loads(shown.stdout)
    assert info["status"] == "verified" and info["counts"] == {"valid": 1, "invalid": 0, "ignored": 0, "quorum": 1}
    assert info["bundle"]["statement"]["widths"] == [64, 8, 10] and info["bundle"]["statement"]["steps"] == 2
    assert info["attestations"][0]["verifier"] == anvil_env.verifier.address and info["mismatches"] == []
    human = cli("provenance", model_id, *chain)
    assert human.returncode == 0 and "status VERIFIED" in human.stdout and "MLP 64-8-10" in human.stdout
    ok = cli("check-weights", model_id, str(proved.weights), "--opening", str(proved.opening_path), *chain)
    assert ok.returncode == 0 and ok.stdout.startswith("OK"), ok.stdout + ok.stderr

    ok = run_zkdl("check-weights", model_id, str(proved.weights), "--opening", str(proved.opening_path), *chain, "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout) == {
        "ok": True,
        "model_id": model_id,
        "weights_match": True,
        "status": "verified",
        "reason": None,
        "same_weights": {"kind": "final weights", "total": 1, "earliest": model_id, "models": [model_id]},
    }
    changed = run_zkdl("check-weights", model_id, str(proved.changed_weights), "--opening", str(proved.opening_path), *chain, "--json")
    assert changed.returncode == 1
    result = json.loads(changed.stdout)
    assert not result["ok"] and result["weights_match"] is False and "do not recompute" in result["reason"]


def test_registering_twice_gives_the_same_model_id_and_one_registration(run_zkdl, cli, proved, seller, registered, anvil_env):
    again = run_zkdl("register", str(proved.bundle_path), *seller["chain"], *seller["files"], "--json", env=seller["keys"])
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert data["model_id"] == registered["model_id"] and data["outcome"] == "already-registered"
    events = [e for e in anvil_env.client.registered_events() if "0x" + e.model_id.hex() == registered["model_id"]]
    assert len(events) == 1
    human = cli("register", str(proved.bundle_path), *seller["chain"], *seller["files"], env=seller["keys"])
    assert human.returncode == 0 and "already registered" in human.stdout


def test_a_direct_registration_from_a_deployment_record_stays_pending(cli, proved, seller, anvil_env, anvil_url, tmp_path):
    """No relayer key: the owner sends registerModel; no --registry: the chain's deployment record."""
    from zkdl.chain.deploy import deploy_registry

    record = deploy_registry(anvil_env.w3, anvil_env.admin, quorum=1)
    write_deployment(record, tmp_path / "deployments")
    env = {"ZKDL_OWNER_KEY": anvil_env.other_owner.key.hex(), "ZKDL_DEPLOYMENTS_DIR": str(tmp_path / "deployments")}
    theirs = proved.for_owner(anvil_env.other_owner.address)
    done = cli("register", str(theirs), "--rpc", anvil_url, *seller["files"], "--json", env=env)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["registry"] == record.address and not data["by_signature"]
    assert data["submitter"] == data["owner"] == anvil_env.other_owner.address
    check = cli(
        "check-weights",
        data["model_id"],
        str(proved.weights),
        "--opening",
        f"{theirs}.opening.json",
        "--rpc",
        anvil_url,
        env={"ZKDL_DEPLOYMENTS_DIR": str(tmp_path / "deployments")},
    )
    assert check.returncode == 1 and "not verified" in check.stdout


def test_a_revert_is_decoded(cli, proved, seller, anvil_env, tmp_path):
    anvil_env.client.pause()
    try:
        keys = {"ZKDL_OWNER_KEY": anvil_env.admin.key.hex(), "ZKDL_RELAYER_KEY": anvil_env.relayer.key.hex()}
        done = cli(
            "register",
            str(proved.for_owner(anvil_env.admin.address)),
            *seller["chain"],
            "--store",
            str(tmp_path / "b"),
            "--outbox",
            str(tmp_path / "o.sqlite"),
            env=keys,
        )
    finally:
        anvil_env.client.unpause()
    assert done.returncode == 1 and "the registry is paused" in done.stderr, done.stderr


def test_unusable_settings_exit_2_with_a_clear_message(run_zkdl, cli, proved, seller, free_url, registered, tmp_path):
    files = seller["files"]
    keys = seller["keys"]
    dead = run_zkdl("register", str(proved.bundle_path), "--rpc", free_url, "--registry", "0x" + "00" * 20, *files, env=keys)
    assert dead.returncode == 2 and f"cannot reach a JSON-RPC node at {free_url}" in dead.stderr
    assert "--rpc" in dead.stderr
    bad = cli("provenance", registered["model_id"], "--rpc", "localhost:8545")
    assert bad.returncode == 2 and "unsupported RPC URL 'localhost:8545'" in bad.stderr
    none = cli("provenance", registered["model_id"])
    assert none.returncode == 2 and "ZKDL_RPC_URL" in none.stderr
    no_key = cli("register", str(proved.bundle_path), *seller["chain"], *files)
    assert no_key.returncode == 2 and "no owner key: set $ZKDL_OWNER_KEY" in no_key.stderr
    missing = cli("register", str(tmp_path / "nope.zkdl"), *seller["chain"], *files, env=keys)
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    wrong = cli("provenance", registered["model_id"], "--rpc", seller["chain"][1], "--registry", "0x" + "12" * 20)
    assert wrong.returncode == 2 and "no contract at" in wrong.stderr
    no_record = cli("provenance", registered["model_id"], "--rpc", seller["chain"][1], env={"ZKDL_DEPLOYMENTS_DIR": str(tmp_path)})
    assert no_record.returncode == 2 and "no ModelRegistry deployment recorded" in no_record.stderr


def test_buyer_exit_codes(cli, proved, seller, registered, tmp_path):
    chain = seller["chain"]
    unknown = cli("provenance", "0x" + "33" * 32, *chain)
    assert unknown.returncode == 1 and "no model" in unknown.stderr
    unknown = cli("check-weights", "0x" + "33" * 32, str(proved.weights), "--opening", str(proved.opening_path), *chain)
    assert unknown.returncode == 1 and "not registered" in unknown.stdout
    bad_id = cli("check-weights", "0x1234", str(proved.weights), "--opening", str(proved.opening_path), *chain)
    assert bad_id.returncode == 2 and "not a model id" in bad_id.stderr
    no_file = cli("check-weights", registered["model_id"], str(tmp_path / "w.npz"), "--opening", str(proved.opening_path), *chain, "--json")
    assert no_file.returncode == 2 and json.loads(no_file.stdout)["usable"] is False
    no_opening = cli("check-weights", registered["model_id"], str(proved.weights), "--opening", str(tmp_path / "o.json"), *chain)
    assert no_opening.returncode == 2 and "not a readable weights opening" in no_opening.stderr


def test_describe_model_for_zkdl_inspect(proved, seller, registered, capsys, monkeypatch):
    """The function `zkdl inspect MODEL_ID` dispatches to (node and registry from the environment)."""
    from zkdl.market.command import describe_model

    monkeypatch.setenv("ZKDL_RPC_URL", seller["chain"][1])
    monkeypatch.setenv("ZKDL_REGISTRY", seller["chain"][3])
    assert describe_model(registered["model_id"], json_output=True) == 0
    assert json.loads(capsys.readouterr().out)["model_id"] == registered["model_id"]
    assert describe_model("0x" + "44" * 32) == 1
    assert "zkdl inspect: error: no model" in capsys.readouterr().err


def test_register_can_verify_the_proof_first(cli, proved, seller, registered, tmp_path):
    data = bytearray(proved.bundle)
    data[-40] ^= 1  # still decodes, no longer verifies (as in tests/test_cli_proof.py)
    (tmp_path / "bad.zkdl").write_bytes(bytes(data))
    refused = cli("register", str(tmp_path / "bad.zkdl"), "--verify", *seller["chain"], *seller["files"], env=seller["keys"])
    assert refused.returncode == 1 and "does not verify" in refused.stderr, refused.stderr
    again = cli("register", str(proved.bundle_path), "--verify", *seller["chain"], *seller["files"], "--json", env=seller["keys"])
    assert again.returncode == 0 and json.loads(again.stdout)["model_id"] == registered["model_id"]


def test_a_data_set_is_registered_once_from_its_proof_file_and_provenance_shows_it(run_zkdl, proved, seller, registered):
    """`zkdl dataset register` verifies the proof file, stores it, and registers the record the
    model's C_data names (idempotent); provenance then shows the record, not "not registered"."""
    dataset_file = str(proved.bundle_path) + ".dataset"  # written by zkdl prove beside the bundle
    dataset_bytes = Path(dataset_file).read_bytes()
    store = ["--store", str(seller["root"] / "bundles")]
    done = run_zkdl("dataset", "register", dataset_file, *seller["chain"], *store, "--json", env=seller["keys"])
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["outcome"] == "registered" and record["dataset_id"] == registered["c_data_digest"]
    assert record["range_proof_digest"] == "0x" + keccak(dataset_bytes).hex()
    again = run_zkdl("dataset", "register", dataset_file, *seller["chain"], *store, "--json", env=seller["keys"])
    assert again.returncode == 0 and json.loads(again.stdout)["outcome"] == "already-registered"
    shown = json.loads(run_zkdl("provenance", registered["model_id"], *seller["chain"], "--json").stdout)
    assert shown["dataset_registered"] is True and shown["dataset_check"] == "verified"  # the buyer checks the file too
    listed = json.loads(run_zkdl("dataset", "show", record["dataset_id"], *seller["chain"], "--json").stdout)
    assert listed["record"]["owner"] == record["owner"] and registered["model_id"] in [m["model_id"] for m in listed["models"]]


def test_a_damaged_data_set_proof_is_not_registered(run_zkdl, proved, seller, tmp_path):
    data = Path(str(proved.bundle_path) + ".dataset").read_bytes()
    damaged = tmp_path / "damaged.dataset"
    damaged.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    done = run_zkdl("dataset", "register", str(damaged), *seller["chain"], "--store", str(tmp_path), env=seller["keys"])
    assert done.returncode == 1 and "does not verify" in done.stderr and "not registering it" in done.stderr
