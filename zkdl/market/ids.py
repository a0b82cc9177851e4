"""Model ids as users type them (no web3 import: `zkdl inspect` asks this of every argument)."""

from __future__ import annotations

import re

from zkdl.errors import EXIT_UNUSABLE, ZkdlError

MODEL_ID_RE = re.compile(r"^0x[0-9a-fA-F]{64}$")


class ModelIdError(ZkdlError, ValueError):
    """A model id is not 0x followed by 64 hex digits."""

    code = "model-id"
    exit_code = EXIT_UNUSABLE


def looks_like_model_id(text: str) -> bool:
    """True for 0x + 64 hex digits (how `zkdl inspect` tells a model id from a bundle path)."""
    return bool(MODEL_ID_RE.match(text))


def parse_model_id(text: str | bytes) -> bytes:
    """The 32 bytes of a model id given as 0x-hex (or as bytes); `ModelIdError` otherwise."""
    if isinstance(text, (bytes, bytearray)):
        if len(text) != 32:
            raise ModelIdError(f"a model id has 32 bytes, got {len(text)}")
        return bytes(text)
    if not looks_like_model_id(text):
        raise ModelIdError(f"{text!r} is not a model id: expected 0x followed by 64 hex digits")
    return bytes.fromhex(text[2:])
