"""Soundness of the training proof (issue 3): every cheat a prover can build is rejected.

Each cheat is built twice. First the way a cheating prover would build it (tests/proof_cheats.py):
change the witness or the statement, commit exactly the tables that are then used, and run the
honest prover code to the end; the verifier must raise VerificationError. Then by editing the
finished bundle of the honest proof (`test_bundle_edit_is_rejected`). Cheats that are consistent
everywhere except one relation also check *which* relation rejects them (the message names the
sub-protocol), so that a regression in that relation cannot hide behind another one.

Every rejection names its relation (tests/relations.py, `assert_rejected_by`). The verifier checks
every deferred equation in one batch and reports the first that fails, in the protocol's order
(docs/protocol.md §7: forward, backward, final weights and history, ReLU, binarity, targets, then
the merges and openings): a cheat that breaks several relations is named by the first of them, and
the test says which others it breaks. A change of the transcript (an edit of the statement or of
a message absorbed before a challenge) changes every later challenge, so the first deferred check
of the proof (`FIRST_CHECK`, the forward product's) fails whatever the edit targets: those tests
also assert that the edited statement starts another transcript.

Padding: where the masks make padded values provably inert, the test shows the proof still
verifies *and* the real computation is unchanged (the comment says which mask); where the padded
values would change the real computation, the verifier rejects.

The run (tests/conftest.py `tiny_spec`): widths 6-8-5-3, batch 4, T = 3, 24 synthetic samples;
blocks of 8, 8, 8 and 4 columns (`unit` 16, `in` 32, `next` 32, `weight` 256 with a gap of 96),
4 step slots, 32 sample rows.
"""

from __future__ import annotations

import dataclasses
import re
from functools import cached_property

import numpy as np
import pytest

from tests import proof_cheats as pc
from tests.conftest import tiny_spec
from tests.relations import assert_rejected_by
from zkdl import _kernels
from zkdl.backend.native import MODULUS, from_ints
from zkdl.model import ModelSpec, TrainSpec, Weights, init_weights
from zkdl.proof import commitment as cm
from zkdl.proof import training
from zkdl.proof.bundle import Bundle
from zkdl.proof.channel import Message
from zkdl.proof.layout import Layout, UnsupportedStatementError
from zkdl.proof.opening import value_generator
from zkdl.proof.statement import Statement
from zkdl.proof.witness import ProverTables, block, data_tables
from zkdl.train import train

T = 3


@pytest.fixture(scope="module")
def h(tiny_proof) -> pc.Honest:
    training.verify(tiny_proof.statement, tiny_proof.messages)  # the reference itself is accepted
    return tiny_proof


def claimed(h: pc.Honest, **overrides) -> Statement:
    return pc.draft(h.spec, h.data, **overrides)


def shift(h: pc.Honest) -> int:
    return h.layout.shift


def used_row(h: pc.Honest, t: int = 1, b: int = 2) -> int:
    return int(h.layout.schedule[t][b])


def entry(h: pc.Honest, layer: int, step: int, where) -> tuple[int, int]:
    """(row, col) of the first real entry of Z(layer, step) satisfying `where(Z)`."""
    width = h.layout.widths[layer + 1]
    rows, cols = np.nonzero(where(pc.z_of(h.tables, layer)[step, :, :width]))
    assert rows.size, "no entry of the honest run fits the cheat"
    return int(rows[0]), int(cols[0])


def binarity_of(reason: str) -> str:
    """The committed bit tensor (B or BO) whose binarity check a rejection names."""
    found = re.match(r"binarity (?:offset )?(B\w*)", reason)
    assert found, reason
    return found.group(1)


def prove_and_reject(h: pc.Honest, tables, relation: str, *more: str, statement: Statement | None = None) -> str:
    """Proves the cheat with the honest prover code and asserts the verifier rejects it by `relation`
    (or one of `more`); returns the verifier's message."""
    st, messages = pc.prove_cheat(tables, statement if statement is not None else claimed(h), reuse=h)
    return assert_rejected_by(st, messages, relation, *more)


# The first deferred check of a chunk: with other challenges (another statement, an edited message
# absorbed before them, another chunk index) the forward product's Σ-proof fails first.
FIRST_CHECK = "forward: the committed product is not the product of its factors"


def transcript_state(statement: Statement, messages, chunk: int = 0) -> bytes:
    """The state the verifier starts chunk `chunk`'s transcript in for `statement` and `messages`."""
    return training._transcript(statement, messages[0].scalars[0], messages[1].points, chunk).state()


def assert_rejected_by_the_transcript(statement: Statement, h: pc.Honest) -> str:
    """The proof of `h.statement` verified against `statement` (an edit of it) is rejected because
    the statement is bound into the transcript: it starts another transcript, and the first
    deferred check fails (without the binding, an edit that changes a public table would be
    rejected later, by that table's relation)."""
    messages = list(h.messages)
    assert transcript_state(statement, messages) != transcript_state(h.statement, messages), "the statement is not bound"
    reason = assert_rejected_by(statement, messages, "forward")
    assert reason == FIRST_CHECK, reason
    return reason


def test_the_cheat_harness_is_complete(h):
    """Rebuilding the honest tables with the cheat helpers, including committing the bits as field
    elements (the non-binary path), gives proofs the verifier accepts: every rejection below is the
    cheat's doing, not the harness's."""
    rebuilt = pc.build_tables(h.layout, h.run, data=h.data)
    for name in ("Z", "Z_out", "G_A", "history", "data_x", "data_y"):
        assert np.array_equal(getattr(rebuilt, name), getattr(h.tables, name)), name
    statement, messages = pc.prove_cheat(pc.with_bits(rebuilt), claimed(h), reuse=h)
    assert statement == h.statement  # every commitment reused
    training.verify(statement, messages)


# ---- data ---------------------------------------------------------------------------------------


def test_one_data_value_changed_is_rejected(h):
    """Trained on D, committed D' (one pixel of a scheduled sample changed): R1 at layer 0 fails
    (A_in(0) = M_0 ⊙ X_sel reads D'; layer 0's weight history, which reads it too, fails after it)."""
    tables = pc.copy_tables(h.tables)
    tables.data_x[used_row(h), 0] += 1
    prove_and_reject(h, tables, "forward")


def test_one_target_changed_is_rejected(h):
    """Trained on D, committed D' with one scheduled sample's label moved: the loss gradient
    G_Z(L−1) = Z' − Y_sel changes, so R2 at layer L−2 (G_A = G_Z(L−1)·W(L−1)ᵀ) fails (the output
    layer's weight history, which reads G_Z too, fails after it)."""
    tables = pc.copy_tables(h.tables)
    n = used_row(h)
    label = int(np.argmax(tables.data_y[n, :3]))
    tables.data_y[n, label], tables.data_y[n, (label + 1) % 3] = 0, 1 << h.layout.frac_bits
    prove_and_reject(h, tables, "backward")


def test_a_row_the_schedule_never_reads_is_not_part_of_the_claim(h):
    """Control for the two cheats above: a sample the schedule never selects does not take part in
    the training, so committing a different value there is a *true* statement about another data
    set and verifies (the selection table c(n) is zero on it); the trained weights are the same."""
    unused = sorted(set(range(h.layout.n_train)) - set(np.asarray(h.layout.schedule).reshape(-1).tolist()))
    assert unused
    tables = pc.copy_tables(h.tables)
    tables.data_x[unused[0], 0] += 5
    statement, messages = pc.prove_cheat(tables, claimed(h), reuse=h)
    training.verify(statement, messages)
    assert statement.c_data != h.statement.c_data and statement.c_wt == h.statement.c_wt


