"""Soundness against a prover that deviates inside the protocol (tests/malicious.py).

Each test proves a false statement with a malicious prover that is honest everywhere except where
the lie has to be hidden, so the *one* relation that must catch it is the only one that can; the
test asserts that relation rejects (tests/relations.py). A verifier weakened at that relation
(tests/mutants.toml, `make mutation`) accepts the same proof.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Callable

import numpy as np
import pytest

from tests import malicious as mal
from tests import proof_cheats as pc
from tests.relations import assert_rejected_by
from tests.seeding import seeded_prover
from zkdl import _kernels, backend
from zkdl.backend.native import MODULUS, from_ints, to_int, to_ints
from zkdl.model import ModelSpec
from zkdl.proof import claims as cl
from zkdl.proof import commitment as cm
from zkdl.proof import packed, product, training
from zkdl.proof.channel import Message, ProverChannel, VerifierChannel
from zkdl.proof.errors import VerificationError
from zkdl.proof.layout import Layout
from zkdl.proof.mle import evaluate_i64
from zkdl.proof.opening import Batch
from zkdl.proof.transcript import Transcript
from zkdl.proof.witness import ProverTables, data_tables, packed_weights
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
    lay = h.layout
    committed = pc.copy_tables(h.tables)
    pc.weights_of(lay, committed.history, 1)[T:, 2, 3] += 1
    w_t = committed.history[T]

    def wt_value(_honest, party):
        return [evaluate_i64(w_t, lay.weights, party.drawn[b"final weights point"])]

    script = mal.Script(
        values={b"final weights value": wt_value},
        tables={b"merge WT": lambda _t, _p: [packed.Int64Table(np.ascontiguousarray(w_t), len(w_t))]},
    )
    return committed, script


def test_final_weights_off_by_one_are_rejected_by_the_history(h):
    committed, script = _final_weights_plus_one(h)
    assert_rejected_by(*prove(h, h.tables, script, committed=committed), "history")


def test_a_round_polynomial_chosen_after_its_challenge_is_rejected(h):
    """The same false W_T, and the history updates' false claim fitted into its first round with the
    round's challenge known in advance: every sumcheck's round order matters, the first rejects."""
    committed, script = _final_weights_plus_one(h)
    script = dataclasses.replace(script, challenge_first=frozenset({"round"}), fit_rounds=frozenset({b"history updates"}))
    assert_rejected_by(*prove(h, h.tables, script, committed=committed), "forward")


# ---- R1, R2: the products' values are tied to the committed bits ------------------------------------


def _entry(layer_table: np.ndarray, step: int, width: int) -> tuple[int, int]:
    """A real entry of a layer's [TP, B, n] block whose bit 0 is clear."""
    rows, cols = np.nonzero((layer_table[step, :, :width] & 1) == 0)
    return int(rows[0]), int(cols[0])


def _mle(table: np.ndarray, point: list[int]) -> int:
    return to_int(_kernels.mle_evaluate(_kernels.fr_from_i64(np.ascontiguousarray(table).reshape(-1)), from_ints(point)))


PRODUCT_VALUES = [  # (tensor, layer, step, product, the table of its value, the relation that must reject)
    ("Z", 0, 1, b"forward", "Z_next", "merge B"),
    ("Z_out", 2, 1, b"forward", "Z_next", "merge BO"),
    ("G_A", 0, 1, b"backward", "G_A", "merge B"),
    ("G_A", 1, 2, b"backward", "G_A", "merge B"),  # the last hidden layer, the last step
]


@pytest.mark.parametrize("name, layer, step, label, value_table, relation", PRODUCT_VALUES)
def test_a_product_value_that_is_not_the_committed_bits_is_rejected(h, name, layer, step, label, value_table, relation):
    """Committed bits of Z (the output's Z, G_A) with bit 0 of one entry set: a value that is not
    A_in·W (G_Z·Wᵀ). The prover sends the true product's value, so the sumcheck of R1 (R2) holds:
    the claim that ties that value to the bits (Σ_j κ_j·B_j at the same point) must reject."""
    honest = getattr(h.tables, name)
    cheat = _bit_zero_set(h, name, layer, step)
    assert not np.array_equal(getattr(cheat, name), honest)
    truth = getattr(h.tables, value_table)
    values = {label + b" value": lambda _v, party: [_mle(truth, party.drawn[label + b" point"])]}
    if name == "Z_out":  # and the true output part of R1's value, so that only the output's bits are false
        values[b"forward output split"] = lambda _v, party: [_mle(honest, _output_point(h.layout, party.drawn[b"forward point"]))]
    assert_rejected_by(*prove(h, cheat, mal.Script(values=values)), relation)


