"""The prover's tables, built from a run's witness (`zkdl.witness`) and its data set.

Everything here is integer (int64) on the packed axes of `zkdl.proof.layout` and follows the
definitions of docs/protocol.md §3, so that the virtual tensors the verifier reasons about are
exactly these arrays; `ProverTables.check` tests them against the trainer's products, which
catches any layout mistake before proving.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NoReturn, cast

import numpy as np

from zkdl import backend
from zkdl.data import Dataset, one_hot
from zkdl.model import Weights
from zkdl.proof.layout import Layout, UnsupportedStatementError, log2_ceil
from zkdl.proof.packing import Packing
from zkdl.quant import rescale
from zkdl.witness import Witness


@dataclass
class ProverTables:
    """The prover's tables on the packed axes (zkdl.proof.layout): each layer padded only to its
    own power of two."""

    layout: Layout
    Z: np.ndarray  # [TP, B, |unit|]: the hidden layers' Z
    Z_out: np.ndarray  # [TP, B, n_L]: the output layer's Z
    G_A: np.ndarray  # [TP, B, |unit|]: the gradient of each hidden layer's output
    history: np.ndarray  # [max(T + 1, TP), |weight|]: W_0 .. W_T, then W_T for the matmuls' padded steps
    data_x: np.ndarray  # [NP, n_0]: the data set's inputs at their own padded width
    data_y: np.ndarray  # [NP, n_L]: its 0/1 labels

    @classmethod
    def of(cls, layout: Layout, witness: Witness, data: Dataset) -> ProverTables:
        """The tables of the layout's steps (a chunk of the run, or all of it)."""
        lay, units = layout, layout.units
        TP, steps = 1 << lay.log_steps, slice(0, lay.steps)
        TH = max(lay.steps + 1, TP)  # the snapshots a claim reads: no power of two (4 GiB at the paper's T = 16)
        Z = np.zeros((TP, lay.batch, 1 << units.log_size), np.int64)
        G_A = np.zeros_like(Z)
        Z_out = np.zeros((TP, lay.batch, 1 << log2_ceil(lay.widths[-1])), np.int64)
        for l in range(lay.layers - 1):
            block(Z, units, lay.output_block(l))[steps, :, : lay.widths[l + 1]] = witness.recorded(l, "Z", lay.first_step, lay.steps)
            block(G_A, units, lay.output_block(l))[steps, :, : lay.widths[l + 1]] = witness.recorded(l, "G_A", lay.first_step, lay.steps)
        Z_out[steps, :, : lay.widths[-1]] = witness.recorded(lay.layers - 1, "Z", lay.first_step, lay.steps)
        history = np.zeros((TH, 1 << lay.weight_blocks.log_size), np.int64)
        for tau in range(TH):  # W_τ = W_T for τ ≥ T: no step after the last
            history[tau] = packed_weights(lay, witness.weights_at(lay.first_step + min(tau, lay.steps)))
        return cls(lay, Z, Z_out, G_A, history, *data_tables(data))

    # Virtual tensors, by their definitions (docs/protocol.md §3).
    @cached_property
    def real_steps(self) -> np.ndarray:
        """[TP, 1, 1]: 1 on the steps of the run, 0 on the padded ones."""
        return (np.arange(self.Z.shape[0]) < self.layout.steps).reshape(-1, 1, 1)

    @property
    def masked_widths(self) -> tuple[int, ...]:
        """The widths whose real columns the masks M keep: the layout's."""
        return self.layout.widths

    @cached_property
    def unit_columns(self) -> np.ndarray:
        """[|unit|]: 1 on each hidden block's real columns k < d_j, 0 in their padding and the gap."""
        lay, out = self.layout, np.zeros(self.Z.shape[2], np.int64)
        for l in range(lay.layers - 1):
            block(out, lay.units, lay.output_block(l))[: self.masked_widths[l + 1]] = 1
        return out

    @cached_property
    def output_columns(self) -> np.ndarray:
        """[n_L]: 1 on the output's real columns."""
        return (np.arange(self.Z_out.shape[2]) < self.masked_widths[-1]).astype(np.int64)

    @cached_property
    def sign(self) -> np.ndarray:
        return (self.Z >= 0).astype(np.int64)

    @cached_property
    def Z_rescaled(self) -> np.ndarray:
        return rescale(self.Z, self.layout.shift)[0]

    @cached_property
    def G_A_rescaled(self) -> np.ndarray:
        return rescale(self.G_A, self.layout.shift)[0]

    @cached_property
    def Z_out_rescaled(self) -> np.ndarray:
        return rescale(self.Z_out, self.layout.shift)[0]

    @cached_property
    def Z_next(self) -> np.ndarray:
        """[TP, B, |next|]: every layer's Z on `next` (the hidden blocks of Z and the output's)."""
        lay = self.layout
        out = np.zeros((*self.Z.shape[:2], 1 << lay.outputs.log_size), np.int64)
        for l in range(lay.layers - 1):
            block(out, lay.outputs, lay.output_block(l))[...] = block(self.Z, lay.units, lay.output_block(l))
        block(out, lay.outputs, "y")[...] = self.Z_out
        return out

    @cached_property
    def A_out(self) -> np.ndarray:
        """The ReLU on `unit`: M ⊙ S ⊙ Z' on real steps (every block of `unit` is hidden)."""
        return self.real_steps * self.unit_columns * self.sign * self.Z_rescaled

    @cached_property
    def selected(self) -> tuple[np.ndarray, np.ndarray]:
        """(X_sel [TP, B, n_0], Y_sel [TP, B, n_L]): the scheduled rows, zero on padded steps; the
        targets at scale 2^R."""
        lay = self.layout
        rows = np.zeros((self.Z.shape[0], lay.batch), np.int64)
        rows[: lay.steps] = lay.schedule
        return self.data_x[rows] * self.real_steps, self.data_y[rows] * self.real_steps * lay.constant

    @cached_property
    def A_in(self) -> np.ndarray:
        """[TP, B, |in|]: the lifted data on its real columns, the ReLU outputs, and with a bias the
        constant 2^R on real steps."""
        lay = self.layout
        out = np.zeros((*self.Z.shape[:2], 1 << lay.inputs.log_size), np.int64)
        x = self.selected[0] << (lay.frac_bits - lay.data_frac_bits)
        block(out, lay.inputs, "x")[...] = x * (np.arange(x.shape[2]) < lay.widths[0])
        for l in range(1, lay.layers):
            block(out, lay.inputs, lay.input_block(l))[...] = block(self.A_out, lay.units, lay.input_block(l))
        if lay.bias:
            block(out, lay.inputs, "one")[...] = lay.constant * self.real_steps
        return out

    @cached_property
    def G_Z(self) -> np.ndarray:
        """[TP, B, |next|]: M ⊙ S ⊙ G_A' on the hidden blocks, M ⊙ (Z' − Y_sel) on the output's."""
        lay = self.layout
        out = np.zeros((*self.Z.shape[:2], 1 << lay.outputs.log_size), np.int64)
        hidden = self.real_steps * self.unit_columns * self.sign * self.G_A_rescaled
        for l in range(lay.layers - 1):
            block(out, lay.outputs, lay.output_block(l))[...] = block(hidden, lay.units, lay.output_block(l))
        loss = self.Z_out_rescaled - self.selected[1]
        block(out, lay.outputs, "y")[...] = loss * self.real_steps * self.output_columns
        return out

    def check(self) -> None:
        """The trainer's products hold on every real block of the tables: Z = A_in·W (+ the
        constant times the bias) and G_A(ℓ − 1) = G_Z(ℓ)·W_ℓᵀ, with Z, G_A and W_t recorded and
        A_in, G_Z derived (data, lift, ReLU, constant, loss). Checked at random vectors (Freivalds;
        int64 arithmetic wraps, so both sides agree mod 2^64): a layout bug shows here, before proving."""
        lay, rng, weights = self.layout, np.random.default_rng(), self.layout.weight_blocks
        z_of = lambda l: self.Z_out if l == lay.layers - 1 else block(self.Z, lay.units, lay.output_block(l))  # noqa: E731
        for l in range(lay.layers):
            d_in, d_out, n_out = lay.widths[l], lay.widths[l + 1], 1 << log2_ceil(lay.widths[l + 1])
            r, q = (rng.integers(-(1 << 62), 1 << 62, n, dtype=np.int64) for n in (d_out, d_in))
            for t in range(lay.steps):
                step = f"step {lay.first_step + t}"
                w = block(self.history[t], weights, f"w{l}").reshape(-1, n_out)[:d_in, :d_out]
                expected = block(self.A_in[t], lay.inputs, lay.input_block(l))[:, :d_in] @ (w @ r)
                if lay.bias:
                    expected += block(self.A_in[t], lay.inputs, "one")[:, 0] * (block(self.history[t], weights, f"b{l}")[:d_out] @ r)
                if not np.array_equal(z_of(l)[t, :, :d_out] @ r, expected):
                    raise AssertionError(f"{step}: Z of layer {l} is not A_in·W of the packed tables")
                g_z = block(self.G_Z[t], lay.outputs, lay.output_block(l))[:, :d_out]
                if l > 0 and not np.array_equal(block(self.G_A[t], lay.units, lay.input_block(l))[:, :d_in] @ q, g_z @ (w.T @ q)):
                    raise AssertionError(f"{step}: G_A of layer {l - 1} is not G_Z·Wᵀ of the packed tables")

    # Field forms for the sumchecks, converted once per table (several sub-protocols read them).
    def field(self, name: str) -> backend.Vector:
        cache = self.__dict__.setdefault("_field_cache", {})
        if name not in cache:
            cache[name] = backend.from_i64(getattr(self, name))
        return cache[name]

    def bits(self, name: str) -> np.ndarray:
        """The packed two's-complement bits of Z, G_A or Z_out (docs/kernels.md)."""
        cache = self.__dict__.setdefault("_bits_cache", {})
        if name not in cache:
            cache[name] = backend.bits_decompose(getattr(self, name), 1 << self.layout.log_bits)
            cache[name].setflags(write=False)
        return cache[name]

    def stacked_bits(self) -> np.ndarray:
        """The words of B = [bits of Z; bits of G_A] (the hidden layers'), one committed tensor."""
        return np.concatenate([self.bits("Z"), self.bits("G_A")])

    def output_bits(self) -> np.ndarray:
        """The words of BO, the bits of the output layer's Z."""
        return self.bits("Z_out")


