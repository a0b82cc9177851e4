"""``zkdl admin``: the registry operator's actions (deploy, verifiers, quorum, fee, pause, the two-step
admin transfer, a model's revocation, status) and the verifier service's `requeue`.

Keys come from the environment or a keystore (`zkdl.chain.keys`): `deploy` uses the deployer's key,
the admin actions the admin's ($ZKDL_ADMIN_KEY, else the deployer's, which is the admin unless
`deploy --admin` named another), `revoke-model` the model owner's. Every action prints one JSON
object; an action whose effect is already there sends nothing and says ``"changed": false``. A
revert is printed decoded (`zkdl.chain.errors`), with the role a key lacks named.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zkdl.commands import failure_answer, subcommand
from zkdl.errors import ZkdlError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from zkdl.chain.client import RegistryClient
    from zkdl.chain.structs import TxOutcome, VerifierInfo

Action = Callable[[argparse.Namespace], dict[str, Any]]


def _configure(p: argparse.ArgumentParser) -> None:
    from zkdl.chain.keys import key_variables, keystore_help
    from zkdl.market.connect import add_chain_arguments

    p.set_defaults(json=True)  # every answer is JSON, failures too (zkdl.cli)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name: str, help: str, key: str | None = None) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help, description=help)
        add_chain_arguments(sub)
        if key is not None:
            sub.add_argument("--keystore", help=keystore_help(key, f", then ${key_variables('deployer')[0]}" if key == "admin" else ""))
        return sub

    deploy = action("deploy", "deploy the registry and write its deployment record (a record that checks out is kept)", "deployer")
    deploy.add_argument("--verifier", action="append", default=[], metavar="ADDR", help="a first verifier (repeatable)")
    deploy.add_argument("--quorum", type=int, default=1, help="valid verdicts a model needs (1 to the number of verifiers; default 1)")
    deploy.add_argument("--admin", metavar="ADDR", help="the default admin and pauser (default: the deployer)")
    deploy.add_argument("--admin-delay", type=int, metavar="SECONDS", help="wait of an admin transfer (default 3 days)")
    deploy.add_argument("--redeploy", action="store_true", help="deploy a new registry even if the record checks out")
    for name, what in (("grant-verifier", "grant ADDR the verifier role"), ("revoke-verifier", "remove ADDR from the verifiers")):
        action(name, f"{what} (admin key)", "admin").add_argument("account", metavar="ADDR")
    action("set-quorum", "the quorum of models registered from now on (admin key)", "admin").add_argument("quorum", type=int)
    action("set-fee", "the attestation fee in wei; a registration pays it per verifier (admin key)", "admin").add_argument(
        "fee_wei", type=int, metavar="WEI"
    )
    action("pause", "stop registrations and attestations (admin or pauser key)", "admin")
    action("unpause", "resume registrations and attestations (admin or pauser key)", "admin")
    action("begin-admin-transfer", "start handing the registry to ADDR, who accepts after the delay (admin key)", "admin").add_argument(
        "account", metavar="ADDR"
    )
    action("accept-admin-transfer", "become the admin once the transfer's delay has passed (the new admin's key)", "admin")
    action("cancel-admin-transfer", "cancel a begun admin transfer (admin key)", "admin")
    action("revoke-model", "withdraw a model for good (the owner's key)", "owner").add_argument("model_id", metavar="MODEL_ID")
    action("status", "the registry's version, admin, verifiers, quorum, fee and pause state")
    requeue = actions.add_parser(
        "requeue",
        help="put a model's job in the verifier service's database back in the queue (given up, or failed)",
        description="A job given up as unavailable or failed is retried by the running service (a fresh attempt count "
        "and fetch budget; a failed attestation is signed again and resent). The database is the service's.",
    )
    requeue.add_argument("model_id", metavar="MODEL_ID")
    requeue.add_argument("--config", help="the service's TOML settings file (for its db)")
    requeue.add_argument("--db", help="the service database (default: as `zkdl serve` finds it)")


@subcommand(
    "admin",
    "operate the registry (deploy, grant-verifier, set-quorum, pause, admin transfer, status, ...) and requeue a service job",
    _configure,
    failure_json=failure_answer,
)
def _run(args: argparse.Namespace) -> int:
    print(json.dumps({"ok": True, "action": args.action, **ACTIONS[args.action](args)}, indent=2))
    return 0


# -- keys and clients ------------------------------------------------------------------------------------


def _key(args: argparse.Namespace, role: str) -> LocalAccount:
    """`role`'s key; the admin's falls back to the deployer's (the admin of a registry it deployed)."""
    from zkdl.chain.keys import AccountKeyError, load_account

    if role != "admin":
        return load_account(role, keystore=args.keystore)
    account = load_account("admin", keystore=args.keystore, required=False) or load_account("deployer", required=False)
    if account is None:
        raise AccountKeyError(
            "no admin key: set $ZKDL_ADMIN_KEY (or $ZKDL_ADMIN_KEYSTORE and $ZKDL_ADMIN_KEYSTORE_PASSWORD, or --keystore); "
            "the deployer's $ZKDL_DEPLOYER_KEY is used when it is the admin"
        )
    return account