def _output_point(lay: Layout, rho: list[int]) -> list[int]:
    """R1's point on `next` read on the output's own axis: its block's (lowest) variables."""
    parts = cl.split_point(lay.layer_outputs, rho)
    return cl.join_point(lay.output, {"step": parts["step"], "row": parts["row"], "out": parts["next"][: dict(lay.output)["out"]]})


def _bit_zero_set(h: pc.Honest, name: str, layer: int = 0, step: int = 1) -> pc.NonBinaryTables:
    """Tables whose Z (the output's Z, G_A) of `layer` has bit 0 set at one real entry of `step`,
    recomputed from the bits: the value is not the product of R1 (R2)."""
    honest = getattr(h.tables, name)
    of_layer = (lambda t, array: array) if name == "Z_out" else (lambda t, array: pc.layer_block(t, array, layer))
    row, col = _entry(of_layer(h.tables, honest), step, h.layout.widths[layer + 1])
    bits = pc.bit_array(honest)
    (bits if name == "Z_out" else pc.layer_block(h.tables, bits, layer, axis=-2))[step, row, col, 0] = 1
    cheat = pc.with_bits(h.tables, **{f"bits_{name}": bits})
    assert of_layer(cheat, getattr(cheat, name))[step, row, col] == of_layer(h.tables, honest)[step, row, col] + 1
    return cheat


def _wt_history_off_by_one(h: pc.Honest) -> pc.ProverTables:
    tables = pc.copy_tables(h.tables)
    pc.weights_of(h.layout, tables.history, 1)[T:, 2, 3] += 1
    return tables


FITTED = [  # (the product, the factor fitted to its false claim, the cheat, the relations that must reject)
    (b"forward", 0, lambda h: _bit_zero_set(h, "Z"), ("relu forward", "merge X")),
    (b"forward", 1, lambda h: _bit_zero_set(h, "Z"), ("history",)),
    (b"backward", 0, lambda h: _bit_zero_set(h, "G_A"), ("relu backward", "merge B", "merge BO", "merge Y")),
    (b"backward", 1, lambda h: _bit_zero_set(h, "G_A"), ("history",)),
    (b"history updates", 0, _wt_history_off_by_one, ("relu forward", "merge X")),
    (b"history updates", 1, _wt_history_off_by_one, ("relu backward", "merge B", "merge BO", "merge Y")),
]


@pytest.mark.parametrize("product, factor, cheat, relations", FITTED, ids=[f"{p.decode()}-{m}" for p, m, _, _ in FITTED])
def test_a_factor_fitted_to_a_false_claim_is_rejected_by_its_link(h, product, factor, cheat, relations):
    """A false claim reaches a product sumcheck; the prover runs it over one factor table changed
    to fit the claim, so the sumcheck holds: the claim that ties that factor's value to its tensor
    (A_in, W's history, G_Z) must reject."""
    assert_rejected_by(*prove(h, cheat(h), mal.Script(tables={product: mal.fit(factor)})), *relations)


CHAINED = [  # a false claim carried through two fitted sumchecks to the link under test
    ("relu forward S", {b"forward": mal.fit(0), b"relu forward": mal.fit(0)}, "Z"),
    ("relu forward Z'", {b"forward": mal.fit(0), b"relu forward": mal.fit(1)}, "Z"),
    ("relu backward S", {b"backward": mal.fit(0), b"relu backward": mal.fit(0)}, "G_A"),
    ("relu backward G_A'", {b"backward": mal.fit(0), b"relu backward": mal.fit(1)}, "G_A"),
]


