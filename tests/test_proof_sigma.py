"""Soundness of the Σ-protocols (zkdl.proof.sigma) and of the batched check (opening.Batch): every
equation of the proofs of product and of zero is necessary (a forgery that satisfies all but one is
rejected), the challenge is drawn after the first message, and a batch cannot be cancelled out.

Proofs run through the real channels: a ProverChannel commits the values (x = 6, y = 7, or the
pair whose difference is proven zero) and writes the messages that a VerifierChannel on the same
transcript domain reads, both checking at once (`batch=None`) and deferring into an `opening.Batch`.
"""

import dataclasses

import numpy as np
import pytest

from zkdl.backend.native import MODULUS, from_ints, to_ints
from zkdl.proof import sigma
from zkdl.proof.channel import ProverChannel, VerifierChannel
from zkdl.proof.errors import VerificationError
from zkdl.proof.opening import Batch, Equation, commit_value, commit_values, holds
from zkdl.proof.transcript import Transcript

DOMAIN = b"zkdl/test/sigma"
LABEL = b"check"
NOT_A_PRODUCT = "^check: the committed product is not the product of its factors$"
NOT_ZERO = "^check: the committed value is not zero$"
EQUATIONS = ["alpha", "beta", "delta"]  # the order of sigma.product_equations
deferred = pytest.mark.parametrize("deferred", [False, True], ids=["checked at once", "checked in a batch"])


def _committed(values):
    """A prover channel whose first message commits `values`, and their forms."""
    prover = ProverChannel(Transcript(DOMAIN))
    return prover, prover.send_hidden(b"values", values)


def _received(messages):
    """A verifier channel on `messages` that has read the two committed values, and their forms."""
    verifier = VerifierChannel(Transcript(DOMAIN), messages)
    return verifier, verifier.receive_hidden(b"values", 2)


def _point(prover, h):
    """The commitment of a form, from the prover's openings."""
    return commit_value(prover.ledger.value(h), prover.ledger.blind(h))


def _run(verify, messages, deferred):
    """verify(verifier, a, b, batch) on the committed pair, then the batch and the end of the proof."""
    verifier, (a, b) = _received(messages)
    batch = Batch() if deferred else None
    verify(verifier, a, b, batch)
    if deferred:
        batch.verify()
    verifier.finish()


def _verify_product(verifier, x, y, batch):
    sigma.verify_product(verifier, LABEL, x, y, batch)


def _verify_zero(verifier, a, b, batch):
    sigma.verify_zero(verifier, LABEL, a - b, batch)


# ---- proof of product ---------------------------------------------------------------------------


def _prove_product(lie=0, shifted=None):
    """The honest prover code on x = 6, y = 7 committing z = 42 + lie; `shifted` adds 1 to that
    response (z1..z5, 0-based) after the challenge."""
    prover, (x, y) = _committed([6, 7])
    send_hidden = prover.send_hidden
    prover.send_hidden = lambda label, values: send_hidden(label, [v + lie for v in values])
    sigma.prove_product(prover, LABEL, x, y)
    if shifted is not None:
        last = prover.messages[-1]
        responses = list(last.scalars)
        responses[shifted] = (responses[shifted] + 1) % MODULUS
        prover.messages[-1] = dataclasses.replace(last, scalars=tuple(responses))
    return prover.messages


def _product_checks(messages):
    """Which of the α-, β-, δ-equations the messages satisfy, read in the protocol's order."""
    verifier, (x, y) = _received(messages)
    (z,) = verifier.receive_hidden(LABEL + b" product", 1)
    first = verifier.receive_points(LABEL + b" product commitments", 3)
    c = verifier.challenge(LABEL + b" product challenge")
    responses = verifier.receive_scalars(LABEL + b" product responses", 5)
    forms = [verifier.ledger.terms(h) for h in (x, y, z)]
    return [holds(eq) for eq in sigma.product_equations(*forms, first, c, responses)]


FORGERIES = {  # the equation that fails: a proof satisfying only the two others
    "alpha": dict(shifted=0),  # z1 + 1: only α uses z1
    "beta": dict(shifted=3),  # z4 + 1: only β uses z4
    "delta": dict(lie=1),  # a false product z = x·y + 1 from the honest prover code: δ is off by c·G_V
}


@deferred
def test_true_product_is_accepted(deferred):
    """verify_product accepts the honest prover's proof of a true product (the rejections below are not vacuous)."""
    messages = _prove_product()
    _run(_verify_product, messages, deferred)
    assert _product_checks(messages) == [True, True, True]


@deferred
@pytest.mark.parametrize("failing", EQUATIONS)
def test_each_product_equation_is_necessary(failing, deferred):
    """verify_product checks each of the α-, β- and δ-equations: a proof that satisfies only the other two is rejected."""
    messages = _prove_product(**FORGERIES[failing])
    with pytest.raises(VerificationError, match=NOT_A_PRODUCT):
        _run(_verify_product, messages, deferred)
    assert _product_checks(messages) == [name != failing for name in EQUATIONS]  # all but `failing` hold