# ---- weights ------------------------------------------------------------------------------------


def test_one_weight_of_w0_changed_is_rejected(h):
    """W_0 (snapshot 0 only) changed, the run used the honest one: R1 at step 0 reads W_0."""
    tables = pc.copy_tables(h.tables)
    pc.weights_of(h.layout, tables.history, 1)[0, 2, 3] += 1
    prove_and_reject(h, tables, "forward")


def test_one_weight_of_wt_changed_is_rejected(h):
    """W_T changed in the history too (its snapshot T, committed as C_WT): the weight history's
    relation W_τ = W_0 − Σ_(τ'<τ) updates, checked at a random snapshot point τ*, fails."""
    tables = pc.copy_tables(h.tables)
    pc.weights_of(h.layout, tables.history, 1)[T:, 2, 3] += 1  # W_T and its repetitions in the padded snapshots
    prove_and_reject(h, tables, "history")


class _FinalSnapshot(np.ndarray):
    """A weight history whose snapshot T, where the prover reads it as W_T (history[T]: the
    final-weights value, the WT merge, the commitment C_WT), is another tensor; every other read
    (R1 and R2 read the weights of every step) sees the true history."""

    steps: int
    final: np.ndarray

    @classmethod
    def of(cls, history: np.ndarray, steps: int, final: np.ndarray) -> _FinalSnapshot:
        out = history.view(cls)
        out.steps, out.final = steps, final
        return out

    def __getitem__(self, key):
        if type(key) is int and key == self.steps:
            return self.final
        return np.asarray(self)[key]

    def reshape(self, *shape, **kwargs):
        return np.asarray(self).reshape(*shape, **kwargs)


def test_final_weights_that_are_not_the_history_s_are_rejected(h):
    """R4 links the committed W_T to the history: the prover commits W_T' (one weight changed) as
    C_WT and states W_T'(ω) at the final-weights point, so every claim on W_T holds, but proves
    the true history, whose snapshot T is W_T. Only R4's claim on the history at (T, ω) fails."""
    tables = pc.copy_tables(h.tables)
    tables.history = _FinalSnapshot.of(h.tables.history.copy(), T, h.tables.history[T].copy())
    training.verify(*pc.prove_cheat(tables, claimed(h), reuse=h))  # the harness alone: accepted
    final = tables.history[T].copy()
    pc.weights_of(h.layout, final, 1)[2, 3] += 1
    tables.history = _FinalSnapshot.of(tables.history, T, final)
    statement, messages = pc.prove_cheat(tables, claimed(h), reuse=h)
    assert statement.c_wt != h.statement.c_wt and (statement.c_w0, statement.c_data) == (h.statement.c_w0, h.statement.c_data)
    assert_rejected_by(statement, messages, "history")


def test_training_from_other_initial_weights_is_rejected(h):
    """A genuine run from W_0', committed with the honest W_0: R1 at step 0 fails (Z was computed
    with W_0', the history's snapshot 0 is W_0), before the weight history (W_1' ≠ W_0 − update)."""
    other = train(tiny_spec(), h.data, initial=init_weights(h.spec.model, h.spec.quant, 99))
    tables = pc.build_tables(h.layout, other, data=h.data)
    tables.history[0] = h.tables.history[0]
    prove_and_reject(h, tables, "forward")


# ---- aux bits flipped (binary, value recomputed) ------------------------------------------------


@pytest.mark.parametrize("bit", [5, "s-1", "s", 62])
def test_one_bit_of_z_flipped_is_rejected(h, bit):
    """One committed bit of a hidden Z flipped, Z recomputed from the bits (Z' and S follow): the bits
    stay binary, so R1 (Z = A_in·W) must catch it. Below s − 1 only Z moves; at s − 1 and s the
    rescaled Z' moves too (the next layer's input changes)."""
    b = {"s-1": shift(h) - 1, "s": shift(h)}.get(bit, bit)
    tables = pc.copy_tables(h.tables)
    row, col = entry(h, 0, 1, lambda z: z > 0)
    pc.z_of(tables, 0)[1, row, col] ^= np.int64(1) << np.int64(b)
    prove_and_reject(h, tables, "forward")


def test_one_bit_of_g_a_flipped_is_rejected(h):
    """One committed bit of G_A flipped (G_A recomputed): R2 (G_A = G_Z·Wᵀ) must catch it."""
    tables = pc.copy_tables(h.tables)
    pc.layer_block(tables, tables.G_A, 1)[2, 1, 1] ^= np.int64(1) << np.int64(7)
    prove_and_reject(h, tables, "backward")


# ---- a ReLU sign flipped --------------------------------------------------------------------------


def test_relu_sign_flipped_with_binary_bits_is_rejected(h):
    """The sign bit S is the top bit of Z's decomposition: flipping it with binary bits moves Z by
    2^63 (and Z' by 2^(63−s)), so R1 rejects."""
    tables = pc.copy_tables(h.tables)
    row, col = entry(h, 0, 1, lambda z: z > 0)
    pc.z_of(tables, 0)[1, row, col] ^= np.int64(np.iinfo(np.int64).min)
    assert pc.layer_block(tables, tables.sign, 0)[1, row, col] == 0
    prove_and_reject(h, tables, "forward")


def test_relu_sign_flipped_consistently_is_rejected_by_binarity(h):
    """A training run whose ReLU at one entry is switched off (S = 0 for a positive Z, in the forward
    and the backward pass: zkdl.train with sign_bits patched). Its Z and Z' are the true ones, so the
    only way to commit S = 0 is a non-binary decomposition: top bit 1 and a 2 at bit 62
    (−2^63 + 2·2^62 = 0: Z and Z' unchanged). Every other relation holds (the virtual tensors equal
    the cheating trainer's records), so binarity alone must reject."""
    row, col = entry(h, 0, 1, lambda z: (z > 0) & (z < 1 << 61))

    def off(t, l, z, s):
        if (t, l) == (1, 0):
            s = s.copy()
            s[row, col] = 0
        return s

    run = pc.cheating_train(h.spec, h.data, sign=off)
    tables = pc.build_tables(h.layout, run, data=h.data)
    bits = pc.bit_array(tables.Z)
    entry_bits = pc.layer_block(tables, bits, 0, axis=-2)[1, row, col]
    assert entry_bits[63] == 0 and entry_bits[62] == 0
    entry_bits[63], entry_bits[62] = 1, 2
    cheat = pc.with_bits(tables, bits_Z=bits)
    assert np.array_equal(cheat.Z, tables.Z) and pc.layer_block(cheat, cheat.sign, 0)[1, row, col] == 0
    cheat.check()  # consistent with the cheating run everywhere
    assert binarity_of(prove_and_reject(h, cheat, "binarity")) == "B"


# ---- aux entries that are not 0 or 1 --------------------------------------------------------------


