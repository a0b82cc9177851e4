"""The proof bundle: a versioned, canonical binary file holding a statement and its proof; and the
data-set proof file, the same for a data set's commitment and its range proof.

Layout (bundle version 5; integers unsigned big-endian):

    magic "ZKDL-BUNDLE" (11 bytes) ‖ version u16
    statement_len u32 ‖ statement (zkdl.proof.statement encoding)
    n_messages u32 ‖ n_messages × message
    message: label_len u8 ‖ label ‖ kind u8 ‖ count u32 ‖ payload
      kind 1, scalars: count × 32-byte big-endian field elements, each below r
      kind 2, points:  count × 48-byte compressed G1 points, on the curve and in the subgroup
      kind 3, opening: count = payload length in bytes; payload = zkdl.proof.opening encoding

The data-set proof file (version 1) is magic "ZKDL-DATASET-PROOF" (18 bytes) ‖ version u16 ‖
dataset_len u32 ‖ the data set's commitment (zkdl.proof.dataset encoding) ‖ n_messages u32 ‖ messages.

Nothing may follow the last message. Decoding checks every length against the bytes left before
reading, so a malformed, truncated, non-canonical or off-curve input is a `BundleFormatError`
naming the section, never a crash. The message count is checked before any message is built: at
most `MAX_MESSAGES`, and no more than the bytes left can hold (`MIN_MESSAGE_BYTES` each), so a
decoded file costs at most about `MESSAGE_OVERHEAD` bytes of memory per message beside its
scalars and points (a few hundred MB at worst, not GBs). The proof digest is Keccak-256 of the
whole file.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from eth_hash.auto import keccak

from zkdl import backend
from zkdl.errors import EXIT_UNUSABLE, ZkdlError
from zkdl.proof import opening
from zkdl.proof.channel import Message
from zkdl.proof.commitment import CommitmentFormatError, decode_points
from zkdl.proof.commitment import decode as decode_commitment
from zkdl.proof.dataset import DatasetCommitment, DatasetFormatError
from zkdl.proof.statement import Statement, StatementFormatError

Head = TypeVar("Head", Statement, DatasetCommitment)
DATASET_MAGIC = b"ZKDL-DATASET-PROOF"
DATASET_VERSION = 1

MAGIC = b"ZKDL-BUNDLE"
# 7: zkdl/training/v7 (history claims reduced by W_τ's definition, no merge over the history);
# 6: v6 (each layer padded to its own power of two, the output's bits BO); 5: v5
# (statement version 3: C_data a data set's own commitment); 4: zkdl/training/v4 (statement
# version 2: owner, origin of W_0); 3: v3 (one bit tensor B); 2: v2
VERSION = 7
SCALARS, POINTS, OPENING = 1, 2, 3
SCALAR_BYTES, POINT_BYTES = 32, 48
# A real proof sends a few hundred messages per chunk (417 for the 3-step golden bundle, about 520
# per chunk of the digits run): 2^20 leaves room for thousands of chunks, and bounds what an empty
# message costs to decode (MESSAGE_OVERHEAD bytes of Python objects each, measured).
MAX_MESSAGES = 1 << 20
MIN_MESSAGE_BYTES = 6  # label length u8, kind u8, count u32
MESSAGE_OVERHEAD = 200


class BundleFormatError(ZkdlError, ValueError):
    """A bundle's bytes are not a canonical zkdl bundle of the supported version."""

    code = "bundle-format"
    exit_code = EXIT_UNUSABLE


@dataclass(frozen=True)
class Bundle:
    statement: Statement
    messages: tuple[Message, ...]

    def encode(self) -> bytes:
        return _encode(MAGIC, VERSION, self.statement.encode(), self.messages)

    def digest(self) -> bytes:
        """The proof digest the registry stores: Keccak-256 of the encoding."""
        return keccak(self.encode())

    @classmethod
    def decode(cls, data: bytes) -> Bundle:
        return cls(*_decode(data, MAGIC, VERSION, "bundle", "statement", _statement))


@dataclass(frozen=True)
class DatasetBundle:
    """A data set's commitment and its range proof (zkdl.proof.data_range): the file a data-set
    record points to; its Keccak-256 is the record's proof digest."""

    dataset: DatasetCommitment
    messages: tuple[Message, ...]

    def encode(self) -> bytes:
        return _encode(DATASET_MAGIC, DATASET_VERSION, self.dataset.encode(), self.messages)

    @classmethod
    def decode(cls, data: bytes) -> DatasetBundle:
        return cls(*_decode(data, DATASET_MAGIC, DATASET_VERSION, "data-set proof", "data set", _dataset))


