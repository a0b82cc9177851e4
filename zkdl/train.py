"""Exact fixed-point SGD that records the witness of every step, a float reference, and run directories.

`train` runs T steps of the integer SGD defined in `zkdl.quant` on the batches of the public schedule
(`zkdl.data.schedule`) and records, per step and layer, every tensor the proof needs at its exact
integer value (`StepWitness`, `LayerWitness`). Every integer matrix product goes through the backend's
kernel `zkdl.backend.matmul_i64` (exact, 128-bit accumulation); Z and G_A are checked against
``range_bits`` and weights against int64, and any violation stops training with a
`TrainingOverflowError` naming step, layer and tensor.

Run directory, format version 1:

* ``run.json``: ``{"format": "zkdl-run", "version": 1, "spec": TrainSpec.to_dict(), "data": DataRef,
  "schedule": {"algorithm", "seed"}, "stats": RunStats, "witness": "witness.npz" or null}``
* ``weights_initial.npz``, ``weights_final.npz``: ``W0``, ``W1``, .. (and ``b0``, ..), int64.
* ``witness.npz``: every tensor stacked over the steps (leading axis T, real shapes, int64):
  ``batch`` [T, B] (training-set indices), ``Y`` [T, B, C] (one-hot at 2^R), and per layer l
  ``layer{l}.{name}`` for the names of `LayerWitness` that apply to the layer.

The digits run (64-128-128-10, batch 64, 220 steps) holds about 1.8 MB of witness per step, about
390 MB in all (memory and disk; the file is not compressed).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from zkdl import backend
from zkdl.data import SCHEDULE_ALGORITHM, Dataset, one_hot, schedule
from zkdl.errors import RunFormatError, SpecError, TrainingOverflowError
from zkdl.model import ModelSpec, TrainSpec, Weights, init_weights, load_weights
from zkdl.quant import INT64_BITS, QuantParams, bit_width, checked_sub, dequantize, rescale, sign_bits

RUN_FORMAT = "zkdl-run"
RUN_VERSION = 1
RANGE_CHECKED = ("Z", "G_A")
_SCALE_EXPS = {
    "Z": lambda q: q.product_exp,
    "G_A": lambda q: q.product_exp,
    "G_W": lambda q: q.weight_exp - q.lr_exp,
    "W": lambda q: q.weight_exp,
    "G_b": lambda q: q.act_exp,
    "b": lambda q: q.bias_exp,
}


@dataclass(frozen=True)
class LayerWitness:
    """One layer's tensors at one step (int64; None where a tensor does not apply).

    ``Z_rescaled`` is Z', ``G_A_rescaled`` is G_A'. ``S``, ``A_out``, ``G_A``, ``G_A_rescaled`` and
    ``R_GA`` exist for hidden layers only (G_A is the gradient of this layer's output A_out, computed
    from the next layer); ``b`` and ``G_b`` only with biases. ``W`` and ``b`` are the values used at
    this step (before its update).
    """

    A_in: np.ndarray
    W: np.ndarray
    b: np.ndarray | None
    Z: np.ndarray
    Z_rescaled: np.ndarray
    R_Z: np.ndarray
    S: np.ndarray | None
    A_out: np.ndarray | None
    G_A: np.ndarray | None
    G_A_rescaled: np.ndarray | None
    R_GA: np.ndarray | None
    G_Z: np.ndarray
    G_W: np.ndarray
    G_b: np.ndarray | None


LAYER_TENSORS = tuple(f.name for f in fields(LayerWitness))
HIDDEN_ONLY = frozenset({"S", "A_out", "G_A", "G_A_rescaled", "R_GA"})
BIAS_ONLY = frozenset({"b", "G_b"})


@dataclass(frozen=True)
class StepWitness:
    """One step: the batch (training-set indices), its one-hot targets Y, and every layer's tensors."""

    batch: np.ndarray
    Y: np.ndarray
    layers: tuple[LayerWitness, ...]


