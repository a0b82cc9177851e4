"""Completeness of the training proof: honest runs of several shapes prove and verify, through the
bundle too, and the transcript is deterministic (the proof depends on the witness, the statement
and the prover's blinding randomness only).

Runs cover depths 1 to 4, T from 1 to 32 (T a power of two and not), batch 1, widths that pad and
widths that fill N, non-default fixed-point parameters, runs with a bias (depths 1 to 3, T 1 to 5)
and the shipped digits data; each is small enough to prove in about a second or two.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests import proof_cheats as pc
from tests.seeding import seeded_prover
from zkdl import api
from zkdl.backend import to_ints
from zkdl.model import ModelSpec, TrainSpec, Weights
from zkdl.proof import registration, training
from zkdl.proof.bundle import Bundle
from zkdl.proof.transcript import Transcript
from zkdl.proof.witness import block
from zkdl.quant import QuantParams
from zkdl.train import train

# name: (widths, batch, steps, n_train, quant)
RUNS = {
    "depth1 8-4 T2": ((8, 4), 4, 2, 16, QuantParams()),
    "depth2 8-8-4 T1": ((8, 8, 4), 2, 1, 16, QuantParams()),
    "depth2 8-8-4 T4 (T a power of two)": ((8, 8, 4), 4, 4, 16, QuantParams()),
    "depth3 6-8-5-3 T5": ((6, 8, 5, 3), 4, 5, 24, QuantParams()),
    "depth3 5-6-3-3 batch1 T3": ((5, 6, 3, 3), 1, 3, 8, QuantParams()),
    "depth4 6-8-8-5-3 T2": ((6, 8, 8, 5, 3), 2, 2, 12, QuantParams()),
    "depth2 8-4-3 T32": ((8, 4, 3), 2, 32, 16, QuantParams()),
    "depth2 R8 e6 range48": ((8, 8, 4), 4, 3, 16, QuantParams(frac_bits=8, lr_exp=6, range_bits=48)),
    "depth2 12-16-5 T2 (widths 16 = N)": ((12, 16, 5), 4, 2, 16, QuantParams()),
}


def _spec(widths, batch, steps, quant, bias=False) -> TrainSpec:
    return TrainSpec(ModelSpec(widths, bias=bias), quant, batch, steps, schedule_seed=11, init_seed=4)


@pytest.mark.parametrize("name", list(RUNS))
def test_honest_runs_prove_and_verify(name):
    widths, batch, steps, n, quant = RUNS[name]
    data = pc.synthetic(n, widths[0], widths[-1], seed=len(name))
    run = train(_spec(widths, batch, steps, quant), data)
    statement, secrets, tables = training.commit_statement(run.witness, data)  # checks the tables against the run
    messages = training.prove(statement, secrets, tables)
    training.verify(statement, messages)
    decoded = Bundle.decode(Bundle(statement, tuple(messages)).encode())
    assert decoded.statement == statement
    training.verify(decoded.statement, list(decoded.messages))


def test_a_digits_run_proves_and_verifies(digits):
    """The shipped digits data (64 pixels, 10 classes; 1437 samples pad to 2048 rows, N = 64)."""
    run = train(_spec((64, 4, 10), 4, 2, QuantParams()), digits)
    statement, secrets, tables = training.commit_statement(run.witness, digits)
    training.verify(statement, training.prove(statement, secrets, tables))


def test_the_proof_size_does_not_grow_with_the_steps_beyond_log():
    """FAC4DNN: the number of sumchecks is fixed; only their rounds grow (log T)."""
    counts = {}
    for steps in (2, 8):
        data = pc.synthetic(16, 8, 4)
        run = train(_spec((8, 8, 4), 2, steps, QuantParams()), data)
        statement, secrets, tables = training.commit_statement(run.witness, data)
        messages = training.prove(statement, secrets, tables)
        counts[steps] = sum(m.label == b"factor values" for m in messages)
    assert counts[2] == counts[8]


# name: (widths, batch, steps, n_train); every layer has a bias (the weight of the constant input "one")
BIAS_RUNS = {
    "bias depth1 8-4 T1": ((8, 4), 4, 1, 16),
    "bias depth1 7-4 T2 (d_0 + 1 = N)": ((7, 4), 2, 2, 16),
    "bias depth2 8-8-4 T3": ((8, 8, 4), 4, 3, 16),
    "bias depth2 6-7-3 T4 (no padding column left)": ((6, 7, 3), 2, 4, 16),
    "bias depth3 6-8-5-3 T5": ((6, 8, 5, 3), 4, 5, 24),
    "bias depth3 5-6-3-3 batch1 T2": ((5, 6, 3, 3), 1, 2, 8),
}


@pytest.mark.parametrize("name", list(BIAS_RUNS))
def test_bias_runs_prove_and_verify(name):
    """Runs with a bias: the bias is the weight (block b{ℓ}, 2^R·b) of the constant input "one"
    (2^R, outside every layer's block), so R1, the weight history and R4 prove it with the weights."""
    widths, batch, steps, n = BIAS_RUNS[name]
    data = pc.synthetic(n, widths[0], widths[-1], seed=len(name))
    run = train(_spec(widths, batch, steps, QuantParams(), bias=True), data)
    assert any(np.any(b) for b in run.final.b)  # the biases moved: the proof covers their updates
    statement, secrets, tables = training.commit_statement(run.witness, data)  # checks the tables against the run
    lay = tables.layout
    assert lay.bias and lay.inputs["one"].log_size == 0
    for l, (w, b) in enumerate(zip(run.final.w, run.final.b)):
        assert np.array_equal(block(tables.history[steps], lay.weight_blocks, f"b{l}")[: widths[l + 1]], b << lay.frac_bits)
        weights = block(tables.history[steps], lay.weight_blocks, f"w{l}").reshape(-1, 1 << (widths[l + 1] - 1).bit_length())
        assert np.array_equal(weights[: widths[l], : widths[l + 1]], w)
    messages = training.prove(statement, secrets, tables)
    training.verify(statement, messages)
    decoded = Bundle.decode(Bundle(statement, tuple(messages)).encode())
    training.verify(decoded.statement, list(decoded.messages))


def test_a_buyer_checks_the_final_weights_and_biases(tmp_path):
    """check_weights places 2^R·b in the block b{ℓ} of the committed layout: the true final weights and
    biases recompute C_WT; one bias changed, or the biases left out, do not."""
    data = pc.synthetic(16, 8, 4)
    run = train(_spec((8, 6, 4), 4, 3, QuantParams(), bias=True), data)
    statement, secrets, _ = training.commit_statement(run.witness, data)
    opening = tmp_path / "weights.opening.json"
    opening.write_text(registration.weights_opening(statement, to_ints(secrets.wt.blinds)))
    final = run.final
    assert api.check_weights(statement, final, opening).ok
    changed = list(final.b)
    changed[1] = changed[1].copy()
    changed[1][2] += 1
    assert "do not recompute" in api.check_weights(statement, Weights(final.w, tuple(changed)), opening).reason
    assert "not of the proven architecture" in api.check_weights(statement, Weights(final.w, None), opening).reason
    assert "do not recompute" in api.check_weights(statement, run.initial, opening).reason


def test_zero_extended_weights_of_another_architecture_are_not_the_model(tmp_path):
    """Weights padded with zeros commit like the real ones in the padded layout (an extra output
    column, an extra all-zero layer): the buyer's check refuses them by the architecture first."""
    data = pc.synthetic(16, 8, 4)
    run = train(_spec((8, 6, 4), 4, 3, QuantParams()), data)
    statement, secrets, _ = training.commit_statement(run.witness, data)
    opening = tmp_path / "weights.opening.json"
    opening.write_text(registration.weights_opening(statement, to_ints(secrets.wt.blinds)))
    w0, w1 = run.final.w
    wider = Weights((w0, np.hstack([w1, np.zeros((6, 1), np.int64)])))
    deeper = Weights((w0, w1, np.zeros((4, 4), np.int64)))
    for weights in (wider, deeper):
        check = api.check_weights(statement, weights, opening)
        assert not check.ok and "not of the proven architecture (MLP 8-6-4)" in check.reason, check


# ---- determinism -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tiny_proof):
    return tiny_proof


def _shape(messages):
    return [
        (m.label, len(m.scalars), None if m.points is None else m.points.shape, None if m.opening is None else len(m.opening.L))
        for m in messages
    ]


def test_the_transcript_is_deterministic(tiny):
    """With the same blinding randomness the prover produces the same bundle byte for byte; with
    fresh randomness it produces the same message structure (labels, counts, shapes) and different
    bytes (the commitments hide), and both verify."""
    st, secrets, tables = tiny.statement, tiny.secrets, tiny.tables
    proofs = []
    for seed in (1, 1, 2):
        with seeded_prover(seed):
            proofs.append(Bundle(st, tuple(training.prove(st, secrets, tables))))
    assert proofs[0].encode() == proofs[1].encode()
    assert proofs[0].encode() != proofs[2].encode()
    assert _shape(proofs[0].messages) == _shape(proofs[2].messages) == _shape(tiny.messages)
    for proof in proofs:
        training.verify(st, list(proof.messages))


def test_prover_and_verifier_draw_the_same_challenges(tiny, monkeypatch):
    """The verifier is a pure function of (statement, proof): verifying twice draws the same
    challenges, and they are exactly the ones the prover drew while making the proof."""
    drawn: list[list[tuple[bytes, tuple[int, ...]]]] = []
    honest_challenges = Transcript.challenge_scalars

    def recording(self, label, n):
        values = honest_challenges(self, label, n)
        drawn[-1].append((label, tuple(values)))
        return values

    monkeypatch.setattr(Transcript, "challenge_scalars", recording)
    drawn.append([])
    messages = training.prove(tiny.statement, tiny.secrets, tiny.tables)
    for _ in range(2):
        drawn.append([])
        training.verify(tiny.statement, messages)
    assert drawn[0] == drawn[1] == drawn[2]
    assert len(drawn[0]) > 10 and len({label for label, _ in drawn[0]}) > 5
