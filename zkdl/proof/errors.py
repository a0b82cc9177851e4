"""Errors of the proof system."""

from zkdl.errors import ZkdlError


class VerificationError(ZkdlError):
    """The proof does not verify; the message says which check failed."""

    code = "invalid-proof"
