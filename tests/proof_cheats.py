"""Cheating provers for the soundness suite (tests/test_proof_soundness.py).

A cheat is built the way a cheating prover would build it: it changes the witness (by training
with a patched trainer, or by editing the padded prover tables) or the statement, commits exactly
the tables it then uses, and runs the honest prover code (`zkdl.proof.training.prove`) on them.
The prover must finish: its internal checks (`party.check`, the opening's "value is the committed
evaluation") only guard self-consistency, so a cheat that stops the prover is not a rejection. The
verifier (`training.verify`) must then raise `VerificationError`.

Tools, from the outside in:

* `honest(spec, data)`: train, commit the statement, prove (the reference every cheat starts from).
* `cheating_train(spec, data, ...)`: `zkdl.train.train` with some of its internals replaced
  (`rescale`, `sign_bits`, `_update`, `schedule`), so the run's witness is internally consistent
  with the cheat (e.g. a ReLU whose sign was flipped in both passes, a step whose update is dropped).
* `build_tables(layout, run, data_x, data_y)`: the `ProverTables` of a run for a *claimed*
  layout; unlike `ProverTables.of`, it copies each recorded tensor by its own shape, so a run of a
  wider network can be hidden in the padding of a narrower claimed one.
* `prove_cheat(tables, claimed, reuse=...)`: commits D_X, D_Y, W_0 = history[0] and
  W_T = history[T] of the tables (reusing the honest commitment where a table is unchanged,
  which keeps the suite fast), puts the commitments into the claimed statement and proves.
* Non-binary bits (`NonBinaryTables`, `with_bits`): the honest prover commits packed 0/1 words
  (`ProverTables.bits` → `_kernels.bits_decompose`, stacked by `ProverTables.stacked_bits`,
  committed by `commitment.commit_bits` and read back through `_kernels.bits_to_field`). A prover
  whose "bits" include a 2 or a −1 cannot use packed words, so `NonBinaryTables.bits`,
  `stacked_bits` and `output_bits` return a `FieldBits` marker holding the field table of
  the small integers it wants to commit, and the context manager `field_bits_prover()` (entered by
  `prove_cheat`) replaces `commitment.commit_bits` by `commit_field` on that table and
  `_kernels.bits_to_field` by the identity on it. Everything else (sumchecks, merges, openings)
  is the honest code; the tables' Z, Z', S, G_A, G_A' are recomputed from the committed integers
  with the public weights κ, κ' and the top bit, i.e. exactly the virtual tensors the verifier
  reasons about. If the prover starts reading the bits through another kernel (e.g. packed
  partial evaluation), that call must be routed here too.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

import zkdl.train as trainer
from zkdl import _kernels
from zkdl.data import Dataset
from zkdl.model import ModelSpec, TrainSpec, init_weights
from zkdl.proof import commitment as cm
from zkdl.proof import training
from zkdl.proof.channel import Message
from zkdl.proof.data_range import value_bits
from zkdl.proof.dataset import DatasetCommitment
from zkdl.proof.layout import Layout
from zkdl.proof.statement import Init, Statement
from zkdl.proof.witness import ProverTables, block, data_tables
from zkdl.run import TrainingRun

WORD = 64  # bits per committed entry for range_bits = 64 (2^log_bits)


def synthetic(n: int, d: int, classes: int, seed: int = 0, frac_bits: int = 4) -> Dataset:
    """A small integer data set: pixels 0..16 at scale 2^frac_bits, every class present."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 17, size=(n, d)).astype(np.int64)
    y = (np.arange(n) % classes).astype(np.int64)
    rng.shuffle(y)
    return Dataset(f"synthetic-{seed}", X, y, classes, frac_bits, np.arange(n, dtype=np.int64), np.zeros(0, np.int64))


# ---- honest reference ---------------------------------------------------------------------------


@dataclass
class Honest:
    spec: TrainSpec
    data: Dataset
    run: TrainingRun
    statement: Statement
    secrets: training.StatementSecrets
    tables: ProverTables
    messages: list[Message]

    @property
    def layout(self) -> Layout:
        return self.tables.layout

    def bundle(self) -> bytes:
        from zkdl.proof.bundle import Bundle

        return Bundle(self.statement, tuple(self.messages)).encode()