class Witness:
    """All steps' tensors, stacked over steps in preallocated arrays (see the module docstring)."""

    def __init__(self, arrays: dict[str, np.ndarray], model: ModelSpec) -> None:
        self.arrays = arrays
        self.model = model

    @classmethod
    def allocate(cls, spec: TrainSpec, classes: int) -> Witness:
        """Empty stacks for ``spec.steps`` steps."""
        T, B = spec.steps, spec.batch
        arrays = {"batch": np.empty((T, B), np.int64), "Y": np.empty((T, B, classes), np.int64)}
        for l, (d_in, d_out) in enumerate(spec.model.shapes()):
            for name in tensor_names(spec.model, l):
                arrays[f"layer{l}.{name}"] = np.empty((T, *_shape(name, B, d_in, d_out)), np.int64)
        return cls(arrays, spec.model)

    @property
    def steps(self) -> int:
        """T."""
        return int(self.arrays["batch"].shape[0])

    @property
    def nbytes(self) -> int:
        """Total size of the stacked arrays."""
        return sum(a.nbytes for a in self.arrays.values())

    def record(self, t: int, step: StepWitness) -> None:
        """Copy one step into the stacks."""
        self.arrays["batch"][t] = step.batch
        self.arrays["Y"][t] = step.Y
        for l, layer in enumerate(step.layers):
            for name in tensor_names(self.model, l):
                self.arrays[f"layer{l}.{name}"][t] = getattr(layer, name)

    def step(self, t: int) -> StepWitness:
        """Step t as dataclasses of views into the stacks."""
        layers = tuple(
            LayerWitness(
                **{
                    name: self.arrays[f"layer{l}.{name}"][t] if name in tensor_names(self.model, l) else None
                    for name in LAYER_TENSORS
                }
            )
            for l in range(self.model.n_layers)
        )
        return StepWitness(self.arrays["batch"][t], self.arrays["Y"][t], layers)

    def save(self, path: Path) -> None:
        """Write ``witness.npz`` (uncompressed: it is read back by the prover)."""
        np.savez(path, **self.arrays)

    @classmethod
    def load(cls, path: Path, spec: TrainSpec, classes: int) -> Witness:
        """Read ``witness.npz`` and check that its keys and shapes match ``spec``."""
        expected = cls.allocate(TrainSpec(spec.model, spec.quant, spec.batch, 0, 0, 0), classes)
        with np.load(path) as z:
            if set(z.files) != set(expected.arrays):
                raise RunFormatError(f"{path}: keys {sorted(z.files)} do not match the spec")
            arrays = {k: z[k] for k in z.files}
        for k, a in arrays.items():
            if a.dtype != np.int64 or a.shape[1:] != expected.arrays[k].shape[1:] or a.shape[0] != spec.steps:
                raise RunFormatError(
                    f"{path}: {k} has {a.dtype}{list(a.shape)}, which does not match the spec"
                )
        return cls(arrays, spec.model)


def tensor_names(model: ModelSpec, layer: int) -> tuple[str, ...]:
    """The `LayerWitness` fields recorded for ``layer`` of ``model``."""
    hidden = layer < model.n_layers - 1
    return tuple(
        n for n in LAYER_TENSORS if (hidden or n not in HIDDEN_ONLY) and (model.bias or n not in BIAS_ONLY)
    )


def _shape(name: str, B: int, d_in: int, d_out: int) -> tuple[int, ...]:
    """The per-step shape of a layer tensor."""
    return {"A_in": (B, d_in), "W": (d_in, d_out), "G_W": (d_in, d_out), "b": (d_out,), "G_b": (d_out,)}.get(
        name, (B, d_out)
    )


@dataclass(frozen=True)
class DataRef:
    """What a run records about its data set: a name, its shape and the digests that bind it."""

    name: str
    digest: str
    test_digest: str
    n_train: int
    n_test: int
    n_features: int
    classes: int
    frac_bits: int

    @classmethod
    def of(cls, data: Dataset) -> DataRef:
        """The reference of a loaded data set."""
        return cls(
            name=data.name,
            digest=data.train_digest(),
            test_digest=data.test_digest(),
            n_train=int(data.train_idx.size),
            n_test=int(data.test_idx.size),
            n_features=data.n_features,
            classes=data.classes,
            frac_bits=data.frac_bits,
        )


@dataclass(frozen=True)
class RunStats:
    """Outcome figures: accuracies (fractions; no test accuracy without a test split), the largest
    bit width seen per tensor over all steps and layers, and the training wall time in seconds."""

    train_accuracy: float
    test_accuracy: float | None
    max_bits: dict[str, int]
    seconds: float


