"""Zero-knowledge evaluation proof for Hyrax tensor commitments (docs/opening.md is the spec).

Statement: row commitments C_i = ⟨t_i, G⟩ + ρ_i·H of an m×g matrix t, a point u = (u_col, u_row)
(u_col the low log g variables) and a value commitment C_v = v·G_V + r·H; the prover knows t, ρ, v, r
with t̃(u) = v. Both sides fold the rows to C* = Σ_i eq(u_row, i)·C_i, a commitment to the row
t* = Σ_i eq(u_row, i)·t_i, so that v = ⟨t*, b⟩ with b = eq_vector(u_col). A random x merges C* and
C_v into P = ⟨a, G⟩ + ⟨a, b⟩·Q + α·H (a = t*, Q = x·G_V, α = ρ* + x·r), and a Bulletproofs
inner-product argument with blinded L, R reduces P to length one, closed by a Schnorr proof of
knowledge of (a, α). Every message is uniformly random given the statement: the proof reveals
nothing about t or v.

The verifier's group work is two MSMs: C* (m points) and one final check over the g generators,
the 2·log g + 1 proof points, C*, C_v, G_V and H; a `Batch` merges the final checks of all openings
of a proof into one MSM. The proof is 2·log g + 1 points and 2 scalars.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zkdl import backend
from zkdl.backend import MODULUS, Vector, from_ints, to_ints
from zkdl.errors import ZkdlError
from zkdl.proof.commitment import (
    COMPRESSED,
    DOMAIN_TAG,
    POINT,
    MatrixLayout,
    TensorCommitment,
    TensorOpening,
    blinding_generator,
    combine_rows,
    commit_key,
    decode_points,
    fold_rows,
)
from zkdl.proof.errors import VerificationError
from zkdl.proof.transcript import Transcript

DOMAIN = b"zkdl/opening/v1"
WIRE_VERSION = 1
# The decoder's bound on the round count K. Any layout has log g ≤ MAX_COL_VARS (15) < 20, and the
# verifier then requires K = log g exactly; 20 is kept so that the wire form does not change.
MAX_ROUNDS = 20
SCALAR_BYTES = 32
_IDENTITY = backend.g1_identity().tobytes()


class ProofFormatError(ZkdlError, ValueError):
    """An encoded opening proof is truncated, non-canonical or holds an invalid point or scalar."""

    code = "opening-format"


@dataclass(frozen=True, eq=False)
class OpeningProof:
    """Per round k the blinded cross terms L[k], R[k] (uint8[k, 96] each), then the Schnorr
    commitment A (uint8[96]) and responses z1, z2 (ints in [0, r))."""

    L: np.ndarray
    R: np.ndarray
    A: np.ndarray
    z1: int
    z2: int

    def __post_init__(self) -> None:
        rounds = len(self.L)
        if self.L.shape != (rounds, POINT) or self.R.shape != (rounds, POINT) or self.A.shape != (POINT,):
            raise ValueError(f"L, R must be uint8[k, {POINT}] of one length and A uint8[{POINT}]")
        for name in ("L", "R", "A"):
            array = np.array(getattr(self, name), dtype=np.uint8, copy=True)
            array.setflags(write=False)
            object.__setattr__(self, name, array)


@dataclass(frozen=True)
class Challenges:
    """The verifier's challenges: x merges C_v into P, c[k] folds round k, e is the Schnorr challenge."""

    x: int
    c: tuple[int, ...]
    e: int


@functools.cache
def value_generator() -> np.ndarray:
    """G_V: a hash-to-curve generator independent of every G_j and of H (distinct hash input)."""
    point = backend.hash_to_g1(DOMAIN_TAG, b"zkdl/V")
    point.setflags(write=False)
    return point


def commit_values(values: Sequence[int], blinds: Sequence[int]) -> np.ndarray:
    """v_k·G_V + r_k·H for each k (uint8[n, 96]): the value commitments of the openings and of every
    committed scalar (zkdl.proof.hidden); with r = 0 a public value's, which a verifier computes itself."""
    g = np.repeat(value_generator()[None], len(values), axis=0)
    h = np.repeat(blinding_generator()[None], len(values), axis=0)
    return backend.g1_add(backend.g1_scale_each(g, from_ints(values)), backend.g1_scale_each(h, from_ints(blinds)))


