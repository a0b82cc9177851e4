"""Transcript binding (docs/protocol.md §2.1, §7): changing any earlier byte of a run's transcript —
a statement field, the chunking, a boundary commitment, the chunk index, any prover message —
changes every later challenge of the transcripts that absorb it.

The verifier's challenges are logged in order (chunk, label, values, how many messages it had
read) by wrapping `Transcript.challenge_scalars` (every challenge, the openings' included, is drawn
through it). A tampered proof is replayed with one element replaced by another valid one and its
log is compared with the honest one. Only challenges matter here, so the replays replace the final
batched check (`opening.Batch.verify`, the group work that feeds no challenge) by a no-op: a
tampered proof then runs to its end and its whole log can be compared.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

import numpy as np
import pytest

from tests.conftest import tiny_spec
from zkdl.backend import MODULUS
from zkdl.proof import opening, training
from zkdl.proof.channel import Message, VerifierChannel
from zkdl.proof.data_range import commit_dataset, new_key
from zkdl.proof.statement import Statement
from zkdl.proof.transcript import Transcript
from zkdl.train import train

STEPS, CHUNK_STEPS = 3, 1  # three chunks of one shape (two boundaries; chunks can swap places)
CHUNKS = STEPS // CHUNK_STEPS
EXTRA_PER_CHUNK = 4  # random messages per chunk beyond one of each label


@dataclass(frozen=True)
class Draw:
    chunk: int
    label: bytes
    values: tuple[int, ...]
    read: int  # messages of the proof the verifier had read when it drew these (prover: unused)


class Recorder:
    """Logs every challenge drawn from a chunk's transcript (`training._transcript`), in order."""

    def __init__(self, mp: pytest.MonkeyPatch) -> None:
        self.draws: list[Draw] = []
        self._chunk: dict[Transcript, int] = {}
        self._read = 2
        transcript_of, challenge, take = training._transcript, Transcript.challenge_scalars, VerifierChannel._take

        def tagged(statement, chunk_steps, boundaries, chunk):
            transcript = transcript_of(statement, chunk_steps, boundaries, chunk)
            self._chunk[transcript] = chunk
            return transcript

        def drawing(transcript, label, n):
            values = challenge(transcript, label, n)
            self.draws.append(Draw(self._chunk[transcript], label, tuple(values), self._read))
            return values

        def taking(channel, label):
            message = take(channel, label)
            self._read = channel.position
            return message

        mp.setattr(training, "_transcript", tagged)
        mp.setattr(Transcript, "challenge_scalars", drawing)
        mp.setattr(VerifierChannel, "_take", taking)

    def verify(self, statement: Statement, messages: list[Message], final_check: bool = False) -> list[Draw]:
        """The verifier's draws on `messages` (the chunking and boundaries are read before any)."""
        self.draws, self._read = [], 2
        with pytest.MonkeyPatch.context() as mp:
            if not final_check:
                mp.setattr(opening.Batch, "verify", lambda self: None)
            training.verify(statement, messages)
        return self.draws


@dataclass(frozen=True)
class Proven:
    statement: Statement
    messages: list[Message]
    prover_draws: list[Draw]
    draws: list[Draw]  # the verifier's, on the honest proof


@pytest.fixture(scope="module")
def recorder():
    with pytest.MonkeyPatch.context() as mp:
        yield Recorder(mp)


@pytest.fixture(scope="module")
def proven(recorder, tiny_data) -> Proven:
    run = train(tiny_spec(steps=STEPS), tiny_data)
    statement, secrets = training.commit_run(run.witness, commit_dataset(tiny_data, new_key()))
    messages = training.prove_run(statement, secrets, run.witness, tiny_data, CHUNK_STEPS)
    prover_draws = recorder.draws
    return Proven(statement, messages, prover_draws, recorder.verify(statement, messages))


def _rebound(original: list[Draw], edited: list[Draw], first: int, chunks: set[int]) -> list[str]:
    """What breaks binding: a draw before `first` that changed, or a later draw of one of `chunks`
    with a value that did not (the logs must have the same draws in the same order)."""
    assert [(d.chunk, d.label) for d in edited] == [(d.chunk, d.label) for d in original]
    changed_early = [f"draw {i} ({d.label.decode()}) changed" for i, d in enumerate(original[:first]) if edited[i] != d]
    unchanged_late = [
        f"draw {i} ({d.label.decode()}, chunk {d.chunk}) kept a value"
        for i, (d, e) in enumerate(zip(original, edited))
        if i >= first and d.chunk in chunks and any(a == b for a, b in zip(d.values, e.values))
    ]
    return changed_early + unchanged_late