def test_a_two_in_the_bits_of_z_is_rejected_by_binarity(h):
    """A 2 at bit s − 1 with compensating upper bits (value − 2^s): Z unchanged, Z' one higher. The
    entry is negative in a hidden layer, so S = 0 and neither A_out = S·Z' nor G_Z = S·G_A' sees the
    change: the cheat satisfies every relation of the honest run except binarity."""
    row, col = entry(h, 0, 2, lambda z: (z < 0) & ((z >> (shift(h) - 1)) & 1 == 0))
    tables = pc.copy_tables(h.tables)
    bits = pc.bit_array(tables.Z)
    entry_bits = pc.layer_block(tables, bits, 0, axis=-2)[2, row, col]
    entry_bits[:] = pc.bump_rescaled(entry_bits, int(pc.z_of(tables, 0)[2, row, col]), shift(h))
    assert sorted(set(entry_bits.tolist())) == [0, 1, 2]
    cheat = pc.with_bits(tables, bits_Z=bits)
    assert np.array_equal(cheat.Z, h.tables.Z)
    rescaled = pc.layer_block(h.tables, h.tables.Z_rescaled, 0)[2, row, col]
    assert pc.layer_block(cheat, cheat.Z_rescaled, 0)[2, row, col] == rescaled + 1
    cheat.check()
    assert binarity_of(prove_and_reject(h, cheat, "binarity")) == "B"


def test_a_two_and_a_minus_one_in_the_bits_of_g_a_is_rejected_by_binarity(h):
    """G_A of a hidden entry whose S = 0: bit 3 lowered by one and bit 2 raised by two (−8 + 8 = 0)
    and a 2 added at s − 1 over the bits of G_A − 2^s (G_A' one higher). G_Z = S·G_A' hides it: only binarity of BG can reject."""
    s = shift(h)
    g_a = pc.layer_block(h.tables, h.tables.G_A, 0)[0, :, :8]
    rows, cols = np.nonzero((pc.z_of(h.tables, 0)[0, :, :8] < 0) & ((g_a < 0) | (g_a >= 1 << s)))
    row, col = int(rows[0]), int(cols[0])
    tables = pc.copy_tables(h.tables)
    value = int(g_a[row, col])
    bits = pc.bit_array(tables.G_A)
    entry_bits = pc.layer_block(tables, bits, 0, axis=-2)[0, row, col]
    entry_bits[:] = pc.bump_rescaled(entry_bits, value, s)
    entry_bits[3] -= 1
    entry_bits[2] += 2
    cheat = pc.with_bits(tables, bits_G_A=bits)
    assert int(pc.layer_block(cheat, cheat.G_A, 0)[0, row, col]) == value
    cheat.check()
    assert binarity_of(prove_and_reject(h, cheat, "binarity")) == "B"


# ---- a remainder out of range ----------------------------------------------------------------------


@pytest.mark.parametrize("kind, layer, step", [("Z", 2, 0), ("Z", 0, 1), ("G_A", 1, 0)])
def test_remainder_out_of_range_is_rejected_by_binarity(h, kind, layer, step):
    """A training run that rounds one entry wrongly: Z' = round(Z/2^s) + 1, i.e. Z = 2^s·Z' + R with
    R = R_true − 2^s below −2^(s−1) (zkdl.train with rescale patched; every later step follows the
    wrong value, so the run is internally consistent). With binary bits the remainder is implicit and
    always in range: Z' is a fixed linear function of the bits of Z. The cheater must therefore
    commit a non-canonical decomposition of Z (a 2 at bit s − 1, `bump_rescaled`), which binarity
    rejects; nothing else can. Cases: the output layer (the loss gradient changes), a hidden layer
    (the next layer's input changes), a hidden G_A (the backward pass changes)."""
    cheat = pc.wrongly_rounded(h, kind, layer, step)
    output = layer == h.layout.layers - 1  # the output layer's bits are BO, the hidden layers' B
    assert binarity_of(prove_and_reject(h, cheat, "binarity")) == ("BO" if output else "B")


# ---- padding --------------------------------------------------------------------------------------


def _random(rng, shape, bound):
    return rng.integers(-bound, bound, size=shape, dtype=np.int64)


def test_non_zero_padding_of_the_stacks_and_the_data_is_inert(h):
    """Padding that the masks make provably inert. Non-zero values in: Z, G_A and the output's Z at
    the padded step slot (μ = 0: R1, R2 and the ReLU claims mask the step; the weight history's
    prefix table is zero there), G_A in the padded columns of each hidden block (R2 checks the real
    columns only, G_Z = M ⊙ S ⊙ G_A' masks them), D_X and D_Y at the padded sample rows (the
    schedule never selects them) and at the padded columns (A_in's data block is M_0 ⊙ X_sel). D_Y's
    padding is not free: the one-hot check of the targets (zkdl/proof/targets.py) forces every entry
    into {0, 2^R} and padded rows to sum to zero (see the test below). The values are committed
    (bits, C_data) and bit-range checked but take no part in the computation: the proof verifies,
    W_0 and W_T are the honest commitments, and every real activation and gradient is the honest run's."""
    rng = np.random.default_rng(1)
    tables = pc.copy_tables(h.tables)
    _, B, U = tables.Z.shape
    tables.Z[T] = _random(rng, (B, U), 1 << 60)
    tables.G_A[T] = _random(rng, (B, U), 1 << 60)
    tables.Z_out[T] = _random(rng, tables.Z_out[T].shape, 1 << 60)
    for layer, width in ((0, 8), (1, 5)):
        padded = pc.layer_block(tables, tables.G_A, layer)[:, :, width:]
        padded[...] = _random(rng, padded.shape, 1 << 60)
    tables.data_x[h.layout.n_train :] = _random(rng, tables.data_x[h.layout.n_train :].shape, 100)
    tables.data_x[:, 6:] = _random(rng, tables.data_x[:, 6:].shape, 100)
    tables.check()
    statement, messages = pc.prove_cheat(tables, claimed(h), reuse=h)
    training.verify(statement, messages)
    assert (statement.c_w0, statement.c_wt) == (h.statement.c_w0, h.statement.c_wt)


GAP_WIDTHS = (6, 8, 4, 3)  # `unit` holds blocks of 8 and 4: a gap of 4 columns after them


def test_values_in_the_gap_of_the_hidden_units_are_inert(h):
    """The `unit` axis of 6-8-4-3 has 12 columns of blocks and a gap of 4 up to 16: every relation's
    factor on `unit` is a block factor (zero there), so any bits committed in the gap are read by
    nothing but binarity (they are bits) and the merge of B. The proof verifies and the real
    tensors are the honest run's."""
    spec = dataclasses.replace(tiny_spec(), model=ModelSpec(GAP_WIDTHS))
    run = train(spec, h.data)
    honest = pc.honest(spec, h.data, run)
    lay = honest.layout
    assert lay.units.used == 12 and lay.units.log_size == 4
    tables = pc.copy_tables(honest.tables)
    rng = np.random.default_rng(4)
    tables.Z[:, :, 12:] = _random(rng, tables.Z[:, :, 12:].shape, 1 << 60)
    tables.G_A[:, :, 12:] = _random(rng, tables.G_A[:, :, 12:].shape, 1 << 60)
    tables.check()
    statement, messages = pc.prove_cheat(tables, pc.draft(spec, h.data), reuse=honest)
    training.verify(statement, messages)
    assert (statement.c_w0, statement.c_wt) == (honest.statement.c_w0, honest.statement.c_wt)


def test_non_zero_padding_of_the_targets_is_refused(h):
    """Values other than 0 and 2^R in D_Y's padded rows or columns fail the one-hot check."""
    rng = np.random.default_rng(2)
    tables = pc.copy_tables(h.tables)
    tables.data_y[h.layout.n_train :] = _random(rng, tables.data_y[h.layout.n_train :].shape, 1 << 20)
    assert prove_and_reject(h, tables, "targets").startswith("targets entries")


