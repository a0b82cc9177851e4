"""Distributed proving on Ray (docs/distributed.md): the weights at every chunk boundary are
committed (training.commit_boundary), then each chunk is proven (training.prove_planned_chunk, the
code the single-process prover runs), each a Ray task on one CPU; the driver assembles the chunks'
messages in chunk order into the same proof.

Imported only when a proof asks for Ray (`ray` is the optional extra zkdl[ray]). Faults: a worker
process or node lost mid-chunk is a system failure that Ray retries (MAX_RETRIES times, on any
node); an exception raised by a chunk itself (a bad witness) is its own reason, never retried, and
stops the proof.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import ray
import ray.exceptions

from zkdl.data import Dataset
from zkdl.errors import DataError, ZkdlError
from zkdl.proof import training
from zkdl.proof.channel import Message
from zkdl.proof.commitment import TensorCommitment
from zkdl.proof.statement import Statement
from zkdl.run import load_run
from zkdl.witness import Witness

CONNECT_TIMEOUT_S = 10
MAX_RETRIES = 3  # a task whose worker or node dies runs again, on any node, this many times
T = TypeVar("T")


class ClusterError(ZkdlError, RuntimeError):
    """The Ray cluster could not be reached, or a boundary or a chunk could not be proven on it."""

    code = "cluster"


@dataclass(frozen=True)
class InMemoryRun:
    """The witness and data shipped through Ray's object store: put once by the driver, read
    without a copy by every task on a node (fits runs whose witness the driver holds anyway)."""

    witness: Witness
    data: Dataset

    def load(self) -> tuple[Witness, Dataset]:
        return self.witness, self.data


@dataclass(frozen=True)
class SharedRun:
    """The run directory (and data file) on storage every node mounts at the same path: each task
    reads the witness there (fits runs too large to send from the driver)."""

    run_dir: str
    data_path: str | None

    @classmethod
    def of(cls, run_dir: str | Path, data_path: str | Path | None) -> SharedRun:
        return cls(str(Path(run_dir).resolve()), None if data_path is None else str(Path(data_path).resolve()))

    def load(self) -> tuple[Witness, Dataset]:
        from zkdl.api import training_data  # the driver's checks of the run's data, on the worker

        run = load_run(self.run_dir)
        if run.witness is None:
            raise DataError(f"{self.run_dir}: the run has no witness on this node; train it again with zkdl train (it records one)")
        return run.witness, training_data(run, self.data_path)


RunSource = InMemoryRun | SharedRun


@ray.remote(num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=False)
def prove_chunk_task(plan: training.ChunkPlan, k: int, secrets: training.StatementSecrets, source: RunSource) -> list[Message]:
    """One chunk on a worker: its tables and boundary openings built there from the run."""
    witness, data = source.load()
    return training.prove_planned_chunk(plan, k, secrets, witness, data)


@ray.remote(num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=False)
def commit_boundary_task(statement: Statement, t: int, source: RunSource) -> tuple[TensorCommitment, training.BoundaryBlinds]:
    """The commitment to the weights at one boundary, on a worker (each a 2^(2·log N + log L') MSM)."""
    witness, _ = source.load()
    return training.commit_boundary(statement, witness, t)


def prove_run(
    statement: Statement,
    secrets: training.StatementSecrets,
    source: RunSource,
    chunk_steps: int,
    address: str | None,
    on_progress: Callable[[str], None] = lambda _: None,
) -> list[Message]:
    """The proof of the run in chunks of `chunk_steps` steps on the Ray cluster at `address` (None:
    the one $RAY_ADDRESS names, else a local instance): every boundary's commitment, then every
    chunk, a task; `on_progress` is told when the boundaries are committed and each chunk is proven."""
    with connected(address):
        source_ref = ray.put(source)  # once, not once per task
        plan = _plan(statement, source_ref, min(chunk_steps, statement.steps))
        on_progress("boundaries committed")
        proven = _prove_chunks(plan, ray.put(secrets), source_ref, on_progress)
    return [*plan.header(), *(message for k in sorted(proven) for message in proven[k])]


def _plan(statement: Statement, source: ray.ObjectRef[RunSource], chunk_steps: int) -> training.ChunkPlan:
    steps = training.boundary_steps(statement, chunk_steps)
    refs = [commit_boundary_task.remote(statement, t, source) for t in steps]
    return training.ChunkPlan.of(statement, chunk_steps, [_result(ref, f"the commitment to W_{t}") for ref, t in zip(refs, steps)])


def _prove_chunks(
    plan: training.ChunkPlan,
    secrets: ray.ObjectRef[training.StatementSecrets],
    source: ray.ObjectRef[RunSource],
    on_progress: Callable[[str], None],
) -> dict[int, list[Message]]:
    """Each chunk's messages, by chunk: a chunk's own failure cancels the others."""
    plan_ref = ray.put(plan)
    pending = {prove_chunk_task.remote(plan_ref, k, secrets, source): k for k in range(len(plan.spans))}
    proven: dict[int, list[Message]] = {}
    while pending:
        (done,), _ = ray.wait(list(pending), num_returns=1)
        k = pending.pop(done)
        try:
            proven[k] = _result(done, _chunk_name(plan, k))
        except ClusterError:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        on_progress(f"chunk {k + 1}/{len(plan.spans)} proven")
    return proven


def _chunk_name(plan: training.ChunkPlan, k: int) -> str:
    first, steps = plan.spans[k]
    return f"chunk {k + 1}/{len(plan.spans)} (steps {first}..{first + steps - 1})"


def _result(ref: ray.ObjectRef[T], where: str) -> T:
    """A task's result, or the reason it has none."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:  # the task's own failure: its reason, not retried
        cause = exc.cause
        reason = cause.user_message if isinstance(cause, ZkdlError) else f"{type(cause).__name__}: {cause}"
        raise ClusterError(f"{where} failed: {reason}") from None
    except ray.exceptions.RayError as exc:  # its worker or node died more often than Ray retries
        raise ClusterError(f"{where} was lost {MAX_RETRIES + 1} times ({type(exc).__name__}); check the cluster's nodes") from None


def _check_reachable(address: str) -> None:
    """A HOST:PORT head that does not answer fails here, at once: Ray itself retries for minutes."""
    host, _, port = address.rpartition(":")
    if host and port.isdigit():
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S):
            pass


@contextmanager
def connected(address: str | None) -> Iterator[None]:
    """Connected to the Ray cluster for the block (an existing connection of the caller is used as is)."""
    if ray.is_initialized():
        yield
        return
    try:
        if address is not None:
            _check_reachable(address)
        ray.init(address=address, log_to_driver=False)
    except (OSError, ValueError) as exc:  # ConnectionError, a refused or timed-out socket
        raise ClusterError(
            f"cannot reach the Ray cluster at {address or '$RAY_ADDRESS'}: {exc}; start it with `ray start --head` or give its address"
        ) from None
    try:
        yield
    finally:
        ray.shutdown()