def _after(draws: list[Draw], p: int) -> int:
    """The index of the first draw made after the verifier read message p."""
    return next(i for i, d in enumerate(draws) if d.read > p)


def _replaced(messages: list[Message], p: int, message: Message) -> list[Message]:
    return [message if i == p else m for i, m in enumerate(messages)]


def _other_point(points: np.ndarray, j: int) -> np.ndarray:
    """`points` with row j replaced by another valid G1 point (G_V: never an honest row)."""
    edited = points.copy()
    edited[j] = opening.value_generator()
    return edited


def _edited(message: Message, rng: np.random.Generator) -> Message:
    """One scalar (+1, still canonical) or one point of `message` replaced."""
    if message.scalars:
        j = int(rng.integers(len(message.scalars)))
        scalars = list(message.scalars)
        scalars[j] = (scalars[j] + 1) % MODULUS
        return dataclasses.replace(message, scalars=tuple(scalars))
    return dataclasses.replace(message, points=_other_point(message.points, int(rng.integers(len(message.points)))))


def _chunk_starts(messages: list[Message]) -> list[int]:
    return [i for i, m in enumerate(messages) if m.label == b"bits commitment"]


def _sample(messages: list[Message], rng: np.random.Generator) -> list[int]:
    """The points and scalars messages of the chunks to tamper with: one of each label, then
    EXTRA_PER_CHUNK more from every chunk."""
    starts = _chunk_starts(messages) + [len(messages)]
    plain = [i for i in range(starts[0], len(messages)) if messages[i].opening is None]
    by_label: dict[bytes, list[int]] = {}
    for i in plain:
        by_label.setdefault(messages[i].label, []).append(i)
    picked = {int(rng.choice(found)) for found in by_label.values()}
    for lo, hi in itertools.pairwise(starts):
        picked |= {int(i) for i in rng.choice([i for i in plain if lo <= i < hi], EXTRA_PER_CHUNK, replace=False)}
    return sorted(picked)


def test_the_verifier_draws_the_provers_challenges(recorder, proven):
    """The sanity check that keeps the others from passing vacuously, and guards the order of
    absorbs against challenges on the verifier's side (a challenge drawn before the message it
    depends on is read, e.g. a sumcheck round's): the honest proof verifies and the verifier draws
    exactly the prover's challenges, in every chunk, and a replay draws them again."""
    assert recorder.verify(proven.statement, proven.messages, final_check=True) == proven.draws
    assert [(d.chunk, d.label, d.values) for d in proven.draws] == [(d.chunk, d.label, d.values) for d in proven.prover_draws]
    assert {d.chunk for d in proven.draws} == set(range(CHUNKS))
    assert proven.draws[-1].read == len(proven.messages)


def test_every_prover_message_binds_every_later_challenge(recorder, proven):
    """Guards `VerifierChannel.receive_points` / `receive_scalars` absorbing each message before
    the next challenge: replacing one element of a message (one of each label, and a random sample
    of every chunk) leaves every earlier challenge and changes every later one of its chunk."""
    rng = np.random.default_rng(11)
    for p in _sample(proven.messages, rng):
        message = proven.messages[p]
        edited = recorder.verify(proven.statement, _replaced(proven.messages, p, _edited(message, rng)))
        first = _after(proven.draws, p)
        assert not _rebound(proven.draws, edited, first, {proven.draws[first].chunk}), f"message {p} ({message.label.decode()})"


def test_every_part_of_an_opening_binds_every_later_challenge(recorder, proven):
    """Guards `opening.replay`'s absorbs (`_absorb_round`: L[k] and R[k] before c_k; `_absorb_final`:
    A before e): for one opening of each tensor (random chunk), replacing any round's L or R, or A,
    leaves the challenges before it and changes every later one of its chunk. (z1, z2 follow the
    last challenge e: the final equation binds them, not the transcript; docs/opening.md §3.)"""
    rng = np.random.default_rng(12)
    by_label: dict[bytes, list[int]] = {}
    for i, m in enumerate(proven.messages):
        if m.opening is not None:
            by_label.setdefault(m.label, []).append(i)
    for label, found in by_label.items():
        p = int(rng.choice(found))
        proof, x = proven.messages[p].opening, _after(proven.draws, p)
        assert proven.draws[x].label == b"opening/x"
        rounds = len(proof.L)
        edits = [(f"L[{k}]", x + 1 + k, dataclasses.replace(proof, L=_other_point(proof.L, k))) for k in range(rounds)]
        edits += [(f"R[{k}]", x + 1 + k, dataclasses.replace(proof, R=_other_point(proof.R, k))) for k in range(rounds)]
        edits.append(("A", x + 1 + rounds, dataclasses.replace(proof, A=opening.value_generator())))
        for part, first, edited_proof in edits:
            assert proven.draws[first].label == (b"opening/e" if part == "A" else b"opening/c")
            message = dataclasses.replace(proven.messages[p], opening=edited_proof)
            edited = recorder.verify(proven.statement, _replaced(proven.messages, p, message))
            assert not _rebound(proven.draws, edited, first, {proven.draws[first].chunk}), f"{label.decode()} {part}"


