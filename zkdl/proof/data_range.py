"""A data set's commitment and its range proof, made once per data set (zkdl.proof.dataset).

Blinds. Row i of D_X (resp. D_Y) is blinded by SHAKE-256("zkdl/dataset-blinds/v1" ‖ key ‖ "X"
(resp. "Y") ‖ u32 i), 64 bytes read big-endian, reduced mod r: the owner re-derives the opening
from the data and a 32-byte key, so one data set keeps one commitment across every model trained on
it. A public data set uses the all-zero key: its commitment is a function of the data alone.

Range proof (its own transcript, opened with DATASET_TAG and the data set's encoding):

1. the prover commits B, the two's-complement bits of D_X (2^⌈log(v + 1)⌉ per value: an unsigned
   v-bit value needs a spare sign bit), before any challenge;
2. binarity: every committed bit is 0 or 1 (zkdl.proof.binarity);
3. recomposition: at a random point u, D̃_X(u) = Σ_x eq(u, x)·[x real]·Σ_j κ_j·B(x, j), with κ_j the
   weights of a v-bit value (2^j; for a signed range −2^(v−1) for the top bit; 0 beyond v) and
   [x real] the mask of the first n rows and d columns: by Schwartz–Zippel every real input is a
   v-bit value and every padded entry zero. The common value is sent hidden and claimed on both;
4. the labels are one-hot over the real classes (zkdl.proof.targets);
5. each of D_X, D_Y, B: one merge of its claims, one zero-knowledge opening.

Nothing of the data leaks: every value the prover states is committed (as in the training proof).
"""

from __future__ import annotations

import hashlib
import secrets as random_source
import struct
from dataclasses import dataclass
from functools import partial

import numpy as np

from zkdl import backend
from zkdl.backend import MODULUS, Vector
from zkdl.data import Dataset
from zkdl.proof import claims as cl
from zkdl.proof import commitment as cm
from zkdl.proof import opening
from zkdl.proof.binarity import binarity
from zkdl.proof.channel import Message, ProverChannel, VerifierChannel
from zkdl.proof.claims import ClaimBook, Factor, Shape
from zkdl.proof.commitment import TensorCommitment, TensorOpening
from zkdl.proof.dataset import MAX_VALUE_BITS, PUBLIC_KEY, DatasetCommitment, DatasetFormatError
from zkdl.proof.errors import VerificationError
from zkdl.proof.layout import log2_ceil
from zkdl.proof.mle import weighted_sum
from zkdl.proof.packed import BitTable, Int64Table
from zkdl.proof.party import Party, ProverParty, VerifierParty, merge_and_open, settle
from zkdl.proof.targets import check_one_hot
from zkdl.proof.transcript import Transcript
from zkdl.proof.witness import data_tables

DATASET_TAG = b"zkdl/dataset/v1"
BLINDS_DOMAIN = b"zkdl/dataset-blinds/v1"
KEY_BYTES = 32
MAX_PROVEN_SAMPLES = 1 << 24  # what a verifier builds tables for (public tables grow with the rows)
MAX_PROVEN_FEATURES = 1 << 16


@dataclass(frozen=True)
class DatasetSecrets:
    """The owner's openings of C_X and C_Y (re-derivable from the data and the key)."""

    x: TensorOpening
    y: TensorOpening


@dataclass(frozen=True)
class CommittedDataset:
    commitment: DatasetCommitment
    secrets: DatasetSecrets


def new_key() -> bytes:
    return random_source.token_bytes(KEY_BYTES)


def dataset_blinds(key: bytes, name: bytes, rows: int) -> Vector:
    """The blinds of a committed tensor's rows, derived from the data set's key (module docstring)."""
    if len(key) != KEY_BYTES:
        raise ValueError(f"a data-set key is {KEY_BYTES} bytes, got {len(key)}")
    digests = (hashlib.shake_256(BLINDS_DOMAIN + key + name + struct.pack(">I", i)).digest(64) for i in range(rows))
    return backend.from_ints([int.from_bytes(d, "big") % MODULUS for d in digests])


