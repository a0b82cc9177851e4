"""Exact fixed-point SGD: the integer training the proof is about, recording its witness.

`train` runs T steps of the integer SGD defined in `zkdl.quant` on the batches of the public schedule
(`zkdl.data.schedule`) and records, per step and layer, the tensors the prover reads
(`zkdl.witness`). Every integer matrix product goes through the backend's kernel
`zkdl.backend.matmul_i64` (exact, 128-bit accumulation); Z and G_A are checked against
``range_bits`` and weights against int64, and any violation stops training with a
`TrainingOverflowError` naming step, layer and tensor. The run and its directory are
`zkdl.run`; the float reference trainer is `zkdl.float_reference`.
"""

from __future__ import annotations

import time

import numpy as np
from tqdm import tqdm

from zkdl import backend
from zkdl.data import Dataset, one_hot, schedule
from zkdl.errors import SpecError, TrainingOverflowError
from zkdl.model import TrainSpec, Weights, init_weights
from zkdl.quant import INT64_BITS, QuantParams, bit_width, checked_sub, rescale, sign_bits
from zkdl.run import DataRef, RunStats, TrainingRun
from zkdl.witness import Recorder

RANGE_CHECKED = ("Z", "G_A")
_SCALE_EXPS = {
    "Z": lambda q: q.product_exp,
    "G_A": lambda q: q.product_exp,
    "G_W": lambda q: q.weight_exp - q.lr_exp,
    "W": lambda q: q.weight_exp,
    "G_b": lambda q: q.act_exp,
    "b": lambda q: q.bias_exp,
}


class _Ctx:
    """Where a computation happens (for error messages) and the running maximum of bit widths."""

    def __init__(self, quant: QuantParams) -> None:
        self.quant = quant
        self.step: int | None = None
        self.max_bits: dict[str, int] = {}

    def allowed(self, tensor: str) -> int:
        """Bits allowed for ``tensor``: ``range_bits`` for Z and G_A, int64 for the rest."""
        return self.quant.range_bits if tensor in RANGE_CHECKED else INT64_BITS

    def overflow(self, tensor: str, bits: int, layer: int) -> TrainingOverflowError:
        """The error for ``tensor`` needing ``bits`` bits here."""
        return TrainingOverflowError(
            layer=layer,
            step=self.step,
            tensor=tensor,
            bits_needed=bits,
            bits_allowed=self.allowed(tensor),
            scale_exp=_SCALE_EXPS[tensor](self.quant),
        )

    def note(self, tensor: str, bits: int, layer: int) -> None:
        """Record a width and stop if it exceeds what ``tensor`` may use."""
        self.max_bits[tensor] = max(self.max_bits.get(tensor, 0), bits)
        if bits > self.allowed(tensor):
            raise self.overflow(tensor, bits, layer)

    def matmul(self, a: np.ndarray, b: np.ndarray, *, layer: int, tensor: str) -> np.ndarray:
        """Exact a @ b by the kernel; a result entry outside int64 is an overflow of ``tensor``."""
        try:
            c, bits = backend.matmul_i64(np.ascontiguousarray(a), np.ascontiguousarray(b))
        except backend.KernelError as exc:
            raise self.overflow(tensor, INT64_BITS + 1, layer) from exc
        self.note(tensor, int(bits), layer)
        return c


def _affine(ctx: _Ctx, a_in: np.ndarray, w: np.ndarray, b: np.ndarray | None, layer: int) -> np.ndarray:
    """Z = A_in W + 2^(2R) b, exactly: the bias rides in the same kernel product as an extra row of W
    against a constant column 2^(2R) of A_in, so the sum is exact and its width checked too."""
    if b is None:
        return ctx.matmul(a_in, w, layer=layer, tensor="Z")
    lift = np.full((a_in.shape[0], 1), ctx.quant.bias_lift, dtype=np.int64)
    return ctx.matmul(np.hstack([a_in, lift]), np.vstack([w, b[None, :]]), layer=layer, tensor="Z")