def honest(spec: TrainSpec, data: Dataset, run: TrainingRun | None = None) -> Honest:
    run = run if run is not None else trainer.train(spec, data)
    # W_0 claimed unconstrained: its relations are the ones under test (seeded W_0: test_proof_origin.py)
    statement, secrets, tables = training.commit_statement(run.witness, data, origin=Init.UNCONSTRAINED)
    messages = training.prove(statement, secrets, tables)
    return Honest(spec, data, run, statement, secrets, tables, messages)


DATASET_FIELDS = {"n_train": "samples", "data_frac_bits": "frac_bits"}  # statement facts the data set holds


def draft(spec: TrainSpec, data: Dataset, **overrides) -> Statement:
    """The statement a prover claims for `spec` on `data` (commitments still empty), with fields
    replaced (n_train and data_frac_bits in its data set's header)."""
    bits, signed = value_bits(data.X_train)
    header = DatasetCommitment(int(data.train_idx.size), data.n_features, data.classes, data.frac_bits, bits, signed, False, b"", b"")
    statement = Statement.of_run(spec, header.encode(), b"", b"")
    in_header = {DATASET_FIELDS[k]: overrides.pop(k) for k in list(overrides) if k in DATASET_FIELDS}
    return dataclasses.replace(with_dataset(statement, **in_header), **overrides)


def with_dataset(statement: Statement, **fields) -> Statement:
    """The statement with fields of its data set's header (or commitments) replaced."""
    return dataclasses.replace(statement, c_data=dataclasses.replace(statement.dataset, **fields).encode())


# ---- cheating trainers --------------------------------------------------------------------------


@contextlib.contextmanager
def _patched(module, name: str, value) -> Iterator[None]:
    original = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, original)


def wider_run(spec: TrainSpec, data: Dataset, widths: tuple[int, ...]) -> TrainingRun:
    """`spec` trained as the wider network `widths`, its extra hidden unit (the last of each wider
    layer) kept active: non-negative weights into it from non-negative inputs give Z ≥ 0, so the
    unit takes part in the computation and hiding it is a real cheat, whatever the seed draws."""
    wider = dataclasses.replace(spec, model=ModelSpec(widths, spec.model.bias))
    initial = init_weights(wider.model, wider.quant, wider.init_seed)
    w = [x.copy() for x in initial.w]
    for l in range(1, len(widths) - 1):
        if widths[l] > spec.model.widths[l]:
            w[l - 1][:, -1] = np.abs(w[l - 1][:, -1])
    return trainer.train(wider, data, initial=dataclasses.replace(initial, w=tuple(w)))