@pytest.mark.parametrize("fitted, name", [(f, n) for _, f, n in CHAINED], ids=[i for i, _, _ in CHAINED])
def test_a_relu_factor_fitted_to_a_false_claim_is_rejected_by_the_bits(h, fitted, name):
    """The product's false value carried into the ReLU's Hadamard sumcheck (its A_in or G_Z factor
    fitted), and one of the ReLU's factors fitted there: that factor's claim on the bits (S is
    1 − the top bit, Z' and G_A' the rescale weights) must reject."""
    assert_rejected_by(*prove(h, _bit_zero_set(h, name), mal.Script(tables=fitted)), "merge B")


def test_binarity_run_over_other_bits_than_the_committed_ones_is_rejected(h):
    """The wrongly rounded run, binarity's sumcheck run over the honest (binary) bits: it holds,
    and the claim that ties its value to the committed bits must reject."""
    honest = h.tables.stacked_bits()
    width = 1 << h.layout.log_bits
    script = mal.Script(tables={b"binarity B": lambda _t, _p: [packed.BitTable(honest, width), packed.BitTable(honest, width, -1)]})
    assert_rejected_by(*prove(h, _wrongly_rounded(h), script), "merge B")


def test_a_mislabelled_sample_is_rejected_by_the_loss(h):
    """Trained on one label, committed with another (a one-hot row either way): the prover checks
    the targets and opens D_Y on the committed labels, and trains on the others; only the loss
    gradient's claim on the scheduled targets ties the training to the committed D_Y."""
    committed = pc.copy_tables(h.tables)
    n = int(np.asarray(h.layout.schedule)[0, 0])
    committed.data_y[n, :3] = np.roll(committed.data_y[n, :3], 1)
    y = _kernels.fr_from_i64(committed.data_y.reshape(-1))
    y_minus = _kernels.fr_from_i64(committed.data_y.reshape(-1) - 1)
    entries = lambda _t, _p: [y, y_minus]  # noqa: E731
    script = mal.Script(tables={b"targets entries": entries, b"merge Y": lambda _t, _p: [y]})
    assert_rejected_by(*prove(h, h.tables, script, committed=committed), "merge Y")


def test_data_other_than_the_committed_data_is_rejected_by_the_merge_of_d_x(h):
    """Trained on the data set, committed with one pixel of a scheduled sample changed: the prover
    opens D_X on the committed pixels and trains on the others; only the ReLU input split's claims
    on the scheduled rows of D_X tie the training to the committed data."""
    committed = pc.copy_tables(h.tables)
    n = int(np.asarray(h.layout.schedule)[0, 0])
    committed.data_x[n, 0] += 1
    x = _kernels.fr_from_i64(committed.data_x.reshape(-1))
    script = mal.Script(tables={b"merge X": lambda _t, _p: [x]})
    assert_rejected_by(*prove(h, h.tables, script, committed=committed), "merge X")


@pytest.mark.parametrize("name, slot", [("W0", 0), ("WT", T)])
def test_committed_weights_other_than_the_trained_ones_are_rejected_by_their_merge(h, name, slot):
    """Trained from W_0 to W_T, committed with one weight of W_0 (of W_T) changed: the prover opens
    the committed weights and proves the run it trained; only the history's claim on W_0 (R4's
    claim on W_T) ties the run to the committed weights."""
    committed = pc.copy_tables(h.tables)
    pc.weights_of(h.layout, committed.history, 1)[slot, 2, 3] += 1
    weights = _kernels.fr_from_i64(np.ascontiguousarray(committed.history[slot]))
    script = mal.Script(tables={b"merge " + name.encode(): lambda _t, _p: [weights]})
    assert_rejected_by(*prove(h, h.tables, script, committed=committed), f"merge {name}")


def _error_into_the_input_split(honest: list) -> Callable[[list[int], mal.MaliciousProver], list[int]]:
    """A values hook for `input split`: the second claim on A_in (the history updates') gets its
    whole error, fitted value minus true value (the honest table's at the updates' point), in its
    data piece, so the rest (the hidden blocks, ReLU outputs) is the honest one."""
    calls = iter(range(2))

    def hook(values: list[int], party: mal.MaliciousProver) -> list[int]:
        if next(calls, None) != 1:
            return values
        point, (fitted, _) = party.proven[b"history updates"]
        true = backend.mle_evaluate(honest[0], point)
        return [(values[0] + fitted - true) % MODULUS]

    return hook