def test_the_boundary_commitments_bind_every_chunk(recorder, proven):
    """Guards `_transcript`'s absorb of the boundary weights (all of them, in order, in every
    chunk): replacing one boundary row, or swapping two, changes every challenge of every chunk."""
    rows = proven.messages[1].points
    assert len(rows) >= 2
    j = int(np.random.default_rng(13).integers(len(rows)))
    swapped = rows.copy()
    swapped[[0, -1]] = rows[[-1, 0]]
    for name, edited_rows in ((f"row {j} replaced", _other_point(rows, j)), ("first and last rows swapped", swapped)):
        message = dataclasses.replace(proven.messages[1], points=edited_rows)
        edited = recorder.verify(proven.statement, _replaced(proven.messages, 1, message))
        assert not _rebound(proven.draws, edited, 0, set(range(CHUNKS))), name


def test_the_statement_binds_every_chunk(recorder, proven):
    """Guards `_transcript`'s absorb of the statement, end to end: a statement with another schedule
    seed (same shapes, so the verifier runs through) changes every challenge of every chunk."""
    statement = dataclasses.replace(proven.statement, schedule_seed=proven.statement.schedule_seed + 1)
    assert not _rebound(proven.draws, recorder.verify(statement, proven.messages), 0, set(range(CHUNKS)))


def _changed(statement: Statement, name: str) -> Statement:
    """`statement` with field `name` changed: a flag flipped, a number +1, a width +1 or a commitment's
    last byte flipped (the loss code has no other valid value; the encoding changes all the same)."""
    value = getattr(statement, name)
    if isinstance(value, bool):
        value = not value
    elif isinstance(value, int):
        value += 1
    elif isinstance(value, bytes):
        value = value[:-1] + bytes([value[-1] ^ 1])
    else:
        value = (*value[:-1], value[-1] + 1)
    return dataclasses.replace(statement, **{name: value})


def _states(statement: Statement, chunk_steps: int, rows: np.ndarray) -> list[bytes]:
    return [training._transcript(statement, chunk_steps, rows, k).state() for k in range(CHUNKS)]


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Statement)])
def test_every_statement_field_is_absorbed(proven, name):
    """Guards `_transcript`'s absorb of the whole statement encoding: a change to any one field
    changes every chunk's transcript before its first challenge (the fields that fix sizes would
    stop the verifier early, so the transcripts are compared directly)."""
    rows = proven.messages[1].points
    edited = _changed(proven.statement, name)
    assert edited.encode() != proven.statement.encode()
    before, after = _states(proven.statement, CHUNK_STEPS, rows), _states(edited, CHUNK_STEPS, rows)
    assert all(a != b for a, b in zip(before, after))


def test_the_chunking_is_absorbed_by_every_chunk(proven):
    """Guards `_transcript`'s absorb of the chunk size: another chunking (which changes the number
    of chunks, so the verifier stops early) gives every chunk's transcript another state."""
    rows = proven.messages[1].points
    before, after = _states(proven.statement, CHUNK_STEPS, rows), _states(proven.statement, CHUNK_STEPS + 1, rows)
    assert all(a != b for a, b in zip(before, after))


def test_the_chunk_index_is_absorbed(recorder, proven):
    """Guards `_transcript`'s absorb of the chunk index: the first two chunks (one shape) swapped,
    chunk 1's messages verified as chunk 0 draw none of the challenges they drew as chunk 1."""
    starts = _chunk_starts(proven.messages) + [len(proven.messages)]
    (a, b, c), n = starts[:3], starts[1] - starts[0]
    assert starts[2] - starts[1] == n
    swapped = [*proven.messages[:a], *proven.messages[b:c], *proven.messages[a:b], *proven.messages[c:]]
    as_chunk_0 = [d for d in recorder.verify(proven.statement, swapped) if d.chunk == 0]
    as_chunk_1 = [d for d in proven.draws if d.chunk == 1]
    assert [d.label for d in as_chunk_0] == [d.label for d in as_chunk_1]
    kept = [d.label for d, e in zip(as_chunk_1, as_chunk_0) if any(x == y for x, y in zip(d.values, e.values))]
    assert not kept