def commit_value(value: int, blind: int) -> np.ndarray:
    """One value's commitment (uint8[96])."""
    return commit_values([value], [blind])[0]


def prove(
    transcript: Transcript,
    commitment: TensorCommitment,
    opening: TensorOpening,
    point: Sequence[int],
    value: int,
    value_blind: int,
) -> OpeningProof:
    """Proves that the tensor committed in `commitment` (opened by `opening`) evaluates at `point`
    (LSB-first variables) to the value in commit_value(value, value_blind)."""
    layout = commitment.layout
    u_col, u_row = layout.split(point)
    a, rho_star = fold_rows(opening, u_row)
    b = backend.eq_vector(u_col)
    if backend.inner(a, b) != value % MODULUS:
        raise ValueError("the value is not the committed tensor's evaluation at the point")
    C_star = combine_rows(commitment, u_row)
    x = _absorb_statement(transcript, layout, point, C_star, commit_value(value, value_blind))
    Q = backend.g1_scale(value_generator()[None], x)  # x-scaled, so C_v enters P with weight x
    G = commit_key(layout.row_length).generators()
    scale = 1  # the folded generators are scale·G (the common factor of each fold is kept aside)
    alpha = (rho_star + x * value_blind) % MODULUS  # the blind of P = C* + x·C_v
    Ls: list[np.ndarray] = []
    Rs: list[np.ndarray] = []
    while len(a) > 1:
        (a_lo, a_hi), (b_lo, b_hi), (G_lo, G_hi) = _halves(a), _halves(b), _halves(G)
        l_k, r_k = to_ints(backend.random(2))  # fresh: L and R are uniform points
        Ls.append(_cross_term(a_lo, b_hi, G_hi, Q, l_k, scale))
        Rs.append(_cross_term(a_hi, b_lo, G_lo, Q, r_k, scale))
        c = _absorb_round(transcript, len(Ls) - 1, Ls[-1], Rs[-1])
        c_inv = pow(c, -1, MODULUS)
        a = _fold_scalars(a_lo, a_hi, c, c_inv)  # a ← c·a_lo + c⁻¹·a_hi
        b = _fold_scalars(b_lo, b_hi, c_inv, c)  # b ← c⁻¹·b_lo + c·b_hi: ⟨a, b⟩ keeps its cross terms in L, R
        # G ← c⁻¹·G_lo + c·G_hi = c⁻¹·(G_lo + c²·G_hi): one scalar multiplication per point.
        G = backend.g1_fold(G, 1, c * c % MODULUS)
        scale = scale * c_inv % MODULUS
        alpha = (alpha + c * c * l_k + c_inv * c_inv * r_k) % MODULUS  # the blind of c²·L + P + c⁻²·R
    G = backend.g1_scale(G, scale)
    (a_f,), (b_f,) = to_ints(a), to_ints(b)
    base = backend.g1_add(G, backend.g1_scale(Q, b_f))  # G_f + b_f·Q: P = a_f·base + α·H
    A, z1, z2 = _schnorr(transcript, base[0], a_f, alpha)
    return OpeningProof(_stack(Ls), _stack(Rs), A, z1, z2)


def _cross_term(a_half: Vector, b_other: Vector, G_other: np.ndarray, Q: np.ndarray, blind: int, scale: int) -> np.ndarray:
    """⟨a_half, scale·G_other⟩ + ⟨a_half, b_other⟩·Q + blind·H: L (lo against hi) or R (hi against lo);
    ⟨a_half, scale·G_other⟩ = ⟨scale·a_half, G_other⟩."""
    bases = np.concatenate([G_other, Q, blinding_generator()[None]])
    scalars = backend.concat([backend.scale(a_half, scale), from_ints([backend.inner(a_half, b_other), blind])])
    return backend.msm(bases, scalars)


