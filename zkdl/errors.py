"""The zkdl exception tree.

Every error zkdl raises on purpose derives from `ZkdlError`, which carries a stable ``code`` and a
``user_message`` that the command line prints as is. Each concrete error also inherits the matching
built-in error (all of them are `ValueError`s: bad input, not a bug), so callers that only know the
built-ins still catch them.
"""

from __future__ import annotations


class ZkdlError(Exception):
    """Base of every deliberate zkdl error."""

    code = "zkdl"

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class SpecError(ZkdlError, ValueError):
    """A model, quantisation or training specification is invalid or inconsistent."""

    code = "spec"


class DataError(ZkdlError, ValueError):
    """A data set cannot be read or does not have the expected shape or values."""

    code = "data"


class RunFormatError(ZkdlError, ValueError):
    """A run directory is missing a file, has an unknown version or inconsistent contents."""

    code = "run-format"


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
