"""Committed scalars, and the linear forms over them the protocol computes with.

Every value the prover states (a claimed evaluation, a sumcheck round value) is sent as a Pedersen
commitment x·G_V + r·H with a fresh uniformly random blind r, so it reveals nothing (the
commitment is a uniform point whatever x is). The protocol then works on `Hidden` values: public
constants plus linear combinations of committed scalars. Linear relations cost nothing, because
commitments add: the prover knows the value and blind of any combination, the verifier its
commitment. Only what is not linear needs a Σ-protocol (zkdl.proof.sigma).

The ledger that gives `Hidden` terms their meaning is kept by each side of the channel: the
prover's holds (value, blind) per committed scalar, the verifier's the commitment point.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from zkdl import backend
from zkdl.backend import MODULUS, from_ints, to_ints
from zkdl.proof.opening import commit_values, value_generator


class Hidden:
    """const + Σ_i coefficient_i·x_i over committed scalars x_i (indices into a ledger)."""

    __slots__ = ("const", "terms")

    def __init__(self, terms: dict[int, int] | None = None, const: int = 0) -> None:
        self.terms = {i: c % MODULUS for i, c in (terms or {}).items() if c % MODULUS}
        self.const = const % MODULUS

    @staticmethod
    def of(value: Hidden | int) -> Hidden:
        """A public int is the constant form (its commitment v·G_V has no blind)."""
        return value if isinstance(value, Hidden) else Hidden(const=int(value))

    def _combine(self, other: Hidden | int, sign: int) -> Hidden:
        other = Hidden.of(other)
        terms = dict(self.terms)
        for i, c in other.terms.items():
            terms[i] = terms.get(i, 0) + sign * c
        return Hidden(terms, self.const + sign * other.const)

    def __add__(self, other: Hidden | int) -> Hidden:
        return self._combine(other, 1)

    __radd__ = __add__

    def __sub__(self, other: Hidden | int) -> Hidden:
        return self._combine(other, -1)

    def __rsub__(self, other: Hidden | int) -> Hidden:
        return Hidden.of(other)._combine(self, -1)

    def __neg__(self) -> Hidden:
        return Hidden({i: -c for i, c in self.terms.items()}, -self.const)

    def __mul__(self, scalar: int) -> Hidden:
        if isinstance(scalar, Hidden):
            raise TypeError("a product of committed values needs a proof of product (zkdl.proof.sigma)")
        return Hidden({i: c * scalar for i, c in self.terms.items()}, self.const * scalar)

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"Hidden({self.const} + {len(self.terms)} committed terms)"


def combination(coefficients: Sequence[int], values: Sequence[Hidden | int]) -> Hidden:
    """Σ_k c_k·v_k, built in one pass (the forms of long sums stay linear in their size)."""
    terms: dict[int, int] = {}
    const = 0
    for c, v in zip(coefficients, values, strict=True):
        v = Hidden.of(v)
        const += c * v.const
        for i, t in v.terms.items():
            terms[i] = terms.get(i, 0) + c * t
    return Hidden(terms, const)


class ProverLedger:
    """The prover's committed scalars: value and blind of each."""

    def __init__(self) -> None:
        self._values: list[int] = []
        self._blinds: list[int] = []

    def commit(self, values: Iterable[int]) -> tuple[np.ndarray, list[Hidden]]:
        """Commits each value with a fresh blind from the operating system; returns the points."""
        values = [int(v) % MODULUS for v in values]
        blinds = to_ints(backend.random(len(values)))
        return commit_values(values, blinds), self._append(values, blinds)

    def _append(self, values: list[int], blinds: list[int]) -> list[Hidden]:
        start = len(self._values)
        self._values += values
        self._blinds += blinds
        return [Hidden({start + k: 1}) for k in range(len(values))]

    def value(self, h: Hidden) -> int:
        return (h.const + sum(c * self._values[i] for i, c in h.terms.items())) % MODULUS

    def blind(self, h: Hidden) -> int:
        return sum(c * self._blinds[i] for i, c in h.terms.items()) % MODULUS


class VerifierLedger:
    """The verifier's committed scalars: the commitment points the proof carries."""

    def __init__(self) -> None:
        self._points: list[np.ndarray] = []

    def add(self, points: np.ndarray) -> list[Hidden]:
        start = len(self._points)
        self._points += list(points)
        return [Hidden({start + k: 1}) for k in range(len(points))]

    def terms(self, h: Hidden) -> tuple[np.ndarray, list[int]]:
        """The bases and scalars of h's commitment: G_V for the constant, then each term's point."""
        indices = sorted(h.terms)
        bases = np.stack([value_generator(), *(self._points[i] for i in indices)])
        return bases, [h.const, *(h.terms[i] for i in indices)]

    def point(self, h: Hidden) -> np.ndarray:
        """h's commitment const·G_V + Σ c_i·C_i (uint8[96]): one MSM."""
        bases, scalars = self.terms(h)
        return backend.msm(bases, from_ints(scalars))