def _schnorr(transcript: Transcript, base: np.ndarray, a_f: int, alpha: int) -> tuple[np.ndarray, int, int]:
    """Proof of knowledge of (a_f, α) with P = a_f·base + α·H: (A, z1, z2)."""
    d, s = to_ints(backend.random(2))  # fresh masks: z1, z2 are uniform
    A = backend.msm(np.stack([base, blinding_generator()]), from_ints([d, s]))
    e = _absorb_final(transcript, A)
    return A, (d + e * a_f) % MODULUS, (s + e * alpha) % MODULUS


def verify(
    transcript: Transcript,
    commitment: TensorCommitment,
    point: Sequence[int],
    value_commitment: np.ndarray,
    proof: OpeningProof,
    batch: Batch | None = None,
    name: str = "opening",
) -> None:
    """Checks that the committed tensor evaluates at `point` to the value in `value_commitment`;
    raises VerificationError naming the failed check. With a `batch`, the final equation (the only
    group work besides C*) is deferred to `batch.verify()`; the transcript advances either way."""
    layout = commitment.layout
    if len(point) != layout.num_vars:
        raise VerificationError(f"{name}: the point has {len(point)} coordinates, the tensor {layout.num_vars} variables")
    if len(proof.L) != layout.col_vars:
        raise VerificationError(f"{name}: {len(proof.L)} rounds, expected log2(row length) = {layout.col_vars}")
    if not (0 <= proof.z1 < MODULUS and 0 <= proof.z2 < MODULUS):
        raise VerificationError(f"{name}: a response z1 or z2 is not a reduced field element")
    u_col, u_row = layout.split(point)
    C_star = combine_rows(commitment, u_row)
    challenges = replay(transcript, layout, point, C_star, value_commitment, proof)
    Batch.defer(
        batch,
        f"{name}: the final equation A + e·P = z1·(G_f + b_f·x·G_V) + z2·H fails",
        equation(u_col, C_star, value_commitment, proof, challenges),
    )


def replay(
    transcript: Transcript, layout: MatrixLayout, point: Sequence[int], C_star: np.ndarray, C_v: np.ndarray, proof: OpeningProof
) -> Challenges:
    """The verifier's transcript steps, in the prover's order: absorbs every message and derives the challenges."""
    x = _absorb_statement(transcript, layout, point, C_star, C_v)
    c = tuple(_absorb_round(transcript, k, proof.L[k], proof.R[k]) for k in range(len(proof.L)))
    return Challenges(x, c, _absorb_final(transcript, proof.A))


@dataclass(frozen=True, eq=False)
class Equation:
    """A check as an MSM that must vanish: ⟨generator_scalars, G⟩ over the first 2^n generators G_j
    (every key is a prefix of one sequence: G_j depends on j only; n = 0 for a Σ-check) plus
    ⟨scalars, points⟩ over other points (an opening's: its proof's, C*, C_v, G_V and H)."""

    generator_scalars: Vector  # 2^n
    points: np.ndarray  # uint8[k, 96]
    scalars: Vector  # k


def equation(u_col: Sequence[int], C_star: np.ndarray, C_v: np.ndarray, proof: OpeningProof, ch: Challenges) -> Equation:
    """A + e·(C* + x·C_v + Σ_k (c_k²·L_k + c_k⁻²·R_k)) − z1·⟨s, G⟩ − z1·b_f·x·G_V − z2·H = 0."""
    if not len(u_col) == len(ch.c) == len(proof.L) == len(proof.R):
        raise VerificationError(f"opening: {len(proof.L)} rounds for a row of 2^{len(u_col)} entries")
    c_inv = [pow(c, -1, MODULUS) for c in ch.c]
    e, z1 = ch.e, proof.z1
    head = [1, e, e * ch.x] + [e * c * c for c in ch.c] + [e * ci * ci for ci in c_inv]
    tail = [-z1 * folded_eq(ch.c, u_col) * ch.x, -proof.z2]
    points = np.concatenate([proof.A[None], C_star[None], C_v[None], proof.L, proof.R, value_generator()[None], blinding_generator()[None]])
    return Equation(backend.scale(challenge_products(ch.c), -z1), points, from_ints(head + tail))


def check(u_col: Sequence[int], C_star: np.ndarray, C_v: np.ndarray, proof: OpeningProof, ch: Challenges) -> bool:
    """Whether the final equation holds for these challenges."""
    try:
        return holds(equation(u_col, C_star, C_v, proof, ch))
    except VerificationError:
        return False


