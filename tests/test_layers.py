"""Layers only look down: the chain client, the verifier service and the buyer tools depend on the
proof layer's public facts (statement, digests, what a bundle claims), never on the top-level API,
the trainer or the prover, and importing them does not load the native kernels. Their subcommands
register with zkdl.commands, so none of them imports the command line (zkdl.cli) back."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import zkdl

ROOT = Path(__file__).resolve().parent.parent
UPPER = ("zkdl._kernels", "zkdl.api", "zkdl.train", "zkdl.proof.training", "zkdl.cli")


def _modules(*packages: str) -> list[str]:
    names = []
    for package in packages:
        names.append(package)
        path = [str(Path(zkdl.__file__).parent / package.split(".")[1])]
        names += [info.name for info in pkgutil.walk_packages(path, prefix=package + ".")]
    return names


MODULES = _modules("zkdl.chain", "zkdl.service", "zkdl.market")


def test_every_module_of_the_three_packages_is_checked():
    assert {"zkdl.chain.register", "zkdl.chain.client", "zkdl.service.report", "zkdl.market.query"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_importing_loads_nothing_from_the_layers_above(module):
    probe = f"import sys, {module}; print(' '.join(n for n in {UPPER!r} if n in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [], f"importing {module} loads {done.stdout.strip()}"


def test_the_prover_reads_the_witness_not_the_trainer():
    """zkdl.proof takes a zkdl.witness.Witness: importing the prover loads neither the trainer nor
    the run directory code."""
    probe = "import sys, zkdl.proof.training; print(' '.join(n for n in ('zkdl.train', 'zkdl.run') if n in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []
