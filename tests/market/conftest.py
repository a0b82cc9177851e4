"""Fixtures of the market tests: one tiny proven run per session, registries on the embedded chain
and on anvil, and a runner for the `zkdl` commands as subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from tests.localnode import anvil, free_port
from zkdl.chain import RegistryClient, deploy_registry, embedded_accounts, embedded_chain

ROOT = Path(__file__).resolve().parents[2]
# The market commands register themselves on import; cli.py imports them once the lead wires them in,
# so this works before and after that.
_ZKDL = "import sys, zkdl.market.command; from zkdl.cli import main; sys.exit(main())"


def zkdl(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `zkdl ARGS...` in a subprocess (never raises on a non-zero exit)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ZKDL_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", _ZKDL, *args], capture_output=True, text=True, env=full_env, timeout=timeout, cwd=ROOT)


@dataclass(frozen=True)
class Proved:
    """A tiny trained and proven run (64-8-10, batch 4, 2 steps)."""

    root: Path
    run_dir: Path
    bundle_path: Path
    opening_path: Path
    weights: Path  # the true final weights (.npz)
    changed_weights: Path  # the same with one weight changed by one unit
    wrong_shape: Path  # weights of another architecture

    @property
    def bundle(self) -> bytes:
        return self.bundle_path.read_bytes()

    def for_owner(self, address: str) -> Path:
        """The same run proven for another owner (its own model, not a copy): the bundle's path,
        with its opening beside it; proven once per owner."""
        from zkdl import api

        path = self.root / f"run-{address.lower()}.zkdl"
        if not path.exists():
            api.prove(self.run_dir, path, owner=address)
        return path


@pytest.fixture(scope="session")
def proved(tmp_path_factory) -> Proved:
    from zkdl import api

    root = tmp_path_factory.mktemp("market-run")
    done = zkdl("train", "--out", str(root / "run"), "--hidden", "8", "--batch", "4", "--steps", "2", "--no-progress")
    assert done.returncode == 0, done.stderr
    result = api.prove(root / "run", root / "run.zkdl", owner=embedded_accounts()[2].address)  # Env.owner
    weights = root / "run" / "weights_final.npz"
    with np.load(weights) as z:
        arrays = {k: z[k] for k in z.files}
    changed = dict(arrays)
    changed["W0"] = arrays["W0"].copy()
    changed["W0"][0, 0] += 1
    np.savez(root / "changed.npz", **changed)
    np.savez(root / "wrong_shape.npz", W0=np.zeros((64, 9), np.int64), W1=np.zeros((9, 10), np.int64))
    return Proved(
        root, root / "run", Path(result.bundle_path), Path(result.opening_path), weights, root / "changed.npz", root / "wrong_shape.npz"
    )


@dataclass
class Env:
    """A fresh registry (quorum 1) with named accounts."""

    w3: Web3
    client: RegistryClient  # sends as the admin
    admin: LocalAccount
    verifier: LocalAccount
    owner: LocalAccount
    relayer: LocalAccount
    other_owner: LocalAccount

    def client_as(self, account: LocalAccount) -> RegistryClient:
        return RegistryClient(self.w3, self.client.address, account)


def make_env(w3: Web3) -> Env:
    admin, verifier, owner, relayer, other = embedded_accounts()[:5]
    record = deploy_registry(w3, admin, quorum=1)
    client = RegistryClient(w3, record.address, admin)
    client.grant_verifier(verifier.address)
    return Env(w3, client, admin, verifier, owner, relayer, other)


@pytest.fixture
def env() -> Env:
    """A registry on a fresh embedded chain."""
    return make_env(embedded_chain())


@pytest.fixture(scope="module")
def anvil_url() -> Iterator[str]:
    """anvil on 127.0.0.1 with a free port; stopped (this process only) afterwards."""
    with anvil() as w3:
        yield w3.provider.endpoint_uri


@pytest.fixture(scope="module")
def anvil_env(anvil_url) -> Env:
    """A registry on anvil; our accounts (eth-tester's keys) are funded there."""
    w3 = Web3(Web3.HTTPProvider(anvil_url, request_kwargs={"timeout": 30}))
    for account in embedded_accounts()[:6]:
        w3.provider.make_request("anvil_setBalance", [account.address, hex(10**22)])
    return make_env(w3)


@pytest.fixture
def free_url() -> str:
    """An http URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
def run_zkdl():
    """`run_zkdl(*args, env=...)`: the zkdl command in a subprocess."""
    return zkdl


def zkdl_in_process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The same as `zkdl` in this process (no interpreter start-up: for the many error-path checks)."""
    import contextlib
    import io
    from unittest import mock

    import zkdl.market.command  # noqa: F401 - registers the market subcommands
    from zkdl.cli import main

    clean = {k: v for k, v in os.environ.items() if not k.startswith("ZKDL_")}
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, {**clean, **(env or {})}, clear=True),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
    return subprocess.CompletedProcess(["zkdl", *args], code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def cli():
    """`cli(*args, env=...)`: the zkdl command in this process."""
    return zkdl_in_process
