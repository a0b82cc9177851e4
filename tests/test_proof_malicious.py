"""Soundness against a prover that deviates inside the protocol (tests/malicious.py).

Each test proves a false statement with a malicious prover that is honest everywhere except where
the lie has to be hidden, so the *one* relation that must catch it is the only one that can; the
test asserts that relation rejects (tests/relations.py). A verifier weakened at that relation
(tests/mutants.toml, `make mutation`) accepts the same proof.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tests import malicious as mal
from tests import proof_cheats as pc
from tests.relations import assert_rejected_by
from zkdl import _kernels
from zkdl.field import MODULUS, from_ints, to_int
from zkdl.model import ModelSpec
from zkdl.proof import claims as cl
from zkdl.proof import training
from zkdl.proof.channel import ProverChannel, VerifierChannel
from zkdl.proof.errors import VerificationError
from zkdl.proof.matmul import evaluate_i64
from zkdl.proof.opening import Batch
from zkdl.proof.transcript import Transcript
from zkdl.train import train

T = 3  # tiny_spec's steps


@pytest.fixture(scope="module")
def h(tiny_proof) -> pc.Honest:
    return tiny_proof


def prove(h: pc.Honest, tables, script: mal.Script, committed=None):
    return mal.prove_malicious(tables, mal.claimed(h), script, reuse=h, committed=committed)


def test_the_malicious_prover_without_a_script_is_the_honest_one(h):
    """Harness check: with no deviation the proof verifies, so each rejection below is the script's."""
    training.verify(*prove(h, pc.with_bits(pc.copy_tables(h.tables)), mal.Script()))


def test_each_reordered_message_alone_is_rejected(h):
    """Harness check: an honest run with challenges drawn before their messages is rejected (by
    the first check that depends on them), so the order tests below fail only by the order."""
    for order in ("round", "zero", "product"):
        assert_rejected_by(*prove(h, h.tables, mal.Script(challenge_first=frozenset({order}))), "forward")


# ---- R4: the final weights and the weight history ---------------------------------------------------


def _final_weights_plus_one(h: pc.Honest) -> tuple[pc.ProverTables, mal.Script]:
    """Committed W_T with one weight +1, the history honest. The prover sends W_T's value where the
    history's is due and merges W_T over its own table: only R4's link to the history is left."""
    committed = pc.copy_tables(h.tables)
    committed.history[1, T:, 2, 3] += 1
    w_t = committed.history[:, T]
    lay = h.layout

    def wt_value(_honest, drawn):
        return [evaluate_i64(w_t, lay.weights, drawn[b"final weights point"])]

    script = mal.Script(
        values={b"final weights value": wt_value},
        tables={b"merge WT": lambda _: [cl.Int64Table(np.ascontiguousarray(w_t).reshape(-1), 1 << lay.log_width)]},
    )
    return committed, script


def test_final_weights_off_by_one_are_rejected_by_the_history(h):
    committed, script = _final_weights_plus_one(h)
    assert_rejected_by(*prove(h, h.tables, script, committed=committed), "history")


def test_a_round_polynomial_chosen_after_its_challenge_is_rejected(h):
    """The same false W_T, and the history merge's false claim fitted into its first round with the
    round's challenge known in advance: every sumcheck's round order matters, the first rejects."""
    committed, script = _final_weights_plus_one(h)
    script = dataclasses.replace(script, challenge_first=frozenset({"round"}), fit_rounds=frozenset({b"history merge"}))
    assert_rejected_by(*prove(h, h.tables, script, committed=committed), "forward")


# ---- R1, R2: the products' values are tied to the committed bits ------------------------------------


def _entry(h: pc.Honest, table: np.ndarray, layer: int, step: int, width: int) -> tuple[int, int]:
    """A real entry of a [LP, TP, B, N] table whose bit 0 is clear."""
    rows, cols = np.nonzero((table[layer, step, :, :width] & 1) == 0)
    return int(rows[0]), int(cols[0])


def _mle(table: np.ndarray, point: list[int]) -> int:
    return to_int(_kernels.mle_evaluate(_kernels.fr_from_i64(np.ascontiguousarray(table).reshape(-1)), from_ints(point)))


