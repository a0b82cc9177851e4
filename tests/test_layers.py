"""Layers only look down: the chain client, the verifier service and the buyer tools depend on the
proof layer's public facts (statement, digests, what a bundle claims), never on the top-level API,
the trainer or the prover, and importing them does not load the native kernels. Their subcommands
register with zkdl.commands, so none of them imports the command line (zkdl.cli) back."""

from __future__ import annotations

import ast
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


SIBLINGS = {"chain": ("zkdl.service", "zkdl.market"), "service": ("zkdl.market",), "market": ("zkdl.service",)}


def _imported(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function, relative imports resolved."""
    package = "zkdl." + path.parent.relative_to(ROOT / "zkdl").as_posix().replace("/", ".")
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]) if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            names |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    return names


@pytest.mark.parametrize("layer", sorted(SIBLINGS))
def test_the_chain_is_below_the_service_and_the_market_and_those_two_stay_apart(layer):
    """The chain client serves both; the verifier service and the buyer tools share only what lies
    below them (a lineage or a status both show is read in zkdl.chain), never each other's code."""
    crossings = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / "zkdl" / layer).rglob("*.py"))
        for name in sorted(_imported(path))
        if name.startswith(SIBLINGS[layer])
    ]
    assert crossings == []
