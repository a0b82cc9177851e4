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
    # the largest magnitude of Z, G_A and W over every step and layer (inf once the run diverged):
    # what `zkdl.calibrate` sizes the fixed-point scales by
    max_abs: dict[str, float]


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
    peaks = _Peaks()
    peaks.see("W", w)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run shows as an infinite peak
        for idx in schedule(spec.schedule_seed, X.shape[0], spec.batch, spec.steps):
            acts, zs = _float_forward(w, b, X[idx])
            peaks.see("Z", zs)
            g = zs[-1] - Y[idx]
            for l in range(len(w) - 1, -1, -1):
                g_w = acts[l].T @ g
                g_a = g @ w[l].T if l > 0 else None
                w[l] -= lr * g_w
                if b is not None:
                    b[l] -= lr * g.sum(axis=0)
                if g_a is not None:
                    peaks.see("G_A", [g_a])
                g = g_a * (zs[l - 1] >= 0) if g_a is not None else None
            peaks.see("W", w)
            if peaks.diverged:
                break
        train_acc, test_acc = (_float_accuracy(w, b, dequantize(part, data.frac_bits), y) for part, y in
                               ((data.X_train, data.y_train), (data.X_test, data.y_test)))  # fmt: skip
    return FloatRun(tuple(w), tuple(b) if b is not None else None, train_acc, test_acc, peaks.values)


class _Peaks:
    """Running maxima of |tensor| by name; a non-finite value makes the peak infinite."""

    def __init__(self) -> None:
        self.values: dict[str, float] = {}

    def see(self, name: str, arrays: list[np.ndarray]) -> None:
        peak = max(float(np.max(np.abs(a))) if a.size else 0.0 for a in arrays)
        self.values[name] = max(self.values.get(name, 0.0), peak if np.isfinite(peak) else np.inf)

    @property
    def diverged(self) -> bool:
        return not all(np.isfinite(v) for v in self.values.values())


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