@pytest.mark.parametrize("name, label, relation", [("Z", b"forward", "merge B"), ("G_A", b"backward", "merge B")])
def test_a_product_value_that_is_not_the_committed_bits_is_rejected(h, name, label, relation):
    """Committed bits of Z (G_A) with bit 0 of one entry set: a value that is not A_in·W (G_Z·Wᵀ).
    The prover sends the true product's value, so the sumcheck of R1 (R2) holds: the claim that ties
    that value to the bits (Σ_j κ_j·B_j at the same point) must reject."""
    honest = getattr(h.tables, name)
    row, col = _entry(h, honest, 0, 1, h.layout.widths[1])
    bits = pc.bit_array(honest)
    bits[0, 1, row, col, 0] = 1
    cheat = pc.with_bits(h.tables, **{f"bits_{name}": bits})
    assert getattr(cheat, name)[0, 1, row, col] == honest[0, 1, row, col] + 1
    script = mal.Script(values={label + b" value": lambda _v, drawn: [_mle(honest, drawn[label + b" point"])]})
    assert_rejected_by(*prove(h, cheat, script), relation)


# ---- R3: binarity, and a value rounded wrongly --------------------------------------------------------


def _wrongly_rounded(h: pc.Honest) -> pc.NonBinaryTables:
    """Z' one above round(Z/2^s) at a negative hidden entry (S = 0 hides Z' from the next layer):
    Z = 2^s·(Z' + 1) + R − 2^s needs a 2 at bit s − 1 over the bits of Z − 2^s."""
    s = h.layout.shift
    Z = h.tables.Z
    rows, cols = np.nonzero((Z[0, 2, :, :8] < 0) & ((Z[0, 2, :, :8] >> (s - 1)) & 1 == 0))
    row, col = int(rows[0]), int(cols[0])
    bits = pc.bit_array(Z)
    bits[0, 2, row, col] = pc.bit_array(np.int64(Z[0, 2, row, col] - (1 << s)))
    bits[0, 2, row, col, s - 1] = 2
    cheat = pc.with_bits(pc.copy_tables(h.tables), bits_Z=bits)
    assert np.array_equal(cheat.Z, Z) and cheat.Z_rescaled[0, 2, row, col] == h.tables.Z_rescaled[0, 2, row, col] + 1
    cheat.check_against_run(h.run)
    return cheat


def test_a_wrongly_rounded_value_is_rejected_by_binarity(h):
    assert_rejected_by(*prove(h, _wrongly_rounded(h), mal.Script()), "binarity")


def _zeros_for(tables: list) -> list:
    """The bit tables with the second factor replaced by zeros: Σ eq·b·0 = 0 holds for any b."""
    first = tables[0].field()
    return [tables[0], np.zeros_like(first)]


def test_a_second_binarity_factor_that_is_not_bit_minus_one_is_rejected(h):
    """The wrongly rounded run, with binarity's sumcheck run over (b, 0) instead of (b, b − 1): the
    sumcheck holds, the equality tying the second factor to b − 1 must reject."""
    script = mal.Script(tables={b"binarity BZ": _zeros_for})
    reason = assert_rejected_by(*prove(h, _wrongly_rounded(h), script), "binarity")
    assert reason.startswith("binarity offset BZ")


def test_a_zero_proof_answered_after_its_challenge_is_rejected(h):
    """The wrongly rounded run, binarity's final check "proven" zero by a simulated Σ-proof whose
    challenge was drawn before its commitment: the first proof of zero in the transcript rejects."""
    script = mal.Script(challenge_first=frozenset({"zero"}), forge_zero=frozenset({b"binarity BZ final"}))
    assert_rejected_by(*prove(h, _wrongly_rounded(h), script), "forward")


def test_a_product_proof_answered_after_its_challenge_is_rejected(h):
    """The wrongly rounded run, binarity's b·(b − 1) committed as the value its final check needs and
    "proven" by a simulated Σ-proof with its challenge known first: the first product proof rejects."""
    script = mal.Script(challenge_first=frozenset({"product"}), forge_product=frozenset({b"binarity BZ"}))
    assert_rejected_by(*prove(h, _wrongly_rounded(h), script), "forward")


# ---- targets: one-hot rows ---------------------------------------------------------------------------