def _client(args: argparse.Namespace, sender: LocalAccount | None = None) -> RegistryClient:
    from zkdl.market.connect import open_client

    return open_client(args.rpc, args.registry, args.deployments_dir, sender=sender)


def _send(client: RegistryClient, what: Callable[[], TxOutcome]) -> dict[str, Any]:
    """Send one transaction; a missing role is named (the decoded revert gives only its hash)."""
    from eth_utils import encode_hex
    from web3.exceptions import Web3Exception

    from zkdl.chain.errors import UnauthorizedAccountError

    try:
        tx = what()
    except Web3Exception as exc:  # the node refused it (a revert is a RegistryError by now)
        sender = client.sender.address  # type: ignore[union-attr]  # the actions send from a LocalAccount
        raise ZkdlError(
            f"the node refused the transaction from {sender} ({exc}): an account without ether for the gas needs funding"
        ) from None
    except UnauthorizedAccountError as exc:
        role = _role_name(client, exc.neededRole)
        raise UnauthorizedAccountError(
            f"{exc.account} does not hold the {role} on registry {client.address}",
            f"send it with the key of an account holding it (the admin is {client.default_admin()}): $ZKDL_ADMIN_KEY or --keystore",
            **exc.fields,
        ) from None
    return {"changed": True, "tx_hash": encode_hex(tx.tx_hash), "block": tx.block_number, "gas_used": tx.gas_used}


def _role_name(client: RegistryClient, role: str) -> str:
    names = {client.default_admin_role(): "default admin role", client.pauser_role(): "pauser role"}
    return names.get(bytes.fromhex(role[2:]), f"role {role}")


def _unchanged(**state: Any) -> dict[str, Any]:
    return {"changed": False, **state}


# -- actions -------------------------------------------------------------------------------------------


def _deploy(args: argparse.Namespace) -> dict[str, Any]:
    from zkdl.chain.deploy import DEFAULT_ADMIN_DELAY_S, ensure_deployed, record_path
    from zkdl.market.connect import connect, rpc_url

    w3 = connect(rpc_url(args.rpc))
    record, deployed = ensure_deployed(
        w3, _key(args, "deployer"), args.deployments_dir, admin=args.admin, quorum=args.quorum, verifiers=args.verifier,
        redeploy=args.redeploy, admin_delay_s=DEFAULT_ADMIN_DELAY_S if args.admin_delay is None else args.admin_delay,
    )  # fmt: skip
    return {"changed": deployed, **record.to_json(), "record": str(record_path(record.chain_id, args.deployments_dir))}


def _verifier_change(grant: bool) -> Action:
    def change(args: argparse.Namespace) -> dict[str, Any]:
        from eth_utils import to_checksum_address

        client = _client(args, _key(args, "admin"))
        account = to_checksum_address(args.account)
        if client.has_role(client.verifier_role(), account) == grant:
            return _unchanged(account=account, verifier=grant)
        send = client.grant_verifier if grant else client.revoke_verifier
        return {**_send(client, lambda: send(account)), "account": account, "verifier": grant, "verifier_count": client.verifier_count()}

    return change


def _set_quorum(args: argparse.Namespace) -> dict[str, Any]:
    client = _client(args, _key(args, "admin"))
    if client.quorum() == args.quorum:
        return _unchanged(quorum=args.quorum)
    return {**_send(client, lambda: client.set_quorum(args.quorum)), "quorum": args.quorum}


def _set_fee(args: argparse.Namespace) -> dict[str, Any]:
    client = _client(args, _key(args, "admin"))
    if client.attestation_fee() == args.fee_wei:
        return _unchanged(attestation_fee_wei=args.fee_wei)
    outcome = _send(client, lambda: client.set_attestation_fee(args.fee_wei))
    return {**outcome, "attestation_fee_wei": args.fee_wei, "registration_fee_wei": client.registration_fee()}


