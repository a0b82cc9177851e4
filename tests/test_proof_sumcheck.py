"""The Fiat–Shamir sumcheck: complete on honest tables, and every tampered message is caught."""

import random

import pytest

from tests import reference as ref
from zkdl.field import from_ints
from zkdl.proof import sumcheck
from zkdl.proof.errors import VerificationError
from zkdl.proof.transcript import Transcript


def _instance(seed, k, vars_):
    rng = random.Random(seed)
    factors = [ref.random_ints(rng, 1 << vars_) for _ in range(k)]
    w = ref.random_ints(rng, vars_)
    eq = ref.eq_table(w)
    claim = 0
    for x in range(1 << vars_):
        term = eq[x]
        for f in factors:
            term = term * f[x] % ref.R
        claim += term
    return factors, w, claim % ref.R


def _prove(factors, w):
    return sumcheck.prove(Transcript(b"test"), b"demo", [from_ints(f) for f in factors], w)


def _final_check(subclaim, factors, w):
    """The caller's check of the subclaim, here against the tables themselves."""
    expected = ref.mle_evaluate(ref.eq_table(w), list(subclaim.point))
    for f in factors:
        expected = expected * ref.mle_evaluate(f, list(subclaim.point)) % ref.R
    return subclaim.value == expected


@pytest.mark.parametrize("k,vars_", [(1, 1), (2, 4), (3, 6)])
def test_honest_proof_verifies_and_final_values_are_the_factors_at_the_point(k, vars_):
    factors, w, claim = _instance(k * 10 + vars_, k, vars_)
    proof, point, finals = _prove(factors, w)
    sub = sumcheck.verify(Transcript(b"test"), b"demo", proof, claim, vars_, k + 1)
    assert sub.point == point
    assert finals == [ref.mle_evaluate(f, list(point)) for f in factors]
    assert _final_check(sub, factors, w)


def test_transcript_is_deterministic():
    factors, w, _ = _instance(1, 2, 3)
    assert _prove(factors, w)[0] == _prove(factors, w)[0]


def test_a_wrong_claim_fails_the_final_check():
    factors, w, claim = _instance(2, 2, 4)
    proof, _, _ = _prove(factors, w)
    sub = sumcheck.verify(Transcript(b"test"), b"demo", proof, (claim + 1) % ref.R, 4, 3)
    assert not _final_check(sub, factors, w)


@pytest.mark.parametrize("round_index", [0, 1, 3])
@pytest.mark.parametrize("position", [0, 1, 2])
def test_every_tampered_round_value_fails_the_final_check(round_index, position):
    factors, w, claim = _instance(3, 2, 4)
    proof, _, _ = _prove(factors, w)
    rounds = [list(r) for r in proof.rounds]
    rounds[round_index][position] = (rounds[round_index][position] + 1) % ref.R
    tampered = sumcheck.SumcheckProof(tuple(tuple(r) for r in rounds))
    sub = sumcheck.verify(Transcript(b"test"), b"demo", tampered, claim, 4, 3)
    assert not _final_check(sub, factors, w)


def test_malformed_shapes_are_rejected_before_use():
    factors, w, claim = _instance(4, 2, 3)
    proof, _, _ = _prove(factors, w)
    with pytest.raises(VerificationError, match="2 rounds, expected 3"):
        sumcheck.verify(Transcript(b"test"), b"demo", sumcheck.SumcheckProof(proof.rounds[:2]), claim, 3, 3)
    short = sumcheck.SumcheckProof((proof.rounds[0][:2],) + proof.rounds[1:])
    with pytest.raises(VerificationError, match="round 0 has 2 values, expected 3"):
        sumcheck.verify(Transcript(b"test"), b"demo", short, claim, 3, 3)
