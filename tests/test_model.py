"""Specs, initialisation, weight files and the PyTorch import (duck-typed, and with real torch if present)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zkdl.errors import SpecError
from zkdl.model import (
    ModelSpec,
    TrainSpec,
    Weights,
    from_torch,
    init_weights,
    load_weights,
    read_spec_file,
    resolve_spec,
)
from zkdl.quant import QuantParams, dequantize

Q = QuantParams()


def test_init_is_seeded_he_uniform_at_weight_scale() -> None:
    model = ModelSpec((64, 128, 10), bias=True)
    w = init_weights(model, Q, 1)
    w.check(model)
    assert w.equals(init_weights(model, Q, 1)) and not w.equals(init_weights(model, Q, 2))
    real = dequantize(w.w[0], Q.weight_exp)
    assert np.abs(real).max() <= np.sqrt(6 / 64) and real.std() > 0.15
    assert all(not b.any() for b in w.b)


def test_resolve_spec_defaults_to_the_digits_network() -> None:
    spec = resolve_spec({}, n_features=64, classes=10, n_train=1437)
    assert spec.model == ModelSpec((64, 128, 128, 10), bias=False)
    assert (spec.batch, spec.steps, spec.quant) == (64, 220, QuantParams())
    assert TrainSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_resolve_spec_reads_every_table() -> None:
    mapping = {
        "model": {"widths": [4, 8, 3], "bias": True},
        "quant": {"frac_bits": 12, "lr_exp": 6, "range_bits": 40},
        "train": {"batch": 5, "steps": 9, "schedule_seed": 2, "init_seed": 4, "data": "x.csv"},
    }
    spec = resolve_spec(mapping, n_features=4, classes=3, n_train=100)
    assert spec.model == ModelSpec((4, 8, 3), True) and spec.quant == QuantParams(12, 6, 40)
    assert (spec.batch, spec.steps, spec.schedule_seed, spec.init_seed) == (5, 9, 2, 4)


@pytest.mark.parametrize(
    "mapping, message",
    [
        ({"model": {"widths": [5, 3]}}, "must start at 4"),
        ({"model": {"widths": [4, 3], "hidden": [2]}}, "either widths or hidden"),
        ({"train": {"steps": 1, "epochs": 1}}, "either steps or epochs"),
        ({"train": {"lr": 1}}, "unknown spec keys"),
        ({"optim": {}}, "unknown spec tables"),
        ({"quant": {"eta": 1}}, "bad \\[quant\\]"),
        ({"quant": {"range_bits": 100}}, "range_bits"),
    ],
)
def test_resolve_spec_rejects_bad_specs(mapping: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        resolve_spec(mapping, n_features=4, classes=3, n_train=100)


def test_spec_files_toml_and_json(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text("[model]\nhidden = [16]\nbias = true\n[train]\nepochs = 2\n")
    (tmp_path / "s.json").write_text('{"model": {"hidden": [16], "bias": true}, "train": {"epochs": 2}}')
    assert read_spec_file(tmp_path / "s.toml") == read_spec_file(tmp_path / "s.json")
    (tmp_path / "bad.toml").write_text("[model\n")
    with pytest.raises(SpecError, match="cannot read"):
        read_spec_file(tmp_path / "bad.toml")


def test_weights_npz_round_trip_and_float_import(tmp_path: Path) -> None:
    model = ModelSpec((3, 2, 2), bias=True)
    w = init_weights(model, Q, 0)
    w.save(tmp_path / "w.npz")
    assert load_weights(tmp_path / "w.npz", Q).equals(w)
    np.savez(tmp_path / "f.npz", W0=np.array([[0.5]]), b0=np.array([0.25]))
    loaded = load_weights(tmp_path / "f.npz", Q)
    assert loaded.w[0].tolist() == [[2**41]] and loaded.b[0].tolist() == [2**24]
    np.savez(tmp_path / "none.npz", x=np.zeros(1))
    with pytest.raises(SpecError, match="W0"):
        load_weights(tmp_path / "none.npz", Q)


def test_weights_check_rejects_mismatches() -> None:
    model = ModelSpec((3, 2), bias=False)
    with pytest.raises(SpecError, match="expected int64"):
        Weights((np.zeros((2, 3), np.int64),)).check(model)
    with pytest.raises(SpecError, match="bias"):
        Weights((np.zeros((3, 2), np.int64),), (np.zeros(2, np.int64),)).check(model)


class FakeTensor:
    """Just enough of a torch tensor: detach().cpu().numpy()."""

    def __init__(self, a: np.ndarray) -> None:
        self.a = a

    def detach(self) -> FakeTensor:
        return self

    def cpu(self) -> FakeTensor:
        return self

    def numpy(self) -> np.ndarray:
        return self.a


class Linear:
    def __init__(self, weight: np.ndarray, bias: np.ndarray | None) -> None:
        self.weight = FakeTensor(weight)
        self.bias = FakeTensor(bias) if bias is not None else None


class ReLU:
    pass


class Sequential(list):
    """Iterable like nn.Sequential."""


def test_from_torch_duck_typed() -> None:
    w0 = np.array([[0.5, -0.25], [1.0, 0.0], [0.125, 0.75]])  # torch layout [out=3, in=2]
    w1 = np.array([[1.0, -1.0, 0.5]])  # [out=1, in=3]
    seq = Sequential([Linear(w0, np.array([0.5, 0.0, -0.5])), ReLU(), Linear(w1, np.array([0.25]))])
    model, weights = from_torch(seq, Q)
    assert model == ModelSpec((2, 3, 1), bias=True)
    assert np.array_equal(dequantize(weights.w[0], Q.weight_exp), w0.T)
    assert np.array_equal(dequantize(weights.b[1], Q.bias_exp), [0.25])


@pytest.mark.parametrize(
    "layers, message",
    [
        ([ReLU()], "expected Linear"),
        ([Linear(np.ones((2, 2)), None), ReLU()], "expected Linear"),
        ([Linear(np.ones((2, 2)), None), ReLU(), Linear(np.ones((1, 2)), np.ones(1))], "every Linear"),
        ([Linear(np.ones((3, 2)), None), ReLU(), Linear(np.ones((1, 2)), None)], "layer 1"),
    ],
)
def test_from_torch_rejects_other_architectures(layers: list[Any], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        from_torch(Sequential(layers), Q)


def test_from_torch_with_real_torch() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    seq = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    model, weights = from_torch(seq, Q)
    assert model == ModelSpec((4, 8, 3), bias=True)
    expected = seq[0].weight.detach().numpy().T.astype(np.float64)
    assert np.allclose(dequantize(weights.w[0], Q.weight_exp), expected, atol=2.0**-Q.weight_exp)


def test_a_run_of_no_steps_is_refused_when_the_spec_is_resolved() -> None:
    with pytest.raises(SpecError, match="the run would have 0 steps: give --steps N ≥ 1"):
        resolve_spec({"train": {"steps": 0}}, n_features=64, classes=10, n_train=1437)


def test_random_bytes_given_as_weights_are_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "w.npz").write_bytes(bytes(range(256)))
    with pytest.raises(SpecError, match=r"not a readable \.npz of weights"):
        load_weights(tmp_path / "w.npz", Q)