def cheating_train(
    spec: TrainSpec,
    data: Dataset,
    *,
    rescale: Callable | None = None,
    sign: Callable | None = None,
    update: Callable | None = None,
    batches: Callable[[np.ndarray], np.ndarray] | None = None,
    targets: Callable[[np.ndarray], np.ndarray] | None = None,
) -> TrainingRun:
    """`zkdl.train.train` with hooks on its internals (only during the T training steps):

    * rescale(kind, t, l, value, rescaled, remainder) -> (rescaled, remainder); kind is "Z" or "G_A",
      l the layer the tensor belongs to;
    * sign(t, l, z, s) -> s, the ReLU sign of hidden layer l (used by both passes);
    * update(t, l, tensor, old, grad) -> new weights (or None for the honest update);
    * batches(schedule) -> the schedule the trainer really uses;
    * targets(Y) -> the training targets the trainer really uses (Y: one-hot at 2^R, [n_train, C]).
    """
    L, T = spec.model.n_layers, spec.steps
    per_step = 2 * L - 1  # rescale calls per step: Z of layers 0..L-1, then G_A of layers L-2..0
    counters = {"rescale": 0, "sign": 0}
    stack = contextlib.ExitStack()
    if rescale is not None:
        honest_rescale = trainer.rescale

        def patched_rescale(value, shift):
            i = counters["rescale"]
            counters["rescale"] += 1
            out = honest_rescale(value, shift)
            if i >= T * per_step:  # accuracy evaluation after training
                return out
            t, j = divmod(i, per_step)
            kind, l = ("Z", j) if j < L else ("G_A", L - 2 - (j - L))
            return rescale(kind, t, l, value, *out)

        stack.enter_context(_patched(trainer, "rescale", patched_rescale))
    if sign is not None:
        honest_sign = trainer.sign_bits

        def patched_sign(z):
            i = counters["sign"]
            counters["sign"] += 1
            s = honest_sign(z)
            if L < 2 or i >= T * (L - 1):
                return s
            t, l = divmod(i, L - 1)
            return sign(t, l, z, s)

        stack.enter_context(_patched(trainer, "sign_bits", patched_sign))
    if update is not None:
        honest_update = trainer._update

        def patched_update(ctx, old, grad, layer, tensor):
            new = update(ctx.step, layer, tensor, old, grad)
            return honest_update(ctx, old, grad, layer, tensor) if new is None else new

        stack.enter_context(_patched(trainer, "_update", patched_update))
    if batches is not None:
        honest_schedule = trainer.schedule
        stack.enter_context(_patched(trainer, "schedule", lambda *a: batches(honest_schedule(*a))))
    if targets is not None:
        honest_one_hot = trainer.one_hot
        stack.enter_context(_patched(trainer, "one_hot", lambda *a: targets(honest_one_hot(*a))))
    with stack:
        return trainer.train(spec, data)


# ---- tables -------------------------------------------------------------------------------------


def trained_on_targets(h: Honest, change: Callable[[np.ndarray], np.ndarray]) -> ProverTables:
    """A run trained on targets whose first scheduled sample's row is edited by `change`, and its
    tables with D_Y committed the same way (a cheat on the targets, consistent everywhere else)."""
    n = int(np.asarray(h.layout.schedule)[0, 0])

    def edit(Y: np.ndarray) -> np.ndarray:
        Y = Y.copy()
        Y[n] = change(Y[n])
        return Y

    run = cheating_train(h.spec, h.data, targets=edit)
    data_x, data_y = data_tables(h.data)
    scale = h.layout.constant  # the trainer's targets are 2^R·D_Y: the edit must keep that exact
    edited = edit(data_y[: h.layout.n_train, : h.data.classes] * scale)
    assert not np.any(edited % scale), "edit the targets by multiples of 2^R: D_Y is the targets over 2^R"
    data_y[: h.layout.n_train, : h.data.classes] = edited // scale
    tables = build_tables(h.layout, run, data_x, data_y)
    tables.check()
    return tables


def build_tables(
    layout: Layout, run: TrainingRun, data_x: np.ndarray | None = None, data_y: np.ndarray | None = None, data: Dataset | None = None
) -> ProverTables:
    """The tables of `run` for the claimed `layout`: every recorded tensor is copied at its own
    shape into the top left of the claimed layout's block (so a run of a wider network can be
    hidden in the padding of a narrower claimed one; steps beyond the claimed ones are kept while
    they fit the padded step axis, layers beyond the claimed ones have no block and are dropped),
    W_τ = the run's final weights for τ ≥ the run's T."""
    w, model = run.witness, run.spec.model
    T, TP, TH = run.spec.steps, 1 << layout.log_steps, 1 << layout.log_history
    assert model.n_layers >= layout.layers and T <= TP, "the run does not fit the claimed layout"
    Z = np.zeros((TP, layout.batch, 1 << layout.units.log_size), np.int64)
    G_A = np.zeros_like(Z)
    Z_out = np.zeros((TP, layout.batch, 1 << dict(layout.output)["out"]), np.int64)
    history = np.zeros((TH, 1 << layout.weight_blocks.log_size), np.int64)
    for l, (d_in, d_out) in enumerate(model.shapes()[: layout.layers]):
        if l < layout.layers - 1:
            block(Z, layout.units, layout.output_block(l))[:T, :, :d_out] = w.arrays[f"layer{l}.Z"]
            block(G_A, layout.units, layout.output_block(l))[:T, :, :d_out] = w.arrays[f"layer{l}.G_A"]
        else:
            Z_out[:T, :, :d_out] = w.arrays[f"layer{l}.Z"]
        n_out = 1 << layout.weight_names[f"w{l}"][1]
        for tau in range(TH):
            weights = w.arrays[f"layer{l}.W"][tau] if tau < T else run.final.w[l]
            block(history[tau], layout.weight_blocks, f"w{l}").reshape(-1, n_out)[:d_in, :d_out] = weights
            if model.bias:
                bias = w.arrays[f"layer{l}.b"][tau] if tau < T else run.final.b[l]
                block(history[tau], layout.weight_blocks, f"b{l}")[:d_out] = bias << layout.frac_bits
    if data_x is None or data_y is None:
        assert data is not None
        dx, dy = data_tables(data)
        data_x = dx if data_x is None else data_x
        data_y = dy if data_y is None else data_y
    return ProverTables(layout, Z, Z_out, G_A, history, data_x.copy(), data_y.copy())


