"""A data set's identity as users meet it: `zkdl dataset commit` once, every proof on it carries
its id, a public one is the data's own, and a run on other data cannot wear it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from eth_hash.auto import keccak
from eth_utils import encode_hex

from tests import proof_cheats as pc
from zkdl import api
from zkdl.dataset_files import DatasetFileError
from zkdl.model import ModelSpec, TrainSpec
from zkdl.proof.bundle import Bundle
from zkdl.quant import QuantParams
from zkdl.train import train

OWNER = "0x" + "cd" * 20


def _zkdl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zkdl.cli", *args], capture_output=True, text=True)


def _spec(hidden: int) -> TrainSpec:
    return TrainSpec(ModelSpec((64, hidden, 10)), QuantParams(), batch=8, steps=2, schedule_seed=1, init_seed=2)


@pytest.fixture(scope="module")
def runs(digits, tmp_path_factory) -> tuple[Path, Path, Path]:
    """Two models on digits (other hidden widths) and the public digits data set, committed once."""
    root = tmp_path_factory.mktemp("identity")
    first, second = (train(_spec(h), digits).save(root / f"run{h}") for h in (8, 12))
    done = _zkdl("dataset", "commit", str(first), "-o", str(root / "digits.dataset"), "--public", "--json")
    assert done.returncode == 0, done.stderr
    return first, second, root / "digits.dataset"


def _statement_dataset_id(bundle: Path) -> str:
    return encode_hex(keccak(Bundle.decode(bundle.read_bytes()).statement.c_data))


def test_models_trained_on_one_data_set_carry_its_id(runs, tmp_path):
    """The statement's C_data is the data set's own commitment: two networks on the same committed
    data set have the same data-set id, which `zkdl dataset check` names."""
    first, second, dataset = runs
    ids = set()
    for run in (first, second):
        out = tmp_path / f"{run.name}.zkdl"
        result = api.prove(run, out, owner=OWNER, dataset=dataset)
        assert api.verify(out.read_bytes(), dataset.read_bytes()).valid
        ids |= {result.dataset_id, _statement_dataset_id(out)}
    check = json.loads(_zkdl("dataset", "check", str(dataset), "--data", "digits", "--json").stdout)
    assert ids == {check["dataset_id"]} and check["valid"] and check["data_matches"] and check["public"]


def test_a_public_commitment_is_recomputed_from_the_file_and_a_private_one_is_fresh(runs, tmp_path):
    first, _, dataset = runs
    again = api.commit_data(first, tmp_path / "again.dataset", public=True)
    assert again.key_path is None and again.proof_path and (tmp_path / "again.dataset").read_bytes() != b""
    assert again.dataset_id == json.loads(_zkdl("dataset", "check", str(dataset), "--json").stdout)["dataset_id"]
    private = [api.commit_data(first, tmp_path / f"private{i}.dataset") for i in range(2)]
    assert private[0].dataset_id != private[1].dataset_id != again.dataset_id
    assert Path(private[0].key_path or "").is_file()
    done = _zkdl("dataset", "check", private[0].proof_path, "--run", str(first), "--key", private[0].key_path or "")
    assert done.returncode == 0 and "its commitment is this data set's" in done.stdout
    done = _zkdl("dataset", "check", private[0].proof_path, "--run", str(first), "--key", private[1].key_path or "")
    assert done.returncode == 2 and "is the key of data set" in done.stderr


def test_a_run_on_other_data_cannot_wear_the_digits_id(runs, tmp_path):
    """Another data set (same shape as digits) trained under a digits-like statement: proving it on
    the registered digits data set is refused, and its own proof names another data set, which the
    digits data set's file does not verify for."""
    _, _, dataset = runs
    other = pc.synthetic(1437, 64, 10, seed=4)
    run = train(_spec(8), other).save(tmp_path / "other")
    with pytest.raises(DatasetFileError, match="is not the data set"):
        api.prove(run, tmp_path / "x.zkdl", owner=OWNER, data=other, dataset=dataset)
    result = api.prove(run, tmp_path / "other.zkdl", owner=OWNER, data=other)
    assert result.dataset_key_path is not None and Path(result.dataset_path).is_file()  # a fresh private data set
    assert result.dataset_id != json.loads(_zkdl("dataset", "check", str(dataset), "--json").stdout)["dataset_id"]
    verdict = api.verify((tmp_path / "other.zkdl").read_bytes(), dataset.read_bytes())
    assert not verdict.valid and "not the statement's" in (verdict.reason or "")
    assert api.verify((tmp_path / "other.zkdl").read_bytes(), Path(result.dataset_path).read_bytes()).valid


def test_verify_reports_a_damaged_data_set_file(runs, tmp_path):
    first, _, dataset = runs
    api.prove(first, tmp_path / "m.zkdl", owner=OWNER, dataset=dataset)
    damaged = tmp_path / "damaged.dataset"
    data = dataset.read_bytes()
    damaged.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    done = _zkdl("verify", str(tmp_path / "m.zkdl"), "--dataset", str(damaged))
    assert done.returncode == 1 and "INVALID: the data set's range proof" in done.stdout
    done = _zkdl("verify", str(tmp_path / "m.zkdl"), "--dataset", str(dataset))
    assert done.returncode == 0 and "its data set's range proof verified too" in done.stdout


def test_a_public_csv_data_set_is_checked_against_its_file_as_train_loaded_it(tmp_path):
    """A user CSV (standardised, its scale chosen by zkdl train): `dataset check --data FILE`
    loads it as train did, at the data set's own scale, and finds the same commitment; loaded any
    other way (not standardised) it is not this data set."""
    wine = str(Path(__file__).resolve().parent / "vectors" / "wine.csv")
    assert _zkdl("train", "--out", str(tmp_path / "run"), "--data", wine, "--steps", "2", "--no-progress").returncode == 0
    assert _zkdl("dataset", "commit", str(tmp_path / "run"), "-o", str(tmp_path / "wine.dataset"), "--public").returncode == 0
    done = _zkdl("dataset", "check", str(tmp_path / "wine.dataset"), "--data", wine)
    assert done.returncode == 0 and "its commitment is this data set's" in done.stdout, done.stdout + done.stderr
    done = _zkdl("dataset", "check", str(tmp_path / "wine.dataset"), "--data", wine, "--no-standardize")
    assert done.returncode == 1 and "NOT this data set" in done.stdout
