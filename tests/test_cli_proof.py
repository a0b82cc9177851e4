"""zkdl prove / verify / inspect as a user runs them, and the weight check of the Python API."""

import json
import subprocess
import sys

import pytest

from zkdl import api
from zkdl.model import load_weights
from zkdl.proof.bundle import Bundle
from zkdl.quant import QuantParams


def _zkdl(*args, check=True):
    return subprocess.run([sys.executable, "-m", "zkdl.cli", *args], capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def proved(tmp_path_factory):
    root = tmp_path_factory.mktemp("proof")
    _zkdl("train", "--out", str(root / "run"), "--hidden", "8", "--batch", "4", "--steps", "2", "--no-progress")
    prove = ("prove", str(root / "run"), "-o", str(root / "run.zkdl"), "--owner", OWNER, "--chunk-steps", "1", "--json")
    out = _zkdl(*prove)  # two chunks
    return root, json.loads(out.stdout)


OWNER = "0x" + "ab" * 20


def test_a_proof_is_bound_to_its_owner_and_a_seeded_start(proved):
    root, _ = proved
    info = json.loads(_zkdl("inspect", str(root / "run.zkdl"), "--json").stdout)["statement"]
    assert info["owner"].lower() == OWNER and info["initial_weights"] == {"kind": "seeded", "seed": 0}
    assert f"owner {info['owner']}; initial weights: the seeded initialisation (seed 0)" in _zkdl("inspect", str(root / "run.zkdl")).stdout


def test_prove_without_an_owner_says_how_to_give_one(proved):
    root, _ = proved
    done = _zkdl("prove", str(root / "run"), "-o", str(root / "x.zkdl"), check=False)
    assert done.returncode == 1 and "give --owner ADDR" in done.stderr and "ZKDL_OWNER_KEY" in done.stderr
    done = _zkdl("prove", str(root / "run"), "-o", str(root / "x.zkdl"), "--owner", "0x12", check=False)
    assert done.returncode == 1 and "is not an address" in done.stderr


def test_prove_writes_a_bundle_that_verifies(proved):
    root, summary = proved
    assert summary["bundle_bytes"] == (root / "run.zkdl").stat().st_size
    done = _zkdl("verify", str(root / "run.zkdl"), "--json")
    result = json.loads(done.stdout)
    assert result["valid"] and result["statement_digest"] == summary["statement_digest"]


def test_inspect_shows_the_statement(proved):
    root, summary = proved
    info = json.loads(_zkdl("inspect", str(root / "run.zkdl"), "--json").stdout)
    assert info["statement"]["widths"] == [64, 8, 10] and info["statement"]["steps"] == 2
    assert info["proof_digest"] == summary["proof_digest"]
    assert "MLP 64-8-10" in _zkdl("inspect", str(root / "run.zkdl")).stdout


def test_an_invalid_proof_exits_1_and_unusable_input_exits_2(proved, tmp_path):
    root, _ = proved
    data = bytearray((root / "run.zkdl").read_bytes())
    data[-40] ^= 1  # inside the last opening's responses: still decodes, no longer verifies
    (tmp_path / "bad.zkdl").write_bytes(bytes(data))
    done = _zkdl("verify", str(tmp_path / "bad.zkdl"), check=False)
    assert done.returncode == 1 and "INVALID" in done.stdout
    (tmp_path / "cut.zkdl").write_bytes(bytes(data[:100]))
    done = _zkdl("verify", str(tmp_path / "cut.zkdl"), check=False)
    assert done.returncode == 2 and "truncated" in done.stderr
    done = _zkdl("verify", str(tmp_path / "missing.zkdl"), check=False)
    assert done.returncode == 2 and "cannot read" in done.stderr


def test_buyer_checks_the_delivered_weights_against_c_wt(proved):
    root, _ = proved
    statement = Bundle.decode((root / "run.zkdl").read_bytes()).statement
    weights = load_weights(root / "run" / "weights_final.npz", QuantParams())
    opening = root / "run.zkdl.opening.json"
    assert api.check_weights(statement, weights, opening).ok
    changed = weights.w[0].copy()
    changed[0, 0] += 1
    assert not api.check_weights(statement, type(weights)((changed, *weights.w[1:])), opening).ok
    initial = load_weights(root / "run" / "weights_initial.npz", QuantParams())
    assert not api.check_weights(statement, initial, opening).ok


def test_a_malformed_opening_file_is_a_clear_error(proved, tmp_path):
    root, _ = proved
    statement = Bundle.decode((root / "run.zkdl").read_bytes()).statement
    weights = load_weights(root / "run" / "weights_final.npz", QuantParams())
    (tmp_path / "o.json").write_text("{not json")
    with pytest.raises(api.OpeningFormatError, match="not a readable weights opening"):
        api.check_weights(statement, weights, tmp_path / "o.json")
    meta = json.loads((root / "run.zkdl.opening.json").read_text())
    (tmp_path / "o.json").write_text(json.dumps({"format": "zkdl-weights-opening", "blinds": ["0x1"]}))
    with pytest.raises(api.OpeningFormatError, match="opening version None, this zkdl reads version 2"):
        api.check_weights(statement, weights, tmp_path / "o.json")
    (tmp_path / "o.json").write_text(json.dumps({**meta, "blinds": ["0x1"]}))
    with pytest.raises(api.OpeningFormatError, match="do not fit"):
        api.check_weights(statement, weights, tmp_path / "o.json")
    (tmp_path / "o.json").write_text(json.dumps({**meta, "blinds": ["0x" + "f" * 64] + meta["blinds"][1:]}))
    with pytest.raises(api.OpeningFormatError, match="not a field element"):
        api.check_weights(statement, weights, tmp_path / "o.json")
    (tmp_path / "o.json").write_text(json.dumps({**meta, "statement_digest": "0x" + "22" * 32}))
    with pytest.raises(api.OpeningFormatError, match="is the opening of statement 0x2222"):
        api.check_weights(statement, weights, tmp_path / "o.json")