@dataclass(frozen=True)
class TrainingRun:
    """A finished run: its public spec, data reference, schedule, weights, witness and figures."""

    spec: TrainSpec
    data: DataRef
    schedule: np.ndarray
    initial: Weights
    final: Weights
    witness: Witness | None
    stats: RunStats

    def save(self, directory: Path | str) -> Path:
        """Write the run directory (see the module docstring); returns its path."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        self.initial.save(out / "weights_initial.npz")
        self.final.save(out / "weights_final.npz")
        if self.witness is not None:
            self.witness.save(out / "witness.npz")
        meta = {
            "format": RUN_FORMAT,
            "version": RUN_VERSION,
            "spec": self.spec.to_dict(),
            "data": asdict(self.data),
            "schedule": {"algorithm": SCHEDULE_ALGORITHM, "seed": self.spec.schedule_seed},
            "stats": asdict(self.stats),
            "witness": "witness.npz" if self.witness is not None else None,
        }
        (out / "run.json").write_text(json.dumps(meta, indent=2) + "\n")
        return out


def load_run(directory: Path | str, *, with_witness: bool = True) -> TrainingRun:
    """Read a run directory written by `TrainingRun.save` (the schedule is re-derived from its seed)."""
    root = Path(directory)
    try:
        meta = json.loads((root / "run.json").read_text())
    except (OSError, ValueError) as exc:
        raise RunFormatError(f"{root}: cannot read run.json ({exc})") from None
    if meta.get("format") != RUN_FORMAT or meta.get("version") != RUN_VERSION:
        raise RunFormatError(f"{root}: not a {RUN_FORMAT} version {RUN_VERSION} directory")
    spec = TrainSpec.from_dict(meta["spec"])
    data = DataRef(**meta["data"])
    weights = [load_weights(root / f"weights_{k}.npz", spec.quant) for k in ("initial", "final")]
    for w in weights:
        w.check(spec.model)
    witness = None
    if with_witness and meta.get("witness"):
        witness = Witness.load(root / meta["witness"], spec, data.classes)
    return TrainingRun(
        spec=spec,
        data=data,
        schedule=schedule(spec.schedule_seed, data.n_train, spec.batch, spec.steps),
        initial=weights[0],
        final=weights[1],
        witness=witness,
        stats=RunStats(**meta["stats"]),
    )


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


def _sgd_step(
    ctx: _Ctx, weights: Weights, a0: np.ndarray, y: np.ndarray
) -> tuple[list[dict[str, np.ndarray]], Weights]:
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


def predict(weights: Weights, quant: QuantParams, X: np.ndarray, data_frac_bits: int) -> np.ndarray:
    """Class predictions of the quantised network (argmax of the output Z'), exact integer inference."""
    ctx = _Ctx(quant)
    recs = _forward(ctx, weights, input_activations(X, data_frac_bits, quant))
    return np.argmax(recs[-1]["Z_rescaled"], axis=1)


def accuracy(
    weights: Weights, quant: QuantParams, X: np.ndarray, y: np.ndarray, data_frac_bits: int
) -> float:
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
    witness = Witness.allocate(spec, data.classes) if record_witness else None
    ctx = _Ctx(q)
    weights = initial
    for t in tqdm(range(spec.steps), desc="training", unit="step", disable=not progress):
        ctx.step = t
        idx = batches[t]
        recs, new_weights = _sgd_step(ctx, weights, X[idx], Y[idx])
        if witness is not None:
            layers = tuple(LayerWitness(**{n: r.get(n) for n in LAYER_TENSORS}) for r in recs)
            witness.record(t, StepWitness(idx, Y[idx], layers))
        weights = new_weights
    seconds = time.perf_counter() - started
    stats = RunStats(
        train_accuracy=accuracy(weights, q, data.X_train, data.y_train, data.frac_bits),
        test_accuracy=accuracy(weights, q, data.X_test, data.y_test, data.frac_bits)
        if data.test_idx.size
        else None,
        max_bits=dict(sorted(ctx.max_bits.items())),
        seconds=round(seconds, 3),
    )
    return TrainingRun(spec, DataRef.of(data), batches, initial, weights, witness, stats)


def _check_fit(spec: TrainSpec, data: Dataset) -> None:
    """The network's input and output widths must match the data set."""
    if spec.model.widths[0] != data.n_features or spec.model.widths[-1] != data.classes:
        raise SpecError(
            f"model widths {list(spec.model.widths)} do not fit the data "
            f"({data.n_features} features, {data.classes} classes)"
        )


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


def _float_forward(
    w: list[np.ndarray], b: list[np.ndarray] | None, x: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
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


def run_summary(run: TrainingRun) -> dict[str, Any]:
    """The machine-readable summary `zkdl train --json` prints."""
    return {
        "steps": run.spec.steps,
        "data": run.data.name,
        "data_digest": run.data.digest,
        **asdict(run.stats),
        "witness_bytes": run.witness.nbytes if run.witness is not None else 0,
    }