def holds(equation_: Equation) -> bool:
    """Whether one equation vanishes (exactly, not as part of a random combination)."""
    return _vanishes([equation_], [1])


class Batch:
    """Equations of many checks (the openings' final equations, the Σ-protocols' checks) verified by
    one MSM: Σ_i ρ_i·E_i = 0 for fresh random ρ_i.

    The ρ_i are the verifier's private coins (OS randomness, never the transcript's: a prover that
    knew them could cancel a false equation against another), so a batch with a false equation
    passes with probability 1/r. The generator terms of all equations share one MSM over the
    longest key, so k openings cost about one instead of k."""

    def __init__(self) -> None:
        self._checks: list[tuple[str, Equation]] = []

    def add(self, failure: str, equation_: Equation) -> None:
        """Defers a check; `failure` is the message if it is the one that fails."""
        self._checks.append((failure, equation_))

    @staticmethod
    def defer(batch: Batch | None, failure: str, *equations: Equation) -> None:
        """Adds the equations to `batch`, or checks them now when there is none."""
        deferred = Batch() if batch is None else batch
        for equation_ in equations:
            deferred.add(failure, equation_)
        if batch is None:
            deferred.verify()

    def extend(self, other: Batch) -> None:
        """Defers every check of `other` too (the chunks of a proof, verified apart: one MSM for all)."""
        self._checks += other._checks

    def verify(self) -> None:
        """Raises VerificationError with the message of the first check whose equation fails."""
        equations = [eq for _, eq in self._checks]
        if _vanishes(equations, to_ints(backend.random(len(equations)))):
            self._checks.clear()
            return
        for failure, eq in self._checks:  # the rare rejecting path: find the culprit for the message
            if not holds(eq):
                raise VerificationError(failure)
        raise VerificationError("the batched final equations fail")


def _vanishes(equations: Sequence[Equation], weights: Sequence[int]) -> bool:
    """Whether Σ_i weights_i·E_i is the identity, as one MSM."""
    if not equations:
        return True
    longest = max(len(eq.generator_scalars) for eq in equations)
    generator_scalars = backend.full(longest, 0)
    for eq, w in zip(equations, weights):
        if len(eq.generator_scalars):  # an opening's (a Σ-check has none)
            generator_scalars = backend.add(generator_scalars, backend.pad(backend.scale(eq.generator_scalars, w), longest))
    generators = commit_key(longest).generators() if longest else np.zeros((0, 96), dtype=np.uint8)
    points = np.concatenate([generators] + [eq.points for eq in equations])
    scalars = backend.concat([generator_scalars] + [backend.scale(eq.scalars, w) for eq, w in zip(equations, weights)])
    return backend.msm(points, scalars).tobytes() == _IDENTITY


def challenge_products(c: Sequence[int]) -> Vector:
    """s (2^n entries, n = len(c)) with G_f = ⟨s, G⟩: s_j = Π_k c_k^{±1}, + when bit n−1−k of j is
    set, because round k splits on the most significant remaining index bit. Challenges are non-zero."""
    s = from_ints([1])
    for c_k in reversed(c):  # the last round's bit is bit 0: prepending bits builds s from the LSB up
        s = backend.concat([backend.scale(s, pow(c_k, -1, MODULUS)), backend.scale(s, c_k)])
    return s


def folded_eq(c: Sequence[int], u_col: Sequence[int]) -> int:
    """b_f = ⟨s, eq_vector(u_col)⟩ = Π_k (c_k⁻¹·(1 − u_{n−1−k}) + c_k·u_{n−1−k}), n = len(u_col):
    both s and eq factor over the index bits, and round k owns bit n−1−k."""
    n, total = len(u_col), 1
    for k, c_k in enumerate(c):
        u = u_col[n - 1 - k]
        total = total * (pow(c_k, -1, MODULUS) * (1 - u) + c_k * u) % MODULUS
    return total


