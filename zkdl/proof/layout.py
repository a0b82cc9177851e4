"""Shapes, padding and public tables of the training proof (docs/protocol.md §1, §3).

Each layer is padded only to its own power of two: the columns of every boundary j (the input,
the hidden layers, the output) form a block of n_j = 2^⌈log d_j⌉ entries, and the blocks a tensor
holds are packed on one axis (zkdl.proof.packing): `unit` (the hidden layers' Z and G_A, whose bits
are committed), `in` (every layer's input A_in), `next` (every layer's Z and G_Z) and `weight`
(each layer's n_ℓ × n_(ℓ+1) weights, and its biases). The output layer's Z is an axis of its own
(`out`), steps are padded to a power of two and masked. The tables here are public: the verifier
computes them from the statement alone.

Bias (docs/protocol.md §1.1): a bias is the weight of a constant input. `in` has a one-entry block
"one", of value 2^R (1.0 at the activation scale) on every real step, outside every layer's block,
and layer ℓ's bias is the block "b{ℓ}" of `weight` at the weight scale, 2^R·b; then A_in·W adds
2^(2R)·b and the history's update of "b{ℓ}" is 2^R·Σ_batch G_Z = 2^R·G_b, the trainer's b ← b − G_b.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

from zkdl.data import schedule
from zkdl.errors import SpecError, ZkdlError
from zkdl.proof.claims import Factor, Shape, prefix_factor
from zkdl.proof.dataset import DatasetFormatError
from zkdl.proof.errors import VerificationError
from zkdl.proof.packing import Packing, Term
from zkdl.proof.statement import Statement
from zkdl.quant import QuantParams

# Size limits a verifier enforces before building any public table from a statement's numbers, so
# that an untrusted bundle cannot make it allocate without bound (the proof itself scales as log).
MAX_WIDTH = 1 << 16
MAX_LAYERS = 64
MAX_STEPS = 1 << 20
MAX_SAMPLES = 1 << 24


class UnsupportedStatementError(ZkdlError, ValueError):
    """The statement asks for something this prover does not prove yet."""

    code = "unsupported-statement"


def log2_ceil(n: int) -> int:
    return max(n - 1, 0).bit_length()


@dataclass(frozen=True)
class Layout:
    widths: tuple[int, ...]
    batch: int
    steps: int
    range_bits: int
    frac_bits: int
    lr_exp: int
    data_frac_bits: int
    n_train: int
    schedule_seed: int
    bias: bool = False
    first_step: int = 0  # a chunk of the run: its steps are first_step … first_step + steps − 1

    def chunk(self, first_step: int, steps: int) -> Layout:
        """The layout of steps [first_step, first_step + steps) of this run (chunked proving)."""
        return dataclasses.replace(self, first_step=self.first_step + first_step, steps=steps)

    @classmethod
    def of(cls, st: Statement) -> Layout:
        """The layout of a statement; a statement no honest trainer could produce is refused here,
        before any of its numbers are used (the soundness argument needs these bounds)."""
        try:
            dataset = st.dataset
        except DatasetFormatError as exc:
            raise VerificationError(f"the statement's commitments are malformed: C_data: {exc.user_message}") from None
        try:
            QuantParams(st.frac_bits, st.lr_exp, st.range_bits)  # s + 2 ≤ range_bits ≤ 64, R ≥ 1
        except SpecError as exc:
            raise UnsupportedStatementError(f"the statement's quantisation is invalid: {exc.user_message}") from None
        if not 0 <= st.data_frac_bits <= st.frac_bits:
            raise UnsupportedStatementError(f"data_frac_bits {st.data_frac_bits} must lie in [0, R = {st.frac_bits}]")
        if max(st.widths) > MAX_WIDTH or st.steps > MAX_STEPS or st.n_train > MAX_SAMPLES or len(st.widths) > MAX_LAYERS + 1:
            raise UnsupportedStatementError(
                f"the statement is larger than this verifier handles (widths ≤ {MAX_WIDTH}, ≤ {MAX_LAYERS} layers, "
                f"≤ {MAX_STEPS} steps, ≤ {MAX_SAMPLES} samples): every public table is built from these sizes"
            )
        if (dataset.features, dataset.classes) != (st.widths[0], st.widths[-1]):
            raise UnsupportedStatementError(
                f"the data set has {dataset.features} inputs and {dataset.classes} classes, the network {st.widths[0]} and {st.widths[-1]}"
            )
        if st.steps < 1 or not 1 <= st.batch <= st.n_train:
            raise UnsupportedStatementError(f"{st.steps} steps of batch {st.batch} on {st.n_train} samples: nothing to prove")
        if st.batch & (st.batch - 1):
            raise UnsupportedStatementError(f"batch {st.batch} is not a power of two: train with a batch of 2^k")
        return cls(
            tuple(st.widths), st.batch, st.steps, st.range_bits, st.frac_bits, st.lr_exp,
            st.data_frac_bits, st.n_train, st.schedule_seed, bool(st.bias),
        )  # fmt: skip

    # Sizes (log2) of the padded axes.
    @property
    def layers(self) -> int:
        return len(self.widths) - 1

    @property
    def log_steps(self) -> int:
        return log2_ceil(self.steps)

    @property
    def log_history(self) -> int:
        """Weight snapshots W_0 .. W_T: T + 1 of them."""
        return log2_ceil(self.steps + 1)

    @property
    def log_batch(self) -> int:
        return log2_ceil(self.batch)

    @property
    def constant(self) -> int:
        """The constant input's value, 2^R (1.0 at the activation scale)."""
        return 1 << self.frac_bits

    @property
    def log_bits(self) -> int:
        return log2_ceil(self.range_bits)

    @property
    def log_samples(self) -> int:
        return log2_ceil(self.n_train)

    @property
    def shift(self) -> int:
        """s = 2R + e, the rescale shift."""
        return 2 * self.frac_bits + self.lr_exp

    # Packed axes (docs/protocol.md §1): each boundary j's n_j = 2^⌈log d_j⌉ columns are one block,
    # named "h{j}" for a hidden boundary on every axis that holds it (claims move between axes
    # without renaming).
    def _block(self, j: int) -> tuple[str, int]:
        return f"h{j}", log2_ceil(self.widths[j])

    @cached_property
    def units(self) -> Packing:
        """The hidden layers' outputs (Z, G_A and the committed bits B): boundaries 1 … L−1."""
        return Packing("unit", [self._block(j) for j in range(1, self.layers)])

    @cached_property
    def inputs(self) -> Packing:
        """A_in of every layer: the data ("x"), the hidden boundaries, and with a bias the
        constant input ("one", one entry outside every power-of-two block)."""
        one = [("one", 0)] if self.bias else []
        return Packing("in", [("x", log2_ceil(self.widths[0])), *(self._block(j) for j in range(1, self.layers)), *one])

    @cached_property
    def outputs(self) -> Packing:
        """Z and G_Z of every layer: the hidden boundaries and the output ("y")."""
        return Packing("next", [*(self._block(j) for j in range(1, self.layers)), ("y", log2_ceil(self.widths[-1]))])

    def input_block(self, layer: int) -> str:
        return "x" if layer == 0 else f"h{layer}"

    def output_block(self, layer: int) -> str:
        return "y" if layer == self.layers - 1 else f"h{layer + 1}"

    @cached_property
    def weight_blocks(self) -> Packing:
        """Layer ℓ's weights "w{ℓ}" (n_ℓ × n_(ℓ+1), the input index high) and with a bias its bias
        "b{ℓ}" (n_(ℓ+1) entries, 2^R·b: the weight of the constant input)."""
        return Packing("weight", [(name, sum(logs)) for name, logs in self.weight_names.items()])

    @cached_property
    def weight_names(self) -> dict[str, tuple[int, ...]]:
        """Each block of `weight`, in order, with the log2 sizes of its (in, out) or (out,) axes."""
        logs = [log2_ceil(d) for d in self.widths]
        names: dict[str, tuple[int, ...]] = {f"w{l}": (logs[l], logs[l + 1]) for l in range(self.layers)}
        if self.bias:
            names.update({f"b{l}": (logs[l + 1],) for l in range(self.layers)})
        return names

    @property
    def weight_rows(self) -> int:
        """log2 of the packed weights' rows for the low-axis prover: the smallest output block, so
        that every block of `weight`, and the output side of each, spans whole rows."""
        return min(12, *(log2_ceil(d) for d in self.widths[1:]))

    def weight_layer(self, name: str) -> int:
        return int(name[1:])

    # Shapes (numpy order; see zkdl.proof.claims).
    @property
    def hidden(self) -> Shape:
        """The hidden layers' Z, G_A and their derived tensors."""
        return (("step", self.log_steps), ("row", self.log_batch), ("unit", self.units.log_size))

    @property
    def hidden_bits(self) -> Shape:
        return self.hidden + (("bit", self.log_bits),)

    @property
    def stacked_bits(self) -> Shape:
        """B = [BZ; BG]: the committed tensor holding both hidden bit tensors, BZ at stack index 0."""
        return (("stack", 1),) + self.hidden_bits

    @property
    def output(self) -> Shape:
        """The output layer's Z (its bits are BO) and the loss gradient."""
        return (("step", self.log_steps), ("row", self.log_batch), ("out", log2_ceil(self.widths[-1])))

    @property
    def output_bits(self) -> Shape:
        return self.output + (("bit", self.log_bits),)

    @property
    def layer_inputs(self) -> Shape:
        """A_in of every layer, on the packed axis `in`."""
        return (("step", self.log_steps), ("row", self.log_batch), ("in", self.inputs.log_size))

    @property
    def layer_outputs(self) -> Shape:
        """Z and G_Z of every layer, on the packed axis `next`."""
        return (("step", self.log_steps), ("row", self.log_batch), ("next", self.outputs.log_size))

    @property
    def weights(self) -> Shape:
        return (("weight", self.weight_blocks.log_size),)

    @property
    def history(self) -> Shape:
        return (("step", self.log_history), ("weight", self.weight_blocks.log_size))

    @property
    def updates(self) -> Shape:
        """The weight history's updates: one (step, row) table per block of `weight`."""
        return (("block", log2_ceil(len(self.weight_names))), ("step", self.log_steps), ("row", self.log_batch))

    @property
    def data_x(self) -> Shape:
        """D_X: the data set's inputs at their own padded width (the data set is model-independent)."""
        return (("sample", self.log_samples), ("col", log2_ceil(self.widths[0])))

    @property
    def data_y(self) -> Shape:
        """D_Y: the data set's 0/1 labels, one column per class, padded to a power of two."""
        return (("sample", self.log_samples), ("col", log2_ceil(self.widths[-1])))

    # Public tables.
    def prefix(self, axis: str, n: int, log_size: int) -> Factor:
        """[index < n] over an axis of 2^log_size entries (its extension in closed form)."""
        return prefix_factor(axis, n, log_size)

    @property
    def step_mask(self) -> Factor:
        return self.prefix("step", self.steps, self.log_steps)

    @cached_property
    def unit_columns(self) -> Factor:
        """[k < d_j] on each hidden block of `unit`, zero in their padding and the gap."""
        return self.units.factor([self.columns(self.units, f"h{j}", self.widths[j]) for j in range(1, self.layers)])

    def columns(self, packing: Packing, name: str, width: int, coefficient: int = 1) -> Term:
        """The real columns k < width of a block, as a term of a block factor."""
        return Term(name, coefficient, ((self.prefix(packing.axis, width, packing[name].log_size), packing[name].log_size),))

    @cached_property
    def schedule(self):
        full = schedule(self.schedule_seed, self.n_train, self.batch, self.first_step + self.steps)
        return full[self.first_step :]

    # Bit weights (docs/protocol.md §3).
    @cached_property
    def recompose(self) -> Factor:
        """κ_j: the two's-complement value of the bits."""
        w = self.range_bits
        table = [(1 << j) if j < w - 1 else -(1 << j) if j == w - 1 else 0 for j in range(1 << self.log_bits)]
        return Factor(("bit",), tuple(table))

    @cached_property
    def rescaled(self) -> Factor:
        """κ'_j: floor((V + 2^(s−1)) / 2^s) from the bits (the carry of bit s−1 rounds half up)."""
        w, s = self.range_bits, self.shift

        def weight(j: int) -> int:
            if j == s - 1:
                return 1
            if s <= j < w - 1:
                return 1 << (j - s)
            if j == w - 1:
                return -(1 << (j - s))
            return 0

        return Factor(("bit",), tuple(weight(j) for j in range(1 << self.log_bits)))

    @cached_property
    def sign(self) -> Factor:
        """The top bit alone: S = 1 − (this weight applied to the bits)."""
        return Factor(("bit",), tuple(int(j == self.range_bits - 1) for j in range(1 << self.log_bits)))
