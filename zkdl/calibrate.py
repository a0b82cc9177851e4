"""Automatic fixed-point settings for a data set: fractional bits R, learning-rate exponent e and
data bits, chosen from float reference runs (the counterpart of ezkl's ``calibrate-settings``).

For each candidate e (`LR_EXPS`, or the one given) the float reference trainer
(`zkdl.float_reference`) runs the whole training — same network, batch, steps, schedule and seeded
initialisation (or the given initial weights) — and reports its training accuracy and the largest
magnitudes of Z, G_A and W over every step and layer. A candidate fits when some R ≥ `MIN_FRAC_BITS` keeps those magnitudes
`MARGIN_BITS` bits inside their ranges: Z and G_A, at scale 2^(3R+e), within ``range_bits``; W, at
2^(2R+e), within int64. e is the fitting candidate with the best float training accuracy, the
largest (the smallest learning rate, the most stable) of those within `ACCURACY_TOLERANCE` of the
best; R is the largest that fits e, at most `MAX_FRAC_BITS`. Data bits: the fewest fractional bits
that hold every feature exactly (0 for integer features), at most R. Settings given by the caller
are kept and the others chosen around them.

The choice looks at the training split alone, never at the test split.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from zkdl.data import Dataset, load_dataset
from zkdl.errors import SpecError
from zkdl.float_reference import train_float_reference
from zkdl.model import TrainSpec, Weights, init_weights, resolve_spec
from zkdl.quant import INT64_BITS, QuantParams

LR_EXPS = range(2, 25)  # learning rates 2^-2 .. 2^-24 (the loss is summed over the batch)
MARGIN_BITS = 4  # headroom kept above the float run's peaks (a run ending within 2 bits warns)
MIN_FRAC_BITS = 8
MAX_FRAC_BITS = 16  # the default R: more precision than the float reference's float32 needs
ACCURACY_TOLERANCE = 0.01
InitialWeights = Callable[[QuantParams], Weights]  # given initial weights, at a quantisation
PROBE_DATA_BITS = 16  # the data's fractional bits while calibrating (finer than any choice)
DEFAULT_DATA_BITS = 8  # the shipped digits' data bits when standardised without --data-frac-bits
QUANT_KEYS = {"frac_bits", "lr_exp", "range_bits"}


@dataclass(frozen=True)
class Candidate:
    """One float reference run: its e, the largest R that fits its peaks (None: none fits) and figures."""

    lr_exp: int
    frac_bits: int | None
    train_accuracy: float
    max_abs: dict[str, float]


@dataclass(frozen=True)
class Calibration:
    """The chosen settings and the float runs they were chosen from."""

    quant: QuantParams
    data_frac_bits: int
    candidates: tuple[Candidate, ...]

    @property
    def chosen(self) -> Candidate | None:
        """The float run of the chosen e (None when e and R were both given)."""
        return next((c for c in self.candidates if c.lr_exp == self.quant.lr_exp), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (`zkdl train --json`)."""
        return {
            "frac_bits": self.quant.frac_bits,
            "lr_exp": self.quant.lr_exp,
            "data_frac_bits": self.data_frac_bits,
            "candidates": [dataclasses.asdict(c) for c in self.candidates],
        }

    def describe(self) -> str:
        """One line for people."""
        q = self.quant
        line = f"settings: R = {q.frac_bits}, e = {q.lr_exp} (learning rate 2^-{q.lr_exp}), data bits {self.data_frac_bits}"
        c = self.chosen
        if c is None:
            return line
        peaks = ", ".join(f"|{k}| {v:.3g}" for k, v in sorted(c.max_abs.items()))
        return f"{line}; from a float run: train accuracy {100 * c.train_accuracy:.2f} %, largest {peaks}"


def training_setup(
    mapping: Mapping[str, Any],
    *,
    data_frac_bits: int | None = None,
    test_fraction: float = 0.2,
    standardize: bool | None = None,
    initial: InitialWeights | None = None,
) -> tuple[Dataset, TrainSpec, Calibration | None]:
    """The data set and spec of a run from a spec mapping (`zkdl.model.resolve_spec`; its train.data
    names the data, "digits" by default), calibrating what the mapping and `data_frac_bits` leave
    open. User files are standardised unless `standardize` is False. The shipped digits keep their
    tuned defaults (R = 16, e = 10, 4 data bits, no standardisation) unless asked otherwise. `initial`
    loads given initial weights at a quantisation (the seeded initialisation if None)."""
    source = str(mapping.get("train", {}).get("data", "digits"))
    shipped = source == "digits"
    standardize = not shipped if standardize is None else standardize
    quant = mapping.get("quant", {})
    unknown = ", ".join(sorted(set(quant) - QUANT_KEYS))
    if unknown:
        raise SpecError(f"bad [quant] table: unknown keys {unknown} (known: {', '.join(sorted(QUANT_KEYS))})")
    given = {k: int(quant[k]) if k in quant else None for k in ("frac_bits", "lr_exp")}
    if shipped or None not in (*given.values(), data_frac_bits):
        data = load_dataset(source, frac_bits=data_frac_bits or DEFAULT_DATA_BITS, test_fraction=test_fraction, standardize=standardize)
        return data, _spec(mapping, data), None
    probe = load_dataset(source, frac_bits=PROBE_DATA_BITS, test_fraction=test_fraction, standardize=standardize)
    spec = _spec({**mapping, "quant": {}}, probe)  # its quant is a placeholder until R and e are chosen
    range_bits = int(quant.get("range_bits", INT64_BITS))
    cal = calibrate(spec, probe, **given, data_frac_bits=data_frac_bits, range_bits=range_bits, initial=initial)
    data = load_dataset(source, frac_bits=cal.data_frac_bits, test_fraction=test_fraction, standardize=probe.standardization or False)
    return data, dataclasses.replace(spec, quant=cal.quant), cal


