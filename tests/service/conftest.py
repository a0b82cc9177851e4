"""Fixtures of the service tests: one tiny proven training run per session (proving takes seconds),
and named signing accounts (eth-tester's default keys, funded on anvil by the tests)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from tests.pgserver import db_location, pg_server, pg_url  # noqa: F401 - fixtures

sys.path.insert(0, str(Path(__file__).parent))  # svc_support, serve_process


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A proof bundle of a 2-step 64-8-10 run, bound to the tests' owner (accounts[4]): bytes, path
    and every digest the registry stores."""
    return _proved(tmp_path_factory, 4)


@pytest.fixture(scope="session")
def other_bundle(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The same run proven for a second owner (accounts[6]): that owner's own model, not a copy."""
    return _proved(tmp_path_factory, 6)


@pytest.fixture(scope="session")
def same_data_bundle(tmp_path_factory: pytest.TempPathFactory, bundle: dict[str, Any]) -> dict[str, Any]:
    """The same run proven for accounts[6] on `bundle`'s committed data set (its proof and key files):
    a second model with the same data-set id."""
    return _proved(tmp_path_factory, 6, dataset=bundle["dataset_path"])


def _proved(tmp_path_factory: pytest.TempPathFactory, owner: int, dataset: Path | None = None) -> dict[str, Any]:
    from zkdl import api
    from zkdl.chain import embedded_accounts
    from zkdl.cli import main

    work = tmp_path_factory.mktemp("bundle")
    assert main(["train", "--out", str(work / "run"), "--hidden", "8", "--batch", "4", "--steps", "2", "--no-progress"]) == 0
    result = api.prove(work / "run", work / "run.zkdl", owner=embedded_accounts()[owner].address, dataset=dataset)
    data = Path(result.bundle_path).read_bytes()
    info = api.inspect(data)
    digests = info["commitment_digests"]
    return {
        "path": Path(result.bundle_path),
        "bytes": data,
        "info": info,
        "statement_digest": bytes.fromhex(info["statement_digest"][2:]),
        "proof_digest": bytes.fromhex(info["proof_digest"][2:]),
        "c_data": bytes.fromhex(digests["c_data"][2:]),
        "c_w0": bytes.fromhex(digests["c_w0"][2:]),
        "c_wt": bytes.fromhex(digests["c_wt"][2:]),
        "dataset": Path(result.dataset_path).read_bytes(),  # its data set's proof file (zkdl prove wrote it)
        "dataset_path": Path(result.dataset_path),
    }


@pytest.fixture(scope="session")
def accounts() -> list[LocalAccount]:
    from zkdl.chain import embedded_accounts

    return embedded_accounts()
