"""The artifact shipped in zkdl/chain/artifacts must match contracts/ (else: run the export script)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from zkdl.chain import RegistryClient, load_artifact
from zkdl.chain.artifacts import abi_hash, contract_sources, source_fingerprint
from zkdl.chain.errors import error_classes

ROOT = Path(__file__).resolve().parents[2]
REGEN = "run `node deploy/export-artifacts.js` (after `npm ci`) and commit zkdl/chain/artifacts/"


def test_shipped_artifact_matches_the_contract_sources():
    artifact = load_artifact()
    assert artifact.source_fingerprint == source_fingerprint(ROOT), (
        f"zkdl/chain/artifacts/ModelRegistry.json is stale against contracts/, solc settings or the OpenZeppelin pin: {REGEN}"
    )
    assert sorted(artifact.provenance["sources"]) == contract_sources(ROOT)


def test_artifact_provenance_pins_a_deterministic_build():
    p = load_artifact().provenance
    assert p["solc"]["version"] == "0.8.30" and p["compiler"].startswith("solc-js 0.8.30+commit")
    settings = p["solc"]["settings"]
    # py-evm (the embedded chain) has no Osaka: prague is the newest EVM every backend runs.
    assert settings["evmVersion"] == "prague"
    assert settings["metadata"]["bytecodeHash"] == "none" and settings["optimizer"]["enabled"] is True
    assert isinstance(settings["optimizer"]["runs"], int)


def test_artifact_is_consistent_and_under_the_size_limit():
    artifact = load_artifact()
    assert artifact.abi_hash == abi_hash(artifact.abi)
    assert artifact.bytecode.startswith("0x") and len(artifact.bytecode) > 1000
    runtime = (len(artifact.deployed_bytecode) - 2) // 2
    assert runtime < 24_576, f"runtime code is {runtime} bytes, above the EIP-170 limit"


def test_every_abi_error_has_a_typed_python_error():
    names = {e["name"] for e in load_artifact().abi if e["type"] == "error"}
    missing = names - set(error_classes())
    assert not missing, f"add RegistryError subclasses for {sorted(missing)} in zkdl/chain/errors.py"


def test_every_contract_function_has_a_client_method():
    names = {e["name"] for e in load_artifact().abi if e["type"] == "function"}
    snake = {n: re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", n).lower() for n in names}
    missing = sorted(n for n, s in snake.items() if not callable(getattr(RegistryClient, s, None)))
    assert not missing, f"RegistryClient lacks methods for {missing}"


def test_recompiling_gives_the_shipped_bytecode():
    """The shipped artifact is exactly what the pinned compiler makes of contracts/ (make test runs npm ci)."""
    if shutil.which("node") is None or not (ROOT / "node_modules" / "solc").exists():
        pytest.fail("node or node_modules/solc missing: run `npm ci` (make test does) to recompile and diff", pytrace=False)
    proc = subprocess.run(["node", "deploy/export-artifacts.js", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{proc.stdout}{proc.stderr}\n{REGEN}"
