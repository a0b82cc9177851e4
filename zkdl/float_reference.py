"""The float32 reference trainer: the yardstick for the accuracy of the fixed-point trainer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkdl.data import Dataset, schedule
from zkdl.model import TrainSpec, Weights
from zkdl.quant import dequantize


@dataclass(frozen=True)
class FloatRun:
    """Result of the float32 reference trainer."""

    w: tuple[np.ndarray, ...]
    b: tuple[np.ndarray, ...] | None
    train_accuracy: float
    test_accuracy: float


def train_float_reference(spec: TrainSpec, data: Dataset, initial: Weights) -> FloatRun:
    """The same training in float32 numpy: same init (dequantised, rounded to float32), same schedule,
    same learning rate 2^-e, same loss 1/2 sum_batch |z - y|^2, no rounding of activations or
    gradients. It is the yardstick for the accuracy of the fixed-point trainer."""
    q = spec.quant
    w = [dequantize(x, q.weight_exp).astype(np.float32) for x in initial.w]
    b = [dequantize(x, q.bias_exp).astype(np.float32) for x in initial.b] if initial.b is not None else None
    X = dequantize(data.X_train, data.frac_bits).astype(np.float32)
    Y = np.eye(data.classes, dtype=np.float32)[data.y_train]
    lr = np.float32(q.learning_rate)
    for idx in schedule(spec.schedule_seed, X.shape[0], spec.batch, spec.steps):
        acts, zs = _float_forward(w, b, X[idx])
        g = zs[-1] - Y[idx]
        for l in range(len(w) - 1, -1, -1):
            g_w = acts[l].T @ g
            g_prev = (g @ w[l].T) * (zs[l - 1] >= 0) if l > 0 else None
            w[l] -= lr * g_w
            if b is not None:
                b[l] -= lr * g.sum(axis=0)
            g = g_prev
    return FloatRun(
        tuple(w),
        tuple(b) if b is not None else None,
        _float_accuracy(w, b, dequantize(data.X_train, data.frac_bits), data.y_train),
        _float_accuracy(w, b, dequantize(data.X_test, data.frac_bits), data.y_test),
    )


def _float_forward(w: list[np.ndarray], b: list[np.ndarray] | None, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Float forward pass: the layer inputs and the pre-activations."""
    acts, zs = [x], []
    for l, wl in enumerate(w):
        z = acts[-1] @ wl + (b[l] if b is not None else 0)
        zs.append(z)
        if l < len(w) - 1:
            acts.append(np.maximum(z, 0))
    return acts, zs


def _float_accuracy(w: list[np.ndarray], b: list[np.ndarray] | None, X: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of the float network."""
    return float(np.mean(np.argmax(_float_forward(w, b, X.astype(np.float32))[1][-1], axis=1) == y))
