"""Fixtures for the chain tests: the embedded chain and a real anvil node, behind one `chain` fixture.

Every test that takes `chain` (or `env`) runs once per backend, so the client is checked against both
eth-tester/py-evm (in process) and anvil (JSON-RPC over HTTP). anvil comes from npm
(`node_modules/.bin/anvil`); without it those tests FAIL, telling you to run `npm ci`. A test that
takes `db_location` (tests/pgserver.py) runs once per outbox backend, SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3

from tests.localnode import anvil
from tests.pgserver import db_location, pg_server, pg_url  # noqa: F401 - fixtures
from zkdl.chain import RegistrationRequest, RegistryClient, deploy_registry, embedded_accounts, embedded_chain

ROOT = Path(__file__).resolve().parents[2]
VERSION = keccak(text="zkdl-verifier/1")
BACKENDS = ["embedded", "anvil"]


@pytest.fixture(scope="session")
def anvil_url() -> Iterator[str]:
    """Start anvil on 127.0.0.1 with a free port, wait until it answers, stop it afterwards."""
    with anvil() as w3:
        yield w3.provider.endpoint_uri


@pytest.fixture(scope="session")
def accounts() -> list[LocalAccount]:
    """Ten signing accounts; funded on both backends (eth-tester's defaults, topped up on anvil)."""
    return embedded_accounts()


@pytest.fixture(params=BACKENDS)
def chain(request, accounts) -> Web3:
    """A Web3 on a fresh embedded chain, or on the session's anvil node."""
    if request.param == "embedded":
        return embedded_chain()
    w3 = Web3(Web3.HTTPProvider(request.getfixturevalue("anvil_url"), request_kwargs={"timeout": 30}))
    for account in accounts:  # anvil funds its own dev keys; fund ours so both backends share accounts
        w3.provider.make_request("anvil_setBalance", [account.address, hex(10**22)])
    return w3


@dataclass
class Env:
    """A freshly deployed registry (quorum 2) with named accounts."""

    w3: Web3
    client: RegistryClient
    admin: LocalAccount
    verifiers: list[LocalAccount]
    owner: LocalAccount
    relayer: LocalAccount
    stranger: LocalAccount

    def client_as(self, account: LocalAccount) -> RegistryClient:
        return RegistryClient(self.w3, self.client.address, account)


@pytest.fixture
def env(chain, accounts) -> Env:
    admin, v1, v2, v3, owner, relayer, stranger = accounts[:7]
    record = deploy_registry(chain, admin, quorum=2, verifiers=[v.address for v in (v1, v2, v3)])
    client = RegistryClient(chain, record.address, admin)
    return Env(chain, client, admin, [v1, v2, v3], owner, relayer, stranger)


def request_for(tag: str, **overrides) -> RegistrationRequest:
    """A registration request whose digests are distinct per `tag`."""
    fields = dict(
        c_data_digest=keccak(text=f"{tag}/C_data"),
        c_w0_digest=keccak(text=f"{tag}/C_W0"),
        c_wt_digest=keccak(text=f"{tag}/C_WT"),
        statement_digest=keccak(text=f"{tag}/statement"),
        proof_digest=keccak(text=f"{tag}/proof"),
        verifier_version=VERSION,
        bundle_uri=f"file:///bundles/{tag}.zkdl",
        metadata_uri=f"ipfs://meta/{tag}",
    )
    fields.update(overrides)
    return RegistrationRequest(**fields)


@pytest.fixture
def deployments_dir(tmp_path) -> Path:
    """An empty record directory; the repo's deploy/deployments is never written by tests."""
    path = tmp_path / "deployments"
    os.makedirs(path)
    return path


@pytest.fixture
def make_request():
    """`make_request(tag, **overrides)`: a RegistrationRequest with digests distinct per tag."""
    return request_for