def _spec(mapping: Mapping[str, Any], data: Dataset) -> TrainSpec:
    return resolve_spec(mapping, n_features=data.n_features, classes=data.classes, n_train=int(data.train_idx.size))


def calibrate(
    spec: TrainSpec,
    probe: Dataset,
    *,
    frac_bits: int | None = None,
    lr_exp: int | None = None,
    data_frac_bits: int | None = None,
    range_bits: int = INT64_BITS,
    initial: InitialWeights | None = None,
) -> Calibration:
    """Choose the settings not given for training `spec` (its quant is ignored) on `probe` — the data
    quantised finely (`PROBE_DATA_BITS`) and standardised as the run will be — for Z and G_A of
    `range_bits` bits."""
    candidates: tuple[Candidate, ...] = ()
    if frac_bits is None or lr_exp is None:
        exps = [lr_exp] if lr_exp is not None else list(LR_EXPS)
        candidates = tuple(_float_run(spec, probe, e, range_bits, initial) for e in exps)
        floor = max(frac_bits or MIN_FRAC_BITS, data_frac_bits or 0)
        fitting = [c for c in candidates if c.frac_bits is not None and c.frac_bits >= floor]
        if not fitting:
            raise SpecError(_nothing_fits(candidates, range_bits, floor))
        best = max(c.train_accuracy for c in fitting)
        choice = max((c for c in fitting if c.train_accuracy >= best - ACCURACY_TOLERANCE), key=lambda c: c.lr_exp)
        lr_exp = choice.lr_exp
        frac_bits = frac_bits or min(choice.frac_bits or 0, MAX_FRAC_BITS)
    quant = QuantParams(frac_bits=frac_bits, lr_exp=lr_exp, range_bits=range_bits)
    bits = data_frac_bits if data_frac_bits is not None else min(exact_bits(probe), frac_bits)
    return Calibration(quant, bits, candidates)


def exact_bits(data: Dataset) -> int:
    """The fewest fractional bits that represent every feature of `data` exactly."""
    nonzero = data.X[data.X != 0]
    if nonzero.size == 0:
        return 0
    trailing = int(np.min(nonzero & -nonzero)).bit_length() - 1  # the lowest set bit over all values
    return max(0, data.frac_bits - trailing)


def _float_run(spec: TrainSpec, probe: Dataset, lr_exp: int, range_bits: int, initial: InitialWeights | None) -> Candidate:
    """The float reference run at learning rate 2^-lr_exp and the largest R its peaks leave room for."""
    quant = QuantParams(frac_bits=MAX_FRAC_BITS, lr_exp=lr_exp, range_bits=INT64_BITS)
    trial = dataclasses.replace(spec, quant=quant)
    start = initial(quant) if initial is not None else init_weights(trial.model, quant, trial.init_seed)
    ref = train_float_reference(trial, probe, start)
    return Candidate(lr_exp, _largest_frac_bits(ref.max_abs, lr_exp, range_bits), ref.train_accuracy, ref.max_abs)


def _largest_frac_bits(peaks: dict[str, float], lr_exp: int, range_bits: int) -> int | None:
    """The largest R for which Z and G_A (3R + e fractional bits) fit range_bits, and W (2R + e)
    int64, with `MARGIN_BITS` to spare; None if not even R = 1 does."""
    if not all(math.isfinite(v) for v in peaks.values()):
        return None
    # a value below 2^m at scale 2^k needs m + k + 1 bits with its sign (m = frexp's exponent)
    z = max(math.frexp(peaks.get(k, 0.0))[1] for k in ("Z", "G_A"))
    w = math.frexp(peaks.get("W", 0.0))[1]
    largest = min((range_bits - MARGIN_BITS - 1 - lr_exp - z) // 3, (INT64_BITS - MARGIN_BITS - 1 - lr_exp - w) // 2)
    return largest if largest >= 1 else None


def _nothing_fits(candidates: tuple[Candidate, ...], range_bits: int, floor: int) -> str:
    """The error when no learning rate fits: what was tried and what to do."""
    tried = ", ".join(f"e = {c.lr_exp}: {'diverges' if c.frac_bits is None else f'R ≤ {c.frac_bits}'}" for c in candidates)
    return (
        f"no learning rate keeps this run within {range_bits} bits at R ≥ {floor} ({tried}): standardise the features, "
        "use fewer or narrower hidden layers or fewer steps, or give --lr-exp and --frac-bits yourself"
    )