def _weight_padding(h: pc.Honest, rng) -> np.ndarray:
    """Non-zero values in every padded region of the weight blocks and in the gap of `weight`, the
    same in every snapshot."""
    history = h.tables.history.copy()
    pad = np.zeros_like(history[0])
    weights = [pc.weights_of(h.layout, pad, l) for l in range(3)]
    weights[0][6:, :] = _random(rng, (2, 8), 1 << 20)  # layer 0: input rows beyond d_0 = 6
    weights[1][:, 5:] = _random(rng, (8, 3), 1 << 20)  # layer 1: output columns beyond d_2 = 5
    weights[2][5:, :] = _random(rng, (3, 4), 1 << 20)  # layer 2: input rows beyond d_2 = 5
    weights[2][:5, 3:] = _random(rng, (5, 1), 1 << 20)  # layer 2: output columns beyond d_3 = 3
    gap = h.layout.weight_blocks.used
    pad[gap:] = _random(rng, pad[gap:].shape, 1 << 20)  # the gap of `weight`, beyond every block
    history += pad[None]
    return history


def test_non_zero_weight_padding_with_consistent_products_is_inert(h):
    """Non-zero W_0 padding (input rows, output columns, the gap of `weight`), kept in W_T, with Z
    and G_A recomputed over their whole blocks (R1 and R2 check every column of a real instance).
    The masks make it inert: padded columns of A_in are zero (M_ℓ), so padded rows of W never reach a
    real Z; padded output columns of Z never leave their layer (A_out = M ⊙ S ⊙ Z', G_Z masked the
    same way), so they reach neither the next layer nor the updates, which are therefore zero in the
    padding (W_T's padding = W_0's); no relation reads the gap but R4, where W_T's gap is W_0's. The
    proof verifies and every real tensor is the honest run's."""
    rng = np.random.default_rng(2)
    tables = pc.copy_tables(h.tables)
    tables.history = _weight_padding(h, rng)
    lay, A_in, G_Z = h.layout, h.tables.A_in, h.tables.G_Z
    for l in range(3):
        w = pc.weights_of(lay, tables.history, l)
        for t in range(T):
            a = np.ascontiguousarray(block(A_in[t], lay.inputs, lay.input_block(l)))
            pc.z_of(tables, l)[t] = _kernels.matmul_i64(a, np.ascontiguousarray(w[t]))[0]
            if l > 0:
                g = np.ascontiguousarray(block(G_Z[t], lay.outputs, lay.output_block(l)))
                pc.layer_block(tables, tables.G_A, l - 1)[t] = _kernels.matmul_i64(g, np.ascontiguousarray(w[t].T))[0]
    for l, width in enumerate((8, 5, 3)):  # the real blocks did not move
        assert np.array_equal(pc.z_of(tables, l)[:T, :, :width], pc.z_of(h.tables, l)[:T, :, :width])
        if l < 2:
            g_a = (pc.layer_block(t, t.G_A, l)[:T, :, :width] for t in (tables, h.tables))
            assert np.array_equal(*g_a)
    assert not np.array_equal(tables.Z, h.tables.Z) and not np.array_equal(tables.G_A, h.tables.G_A)
    tables.check()
    statement, messages = pc.prove_cheat(tables, claimed(h), reuse=h)
    training.verify(statement, messages)
    assert statement.c_w0 != h.statement.c_w0  # the padding is committed (and visible to a buyer of W_T)


def test_weight_padding_without_its_products_is_rejected(h):
    """Non-zero W_0 padding (also in W_T) but Z and G_A left as the trainer made them: R1/R2 check the
    padded columns of every real instance too."""
    tables = pc.copy_tables(h.tables)
    pc.weights_of(h.layout, tables.history, 1)[:, :, 5:] += 1 << 20  # layer 1's padded output columns, every snapshot
    prove_and_reject(h, tables, "forward")  # Z(1)'s padded columns ≠ A_in·W (R2 holds: G_Z(1) is masked)


def test_weight_padding_that_changes_during_training_is_rejected(h):
    """W_T's padding differs from W_0's although no update reaches the padding."""
    tables = pc.copy_tables(h.tables)
    pc.weights_of(h.layout, tables.history, 0)[T:, 6:, :] = 1 << 20  # layer 0's padded input rows, in W_T only
    prove_and_reject(h, tables, "history")  # R4 only: R1 and R2 read the snapshots t < T


def test_weights_in_the_gap_that_change_during_training_are_rejected(h):
    """W_T's gap of `weight` (beyond every block) differs from W_0's: R4 at a random point of the
    whole axis reads it, and no update reaches it."""
    tables = pc.copy_tables(h.tables)
    tables.history[T:, h.layout.weight_blocks.used :] = 1 << 20
    prove_and_reject(h, tables, "history")


def test_input_features_hidden_in_the_padded_columns_are_rejected(h):
    """The cheater trains on 8 features (6 real + 2 hidden in D_X's padded columns) with a W_0 whose
    padded input rows use them, and claims widths 6-8-5-3: A_in(0) = M_0 ⊙ X_sel masks the hidden
    features, so R1 at layer 0 fails."""
    rng = np.random.default_rng(3)
    X = np.hstack([h.data.X, rng.integers(0, 17, size=(h.data.X.shape[0], 2))]).astype(np.int64)
    wide = dataclasses.replace(h.data, X=X)
    spec = TrainSpec(ModelSpec((8, 8, 5, 3)), h.spec.quant, h.spec.batch, T, h.spec.schedule_seed, h.spec.init_seed)
    w0 = list(h.run.initial.w)
    w0[0] = np.vstack([w0[0], init_weights(spec.model, spec.quant, 7).w[0][6:]])
    run = train(spec, wide, initial=Weights(tuple(w0)))
    data_x, data_y = data_tables(wide)
    tables = pc.build_tables(h.layout, run, data_x, data_y)
    assert np.any(tables.data_x[:, 6:]) and np.any(pc.weights_of(h.layout, tables.history, 0)[0, 6:])
    prove_and_reject(h, tables, "forward")


def test_a_hidden_unit_in_the_padded_columns_is_rejected(h):
    """The cheater trains 6-8-6-3 and claims 6-8-5-3: unit 5 of layer 1 lives in the padded column
    5 of its block of 8 (W_1's column 5, W_2's row 5). A_out = M ⊙ S ⊙ Z' masks it out of layer 2's input,
    so R1 at layer 2 fails."""
    run = pc.wider_run(h.spec, h.data, (6, 8, 6, 3))
    prove_and_reject(h, pc.build_tables(h.layout, run, data=h.data), "forward")


def test_a_layer_trained_but_not_claimed_is_rejected(h):
    """The cheater trains 6-8-5-3-3 and claims 6-8-5-3, committing layers 0..2 as trained (layer 3
    has no block to hide in): the claimed output layer 2 has no ReLU and carries the loss gradient,
    so the verifier's G_Z(2) = Z'(2) − Y_sel is not the gradient the run back-propagated, and R2 at
    layer 1 fails (R1 holds: layers 0..2 are computed as trained)."""
    spec = dataclasses.replace(h.spec, model=ModelSpec((6, 8, 5, 3, 3)))
    run = train(spec, h.data)
    prove_and_reject(h, pc.build_tables(h.layout, run, data=h.data), "backward")


