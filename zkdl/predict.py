"""Predictions and accuracy of a trained run on new rows: the fixed-point network the proof is about.

New rows go through what the run's training data went through — the recorded standardisation, then
rounding to the run's data bits — and then through the integer forward pass of a training step
(`zkdl.train.output_scores`: the same exact products, rescales and range checks). Classes come back
under the data file's own labels (the mapping recorded with the run).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from zkdl.data import Standardization, Table, quantize_features, read_table
from zkdl.errors import DataError, TrainingOverflowError
from zkdl.quant import dequantize
from zkdl.run import TrainingRun
from zkdl.train import output_scores


@dataclass(frozen=True)
class Predictions:
    """Per row: the predicted class, its label in the data file's terms and the output scores (the
    output layer's Z', real values)."""

    classes: np.ndarray
    labels: list[str]
    scores: np.ndarray

    def to_json(self) -> dict[str, Any]:
        return {"labels": self.labels, "classes": self.classes.tolist(), "scores": self.scores.tolist()}


@dataclass(frozen=True)
class Evaluation:
    """Accuracy on labelled rows."""

    rows: int
    correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.rows

    def to_json(self) -> dict[str, Any]:
        return {"accuracy": self.accuracy, "correct": self.correct, "rows": self.rows}


def class_names(run: TrainingRun) -> list[str]:
    """The label of each class: the data file's own labels when the run mapped them, else 0..K−1."""
    return list(run.data.labels) if run.data.labels is not None else [str(k) for k in range(run.data.classes)]


def predict(run: TrainingRun, source: str) -> Predictions:
    """Predict every row of `source` (a .csv or .npz with the run's features, a label column optional)."""
    table = _rows(run, source)
    scores = _scores(run, table, source)
    classes = np.argmax(scores, axis=1)
    names = class_names(run)
    return Predictions(classes, [names[k] for k in classes], dequantize(scores, run.spec.quant.frac_bits))


def evaluate(run: TrainingRun, source: str) -> Evaluation:
    """The accuracy on the labelled rows of `source`."""
    table = _rows(run, source)
    if table.y.size == 0:
        raise DataError(f"{source}: no label column after the {run.data.n_features} features: evaluate needs labels (or use zkdl predict)")
    truth = _run_classes(run, table, source)
    predicted = np.argmax(_scores(run, table, source), axis=1)
    return Evaluation(int(truth.size), int(np.sum(predicted == truth)))


def _rows(run: TrainingRun, source: str) -> Table:
    """The rows of `source`, checked to have the run's number of features."""
    table = read_table(source, labelled=False, n_features=run.data.n_features)
    if table.X.shape[1] != run.data.n_features:
        raise DataError(
            f"{source}: {table.X.shape[1]} feature columns, but the run was trained on {run.data.n_features} "
            f"(give the features in the training file's order, optionally followed by the label)"
        )
    return table


def _scores(run: TrainingRun, table: Table, source: str) -> np.ndarray:
    """The output Z' of every row (int64, scale 2^R)."""
    ref = run.data
    standardization = Standardization.from_dict(ref.standardization) if ref.standardization else None
    X, bits = quantize_features(table, ref.frac_bits, standardization)
    try:
        return output_scores(run.final, run.spec.quant, X, bits)
    except TrainingOverflowError as exc:
        raise DataError(
            f"{source}: these rows drive layer {exc.layer}'s {exc.tensor} beyond its {exc.bits_allowed}-bit range; "
            "they lie far outside the data the model was trained on (is a feature in other units?)"
        ) from None


def _run_classes(run: TrainingRun, table: Table, source: str) -> np.ndarray:
    """The table's labels as the run's class indices (through the recorded label mapping)."""
    own = list(table.labels) if table.labels is not None else [str(k) for k in range(table.classes)]
    index = {name: k for k, name in enumerate(class_names(run))}
    unknown = [name for name in own if name not in index]
    if unknown:
        raise DataError(f"{source}: label {unknown[0]!r} is not one of the run's classes ({', '.join(index)})")
    return np.array([index[own[k]] for k in table.y], dtype=np.int64)
