"""The Keccak-256 transcript kernel against a pure-Python reference written from its documented layout.

Layout (kernels/src/transcript.rs, version 1), K = Keccak-256 (EVM), be64 = 8-byte big-endian:
  new(d):             s = K(b"zkdl-transcript-v1" ‖ be64(|d|) ‖ d)
  absorb(tag, l, x):  s = K(s ‖ tag ‖ be64(|l|) ‖ l ‖ be64(|x|) ‖ x); tags 1 bytes, 2 Fr (32-byte BE each),
                      3 points (48-byte compressed each)
  challenge(l, n):    s = K(s ‖ 0x04 ‖ be64(|l|) ‖ l ‖ be64(n)); c_i = int(K(s ‖ 5 ‖ be64(2i)) ‖ K(s ‖ 5 ‖ be64(2i+1))) mod r
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from Crypto.Hash import keccak
from py_ecc import optimized_bls12_381 as ecc
from py_ecc.bls.point_compression import compress_G1

from zkdl import _kernels as k

R = ecc.curve_order


def K(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def be64(x: int) -> bytes:
    return x.to_bytes(8, "big")


class ReferenceTranscript:
    """A second implementation of the transcript, from the documented byte layout only."""

    def __init__(self, domain: bytes):
        self.state = K(b"zkdl-transcript-v1" + be64(len(domain)) + domain)

    def _absorb(self, tag: int, label: bytes, data: bytes) -> None:
        self.state = K(self.state + bytes([tag]) + be64(len(label)) + label + be64(len(data)) + data)

    def absorb_bytes(self, label: bytes, data: bytes) -> None:
        self._absorb(1, label, data)

    def absorb_fr(self, label: bytes, values: list[int]) -> None:
        self._absorb(2, label, b"".join(v.to_bytes(32, "big") for v in values))

    def absorb_points(self, label: bytes, points: list) -> None:
        self._absorb(3, label, b"".join(compress_G1(p).to_bytes(48, "big") for p in points))

    def challenge(self, label: bytes, n: int) -> list[int]:
        self.state = K(self.state + b"\x04" + be64(len(label)) + label + be64(n))
        block = lambda j: K(self.state + b"\x05" + be64(j))  # noqa: E731
        return [int.from_bytes(block(2 * i) + block(2 * i + 1), "big") % R for i in range(n)]


def from_ints(values: list[int]) -> np.ndarray:
    raw = b"".join(v.to_bytes(32, "big") for v in values)
    return k.fr_from_bytes(np.frombuffer(raw, dtype=np.uint8).reshape(len(values), 32))


def to_ints(vector: np.ndarray) -> list[int]:
    return [int.from_bytes(row.tobytes(), "big") for row in k.fr_to_bytes(vector)]


def to_ecc(encoding: np.ndarray):
    raw = encoding.tobytes()
    if raw[0] & 0x40:
        return ecc.Z1
    return (ecc.FQ(int.from_bytes(raw[:48], "big")), ecc.FQ(int.from_bytes(raw[48:], "big")), ecc.FQ.one())


def test_keccak_is_the_evm_keccak():
    assert K(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


def random_points(rng: random.Random, n: int) -> np.ndarray:
    if n == 0:
        return np.zeros((0, 96), np.uint8)
    points = [k.hash_to_g1(b"test/transcript", rng.randbytes(8)) for _ in range(n)]
    if rng.random() < 0.3:
        points[0] = k.g1_identity()
    return np.stack(points)


@pytest.mark.parametrize("seed", range(8))
def test_kernel_agrees_with_the_reference_on_random_sequences(seed):
    rng = random.Random(seed)
    domain = rng.randbytes(rng.randrange(40))
    kernel, reference = k.Transcript(domain), ReferenceTranscript(domain)
    assert kernel.state() == reference.state
    for _ in range(30):
        label = rng.randbytes(rng.randrange(12))
        op = rng.choice(["bytes", "fr", "points", "challenge"])
        if op == "bytes":
            data = rng.randbytes(rng.choice([0, 1, 31, 32, 33, 136, 500]))
            kernel.absorb_bytes(label, data)
            reference.absorb_bytes(label, data)
        elif op == "fr":
            values = [rng.randrange(R) for _ in range(rng.randrange(5))]
            kernel.absorb_fr(label, from_ints(values) if values else np.zeros((0, 4), np.uint64))
            reference.absorb_fr(label, values)
        elif op == "points":
            points = random_points(rng, rng.randrange(4))
            kernel.absorb_points(label, points)
            reference.absorb_points(label, [to_ecc(p) for p in points])
        else:
            n = rng.randrange(5)
            got = kernel.challenge(label, n)
            assert got.shape == (n, 4) and got.dtype == np.uint64
            assert to_ints(got) == reference.challenge(label, n)
        assert kernel.state() == reference.state, op


def challenge_after(domain: bytes, ops: list[tuple[bytes, bytes]]) -> list[int]:
    t = k.Transcript(domain)
    for label, data in ops:
        t.absorb_bytes(label, data)
    return to_ints(t.challenge(b"c", 2))


def test_determinism_and_sensitivity_to_every_input():
    base_ops = [(b"a", b"1"), (b"b", b"22")]
    base = challenge_after(b"d", base_ops)
    assert base == challenge_after(b"d", base_ops)
    variants = {
        "domain": challenge_after(b"e", base_ops),
        "label": challenge_after(b"d", [(b"x", b"1"), (b"b", b"22")]),
        "data": challenge_after(b"d", [(b"a", b"2"), (b"b", b"22")]),
        "order": challenge_after(b"d", [(b"b", b"22"), (b"a", b"1")]),
        "boundary": challenge_after(b"d", [(b"a1", b""), (b"b", b"22")]),
        "split": challenge_after(b"d", [(b"a", b"1"), (b"b", b"2"), (b"", b"2")]),
        "extra": challenge_after(b"d", base_ops + [(b"", b"")]),
    }
    for name, value in variants.items():
        assert value != base, name
    t, u = k.Transcript(b"d"), k.Transcript(b"d")
    t.challenge(b"c", 1)
    u.challenge(b"other", 1)
    assert t.state() != u.state()


def test_successive_challenges_differ_and_fork_is_a_copy():
    t = k.Transcript(b"d")
    t.absorb_fr(b"v", from_ints([3, 4]))
    fork = t.fork()
    before = t.state()
    first = to_ints(t.challenge(b"c", 2))
    assert t.state() != before
    second = to_ints(t.challenge(b"c", 2))
    assert first != second and first[0] != first[1]
    assert fork.state() == before  # untouched by the original's squeezes
    assert to_ints(fork.challenge(b"c", 2)) == first
    assert len(t.state()) == 32 and isinstance(t.state(), bytes)


def test_bad_inputs_are_rejected():
    t = k.Transcript(b"d")
    with pytest.raises(ValueError, match="not a reduced field element"):
        t.absorb_fr(b"v", np.full((1, 4), 2**64 - 1, np.uint64))
    with pytest.raises(ValueError, match=r"shape \(n, 96\)"):
        t.absorb_points(b"p", np.zeros((1, 48), np.uint8))
    with pytest.raises(k.KernelError, match="challenges requested"):
        t.challenge(b"c", 2**25)
    with pytest.raises(TypeError):
        t.absorb_bytes("label", b"data")
    # A failed absorb leaves the state as it was.
    fresh = k.Transcript(b"d")
    assert t.state() == fresh.state()