def test_an_extra_step_hidden_in_the_padded_step_slot_is_rejected(h):
    """The cheater trains T + 1 = 4 steps, puts step 3 in the padded step slot and claims W_4 as W_T
    of a T = 3 statement: the weight history's prefix table stops at T."""
    run = train(tiny_spec(steps=T + 1), h.data)
    tables = pc.build_tables(h.layout, run, data=h.data)
    for l, w in enumerate(run.final.w):
        pc.weights_of(h.layout, tables.history, l)[T:, : w.shape[0], : w.shape[1]] = w
    prove_and_reject(h, tables, "history")  # R1, R2 mask the padded step (μ); R4 sums the updates t < T


# ---- learning rate, steps, batches ------------------------------------------------------------------


@pytest.mark.parametrize("delta", [1, -1])
def test_a_wrong_learning_rate_is_rejected(h, delta):
    """Trained with η = 2^−e, the statement says e ± 1 (the prover proves under the claimed layout)."""
    statement = claimed(h, lr_exp=h.spec.quant.lr_exp + delta)
    # the shift s = 2R + e of Z' = Σ κ'_j·BZ_j moves: A_in(1) = S ⊙ Z' is not the run's, R1 fails
    prove_and_reject(h, pc.with_layout(h.tables, Layout.of(statement)), "forward", statement=statement)


def test_a_step_whose_update_is_missing_from_the_history_is_rejected(h):
    """W_2 := W_1 in the history (step 1's update not applied), every other tensor as trained."""
    tables = pc.copy_tables(h.tables)
    tables.history[2] = tables.history[1]
    # Incidental: R1 at step 2 (Z was computed with the true W_2) fails before the history does;
    # the history alone catches the consistent cheat (test_a_consistently_skipped_update_is_rejected).
    prove_and_reject(h, tables, "forward")


def test_a_consistently_skipped_update_is_rejected(h):
    """A run that computes step 1 but does not apply its update (zkdl.train._update patched): every
    tensor is consistent with the weights actually used, but the history definition includes step 1."""
    run = pc.cheating_train(h.spec, h.data, update=lambda t, l, tensor, old, grad: old.copy() if t == 1 else None)
    assert np.array_equal(run.witness.arrays["layer0.W"][1], run.witness.arrays["layer0.W"][2])
    prove_and_reject(h, pc.build_tables(h.layout, run, data=h.data), "history")


def test_a_run_of_t_minus_one_steps_claimed_as_t_is_rejected(h):
    """T − 1 = 2 steps trained, T = 3 claimed (W_T = W_2, step 2's tensors zero): R1 at step 2
    fails (Z = 0, but the scheduled data times W_2 is not), before R4 (step 2's update is missing)."""
    run = train(tiny_spec(steps=T - 1), h.data)
    prove_and_reject(h, pc.build_tables(h.layout, run, data=h.data), "forward")


@pytest.mark.parametrize("first", [0, 1])
def test_two_batches_swapped_is_rejected(h, first):
    """The trainer used the schedule with steps `first` and `first` + 1 swapped; the statement's seed
    says otherwise: X_sel, read by the seed's schedule, is not the run's input, R1 at layer 0 fails."""

    def swap(schedule):
        schedule = schedule.copy()
        schedule[[first, first + 1]] = schedule[[first + 1, first]]
        return schedule

    run = pc.cheating_train(h.spec, h.data, batches=swap)
    assert not np.array_equal(run.schedule, h.layout.schedule)
    prove_and_reject(h, pc.build_tables(h.layout, run, data=h.data), "forward")


# ---- the statement changed after proving --------------------------------------------------------------


def _recommitted(encoded: bytes) -> bytes:
    """The same tensor shape with fresh row commitments (another tensor, or the same with new blinds)."""
    commitment = cm.decode(encoded)
    fresh = _kernels.g1_add(commitment.rows, np.broadcast_to(cm.blinding_generator(), commitment.rows.shape).copy())
    return cm.encode(cm.TensorCommitment(commitment.shape, fresh))


STATEMENT_EDITS = {
    "widths (same padded layout)": lambda s: dataclasses.replace(s, widths=(s.widths[0], 7, *s.widths[2:])),
    "widths (other layout)": lambda s: dataclasses.replace(s, widths=(s.widths[0], 9, *s.widths[2:])),
    "frac_bits": lambda s: dataclasses.replace(s, frac_bits=s.frac_bits - 1),
    "lr_exp": lambda s: dataclasses.replace(s, lr_exp=s.lr_exp + 1),
    "range_bits": lambda s: dataclasses.replace(s, range_bits=63),
    "batch": lambda s: dataclasses.replace(s, batch=8),
    "steps +1": lambda s: dataclasses.replace(s, steps=s.steps + 1),
    "steps -1": lambda s: dataclasses.replace(s, steps=s.steps - 1),
    "schedule_seed": lambda s: dataclasses.replace(s, schedule_seed=s.schedule_seed + 1),
    "n_train": lambda s: pc.with_dataset(s, samples=s.n_train - 1),
    "data_frac_bits": lambda s: pc.with_dataset(s, frac_bits=s.data_frac_bits + 1),
    "data value bits": lambda s: pc.with_dataset(s, value_bits=s.dataset.value_bits + 1),
    "data set public": lambda s: pc.with_dataset(s, public=not s.dataset.public),
    "C_W0 and C_WT swapped": lambda s: dataclasses.replace(s, c_w0=s.c_wt, c_wt=s.c_w0),
    "C_W0 recommitted": lambda s: dataclasses.replace(s, c_w0=_recommitted(s.c_w0)),
    "C_WT recommitted": lambda s: dataclasses.replace(s, c_wt=_recommitted(s.c_wt)),
    "C_data (X) recommitted": lambda s: pc.with_dataset(s, c_x=_recommitted(s.dataset.c_x)),
    "C_data (Y) recommitted": lambda s: pc.with_dataset(s, c_y=_recommitted(s.dataset.c_y)),
    "C_data truncated": lambda s: dataclasses.replace(s, c_data=s.c_data[:3]),
}


# Edits the verifier refuses before the first challenge, by the shapes the statement implies (the
# relation and the message); every other edit is refused by the transcript.
STRUCTURAL_EDITS = {
    "widths (other layout)": ("statement", r"^C_W0 has shape .*, the statement needs"),
    "C_data truncated": ("statement", r"^the statement's commitments are malformed"),
    "batch": ("structure", r"^message \d+ is 'factor values', expected 'sumcheck round'"),  # longer sumchecks
    "steps +1": ("chunking", r"^the boundary weights must be \d+ commitment rows"),
    "steps -1": ("chunking", r"^the chunk size must be one number of steps in \[1, 2\]"),
}


@pytest.mark.parametrize("edit", sorted(STATEMENT_EDITS))
def test_the_statement_changed_after_proving_is_rejected(h, edit):
    """The statement is bound into every chunk's transcript: an edited statement starts another
    transcript, and the first deferred check fails (most edits also change a public table, e.g. the
    schedule or the shift, which would be refused later without the binding). Edits whose shapes
    no longer fit the proof are refused before any challenge, by the check named."""
    statement = STATEMENT_EDITS[edit](h.statement)
    assert statement != h.statement
    assert transcript_state(statement, h.messages) != transcript_state(h.statement, h.messages)
    if edit in STRUCTURAL_EDITS:
        relation, pattern = STRUCTURAL_EDITS[edit]
        assert re.search(pattern, assert_rejected_by(statement, h.messages, relation))
    else:
        assert_rejected_by_the_transcript(statement, h)


