"""The prover's padded tables, built from a run's witness (`zkdl.witness`) and its data set.

Everything here is integer (int64) and follows the definitions of docs/protocol.md §3, so that the
virtual tensors the verifier reasons about are exactly these arrays; `check_against` tests them
against the trainer's records, which catches any layout mistake before proving.
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
from zkdl.quant import rescale
from zkdl.witness import Witness


@dataclass
class ProverTables:
    layout: Layout
    Z: np.ndarray  # [LP, TP, B, N]: every layer's Z
    G_A: np.ndarray  # [LP, TP, B, N]: gradient of each hidden layer's output, zero elsewhere
    history: np.ndarray  # [LP, TH, N, N]: W_0 .. W_T, then W_T repeated; bias 2^R·b in row d_ℓ
    data_x: np.ndarray  # [NP, DX]: the data set's inputs at their own padded width
    data_y: np.ndarray  # [NP, DY]: its 0/1 labels

    @classmethod
    def of(cls, layout: Layout, witness: Witness, data: Dataset) -> ProverTables:
        """The tables of the layout's steps (a chunk of the run, or all of it)."""
        lay = layout
        L, B, N = lay.layers, lay.batch, 1 << lay.log_width
        LP, TP, TH = 1 << lay.log_layers, 1 << lay.log_steps, 1 << lay.log_history
        Z = np.zeros((LP, TP, B, N), np.int64)
        G_A = np.zeros_like(Z)
        history = np.zeros((LP, TH, N, N), np.int64)
        for l in range(L - 1):
            G_A[l, : lay.steps, :, : lay.widths[l + 1]] = witness.recorded(l, "G_A", lay.first_step, lay.steps)
        for l in range(L):
            Z[l, : lay.steps, :, : lay.widths[l + 1]] = witness.recorded(l, "Z", lay.first_step, lay.steps)
        for tau in range(TH):  # W_τ = W_T for τ ≥ T: no step after the last
            history[:, tau] = weight_slots(lay, witness.weights_at(lay.first_step + min(tau, lay.steps)))
        return cls(lay, Z, G_A, history, *data_tables(data))

    # Virtual tensors, by their definitions (docs/protocol.md §3).
    @cached_property
    def masks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(hidden layers [LP,1,1,1], real steps [1,TP,1,1], real output columns [LP,1,1,N])."""
        lay = self.layout
        LP, TP, N = self.Z.shape[0], self.Z.shape[1], self.Z.shape[3]
        hidden = (np.arange(LP) < lay.layers - 1).reshape(LP, 1, 1, 1)
        steps = (np.arange(TP) < lay.steps).reshape(1, TP, 1, 1)
        widths = np.array([lay.widths[l + 1] if l < lay.layers else 0 for l in range(LP)])
        columns = (np.arange(N)[None, :] < widths[:, None]).reshape(LP, 1, 1, N)
        return hidden, steps, columns

    @cached_property
    def Z_rescaled(self) -> np.ndarray:
        return rescale(self.Z, self.layout.shift)[0]

    @cached_property
    def sign(self) -> np.ndarray:
        return (self.Z >= 0).astype(np.int64)

    @cached_property
    def G_A_rescaled(self) -> np.ndarray:
        return rescale(self.G_A, self.layout.shift)[0]

    @cached_property
    def A_out(self) -> np.ndarray:
        hidden, steps, columns = self.masks
        return hidden * steps * columns * self.sign * self.Z_rescaled

    @cached_property
    def selected(self) -> tuple[np.ndarray, np.ndarray]:
        """(X_sel, Y_sel) [TP, B, N]: the scheduled rows, zero for padded steps and columns; the
        targets at scale 2^R."""
        lay = self.layout
        TP, N = self.Z.shape[1], self.Z.shape[3]
        rows = np.zeros((TP, lay.batch), np.int64)
        rows[: lay.steps] = lay.schedule
        real = (np.arange(TP) < lay.steps)[:, None, None]

        def widened(data: np.ndarray) -> np.ndarray:
            return np.pad(data[rows] * real, ((0, 0), (0, 0), (0, N - data.shape[1])))

        return widened(self.data_x), widened(self.data_y) * lay.constant

    @cached_property
    def A_in_variable(self) -> np.ndarray:
        """A_in without the constant column: the lifted data at layer 0, the ReLU output above."""
        lay = self.layout
        out = np.zeros_like(self.Z)
        lift = 1 << (lay.frac_bits - lay.data_frac_bits)
        first_columns = np.arange(self.Z.shape[3]) < lay.widths[0]
        out[0] = self.selected[0] * first_columns * lift
        out[1:] = self.A_out[:-1]
        return out

    @cached_property
    def A_in(self) -> np.ndarray:
        """A_in_variable + 2^R·[k = d_ℓ]·[t < T]·[ℓ < L] with a bias (the public constant column)."""
        lay = self.layout
        if not lay.bias:
            return self.A_in_variable  # the same array: no copy without a bias
        out = self.A_in_variable.copy()
        for l in range(lay.layers):
            out[l, : lay.steps, :, lay.constant_column(l)] += lay.constant
        return out

    @cached_property
    def G_Z(self) -> np.ndarray:
        hidden, steps, columns = self.masks
        out = hidden * steps * columns * self.sign * self.G_A_rescaled
        last = self.layout.layers - 1
        out[last] = (steps * columns)[last] * (self.Z_rescaled[last] - self.selected[1])
        return out

    def check(self) -> None:
        """The trainer's products hold for the tables on every real block of their steps:
        Z = A_in·W_t and G_A(ℓ − 1) = G_Z(ℓ)·W_t(ℓ)ᵀ, with Z, G_A and W_t recorded and A_in, G_Z
        derived (data, lift, ReLU, bias column, loss). Checked at random vectors (Freivalds; int64
        arithmetic wraps, so both sides agree mod 2^64): a layout bug shows here, before proving."""
        lay, rng = self.layout, np.random.default_rng()
        for l in range(lay.layers):
            d_in, d_out = lay.widths[l], lay.widths[l + 1]
            r, q = (rng.integers(-(1 << 62), 1 << 62, n, dtype=np.int64) for n in (d_out, d_in))
            for t in range(lay.steps):
                step = f"step {lay.first_step + t}"
                w = self.history[l, t, : d_in + lay.bias, :d_out]
                if not np.array_equal(self.Z[l, t, :, :d_out] @ r, self.A_in[l, t, :, : d_in + lay.bias] @ (w @ r)):
                    raise AssertionError(f"{step}: Z of layer {l} is not A_in·W of the prover's tables")
                if l > 0 and not np.array_equal(self.G_A[l - 1, t, :, :d_in] @ q, self.G_Z[l, t, :, :d_out] @ (w[:d_in].T @ q)):
                    raise AssertionError(f"{step}: G_A of layer {l - 1} is not G_Z·Wᵀ of the prover's tables")

    # Field forms for the sumchecks, converted once per table (several sub-protocols read them).
    def field(self, name: str) -> backend.Vector:
        cache = self.__dict__.setdefault("_field_cache", {})
        if name not in cache:
            cache[name] = backend.from_i64(getattr(self, name))
        return cache[name]

    def bits(self, name: str) -> np.ndarray:
        """The packed two's-complement bits of Z or G_A (docs/kernels.md)."""
        cache = self.__dict__.setdefault("_bits_cache", {})
        if name not in cache:
            cache[name] = backend.bits_decompose(getattr(self, name), 1 << self.layout.log_bits)
            cache[name].setflags(write=False)
        return cache[name]

    def stacked_bits(self) -> np.ndarray:
        """The words of B = [bits of Z; bits of G_A], the one committed bit tensor."""
        return np.concatenate([self.bits("Z"), self.bits("G_A")])


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


def weight_slots(lay: Layout, weights: Weights) -> np.ndarray:
    """The weights in the committed layout [LP, N, N]: layer slots of N × N, zero padding; with a
    bias, 2^R·b (the bias at the weight scale 2^(2R+e)) in row d_ℓ, the weight of the constant
    input column."""
    n = 1 << lay.log_width
    out = np.zeros((1 << lay.log_layers, n, n), np.int64)
    for l, w in enumerate(weights.w):
        out[l, : w.shape[0], : w.shape[1]] = w
        if lay.bias:
            assert weights.b is not None, "a statement with biases is made from weights with biases (Weights.check)"
            out[l, w.shape[0], : w.shape[1]] = bias_row(weights.b[l], lay.frac_bits, l)
    return out


def bias_row(b: np.ndarray, frac_bits: int, layer: int) -> np.ndarray:
    """2^R·b (the bias at the weight scale), refused if it leaves int64 (W_0 and W_T are committed
    as int64 entries)."""
    b = np.asarray(b, dtype=np.int64)
    row = b << frac_bits
    if not np.array_equal(row >> frac_bits, b):
        raise UnsupportedStatementError(f"layer {layer}'s bias does not fit int64 at the weight scale (2^R·b)")
    return row
