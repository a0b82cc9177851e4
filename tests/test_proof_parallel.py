"""A proof's chunks verified in parallel processes (zkdl.parallel): the verdict, and for every
malformed proof the reason, of the verifier that reads the chunks in turn; each chunk must read
exactly the messages up to the next chunk's start, however the proof is split."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys

import pytest

from tests.conftest import tiny_spec
from tests.relations import assert_rejected_by
from zkdl import api, parallel
from zkdl.backend import MODULUS
from zkdl.errors import SpecError
from zkdl.proof import training
from zkdl.proof.bundle import Bundle
from zkdl.proof.channel import Message
from zkdl.proof.data_range import commit_dataset, new_key
from zkdl.proof.errors import VerificationError
from zkdl.train import train

STEPS, CHUNK_STEPS = 5, 2  # chunks of 2, 2 and 1 steps
IN_PROCESSES = parallel.chunk_verifier(2)


@pytest.fixture(scope="module")
def chunked(tiny_data):
    run = train(tiny_spec(steps=STEPS), tiny_data)
    statement, secrets = training.commit_run(run.witness, commit_dataset(tiny_data, new_key()))
    return statement, training.prove_run(statement, secrets, run.witness, tiny_data, CHUNK_STEPS)


def _starts(messages: list[Message]) -> list[int]:
    return [i for i, m in enumerate(messages) if m.label == b"bits commitment"]


def _reason(statement, messages, verify_chunks) -> str:
    with pytest.raises(VerificationError) as raised:
        training.verify(statement, messages, verify_chunks)
    return raised.value.user_message


def test_a_valid_proof_verifies_in_processes_and_none_of_its_chunks_in_this_one(chunked, monkeypatch):
    statement, messages = chunked
    assert len(_starts(messages)) == 3
    training.verify(statement, messages, IN_PROCESSES)

    def here(*_):
        raise AssertionError("a chunk was verified in the parent process")

    monkeypatch.setattr(training, "verify_chunk", here)  # the spawned workers import their own, unpatched
    training.verify(statement, messages, IN_PROCESSES)
    with pytest.raises(AssertionError, match="parent process"):
        training.verify(statement, messages)


def _bumped(message: Message) -> Message:
    return dataclasses.replace(message, scalars=((message.scalars[0] + 1) % MODULUS, *message.scalars[1:]))


def _scalars_at(messages: list[Message], chunk: int) -> int:
    """The index of the first scalars message of `chunk`."""
    start = _starts(messages)[chunk]
    return next(i for i in range(start, len(messages)) if messages[i].scalars)


# edit name -> (the edited proof, the relation that must refuse it, its reason's pattern)
EDITS = {
    "a message dropped in the middle chunk": (
        lambda m, s: m[: s[1] + 5] + m[s[1] + 6 :],
        "structure",
        r"^message \d+ is '[^']+', expected '[^']+'$",
    ),
    "a message repeated in the middle chunk": (lambda m, s: m[: s[1] + 5] + m[s[1] + 4 :], "structure", r"^message \d+ is"),
    "the first chunk's last message dropped (it reads the next chunk's first)": (
        lambda m, s: m[: s[1] - 1] + m[s[1] :],
        "structure",
        r"^message \d+ is 'bits commitment', expected 'opening BO'$",  # BO is opened last
    ),
    "a message after the first chunk's last": (
        lambda m, s: m[: s[1]] + [m[s[1] - 1]] + m[s[1] :],
        "structure",
        r"^1 unexpected messages at the end of chunk 1/3$",
    ),
    "a message after the proof's last": (lambda m, s: m + m[-1:], "structure", r"^1 unexpected messages at the end of the proof$"),
    "the first two chunks swapped": (
        lambda m, s: m[:2] + m[s[1] : s[2]] + m[s[0] : s[1]] + m[s[2] :],
        "forward",
        r"^forward: the committed product is not the product of its factors$",
    ),
    "the last chunk dropped": (lambda m, s: m[: s[2]], "structure", r"^the proof ends before the message 'bits commitment'$"),
    "a chunk's first message repeated inside it": (
        lambda m, s: m[: s[1] + 3] + [m[s[1]]] + m[s[1] + 3 :],
        "structure",
        r"^message \d+ is 'bits commitment', expected",
    ),
    "a scalar of the last chunk changed": (
        lambda m, s: [_bumped(x) if i == _scalars_at(m, 2) else x for i, x in enumerate(m)],
        "forward",
        r"^forward\b",
    ),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edited_chunk_is_refused_in_processes_for_the_reason_it_is_refused_in_turn(chunked, edit):
    statement, messages = chunked
    make, relation, pattern = EDITS[edit]
    edited = make(list(messages), _starts(messages))
    reason = assert_rejected_by(statement, edited, relation)
    assert re.search(pattern, reason), reason
    assert _reason(statement, edited, IN_PROCESSES) == reason


def test_api_verify_with_jobs_gives_the_verdict_of_one_process(chunked):
    statement, messages = chunked
    bundle = Bundle(statement, tuple(messages)).encode()
    assert api.verify(bundle, jobs=2).valid
    edited = Bundle(statement, tuple(messages + messages[-1:])).encode()
    serial, in_processes = api.verify(edited), api.verify(edited, jobs=2)
    assert not in_processes.valid and in_processes.reason == serial.reason
    with pytest.raises(SpecError, match=r"^jobs is 0: verify with at least one process$"):
        api.verify(bundle, jobs=0)


# Run in a fresh interpreter: the processes it kills are the ones its verification spawned, whatever
# earlier tests left in the test process.
_KILL_A_VERIFIER = """
import multiprocessing, os, signal, sys, threading, time
from zkdl import api
from zkdl.errors import ZkdlError

outcome = {}

def verify():
    try:
        outcome["result"] = api.verify(open(sys.argv[1], "rb").read(), jobs=2)
    except ZkdlError as exc:
        outcome["error"] = exc

verifying = threading.Thread(target=verify)
verifying.start()
deadline = time.monotonic() + 60
while len(multiprocessing.active_children()) < 2:  # both workers: one still starting would outlive the pool
    assert time.monotonic() < deadline and verifying.is_alive(), "the verifying processes never started"
    time.sleep(0.01)
for child in multiprocessing.active_children():
    os.kill(child.pid, signal.SIGKILL)
verifying.join(timeout=120)
print(type(outcome.get("error")).__name__, outcome.get("error"), sep="\\n")
"""


def test_a_verifying_process_killed_is_a_clear_error_not_a_verdict(chunked, tmp_path):
    statement, messages = chunked
    (tmp_path / "b.zkdl").write_bytes(Bundle(statement, tuple(messages)).encode())
    done = subprocess.run([sys.executable, "-c", _KILL_A_VERIFIER, str(tmp_path / "b.zkdl")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    kind, message = done.stdout.strip().split("\n")
    assert kind == parallel.VerifierLostError.__name__, done.stdout
    assert message == "a process verifying the chunks died (out of memory?): verify again with fewer than 2 jobs"
