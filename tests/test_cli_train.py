"""The ``zkdl`` command: help, ``zkdl train`` (human and --json output, spec files, errors)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from zkdl.cli import SUBCOMMANDS, build_parser
from zkdl.quant import QuantParams
from zkdl.run import load_run

ROOT = Path(__file__).resolve().parent.parent


def zkdl(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m zkdl.cli`` with ``args`` from the repository root."""
    return subprocess.run([sys.executable, "-m", "zkdl.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_help_lists_subcommands() -> None:
    out = zkdl("--help")
    assert out.returncode == 0 and "train" in out.stdout and "demo" in out.stdout
    assert {"train", "demo"} <= set(SUBCOMMANDS)
    assert build_parser().parse_args(["train", "--out", "x"]).run is SUBCOMMANDS["train"].run


def test_train_writes_the_run_and_prints_accuracies(tmp_path: Path) -> None:
    out = zkdl(
        "train",
        "--out",
        str(tmp_path / "run"),
        "--hidden",
        "16",
        "--steps",
        "5",
        "--batch",
        "32",
        "--no-progress",
    )
    assert out.returncode == 0, out.stderr
    assert "train accuracy" in out.stdout and "test accuracy" in out.stdout and "max bits: Z" in out.stdout
    names = {p.name for p in (tmp_path / "run").iterdir()}
    assert names == {"run.json", "weights_initial.npz", "weights_final.npz", "witness.npz"}
    run = load_run(tmp_path / "run")
    assert run.spec.model.widths == (64, 16, 10) and run.spec.steps == 5 and run.data.name == "digits"
    assert run.witness is not None and run.witness.steps == 5


def test_train_json_with_spec_file_and_overrides(tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text("[model]\nhidden = [8]\nbias = true\n[quant]\nlr_exp = 9\n[train]\nbatch = 16\nepochs = 1\nschedule_seed = 3\n")
    out = zkdl("train", "--spec", str(spec), "--out", str(tmp_path / "run"), "--steps", "4", "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["steps"] == 4 and summary["run_dir"] == str(tmp_path / "run")
    assert 0.0 <= summary["test_accuracy"] <= 1.0 and summary["max_bits"]["Z"] <= 64
    meta = json.loads((tmp_path / "run" / "run.json").read_text())
    assert meta["spec"]["model"] == {"widths": [64, 8, 10], "bias": True}
    assert meta["spec"]["quant"]["lr_exp"] == 9 and meta["schedule"]["seed"] == 3
    assert meta["data"]["digest"] == summary["data_digest"]


def test_train_with_csv_data_named_in_the_spec_and_init_weights(tmp_path: Path) -> None:
    rows = [f"{i % 3},{(i * 7) % 5},{i % 2}" for i in range(40)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "spec.json").write_text('{"train": {"data": "d.csv", "batch": 8, "steps": 3}}')
    np.savez(tmp_path / "w.npz", W0=np.full((2, 4), 0.1), W1=np.full((4, 2), -0.1))
    spec, weights, run = (str(tmp_path / n) for n in ("spec.json", "w.npz", "run"))
    out = zkdl("train", "--spec", spec, "--hidden", "4", "--init-weights", weights, "--out", run, "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["data"] == "d.csv"
    run = load_run(tmp_path / "run")  # 0.1 at the weight scale the calibration chose
    assert run.initial.w[0][0, 0] == round(0.1 * 2**run.spec.quant.weight_exp) and run.spec.quant != QuantParams()


def test_demo_runs_the_whole_flow_and_again_in_the_same_folder(tmp_path: Path) -> None:
    """train → prove → register → the verifier attests → the buyer's weight check passes; a second
    run on a new embedded chain does the same (the first run's databases once made it wait for ever)."""
    for run in range(2):
        out = zkdl("demo", "--json", "--steps", "1", "--out", str(tmp_path))
        assert out.returncode == 0, (run, out.stderr)
        summary = json.loads(out.stdout)
        assert summary["training"]["steps"] == 1 and summary["weights_ok"]
        assert (tmp_path / "run.zkdl").stat().st_size == summary["proof"]["bundle_bytes"]
        page = (tmp_path / "provenance.html").read_text()
        assert summary["model_id"] in page and "Verified" in page


@pytest.mark.parametrize(
    "args, message, status",
    [
        (["--range-bits", "50", "--steps", "2"], "overflow at step 0, layer 0, tensor Z", 1),  # the run failed
        (["--data", "nowhere.npz"], "neither 'digits' nor an existing file", 2),  # unusable input
        (["--range-bits", "70"], "range_bits must lie in", 2),
    ],
)
def test_train_errors_exit_with_their_status_and_a_message(tmp_path: Path, args: list[str], message: str, status: int) -> None:
    out = zkdl("train", "--out", str(tmp_path / "run"), "--hidden", "8", "--no-progress", *args)
    assert out.returncode == status and message in out.stderr and "Traceback" not in out.stderr


def test_version_names_the_package_and_the_proof_protocol() -> None:
    out = zkdl("--version")
    assert out.returncode == 0 and out.stdout.startswith("zkdl ") and "proof protocol zkdl/training/v7" in out.stdout


def test_inspect_shows_a_run_directory(tmp_path: Path) -> None:
    assert zkdl("train", "--out", str(tmp_path / "run"), "--hidden", "8", "--steps", "2", "--batch", "16", "--no-progress").returncode == 0
    out = zkdl("inspect", str(tmp_path / "run"))
    assert out.returncode == 0 and "MLP 64-8-10, batch 16" in out.stdout and "trained 2 steps on digits" in out.stdout
    info = json.loads(zkdl("inspect", str(tmp_path / "run"), "--json").stdout)
    assert info["steps"] == 2 and info["data_ref"]["source"] == "digits" and info["spec"]["model"]["widths"] == [64, 8, 10]
