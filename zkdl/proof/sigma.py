"""Σ-protocols on committed scalars: a committed value is zero, a committed value is a product.

These close the relations that commitments cannot check by adding: the last step of every
zero-knowledge sumcheck (weight·Π factor values = the final round's claim) and the equalities
between committed values. Both are Hyrax's (Wahby et al., S&P 2018, appendix A): special-sound
(two accepting transcripts with one first message and two challenges give the witness, so a
prover that succeeds knows openings that satisfy the relation) and honest-verifier zero
knowledge (`simulate_*` below builds accepting transcripts from the challenge alone: the responses
are uniform and the first messages are then determined). The challenge comes from the
transcript after the first message.

Commitments are Com(v, r) = v·G_V + r·H (zkdl.proof.hidden).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zkdl import backend
from zkdl.backend import MODULUS, from_ints, to_ints
from zkdl.proof.channel import ProverChannel, VerifierChannel
from zkdl.proof.commitment import blinding_generator
from zkdl.proof.hidden import Hidden
from zkdl.proof.opening import Batch, Equation, holds, value_generator

Form = tuple[np.ndarray, Sequence[int]]  # Σ scalars_k·bases_k: one point, or a committed form's ledger terms


def prove_zero(channel: ProverChannel, label: bytes, h: Hidden) -> None:
    """h commits to 0, i.e. its commitment is ρ·H: a Schnorr proof of knowledge of ρ over H
    (H and G_V are independent, so a point in ⟨H⟩ has a zero G_V part)."""
    ledger = channel.ledger  # a non-zero value (a cheat run through this code) gives a proof that fails
    (k,) = _randoms(1)
    channel.send_points(label + b" zero commitment", _combine([blinding_generator()], [k])[None])  # A = k·H masks ρ
    c = channel.challenge(label + b" zero challenge")
    channel.send_scalars(label + b" zero response", [(k + c * ledger.blind(h)) % MODULUS])


def verify_zero(channel: VerifierChannel, label: bytes, h: Hidden, batch: Batch | None = None) -> None:
    """With a `batch`, the check joins it (`batch.verify()` decides); without, it is made now."""
    (A,) = channel.receive_points(label + b" zero commitment", 1)
    c = channel.challenge(label + b" zero challenge")
    (z,) = channel.receive_scalars(label + b" zero response", 1)
    Batch.defer(batch, f"{label.decode()}: the committed value is not zero", zero_equation(channel.ledger.terms(h), A, c, z))


def zero_equation(P: Form, A: np.ndarray, c: int, z: int) -> Equation:
    """z·H − A − c·P = 0."""
    return _vanishing([(_point(blinding_generator()), z), (_point(A), -1), (P, -c)])


def zero_holds(P: np.ndarray, A: np.ndarray, c: int, z: int) -> bool:
    """Whether (A, z) answers challenge c for the commitment P."""
    return _holds([zero_equation(_point(P), A, c, z)])


def simulate_zero(P: np.ndarray, c: int) -> tuple[np.ndarray, int]:
    """An accepting (A, z) for challenge c without ρ: z uniform, A = z·H − c·P."""
    (z,) = _randoms(1)
    return _combine([blinding_generator(), P], [z, -c]), z


def prove_product(channel: ProverChannel, label: bytes, x: Hidden, y: Hidden) -> Hidden:
    """Commits z = x·y and proves it: returns z's form."""
    ledger = channel.ledger
    xv, yv, rx, ry = ledger.value(x), ledger.value(y), ledger.blind(x), ledger.blind(y)
    (z,) = channel.send_hidden(label + b" product", [xv * yv])  # fresh blind: z reveals nothing
    rz = ledger.blind(z)
    b1, b2, b3, b4, b5 = _randoms(5)  # fresh masks: the responses are uniform
    X = _combine([value_generator(), blinding_generator()], [xv, rx])
    first = np.stack([
        _combine([value_generator(), blinding_generator()], [b1, b2]),  # α: masks x, r_x
        _combine([value_generator(), blinding_generator()], [b3, b4]),  # β: masks y, r_y
        _combine([X, blinding_generator()], [b3, b5]),  # δ: the same y-mask against X
    ])  # fmt: skip
    channel.send_points(label + b" product commitments", first)
    c = channel.challenge(label + b" product challenge")
    responses = [b1 + c * xv, b2 + c * rx, b3 + c * yv, b4 + c * ry, b5 + c * (rz - rx * yv)]
    channel.send_scalars(label + b" product responses", [v % MODULUS for v in responses])
    return z