def test_a_history_error_moved_into_the_input_split_is_rejected_by_the_merge_of_d_x(h):
    """W_T off by one, the history updates' A_in factor fitted (as above), and that A_in claim's
    input split carrying the whole error in its layer-0 piece, so the ReLU forward holds: the
    claim on D_X it then makes, the second one there, must reject (every claim is merged)."""
    honest: list = []

    def fitted(tables, party):
        honest.append(tables[0])
        return mal.fit(0)(tables, party)

    script = mal.Script(tables={b"history updates": fitted}, values={b"input split": _error_into_the_input_split(honest)})
    assert_rejected_by(*prove(h, _wt_history_off_by_one(h), script), "merge X")


# ---- R3: binarity, and a value rounded wrongly --------------------------------------------------------


def _wrongly_rounded(h: pc.Honest, name: str = "Z") -> pc.NonBinaryTables:
    """Z' (G_A') one above round(·/2^s) at an entry of hidden layer 0 whose S = 0 (so neither the
    next layer nor G_Z sees it): the value minus 2^s plus a 2 at bit s − 1, which binary bits cannot hold."""
    s, lay = h.layout.shift, h.layout
    table = getattr(h.tables, name)
    z, layer_table = pc.z_of(h.tables, 0), pc.layer_block(h.tables, table, 0)
    hidden = (z[: lay.steps, :, : lay.widths[1]] < 0) & ((layer_table[: lay.steps, :, : lay.widths[1]] >> (s - 1)) & 1 == 0)
    step, row, col = (int(i[0]) for i in np.nonzero(hidden))
    bits = pc.bit_array(table)
    entry_bits = pc.layer_block(h.tables, bits, 0, axis=-2)[step, row, col]
    entry_bits[:] = pc.bit_array(np.int64(layer_table[step, row, col] - (1 << s)))
    entry_bits[s - 1] = 2
    cheat = pc.with_bits(pc.copy_tables(h.tables), **{f"bits_{name}": bits})
    rescaled = f"{name}_rescaled"
    assert np.array_equal(getattr(cheat, name), table)
    before = pc.layer_block(h.tables, getattr(h.tables, rescaled), 0)[step, row, col]
    assert pc.layer_block(cheat, getattr(cheat, rescaled), 0)[step, row, col] == before + 1
    cheat.check()
    return cheat


def test_a_wrongly_rounded_value_is_rejected_by_binarity(h):
    assert_rejected_by(*prove(h, _wrongly_rounded(h), mal.Script()), "binarity")


def _zeros_for(tables: list, _party) -> list:
    """The bit tables with the second factor replaced by zeros: Σ eq·b·0 = 0 holds for any b."""
    first = tables[0].field()
    return [tables[0], np.zeros_like(first)]


@pytest.mark.parametrize("name", ["Z", "G_A", "Z_out"])
def test_a_second_binarity_factor_that_is_not_bit_minus_one_is_rejected(h, name):
    """A wrongly rounded Z (G_A, the output's Z), with binarity's sumcheck run over (b, 0) instead
    of (b, b − 1): the sumcheck holds, the equality tying the second factor to b − 1 must reject."""
    bits = "BO" if name == "Z_out" else "B"
    cheat = pc.wrongly_rounded(h, "Z", h.layout.layers - 1, 0) if name == "Z_out" else _wrongly_rounded(h, name)
    script = mal.Script(tables={b"binarity " + bits.encode(): _zeros_for})
    reason = assert_rejected_by(*prove(h, cheat, script), "binarity")
    assert re.match(rf"binarity offset {bits}\b", reason), reason


def test_a_zero_proof_answered_after_its_challenge_is_rejected(h):
    """The wrongly rounded run, binarity's final check "proven" zero by a simulated Σ-proof whose
    challenge was drawn before its commitment: the first proof of zero in the transcript rejects."""
    script = mal.Script(challenge_first=frozenset({"zero"}), forge_zero=frozenset({b"binarity B final"}))
    assert_rejected_by(*prove(h, _wrongly_rounded(h), script), "forward")