def block(array: np.ndarray, packing: Packing, name: str) -> np.ndarray:
    """The view of the named block of `array`'s last axis, a packed axis of `packing`."""
    found = packing[name]
    return array[..., found.offset : found.offset + (1 << found.log_size)]


def packed_weights(lay: Layout, weights: Weights) -> np.ndarray:
    """The weights on the packed `weight` axis: block "w{ℓ}" holds W_ℓ at the top left of its
    n_ℓ × n_(ℓ+1) (row-major, the input index high), with a bias block "b{ℓ}" holds 2^R·b_ℓ (the
    bias at the weight scale, refused if it leaves int64); zero elsewhere."""
    packing = lay.weight_blocks
    out = np.zeros(1 << packing.log_size, np.int64)
    for l, w in enumerate(weights.w):
        block(out, packing, f"w{l}").reshape(-1, 1 << log2_ceil(lay.widths[l + 1]))[: w.shape[0], : w.shape[1]] = w
        if lay.bias:
            assert weights.b is not None, "a statement with biases is made from weights with biases (Weights.check)"
            block(out, packing, f"b{l}")[: w.shape[1]] = bias_row(weights.b[l], lay.frac_bits, l)
    return out


class _NoTables:
    """The verifier's stand-in for the prover's tables: the sub-protocols read tables only inside
    the prover's `compute` callbacks, so any read on the verifier's side is a bug, and stops."""

    def __getattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"the verifier read the prover's table {name!r}: it holds no witness")


NO_TABLES = cast(ProverTables, _NoTables())  # typed as the tables: every phase takes both parties'


def data_tables(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """The committed data set (zkdl.proof.dataset): its training inputs [NP, DX] and 0/1 labels
    [NP, DY], each axis zero padded to a power of two."""
    n, samples = int(data.train_idx.size), 1 << log2_ceil(int(data.train_idx.size))
    data_x = np.zeros((samples, 1 << log2_ceil(data.n_features)), np.int64)
    data_x[:n, : data.n_features] = data.X_train
    data_y = np.zeros((samples, 1 << log2_ceil(data.classes)), np.int64)
    data_y[:n, : data.classes] = one_hot(data.y_train, data.classes, 0)
    return data_x, data_y


def bias_row(b: np.ndarray, frac_bits: int, layer: int) -> np.ndarray:
    """2^R·b (the bias at the weight scale), refused if it leaves int64 (W_0 and W_T are committed
    as int64 entries)."""
    b = np.asarray(b, dtype=np.int64)
    row = b << frac_bits
    if not np.array_equal(row >> frac_bits, b):
        raise UnsupportedStatementError(f"layer {layer}'s bias does not fit int64 at the weight scale (2^R·b)")
    return row