def value_bits(inputs: np.ndarray) -> tuple[int, bool]:
    """The narrowest range holding every input: (v, signed)."""
    low, high = int(inputs.min(initial=0)), int(inputs.max(initial=0))
    if low >= 0:
        return max(1, high.bit_length()), False
    return max(high.bit_length(), (-low - 1).bit_length()) + 1, True


def commit_dataset(data: Dataset, key: bytes) -> CommittedDataset:
    """The data set's commitment under `key` (PUBLIC_KEY for a public data set) and its openings."""
    bits, signed = value_bits(data.X_train)
    if bits > MAX_VALUE_BITS:
        raise DatasetFormatError(f"{data.name}: inputs need {bits} bits; scale the features down (at most {MAX_VALUE_BITS} bits)")
    data_x, data_y = data_tables(data)
    (c_x, o_x), (c_y, o_y) = (
        cm.open_int64(table, dataset_blinds(key, name, cm.MatrixLayout.of(table.shape).num_rows))
        for name, table in ((b"X", data_x), (b"Y", data_y))
    )
    commitment = DatasetCommitment(
        int(data.train_idx.size), data.n_features, data.classes, data.frac_bits, bits, signed, key == PUBLIC_KEY,
        cm.encode(c_x), cm.encode(c_y),
    )  # fmt: skip
    return CommittedDataset(commitment, DatasetSecrets(o_x, o_y))


@dataclass(frozen=True)
class _Shapes:
    """The range proof's shapes and public weights, from the data set's header alone."""

    header: DatasetCommitment

    @property
    def x(self) -> Shape:
        return (("sample", log2_ceil(self.header.samples)), ("col", log2_ceil(self.header.features)))

    @property
    def y(self) -> Shape:
        return (("sample", log2_ceil(self.header.samples)), ("col", log2_ceil(self.header.classes)))

    @property
    def bits(self) -> Shape:
        return self.x + (("bit", log2_ceil(self.header.value_bits + 1)),)

    @property
    def width(self) -> int:
        """Bits committed per value: v and a spare sign bit (unsigned v-bit values), padded to 2^k."""
        return 1 << log2_ceil(self.header.value_bits + 1)

    def recompose(self) -> Factor:
        """κ_j: the value of a v-bit number from its bits (two's complement when signed)."""
        v, signed = self.header.value_bits, self.header.signed
        weights = [(-(1 << j) if signed and j == v - 1 else 1 << j) if j < v else 0 for j in range(self.width)]
        return Factor(("bit",), tuple(w % MODULUS for w in weights))

    def real(self, axis: str, n: int) -> Factor:
        return Factor((axis,), tuple(int(i < n) for i in range(1 << dict(self.x)[axis])))


def prove_dataset(committed: CommittedDataset) -> list[Message]:
    """The range proof of a committed data set: its messages, in transcript order."""
    header, secrets = committed.commitment, committed.secrets
    shapes = _Shapes(header)
    data_x = np.asarray(secrets.x.entries)
    words = backend.bits_decompose(data_x, shapes.width)
    bits, bits_secret = cm.commit_bits(words, shapes.width)
    channel = ProverChannel(_transcript(header))
    channel.send_points(b"bits commitment", bits.rows)  # the bits are fixed before any challenge
    tables = {
        "X": lambda: Int64Table(data_x.reshape(-1), data_x.shape[1]),
        "Y": lambda: Int64Table(np.asarray(secrets.y.entries).reshape(-1), secrets.y.shape[1]),
        "BX": lambda: BitTable(words, shapes.width),
    }
    committed_tensors = {"X": (cm.decode(header.c_x), secrets.x), "Y": (cm.decode(header.c_y), secrets.y), "BX": (bits, bits_secret)}
    _run(ProverParty(channel), shapes, {k: (c, tables[k], s) for k, (c, s) in committed_tensors.items()})
    return channel.messages