def _encode(magic: bytes, version: int, head: bytes, messages: tuple[Message, ...]) -> bytes:
    body = struct.pack(">I", len(messages)) + b"".join(_encode_message(m) for m in messages)
    return magic + struct.pack(">HI", version, len(head)) + head + body


def _decode(
    data: bytes, magic: bytes, version: int, kind: str, head: str, parse: Callable[[bytes], Head]
) -> tuple[Head, tuple[Message, ...]]:
    """A file's head (statement or data set, parsed and checked by `parse`) and its messages."""
    reader = _Reader(bytes(data))
    if reader.take(len(magic), "magic") != magic:
        raise BundleFormatError(f"not a zkdl {kind} (bad magic bytes)")
    (found,) = reader.unpack(">H", "version")
    if found != version:
        raise BundleFormatError(f"{kind} version {found} is not supported (this zkdl reads version {version})")
    (length,) = reader.unpack(">I", f"{head} length")
    body = reader.take(length, head)
    try:
        parsed = parse(body)
    except (StatementFormatError, DatasetFormatError, CommitmentFormatError) as exc:
        raise BundleFormatError(f"{head}: {exc.user_message}") from None
    return parsed, _read_messages(reader)


def _statement(body: bytes) -> Statement:
    statement = Statement.decode(body)
    _check_commitments(statement.dataset, statement.c_w0, statement.c_wt)
    return statement


def _dataset(body: bytes) -> DatasetCommitment:
    dataset = DatasetCommitment.decode(body)
    _check_commitments(dataset)
    return dataset


def _read_messages(reader: _Reader) -> tuple[Message, ...]:
    (count,) = reader.unpack(">I", "message count")
    if count > MAX_MESSAGES:
        raise BundleFormatError(f"the bundle claims {count} messages, more than {MAX_MESSAGES}: no proof this verifier reads sends so many")
    if count * MIN_MESSAGE_BYTES > reader.left:
        needs = count * MIN_MESSAGE_BYTES
        raise BundleFormatError(f"bundle truncated in the messages: {count} messages need {needs} bytes at least, {reader.left} left")
    messages = tuple(_decode_message(reader, i) for i in range(count))
    if reader.left:
        raise BundleFormatError(f"{reader.left} unexpected bytes after the last message")
    return messages


def _check_commitments(dataset: DatasetCommitment, *others: bytes) -> None:
    """The commitments must decode: canonical, on the curve, in the subgroup."""
    for encoding in (dataset.c_x, dataset.c_y, *others):
        decode_commitment(encoding)


def _encode_message(message: Message) -> bytes:
    head = struct.pack(">B", len(message.label)) + message.label
    if message.opening is not None:
        payload = opening.encode(message.opening)
        return head + struct.pack(">BI", OPENING, len(payload)) + payload
    if message.points is not None:
        return head + struct.pack(">BI", POINTS, len(message.points)) + backend.g1_compress(message.points).tobytes()
    scalars = b"".join(v.to_bytes(SCALAR_BYTES, "big") for v in message.scalars)
    return head + struct.pack(">BI", SCALARS, len(message.scalars)) + scalars


def _decode_message(reader: _Reader, index: int) -> Message:
    where = f"message {index}"
    (label_len,) = reader.unpack(">B", where + " label length")
    label = reader.take(label_len, where + " label")
    kind, count = reader.unpack(">BI", where + " kind and count")
    where = f"message {index} ({label.decode(errors='replace')!r})"  # repr: an untrusted label cannot reach a terminal raw
    if kind == SCALARS:
        raw = reader.take(count * SCALAR_BYTES, where)
        try:
            return Message(label, scalars=tuple(backend.scalars_from_bytes(raw)) if raw else ())
        except backend.KernelError as exc:
            raise BundleFormatError(f"{where}: {exc}") from None
    if kind == POINTS:
        points = decode_points(reader.take(count * POINT_BYTES, where), where + " point", BundleFormatError)
        return Message(label, points=points)
    if kind == OPENING:
        try:
            return Message(label, opening=opening.decode(reader.take(count, where)))
        except opening.ProofFormatError as exc:
            raise BundleFormatError(f"{where}: {exc.user_message}") from None
    raise BundleFormatError(f"{where}: unknown message kind {kind}")


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.offset = data, 0

    @property
    def left(self) -> int:
        return len(self.data) - self.offset

    def take(self, n: int, what: str) -> bytes:
        if n > self.left:
            raise BundleFormatError(f"bundle truncated in {what}: needs {n} bytes at offset {self.offset}, {self.left} left")
        chunk = self.data[self.offset : self.offset + n]
        self.offset += n
        return chunk

    def unpack(self, fmt: str, what: str) -> tuple[int, ...]:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))