def test_a_product_proof_answered_after_its_challenge_is_rejected(h):
    """The wrongly rounded run, binarity's b·(b − 1) committed as the value its final check needs and
    "proven" by a simulated Σ-proof with its challenge known first: the first product proof rejects."""
    script = mal.Script(challenge_first=frozenset({"product"}), forge_product=frozenset({b"binarity B"}))
    assert_rejected_by(*prove(h, _wrongly_rounded(h), script), "forward")


# ---- targets: one-hot rows ---------------------------------------------------------------------------


def test_a_two_hot_target_is_rejected_by_the_row_sums(h):
    """Entries in {0, 1} but two of them in one row: only the row-sum claim on D_Y catches it."""
    scale = 1 << h.layout.frac_bits
    tables = pc.trained_on_targets(
        h, lambda row: np.where(row == 0, scale, row) * (np.arange(len(row)) < 2) + row * (np.arange(len(row)) >= 2)
    )
    assert sorted(tables.data_y[int(np.asarray(h.layout.schedule)[0, 0]), :3].tolist()) != [0, 0, 1]
    assert_rejected_by(*prove(h, tables, mal.Script()), "merge Y")


def test_a_target_in_a_padded_class_column_is_rejected_by_the_row_sums(h):
    """A sample trained with no target at all (its real classes all 0), committed with its 1 in
    padded class column 3: entries are 0 or 1 and the row holds one 1, but not among the real
    classes, which is all the real classes' row sums count (and the padded classes must sum to 0)."""
    n = int(np.asarray(h.layout.schedule)[0, 0])
    run = pc.cheating_train(h.spec, h.data, targets=lambda Y: np.where(np.arange(len(Y))[:, None] == n, 0, Y))
    data_x, data_y = data_tables(h.data)
    data_y[n, :3], data_y[n, 3] = 0, 1
    tables = pc.build_tables(h.layout, run, data_x, data_y)
    tables.check()
    assert_rejected_by(*prove(h, tables, mal.Script()), "merge Y")


def test_a_one_hot_target_in_a_padded_row_is_rejected_by_the_row_sums(h):
    """A one-hot target in padded row n_train (never scheduled, so training is unchanged): the
    commitment would hold n_train + 1 samples, and padded rows must sum to zero."""
    tables = pc.copy_tables(h.tables)
    tables.data_y[h.layout.n_train, 0] = 1
    assert_rejected_by(*prove(h, tables, mal.Script()), "merge Y")


def test_a_target_entry_that_is_not_0_or_1_is_rejected(h):
    """Targets (2, −1, 0) (the row sums to 1), with the entries' sumcheck run over (Y, 0) instead of
    (Y, Y − 1): the equality tying the second factor to Y − 1 rejects."""
    tables = pc.trained_on_targets(h, _two_minus_one(h))
    reason = assert_rejected_by(
        *prove(h, tables, mal.Script(tables={b"targets entries": lambda t, _p: [t[0], np.zeros_like(t[0])]})), "targets"
    )
    assert reason.startswith("targets offset")


def test_a_mislabelled_sample_hidden_in_the_output_is_rejected(h):
    """Trained on one label, committed with another, and the prover's output Z' shifted by the
    difference of the targets where the sample is scheduled: the loss gradient Z' − Y_sel is then
    the trained one (the ReLU's sumcheck reads the true Z'), so only the claim that ties the loss's
    output to the committed bits rejects."""
    tables = pc.copy_tables(h.tables)
    n = int(np.asarray(h.layout.schedule)[0, 0])
    tables.data_y[n, :3] = np.roll(tables.data_y[n, :3], 1)
    shifted = h.tables.Z_out_rescaled.copy()
    difference = (tables.data_y[n] - h.tables.data_y[n]) * h.layout.constant  # the targets are 2^R·D_Y
    for t, b in zip(*np.nonzero(np.asarray(h.layout.schedule) == n)):
        shifted[t, b, : len(difference)] += difference
    tables.__dict__["Z_out_rescaled"] = shifted  # the cached property, set before anything reads it
    assert np.array_equal(tables.G_Z, h.tables.G_Z)
    assert_rejected_by(*prove(h, tables, mal.Script()), "merge BO")