def test_the_bias_flag_set_after_proving_is_rejected(h):
    """A bias flag on a no-bias proof: the bias blocks and the constant input fit in the gaps of
    `weight` and `in` (the packed sizes do not change), but the transcript binds the flag, and the
    history's updates sum over one block per weight and bias block: the proof is a round short there."""
    statement = dataclasses.replace(h.statement, bias=True)
    assert Layout.of(statement).weight_blocks.log_size == h.layout.weight_blocks.log_size
    assert transcript_state(statement, h.messages) != transcript_state(h.statement, h.messages)
    reason = assert_rejected_by(statement, h.messages, "structure")
    assert re.match(r"message \d+ is 'factor values', expected 'sumcheck round'", reason), reason


@pytest.mark.parametrize("widths", [(7, 8, 5, 3), (6, 8, 5, 9)], ids=["inputs", "classes"])
def test_a_network_whose_ends_are_not_its_data_set_s_is_refused(h, widths):
    """The data set's inputs and classes are the network's first and last widths: a statement that
    reads fewer inputs than its data set has (or other classes) is not a run on that data set."""
    with pytest.raises(UnsupportedStatementError, match="the data set has 6 inputs and 3 classes"):
        training.verify(dataclasses.replace(h.statement, widths=widths), h.messages)


# ---- bias ---------------------------------------------------------------------------------------------


BIAS_WIDTHS = (6, 7, 5, 3)  # the same packed sizes with and without a bias


def bias_spec(bias: bool = True) -> TrainSpec:
    return dataclasses.replace(tiny_spec(widths=BIAS_WIDTHS), model=ModelSpec(BIAS_WIDTHS, bias=bias))


@pytest.fixture(scope="module")
def hb(tiny_data) -> pc.Honest:
    honest = pc.honest(bias_spec(), tiny_data)
    training.verify(honest.statement, honest.messages)
    assert all(np.any(b) for b in honest.run.final.b)
    return honest


def bias_of(hb: pc.Honest, history: np.ndarray, layer: int) -> np.ndarray:
    return pc.bias_of(hb.layout, history, layer)


@pytest.mark.parametrize("layer", [0, 1, 2])
def test_one_bias_of_w0_changed_is_rejected(hb, layer):
    """W_0's bias block b{ℓ} changed by one (in the first snapshot only: the run used the honest one)."""
    tables = pc.copy_tables(hb.tables)
    bias_of(hb, tables.history, layer)[0, 1] += 1
    prove_and_reject(hb, tables, "forward")  # R1 at step 0: the constant input 2^R times W_0's bias


@pytest.mark.parametrize("layer", [0, 2])
def test_one_bias_of_wt_changed_is_rejected(hb, layer):
    """W_T's bias changed by 2^R (one unit of the trainer's bias b): R4 / the history fail."""
    tables = pc.copy_tables(hb.tables)
    bias_of(hb, tables.history, layer)[T:, 0] += 1 << hb.layout.frac_bits
    prove_and_reject(hb, tables, "history")


def test_a_bias_used_but_never_committed_is_rejected(hb):
    """The run trains with biases, the prover leaves the bias blocks out of every snapshot (W_0 and
    W_T without biases): R1 no longer reproduces Z."""
    tables = pc.copy_tables(hb.tables)
    for l in range(3):
        bias_of(hb, tables.history, l)[:] = 0
    prove_and_reject(hb, tables, "forward")


@pytest.mark.parametrize("layer", [0, 2])
def test_a_skipped_bias_update_is_rejected(hb, layer):
    """A run that computes step 1 but does not apply its bias update b ← b − G_b at one layer
    (zkdl.train._update patched for the tensor b): every tensor is consistent with the biases
    actually used, but the history's update of block b{ℓ} is 2^R·G_b at every real step."""
    skip = lambda t, l, tensor, old, grad: old.copy() if (t, l, tensor) == (1, layer, "b") else None  # noqa: E731
    run = pc.cheating_train(hb.spec, hb.data, update=skip)
    assert np.array_equal(run.witness.arrays[f"layer{layer}.b"][1], run.witness.arrays[f"layer{layer}.b"][2])
    tables = ProverTables.of(hb.layout, run.witness, hb.data)
    tables.check()  # the tables are the cheating run's, consistently
    prove_and_reject(hb, tables, "history")


class _ConstantInput(ProverTables):
    """A prover whose constant input "one" is not 2^R at one step (it serves every layer)."""

    cheat: tuple[int, int] = (0, 0)  # (step, value)

    @cached_property
    def A_in(self) -> np.ndarray:
        out = super().A_in.copy()
        step, value = self.cheat
        block(out, self.layout.inputs, "one")[step] = value
        return out


def _constant_input(tables: ProverTables, step: int, value: int) -> _ConstantInput:
    arrays = (tables.Z, tables.Z_out, tables.G_A, tables.history, tables.data_x, tables.data_y)
    cheat = _ConstantInput(tables.layout, *arrays)
    cheat.cheat = (step, value)
    return cheat


@pytest.mark.parametrize("step, value", [(1, "2^R+1"), (2, "0"), (0, "2^(R+1)")])
def test_a_constant_input_other_than_2_to_the_r_is_rejected(hb, step, value):
    """The prover's A_in (used in R1 and the history) carries another constant than 2^R; the
    verifier's definition of A_in fixes the constant input, whatever the prover's tables hold."""
    one = hb.layout.constant
    cheat = _constant_input(pc.copy_tables(hb.tables), step, {"2^R+1": one + 1, "0": 0, "2^(R+1)": 2 * one}[value])
    assert not np.array_equal(cheat.A_in, hb.tables.A_in)
    # Incidental: the prover's own sumcheck over its A_in fails (its Z is the true A_in·W), before
    # the claims on A_in reach its definition: R1 where the biases are non-zero (every step after 0,
    # the biases start at zero), else the history's update A_inᵀ·G_Z.
    prove_and_reject(hb, cheat, "forward" if step > 0 else "history")


def test_a_constant_input_with_consistent_products_is_rejected(hb):
    """The prover doubles the constant at step 2 (the biases are non-zero there: they start at zero
    and moved at steps 0 and 1) and recomputes that step's Z of every layer as A_in'·W_t + 2·2^R·b,
    so R1 holds for its tables; the verifier's definition of A_in still has 2^R there, so the
    claims on A_in fail."""
    lay = hb.layout
    cheat = _constant_input(pc.copy_tables(hb.tables), 2, 2 * lay.constant)
    assert np.any(bias_of(hb, cheat.history, 2)[2])
    a_in, one = cheat.A_in[2], block(cheat.A_in[2], lay.inputs, "one")
    for l in range(lay.layers):
        a = np.ascontiguousarray(block(a_in, lay.inputs, lay.input_block(l)))
        w = np.ascontiguousarray(pc.weights_of(lay, cheat.history, l)[2])
        pc.z_of(cheat, l)[2] = _kernels.matmul_i64(a, w)[0] + one * bias_of(hb, cheat.history, l)[2]
    assert not np.array_equal(cheat.Z_out, hb.tables.Z_out)
    # Incidental: the output layer's recomputed Z moves the loss gradient, so R2 fails (or, where
    # the rescaled output does not move, the history: W_T kept honest, its update read with the
    # prover's A_in) before the claims on A_in reach its definition (the split and relu forward).
    prove_and_reject(hb, cheat, "backward", "history")


