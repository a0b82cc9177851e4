"""The exact fixed-point trainer: accuracy against float, witness contents, overflow errors, run files."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import small_spec
from zkdl.data import Dataset
from zkdl.errors import RunFormatError, SpecError, TrainingOverflowError, ZkdlError
from zkdl.float_reference import train_float_reference
from zkdl.model import ModelSpec, TrainSpec, init_weights
from zkdl.quant import QuantParams
from zkdl.run import load_run
from zkdl.train import accuracy, input_activations, train


def test_digits_accuracy_matches_float_training(digits: Dataset) -> None:
    """Acceptance: 64-128-128-10, batch 64, 10 epochs; quantised within 3 points of float32, both >= 90 %."""
    spec = TrainSpec(ModelSpec((64, 128, 128, 10)), QuantParams(), batch=64, steps=220, schedule_seed=0, init_seed=0)
    run = train(spec, digits, record_witness=False)
    ref = train_float_reference(spec, digits, run.initial)
    print(
        f"quantised test {run.stats.test_accuracy:.4f}, float test {ref.test_accuracy:.4f}, "
        f"max bits {run.stats.max_bits}, {run.stats.seconds} s"
    )
    assert run.stats.test_accuracy >= 0.90 and ref.test_accuracy >= 0.90
    assert abs(run.stats.test_accuracy - ref.test_accuracy) <= 0.03
    assert run.stats.max_bits["Z"] <= 64 and run.stats.max_bits["G_A"] <= 64
    # the float run's peaks (what zkdl.calibrate sizes R by) predict the fixed-point widths:
    # |Z| < 2^m at scale 2^(3R+e) needs m + 3R + e + 1 bits
    for tensor in ("Z", "G_A"):
        assert run.stats.max_bits[tensor] == math.frexp(ref.max_abs[tensor])[1] + spec.quant.product_exp + 1


def test_witness_records_what_the_prover_reads(small_run_dir: Path, digits: Dataset) -> None:
    """Z and W_t of every layer, G_A of the hidden layers, b_t with biases; nothing else (the
    replay, tests/test_replay.py, checks every value)."""
    run = load_run(small_run_dir)
    model, w = run.spec.model, run.witness
    assert w is not None and w.steps == run.spec.steps
    names = ("Z", "W", "b") if model.bias else ("Z", "W")
    expected = {f"layer{l}.{n}" for l in range(3) for n in names}
    assert set(w.arrays) == expected | {"layer0.G_A", "layer1.G_A"}
    assert w.weights_at(0).equals(run.initial) and w.weights_at(run.spec.steps).equals(run.final)
    a_in = input_activations(digits.X_train[run.schedule[0]], digits.frac_bits, run.spec.quant)
    bias = run.initial.b[0][None, :] * run.spec.quant.bias_lift if model.bias else 0
    assert np.array_equal(w.arrays["layer0.Z"][0], a_in @ run.initial.w[0] + bias)


def test_run_round_trip(small_run_dir: Path, digits: Dataset) -> None:
    run = load_run(small_run_dir)
    again = train(run.spec, digits)
    assert again.final.equals(run.final) and again.initial.equals(run.initial)
    assert again.stats.max_bits == run.stats.max_bits and again.data == run.data
    assert set(again.witness.arrays) == set(run.witness.arrays)
    assert all(np.array_equal(again.witness.arrays[k], run.witness.arrays[k]) for k in run.witness.arrays)
    assert load_run(small_run_dir, with_witness=False).witness is None


def test_bias_network_learns_like_float(digits: Dataset) -> None:
    spec = TrainSpec(ModelSpec((64, 32, 10), bias=True), QuantParams(lr_exp=8), 32, 440, 1, 1)
    run = train(spec, digits, record_witness=False)
    ref = train_float_reference(spec, digits, run.initial)
    assert run.stats.test_accuracy > 0.85 and abs(run.stats.test_accuracy - ref.test_accuracy) <= 0.03
    assert run.stats.max_bits["b"] < 40 and run.stats.max_bits["Z"] <= 64


def test_given_initial_weights_are_used(digits: Dataset) -> None:
    spec = small_spec(bias=False, steps=1)
    initial = init_weights(spec.model, spec.quant, 99)
    run = train(spec, digits, initial=initial, record_witness=False)
    assert run.initial is initial and accuracy(run.final, spec.quant, digits.X_test, digits.y_test, 4) >= 0.0


def test_static_overflow_names_layer_step_and_tensor(digits: Dataset) -> None:
    spec = small_spec(bias=False)
    spec = TrainSpec(spec.model, QuantParams(range_bits=50), spec.batch, spec.steps, 0, 0)
    with pytest.raises(TrainingOverflowError) as err:
        train(spec, digits)
    e = err.value
    assert (e.layer, e.step, e.tensor, e.bits_allowed) == (0, 0, "Z", 50) and e.bits_needed > 50
    assert isinstance(e, ZkdlError) and isinstance(e, ValueError)
    for words in ("step 0", "layer 0", "tensor Z", "50 are allowed", "learning rate", "range_bits"):
        assert words in e.user_message


def test_divergence_overflows_at_a_later_step(digits: Dataset) -> None:
    spec = TrainSpec(ModelSpec((64, 32, 10)), QuantParams(lr_exp=3), 64, 50, 0, 0)
    with pytest.raises(TrainingOverflowError) as err:
        train(spec, digits, record_witness=False)
    assert err.value.step > 0 and err.value.tensor in {"Z", "G_A"} and err.value.bits_needed > 64
    diverged = train_float_reference(spec, digits, init_weights(spec.model, spec.quant, 0))
    peak = max(diverged.max_abs["Z"], diverged.max_abs["G_A"])  # the float run's peak says so too
    assert math.frexp(peak)[1] + spec.quant.product_exp + 1 > 64


def test_int64_overflow_inside_the_kernel_is_an_overflow_error(digits: Dataset) -> None:
    spec = TrainSpec(ModelSpec((64, 8, 10)), QuantParams(lr_exp=22), 16, 1, 0, 0)
    with pytest.raises(TrainingOverflowError, match="more than 64 bits"):
        train(spec, digits)


def test_model_must_fit_the_data(digits: Dataset) -> None:
    spec = TrainSpec(ModelSpec((63, 10)), QuantParams(), 16, 1, 0, 0)
    with pytest.raises(SpecError, match="do not fit"):
        train(spec, digits)


def test_load_run_rejects_foreign_directories(tmp_path: Path, small_run_dir: Path) -> None:
    with pytest.raises(RunFormatError):
        load_run(tmp_path)
    (tmp_path / "run.json").write_text('{"format": "other", "version": 1}')
    with pytest.raises(RunFormatError, match="not a zkdl-run"):
        load_run(tmp_path)


def test_a_truncated_witness_is_a_run_format_error(small_run_dir: Path, tmp_path: Path) -> None:
    import shutil

    run_dir = Path(shutil.copytree(small_run_dir, tmp_path / "run"))
    data = (run_dir / "witness.npz").read_bytes()
    (run_dir / "witness.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(RunFormatError, match="cannot read the witness .*train the run again"):
        load_run(run_dir)
    (run_dir / "witness.npz").unlink()
    with pytest.raises(RunFormatError, match="cannot read the witness"):
        load_run(run_dir)
