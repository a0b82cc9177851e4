"""A throwaway Ray cluster on this machine for the distributed proving tests (tests/test_cluster.py)
and the benchmark (bench/prove.py --ray-compare).

`start_cluster` starts a head and worker nodes (one by default) as separate `ray start --block`
processes (each in its own session, one CPU, on 127.0.0.1, Ray's token authentication off alike for
every node and the driver: docs/distributed.md says what real clusters use), and waits until all are up;
`Cluster.stop` kills each node's process group and removes the cluster's temporary directory. The
workers import zkdl and this package from the checkout (PYTHONPATH), so a task's arguments defined
here unpickle on them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from zkdl.cluster import SharedRun

ROOT = Path(__file__).resolve().parent.parent
TASK_TITLE = b"ray::prove_chunk_task"  # a worker's process title while it proves a chunk


@dataclass
class Cluster:
    address: str
    head: subprocess.Popen
    workers: list[subprocess.Popen]
    temp_dir: str

    @property
    def nodes(self) -> list[subprocess.Popen]:
        return [self.head, *self.workers]

    def stop(self) -> None:
        for node in reversed(self.nodes):
            kill_node(node)
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def kill_node(node: subprocess.Popen) -> None:
    """The node's `ray start --block` process and what it started (its own session)."""
    if node.poll() is None:
        os.killpg(node.pid, signal.SIGKILL)
    node.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ray_env() -> dict[str, str]:
    # Ray 2.60's token authentication, off for a loopback test cluster alike on every node and the driver
    return {**os.environ, "RAY_AUTH_MODE": "disabled", "PYTHONPATH": str(ROOT)}


def _node(env: dict[str, str], *args: str) -> subprocess.Popen:
    command = [str(Path(sys.executable).with_name("ray")), "start", "--block", "--node-ip-address", "127.0.0.1", "--num-cpus", "1"]
    command += ["--disable-usage-stats", "--object-store-memory", str(100 << 20), *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def start_cluster(worker_nodes: int = 1, node_env: dict[str, str] | None = None) -> Cluster:
    """A head and `worker_nodes` worker nodes, with `node_env` added to each node's environment (and
    so to its workers')."""
    port = _free_port()
    address = f"127.0.0.1:{port}"
    # its own temporary directory: Ray's default one would keep this cluster's address (then dead) for
    # any later ray.init() without an address on the machine
    temp = tempfile.mkdtemp(prefix="ray-")
    env = {**_ray_env(), **(node_env or {})}
    head = _node(env, "--head", "--port", str(port), "--include-dashboard", "false", "--temp-dir", temp)
    workers = [_node(env, "--address", address, "--temp-dir", temp) for _ in range(worker_nodes)]
    cluster = Cluster(address, head, workers, temp)
    nodes = len(cluster.nodes)
    wait = f"import ray, time; ray.init(address={address!r})\nwhile sum(n['Alive'] for n in ray.nodes()) < {nodes}: time.sleep(0.2)"
    try:
        subprocess.run([sys.executable, "-c", wait], env=_ray_env(), check=True, timeout=120, capture_output=True)
    except BaseException:
        cluster.stop()
        raise
    return cluster


@dataclass(frozen=True)
class CountedRun:
    """A run source that notes in a file each time a task loads it: each attempt at a chunk."""

    inner: SharedRun
    log: str

    def load(self):
        with open(self.log, "a") as log:
            log.write("load\n")
        return self.inner.load()


def proving_on(node: subprocess.Popen) -> int | None:
    """The pid of a worker under `node` (its process tree) that is proving a chunk, if any."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "cmdline").read_bytes().startswith(TASK_TITLE) and _descends(int(entry.name), node.pid):
                return int(entry.name)
        except OSError:  # the process ended while read
            continue
    return None


def _descends(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        pid = int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    return False