def _pause_change(pause: bool) -> Action:
    def change(args: argparse.Namespace) -> dict[str, Any]:
        client = _client(args, _key(args, "admin"))
        if client.paused() == pause:
            return _unchanged(paused=pause)
        return {**_send(client, client.pause if pause else client.unpause), "paused": pause}

    return change


def _begin_transfer(args: argparse.Namespace) -> dict[str, Any]:
    from eth_utils import to_checksum_address

    client = _client(args, _key(args, "admin"))
    outcome = _send(client, lambda: client.begin_default_admin_transfer(to_checksum_address(args.account)))
    return {**outcome, **_admin_json(client)}


def _accept_transfer(args: argparse.Namespace) -> dict[str, Any]:
    client = _client(args, _key(args, "admin"))
    pending, accept_after = client.pending_default_admin()
    me = client.sender.address  # type: ignore[union-attr]  # a LocalAccount (the admin key)
    if pending != me:
        raise ZkdlError(
            f"no admin transfer to {me} is pending on registry {client.address} (pending: {pending if int(pending, 16) else 'none'}): "
            "the current admin begins it with `zkdl admin begin-admin-transfer ADDR`"
        )
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    if now <= accept_after:
        raise ZkdlError(f"the admin transfer to {me} can be accepted after chain time {accept_after}, {accept_after - now} s from now")
    return {**_send(client, client.accept_default_admin_transfer), **_admin_json(client)}


def _cancel_transfer(args: argparse.Namespace) -> dict[str, Any]:
    client = _client(args, _key(args, "admin"))
    if not int(client.pending_default_admin()[0], 16):
        return _unchanged(**_admin_json(client))
    return {**_send(client, client.cancel_default_admin_transfer), **_admin_json(client)}


def _revoke_model(args: argparse.Namespace) -> dict[str, Any]:
    from zkdl.market.ids import parse_model_id

    model_id = parse_model_id(args.model_id)
    client = _client(args, _key(args, "owner"))
    record = client.get_model_record(model_id)  # UnknownModelError names an unknown id
    if record.revoked_at:
        return _unchanged(model_id=args.model_id, revoked_at=record.revoked_at)
    return {**_send(client, lambda: client.revoke_model(model_id)), "model_id": args.model_id}


def _status(args: argparse.Namespace) -> dict[str, Any]:
    client = _client(args)
    return {
        "chain_id": client.chain_id,
        "registry": client.address,
        "version": client.version(),
        "paused": client.paused(),
        "quorum": client.quorum(),
        "verifier_count": client.verifier_count(),
        "verifiers": [_verifier_json(v) for v in client.get_verifiers()],
        "attestation_fee_wei": client.attestation_fee(),
        "registration_fee_wei": client.registration_fee(),
        "max_signature_ttl_s": client.max_signature_ttl(),
        **_admin_json(client),
    }


def _verifier_json(v: VerifierInfo) -> dict[str, Any]:
    return {"account": v.account, "active": not v.removed, "granted_at": v.granted_at, "removed_at": v.removed_at or None,
            "attestations": v.attestations}  # fmt: skip


def _admin_json(client: RegistryClient) -> dict[str, Any]:
    pending, accept_after = client.pending_default_admin()
    transfer = {"to": pending, "accept_after": accept_after} if int(pending, 16) else None
    return {"admin": client.default_admin(), "admin_delay_s": client.default_admin_delay(), "pending_admin_transfer": transfer}


def _requeue(args: argparse.Namespace) -> dict[str, Any]:
    from zkdl.market.ids import parse_model_id
    from zkdl.service.config import load_config
    from zkdl.service.jobs import JobStore

    model_id = "0x" + parse_model_id(args.model_id).hex()
    config = load_config(args.config, overrides={"db": args.db})
    jobs = JobStore(config.db)
    try:
        job = jobs.requeue(model_id)
    finally:
        jobs.close()
    return {"changed": True, "model_id": model_id, "db": jobs.path, "state": job.state.value}


ACTIONS: dict[str, Action] = {
    "deploy": _deploy,
    "grant-verifier": _verifier_change(grant=True),
    "revoke-verifier": _verifier_change(grant=False),
    "set-quorum": _set_quorum,
    "set-fee": _set_fee,
    "pause": _pause_change(pause=True),
    "unpause": _pause_change(pause=False),
    "begin-admin-transfer": _begin_transfer,
    "accept-admin-transfer": _accept_transfer,
    "cancel-admin-transfer": _cancel_transfer,
    "revoke-model": _revoke_model,
    "status": _status,
    "requeue": _requeue,
}