def verify_dataset(header: DatasetCommitment, messages: list[Message]) -> None:
    """Raises VerificationError unless `messages` prove the data set's inputs in its stated range
    (and zero in the padding) and its labels one-hot."""
    if header.samples > MAX_PROVEN_SAMPLES or header.features > MAX_PROVEN_FEATURES or header.classes > MAX_PROVEN_FEATURES:
        raise VerificationError(
            f"the data set is larger than this verifier handles (≤ {MAX_PROVEN_SAMPLES} samples, ≤ {MAX_PROVEN_FEATURES} columns)"
        )
    shapes = _Shapes(header)
    try:
        c_x, c_y = cm.decode(header.c_x), cm.decode(header.c_y)
    except cm.CommitmentFormatError as exc:
        raise VerificationError(f"the data set's commitments are malformed: {exc.user_message}") from None
    for name, commitment, shape in (("C_X", c_x, shapes.x), ("C_Y", c_y, shapes.y)):
        if commitment.shape != tuple(1 << log for _, log in shape):
            raise VerificationError(
                f"{name} has shape {commitment.shape}, the data set's header needs {tuple(1 << log for _, log in shape)}"
            )
    checks = opening.Batch()
    channel = VerifierChannel(_transcript(header), messages, 0)
    bit_shape = (int(np.prod([1 << log for _, log in shapes.x])), shapes.width)
    bits = TensorCommitment(bit_shape, channel.receive_points(b"bits commitment", cm.MatrixLayout.of(bit_shape).num_rows))
    _run(VerifierParty(channel, checks), shapes, {"X": (c_x, _no_table, None), "Y": (c_y, _no_table, None), "BX": (bits, _no_table, None)})
    if channel.position != len(messages):
        raise VerificationError(f"{len(messages) - channel.position} unexpected messages at the end of the data set's proof")
    checks.verify()


def _no_table() -> Int64Table:
    raise AssertionError("the verifier read a table of the data set")


def _run(party: Party, shapes: _Shapes, committed: dict) -> None:
    """The range proof, once for both parties (zkdl.proof.party)."""
    header, book = shapes.header, ClaimBook()
    binarity(party, book, "BX", shapes.bits, lambda: committed["BX"][1]().words)
    _recomposition(party, shapes, book, lambda: committed["X"][1]())
    check_one_hot(party, book, shapes.y, header.samples, header.classes, lambda: committed["Y"][1]().field())
    for name, shape in (("X", shapes.x), ("Y", shapes.y), ("BX", shapes.bits)):
        commitment, table, secret = committed[name]
        merge_and_open(party, name, shape, commitment, book.take(name), table, partial(_secret, secret))
    settle(party, book)


def _secret(secret: TensorOpening | None) -> TensorOpening:
    assert secret is not None, "only the prover opens"
    return secret


def _recomposition(party: Party, shapes: _Shapes, book: ClaimBook, x_table) -> None:
    """D_X is its committed bits' v-bit value on real entries and zero on padded ones (docstring, 3)."""
    header = shapes.header
    u = party.challenges(b"recomposition point", sum(log for _, log in shapes.x))
    at_u = cl.claim(shapes.x, cl.eq_factors(shapes.x, u), 0)
    (value,) = party.send(b"recomposition value", lambda: [weighted_sum(shapes.x, at_u, x_table().field())], 1)
    book.add("X", cl.Claim(at_u.factors, value))
    real = [shapes.real("sample", header.samples), shapes.real("col", header.features)]
    book.add("BX", cl.claim(shapes.bits, [*at_u.factors, *real, shapes.recompose()], value))


def _transcript(header: DatasetCommitment) -> Transcript:
    transcript = Transcript(DATASET_TAG)  # its own protocol: no training transcript can be replayed here
    transcript.absorb_bytes(b"dataset", header.encode())  # the range claimed and the commitments, before anything
    return transcript