@deferred
@pytest.mark.parametrize("known_before", ["first message", "product"])
def test_simulated_product_with_the_challenge_known_in_advance_is_rejected(known_before, deferred):
    """verify_product draws its challenge after absorbing z and (α, β, δ): a simulation for an earlier challenge fails."""
    prover, (x, y) = _committed([6, 7])
    if known_before == "product":
        c = prover.challenge(LABEL + b" product challenge")
    (z,) = prover.send_hidden(LABEL + b" product", [43])  # false: 6·7 = 42
    if known_before == "first message":
        c = prover.challenge(LABEL + b" product challenge")
    X, Y, Z = (_point(prover, h) for h in (x, y, z))
    first, responses = sigma.simulate_product(X, Y, Z, c)
    assert sigma.product_holds(X, Y, Z, first, c, responses)
    prover.send_points(LABEL + b" product commitments", first)
    prover.send_scalars(LABEL + b" product responses", responses)
    with pytest.raises(VerificationError, match=NOT_A_PRODUCT):
        _run(_verify_product, prover.messages, deferred)


# ---- proof of zero ------------------------------------------------------------------------------


def _prove_zero(a, b):
    """The honest prover code for "a − b is zero" on committed a, b."""
    prover, (ha, hb) = _committed([a, b])
    sigma.prove_zero(prover, LABEL, ha - hb)
    return prover.messages


@deferred
def test_true_zero_is_accepted(deferred):
    """verify_zero accepts the honest prover's proof that a committed difference is zero."""
    _run(_verify_zero, _prove_zero(7, 7), deferred)


@deferred
def test_non_zero_proven_zero_is_rejected(deferred):
    """verify_zero checks z·H = A + c·P: the honest prover code on a non-zero value fails it."""
    with pytest.raises(VerificationError, match=NOT_ZERO):
        _run(_verify_zero, _prove_zero(7, 8), deferred)


def _simulated_zero(challenge_first):
    """A proof that 8 − 7 is zero simulated for a challenge picked by the prover (12345), or for the
    transcript's challenge drawn before A is absorbed."""
    prover, (a, b) = _committed([8, 7])
    P = _point(prover, a - b)
    c = prover.challenge(LABEL + b" zero challenge") if challenge_first else 12345
    A, z = sigma.simulate_zero(P, c)
    assert sigma.zero_holds(P, A, c, z)
    prover.send_points(LABEL + b" zero commitment", A[None])
    if not challenge_first:
        assert not sigma.zero_holds(P, A, prover.challenge(LABEL + b" zero challenge"), z)  # the transcript's
    prover.send_scalars(LABEL + b" zero response", [z])
    return prover.messages


@deferred
def test_simulated_zero_for_another_challenge_is_rejected(deferred):
    """verify_zero uses the transcript's challenge, not one the prover picked before A."""
    with pytest.raises(VerificationError, match=NOT_ZERO):
        _run(_verify_zero, _simulated_zero(challenge_first=False), deferred)


@deferred
def test_simulated_zero_with_the_challenge_known_in_advance_is_rejected(deferred):
    """verify_zero absorbs A before drawing the challenge: a simulation for the challenge before A fails."""
    with pytest.raises(VerificationError, match=NOT_ZERO):
        _run(_verify_zero, _simulated_zero(challenge_first=True), deferred)


# ---- batched checks -----------------------------------------------------------------------------


def _zero_check(value):
    """sigma.zero_equation for P = Com(value, 4), A = Com(0, 7), c = 2, z = 15: it is −2·value·G_V,
    true iff value = 0."""
    return sigma.zero_equation((commit_values([value], [4]), [1]), commit_value(0, 7), 2, 15)


def _negated(eq):
    return Equation(eq.generator_scalars, eq.points, from_ints([-s % MODULUS for s in to_ints(eq.scalars)]))


def test_batch_rejects_false_equations_that_cancel():
    """Batch.verify weights the equations with private random coins: E and −E, false, do not cancel."""
    false, negated = _zero_check(5), _negated(_zero_check(5))
    summed = Equation(
        false.generator_scalars, np.concatenate([false.points, negated.points]), np.concatenate([false.scalars, negated.scalars])
    )
    assert not holds(false) and not holds(negated) and holds(summed)  # equal weights would pass
    batch = Batch()
    batch.add("E fails", false)
    batch.add("-E fails", negated)
    with pytest.raises(VerificationError, match="^E fails$"):
        batch.verify()


def test_batch_names_the_false_equation_among_true_ones():
    """Batch.verify rejects one false equation among true ones, with that equation's failure message."""
    batch = Batch()
    for k, value in enumerate([0, 0, 3, 0]):
        batch.add(f"check {k} fails", _zero_check(value))
    with pytest.raises(VerificationError, match="^check 2 fails$"):
        batch.verify()


def test_batch_of_true_equations_passes():
    """Batch.verify accepts when every equation holds (its rejections are not vacuous)."""
    batch = Batch()
    for k in range(3):
        batch.add(f"check {k} fails", _zero_check(0))
    batch.add("negated check fails", _negated(_zero_check(0)))
    batch.verify()