def layer_block(tables: ProverTables, array: np.ndarray, layer: int, axis: int = -1) -> np.ndarray:
    """Hidden layer ℓ's block of an array on `unit` (Z, G_A, what is derived from them, or their
    bits with axis=-2): a view [TP, B, n_(ℓ+1)(, width)]."""
    lay = tables.layout
    found = lay.units[lay.output_block(layer)]
    index = [slice(None)] * array.ndim
    index[axis] = slice(found.offset, found.offset + (1 << found.log_size))
    return array[tuple(index)]


def z_of(tables: ProverTables, layer: int) -> np.ndarray:
    """Layer ℓ's Z, [TP, B, n_(ℓ+1)]: its block of the hidden Z, or the output layer's Z."""
    return tables.Z_out if layer == tables.layout.layers - 1 else layer_block(tables, tables.Z, layer)


def weights_of(layout: Layout, history: np.ndarray, layer: int) -> np.ndarray:
    """Layer ℓ's weights in packed snapshots (any leading axes): a view [..., n_ℓ, n_(ℓ+1)]."""
    n_in, n_out = (1 << log for log in layout.weight_names[f"w{layer}"])
    return block(history, layout.weight_blocks, f"w{layer}").reshape(*history.shape[:-1], n_in, n_out)


def bias_of(layout: Layout, history: np.ndarray, layer: int) -> np.ndarray:
    """Layer ℓ's bias block (2^R·b) in packed snapshots: a view [..., n_(ℓ+1)]."""
    return block(history, layout.weight_blocks, f"b{layer}")


def with_layout(tables: ProverTables, layout: Layout) -> ProverTables:
    """The same arrays read under another (claimed) layout of the same padded shapes."""
    arrays = (tables.Z, tables.Z_out, tables.G_A, tables.history, tables.data_x, tables.data_y)
    return ProverTables(layout, *(array.copy() for array in arrays))


def copy_tables(tables: ProverTables) -> ProverTables:
    return with_layout(tables, tables.layout)


def bit_array(values: np.ndarray, width: int = WORD) -> np.ndarray:
    """The two's-complement bits of int64 values, as int64 [..., width] (bit index last)."""
    words = values.astype(np.int64).view(np.uint64)
    return ((words[..., None] >> np.arange(width, dtype=np.uint64)) & np.uint64(1)).astype(np.int64)


def recompose(bits: np.ndarray, weights: tuple[int, ...]) -> np.ndarray:
    """Σ_j weights[j]·bits[..., j] exactly (Python ints), returned as int64 (it must fit)."""
    total = np.zeros(bits.shape[:-1], dtype=object)
    for j, wj in enumerate(weights):
        if wj:
            total = total + bits[..., j].astype(object) * int(wj)
    return total.astype(np.int64)


@dataclass(frozen=True)
class FieldBits:
    """Marker for a bit tensor committed as field elements (entries need not be 0 or 1)."""

    field: np.ndarray  # uint64[n·width, 4]
    width: int