@pytest.mark.parametrize("flag", [True, False])
def test_the_bias_flag_flipped_with_the_same_layout_is_rejected(hb, tiny_data, flag):
    """The same packed sizes with and without a bias for these widths: a no-bias proof read as a bias
    statement, and a bias proof read as a no-bias one, are both rejected (the transcript binds the
    flag, and the history's updates have twice the blocks with a bias: the proof's shape is another
    one). Proven again under the flipped flag, the run fails its relations: the constant input
    is in A_in's definition, not in the prover's messages. A no-bias run claimed with a bias leaves
    the bias blocks unchanged where the history moves them by 2^R·Σ G_Z; a bias run claimed without
    one has Z ≠ A_in·W (R1)."""
    source = hb if not flag else pc.honest(bias_spec(False), tiny_data)
    edited = dataclasses.replace(source.statement, bias=flag)
    packings = lambda lay: (lay.inputs.log_size, lay.weight_blocks.log_size)  # noqa: E731
    assert packings(Layout.of(edited)) == packings(source.layout)
    assert transcript_state(edited, source.messages) != transcript_state(source.statement, source.messages)
    assert_rejected_by(edited, source.messages, "structure")
    statement = pc.draft(source.spec, tiny_data, bias=flag)
    tables = pc.with_layout(source.tables, Layout.of(statement))
    prove_and_reject(source, tables, "history" if flag else "forward", statement=statement)


# ---- the same cheats made by editing the finished bundle --------------------------------------------


def _with_statement(bundle: Bundle, **fields) -> Bundle:
    return Bundle(dataclasses.replace(bundle.statement, **fields), bundle.messages)


def _replace_message(bundle: Bundle, index: int, message: Message) -> Bundle:
    messages = list(bundle.messages)
    messages[index] = message
    return Bundle(bundle.statement, tuple(messages))


def _index(bundle: Bundle, label: bytes, nth: int = 0) -> int:
    return [i for i, m in enumerate(bundle.messages) if m.label == label][nth]


def _bit_commitment_edit(bundle: Bundle, half: int, table: np.ndarray, bit_of, delta: int) -> Bundle:
    """Adds delta·G_j to the row commitment holding the committed bit at flat position `bit_of` of
    B's half `half` (0: BZ, 1: BG; `table` is the hidden Z, [TP, B, |unit|]): the commitment of B with that one bit changed by delta, under
    the honest blinds (0 → 1 or 1 → 0 is a flipped bit; 1 + 1 = 2 or 0 − 1 = −1 is a non-binary entry)."""
    i = _index(bundle, b"bits commitment")
    rows = bundle.messages[i].points.copy()
    n_entries = int(np.prod(table.shape))
    layout = cm.MatrixLayout.of((2 * n_entries, pc.WORD))
    row, col = divmod(half * n_entries * pc.WORD + bit_of, layout.row_length)  # B = [BZ; BG] as a [2·n_entries, 64] bit tensor
    generator = cm.commit_key(layout.row_length).generators()[col]
    rows[row] = _kernels.msm(np.stack([rows[row], generator]), from_ints([1, delta % MODULUS]))
    return _replace_message(bundle, i, Message(b"bits commitment", points=rows))


def _bit_position(h: pc.Honest, layer: int, step: int, row: int, col: int, bit: int) -> int:
    """The flat position in BZ (or BG) of hidden layer ℓ's bit at (step, row, column of its block)."""
    _, B, U = h.tables.Z.shape
    unit = h.layout.units[h.layout.output_block(layer)].offset + col
    return ((step * B + row) * U + unit) * pc.WORD + bit


def _data_edit(h: pc.Honest, bundle: Bundle) -> Bundle:
    x = h.tables.data_x.copy()
    x[used_row(h), 0] += 1
    cx, _ = cm.commit_int64(x)
    return _with_statement(bundle, c_data=pc.with_dataset(bundle.statement, c_x=cm.encode(cx)).c_data)


def _weights_edit(h: pc.Honest, bundle: Bundle, snapshot: int) -> Bundle:
    w = h.tables.history[snapshot].copy()
    pc.weights_of(h.layout, w, 1)[2, 3] += 1
    c, _ = cm.commit_int64(w)
    return _with_statement(bundle, **{"c_w0" if snapshot == 0 else "c_wt": cm.encode(c)})


def _padding_edit(h: pc.Honest, bundle: Bundle) -> Bundle:
    w = h.tables.history[0].copy()
    pc.weights_of(h.layout, w, 0)[6:, :] = 1 << 20
    c, _ = cm.commit_int64(w)
    return _with_statement(bundle, c_w0=cm.encode(c))


def _swap_messages(bundle: Bundle, label: bytes, first: int, second: int) -> Bundle:
    i, j = _index(bundle, label, first), _index(bundle, label, second)
    messages = list(bundle.messages)
    messages[i], messages[j] = messages[j], messages[i]
    return Bundle(bundle.statement, tuple(messages))


def _after(bundle: Bundle, label: bytes, anchor: bytes) -> int:
    """The first message `label` after the last message `anchor`."""
    last = max(i for i, m in enumerate(bundle.messages) if m.label == anchor)
    return next(i for i in range(last + 1, len(bundle.messages)) if bundle.messages[i].label == label)


def _relu_forward_value_edit(bundle: Bundle, position: int) -> Bundle:
    """The ReLU-forward Hadamard sumcheck's committed (S, Z') at its point, one of them plus one
    (the commitment plus G_V: the edit a prover without the blinds can make)."""
    i = _after(bundle, b"factor values", b"input split")
    points = bundle.messages[i].points.copy()
    points[position] = _kernels.g1_add(points[position][None], value_generator()[None])[0]
    return _replace_message(bundle, i, Message(bundle.messages[i].label, points=points))


def _openings_swapped(bundle: Bundle) -> Bundle:
    """The openings of W_0 and W_T exchanged (each under the other's label)."""
    i, j = _index(bundle, b"opening W0"), _index(bundle, b"opening WT")
    messages = list(bundle.messages)
    messages[i] = Message(b"opening W0", opening=bundle.messages[j].opening)
    messages[j] = Message(b"opening WT", opening=bundle.messages[i].opening)
    return Bundle(bundle.statement, tuple(messages))


def _z_bit(h: pc.Honest, value: int, delta: int, bit: int | None = None):
    """Edit of BZ at bit `bit` (or the lowest bit equal to `value`) of a positive hidden Z entry."""
    row, col = entry(h, 0, 1, lambda z: z > 0)
    if bit is None:
        bits = pc.bit_array(pc.z_of(h.tables, 0)[1, row, col])
        bit = int(np.nonzero(bits[:60] == value)[0][0])
    return _bit_commitment_edit_of(0, h.tables.Z, _bit_position(h, 0, 1, row, col, bit), delta)


def _bit_commitment_edit_of(half, table, position, delta):
    return lambda bundle: _bit_commitment_edit(bundle, half, table, position, delta)