def test_the_entries_check_run_over_other_targets_is_rejected(h):
    """Targets (2, −1, 0), with the entries' sumcheck run over the honest one-hot targets: it holds,
    and the claim that ties its value to the committed D_Y must reject."""
    tables = pc.trained_on_targets(h, _two_minus_one(h))
    one_hot = h.tables.data_y.reshape(-1)
    honest = lambda _t, _p: [_kernels.fr_from_i64(one_hot), _kernels.fr_from_i64(one_hot - 1)]  # noqa: E731
    assert_rejected_by(*prove(h, tables, mal.Script(tables={b"targets entries": honest})), "merge Y")


def _two_minus_one(h: pc.Honest):
    """A row edit giving targets 2^R·(2, −1, 0): a row sum of 2^R with entries outside {0, 2^R}."""
    scale = h.layout.constant
    return lambda row: np.array([2 * scale, -scale, 0])


# ---- the ReLU's masks: a wider hidden layer ---------------------------------------------------------------


def test_a_wider_hidden_layer_is_rejected_by_the_relu_masks(h):
    """The cheater trains 6-8-6-3 and claims 6-8-5-3 (unit 5 of layer 1 in padded column 5), and
    computes every virtual tensor of the network it trained: the ReLU's column mask, which keeps
    column 5 out of layer 2's input and layer 1's gradient, must reject."""
    widths = (6, 8, 6, 3)
    run = pc.wider_run(h.spec, h.data, widths)
    tables = mal.masked_as(pc.build_tables(h.layout, run, data=h.data), widths)
    assert_rejected_by(*prove(h, tables, mal.Script()), "relu forward", "relu backward")


def test_a_wider_output_layer_is_rejected_by_the_loss_mask(h):
    """The cheater trains 6-8-5-4 (a fourth class in padded output column 3, never a target) and
    claims 6-8-5-3, computing the loss gradient of the network it trained: the loss's column mask,
    G_Z = M_L ⊙ (Z' − Y_sel), must reject."""
    widths = (6, 8, 5, 4)
    run = train(dataclasses.replace(h.spec, model=ModelSpec(widths)), dataclasses.replace(h.data, classes=4))
    tables = mal.masked_as(pc.build_tables(h.layout, run, data=h.data), widths)
    assert_rejected_by(*prove(h, tables, mal.Script()), "merge B", "merge BO", "merge Y")


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
    product.prove_product(prover, b"merge", shape, [cl.claim(shape, f, v) for f, v in zip(claims_at, hidden)], [table])
    verifier = VerifierChannel(Transcript(b"batching test"), prover.messages)
    received = verifier.receive_hidden(b"claims", 2)
    checks = Batch()
    product.verify_product(verifier, b"merge", shape, [cl.claim(shape, f, v) for f, v in zip(claims_at, received)], 1, checks)
    with pytest.raises(VerificationError, match="^merge final"):
        checks.verify()


def _sum(shape, factors, table) -> int:
    return to_int(_kernels.fr_inner(cl.weight_table(shape, cl.claim(shape, factors, 0)), table))


# ---- chunks: a boundary commitment chosen after the chunks' challenges ----------------------------------


class _Stop(Exception):
    """Ends a first run once the claims on the boundary are known."""


def _prove_chunks(statement, secrets, chunk_tables, boundary, absorbed_rows, scripts) -> tuple[list[Message], list[mal.MaliciousProver]]:
    """training._prove_chunks for two chunks with one given boundary (commitment, opening), each
    chunk under its own script and seed, its transcript having absorbed `absorbed_rows`; returns
    the messages and each chunk's party (with the claims it recorded)."""
    lay = chunk_tables[0].layout
    base = training.StatementCommitments.of(statement, Layout.of(statement))
    weights = [(base.w0, secrets.w0), boundary, (base.wt, secrets.wt)]
    messages = [Message(b"chunking", scalars=(lay.steps,)), Message(b"boundary weights", points=boundary[0].rows)]
    provers = []
    for k, (tables, script) in enumerate(zip(chunk_tables, scripts)):
        channel = ProverChannel(training._transcript(statement, lay.steps, absorbed_rows, k))
        chunk = dataclasses.replace(base, w0=weights[k][0], wt=weights[k + 1][0])
        with seeded_prover(k), mal.malicious(script) as parties, pc.field_bits_prover(), contextlib.suppress(_Stop):
            chunk_secrets = dataclasses.replace(secrets, w0=weights[k][1], wt=weights[k + 1][1])
            training._prove_chunk(channel, chunk, chunk_secrets, tables, lambda _: None)
        messages += channel.messages
        provers += parties
    return messages, provers


