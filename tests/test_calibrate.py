"""Settings that work on ordinary data without flags (`zkdl.calibrate`): acceptance on raw iris, wine
and digits CSVs, the margin against overflow, explicit settings, and the edge-of-range warning."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.calibration import VECTORS, digits_csv
from tests.test_cli_train import zkdl
from zkdl.calibrate import MARGIN_BITS, MAX_FRAC_BITS, _largest_frac_bits, training_setup
from zkdl.errors import SpecError
from zkdl.float_reference import train_float_reference
from zkdl.quant import QuantParams
from zkdl.run import RunStats, range_warnings
from zkdl.train import train

OWNER = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture(scope="module")
def raw_csvs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """scikit-learn's iris (labels by name), wine (labels 1..3) and digits (pixels 0..16, labels
    0..9) as a user has them: raw CSV, a header, the label last."""
    digits = digits_csv(tmp_path_factory.mktemp("raw") / "digits.csv")
    return {"iris": VECTORS / "iris.csv", "wine": VECTORS / "wine.csv", "digits": digits}


@pytest.mark.parametrize("name, floor", [("iris", 0.80), ("wine", 0.80), ("digits", 0.85)])
def test_default_settings_learn_like_float(raw_csvs: dict[str, Path], name: str, floor: float) -> None:
    """Acceptance: no settings given; the quantised run's test accuracy is within 3 points of the
    float run with the same initialisation and schedule, and every range-checked tensor keeps at
    least 3 bits of headroom (no warning). The whole table: bench/calibration.py."""
    data, spec, calibration = training_setup({"train": {"data": str(raw_csvs[name])}})
    assert calibration is not None and data.standardization is not None
    run = train(spec, data, record_witness=False)
    ref = train_float_reference(spec, data, run.initial)
    print(f"{name}: {calibration.describe()}; quantised {run.stats.test_accuracy}, float {ref.test_accuracy}")
    assert run.stats.test_accuracy is not None and run.stats.test_accuracy >= floor
    assert abs(run.stats.test_accuracy - ref.test_accuracy) <= 0.03
    assert range_warnings(run.stats, spec.quant.range_bits) == []


@pytest.mark.parametrize("name", ["iris", "wine", "digits"])
def test_train_prove_verify_from_raw_csv_without_settings(raw_csvs: dict[str, Path], name: str, tmp_path: Path) -> None:
    """Acceptance, end to end: `zkdl train` with no settings (few steps, to keep the proof short),
    `zkdl prove` reloads the standardised data to the same digest, `zkdl verify` accepts it."""
    run_dir, bundle = tmp_path / "run", tmp_path / "run.zkdl"
    trained = zkdl("train", "--data", str(raw_csvs[name]), "--out", str(run_dir), "--steps", "2", "--hidden", "16", "--no-progress")
    assert trained.returncode == 0, trained.stderr
    assert "settings: R = " in trained.stdout and "from a float run" in trained.stdout
    assert zkdl("prove", str(run_dir), "-o", str(bundle), "--owner", OWNER, "--json").returncode == 0
    verified = zkdl("verify", str(bundle))
    assert verified.returncode == 0 and verified.stdout.startswith("VALID")


def test_labels_mapping_is_said_and_recorded(tmp_path: Path) -> None:
    args = ("train", "--data", str(VECTORS / "iris.csv"), "--out", str(tmp_path / "run"), "--steps", "1", "--hidden", "4")
    out = zkdl(*args, "--no-progress")
    assert out.returncode == 0, out.stderr
    assert "labels setosa, versicolor, virginica are classes 0..2 (recorded in the run)" in out.stdout
    assert "features standardised on the 120 training rows (recorded in the run)" in out.stdout
    quiet = zkdl(*args, "--json")
    assert json.loads(quiet.stdout)["labels"] == ["setosa", "versicolor", "virginica"]
    meta = json.loads((tmp_path / "run" / "run.json").read_text())
    assert meta["data"]["labels"] == ["setosa", "versicolor", "virginica"] and len(meta["data"]["standardization"]["mean"]) == 4


def test_many_label_names_are_shortened(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("".join(f"{i % 5},{i % 7},c{i % 12:02}\n" for i in range(48)))
    args = ("--data", str(tmp_path / "d.csv"), "--out", str(tmp_path / "run"), "--steps", "1", "--batch", "8", "--hidden", "4")
    out = zkdl("train", *args, "--no-progress")
    assert out.returncode == 0 and "labels c00, c01, c02, c03, c04, c05, c06, c07, c08, c09 and 2 more are classes 0..11" in out.stdout


def test_the_margin_keeps_four_bits_above_the_float_peaks() -> None:
    # |Z| < 4 = 2^2 at scale 2^(3R + 12), with its sign: 3R + 12 + 2 + 1 ≤ 64 - 4 bits, so R = 15
    assert _largest_frac_bits({"Z": 3.5, "G_A": 1.0, "W": 0.5}, 12, 64) == 15
    assert _largest_frac_bits({"Z": 4.0, "G_A": 1.0, "W": 0.5}, 12, 64) == 14  # |Z| = 4 needs a third bit
    assert _largest_frac_bits({"Z": 1.0, "G_A": 4.0, "W": 0.5}, 12, 64) == 14  # so does |G_A| = 4
    assert _largest_frac_bits({"Z": 3.5, "G_A": 1.0, "W": 2.0**20}, 12, 64) == 13  # W: 2R + 12 + 21 + 1 ≤ 60
    assert _largest_frac_bits({"Z": np.inf, "G_A": 1.0, "W": 0.5}, 12, 64) is None  # diverged
    assert MARGIN_BITS == 4 and MAX_FRAC_BITS == 16


def test_given_settings_are_kept_and_the_rest_chosen_around_them() -> None:
    iris = str(VECTORS / "iris.csv")
    data, spec, cal = training_setup({"train": {"data": iris}, "quant": {"lr_exp": 13}})
    assert spec.quant.lr_exp == 13 and cal is not None and [c.lr_exp for c in cal.candidates] == [13]
    data, spec, cal = training_setup({"train": {"data": iris}, "quant": {"frac_bits": 10, "lr_exp": 12}}, data_frac_bits=6)
    assert spec.quant == QuantParams(10, 12) and data.frac_bits == 6 and cal is None
    data, spec, cal = training_setup({"train": {"data": iris}, "quant": {"frac_bits": 10, "lr_exp": 12}}, standardize=False)
    assert data.frac_bits == 10 and data.standardization is None  # iris' decimals are not exact in binary: R bits


def test_an_unknown_quant_key_is_refused_before_calibrating() -> None:
    with pytest.raises(SpecError, match="bad \\[quant\\] table: unknown keys frac_bit"):
        training_setup({"train": {"data": str(VECTORS / "iris.csv")}, "quant": {"frac_bit": 10}})


def test_the_shipped_digits_keep_their_tuned_defaults() -> None:
    data, spec, cal = training_setup({})
    assert cal is None and spec.quant == QuantParams() and data.frac_bits == 4 and data.standardization is None


def test_integer_features_need_no_fractional_bits(raw_csvs: dict[str, Path]) -> None:
    data, _, cal = training_setup({"train": {"data": str(raw_csvs["digits"]), "steps": 1}}, standardize=False)
    assert cal is not None and cal.data_frac_bits == 0 and data.frac_bits == 0 and data.X.max() == 16


def test_when_no_learning_rate_fits_the_error_says_what_was_tried() -> None:
    with pytest.raises(SpecError, match=r"no learning rate keeps this run within 40 bits at R ≥ 8 \(e = 2: diverges, .*give --lr-exp"):
        training_setup({"train": {"data": str(VECTORS / "wine.csv")}, "quant": {"range_bits": 40}})


def test_a_run_within_two_bits_of_its_range_warns(tmp_path: Path) -> None:
    stats = RunStats(0.9, 0.9, {"Z": 62, "G_A": 61, "W": 63}, 1.0)
    assert [w.split(" reached")[0] for w in range_warnings(stats, 64)] == ["Z"]
    assert range_warnings(stats, 65) == []  # 3 bits of headroom: quiet
    args = ("train", "--out", str(tmp_path / "run"), "--hidden", "8", "--steps", "2", "--batch", "16", "--frac-bits", "14", "--no-progress")
    quiet = zkdl(*args, "--json")
    bits = json.loads(quiet.stdout)["max_bits"]
    top = max(("Z", "G_A"), key=lambda k: bits[k])
    assert quiet.returncode == 0 and "warning" not in quiet.stderr
    loud = zkdl(*args, "--range-bits", str(bits[top] + 1))
    assert loud.returncode == 0 and f"zkdl train: warning: {top} reached {bits[top]} of its {bits[top] + 1} bits" in loud.stderr
