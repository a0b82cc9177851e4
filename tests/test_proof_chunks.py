"""Chunked proving: a run is proven a chunk of steps at a time, each chunk under its own
transcript, linked by commitments to the weights at the boundaries. Complete for every chunk
size, bounded in memory by the chunk, and every way of breaking the chain is rejected."""

from __future__ import annotations

import dataclasses
import gc
import re
import weakref

import numpy as np
import pytest

from tests.conftest import tiny_spec
from tests.relations import assert_rejected_by
from zkdl import _kernels
from zkdl.backend.native import from_ints
from zkdl.model import Weights
from zkdl.proof import commitment as cm
from zkdl.proof import training, witness
from zkdl.proof.bundle import Bundle
from zkdl.proof.channel import Message
from zkdl.proof.data_range import commit_dataset, new_key
from zkdl.proof.layout import Layout
from zkdl.train import train
from zkdl.witness import Witness

STEPS = 5


@pytest.fixture(scope="module")
def run(tiny_data):
    return train(tiny_spec(steps=STEPS), tiny_data)


@pytest.fixture(scope="module")
def committed(run, tiny_data):
    return training.commit_run(run.witness, commit_dataset(tiny_data, new_key()))


def _prove(run, data, committed, chunk_steps):
    statement, secrets = committed
    return statement, training.prove_run(statement, secrets, run.witness, data, chunk_steps)


@pytest.fixture(scope="module")
def chunked(run, tiny_data, committed):
    """Chunks of 2, 2 and 1 steps."""
    return _prove(run, tiny_data, committed, 2)


@pytest.mark.parametrize("chunk_steps", [1, 3, STEPS, 64])
def test_every_chunk_size_proves_the_run(run, tiny_data, committed, chunk_steps):
    statement, messages = _prove(run, tiny_data, committed, chunk_steps)
    training.verify(statement, messages)
    assert messages[0].scalars == (min(chunk_steps, STEPS),)
    assert sum(m.label == b"bits commitment" for m in messages) == len(training.chunks(STEPS, chunk_steps))


def test_a_chunked_run_with_a_bias_proves(tiny_data):
    run = train(dataclasses.replace(tiny_spec(steps=3), model=dataclasses.replace(tiny_spec().model, bias=True)), tiny_data)
    statement, secrets = training.commit_run(run.witness, commit_dataset(tiny_data, new_key()))
    training.verify(statement, training.prove_run(statement, secrets, run.witness, tiny_data, 2))


def test_the_prover_holds_one_chunk_of_tables_at_a_time(run, tiny_data, committed, monkeypatch):
    built = []
    of = witness.ProverTables.of.__func__

    def recording(cls, layout, run_, data):
        built.append((layout.first_step, layout.steps))
        return of(cls, layout, run_, data)

    monkeypatch.setattr(witness.ProverTables, "of", classmethod(recording))
    _prove(run, tiny_data, committed, 2)
    assert built == [(0, 2), (2, 2), (4, 1)]


def test_the_prover_holds_no_boundary_weights_between_chunks(run, tiny_data, committed, monkeypatch):
    """A boundary's padded weight slots (2 GiB for the paper's shape) live while a chunk that uses
    them is proven, then go: memory does not grow with the number of chunks."""
    openings: list[weakref.ref] = []

    def recorded(make):
        def wrapper(*args):
            result = make(*args)
            openings.append(weakref.ref(result[1] if isinstance(result, tuple) else result))
            return result

        return wrapper

    monkeypatch.setattr(cm, "commit_int64", recorded(cm.commit_int64))  # the boundaries' commitments
    monkeypatch.setattr(training, "TensorOpening", recorded(training.TensorOpening))  # their rebuilt openings
    alive_at_chunk_start = []
    of = witness.ProverTables.of.__func__

    def counting(cls, layout, run_, data):
        gc.collect()
        alive_at_chunk_start.append(sum(ref() is not None for ref in openings))
        return of(cls, layout, run_, data)

    monkeypatch.setattr(witness.ProverTables, "of", classmethod(counting))
    _prove(run, tiny_data, committed, 1)
    assert alive_at_chunk_start == [0] * STEPS
    assert len(openings) == 3 * (STEPS - 1)  # each boundary committed once, its opening rebuilt for its two chunks


def test_the_chunk_layouts_read_the_run_s_schedule(committed):
    lay = Layout.of(committed[0])
    assert np.array_equal(np.concatenate([lay.chunk(t, n).schedule for t, n in training.chunks(STEPS, 2)]), lay.schedule)


def _chunk_starts(messages):
    return [i for i, m in enumerate(messages) if m.label == b"bits commitment"] + [len(messages)]