def verify_product(channel: VerifierChannel, label: bytes, x: Hidden, y: Hidden, batch: Batch | None = None) -> Hidden:
    """With a `batch`, the checks join it (`batch.verify()` decides); without, they are made now."""
    (z,) = channel.receive_hidden(label + b" product", 1)
    first = channel.receive_points(label + b" product commitments", 3)
    c = channel.challenge(label + b" product challenge")
    responses = channel.receive_scalars(label + b" product responses", 5)
    X, Y, Z = (channel.ledger.terms(h) for h in (x, y, z))
    Batch.defer(
        batch,
        f"{label.decode()}: the committed product is not the product of its factors",
        *product_equations(X, Y, Z, first, c, responses),
    )
    return z


def product_equations(X: Form, Y: Form, Z: Form, first: np.ndarray, c: int, responses: Sequence[int]) -> list[Equation]:
    """α + c·X = z1·G_V + z2·H, β + c·Y = z3·G_V + z4·H and δ + c·Z = z3·X + z5·H."""
    alpha, beta, delta = (_point(p) for p in first)
    z1, z2, z3, z4, z5 = responses
    G, H = _point(value_generator()), _point(blinding_generator())
    return [
        _vanishing([(G, z1), (H, z2), (alpha, -1), (X, -c)]),
        _vanishing([(G, z3), (H, z4), (beta, -1), (Y, -c)]),
        _vanishing([(X, z3), (H, z5), (delta, -1), (Z, -c)]),
    ]


def product_holds(X: np.ndarray, Y: np.ndarray, Z: np.ndarray, first: np.ndarray, c: int, responses: Sequence[int]) -> bool:
    """Whether (α, β, δ), (z1..z5) answer challenge c for the commitments X, Y, Z."""
    return _holds(product_equations(_point(X), _point(Y), _point(Z), first, c, responses))


def simulate_product(X: np.ndarray, Y: np.ndarray, Z: np.ndarray, c: int) -> tuple[np.ndarray, list[int]]:
    """An accepting (α, β, δ), (z1..z5) for challenge c without any opening."""
    z1, z2, z3, z4, z5 = _randoms(5)
    G, H = value_generator(), blinding_generator()
    first = np.stack([_combine([G, H, X], [z1, z2, -c]), _combine([G, H, Y], [z3, z4, -c]), _combine([X, H, Z], [z3, z5, -c])])
    return first, [z1, z2, z3, z4, z5]


def _point(P: np.ndarray) -> Form:
    return P[None], [1]


def _vanishing(terms: Sequence[tuple[Form, int]]) -> Equation:
    """Σ s·F over the forms F, as one equation (no generator terms: n = 0)."""
    points = np.concatenate([bases for (bases, _), _ in terms])
    scalars = [s * k % MODULUS for (_, ks), s in terms for k in ks]
    return Equation(from_ints([]), points, from_ints(scalars))


def _holds(equations: Sequence[Equation]) -> bool:
    return all(map(holds, equations))


def _combine(points: Sequence[np.ndarray], scalars: Sequence[int]) -> np.ndarray:
    return backend.msm(np.stack(points), from_ints([s % MODULUS for s in scalars]))


def _randoms(n: int) -> list[int]:
    return to_ints(backend.random(n))