BUNDLE_EDITS = {
    "one data value changed (C_data)": lambda h: lambda b: _data_edit(h, b),
    "one weight of W_0 changed (C_W0)": lambda h: lambda b: _weights_edit(h, b, 0),
    "one weight of W_T changed (C_WT)": lambda h: lambda b: _weights_edit(h, b, T),
    "one bit of BZ flipped 0 to 1": lambda h: _z_bit(h, 0, 1),
    "one bit of BZ flipped 1 to 0": lambda h: _z_bit(h, 1, -1),
    "one bit of BG flipped": lambda h: _bit_commitment_edit_of(1, h.tables.G_A, _bit_position(h, 0, 1, 0, 0, 0), 1),
    "a ReLU sign flipped (top bit of BZ)": lambda h: _z_bit(h, 0, 1, bit=63),
    "a ReLU sign flipped (claimed S)": lambda h: lambda b: _relu_forward_value_edit(b, 0),
    "an aux entry equal to 2 (BZ)": lambda h: _z_bit(h, 1, 1),
    "an aux entry equal to -1 (BZ)": lambda h: _z_bit(h, 0, -1),
    "a remainder out of range (claimed Z' + 1)": lambda h: lambda b: _relu_forward_value_edit(b, 1),
    "non-zero padding of W_0 (C_W0)": lambda h: lambda b: _padding_edit(h, b),
    "a wrong learning rate": lambda h: lambda b: _with_statement(b, lr_exp=b.statement.lr_exp + 1),
    "a step skipped (T - 1 claimed)": lambda h: lambda b: _with_statement(b, steps=T - 1),
    "a step added (T + 1 claimed)": lambda h: lambda b: _with_statement(b, steps=T + 1),
    "two batches swapped (schedule seed)": lambda h: lambda b: _with_statement(b, schedule_seed=b.statement.schedule_seed + 1),
    "two sumcheck rounds swapped": lambda h: lambda b: _swap_messages(b, b"sumcheck round", 0, 1),
    "the openings of W_0 and W_T swapped": lambda h: _openings_swapped,
    "a message dropped": lambda h: lambda b: Bundle(b.statement, b.messages[:5] + b.messages[6:]),
    "a message repeated": lambda h: lambda b: Bundle(b.statement, b.messages[:6] + b.messages[5:]),
    "the last opening dropped": lambda h: lambda b: Bundle(b.statement, b.messages[:-1]),
    "the statement of another run": lambda h: lambda b: _with_statement(b, c_wt=b.statement.c_w0),
}


TRANSCRIPT = ("forward", f"^{re.escape(FIRST_CHECK)}$")
RELU_FORWARD = ("relu forward", r"^relu forward: the committed product is not the product of its factors$")

# How each bundle edit is refused: (relation, pattern of the message). An edit of the statement
# (commitments or fields) or of the bits commitment, absorbed before the first challenge, changes
# every challenge: the first deferred check fails (TRANSCRIPT), not the relation the cheat targets,
# which a prover without the witness's blinds cannot reach by editing (the proving cheats above do).
BUNDLE_REFUSALS = {
    "one data value changed (C_data)": TRANSCRIPT,
    "one weight of W_0 changed (C_W0)": TRANSCRIPT,
    "one weight of W_T changed (C_WT)": TRANSCRIPT,
    "one bit of BZ flipped 0 to 1": TRANSCRIPT,
    "one bit of BZ flipped 1 to 0": TRANSCRIPT,
    "one bit of BG flipped": TRANSCRIPT,
    "a ReLU sign flipped (top bit of BZ)": TRANSCRIPT,
    "a ReLU sign flipped (claimed S)": RELU_FORWARD,  # the Hadamard product S·Z' of the changed factor
    "an aux entry equal to 2 (BZ)": TRANSCRIPT,
    "an aux entry equal to -1 (BZ)": TRANSCRIPT,
    "a remainder out of range (claimed Z' + 1)": RELU_FORWARD,
    "non-zero padding of W_0 (C_W0)": TRANSCRIPT,
    "a wrong learning rate": TRANSCRIPT,
    "a step skipped (T - 1 claimed)": ("chunking", r"^the chunk size must be one number of steps in \[1, 2\]$"),
    "a step added (T + 1 claimed)": ("chunking", r"^the boundary weights must be \d+ commitment rows for chunks of 3 steps"),
    "two batches swapped (schedule seed)": TRANSCRIPT,
    "two sumcheck rounds swapped": TRANSCRIPT,  # the forward sumcheck's own rounds: its check is the first
    "the openings of W_0 and W_T swapped": ("merge W0", r"^opening W0: the final equation .* fails$"),
    "a message dropped": ("structure", r"^message \d+ is 'factor values', expected 'sumcheck round'$"),
    "a message repeated": ("structure", r"^message \d+ is 'sumcheck round', expected 'factor values'$"),
    "the last opening dropped": ("structure", r"^the proof ends before the message 'opening BO'$"),
    "the statement of another run": TRANSCRIPT,
}


@pytest.mark.parametrize("edit", list(BUNDLE_EDITS))
def test_bundle_edit_is_rejected(h, edit):
    """Each cheat as an edit of the finished bundle, re-encoded canonically so that decoding succeeds
    and the verifier itself has to find it; the rejection is the one BUNDLE_REFUSALS names."""
    edited = BUNDLE_EDITS[edit](h)(Bundle.decode(h.bundle())).encode()
    assert edited != h.bundle()
    decoded = Bundle.decode(edited)
    relation, pattern = BUNDLE_REFUSALS[edit]
    reason = assert_rejected_by(decoded.statement, list(decoded.messages), relation)
    assert re.search(pattern, reason), reason
    if decoded.statement != h.statement:
        assert transcript_state(decoded.statement, decoded.messages) != transcript_state(h.statement, decoded.messages)


# ---- what the statement promises beyond the relations ---------------------------------------------
# The statement must be one a trainer can produce (its quantisation bounds), and its targets must
# be one-hot as its loss code says: both are checked (zkdl/proof/layout.py, zkdl/proof/targets.py).


def test_a_statement_with_range_bits_above_64_is_refused(h):
    """No trainer produces range_bits > 64 (QuantParams: s + 2 ≤ range_bits ≤ 64), and the soundness
    argument needs it (docs/protocol.md §7: the bit decompositions bound Z and G_A, hence every W_t,
    so that the field computation is the integer one; with 128-bit Z and G_A the products
    A_in·W_t reach ~2^260 > r and can wrap). The verifier refuses such a statement before reading
    any message, whatever the proof."""
    with pytest.raises(UnsupportedStatementError, match="range_bits"):
        training.verify(claimed(h, range_bits=128), h.messages)
    with pytest.raises(UnsupportedStatementError, match="data_frac_bits"):
        training.verify(claimed(h, data_frac_bits=h.statement.frac_bits + 1), h.messages)


def test_targets_that_are_not_one_hot_are_refused(h):
    """The statement's loss code says "square loss, one-hot targets" (zkdl.proof.statement), but D_Y
    is committed data that nothing checks: a run trained on a scheduled sample whose target row is
    5·e_y − 7 (not one-hot) proves like an honest one. The seller steers that sample's gradient
    freely (any target vector, any magnitude), beyond mislabelling within one-hot targets."""
    tables = pc.trained_on_targets(h, lambda row: row * 5 - 7 * h.layout.constant)
    assert prove_and_reject(h, tables, "targets").startswith("targets entries")  # 5·e_y − 7 has entries outside {0, 1}


@pytest.mark.parametrize("change", [{"widths": (6, 1 << 20, 3)}, {"steps": 1 << 30}, {"n_train": 1 << 30}])
def test_a_statement_too_large_to_check_is_refused_before_any_table_is_built(h, change):
    """An untrusted bundle must not make the verifier allocate without bound."""
    statement = pc.with_dataset(h.statement, samples=change.pop("n_train")) if "n_train" in change else h.statement
    with pytest.raises(UnsupportedStatementError, match="larger than this verifier handles"):
        training.verify(dataclasses.replace(statement, **change), h.messages)