@dataclass
class NonBinaryTables(ProverTables):
    """Prover tables whose committed "bits" are arbitrary small integers: bits_Z, bits_G_A int64
    [TP, B, |unit|, width], bits_Z_out [TP, B, n_L, width]. Z, Z', S, G_A, G_A' and the output's Z,
    Z' are what the verifier's weights read from them."""

    bits_Z: np.ndarray = field(default=None)
    bits_G_A: np.ndarray = field(default=None)
    bits_Z_out: np.ndarray = field(default=None)

    def __post_init__(self) -> None:
        lay = self.layout
        kappa = _signed(lay.recompose.table)
        kappa_r = _signed(lay.rescaled.table)
        top = lay.sign.table.index(1)
        self.Z = recompose(self.bits_Z, kappa)
        self.G_A = recompose(self.bits_G_A, kappa)
        self.Z_out = recompose(self.bits_Z_out, kappa)
        self.__dict__["Z_rescaled"] = recompose(self.bits_Z, kappa_r)
        self.__dict__["G_A_rescaled"] = recompose(self.bits_G_A, kappa_r)
        self.__dict__["Z_out_rescaled"] = recompose(self.bits_Z_out, kappa_r)
        self.__dict__["sign"] = (1 - self.bits_Z[..., top]).astype(np.int64)

    def bits(self, name: str) -> FieldBits:
        table = {"Z": self.bits_Z, "G_A": self.bits_G_A, "Z_out": self.bits_Z_out}[name]
        return FieldBits(_kernels.fr_from_i64(np.ascontiguousarray(table, np.int64).reshape(-1)), table.shape[-1])

    def stacked_bits(self) -> FieldBits:
        halves = [self.bits("Z"), self.bits("G_A")]
        return FieldBits(np.concatenate([half.field for half in halves]), halves[0].width)

    def output_bits(self) -> FieldBits:
        return self.bits("Z_out")


