"""zkdl prove / verify / inspect as a user runs them, and the weight check of the Python API."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from zkdl import api
from zkdl.model import load_weights
from zkdl.proof import training
from zkdl.proof.bundle import Bundle
from zkdl.proof.registration import OPENING_VERSION
from zkdl.quant import QuantParams

ROOT = Path(__file__).resolve().parent.parent


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
    assert done.returncode == 2 and "give --owner ADDR" in done.stderr and "ZKDL_OWNER_KEY" in done.stderr
    done = _zkdl("prove", str(root / "run"), "-o", str(root / "x.zkdl"), "--owner", "0x12", check=False)
    assert done.returncode == 2 and "is not an address" in done.stderr


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


def test_verify_jobs_checks_the_chunks_in_processes_with_the_verdict_of_one(proved, tmp_path):
    root, _ = proved
    assert _zkdl("verify", str(root / "run.zkdl"), "--jobs", "2").returncode == 0
    data = bytearray((root / "run.zkdl").read_bytes())
    data[-40] ^= 1
    (tmp_path / "bad.zkdl").write_bytes(bytes(data))
    serial, in_processes = (_zkdl("verify", str(tmp_path / "bad.zkdl"), "--json", "--jobs", jobs, check=False) for jobs in "12")
    assert in_processes.returncode == 1 and json.loads(in_processes.stdout)["reason"] == json.loads(serial.stdout)["reason"]
    done = _zkdl("verify", str(root / "run.zkdl"), "--jobs", "0", check=False)
    assert done.returncode == 2 and "0 is not a positive number" in done.stderr


def test_a_proof_stopped_midway_leaves_the_earlier_one_as_it_was(proved, monkeypatch):
    """Its bundle, opening and data-set files: nothing is written before the new proof is done."""
    root, _ = proved
    files = lambda: {path.name: path.read_bytes() for path in root.glob("run.zkdl*")}  # noqa: E731
    before = files()
    assert len(before) == 4

    def stopped(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "prove_run", stopped)
    with pytest.raises(KeyboardInterrupt):
        api.prove(root / "run", root / "run.zkdl", owner=OWNER, chunk_steps=1)
    assert files() == before


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
    with pytest.raises(api.OpeningFormatError, match=f"opening version None, this zkdl reads version {OPENING_VERSION}"):
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


def test_a_run_is_proven_from_any_directory_with_the_split_it_was_trained_on(tmp_path):
    """The run records its data file (absolute path) and split: `prove` from another directory finds
    and checks it; a moved file is named with the remedy, and --data gives its new place (a changed
    file is refused by its digest). The run here uses a 0.3 test split, not the default 0.2."""
    rng = np.random.default_rng(3)
    rows = [[*rng.integers(0, 3, 4), i % 3] for i in range(40)]
    (tmp_path / "data").mkdir()
    csv = tmp_path / "data" / "mine.csv"
    csv.write_text("a,b,c,d,label\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def zkdl_in(cwd, *args):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        return subprocess.run([sys.executable, "-m", "zkdl.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)

    train = ("train", "--out", "run", "--data", "mine.csv", "--data-frac-bits", "0", "--test-fraction", "0.3")
    done = zkdl_in(
        tmp_path / "data", *train, "--hidden", "4", "--batch", "4", "--steps", "2", "--frac-bits", "10", "--lr-exp", "14", "--no-progress"
    )
    assert done.returncode == 0, done.stderr
    run = str(tmp_path / "data" / "run")
    done = zkdl_in(elsewhere, "prove", run, "-o", "a.zkdl", "--owner", OWNER)
    assert done.returncode == 0, done.stderr
    csv.rename(tmp_path / "moved.csv")
    done = zkdl_in(elsewhere, "prove", run, "-o", "b.zkdl", "--owner", OWNER)
    assert done.returncode == 2 and "is not there any more: give its new location with --data PATH" in done.stderr
    done = zkdl_in(elsewhere, "prove", run, "-o", "b.zkdl", "--owner", OWNER, "--data", str(tmp_path / "moved.csv"))
    assert done.returncode == 0, done.stderr
    (tmp_path / "changed.csv").write_text((tmp_path / "moved.csv").read_text().replace("\n1", "\n2", 1))
    done = zkdl_in(elsewhere, "prove", run, "-o", "c.zkdl", "--owner", OWNER, "--data", str(tmp_path / "changed.csv"))
    assert done.returncode == 2 and "is not the data set the run was trained on" in done.stderr


def test_a_crafted_label_cannot_write_to_the_operators_terminal(proved, tmp_path):
    """A bundle whose message label holds a newline and terminal escapes (a fake green VALID line):
    verify's output shows them escaped, on the one line of its verdict."""
    root, _ = proved
    bundle = Bundle.decode((root / "run.zkdl").read_bytes())
    evil = b"forward\n\x1b[32mVALID\x1b[0m"
    messages = list(bundle.messages)
    k = next(i for i, m in enumerate(messages) if i >= 2 and m.scalars)  # a message with a payload to cut into
    messages[k] = type(messages[k])(evil, scalars=messages[k].scalars)
    encoded = Bundle(bundle.statement, tuple(messages)).encode()
    cut = encoded[: encoded.index(evil) + len(evil) + 5 + 7]  # inside its payload: the decoder names the label
    for name, data, status in (("evil.zkdl", encoded, 1), ("cut.zkdl", cut, 2)):
        (tmp_path / name).write_bytes(data)
        done = _zkdl("verify", str(tmp_path / name), check=False)
        out = done.stdout + done.stderr
        assert done.returncode == status and "\x1b" not in out and "\\x1b[32mVALID" in out, out
        assert not any(line.startswith("\x1b") or line == "VALID" for line in out.splitlines())
