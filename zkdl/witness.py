"""The witness of a training run: what the trainer records because the prover cannot recompute it.

Per step t and layer l the prover reads Z (the pre-activation), G_A (hidden layers: the gradient of
the layer's output) and the weights W_t, b_t used at the step. Everything else of a step (A_in, Z',
S, A_out, G_Z, G_W, the batch and its targets) follows from these, the public schedule and the data
set by the definitions of docs/protocol.md §3; the prover builds it that way, and the independent
replay (tests/test_replay.py) recomputes it from W_0 and checks every recorded value. W_t is
recorded although it is W_0 minus the earlier updates: a chunk of the proof starts at any step, and
replaying the steps before it would cost it the whole forward and backward pass of each.

``witness.npz`` holds the arrays stacked over the steps (leading axis T, real shapes, int64):
``layer{l}.Z`` [T, B, d_(l+1)], ``layer{l}.G_A`` [T, B, d_(l+1)] (hidden layers),
``layer{l}.W`` [T, d_l, d_(l+1)] and ``layer{l}.b`` [T, d_(l+1)] (with biases). The digits run
(64-128-128-10, batch 64, 220 steps) records about 0.5 MB per step.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zkdl.errors import RunFormatError
from zkdl.model import ModelSpec, TrainSpec, Weights

RECORDED = ("Z", "G_A", "W", "b")


@dataclass(frozen=True)
class Witness:
    """A run's witness: its spec, W_0, W_T and the recorded tensors of every step (module docstring)."""

    spec: TrainSpec
    initial: Weights
    final: Weights
    arrays: Mapping[str, np.ndarray]

    @property
    def steps(self) -> int:
        """T."""
        return self.spec.steps

    @property
    def nbytes(self) -> int:
        """Total size of the recorded arrays."""
        return sum(a.nbytes for a in self.arrays.values())

    def recorded(self, layer: int, name: str, first: int, steps: int) -> np.ndarray:
        """The record of `name` at `layer` over steps first .. first + steps − 1."""
        return self.arrays[f"layer{layer}.{name}"][first : first + steps]

    def weights_at(self, t: int) -> Weights:
        """W_t and b_t: the weights used at step t, or the final weights for t = T."""
        if t == self.steps:
            return self.final
        layers = range(self.spec.model.n_layers)
        biases = tuple(self.arrays[f"layer{l}.b"][t] for l in layers) if self.spec.model.bias else None
        return Weights(tuple(self.arrays[f"layer{l}.W"][t] for l in layers), biases)

    def save(self, path: Path) -> None:
        """Write ``witness.npz`` (uncompressed: the prover reads it back)."""
        np.savez(path, **self.arrays)  # type: ignore[arg-type]  # numpy's stub reads **arrays as allow_pickle

    @classmethod
    def load(cls, path: Path, spec: TrainSpec, initial: Weights, final: Weights) -> Witness:
        """Read ``witness.npz`` and check that its keys and shapes are the ones `spec` records."""
        expected = shapes(spec)
        try:
            with np.load(path) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            raise RunFormatError(f"{path}: cannot read the witness ({exc}); train the run again") from None
        if set(arrays) != set(expected):
            raise RunFormatError(f"{path}: keys {sorted(arrays)} are not the ones the spec records {sorted(expected)}")
        for k, a in arrays.items():
            if a.dtype != np.int64 or a.shape != expected[k]:
                raise RunFormatError(f"{path}: {k} is {a.dtype}{list(a.shape)}, the spec needs int64{list(expected[k])}")
        return cls(spec, initial, final, arrays)


class Recorder:
    """Preallocated stacks the trainer fills step by step; `finish` makes the witness."""

    def __init__(self, spec: TrainSpec) -> None:
        self.spec = spec
        self.arrays = {k: np.empty(shape, np.int64) for k, shape in shapes(spec).items()}

    def record(self, t: int, layers: Sequence[Mapping[str, np.ndarray]]) -> None:
        """Copy step t's recorded tensors out of the trainer's per-layer values."""
        for l, values in enumerate(layers):
            for name in recorded_names(self.spec.model, l):
                self.arrays[f"layer{l}.{name}"][t] = values[name]

    def finish(self, initial: Weights, final: Weights) -> Witness:
        return Witness(self.spec, initial, final, self.arrays)


def recorded_names(model: ModelSpec, layer: int) -> tuple[str, ...]:
    """The tensors recorded for `layer`: G_A for hidden layers only, b with biases only."""
    hidden = layer < model.n_layers - 1
    return tuple(n for n in RECORDED if (hidden or n != "G_A") and (model.bias or n != "b"))


def shapes(spec: TrainSpec) -> dict[str, tuple[int, ...]]:
    """Each recorded array's shape, steps first."""
    T, B = spec.steps, spec.batch
    out = {}
    for l, (d_in, d_out) in enumerate(spec.model.shapes()):
        per_step = {"Z": (B, d_out), "G_A": (B, d_out), "W": (d_in, d_out), "b": (d_out,)}
        out.update({f"layer{l}.{n}": (T, *per_step[n]) for n in recorded_names(spec.model, l)})
    return out
