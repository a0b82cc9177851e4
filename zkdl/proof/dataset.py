"""A data set's public identity: its commitment, made once and shared by every model trained on it.

The commitment does not depend on any model: the inputs D_X [2^⌈log n⌉, 2^⌈log d⌉] at the data's
scale 2^frac_bits and the one-hot labels D_Y [2^⌈log n⌉, 2^⌈log K⌉] (entries 0 or 1), zero padded,
each committed row by row (`zkdl.proof.commitment`) with blinds derived from the data set's key
(`zkdl.proof.data_range.dataset_blinds`). A private data set's key stays with its owner; a public
one's is the all-zero key, so anyone holding the file recomputes the commitment. A statement's
C_data is this encoding, and its Keccak-256 is the data set's id: every model trained on the same
committed data set carries the same id.

The inputs' values lie in the header's range (`value_bits`: [0, 2^v) unsigned, [−2^(v−1), 2^(v−1))
signed), proven once per data set by its range proof (`zkdl.proof.data_range`), not by every
training proof.

Encoding (version 1), integers unsigned big-endian, nothing after the last field:

    magic "ZKDL-DATASET" (12 bytes) ‖ version u16
    samples u32 ‖ features u32 ‖ classes u32 ‖ frac_bits u8 ‖ value_bits u8 ‖ signed u8 ‖ public u8
    C_X, C_Y: each len u32 ‖ the commitment's own canonical encoding

This module holds public facts only (no kernels): the chain client and the buyer tools read it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from eth_hash.auto import keccak

from zkdl.errors import ZkdlError

MAGIC = b"ZKDL-DATASET"
VERSION = 1
PUBLIC_KEY = bytes(32)  # the key of a public data set: its blinds are public, its commitment recomputable
MAX_VALUE_BITS = 62  # every value and its two's complement fit int64 with room for the sign
_HEADER = struct.Struct(">IIIBBBB")


class DatasetFormatError(ZkdlError, ValueError):
    """A data set's commitment bytes are not a canonical version-1 encoding."""

    code = "dataset-format"


@dataclass(frozen=True)
class DatasetCommitment:
    samples: int
    features: int
    classes: int
    frac_bits: int  # the inputs' scale: real value X / 2^frac_bits
    value_bits: int  # the inputs' proven range (module docstring)
    signed: bool
    public: bool  # blinds from PUBLIC_KEY: anyone with the data recomputes this commitment
    c_x: bytes
    c_y: bytes

    def encode(self) -> bytes:
        head = MAGIC + struct.pack(">H", VERSION)
        fields = _HEADER.pack(
            self.samples, self.features, self.classes, self.frac_bits, self.value_bits, int(self.signed), int(self.public)
        )
        return head + fields + b"".join(struct.pack(">I", len(c)) + c for c in (self.c_x, self.c_y))

    def digest(self) -> bytes:
        """The data set's id: Keccak-256 of the encoding (the registry's C_data digest)."""
        return keccak(self.encode())

    @property
    def value_range(self) -> tuple[int, int]:
        """[low, high): the range every input value is proven to lie in."""
        if self.signed:
            return -(1 << (self.value_bits - 1)), 1 << (self.value_bits - 1)
        return 0, 1 << self.value_bits

    def to_json(self) -> dict[str, Any]:
        low, high = self.value_range
        return {
            "dataset_id": "0x" + self.digest().hex(), "samples": self.samples, "features": self.features,
            "classes": self.classes, "frac_bits": self.frac_bits, "value_bits": self.value_bits,
            "signed": self.signed, "value_range": [low, high], "public": self.public,
        }  # fmt: skip

    @classmethod
    def decode(cls, data: bytes) -> DatasetCommitment:
        """Parses a canonical encoding; anything else raises DatasetFormatError."""
        data = bytes(data)
        if data[: len(MAGIC)] != MAGIC:
            raise DatasetFormatError("not a zkdl data-set commitment (bad magic bytes)")
        offset = len(MAGIC) + 2 + _HEADER.size
        if len(data) < offset:
            raise DatasetFormatError(f"data-set commitment truncated at byte {len(data)} (its header needs {offset})")
        (version,) = struct.unpack(">H", data[len(MAGIC) : len(MAGIC) + 2])
        if version != VERSION:
            raise DatasetFormatError(f"data-set commitment version {version} is not supported (this zkdl reads version {VERSION})")
        samples, features, classes, frac, bits, signed, public = _HEADER.unpack(data[len(MAGIC) + 2 : offset])
        parts = []
        for name in ("C_X", "C_Y"):
            if len(data) < offset + 4 or struct.unpack(">I", data[offset : offset + 4])[0] > len(data) - offset - 4:
                raise DatasetFormatError(f"data-set commitment truncated in {name}")
            (n,) = struct.unpack(">I", data[offset : offset + 4])
            parts.append(data[offset + 4 : offset + 4 + n])
            offset += 4 + n
        if offset != len(data):
            raise DatasetFormatError(f"{len(data) - offset} unexpected bytes after the data-set commitment")
        if min(samples, features, classes) < 1 or not 1 <= bits <= MAX_VALUE_BITS or signed > 1 or public > 1:
            raise DatasetFormatError("data-set commitment has an out-of-range field (sizes, value bits or flags)")
        return cls(samples, features, classes, frac, bits, bool(signed), bool(public), *parts)