def _forward(ctx: _Ctx, weights: Weights, a0: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Forward pass: per layer A_in, Z, Z', R_Z and (hidden layers) S, A_out."""
    s = ctx.quant.shift
    out = []
    a_in = a0
    for l, w in enumerate(weights.w):
        z = _affine(ctx, a_in, w, weights.b[l] if weights.b is not None else None, l)
        z_r, r_z = rescale(z, s)
        rec = {"A_in": a_in, "Z": z, "Z_rescaled": z_r, "R_Z": r_z}
        if l < len(weights.w) - 1:
            rec["S"] = sign_bits(z)
            rec["A_out"] = a_in = rec["S"] * z_r
        out.append(rec)
    return out


def _sgd_step(ctx: _Ctx, weights: Weights, a0: np.ndarray, y: np.ndarray) -> tuple[list[dict[str, np.ndarray]], Weights]:
    """One exact SGD step: returns every layer's tensors and the updated weights."""
    recs = _forward(ctx, weights, a0)
    L = len(recs)
    g_z = recs[-1]["Z_rescaled"] - y  # |Z'| < 2^(64-s) and |Y| <= 2^R: cannot wrap
    new_w: list[np.ndarray] = [np.empty(0)] * L
    new_b: list[np.ndarray] = [np.empty(0)] * L
    for l in range(L - 1, -1, -1):
        rec, w = recs[l], weights.w[l]
        rec["G_Z"] = g_z
        rec["W"] = w
        rec["G_W"] = ctx.matmul(rec["A_in"].T, g_z, layer=l, tensor="G_W")
        new_w[l] = _update(ctx, w, rec["G_W"], l, "W")
        if weights.b is not None:
            rec["b"] = weights.b[l]
            rec["G_b"] = ctx.matmul(np.ones((1, g_z.shape[0]), np.int64), g_z, layer=l, tensor="G_b")[0]
            new_b[l] = _update(ctx, weights.b[l], rec["G_b"], l, "b")
        if l > 0:
            prev = recs[l - 1]
            prev["G_A"] = ctx.matmul(g_z, w.T, layer=l - 1, tensor="G_A")
            prev["G_A_rescaled"], prev["R_GA"] = rescale(prev["G_A"], ctx.quant.shift)
            g_z = prev["S"] * prev["G_A_rescaled"]
    return recs, Weights(tuple(new_w), tuple(new_b) if weights.b is not None else None)


def _update(ctx: _Ctx, old: np.ndarray, grad: np.ndarray, layer: int, tensor: str) -> np.ndarray:
    """old - grad, exactly; stops (naming ``tensor``) if it would leave int64."""
    new = checked_sub(old, grad)
    if new is None:
        raise ctx.overflow(tensor, INT64_BITS + 1, layer)
    ctx.note(tensor, bit_width(new), layer)
    return new


def input_activations(X: np.ndarray, data_frac_bits: int, quant: QuantParams) -> np.ndarray:
    """Data features (scale 2^data_frac_bits) as layer-0 activations at scale 2^R, exactly."""
    lift = quant.frac_bits - data_frac_bits
    if lift < 0:
        raise SpecError(f"the data has {data_frac_bits} fractional bits, more than R = {quant.frac_bits}")
    if bit_width(X) + lift > INT64_BITS:
        raise SpecError(f"input features do not fit int64 at scale 2^{quant.frac_bits}")
    return X.astype(np.int64) << lift


def output_scores(weights: Weights, quant: QuantParams, X: np.ndarray, data_frac_bits: int) -> np.ndarray:
    """The output layer's Z' (int64 [n, classes], scale 2^R) for features ``X``: the forward pass of
    a training step, exactly, with its range checks (an overflow is a `TrainingOverflowError`)."""
    ctx = _Ctx(quant)
    return _forward(ctx, weights, input_activations(X, data_frac_bits, quant))[-1]["Z_rescaled"]


def predict(weights: Weights, quant: QuantParams, X: np.ndarray, data_frac_bits: int) -> np.ndarray:
    """Class predictions of the quantised network (argmax of the output Z'), exact integer inference."""
    return np.argmax(output_scores(weights, quant, X, data_frac_bits), axis=1)


def accuracy(weights: Weights, quant: QuantParams, X: np.ndarray, y: np.ndarray, data_frac_bits: int) -> float:
    """Fraction of rows the quantised network classifies correctly."""
    return float(np.mean(predict(weights, quant, X, data_frac_bits) == y))


def train(
    spec: TrainSpec,
    data: Dataset,
    *,
    initial: Weights | None = None,
    record_witness: bool = True,
    progress: bool = False,
) -> TrainingRun:
    """Run ``spec.steps`` exact SGD steps on ``data`` and return the run (with its witness if asked).

    ``initial`` defaults to the seeded He-uniform init of ``spec.init_seed``. Raises
    `TrainingOverflowError` as soon as a value leaves its bit range.
    """
    _check_fit(spec, data)
    initial = initial if initial is not None else init_weights(spec.model, spec.quant, spec.init_seed)
    initial.check(spec.model)
    started = time.perf_counter()
    q = spec.quant
    X = input_activations(data.X_train, data.frac_bits, q)
    Y = one_hot(data.y_train, data.classes, q.act_exp)
    batches = schedule(spec.schedule_seed, X.shape[0], spec.batch, spec.steps)
    recorder = Recorder(spec) if record_witness else None
    ctx = _Ctx(q)
    weights = initial
    for t in tqdm(range(spec.steps), desc="training", unit="step", disable=not progress):
        ctx.step = t
        idx = batches[t]
        recs, new_weights = _sgd_step(ctx, weights, X[idx], Y[idx])
        if recorder is not None:
            recorder.record(t, recs)
        weights = new_weights
    seconds = time.perf_counter() - started
    stats = RunStats(
        train_accuracy=accuracy(weights, q, data.X_train, data.y_train, data.frac_bits),
        test_accuracy=accuracy(weights, q, data.X_test, data.y_test, data.frac_bits) if data.test_idx.size else None,
        max_bits=dict(sorted(ctx.max_bits.items())),
        seconds=round(seconds, 3),
    )
    witness = recorder.finish(initial, weights) if recorder is not None else None
    return TrainingRun(spec, DataRef.of(data), batches, initial, weights, witness, stats)


def _check_fit(spec: TrainSpec, data: Dataset) -> None:
    """The network's input and output widths must match the data set."""
    if spec.model.widths[0] != data.n_features or spec.model.widths[-1] != data.classes:
        raise SpecError(f"model widths {list(spec.model.widths)} do not fit the data ({data.n_features} features, {data.classes} classes)")
