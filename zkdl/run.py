"""A finished training run and its directory: spec, data reference, weights, witness and figures.

Run directory, format version 2 (version 1 recorded 14 tensors per layer and step; the prover reads
four, `zkdl.witness`):

* ``run.json``: ``{"format": "zkdl-run", "version": 2, "spec": TrainSpec.to_dict(), "data": DataRef,
  "schedule": {"algorithm", "seed"}, "stats": RunStats, "witness": "witness.npz" or null}``
* ``weights_initial.npz``, ``weights_final.npz``: ``W0``, ``W1``, .. (and ``b0``, ..), int64.
* ``witness.npz``: the recorded tensors of every step (`zkdl.witness`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zkdl.data import SCHEDULE_ALGORITHM, Dataset, Standardization, schedule
from zkdl.errors import RunFormatError
from zkdl.model import TrainSpec, Weights, load_weights
from zkdl.witness import Witness

RUN_FORMAT = "zkdl-run"
RUN_VERSION = 2


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
    source: str = ""  # "digits", or the absolute path it was loaded from (zkdl prove --data overrides)
    test_fraction: float = 0.0
    split_seed: int = 0
    labels: list[str] | None = None  # the file's label of each class, when they were not 0..K−1
    standardization: dict[str, list[float]] | None = None  # `zkdl.data.Standardization.to_dict`

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
            source=data.source,
            test_fraction=data.test_fraction,
            split_seed=data.split_seed,
            labels=list(data.labels) if data.labels is not None else None,
            standardization=data.standardization.to_dict() if data.standardization is not None else None,
        )

    def load_options(self) -> dict[str, Any]:
        """The `zkdl.data.load_dataset` options that load this data set again, to the same digest."""
        standardization = Standardization.from_dict(self.standardization) if self.standardization else False
        return {"frac_bits": self.frac_bits, "test_fraction": self.test_fraction, "split_seed": self.split_seed,
                "standardize": standardization}  # fmt: skip


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
    if meta.get("format") != RUN_FORMAT:
        raise RunFormatError(f"{root}: not a {RUN_FORMAT} directory")
    if meta.get("version") != RUN_VERSION:
        raise RunFormatError(
            f"{root}: a {RUN_FORMAT} version {meta.get('version')} directory; this zkdl reads version {RUN_VERSION}: train the run again"
        )
    spec = TrainSpec.from_dict(meta["spec"])
    data = DataRef(**meta["data"])
    weights = [load_weights(root / f"weights_{k}.npz", spec.quant) for k in ("initial", "final")]
    for w in weights:
        w.check(spec.model)
    witness = None
    if with_witness and meta.get("witness"):
        witness = Witness.load(root / meta["witness"], spec, *weights)
    return TrainingRun(
        spec=spec,
        data=data,
        schedule=schedule(spec.schedule_seed, data.n_train, spec.batch, spec.steps),
        initial=weights[0],
        final=weights[1],
        witness=witness,
        stats=RunStats(**meta["stats"]),
    )


def run_summary(run: TrainingRun) -> dict[str, Any]:
    """The machine-readable summary `zkdl train --json` prints."""
    return {
        "steps": run.spec.steps,
        "data": run.data.name,
        "data_digest": run.data.digest,
        "labels": run.data.labels,
        **asdict(run.stats),
        "witness_bytes": run.witness.nbytes if run.witness is not None else 0,
        "warnings": range_warnings(run.stats, run.spec.quant.range_bits),
    }


WARN_HEADROOM_BITS = 2


def range_warnings(stats: RunStats, range_bits: int) -> list[str]:
    """A warning for each range-checked tensor that ended within `WARN_HEADROOM_BITS` of its range:
    such a run works, but a little more data or another seed may overflow it."""
    return [
        f"{tensor} reached {bits} of its {range_bits} bits: the run is at the edge of its range; a smaller "
        "--frac-bits (3 bits of room per unit) or, if values grew over training, a smaller learning rate "
        "(larger --lr-exp) gives it room"
        for tensor in ("Z", "G_A")
        if (bits := stats.max_bits.get(tensor, 0)) >= range_bits - WARN_HEADROOM_BITS
    ]