def _signed(table: tuple[int, ...]) -> tuple[int, ...]:
    """Field weights (ints mod r) back to signed integers."""
    from zkdl.backend import MODULUS

    return tuple(v - MODULUS if v > MODULUS // 2 else v for v in table)


def with_bits(
    tables: ProverTables, bits_Z: np.ndarray | None = None, bits_G_A: np.ndarray | None = None, bits_Z_out: np.ndarray | None = None
) -> NonBinaryTables:
    """`tables` with explicitly chosen committed bit tensors (default: the honest two's-complement bits)."""
    width = 1 << tables.layout.log_bits
    arrays = (tables.Z, tables.Z_out, tables.G_A, tables.history, tables.data_x, tables.data_y)
    return NonBinaryTables(
        tables.layout, *(array.copy() for array in arrays),
        bits_Z=bit_array(tables.Z, width) if bits_Z is None else bits_Z,
        bits_G_A=bit_array(tables.G_A, width) if bits_G_A is None else bits_G_A,
        bits_Z_out=bit_array(tables.Z_out, width) if bits_Z_out is None else bits_Z_out,
    )  # fmt: skip


@contextlib.contextmanager
def field_bits_prover() -> Iterator[None]:
    """Routes `FieldBits` through the two places the prover reads committed bits (module docstring)."""
    honest_commit, honest_to_field = cm.commit_bits, _kernels.bits_to_field

    def commit_bits(words, width):
        if isinstance(words, FieldBits):
            return cm.commit_field(words.field.reshape(-1, words.width, 4))
        return honest_commit(words, width)

    def bits_to_field(words, width):
        return words.field if isinstance(words, FieldBits) else honest_to_field(words, width)

    with _patched(cm, "commit_bits", commit_bits), _patched(_kernels, "bits_to_field", bits_to_field):
        yield


# ---- proving a cheat ----------------------------------------------------------------------------


def commitments_of(tables: ProverTables, reuse: Honest | None = None):
    """Commits (D_X, D_Y, W_0, W_T) of the tables; a table equal to the honest one keeps its
    honest commitment and opening (no re-commitment: faster, and the statement changes only where
    the cheat does)."""
    T = tables.layout.steps
    arrays = (tables.data_x, tables.data_y, tables.history[0], tables.history[T])
    out = []
    for i, array in enumerate(arrays):
        if reuse is not None:
            honest_arrays = (
                reuse.tables.data_x,
                reuse.tables.data_y,
                reuse.tables.history[0],
                reuse.tables.history[reuse.layout.steps],
            )
            if honest_arrays[i].shape == array.shape and np.array_equal(honest_arrays[i], array):
                commitment = [*training.StatementCommitments.of(reuse.statement, reuse.layout).all][i]
                opening = (reuse.secrets.data_x, reuse.secrets.data_y, reuse.secrets.w0, reuse.secrets.wt)[i]
                out.append((commitment, opening))
                continue
        out.append(cm.commit_int64(np.ascontiguousarray(array)))
    return out


def prove_cheat(tables: ProverTables, claimed: Statement, reuse: Honest | None = None) -> tuple[Statement, list[Message]]:
    """Commits what the tables hold, completes the claimed statement and runs the honest prover."""
    (cx, ox), (cy, oy), (c0, o0), (cT, oT) = commitments_of(tables, reuse)
    statement = dataclasses.replace(with_dataset(claimed, c_x=cm.encode(cx), c_y=cm.encode(cy)), c_w0=cm.encode(c0), c_wt=cm.encode(cT))
    secrets = training.StatementSecrets(ox, oy, o0, oT)
    with field_bits_prover():
        messages = training.prove(statement, secrets, tables)
    return statement, messages


# ---- a value rounded wrongly --------------------------------------------------------------------


def bump_rescaled(bits: np.ndarray, value: int, s: int) -> np.ndarray:
    """Bits with the same κ-value `value` but κ'-value (rescaled) one higher: the two's-complement
    bits of value − 2^s with a 2 added at position s − 1 (2·2^(s−1) = 2^s compensates). The top bit,
    hence the sign, is unchanged unless 0 ≤ value < 2^s (callers avoid that)."""
    assert not 0 <= value < 1 << s
    out = bits.copy()
    out[:] = bit_array(np.array(value - (1 << s), np.int64), bits.shape[-1])
    out[s - 1] += 2
    return out


def wrongly_rounded(h: Honest, kind: str, layer: int, step: int) -> NonBinaryTables:
    """A training run that rounds one entry of `kind` (Z or G_A) of `layer` at `step` wrongly:
    Z' = round(Z/2^s) + 1, i.e. Z = 2^s·Z' + R with R = R_true − 2^s below −2^(s−1) (zkdl.train with
    rescale patched; every later step follows the wrong value, so the run is internally consistent),
    committed with the non-canonical decomposition that holds it (a 2 at bit s − 1, `bump_rescaled`):
    binary bits cannot, since Z' is a fixed linear function of the bits of Z."""
    s, lay = h.layout.shift, h.layout
    source = z_of(h.tables, layer) if kind == "Z" else layer_block(h.tables, h.tables.G_A, layer)
    width = lay.widths[layer + 1]
    candidates = np.abs(source[step, :, :width]) * (z_of(h.tables, layer)[step, :, :width] > 0)
    row, col = np.unravel_index(int(np.argmax(candidates)), candidates.shape)
    assert not 0 <= source[step, row, col] < 1 << s
    used = []

    def off_by_one(k, t, l, value, rescaled, remainder):
        if (k, t, l) == (kind, step, layer):
            rescaled, remainder = rescaled.copy(), remainder.copy()
            rescaled[row, col] += 1
            remainder[row, col] -= 1 << s
            used.append(int(remainder[row, col]))
        return rescaled, remainder

    run = cheating_train(h.spec, h.data, rescale=off_by_one)
    assert used[0] < -(1 << (s - 1))  # the cheating run's remainder is out of range
    tables = build_tables(lay, run, data=h.data)
    output = layer == lay.layers - 1  # the output layer's bits are BO's, the hidden layers' B's
    name = "Z_out" if output else kind
    table = getattr(tables, name)
    bits = bit_array(table)
    entry_bits = (bits if output else layer_block(tables, bits, layer, axis=-2))[step, row, col]
    value = (table if output else layer_block(tables, table, layer))[step, row, col]
    entry_bits[:] = bump_rescaled(entry_bits, int(value), s)
    cheat = with_bits(tables, **{f"bits_{name}": bits})
    cheat.check()  # consistent with the cheating run everywhere
    return cheat