def _solve(claims: list[mal.Batched], base: list[int]) -> list[int]:
    """base plus one δ per claim, each at an entry its claim weighs, whose weighted sums Σ w·V are
    every claim's value (Gaussian elimination mod r)."""
    pairs = [(claim, value) for batched in claims for claim, value in zip(batched.claims, batched.values, strict=True)]
    weights = [to_ints(cl.weight_table(claims[0].shape, claim)) for claim, _ in pairs]
    positions: list[int] = []
    for w in weights:
        positions.append(next(p for p in range(len(w)) if w[p] and p not in positions))
    rows = [[w[p] for p in positions] + [(value - sum(a * b for a, b in zip(w, base))) % MODULUS] for w, (_, value) in zip(weights, pairs)]
    for col in range(len(rows)):
        pivot = next(r for r in range(col, len(rows)) if rows[r][col] % MODULUS)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        inverse = pow(rows[col][col], -1, MODULUS)
        rows[col] = [x * inverse % MODULUS for x in rows[col]]
        for r in range(len(rows)):
            if r != col and rows[r][col]:
                rows[r] = [(x - rows[r][col] * y) % MODULUS for x, y in zip(rows[r], rows[col], strict=True)]
    out = list(base)
    for p, row in zip(positions, rows, strict=True):
        out[p] = (out[p] + row[-1]) % MODULUS
    return out


def test_a_boundary_chosen_after_the_chunks_challenges_is_rejected(h):
    """After step 2 the run goes on from W' (one weight of W_2 changed: weights from elsewhere). In
    chunks of 2 the boundary C_W2 must open to W_2 in chunk 0 and to W' in chunk 1. A prover who knew
    both chunks' claims on it before committing builds one tensor V meeting both (W' plus two solved
    entries), commits V and proves each chunk honestly around it. Every chunk's transcript absorbs the
    boundary rows before anything else, so the transcripts this prover used (with other rows) are not
    the verifier's, and the first check rejects."""
    lay = h.layout

    def bump(t, l, tensor, old, grad):
        return old - grad + (np.arange(old.size).reshape(old.shape) == 11) if (t, l, tensor) == (1, 1, "W") else None

    cheat = pc.cheating_train(h.spec, h.data, update=bump)
    c_wt, o_wt = cm.commit_int64(packed_weights(lay, cheat.final))
    statement = dataclasses.replace(h.statement, c_wt=cm.encode(c_wt))
    secrets = dataclasses.replace(h.secrets, wt=o_wt)
    chunk_tables = [ProverTables.of(lay.chunk(0, 2), h.run.witness, h.data), ProverTables.of(lay.chunk(2, 1), cheat.witness, h.data)]
    placeholder = cm.commit_int64(packed_weights(lay, h.run.witness.weights_at(2)))

    def stop(_tables, _party):
        raise _Stop

    first = [mal.Script(tables={b"merge WT": stop}), mal.Script(tables={b"merge W0": stop})]
    _, (chunk0, chunk1) = _prove_chunks(statement, secrets, chunk_tables, placeholder, placeholder[0].rows, first)
    w_prime = to_ints(_kernels.fr_from_i64(chunk_tables[1].history[0]))
    v = from_ints(_solve([chunk0.claims[b"merge WT"], chunk1.claims[b"merge W0"]], w_prime))
    boundary = cm.commit_field(v.reshape(*chunk_tables[0].history[0].shape, 4))
    own = lambda _tables, _party: [v]  # noqa: E731
    second = [mal.Script(tables={b"merge WT": own}), mal.Script(tables={b"merge W0": own})]
    messages, _ = _prove_chunks(statement, secrets, chunk_tables, boundary, placeholder[0].rows, second)
    assert_rejected_by(statement, messages, "forward")
