"""The zkdl exception tree.

Every error zkdl raises on purpose derives from `ZkdlError`, which carries a stable ``code``, a
``user_message`` that the command line prints as is, and the ``exit_code`` of its family. Each
concrete error also inherits the matching built-in error (a `ValueError` for bad input, an `OSError`
for a lost disk or network), so callers that only know the built-ins still catch them. Each layer
keeps its own families next to the code that raises them; foreign errors (the native kernels', a
lost node's or file's) join the tree in `as_zkdl_error`, at the command boundary.

Exit status: a family whose input or configuration cannot be used at all (a file that cannot be
read or decoded, a malformed id, no key, no node) carries `EXIT_UNUSABLE`; every other error
`EXIT_FAILED`. The commands whose help promises exit 2 for unusable input use it; the others exit 1
on any error (see `zkdl.commands`).
"""

from __future__ import annotations

import sys

EXIT_FAILED = 1  # the command failed, or its answer is no
EXIT_UNUSABLE = 2  # it cannot run with this input or configuration (argparse's usage errors too)


class ZkdlError(Exception):
    """Base of every deliberate zkdl error."""

    code = "zkdl"
    exit_code = EXIT_FAILED

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class UnusableInputError(ZkdlError, ValueError):
    """The input cannot be read or used at all (e.g. a file that cannot be read)."""

    code = "unusable-input"
    exit_code = EXIT_UNUSABLE


class KernelError(ZkdlError, ValueError):
    """A native kernel refused its input (`zkdl._kernels.KernelError`, which Rust raises outside this
    tree, mapped by `as_zkdl_error`)."""

    code = "kernel"


class UnreachableError(ZkdlError, OSError):
    """The node, a server or a file was lost mid-command: a foreign `OSError` or a web3 connection
    error mapped by `as_zkdl_error`. Its ``code`` is the foreign error's type name."""

    exit_code = EXIT_UNUSABLE

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"lost the node or a file: {type(cause).__name__}: {cause}")
        self.code = type(cause).__name__


_WEB3_CONNECTION_ERRORS = ("ProviderConnectionError", "RequestTimedOut", "TooManyRequests")


def as_zkdl_error(exc: BaseException) -> ZkdlError | None:
    """`exc` in the tree: itself, or the family a foreign error maps to; None for anything else (a bug)."""
    if isinstance(exc, ZkdlError):
        return exc
    # Only a loaded module can have raised its error: never import the kernels or web3 to classify one.
    kernels = sys.modules.get("zkdl._kernels")
    if kernels is not None and isinstance(exc, kernels.KernelError):
        return KernelError(f"a native kernel refused its input: {exc}")
    web3 = sys.modules.get("web3.exceptions")
    lost = (OSError, *(getattr(web3, name) for name in _WEB3_CONNECTION_ERRORS)) if web3 else (OSError,)
    return UnreachableError(exc) if isinstance(exc, lost) else None


class SpecError(ZkdlError, ValueError):
    """A model, quantisation or training specification is invalid or inconsistent."""

    code = "spec"
    exit_code = EXIT_UNUSABLE


class DataError(ZkdlError, ValueError):
    """A data set cannot be read or does not have the expected shape or values."""

    code = "data"
    exit_code = EXIT_UNUSABLE


class RunFormatError(ZkdlError, ValueError):
    """A run directory is missing a file, has an unknown version or inconsistent contents."""

    code = "run-format"
    exit_code = EXIT_UNUSABLE


class TrainingOverflowError(ZkdlError, ValueError):
    """A value left its bit range during fixed-point training; training stopped (nothing is clipped).

    Attributes name where it happened: ``layer`` (0-based), ``step`` (0-based; None outside a
    training step, e.g. while evaluating accuracy), ``tensor`` (e.g. "Z", "G_A", "G_W", "W"),
    ``bits_needed`` (65 stands for "more than 64") and ``bits_allowed``.
    """

    code = "training-overflow"

    def __init__(
        self,
        *,
        layer: int,
        step: int | None,
        tensor: str,
        bits_needed: int,
        bits_allowed: int,
        scale_exp: int,
    ) -> None:
        self.layer = layer
        self.step = step
        self.tensor = tensor
        self.bits_needed = bits_needed
        self.bits_allowed = bits_allowed
        where = f"step {step}" if step is not None else "evaluation"
        needed = f"{bits_needed} bits" if bits_needed <= 64 else "more than 64 bits"
        super().__init__(
            f"overflow at {where}, layer {layer}, tensor {tensor}: it needs {needed} but "
            f"{bits_allowed} are allowed ({tensor} is at scale 2^{scale_exp}, so its real values "
            f"must stay below 2^{bits_allowed - 1 - scale_exp} in magnitude). Training stopped; "
            "values are never clipped. Remedy: if values grew over the steps (divergence), a "
            "smaller learning rate (larger lr_exp); otherwise a smaller input scale (smaller "
            "frac_bits R; Z and G_A are at scale 2^(3R+e)) or a larger range_bits (at most 64)."
        )
