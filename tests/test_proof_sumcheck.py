"""The Fiat–Shamir sumcheck: complete on honest tables, and every tampered message is caught."""

import dataclasses
import random

import pytest

from tests import reference as ref
from zkdl.field import from_ints
from zkdl.proof import sumcheck
from zkdl.proof.channel import ProverChannel, VerifierChannel
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
    channel = ProverChannel(Transcript(b"test"))
    point, finals = sumcheck.prove(channel, b"demo", [from_ints(f) for f in factors], w)
    return channel.messages, point, finals


def _verify(messages, claim, vars_, degree):
    channel = VerifierChannel(Transcript(b"test"), messages)
    sub = sumcheck.verify(channel, b"demo", claim, vars_, degree)
    channel.finish()
    return sub


def _final_check(subclaim, factors, w):
    """The caller's check of the subclaim, here against the tables themselves."""
    expected = ref.mle_evaluate(ref.eq_table(w), list(subclaim.point))
    for f in factors:
        expected = expected * ref.mle_evaluate(f, list(subclaim.point)) % ref.R
    return subclaim.value == expected


@pytest.mark.parametrize("k,vars_", [(1, 1), (2, 4), (3, 6)])
def test_honest_proof_verifies_and_final_values_are_the_factors_at_the_point(k, vars_):
    factors, w, claim = _instance(k * 10 + vars_, k, vars_)
    messages, point, finals = _prove(factors, w)
    sub = _verify(messages, claim, vars_, k + 1)
    assert sub.point == point
    assert finals == [ref.mle_evaluate(f, list(point)) for f in factors]
    assert _final_check(sub, factors, w)


def test_transcript_is_deterministic():
    factors, w, _ = _instance(1, 2, 3)
    assert _prove(factors, w)[0] == _prove(factors, w)[0]


def test_a_wrong_claim_fails_the_final_check():
    factors, w, claim = _instance(2, 2, 4)
    messages, _, _ = _prove(factors, w)
    assert not _final_check(_verify(messages, (claim + 1) % ref.R, 4, 3), factors, w)


@pytest.mark.parametrize("round_index", [0, 1, 3])
@pytest.mark.parametrize("position", [0, 1, 2])
def test_every_tampered_round_value_fails_the_final_check(round_index, position):
    factors, w, claim = _instance(3, 2, 4)
    messages, _, _ = _prove(factors, w)
    values = list(messages[round_index].scalars)
    values[position] = (values[position] + 1) % ref.R
    messages[round_index] = dataclasses.replace(messages[round_index], scalars=tuple(values))
    assert not _final_check(_verify(messages, claim, 4, 3), factors, w)


def test_malformed_shapes_are_rejected_before_use():
    factors, w, claim = _instance(4, 2, 3)
    messages, _, _ = _prove(factors, w)
    with pytest.raises(VerificationError, match="ends before"):
        _verify(messages[:2], claim, 3, 3)
    short = [dataclasses.replace(messages[0], scalars=messages[0].scalars[:2])] + messages[1:]
    with pytest.raises(VerificationError, match="must hold 3 scalars"):
        _verify(short, claim, 3, 3)
    with pytest.raises(VerificationError, match="unexpected messages"):
        _verify(messages + messages[:1], claim, 3, 3)
