"""Deploy the ModelRegistry from the shipped artifact (no Node needed) and keep deployment records.

A record per chain id (`<deployments dir>/<chainId>.json`) holds address, block, tx hash, ABI hash
and runtime-code hash. Deploying is idempotent: when a record exists and the chain still has the
recorded code at the recorded address with the shipped ABI, nothing is sent. The embedded chain is
ephemeral and gets no record.

Command line (the key comes from the environment, never from an argument):

    ZKDL_DEPLOYER_KEY=0x... python -m zkdl.chain.deploy --rpc http://127.0.0.1:8545 --quorum 2
    ZKDL_DEPLOYER_KEYSTORE=key.json ZKDL_DEPLOYER_KEYSTORE_PASSWORD=... python -m zkdl.chain.deploy --rpc URL
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eth_utils import encode_hex, keccak, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import Web3Exception

from .artifacts import load_artifact
from .client import SUPPORTED_MAJOR, RegistryClient, Sender
from .errors import DeploymentError, RegistryError, RevertDecoder, UnknownRevertError, revert_data
from .keys import AccountKeyError, load_account

DEPLOYMENTS_ENV = "ZKDL_DEPLOYMENTS_DIR"
DEFAULT_ADMIN_DELAY_S = 3 * 24 * 3600  # a default-admin transfer waits this long: time to notice a stolen admin key
_REPO_DEPLOYMENTS = Path(__file__).resolve().parents[2] / "deploy" / "deployments"


@dataclass(frozen=True)
class Deployment:
    """A deployment record (the JSON keys are these names in camelCase)."""

    chain_id: int
    address: str
    block_number: int
    block_hash: str
    transaction_hash: str
    deployer: str
    admin: str
    quorum: int
    abi_hash: str
    code_hash: str
    source_fingerprint: str
    contract: str = "ModelRegistry"

    def to_json(self) -> dict[str, Any]:
        return {_camel(k): v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Deployment:
        return cls(**{k: data[_camel(k)] for k in cls.__dataclass_fields__})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def deployments_dir(directory: str | Path | None = None) -> Path:
    """Where records live: the argument, else $ZKDL_DEPLOYMENTS_DIR, else deploy/deployments of the checkout."""
    return Path(directory or os.environ.get(DEPLOYMENTS_ENV) or _REPO_DEPLOYMENTS)


def record_path(chain_id: int, directory: str | Path | None = None) -> Path:
    return deployments_dir(directory) / f"{chain_id}.json"


def read_deployment(chain_id: int, directory: str | Path | None = None) -> Deployment:
    """The record for `chain_id`; `DeploymentError` if there is none."""
    path = record_path(chain_id, directory)
    if not path.exists():
        raise DeploymentError(
            f"no ModelRegistry deployment recorded for chain {chain_id} at {path}",
            "deploy one with `zkdl admin deploy`, or point $ZKDL_DEPLOYMENTS_DIR (--deployments-dir) at the directory of its record",
        )
    return Deployment.from_json(json.loads(path.read_text("utf-8")))


def write_deployment(deployment: Deployment, directory: str | Path | None = None) -> Path:
    path = record_path(deployment.chain_id, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(deployment.to_json(), indent=2) + "\n", "utf-8")
    tmp.replace(path)  # atomic: a crash never leaves half a record
    return path


def deploy_registry(
    w3: Web3,
    sender: Sender,
    *,
    admin: str | None = None,
    quorum: int = 1,
    verifiers: Sequence[str] = (),
    admin_delay_s: int = DEFAULT_ADMIN_DELAY_S,
) -> Deployment:
    """Deploy a new registry (admin defaults to the sender) with its first verifiers and a quorum of
    1 to their number, and return its record (not written)."""
    artifact = load_artifact()
    sender_address = to_checksum_address(sender if isinstance(sender, str) else sender.address)
    admin = to_checksum_address(admin or sender_address)
    contract = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    ctor = contract.constructor(admin, admin_delay_s, [to_checksum_address(v) for v in verifiers], quorum)
    try:
        tx_hash = _send_deploy(w3, ctor, sender)
    except Exception as exc:
        data = revert_data(exc)
        if data is None:
            raise
        raise RevertDecoder(artifact.abi).decode(data) from exc
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=300)
    if receipt["status"] != 1 or not receipt["contractAddress"]:
        raise UnknownRevertError(f"deployment transaction {encode_hex(tx_hash)} failed", data="0x")
    address = receipt["contractAddress"]
    return Deployment(
        chain_id=w3.eth.chain_id,
        address=address,
        block_number=receipt["blockNumber"],
        block_hash=encode_hex(receipt["blockHash"]),
        transaction_hash=encode_hex(tx_hash),
        deployer=sender_address,
        admin=admin,
        quorum=quorum,
        abi_hash=artifact.abi_hash,
        code_hash=_code_hash(w3, address),
        source_fingerprint=artifact.source_fingerprint,
    )


def _send_deploy(w3: Web3, ctor: Any, sender: Sender) -> HexBytes:
    if isinstance(sender, str):
        return ctor.transact({"from": to_checksum_address(sender)})
    nonce = w3.eth.get_transaction_count(sender.address, "pending")
    tx = ctor.build_transaction({"from": sender.address, "nonce": nonce})
    return w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)


def _code_hash(w3: Web3, address: str) -> str:
    # The runtime code as deployed (immutables filled in), so it identifies this very deployment.
    return encode_hex(keccak(bytes(w3.eth.get_code(to_checksum_address(address)))))


def check_deployment(w3: Web3, record: Deployment) -> None:
    """Raise `DeploymentError` unless the chain matches the record and the shipped artifact."""
    if w3.eth.chain_id != record.chain_id:
        raise DeploymentError(
            f"the node is on chain {w3.eth.chain_id}, the record is for {record.chain_id}", "connect to the right network"
        )
    if record.abi_hash != load_artifact().abi_hash:
        raise DeploymentError(
            f"the registry at {record.address} was deployed from another ABI (registry version "
            f"{_chain_version(w3, record.address)}; this zkdl speaks version {SUPPORTED_MAJOR}.x)",
            "redeploy (`zkdl admin deploy --redeploy`) or use the zkdl version that deployed it",
        )
    if _code_hash(w3, record.address) != record.code_hash:
        raise DeploymentError(
            f"chain {record.chain_id} has no recorded registry code at {record.address}",
            "the chain was reset (dev node?) or the record is wrong: redeploy with `zkdl admin deploy --redeploy`",
        )


def _chain_version(w3: Web3, address: str) -> str:
    """What the contract at `address` says its version is ("unknown" if it does not answer)."""
    try:
        return RegistryClient(w3, address).version()
    except (RegistryError, Web3Exception):
        return "unknown"


def ensure_deployed(
    w3: Web3,
    sender: Sender,
    directory: str | Path | None = None,
    *,
    admin: str | None = None,
    quorum: int = 1,
    verifiers: Sequence[str] = (),
    redeploy: bool = False,
    admin_delay_s: int = DEFAULT_ADMIN_DELAY_S,
) -> tuple[Deployment, bool]:
    """Idempotent deploy: reuse the recorded registry if it checks out, else deploy and record.

    Returns (record, deployed_now). Without `redeploy`, a record that no longer matches the chain is
    an error rather than silently replaced: a real network's record must never change by accident.
    """
    path = record_path(w3.eth.chain_id, directory)
    if path.exists() and not redeploy:
        record = read_deployment(w3.eth.chain_id, directory)
        check_deployment(w3, record)
        return record, False
    record = deploy_registry(w3, sender, admin=admin, quorum=quorum, verifiers=verifiers, admin_delay_s=admin_delay_s)
    write_deployment(record, directory)
    return record, True


def client_from_deployment(
    w3: Web3, directory: str | Path | None = None, sender: Sender | None = None, *, check: bool = True
) -> RegistryClient:
    """A client for the registry recorded for the node's chain."""
    record = read_deployment(w3.eth.chain_id, directory)
    client = RegistryClient(w3, record.address, sender)
    if check:
        check_deployment(w3, record)
        client.check_version()
    return client


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zkdl.chain.deploy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rpc", required=True, help="JSON-RPC URL (http:// or https://)")
    parser.add_argument("--quorum", type=int, default=1, help="valid attestations needed for Verified (1 to the number of verifiers)")
    parser.add_argument("--verifier", action="append", default=[], help="a first verifier's address (repeat for several)")
    parser.add_argument("--admin", help="admin and pauser address (default: the deployer)")
    parser.add_argument("--keystore", help="encrypted keystore file (password in $ZKDL_DEPLOYER_KEYSTORE_PASSWORD)")
    parser.add_argument("--deployments-dir", help=f"record directory (default: ${DEPLOYMENTS_ENV} or deploy/deployments)")
    parser.add_argument("--redeploy", action="store_true", help="deploy even if a record exists, replacing it")
    args = parser.parse_args(argv)
    try:
        w3 = _connect(args.rpc)
        account = load_account("deployer", keystore=args.keystore)
        record, deployed = ensure_deployed(
            w3, account, args.deployments_dir, admin=args.admin, quorum=args.quorum, verifiers=args.verifier, redeploy=args.redeploy
        )
    except (RegistryError, AccountKeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    verb = "deployed" if deployed else "already deployed (record checked)"
    print(
        f"ModelRegistry {verb} on chain {record.chain_id} at {record.address} "
        f"(block {record.block_number}); record: {record_path(record.chain_id, args.deployments_dir)}"
    )
    return 0


def _connect(url: str) -> Web3:
    if not url.startswith(("http://", "https://")):
        raise DeploymentError(f"unsupported RPC URL {url}", "use an http(s):// JSON-RPC URL")
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))
    if not w3.is_connected():
        raise DeploymentError(f"cannot reach a JSON-RPC node at {url}", "start the node or fix --rpc")
    return w3


if __name__ == "__main__":
    sys.exit(main())
