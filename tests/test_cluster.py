"""Distributed proving on a real local Ray cluster: a head and a worker node started by the tests as
separate processes (one CPU each, on 127.0.0.1), so chunks and their results take the path between
nodes that a cluster of machines takes (zkdl.cluster, docs/distributed.md)."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import tiny_spec
from tests.raycluster import CountedRun, kill_node, proving_on, start_cluster
from zkdl import api
from zkdl import cluster as cluster_module
from zkdl.cluster import ClusterError, SharedRun
from zkdl.proof import training
from zkdl.proof.bundle import Bundle
from zkdl.proof.data_range import commit_dataset, new_key
from zkdl.run import load_run
from zkdl.train import train

pytestmark = pytest.mark.ray

ROOT = Path(__file__).resolve().parent.parent
OWNER = "0x" + "cd" * 20
STEPS = 3  # three chunks of one step: more chunks than the cluster's two CPUs


@pytest.fixture(scope="module")
def cluster():
    started = start_cluster()
    yield started
    started.stop()


@pytest.fixture(autouse=True)
def driver_env(monkeypatch):
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)


@pytest.fixture(scope="module")
def run_dir(digits, tmp_path_factory):
    """tiny_spec's run on the shipped digits (the data set every node has)."""
    return train(tiny_spec(steps=STEPS, widths=(64, 8, 5, 10)), digits).save(tmp_path_factory.mktemp("run") / "run")


@pytest.fixture(scope="module")
def dataset(run_dir, tmp_path_factory):
    """One committed data set for every proof: statements that differ only in their fresh blinds."""
    return api.commit_data(run_dir, tmp_path_factory.mktemp("dataset") / "digits.dataset").proof_path


@pytest.fixture(scope="module")
def single(run_dir, dataset, tmp_path_factory):
    return api.prove(run_dir, tmp_path_factory.mktemp("single") / "run.zkdl", owner=OWNER, dataset=dataset, chunk_steps=1)


def _prove_on(address, run_dir, dataset, out, shared_run=False):
    return api.prove(run_dir, out, owner=OWNER, dataset=dataset, chunk_steps=1, ray=api.RayOptions(address, shared_run))


def _public(result) -> tuple:
    """The statement and what inspect shows of a bundle, less what the fresh blinds of C_WT change."""
    data = Path(result.bundle_path).read_bytes()
    shown = api.inspect(data)
    for digest in ("statement_digest", "proof_digest"):
        shown.pop(digest)
    shown["commitment_digests"].pop("c_wt")
    return dataclasses.replace(Bundle.decode(data).statement, c_wt=b""), shown


@pytest.mark.parametrize("shared_run", [False, True], ids=["object-store", "shared-run"])
def test_a_cluster_proof_verifies_and_equals_the_single_process_one(cluster, run_dir, dataset, single, tmp_path, shared_run):
    result = _prove_on(cluster.address, run_dir, dataset, tmp_path / "run.zkdl", shared_run)
    verdict = api.verify(Path(result.bundle_path).read_bytes())
    assert verdict.valid, verdict.reason
    assert verdict.valid == api.verify(Path(single.bundle_path).read_bytes()).valid
    assert result.bundle_bytes == single.bundle_bytes
    assert _public(result) == _public(single)


def _zkdl(*args: str, env: dict[str, str] | None = None, without: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """The zkdl command, in a process where importing the modules `without` fails (a machine without them)."""
    run = f"import sys; sys.modules.update(dict.fromkeys({without!r}))\nfrom zkdl.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", run, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


def test_zkdl_prove_ray_writes_a_bundle_that_verifies_where_ray_is_not_installed(cluster, run_dir, dataset, tmp_path):
    bundle = str(tmp_path / "run.zkdl")
    prove = ("prove", str(run_dir), "-o", bundle, "--owner", OWNER, "--dataset", dataset, "--chunk-steps", "1", "--ray", cluster.address)
    done = _zkdl(*prove, "--json", env={**os.environ, "RAY_AUTH_MODE": "disabled"})
    assert done.returncode == 0, done.stderr
    done = _zkdl("verify", bundle, "--json", without=("ray",))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["valid"]


def test_a_cluster_that_does_not_answer_is_named_at_once(run_dir, dataset, tmp_path):
    with socket.socket() as unused:  # bound, not listening: connections are refused
        unused.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{unused.getsockname()[1]}"
        with pytest.raises(ClusterError, match=rf"^cannot reach the Ray cluster at {address}: .*start it with `ray start --head`"):
            _prove_on(address, run_dir, dataset, tmp_path / "run.zkdl")
    assert not (tmp_path / "run.zkdl").exists()


def test_ray_shared_run_without_ray_says_to_give_it(run_dir, tmp_path):
    done = _zkdl("prove", str(run_dir), "-o", str(tmp_path / "run.zkdl"), "--owner", OWNER, "--ray-shared-run")
    assert done.returncode == 2 and "--ray-shared-run needs --ray" in done.stderr  # a usage error


def test_a_chunk_failing_for_its_own_reason_stops_the_proof_with_it(cluster, run_dir, digits, tmp_path):
    """A bad witness (one recorded Z entry changed) is the chunk's own failure: reported, not retried."""
    bad = tmp_path / "bad-run"
    bad.mkdir()
    for path in run_dir.iterdir():
        (bad / path.name).write_bytes(path.read_bytes())
    with np.load(bad / "witness.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["layer0.Z"][1, 0, 0] += 1
    np.savez(bad / "witness.npz", **arrays)
    statement, secrets = training.commit_run(load_run(bad).witness, commit_dataset(digits, new_key()))
    source = CountedRun(SharedRun.of(bad, None), str(tmp_path / "loads"))
    with pytest.raises(ClusterError, match=r"^chunk 2/3 \(steps 1\.\.1\) failed: AssertionError: step 1: Z of layer 0 is not A_in·W"):
        cluster_module.prove_run(statement, secrets, source, 1, cluster.address)
    # two boundary commitments, then at most one attempt per chunk: retried, chunk 2 alone would load 1 + MAX_RETRIES times
    assert len((tmp_path / "loads").read_text().splitlines()) <= 2 + 3


def test_prove_without_ray_never_imports_it(run_dir, dataset, tmp_path):
    prove = (
        "import sys; from zkdl import api\n"
        "api.prove(sys.argv[1], sys.argv[2], owner=sys.argv[3], dataset=sys.argv[4], chunk_steps=2)\n"
        "assert 'ray' not in sys.modules"
    )
    args = [run_dir, tmp_path / "run.zkdl", OWNER, dataset]
    done = subprocess.run([sys.executable, "-c", prove, *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr


def _files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def test_a_driver_killed_mid_chunk_leaves_the_earlier_proof_and_proves_again(cluster, run_dir, tmp_path):
    """`zkdl prove --ray` SIGKILLed while a node proves a chunk: the earlier proof at the path (its
    bundle, opening and fresh data-set files) is left as it was and nothing else is written; run
    again, it writes a new proof that verifies."""
    out = tmp_path / "run.zkdl"
    api.prove(run_dir, out, owner=OWNER, chunk_steps=1)
    before = _files(tmp_path)
    assert set(before) == {"run.zkdl", "run.zkdl.opening.json", "run.zkdl.dataset", "run.zkdl.dataset.key"}
    prove = ("prove", str(run_dir), "-o", str(out), "--owner", OWNER, "--chunk-steps", "1", "--ray", cluster.address, "--json")
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    driver = subprocess.Popen(
        [sys.executable, "-m", "zkdl.cli", *prove], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while proving_on(cluster.head) is None and proving_on(cluster.workers[0]) is None:
            assert time.monotonic() < deadline and driver.poll() is None, "no chunk ever ran on the cluster"
            time.sleep(0.01)
    finally:
        driver.kill()
        driver.wait(timeout=30)
    assert _files(tmp_path) == before
    done = _zkdl(*prove, env=env)
    assert done.returncode == 0, done.stderr
    after = _files(tmp_path)
    assert set(after) == set(before) and after["run.zkdl"] != before["run.zkdl"]
    verdict = api.verify(after["run.zkdl"])
    assert verdict.valid, verdict.reason


def test_a_worker_node_killed_mid_chunk_is_retried_and_the_proof_verifies(run_dir, dataset, tmp_path):
    """Its own cluster: the worker node is killed while it proves a chunk; Ray proves it again on the head."""
    doomed = start_cluster()
    try:
        outcome: dict = {}

        def prove():
            outcome["result"] = _prove_on(doomed.address, run_dir, dataset, tmp_path / "run.zkdl")

        proving = threading.Thread(target=prove)
        proving.start()
        deadline = time.monotonic() + 120
        while proving_on(doomed.workers[0]) is None:
            assert time.monotonic() < deadline and proving.is_alive(), "no chunk ever ran on the worker node"
            time.sleep(0.01)
        kill_node(doomed.workers[0])
        proving.join(timeout=300)
        verdict = api.verify(Path(outcome["result"].bundle_path).read_bytes())
        assert verdict.valid, verdict.reason
    finally:
        doomed.stop()
