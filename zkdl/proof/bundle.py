"""The proof bundle: a versioned, canonical binary file holding a statement and its proof.

Layout (version 2; integers unsigned big-endian):

    magic "ZKDL-BUNDLE" (11 bytes) ‖ version u16
    statement_len u32 ‖ statement (zkdl.proof.statement encoding)
    n_messages u32 ‖ n_messages × message
    message: label_len u8 ‖ label ‖ kind u8 ‖ count u32 ‖ payload
      kind 1, scalars: count × 32-byte big-endian field elements, each below r
      kind 2, points:  count × 48-byte compressed G1 points, on the curve and in the subgroup
      kind 3, opening: count = payload length in bytes; payload = zkdl.proof.opening encoding

Nothing may follow the last message. Decoding checks every length against the bytes left before
reading, so a malformed, truncated, non-canonical or off-curve input is a `BundleFormatError`
naming the section, never a crash. The proof digest is Keccak-256 of the whole file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from eth_hash.auto import keccak

from zkdl import backend
from zkdl.errors import EXIT_UNUSABLE, ZkdlError
from zkdl.proof import opening
from zkdl.proof.channel import Message
from zkdl.proof.commitment import CommitmentFormatError, decode_points
from zkdl.proof.commitment import decode as decode_commitment
from zkdl.proof.statement import Statement, StatementFormatError, unpack_data_commitments

MAGIC = b"ZKDL-BUNDLE"
VERSION = 4  # 4: zkdl/training/v4 (statement version 2: owner, origin of W_0); 3: v3 (one bit tensor B); 2: v2
SCALARS, POINTS, OPENING = 1, 2, 3
SCALAR_BYTES, POINT_BYTES = 32, 48


class BundleFormatError(ZkdlError, ValueError):
    """A bundle's bytes are not a canonical zkdl bundle of the supported version."""

    code = "bundle-format"
    exit_code = EXIT_UNUSABLE


@dataclass(frozen=True)
class Bundle:
    statement: Statement
    messages: tuple[Message, ...]

    def encode(self) -> bytes:
        statement = self.statement.encode()
        head = MAGIC + struct.pack(">HI", VERSION, len(statement)) + statement
        return head + struct.pack(">I", len(self.messages)) + b"".join(_encode_message(m) for m in self.messages)

    def digest(self) -> bytes:
        """The proof digest the registry stores: Keccak-256 of the encoding."""
        return keccak(self.encode())

    @classmethod
    def decode(cls, data: bytes) -> Bundle:
        reader = _Reader(bytes(data))
        if reader.take(len(MAGIC), "magic") != MAGIC:
            raise BundleFormatError("not a zkdl bundle (bad magic bytes)")
        (version,) = reader.unpack(">H", "version")
        if version != VERSION:
            raise BundleFormatError(f"bundle version {version} is not supported (this zkdl reads version {VERSION})")
        (length,) = reader.unpack(">I", "statement length")
        try:
            statement = Statement.decode(reader.take(length, "statement"))
            _check_commitments(statement)
        except (StatementFormatError, CommitmentFormatError) as exc:
            raise BundleFormatError(f"statement: {exc.user_message}") from None
        (count,) = reader.unpack(">I", "message count")
        messages = tuple(_decode_message(reader, i) for i in range(count))
        if reader.left:
            raise BundleFormatError(f"{reader.left} unexpected bytes after the last message")
        return cls(statement, messages)


def _check_commitments(statement: Statement) -> None:
    """The statement's commitments must decode: canonical, on the curve, in the subgroup."""
    for encoding in (*unpack_data_commitments(statement.c_data), statement.c_w0, statement.c_wt):
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
            return Message(label, scalars=tuple(backend.scalars_from_bytes(raw)))
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