def _rejected(statement, messages, relation, match):
    """Asserts the verifier rejects by `relation` with a message matching the regex `match`."""
    reason = assert_rejected_by(statement, list(messages), relation)
    assert re.search(match, reason), reason


# The first deferred check of a chunk: a chunk verified under another transcript than it was proven
# in (another boundary commitment, another chunk index) fails it first, every challenge being other.
FIRST_CHECK = r"^forward: the committed product is not the product of its factors$"


def _state(statement, messages, chunk):
    """The state the verifier starts chunk `chunk`'s transcript in."""
    return training._transcript(statement, messages[0].scalars[0], messages[1].points, chunk).state()


def test_an_edited_boundary_commitment_is_rejected(chunked):
    """The boundary commitments are bound into every chunk's transcript."""
    statement, messages = chunked
    rows = messages[1].points.copy()
    generator = cm.commit_key(cm.MatrixLayout.of((len(rows),)).row_length).generators()[0]
    rows[0] = _kernels.msm(np.stack([rows[0], generator]), from_ints([1, 1]))
    edited = [messages[0], Message(b"boundary weights", points=rows), *messages[2:]]
    assert _state(statement, edited, 0) != _state(statement, messages, 0)
    _rejected(statement, edited, "forward", FIRST_CHECK)


def test_swapped_chunks_are_rejected(chunked):
    """The chunk index is bound into each chunk's transcript: the second chunk's messages read as the
    first's fail the first chunk's first check."""
    statement, messages = chunked
    starts = _chunk_starts(messages)
    first, second = messages[starts[0] : starts[1]], messages[starts[1] : starts[2]]
    assert _state(statement, messages, 0) != _state(statement, messages, 1)
    _rejected(statement, messages[: starts[0]] + second + first + messages[starts[2] :], "forward", FIRST_CHECK)


def test_a_chunk_of_another_proof_is_rejected(run, tiny_data, committed, chunked):
    """Another proof of the same run commits its boundaries with other blinds: its chunk was proven
    under another transcript."""
    statement, messages = chunked
    _, other = _prove(run, tiny_data, committed, 2)
    starts = _chunk_starts(messages)
    assert _state(statement, other, 1) != _state(statement, messages, 1)
    mixed = messages[: starts[1]] + other[starts[1] : starts[2]] + messages[starts[2] :]
    _rejected(statement, mixed, "forward", FIRST_CHECK)


def test_a_changed_chunk_size_or_missing_boundaries_are_rejected(chunked):
    statement, messages = chunked
    chunk_size = lambda n: [Message(b"chunking", scalars=(n,)), *messages[1:]]  # noqa: E731
    _rejected(statement, chunk_size(3), "chunking", r"^the boundary weights must be 16 commitment rows for chunks of 3 steps$")
    _rejected(statement, chunk_size(STEPS + 1), "chunking", rf"^the chunk size must be one number of steps in \[1, {STEPS}\]$")
    boundary = [messages[0], Message(b"boundary weights", points=messages[1].points[:-1]), *messages[2:]]
    _rejected(statement, boundary, "chunking", r"^the boundary weights must be 32 commitment rows for chunks of 2 steps$")
    _rejected(statement, messages[2:], "chunking", r"^the proof must start with its chunking and boundary weights$")
    _rejected(statement, messages + messages[-1:], "structure", r"^1 unexpected messages at the end of the proof$")


def test_wrong_weights_at_a_boundary_are_rejected(run, tiny_data, committed, monkeypatch):
    """The cheat run through the honest prover: the weights at the boundary after the first chunk
    are not the ones training produced; the prover commits them and uses them as the first chunk's
    end and the second chunk's start (so every opening matches its commitment)."""
    honest = Witness.weights_at

    def cheating(recorded, t):
        w = honest(recorded, t)
        if t != 2:
            return w
        return Weights(tuple(x + (l == 0) for l, x in enumerate(w.w)), w.b)

    monkeypatch.setattr(Witness, "weights_at", cheating)
    monkeypatch.setattr(witness.ProverTables, "check", lambda _: None)  # its own products check would stop it
    statement, messages = _prove(run, tiny_data, committed, 2)
    monkeypatch.undo()
    # the first chunk's R4: its W_T (the wrong boundary) is not W_0 − Σ its updates (the second chunk's R1 fails after it)
    _rejected(statement, messages, "history", r"^history updates final: the committed value is not zero$")


@pytest.mark.parametrize("chunk_steps", [2, STEPS])
def test_bundles_of_chunked_proofs_round_trip(run, tiny_data, committed, chunk_steps):
    """Including the empty boundary message of a single chunk."""
    statement, messages = _prove(run, tiny_data, committed, chunk_steps)
    decoded = Bundle.decode(Bundle(statement, tuple(messages)).encode())
    training.verify(decoded.statement, list(decoded.messages))
