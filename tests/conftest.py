"""Shared fixtures: the shipped digits data set and small recorded training runs (session-wide)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from zkdl.data import Dataset, load_digits
from zkdl.model import ModelSpec, TrainSpec
from zkdl.quant import QuantParams

# The generator cache of the test session (and of the processes it starts): tests never write to
# the user's cache directory.
os.environ.setdefault("ZKDL_CACHE_DIR", tempfile.mkdtemp(prefix="zkdl-test-cache-"))


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
def small_run_dir(request: pytest.FixtureRequest, digits: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved 6-step run directory, without and with biases."""
    from zkdl.train import train  # lazily: suites that never train need not load the kernels

    run = train(small_spec(request.param), digits)
    return run.save(tmp_path_factory.mktemp(f"run_{request.param_index}"))


# ---- training proofs (tests/test_proof_soundness.py, _completeness.py, _bundle.py) ----------------


def tiny_spec(steps: int = 3, widths: tuple[int, ...] = (6, 8, 5, 3), lr_exp: int = 10) -> TrainSpec:
    """The soundness suite's run: every padded axis has padding (input columns 6..7 of N = 8, hidden
    columns 5..7 of layer 1, output columns 3..7, layer slot 3 of 4, step slot 3 of 4, samples
    24..31 of 32), so padding cheats have somewhere to hide."""
    return TrainSpec(
        model=ModelSpec(widths, bias=False),
        quant=QuantParams(lr_exp=lr_exp),
        batch=4,
        steps=steps,
        schedule_seed=5,
        init_seed=1,
    )


@pytest.fixture(scope="session")
def tiny_data() -> Dataset:
    """24 synthetic samples, 6 features (pixels 0..16 at scale 2^4), 3 classes."""
    from tests.proof_cheats import synthetic

    return synthetic(24, 6, 3)


@pytest.fixture(scope="session")
def tiny_proof(tiny_data: Dataset):
    """The honest run of `tiny_spec`, its statement, secrets, tables and proof (tests.proof_cheats.Honest)."""
    from tests.proof_cheats import honest

    return honest(tiny_spec(), tiny_data)
