"""The zero-knowledge opening: complete for every tensor size, every tampered piece is rejected,
the verifier's closed forms match the prover's folding, and an honest-verifier simulator that
knows neither the tensor nor the value produces accepted transcripts."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tests import reference as ref
from zkdl import _kernels as k
from zkdl.backend.native import from_int, from_ints, to_int
from zkdl.proof import commitment as cm
from zkdl.proof import opening as op
from zkdl.proof.errors import VerificationError
from zkdl.proof.transcript import Transcript

DOMAIN = b"test/opening"


def _instance(seed: int, n: int):
    """A committed field tensor of n entries, a point, its value there and a value blind."""
    rng = random.Random(seed)
    commitment, opening = cm.commit_field(from_ints(ref.random_ints(rng, n)))
    point = ref.random_ints(rng, commitment.num_vars)
    value = to_int(k.mle_evaluate(opening.padded_field_entries(), from_ints(point).reshape(-1, 4)))
    return commitment, opening, point, value, rng.randrange(ref.R)


def _prove(commitment, opening, point, value, blind, domain=DOMAIN):
    return op.prove(Transcript(domain), commitment, opening, point, value, blind)


def _verify(commitment, point, value_commitment, proof, domain=DOMAIN):
    op.verify(Transcript(domain), commitment, point, value_commitment, proof)


@pytest.fixture(scope="module")
def honest():
    commitment, opening, point, value, blind = _instance(1, 200)  # 256 padded: g = 16, 4 rounds
    return commitment, opening, point, value, blind, _prove(commitment, opening, point, value, blind)


# ---- completeness -------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 31, 64, 100, 1000, 4096])
def test_honest_openings_verify_and_leave_the_transcripts_equal(n):
    for seed in range(2):
        commitment, opening, point, value, blind = _instance(n * 10 + seed, n)
        prover, verifier = Transcript(DOMAIN), Transcript(DOMAIN)
        proof = op.prove(prover, commitment, opening, point, value, blind)
        op.verify(verifier, commitment, point, op.commit_value(value, blind), proof)
        assert prover.state() == verifier.state()  # the caller's transcript continues in step
        assert len(proof.L) == commitment.layout.col_vars


def test_public_values_int64_and_bit_tensors():
    rng = np.random.default_rng(5)
    words = rng.integers(0, 2**16, size=24, dtype=np.uint64)
    small = rng.integers(-(2**30), 2**30, size=(5, 9), dtype=np.int64)
    for commitment, opening in (cm.commit_bits(words, 16), cm.commit_int64(small), cm.commit_int64(np.zeros(6, np.int64))):
        point = ref.random_ints(random.Random(commitment.num_vars), commitment.num_vars)
        value = to_int(k.mle_evaluate(opening.padded_field_entries(), from_ints(point).reshape(-1, 4)))
        proof = _prove(commitment, opening, point, value, 0)  # a public value: nothing to blind
        _verify(commitment, point, op.commit_value(value, 0), proof)  # the verifier commits it itself
    assert np.array_equal(op.commit_value(0, 0), k.g1_identity())  # the zero value case just ran


def test_the_prover_refuses_a_value_that_is_not_the_evaluation(honest):
    commitment, opening, point, value, blind, _ = honest
    with pytest.raises(ValueError, match="not the committed tensor's evaluation"):
        _prove(commitment, opening, point, value + 1, blind)


def test_proof_size():
    for n, rounds in [(1, 0), (2, 1), (4096, 6), (5000, 7)]:
        commitment, opening, point, value, blind = _instance(n, n)
        data = op.encode(_prove(commitment, opening, point, value, blind))
        assert len(data) == 2 + 48 * (2 * rounds + 1) + 2 * 32


# ---- soundness ----------------------------------------------------------------------------------


def _rejected(commitment, point, value_commitment, proof, match="^opening: the final equation .* fails$", domain=DOMAIN):
    with pytest.raises(VerificationError, match=match):
        _verify(commitment, point, value_commitment, proof, domain)


def test_a_wrong_value_or_point_is_rejected(honest):
    commitment, _, point, value, blind, proof = honest
    _rejected(commitment, point, op.commit_value(value + 1, blind), proof)
    _rejected(commitment, point, op.commit_value(value, blind + 1), proof)
    for i in (0, len(point) - 1):  # a column and a row coordinate
        moved = list(point)
        moved[i] = (moved[i] + 1) % ref.R
        _rejected(commitment, moved, op.commit_value(value, blind), proof)
    _rejected(commitment, point[:-1], op.commit_value(value, blind), proof, "^opening: the point has 7 coordinates")


def test_every_tampered_message_is_rejected(honest):
    commitment, _, point, value, blind, proof = honest
    C_v = op.commit_value(value, blind)
    H = cm.blinding_generator()

    def shifted(points, i):
        out = points.copy()
        out[i] = k.g1_add(points[i][None], H[None])[0]
        return out

    for i in range(len(proof.L)):
        _rejected(commitment, point, C_v, op.OpeningProof(shifted(proof.L, i), proof.R, proof.A, proof.z1, proof.z2))
        _rejected(commitment, point, C_v, op.OpeningProof(proof.L, shifted(proof.R, i), proof.A, proof.z1, proof.z2))
    _rejected(commitment, point, C_v, op.OpeningProof(proof.L, proof.R, shifted(proof.A[None], 0)[0], proof.z1, proof.z2))
    _rejected(commitment, point, C_v, op.OpeningProof(proof.L, proof.R, proof.A, (proof.z1 + 1) % ref.R, proof.z2))
    _rejected(commitment, point, C_v, op.OpeningProof(proof.L, proof.R, proof.A, proof.z1, (proof.z2 + 1) % ref.R))
    swapped = op.OpeningProof(proof.R, proof.L, proof.A, proof.z1, proof.z2)
    _rejected(commitment, point, C_v, swapped)


def test_structural_defects_name_the_check(honest):
    commitment, _, point, value, blind, proof = honest
    C_v = op.commit_value(value, blind)
    identity = k.g1_identity()
    L = proof.L.copy()
    L[2] = identity
    _rejected(commitment, point, C_v, op.OpeningProof(L, proof.R, proof.A, proof.z1, proof.z2), r"L\[2\] is the identity")
    _rejected(commitment, point, C_v, op.OpeningProof(proof.L, proof.R, identity, proof.z1, proof.z2), "A is the identity")
    short = op.OpeningProof(proof.L[:3], proof.R[:3], proof.A, proof.z1, proof.z2)
    _rejected(commitment, point, C_v, short, r"3 rounds, expected log2\(row length\) = 4")
    _rejected(commitment, point, C_v, op.OpeningProof(proof.L, proof.R, proof.A, proof.z1 + ref.R, proof.z2), "not a reduced")


def test_a_proof_for_another_tensor_is_rejected(honest):
    _, _, point, value, blind, proof = honest
    other, _, _, _, _ = _instance(2, 200)
    _rejected(other, point, op.commit_value(value, blind), proof)


def test_a_different_transcript_state_is_rejected(honest):
    commitment, _, point, value, blind, proof = honest
    C_v = op.commit_value(value, blind)
    _rejected(commitment, point, C_v, proof, domain=b"test/other")
    transcript = Transcript(DOMAIN)
    transcript.absorb_bytes(b"extra", b"")
    with pytest.raises(VerificationError, match="^opening: the final equation"):
        op.verify(transcript, commitment, point, C_v, proof)


# ---- wire form ----------------------------------------------------------------------------------


def test_encode_decode_round_trip(honest):
    commitment, _, point, value, blind, proof = honest
    data = op.encode(proof)
    decoded = op.decode(data)
    assert op.encode(decoded) == data and (decoded.z1, decoded.z2) == (proof.z1, proof.z2)
    _verify(commitment, point, op.commit_value(value, blind), decoded)


def test_decode_rejects_malformed_input(honest):
    data = op.encode(honest[5])
    points_end = 2 + 9 * 48
    cases = {
        "shorter than its 2-byte header": data[:1],
        "unknown version 0": bytes([0]) + data[1:],
        "21 rounds, at most 20": bytes([1, 21]) + data[2:],
        "expected 498 for 4 rounds": data[:-1],
        "bytes, expected 498": data + b"\0",
        "point 4 is the identity": data[: 2 + 4 * 48] + bytes([0xC0]) + bytes(47) + data[2 + 5 * 48 :],
        "point 0 is invalid": data[:2] + bytes([data[2] & 0x1F]) + data[3:],  # compression flag cleared
        "scalar: .*element 1": data[:-32] + ref.R.to_bytes(32, "big"),  # z2 = r: not canonical
        "scalar: .*element 0": data[:points_end] + (2**256 - 1).to_bytes(32, "big") + data[-32:],
    }
    for reason, bad in cases.items():
        with pytest.raises(op.ProofFormatError, match=reason):
            op.decode(bad)


def test_mutated_proofs_fail_to_decode_or_to_verify(honest):
    commitment, _, point, value, blind, proof = honest
    C_v = op.commit_value(value, blind)
    data = op.encode(proof)
    rng = random.Random(11)
    outcomes = {"format": 0, "verification": 0}
    for _ in range(400):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            mutated[rng.randrange(len(mutated))] ^= 1 << rng.randrange(8)
        if rng.random() < 0.3:
            mutated = mutated[: rng.randrange(len(mutated))]
        try:
            _verify(commitment, point, C_v, op.decode(bytes(mutated)))
        except op.ProofFormatError:
            outcomes["format"] += 1
        except VerificationError as exc:  # by the opening's own checks (its name), not by anything else
            assert exc.user_message.startswith("opening: "), exc.user_message
            outcomes["verification"] += 1
        else:
            raise AssertionError(f"a mutated proof verified: {bytes(mutated).hex()}")
    assert outcomes["format"] and outcomes["verification"]


# ---- the verifier's closed forms ---------------------------------------------------------------


@pytest.mark.parametrize("rounds", [0, 1, 3, 6])
def test_closed_forms_match_the_prover_folding(rounds):
    rng = random.Random(rounds)
    c = [rng.randrange(1, ref.R) for _ in range(rounds)]
    u_col = ref.random_ints(rng, rounds)
    b = k.eq_vector(from_ints(u_col).reshape(-1, 4))
    G = cm.commit_key(1 << rounds).generators()
    for c_k in c:  # exactly the prover's lo/hi split and fold
        half = len(b) // 2
        c_inv = pow(c_k, -1, ref.R)
        b = k.fr_add(k.fr_scale(b[:half], from_int(c_inv)), k.fr_scale(b[half:], from_int(c_k)))
        G = k.g1_add(k.g1_scale(G[:half], from_int(c_inv)), k.g1_scale(G[half:], from_int(c_k)))
    s = op.challenge_products(c)
    assert op.folded_eq(c, u_col) == to_int(b[0])
    assert op.folded_eq(c, u_col) == to_int(k.fr_inner(s, k.eq_vector(from_ints(u_col).reshape(-1, 4))))
    assert np.array_equal(k.msm(cm.commit_key(1 << rounds).generators(), s), G[0])


# ---- zero knowledge -----------------------------------------------------------------------------


def _simulate(u_col, C_star, C_v, ch: op.Challenges) -> op.OpeningProof:
    """An accepted transcript for challenges known in advance, made without the tensor or the value:
    L, R uniformly random points, z1, z2 uniformly random, and A solved from the final equation."""
    H = cm.blinding_generator()
    random_points = k.g1_scale_each(np.tile(H, (2 * len(ch.c), 1)), k.fr_random(2 * len(ch.c)))
    L, R = random_points[: len(ch.c)], random_points[len(ch.c) :]
    z1, z2 = (to_int(z) for z in k.fr_random(2))
    s = op.challenge_products(ch.c)
    G_f = k.msm(cm.commit_key(1 << len(u_col)).generators(), s)
    Q = k.g1_scale(op.value_generator()[None], from_int(ch.x))[0]
    base = k.g1_add(G_f[None], k.g1_scale(Q[None], from_int(op.folded_eq(ch.c, u_col))))[0]
    c_inv = [pow(c, -1, ref.R) for c in ch.c]
    P = k.msm(np.stack([C_star, C_v, *L, *R]), from_ints([1, ch.x] + [c * c for c in ch.c] + [ci * ci for ci in c_inv]))
    A = k.msm(np.stack([base, H, P]), from_ints([z1, z2, -ch.e]))  # A = z1·base + z2·H − e·P
    return op.OpeningProof(L, R, A, z1, z2)


@pytest.mark.parametrize("n", [1, 2, 200])
def test_simulated_transcripts_pass_the_verification_equation(n):
    commitment, _, point, value, blind = _instance(n + 50, n)
    u_col, u_row = commitment.layout.split(point)
    C_star, C_v = cm.combine_rows(commitment, u_row), op.commit_value(value, blind)
    rng = random.Random(n)
    challenges = op.Challenges(rng.randrange(1, ref.R), tuple(rng.randrange(1, ref.R) for _ in u_col), rng.randrange(1, ref.R))
    simulated = _simulate(u_col, C_star, C_v, challenges)
    assert op.check(u_col, C_star, C_v, simulated, challenges)
    # The simulator needed the challenges: other challenges reject the same messages.
    assert not op.check(u_col, C_star, C_v, simulated, op.Challenges(challenges.x, challenges.c, challenges.e + 1))


def test_replayed_challenges_drive_the_same_check(honest):
    commitment, _, point, value, blind, proof = honest
    u_col, u_row = commitment.layout.split(point)
    C_star, C_v = cm.combine_rows(commitment, u_row), op.commit_value(value, blind)
    challenges = op.replay(Transcript(DOMAIN), commitment.layout, point, C_star, C_v, proof)
    assert op.check(u_col, C_star, C_v, proof, challenges)


def test_two_proofs_of_the_same_evaluation_share_no_element(honest):
    commitment, opening, point, value, blind, first = honest
    second = _prove(commitment, opening, point, value, blind)
    _verify(commitment, point, op.commit_value(value, blind), second)
    mine = {p.tobytes() for p in (*first.L, *first.R, first.A)} | {first.z1, first.z2}
    theirs = {p.tobytes() for p in (*second.L, *second.R, second.A)} | {second.z1, second.z2}
    assert len(mine) == 2 * len(first.L) + 3 and not mine & theirs


# ---- batched final equations --------------------------------------------------------------------


def _batched(instances, cheat: int | None = None) -> op.Batch:
    """A batch of the openings of `instances` (different sizes, one transcript each); the opening
    at index `cheat` claims value + 1."""
    batch = op.Batch()
    for i, (commitment, opening, point, value, blind) in enumerate(instances):
        proof = _prove(commitment, opening, point, value, blind)
        claimed = op.commit_value(value + (i == cheat), blind)
        op.verify(Transcript(DOMAIN), commitment, point, claimed, proof, batch, f"opening {i}")
    return batch


def test_every_key_is_a_prefix_of_the_longest():  # what lets a batch share one generator MSM
    longest = cm.commit_key(1 << 12).generators()
    for log in (0, 3, 8):
        assert np.array_equal(cm.commit_key(1 << log).generators(), longest[: 1 << log])


def test_a_batch_of_honest_openings_of_different_sizes_verifies():
    _batched([_instance(70 + n, n) for n in (1, 40, 200, 4096)]).verify()
    op.Batch().verify()  # nothing deferred: nothing to reject


@pytest.mark.parametrize("cheat", [0, 2, 3])
def test_a_batch_with_one_false_equation_is_rejected_and_names_it(cheat):
    batch = _batched([_instance(80 + n, n) for n in (1, 40, 200, 4096)], cheat)
    with pytest.raises(VerificationError, match=f"opening {cheat}: the final equation"):
        batch.verify()


def test_two_false_equations_cannot_cancel_in_a_batch(honest):
    """Equations E and −E sum to zero; the verifier's private weights keep them apart."""
    commitment, _, point, value, blind, proof = honest
    u_col, u_row = commitment.layout.split(point)
    C_star, C_v = cm.combine_rows(commitment, u_row), op.commit_value(value + 1, blind)
    challenges = op.replay(Transcript(DOMAIN), commitment.layout, point, C_star, C_v, proof)
    false = op.equation(u_col, C_star, C_v, proof, challenges)
    negated = op.Equation(k.fr_scale(false.generator_scalars, from_int(-1)), false.points, k.fr_scale(false.scalars, from_int(-1)))
    batch = op.Batch()
    batch.add("opening E: the final equation fails", false)
    batch.add("opening -E: the final equation fails", negated)
    with pytest.raises(VerificationError, match="opening E: the final equation"):
        batch.verify()
