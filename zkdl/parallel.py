"""A proof's chunks verified in parallel, by processes of this machine (`zkdl verify --jobs N`).

The protocol knows nothing of processes: `training.read_chunks` reads the proof's chunking and
where each chunk's messages lie, `training.verify_chunk` verifies one chunk into its own batch of
deferred equations. Here each chunk is verified in a worker process; `training.verify` then checks
every chunk's equations in one MSM, as it does when it verifies the chunks in turn (the same verdict,
and for an invalid proof the same reason: the first failing chunk's).

Workers are spawned, never forked (the parent's kernel threads may be running), and each gets the
proof's chunking once, then one chunk's messages per task; its kernels use its share of the cores.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import partial

from zkdl.errors import SpecError, ZkdlError
from zkdl.proof import opening, training
from zkdl.proof.channel import Message


class VerifierLostError(ZkdlError, RuntimeError):
    """A process verifying chunks died (killed, out of memory): no verdict, not an invalid proof."""

    code = "verifier-lost"


def chunk_verifier(jobs: int) -> training.ChunkVerifier:
    """The chunks verified by `jobs` processes; 1: in this process, one after the other."""
    if jobs < 1:
        raise SpecError(f"jobs is {jobs}: verify with at least one process")
    return training.verify_in_turn if jobs == 1 else partial(_in_processes, jobs)


def _in_processes(jobs: int, proof: training.ChunkedProof, chunk_messages: list[list[Message]]) -> Iterator[opening.Batch]:
    workers = min(jobs, len(chunk_messages))
    if workers == 1:  # one chunk: a process would only add its start-up
        yield from training.verify_in_turn(proof, chunk_messages)
        return
    threads = max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_hold, initargs=(proof, threads)) as pool:
        # results come in chunk order; the first failing chunk's error is raised and the rest cancelled
        yield from pool.map(_verify_held, range(len(chunk_messages)), chunk_messages)


_held: list[training.ChunkedProof] = []  # a worker's proof chunking, received once


def _hold(proof: training.ChunkedProof, threads: int) -> None:
    """A worker's start: its kernels' thread pool (sized from the environment when first used) takes
    its share of the cores, not all of them."""
    os.environ["RAYON_NUM_THREADS"] = str(threads)
    _held.append(proof)


def _verify_held(k: int, messages: list[Message]) -> opening.Batch:
    return training.verify_chunk(_held[0], k, messages)
