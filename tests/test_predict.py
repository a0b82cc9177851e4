"""`zkdl predict`, `evaluate` and `export`: the trained fixed-point network on new rows, and its
export as float weights (accepted by the buyer's weight check) and an ONNX model."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from tests.test_cli_train import zkdl
from zkdl.data import read_table, split
from zkdl.errors import DataError
from zkdl.export import ExportError, real_weights
from zkdl.model import Weights, load_weights
from zkdl.predict import evaluate, predict
from zkdl.run import load_run

IRIS = Path(__file__).resolve().parent / "vectors" / "iris.csv"
OWNER = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A proven iris run trained with no settings (standardised, names mapped to classes)."""
    root = tmp_path_factory.mktemp("iris")
    assert zkdl("train", "--data", str(IRIS), "--out", str(root / "run"), "--steps", "6", "--hidden", "16", "--no-progress").returncode == 0
    assert zkdl("prove", str(root / "run"), "-o", str(root / "run.zkdl"), "--owner", OWNER, "--json").returncode == 0
    return root


@pytest.fixture(scope="module")
def test_rows(iris_run: Path) -> dict[str, Path]:
    """The run's test split as raw CSV rows, with and without their labels."""
    run = load_run(iris_run / "run", with_witness=False)
    lines = IRIS.read_text().splitlines()[1:]
    _, test_idx = split(len(lines), run.data.test_fraction, run.data.split_seed)
    labelled, bare = iris_run / "test.csv", iris_run / "test_bare.csv"
    labelled.write_text("".join(lines[i] + "\n" for i in test_idx))
    bare.write_text("".join(lines[i].rsplit(",", 1)[0] + "\n" for i in test_idx))
    return {"labelled": labelled, "bare": bare}


def test_evaluate_on_the_test_rows_is_the_runs_test_accuracy(iris_run: Path, test_rows: dict[str, Path]) -> None:
    """New rows go through the recorded standardisation, data bits and integer forward pass: the
    raw test rows score exactly what training recorded for its test split."""
    run = load_run(iris_run / "run", with_witness=False)
    result = evaluate(run, str(test_rows["labelled"]))
    assert result.rows == run.data.n_test and result.accuracy == run.stats.test_accuracy
    out = zkdl("evaluate", str(iris_run / "run"), "--data", str(test_rows["labelled"]), "--json")
    assert out.returncode == 0 and json.loads(out.stdout) == result.to_json()


def test_predict_names_the_files_labels_with_or_without_a_label_column(iris_run: Path, test_rows: dict[str, Path]) -> None:
    run = load_run(iris_run / "run", with_witness=False)
    with_labels, bare = (predict(run, str(test_rows[k])) for k in ("labelled", "bare"))
    assert with_labels.labels == bare.labels and set(bare.labels) <= {"setosa", "versicolor", "virginica"}
    assert np.array_equal(with_labels.scores, bare.scores) and bare.scores.shape == (run.data.n_test, 3)
    out = zkdl("predict", str(iris_run / "run"), "--data", str(test_rows["bare"]))
    assert out.returncode == 0 and out.stdout.split() == bare.labels


def test_onnx_export_predicts_what_zkdl_predict_does(iris_run: Path, test_rows: dict[str, Path], tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    out = zkdl("export", str(iris_run / "run"), "-o", str(tmp_path / "model"), "--json")
    assert out.returncode == 0, out.stderr
    paths = json.loads(out.stdout)
    expected = json.loads(zkdl("predict", str(iris_run / "run"), "--data", str(test_rows["bare"]), "--json").stdout)
    session = ort.InferenceSession(paths["onnx_path"])
    scores, classes, labels = session.run(None, {"features": read_table(str(test_rows["bare"]), labelled=False, n_features=4).X})
    assert classes.tolist() == expected["classes"] and labels.tolist() == expected["labels"]
    assert scores.tolist() == expected["scores"]  # the same rounded values, not only the same argmax
    description = json.loads(Path(paths["model_json_path"]).read_text())
    assert description["labels"] == ["setosa", "versicolor", "virginica"] and description["widths"] == [4, 16, 3]


def test_exported_weights_pass_the_buyers_weight_check(iris_run: Path, tmp_path: Path) -> None:
    """check-weights (zkdl.market.check) loads the delivered .npz with load_weights and recomputes
    C_WT with the opening's blinds: the float export rounds back to the committed integers."""
    from zkdl.proof import registration

    run = load_run(iris_run / "run", with_witness=False)
    assert zkdl("export", str(iris_run / "run"), "-o", str(tmp_path)).returncode == 0
    delivered = load_weights(tmp_path / "weights.npz", run.spec.quant)
    assert delivered.equals(run.final)
    statement = registration.claims_of((iris_run / "run.zkdl").read_bytes()).statement
    assert registration.check_weights(statement, delivered, iris_run / "run.zkdl.opening.json").ok
    with np.load(tmp_path / "weights.npz") as z:
        assert z["W0"].dtype == np.float64 and sorted(z.files) == ["W0", "W1"]


def test_weights_float64_cannot_hold_are_refused(iris_run: Path) -> None:
    run = load_run(iris_run / "run", with_witness=False)
    wide = Weights(tuple(w + (1 << 60) for w in run.final.w))
    with pytest.raises(ExportError, match="more than 53 bits"):
        real_weights(dataclasses.replace(run, final=wide))


@pytest.mark.parametrize(
    "rows, message",
    [
        ("1,2,3\n", "3 columns, but the model takes 4 features"),
        ("1,2,3,4,daisy\n", "label 'daisy' is not one of the run's classes"),
        ("1,2,3,4\n", "evaluate needs labels"),
        ("1e12,2,3,4,setosa\n", "beyond its 64-bit range"),
    ],
)
def test_rows_that_do_not_fit_the_run_are_refused(iris_run: Path, tmp_path: Path, rows: str, message: str) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(rows)
    with pytest.raises(DataError, match=message):
        evaluate(load_run(iris_run / "run", with_witness=False), str(path))
    out = zkdl("evaluate", str(iris_run / "run"), "--data", str(path))
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr  # unusable input
