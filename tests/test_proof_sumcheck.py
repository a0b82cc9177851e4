"""The zero-knowledge sumcheck: complete on honest tables, bound to its committed rounds (every
tampered round commitment or claim misses the final value), hiding (two proofs share no
element), and simulatable: transcripts made without the tables pass the verifier's checks."""

import dataclasses
import random

import numpy as np
import pytest

from tests import reference as ref
from zkdl import _kernels
from zkdl.backend.native import from_ints
from zkdl.proof import sigma, sumcheck
from zkdl.proof.channel import ProverChannel, VerifierChannel
from zkdl.proof.errors import VerificationError
from zkdl.proof.hidden import Hidden, VerifierLedger
from zkdl.proof.opening import commit_values, value_generator
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


def _prove(factors, w, claim):
    """The prover's messages, point and factor values, and the commitment to its final claim
    (value and blind known only to it)."""
    channel = ProverChannel(Transcript(b"test"))
    (committed,) = channel.send_hidden(b"claim", [claim])
    point, finals, final = sumcheck.prove(channel, b"demo", [from_ints(f) for f in factors], committed, w)
    ledger = channel.ledger
    return channel.messages, point, finals, (ledger.value(final), ledger.blind(final))


def _verify(messages, vars_, degree, delta=0):
    """Replays the rounds from the committed claim (plus delta·G_V when a claim is altered)."""
    channel = VerifierChannel(Transcript(b"test"), messages)
    (claim,) = channel.receive_hidden(b"claim", 1)
    sub = sumcheck.verify(channel, b"demo", claim + delta, vars_, degree)
    channel.finish()
    return sub, channel.ledger.point(sub.value)


def _expected(factors, w, point):
    value = ref.mle_evaluate(ref.eq_table(w), list(point))
    for f in factors:
        value = value * ref.mle_evaluate(f, list(point)) % ref.R
    return value


@pytest.mark.parametrize("k,vars_", [(1, 1), (2, 4), (3, 6)])
def test_honest_rounds_end_in_a_commitment_to_the_product_at_the_point(k, vars_):
    factors, w, claim = _instance(k * 10 + vars_, k, vars_)
    messages, point, finals, (value, blind) = _prove(factors, w, claim)
    sub, final_point = _verify(messages, vars_, k + 1)
    assert sub.point == point
    assert finals == [ref.mle_evaluate(f, list(point)) for f in factors]
    assert value == _expected(factors, w, point)
    assert bytes(final_point) == bytes(commit_values([value], [blind])[0])  # the verifier's form opens to it


def test_the_messages_are_commitments_only():
    factors, w, claim = _instance(1, 2, 3)
    messages, *_ = _prove(factors, w, claim)
    assert all(m.points is not None and not m.scalars for m in messages)


def test_two_proofs_of_one_sum_share_no_round_commitment():
    factors, w, claim = _instance(1, 2, 3)
    first, second = (_prove(factors, w, claim)[0] for _ in range(2))
    points = lambda messages: {bytes(p) for m in messages for p in m.points}  # noqa: E731
    assert not points(first) & points(second)


def test_a_wrong_claim_misses_the_final_value():
    factors, w, claim = _instance(2, 2, 4)
    messages, _, _, (value, blind) = _prove(factors, w, claim)
    _, final_point = _verify(messages, 4, 3, delta=1)
    assert bytes(final_point) != bytes(commit_values([value], [blind])[0])


@pytest.mark.parametrize("round_index", [1, 2, 4])
@pytest.mark.parametrize("position", [0, 1, 2])
def test_every_tampered_round_commitment_misses_the_final_value(round_index, position):
    factors, w, claim = _instance(3, 2, 4)
    messages, _, _, (value, blind) = _prove(factors, w, claim)
    points = messages[round_index].points.copy()
    points[position] = _kernels.g1_add(points[position][None], value_generator()[None])[0]
    messages[round_index] = dataclasses.replace(messages[round_index], points=points)
    _, final_point = _verify(messages, 4, 3)
    assert bytes(final_point) != bytes(commit_values([value], [blind])[0])


def test_malformed_shapes_are_rejected_before_use():
    factors, w, claim = _instance(4, 2, 3)
    messages, *_ = _prove(factors, w, claim)
    with pytest.raises(VerificationError, match="^the proof ends before the message 'sumcheck round'$"):
        _verify(messages[:2], 3, 3)
    short = [messages[0], dataclasses.replace(messages[1], points=messages[1].points[:2])] + messages[2:]
    with pytest.raises(VerificationError, match="^message 'sumcheck round' must hold 3 points$"):
        _verify(short, 3, 3)
    with pytest.raises(VerificationError, match="^1 unexpected messages at the end of the proof$"):
        _verify(messages + messages[1:2], 3, 3)


def _random_points(n):
    """Commitments to random values with random blinds: uniform points, as every honest one is."""
    return commit_values(ref.random_ints(random.Random(n), n), ref.random_ints(random.Random(n + 1), n))


@pytest.mark.parametrize("k", [1, 2])
def test_the_honest_verifier_simulator_makes_accepted_transcripts_without_the_tables(k):
    """The executable half of the zero-knowledge argument for one sumcheck of Π_m U_m (weight w):
    given only the committed claim and the verifier's challenges, the simulator sends uniform
    round and factor commitments, simulates the proofs of product and of zero, and the verifier's
    checks accept; the same simulated messages fail under other challenges."""
    rng = random.Random(k)
    vars_, degree = 3, k + 1
    ledger = VerifierLedger()
    (claim,) = ledger.add(_random_points(1))  # the committed claim: nothing about its value is used
    challenges = ref.random_ints(rng, vars_)
    for r in challenges:  # rounds: uniform commitments; the verifier's derivation is linear
        claim = sumcheck.next_claim(claim, ledger.add(_random_points(degree)), r)
    values = ledger.add(_random_points(k))
    weight, c_product, c_zero = ref.random_ints(rng, 3)
    product = values[0]
    if k == 2:
        (product,) = ledger.add(_random_points(1))
        X, Y, Z = (ledger.point(h) for h in (values[0], values[1], product))
        first, responses = sigma.simulate_product(X, Y, Z, c_product)
        assert sigma.product_holds(X, Y, Z, first, c_product, responses)
        assert not sigma.product_holds(X, Y, Z, first, c_product + 1, responses)
    difference = ledger.point(claim - weight * product)
    A, z = sigma.simulate_zero(difference, c_zero)
    assert sigma.zero_holds(difference, A, c_zero, z)
    assert not sigma.zero_holds(difference, A, c_zero + 1, z)


def test_hidden_forms_add_like_their_commitments():
    """The verifier's commitment of a linear form is the form of the commitments."""
    ledger = VerifierLedger()
    values, blinds = [5, 7], [11, 13]
    a, b = ledger.add(commit_values(values, blinds))
    form = 3 * a - b + 2
    expected = commit_values([3 * 5 - 7 + 2], [3 * 11 - 13])[0]
    assert bytes(ledger.point(form)) == bytes(expected)
    assert bytes(ledger.point(Hidden.of(4))) == bytes(commit_values([4], [0])[0])
    with pytest.raises(TypeError, match="proof of product"):
        a * b
    assert np.array_equal(ledger.point(a - a), _kernels.g1_identity())