def _trained_on_targets(h: pc.Honest, change) -> pc.ProverTables:
    """A run trained on targets edited by `change` (one scheduled sample's row), committed with them."""
    n = int(np.asarray(h.layout.schedule)[0, 0])

    def edit(Y):
        Y = Y.copy()
        Y[n] = change(Y[n])
        return Y

    run = pc.cheating_train(h.spec, h.data, targets=edit)
    data_x, data_y = pc.padded_data(h.layout, h.data)
    data_y[: h.layout.n_train, :3] = edit(data_y[: h.layout.n_train, :3])
    tables = pc.build_tables(h.layout, run, data_x, data_y)
    tables.check_against_run(run)
    return tables


def test_a_two_hot_target_is_rejected_by_the_row_sums(h):
    """Entries in {0, 2^R} but two of them in one row: only the row-sum claim on D_Y catches it."""
    scale = 1 << h.layout.frac_bits
    tables = _trained_on_targets(h, lambda row: np.where(row == 0, scale, row) * (np.arange(len(row)) < 2) + row * (np.arange(len(row)) >= 2))
    assert sorted(tables.data_y[int(np.asarray(h.layout.schedule)[0, 0]), :3].tolist()) != [0, 0, scale]
    assert_rejected_by(*prove(h, tables, mal.Script()), "merge Y")


def test_a_target_entry_that_is_not_0_or_2_to_the_r_is_rejected(h):
    """Half-hot targets (2^(R−1) in two classes: the row sums to 2^R), with the entries' sumcheck run
    over (Y, 0) instead of (Y, Y − 2^R): the equality tying the second factor to Y − 2^R rejects."""
    half = 1 << (h.layout.frac_bits - 1)
    tables = _trained_on_targets(h, lambda row: np.array([half, half, 0]))
    reason = assert_rejected_by(*prove(h, tables, mal.Script(tables={b"targets entries": lambda t: [t[0], np.zeros_like(t[0])]})), "targets")
    assert reason.startswith("targets offset")


# ---- the ReLU's masks: a wider hidden layer ---------------------------------------------------------------


def test_a_wider_hidden_layer_is_rejected_by_the_relu_masks(h):
    """The cheater trains 6-8-6-3 and claims 6-8-5-3 (unit 5 of layer 1 in padded column 5), and
    computes every virtual tensor of the network it trained: the ReLU's column mask, which keeps
    column 5 out of layer 2's input and layer 1's gradient, must reject."""
    widths = (6, 8, 6, 3)
    run = train(dataclasses.replace(h.spec, model=ModelSpec(widths)), h.data)
    tables = mal.masked_as(pc.build_tables(h.layout, run, data=h.data), widths)
    assert_rejected_by(*prove(h, tables, mal.Script()), "relu forward", "relu backward")


# ---- batching: claims combined with random coefficients --------------------------------------------------


def test_opposite_errors_in_two_batched_claims_are_rejected():
    """Two claims on one table, one too high by δ and one too low by δ: their sum is right, so only
    the random batching coefficients (not 1, 1) expose them."""
    shape = (("row", 2), ("col", 2))
    table = from_ints(list(range(3, 19)))
    rng = np.random.default_rng(5)
    claims_at = [cl.eq_factors(shape, [int(v) for v in rng.integers(1, 1 << 60, 4)]) for _ in range(2)]
    true = [_sum(shape, f, table) for f in claims_at]
    delta = 77
    prover = ProverChannel(Transcript(b"batching test"))
    hidden = prover.send_hidden(b"claims", [(true[0] + delta) % MODULUS, (true[1] - delta) % MODULUS])
    cl.prove_product(prover, b"merge", shape, [cl.claim(shape, f, v) for f, v in zip(claims_at, hidden)], [table])
    verifier = VerifierChannel(Transcript(b"batching test"), prover.messages)
    received = verifier.receive_hidden(b"claims", 2)
    checks = Batch()
    cl.verify_product(verifier, b"merge", shape, [cl.claim(shape, f, v) for f, v in zip(claims_at, received)], 1, checks)
    with pytest.raises(VerificationError, match="^merge final"):
        checks.verify()


def _sum(shape, factors, table) -> int:
    return to_int(_kernels.fr_inner(cl.weight_table(shape, cl.claim(shape, factors, 0)), table))