def encode(proof: OpeningProof) -> bytes:
    """Wire form: version (1 byte) ‖ k (1 byte) ‖ L_0..L_{k−1} ‖ R_0..R_{k−1} ‖ A (48-byte compressed
    points) ‖ z1 ‖ z2 (32-byte big-endian, below r)."""
    points = backend.g1_compress(np.concatenate([proof.L, proof.R, proof.A[None]])).tobytes()
    scalars = b"".join(z.to_bytes(SCALAR_BYTES, "big") for z in (proof.z1, proof.z2))
    return bytes([WIRE_VERSION, len(proof.L)]) + points + scalars


def decode(data: bytes) -> OpeningProof:
    """The inverse of `encode`; raises ProofFormatError on any malformed input."""
    if len(data) < 2:
        raise ProofFormatError(f"opening proof: {len(data)} bytes, shorter than its 2-byte header")
    if data[0] != WIRE_VERSION:
        raise ProofFormatError(f"opening proof: unknown version {data[0]}, expected {WIRE_VERSION}")
    rounds = data[1]
    if rounds > MAX_ROUNDS:
        raise ProofFormatError(f"opening proof: {rounds} rounds, at most {MAX_ROUNDS}")
    num_points = 2 * rounds + 1
    expected = 2 + num_points * COMPRESSED + 2 * SCALAR_BYTES
    if len(data) != expected:
        raise ProofFormatError(f"opening proof: {len(data)} bytes, expected {expected} for {rounds} rounds")
    points = decode_points(data[2 : 2 + num_points * COMPRESSED], "opening proof point", ProofFormatError)
    try:
        z1, z2 = backend.scalars_from_bytes(data[2 + num_points * COMPRESSED :])  # rejects encodings of values ≥ r
    except backend.KernelError as exc:
        raise ProofFormatError(f"opening proof scalar: {exc}") from None
    return OpeningProof(points[:rounds], points[rounds : 2 * rounds], points[-1], z1, z2)


def _absorb_statement(transcript: Transcript, layout: MatrixLayout, point: Sequence[int], C_star: np.ndarray, C_v: np.ndarray) -> int:
    sizes = layout.row_vars.to_bytes(4, "big") + layout.col_vars.to_bytes(4, "big")
    transcript.absorb_bytes(b"opening/domain", DOMAIN + sizes)  # versioned separator bound to the matrix shape
    transcript.absorb_scalars(b"opening/point", point)  # the evaluation point is part of the statement
    transcript.absorb_points(b"opening/C*", C_star[None])  # binds the rows and u_row before x
    transcript.absorb_points(b"opening/C_v", C_v[None])  # binds the claimed value before x merges it
    return _nonzero_challenge(transcript, b"opening/x")


def _absorb_round(transcript: Transcript, k: int, L: np.ndarray, R: np.ndarray) -> int:
    for name, point in ((b"L", L), (b"R", R)):
        if point.tobytes() == _IDENTITY:  # a blinded cross term is never the identity honestly
            raise VerificationError(f"opening: {name.decode()}[{k}] is the identity")
        transcript.absorb_points(b"opening/" + name, point[None])  # c must depend on both cross terms
    return _nonzero_challenge(transcript, b"opening/c")


def _absorb_final(transcript: Transcript, A: np.ndarray) -> int:
    if A.tobytes() == _IDENTITY:  # A = d·B + s·H is never the identity honestly
        raise VerificationError("opening: A is the identity")
    transcript.absorb_points(b"opening/A", A[None])  # Schnorr: commit before the challenge
    return _nonzero_challenge(transcript, b"opening/e")


def _nonzero_challenge(transcript: Transcript, label: bytes) -> int:
    """A challenge; zero (probability 1/r) would void the merge or a fold's inverse, so it aborts."""
    value = transcript.challenge_scalar(label)
    if value == 0:
        raise VerificationError(f"opening: challenge {label.decode()} is zero")
    return value


def _halves(items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi): split on the most significant index bit."""
    half = len(items) // 2
    return items[:half], items[half:]


def _fold_scalars(lo: Vector, hi: Vector, w_lo: int, w_hi: int) -> Vector:
    return backend.add(backend.scale(lo, w_lo), backend.scale(hi, w_hi))


def _stack(points: list[np.ndarray]) -> np.ndarray:
    return np.stack(points) if points else np.zeros((0, POINT), dtype=np.uint8)
