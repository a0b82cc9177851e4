"""Shared fixtures: the shipped digits data set and small recorded training runs (session-wide)."""

from __future__ import annotations

from pathlib import Path

import pytest

from zkdl.data import Dataset, load_digits
from zkdl.model import ModelSpec, TrainSpec
from zkdl.quant import QuantParams


@pytest.fixture(scope="session")
def digits() -> Dataset:
    """The shipped digits data set."""
    return load_digits()


def small_spec(bias: bool, steps: int = 6) -> TrainSpec:
    """A small digits network (64-24-16-10, batch 16) that keeps Python-int replays fast."""
    return TrainSpec(
        model=ModelSpec((64, 24, 16, 10), bias=bias),
        quant=QuantParams(),
        batch=16,
        steps=steps,
        schedule_seed=7,
        init_seed=3,
    )


@pytest.fixture(scope="session", params=[False, True], ids=["nobias", "bias"])
def small_run_dir(
    request: pytest.FixtureRequest, digits: Dataset, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A saved 6-step run directory, without and with biases."""
    from zkdl.train import train  # lazily: suites that never train need not load the kernels

    run = train(small_spec(request.param), digits)
    return run.save(tmp_path_factory.mktemp(f"run_{request.param_index}"))
