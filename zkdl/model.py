"""Network and training specifications, integer weights, initialisation, and imports (PyTorch, .npz).

The network is an MLP: ``widths = (d_0, d_1, .., d_L)`` gives L fully connected layers, ReLU after
every layer but the last, an optional bias on every layer. Weights are stored as W[l] of shape
[d_l, d_(l+1)] (input-major, so Z = A_in W), at the weight scale 2^(2R+e), and biases at 2^(R+e)
(see `zkdl.quant`).

A spec file (TOML or JSON) has up to three tables; every key is optional and command-line flags
override them::

    [model]
    hidden = [128, 128]        # or widths = [64, 128, 128, 10]; input/output widths come from the data
    bias = false
    [quant]
    frac_bits = 16             # R
    lr_exp = 10                # e: eta = 2^-e
    range_bits = 64
    [train]
    data = "digits"            # or a .npz / .csv path
    batch = 64
    epochs = 10                # or steps = 220
    schedule_seed = 0
    init_seed = 0
"""

from __future__ import annotations

import hashlib
import json
import tomllib
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from math import isqrt
from pathlib import Path
from typing import Any

import numpy as np

from zkdl.errors import SpecError
from zkdl.quant import QuantParams, quantize

INIT_DOMAIN = b"zkdl/init/v1"
DEFAULT_HIDDEN = (128, 128)
DEFAULT_BATCH = 64
DEFAULT_EPOCHS = 10


