"""Which chain and which registry: the `--rpc` / `--registry` options shared by the market commands.

The embedded chain is ephemeral (a fresh chain per process), so a command, which is its own process,
needs a real node: `--rpc URL` or `$ZKDL_RPC_URL`. The registry is `--registry ADDRESS`, else
`$ZKDL_REGISTRY`, else the deployment record of the node's chain id (`zkdl.chain.deploy`,
`--deployments-dir` or `$ZKDL_DEPLOYMENTS_DIR`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from zkdl.errors import EXIT_UNUSABLE, ZkdlError

if TYPE_CHECKING:  # web3 is imported when a node is used, so that `zkdl --help` stays fast
    from web3 import Web3

RPC_ENV = "ZKDL_RPC_URL"
REGISTRY_ENV = "ZKDL_REGISTRY"
STORE_ENV = "ZKDL_STORE"
DEFAULT_STORE = "~/.zkdl/bundles"
DEFAULT_OUTBOX = "~/.zkdl/outbox.sqlite"
RPC_TIMEOUT_S = 30.0


class ChainConfigError(ZkdlError, ValueError):
    """No usable node or registry: a missing or unreachable RPC URL, a wrong registry address."""

    code = "chain-config"
    exit_code = EXIT_UNUSABLE


def add_chain_arguments(p: argparse.ArgumentParser) -> None:
    """`--rpc`, `--registry`, `--deployments-dir` (for every command that reads the registry)."""
    p.add_argument("--rpc", help=f"JSON-RPC URL of the node, http(s):// (default ${RPC_ENV})")
    p.add_argument("--registry", help=f"ModelRegistry address (default ${REGISTRY_ENV}, else the deployment record of the node's chain)")
    p.add_argument("--deployments-dir", help="directory of deployment records (default $ZKDL_DEPLOYMENTS_DIR or deploy/deployments)")


def add_publish_arguments(p: argparse.ArgumentParser) -> None:
    """`--store`, `--store-url`, `--keystore` (for every command that stores a file and registers it as its owner)."""
    from zkdl.chain.keys import keystore_help

    p.add_argument("--store", help=f"bundle store directory (default ${STORE_ENV} or {DEFAULT_STORE})")
    p.add_argument(
        "--store-url",
        help="http(s) URL under which the store directory is served: the registered URI is then an http(s) URI (default: a file:// URI)",
    )
    p.add_argument("--keystore", help=keystore_help("owner"))


def rpc_url(explicit: str | None, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    url = explicit or env.get(RPC_ENV)
    if not url:
        raise ChainConfigError(
            f"no node to talk to: pass --rpc URL or set ${RPC_ENV} (e.g. http://127.0.0.1:8545); "
            "the embedded chain lives only inside one process, so commands need a real node"
        )
    return url


def connect(url: str, *, timeout_s: float = RPC_TIMEOUT_S) -> Web3:
    """A Web3 on the JSON-RPC node at `url`; `ChainConfigError` naming the URL if it does not answer."""
    from web3 import Web3

    if not url.startswith(("http://", "https://")):
        raise ChainConfigError(f"unsupported RPC URL {url!r}: give an http:// or https:// JSON-RPC URL (--rpc or ${RPC_ENV})")
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout_s}))
    try:
        w3.eth.chain_id  # noqa: B018 - reading the property is the reachability probe
    except Exception as exc:
        raise ChainConfigError(
            f"cannot reach a JSON-RPC node at {url} ({_short(exc)}): start the node, or fix --rpc / ${RPC_ENV}"
        ) from None
    return w3


def registry_address(
    w3: Web3, explicit: str | None, deployments_dir: str | Path | None = None, env: Mapping[str, str] | None = None
) -> str:
    """The registry to use, checked: code at the address that answers as a ModelRegistry."""
    from eth_utils import is_address, to_checksum_address

    from zkdl.chain.deploy import check_deployment, read_deployment
    from zkdl.chain.errors import DeploymentError

    env = os.environ if env is None else env
    given = explicit or env.get(REGISTRY_ENV)
    chain_id = w3.eth.chain_id
    if given:
        if not is_address(given):
            raise ChainConfigError(f"--registry / ${REGISTRY_ENV} {given!r} is not an Ethereum address")
        address = to_checksum_address(given)
        if not bytes(w3.eth.get_code(address)):
            raise ChainConfigError(
                f"chain {chain_id} has no contract at {address}: check --registry / "
                f"${REGISTRY_ENV} and that --rpc points to the right network"
            )
        return address
    try:
        record = read_deployment(chain_id, deployments_dir)
        check_deployment(w3, record)
    except DeploymentError as exc:
        raise ChainConfigError(f"no registry given and {exc.user_message}; or pass --registry ADDRESS (${REGISTRY_ENV})") from None
    return to_checksum_address(record.address)


def open_client(rpc: str | None, registry: str | None, deployments_dir: str | Path | None = None, *, sender=None):
    """`RegistryClient` on the configured node and registry (for the commands)."""
    from zkdl.chain.client import RegistryClient
    from zkdl.chain.errors import RegistryVersionError

    w3 = connect(rpc_url(rpc))
    client = RegistryClient(w3, registry_address(w3, registry, deployments_dir), sender)
    try:
        client.check_version()
    except RegistryVersionError:
        raise
    except Exception as exc:
        raise ChainConfigError(
            f"the contract at {client.address} on chain {client.chain_id} does not answer as a "
            f"ModelRegistry ({_short(exc)}): check --registry"
        ) from None
    return client


def store_dir(explicit: str | None, env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(explicit or env.get(STORE_ENV) or DEFAULT_STORE).expanduser()


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "..."