@dataclass(frozen=True)
class ModelSpec:
    """Layer widths (input first, output last) and whether every layer has a bias."""

    widths: tuple[int, ...]
    bias: bool = False

    def __post_init__(self) -> None:
        if len(self.widths) < 2 or any(int(w) < 1 for w in self.widths):
            raise SpecError(f"widths need an input and an output width, all positive: {self.widths}")

    @property
    def n_layers(self) -> int:
        """L, the number of weight layers."""
        return len(self.widths) - 1

    def shapes(self) -> list[tuple[int, int]]:
        """[(d_l, d_(l+1))] for every layer l."""
        return list(zip(self.widths[:-1], self.widths[1:]))

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON form."""
        return {"widths": list(self.widths), "bias": self.bias}


@dataclass(frozen=True)
class TrainSpec:
    """Everything public about a training run except the data: the proven statement's parameters."""

    model: ModelSpec
    quant: QuantParams
    batch: int
    steps: int
    schedule_seed: int
    init_seed: int

    def __post_init__(self) -> None:
        if self.batch < 1 or self.steps < 0:
            raise SpecError(f"batch must be positive and steps non-negative: {self.batch}, {self.steps}")
        for name in ("schedule_seed", "init_seed"):  # both are u64 fields of the proven statement
            if not 0 <= getattr(self, name) < 2**64:
                raise SpecError(f"{name} must be an unsigned 64-bit integer, got {getattr(self, name)}")

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON form (stored in run.json)."""
        return {
            "model": self.model.to_dict(),
            "quant": self.quant.to_dict(),
            "train": {
                "batch": self.batch,
                "steps": self.steps,
                "schedule_seed": self.schedule_seed,
                "init_seed": self.init_seed,
            },
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainSpec:
        """Inverse of `to_dict`."""
        try:
            model, quant, train = d["model"], d["quant"], d["train"]
            return cls(
                model=ModelSpec(tuple(int(w) for w in model["widths"]), bool(model["bias"])),
                quant=QuantParams(**{k: int(v) for k, v in quant.items()}),
                batch=int(train["batch"]),
                steps=int(train["steps"]),
                schedule_seed=int(train["schedule_seed"]),
                init_seed=int(train["init_seed"]),
            )
        except (KeyError, TypeError) as exc:
            raise SpecError(f"malformed training spec: {exc!r}") from None


@dataclass(frozen=True)
class Weights:
    """Integer weights W[l] (int64 [d_l, d_(l+1)], scale 2^(2R+e)), optional biases b[l] (2^(R+e))."""

    w: tuple[np.ndarray, ...]
    b: tuple[np.ndarray, ...] | None = None

    def check(self, model: ModelSpec) -> None:
        """Raise SpecError unless the shapes, dtypes and bias presence match ``model``."""
        if len(self.w) != model.n_layers or (self.b is not None) != model.bias:
            raise SpecError(f"weights do not match the model: {len(self.w)} layers, bias {self.b is not None}")
        for l, (w, shape) in enumerate(zip(self.w, model.shapes())):
            if w.dtype != np.int64 or w.shape != shape:
                raise SpecError(f"layer {l}: W is {w.dtype}{list(w.shape)}, expected int64{list(shape)}")
            if self.b is not None and (self.b[l].dtype != np.int64 or self.b[l].shape != (shape[1],)):
                raise SpecError(f"layer {l}: b must be int64[{shape[1]}]")

    def to_arrays(self) -> dict[str, np.ndarray]:
        """npz form: ``W0``, ``W1``, .. and ``b0``, .. when there are biases."""
        arrays = {f"W{l}": w for l, w in enumerate(self.w)}
        if self.b is not None:
            arrays.update({f"b{l}": b for l, b in enumerate(self.b)})
        return arrays

    def save(self, path: Path) -> None:
        """Write the npz form."""
        np.savez(path, **self.to_arrays())  # type: ignore[arg-type]  # numpy's stub reads **arrays as allow_pickle

    def equals(self, other: Weights) -> bool:
        """Exact equality of every weight and bias."""
        same_w = len(self.w) == len(other.w) and all(np.array_equal(a, c) for a, c in zip(self.w, other.w))
        if self.b is None or other.b is None:
            return same_w and self.b is other.b
        return same_w and all(np.array_equal(a, c) for a, c in zip(self.b, other.b))


def load_weights(path: Path | str, quant: QuantParams) -> Weights:
    """Read weights from npz keys ``W0``.. (and ``b0``..).

    Integer arrays are taken as already at the weight (bias) scale; float arrays are real values and
    are quantised (rounded) to the scale. Layout is [d_in, d_out] (transpose PyTorch's [out, in]).
    """
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise SpecError(f"{path}: not a readable .npz of weights ({type(exc).__name__}): give the W0, W1, .. arrays as an .npz") from None
    with z:
        n = sum(1 for k in z.files if k.startswith("W"))
        if n == 0 or any(f"W{l}" not in z.files for l in range(n)):
            raise SpecError(f"{path}: expected arrays W0, W1, .. (and optionally b0, ..)")
        w = tuple(_to_scale(z[f"W{l}"], quant.weight_exp) for l in range(n))
        has_b = any(k.startswith("b") for k in z.files)
        b = tuple(_to_scale(z[f"b{l}"], quant.bias_exp) for l in range(n)) if has_b else None
    return Weights(w, b)


def _to_scale(x: np.ndarray, exp: int) -> np.ndarray:
    """Integers as they are, floats quantised to scale 2^exp."""
    return x.astype(np.int64) if np.issubdtype(x.dtype, np.integer) else quantize(x, exp)


def init_weights(model: ModelSpec, quant: QuantParams, seed: int) -> Weights:
    """He-uniform initialisation at the weight scale, exactly reproducible from ``seed``.

    W[l] is uniform over the integers [−a_l, a_l] with a_l = floor(sqrt(6/fan_in)·2^weight_exp) (an
    integer square root), drawn as little-endian u64 words of SHAKE-256("zkdl/init/v1" ‖ seed u64 ‖
    l u32) reduced mod 2·a_l + 1 (a bias below a_l/2^63 per value); biases start at zero. Only
    integer arithmetic and a FIPS 202 hash: a verifier recomputes these weights bit for bit on any
    machine, which is how a statement of a seeded run proves where its W_0 came from.
    """
    w = tuple(
        _uniform_integers(seed, l, (fan_in, fan_out), isqrt(6 * 4**quant.weight_exp // fan_in))
        for l, (fan_in, fan_out) in enumerate(model.shapes())
    )
    b = tuple(np.zeros(d, dtype=np.int64) for d in model.widths[1:]) if model.bias else None
    return Weights(w, b)


def _uniform_integers(seed: int, layer: int, shape: tuple[int, int], bound: int) -> np.ndarray:
    """Integers in [−bound, bound] from SHAKE-256 of the seed and the layer (`init_weights`)."""
    stream = hashlib.shake_256(INIT_DOMAIN + seed.to_bytes(8, "big") + layer.to_bytes(4, "big"))
    words = np.frombuffer(stream.digest(8 * shape[0] * shape[1]), dtype="<u8")
    return ((words % np.uint64(2 * bound + 1)).astype(np.int64) - bound).reshape(shape)


def from_torch(module: Any, quant: QuantParams) -> tuple[ModelSpec, Weights]:
    """Import a PyTorch ``nn.Sequential`` of Linear and ReLU layers (Linear, ReLU, .., Linear).

    Duck-typed on the module class names and on ``.weight`` / ``.bias`` tensors read through
    ``.detach().cpu().numpy()``, so zkdl never imports torch itself. PyTorch stores weights as
    [out, in]; they are transposed to zkdl's [in, out] and quantised to the weight scale.
    """
    layers = list(_children(module))
    kinds = [type(m).__name__ for m in layers]
    expected = ["Linear" if i % 2 == 0 else "ReLU" for i in range(len(layers))]
    if not layers or kinds != expected or kinds[-1] != "Linear":
        raise SpecError(f"expected Linear, ReLU, .., Linear; got {', '.join(kinds) or 'nothing'}")
    linears = layers[::2]
    has_bias = [getattr(m, "bias", None) is not None for m in linears]
    if len(set(has_bias)) != 1:
        raise SpecError("either every Linear layer has a bias or none has")
    w = tuple(quantize(_numpy(m.weight).T, quant.weight_exp) for m in linears)
    b = tuple(quantize(_numpy(m.bias), quant.bias_exp) for m in linears) if has_bias[0] else None
    widths = (w[0].shape[0], *(x.shape[1] for x in w))
    model = ModelSpec(tuple(int(v) for v in widths), has_bias[0])
    weights = Weights(w, b)
    weights.check(model)
    return model, weights


def _children(module: Any) -> Iterable[Any]:
    """The layers of a Sequential (iterable) or of anything with ``.children()``."""
    return module.children() if hasattr(module, "children") else iter(module)


def _numpy(tensor: Any) -> np.ndarray:
    """A torch tensor (or look-alike) as a float64 numpy array."""
    return np.asarray(tensor.detach().cpu().numpy(), dtype=np.float64)


def read_spec_file(path: Path | str) -> dict[str, Any]:
    """Parse a TOML (``.toml``) or JSON spec file into a mapping (see the module docstring)."""
    path = Path(path)
    try:
        if path.suffix == ".toml":
            return tomllib.loads(path.read_text())
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        raise SpecError(f"cannot read spec file {path}: {exc}") from None


def resolve_spec(mapping: Mapping[str, Any], *, n_features: int, classes: int, n_train: int) -> TrainSpec:
    """Build a TrainSpec from a spec-file mapping, filling in widths and steps from the data."""
    if set(mapping) - {"model", "quant", "train"}:
        raise SpecError(f"unknown spec tables: {', '.join(sorted(set(mapping) - {'model', 'quant', 'train'}))}")
    model = dict(mapping.get("model", {}))
    quant = dict(mapping.get("quant", {}))
    train = dict(mapping.get("train", {}))
    unknown = set(model) - {"widths", "hidden", "bias"} | set(train) - {
        "data",
        "batch",
        "epochs",
        "steps",
        "schedule_seed",
        "init_seed",
    }
    if unknown:
        raise SpecError(f"unknown spec keys: {', '.join(sorted(unknown))}")
    widths = _widths(model, n_features, classes)
    batch = int(train.get("batch", DEFAULT_BATCH))
    if "steps" in train and "epochs" in train:
        raise SpecError("give either steps or epochs, not both")
    steps = int(train["steps"]) if "steps" in train else int(train.get("epochs", DEFAULT_EPOCHS)) * (n_train // batch)
    if steps < 1:
        raise SpecError(f"the run would have {steps} steps: give --steps N ≥ 1 (or enough epochs and samples for one batch)")
    try:
        q = QuantParams(**{k: int(v) for k, v in quant.items()})
    except TypeError as exc:
        raise SpecError(f"bad [quant] table: {exc}") from None
    return TrainSpec(
        model=ModelSpec(widths, bool(model.get("bias", False))),
        quant=q,
        batch=batch,
        steps=steps,
        schedule_seed=int(train.get("schedule_seed", 0)),
        init_seed=int(train.get("init_seed", 0)),
    )


def _widths(model: Mapping[str, Any], n_features: int, classes: int) -> tuple[int, ...]:
    """Full widths from ``widths`` (checked against the data) or ``hidden`` (default 128, 128)."""
    if "widths" in model and "hidden" in model:
        raise SpecError("give either widths or hidden, not both")
    if "widths" in model:
        widths = tuple(int(w) for w in model["widths"])
        if len(widths) < 2 or widths[0] != n_features or widths[-1] != classes:
            raise SpecError(f"widths {list(widths)} must start at {n_features} inputs and end at {classes} classes")
        return widths
    hidden = tuple(int(h) for h in model.get("hidden", DEFAULT_HIDDEN))
    return (n_features, *hidden, classes)
