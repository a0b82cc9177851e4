"""The market commands: `zkdl register` (seller), `zkdl provenance` and `zkdl check-weights` (buyer).

Registered into `zkdl.commands.SUBCOMMANDS` on import (zkdl/cli.py imports this module). Heavy
imports (web3, the proof stack) happen inside the run functions so that `zkdl --help` stays fast.

Exit status (each error family carries its own, `zkdl.commands.run_guarded`):

* `register`: 0 registered (or already registered: same model id), 1 refused by the registry (the
  decoded revert) or not final yet, 2 unusable input (bundle, key, node, registry).
* `provenance`: 0 shown, 1 unknown model, 2 unusable input.
* `check-weights`: 0 only if the weights recompute the registered C_WT *and* the model is verified,
  1 otherwise (with the reason), 2 when the check cannot run (unreadable files, no node, the bundle
  cannot be fetched or is not the registered one).
"""

from __future__ import annotations

import argparse
import json
import sys

from zkdl.commands import failure_answer, run_guarded, subcommand
from zkdl.errors import UnusableInputError, ZkdlError

EXIT_OK, EXIT_NO = 0, 1


# -- zkdl register ---------------------------------------------------------------------------------------


def _configure_register(p: argparse.ArgumentParser) -> None:
    from zkdl.chain.keys import keystore_help

    from .connect import DEFAULT_OUTBOX, DEFAULT_STORE, STORE_ENV, add_chain_arguments

    p.add_argument("bundle", help="the proof bundle written by zkdl prove (RUN.zkdl)")
    add_chain_arguments(p)
    p.add_argument("--store", help=f"bundle store directory (default ${STORE_ENV} or {DEFAULT_STORE})")
    p.add_argument(
        "--store-url",
        help="http(s) URL under which the store directory is served: the registered "
        "bundle URI is then an http(s) URI (default: a file:// URI)",
    )
    p.add_argument(
        "--outbox", default=DEFAULT_OUTBOX, help=f"relayer outbox: a SQLite file or a postgresql:// URL (default {DEFAULT_OUTBOX})"
    )
    p.add_argument(
        "--confirmations",
        type=int,
        default=1,
        help="blocks (own block counted) before the registration is final (default 1; >= 3 on real networks)",
    )
    p.add_argument("--metadata-uri", default="", help="URI of the model's metadata (optional)")
    p.add_argument("--keystore", help=keystore_help("owner"))
    p.add_argument("--verify", action="store_true", help="verify the proof locally before registering it")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the registration (default 600)")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")


@subcommand(
    "register",
    "store a proof bundle and register the model on the registry (idempotent: same "
    "model id); owner key $ZKDL_OWNER_KEY, relayer key $ZKDL_RELAYER_KEY (optional)",
    _configure_register,
    failure_json=failure_answer,
)
def run_register(args: argparse.Namespace) -> int:
    from pathlib import Path

    from zkdl.chain.keys import load_account
    from zkdl.chain.outbox import SqlOutbox
    from zkdl.chain.register import register_bundle
    from zkdl.chain.relayer import Relayer
    from zkdl.store import LocalStore

    from .connect import open_client, store_dir

    if args.confirmations < 0:
        raise UnusableInputError(f"--confirmations must be 0 or more, got {args.confirmations}")
    try:
        bundle = Path(args.bundle).read_bytes()
    except OSError as exc:
        raise UnusableInputError(f"cannot read {args.bundle}: {exc.strerror}") from None
    owner = load_account("owner", keystore=args.keystore)
    relayer_account = load_account("relayer", required=False)
    if args.verify:
        from zkdl.proof import registration

        reason = registration.proof_rejection(registration.claims_of(bundle))
        if reason is not None:
            raise _Refused(f"the proof in {args.bundle} does not verify ({reason}); not registering it")
    client = open_client(args.rpc, args.registry, args.deployments_dir)
    store = LocalStore(store_dir(args.store), base_url=args.store_url)
    outbox = SqlOutbox(args.outbox if "://" in args.outbox else Path(args.outbox).expanduser())  # a URL keeps its '//'
    try:
        # A relayer key other than the owner's pays the gas of a registration the owner signs; else the owner sends it.
        payer = relayer_account if relayer_account is not None and relayer_account.address != owner.address else owner
        by_signature = payer is not owner
        relayer = Relayer(client.w3, client, payer, outbox, confirmations=args.confirmations)
        result = register_bundle(
            bundle,
            client=client,
            relayer=relayer,
            store=store,
            owner_account=owner,
            by_signature=by_signature,
            metadata_uri=args.metadata_uri,
            timeout_s=args.timeout,
        )
    finally:
        outbox.close()
    shown = result.to_json()  # digests in hex, as the chain client writes them
    if args.json:
        print(json.dumps({"ok": True, **shown}))
    else:
        verb = "registered" if result.outcome.value == "registered" else "already registered"
        how = f"relayed by {result.submitter}" if result.by_signature else "sent by the owner"
        print(f"model {shown['model_id']} {verb} on chain {result.chain_id}, registry {result.registry}")
        print(f"owner {result.owner} ({'signed, ' + how if result.by_signature else how})")
        if result.tx_hash is not None:
            print(f"transaction {shown['tx_hash']} in block {result.block_number}")
        print(f"bundle {result.model.bundle_uri}\nproof digest {shown['proof_digest']}")
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


class _Refused(ZkdlError, ValueError):
    """The seller asked to verify the proof first, and it does not verify."""

    code = "refused"


# -- zkdl provenance (and zkdl inspect MODEL_ID) -------------------------------------------------------


def _configure_provenance(p: argparse.ArgumentParser) -> None:
    from .connect import add_chain_arguments

    p.add_argument("model_id", help="the model id (0x + 64 hex digits)")
    add_chain_arguments(p)
    p.add_argument("--no-fetch", action="store_true", help="do not fetch the bundle (chain record only)")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")


@subcommand(
    "provenance",
    "show a registered model's provenance: record, status, attestations and the proven "
    "statement (exit 0 shown, 1 unknown model, 2 unusable input)",
    _configure_provenance,
    failure_json=failure_answer,
)
def run_provenance(args: argparse.Namespace) -> int:
    return describe_model(
        args.model_id,
        rpc=args.rpc,
        registry=args.registry,
        deployments_dir=args.deployments_dir,
        json_output=args.json,
        fetch_bundle=not args.no_fetch,
        command="provenance",
    )


def describe_model(
    model_id: str,
    *,
    rpc: str | None = None,
    registry: str | None = None,
    deployments_dir: str | None = None,
    json_output: bool = False,
    fetch_bundle: bool = True,
    command: str = "inspect",
) -> int:
    """Print a model's provenance (human or JSON) and return the exit status; for `zkdl provenance`
    and for `zkdl inspect MODEL_ID`. The node and registry default to $ZKDL_RPC_URL, $ZKDL_REGISTRY
    and the deployment record."""

    def work() -> int:
        from .connect import open_client
        from .ids import parse_model_id
        from .query import provenance

        mid = parse_model_id(model_id)
        client = open_client(rpc, registry, deployments_dir)
        info = provenance(client, mid, fetch_bundle=fetch_bundle)
        print(json.dumps(info.to_json()) if json_output else info.describe())
        return EXIT_OK

    return run_guarded(command, work, failure_json=failure_answer if json_output else None)


# -- zkdl check-weights ------------------------------------------------------------------------------------


def _configure_check_weights(p: argparse.ArgumentParser) -> None:
    from .connect import add_chain_arguments

    p.add_argument("model_id", help="the model id (0x + 64 hex digits)")
    p.add_argument("weights", help="the delivered final weights (.npz: W0, W1, ..)")
    p.add_argument("--opening", required=True, help="the opening file delivered with them (<bundle>.opening.json)")
    add_chain_arguments(p)
    p.add_argument("--json", action="store_true", help="print JSON on stdout")


@subcommand(
    "check-weights",
    "check delivered weights against a model's registered final-weights commitment "
    "(exit 0 only if they match and the model is verified, 1 otherwise, 2 unusable input)",
    _configure_check_weights,
    failure_json=failure_answer,
)
def run_check_weights(args: argparse.Namespace) -> int:
    from eth_utils import encode_hex

    from .check import check_weights
    from .connect import open_client
    from .ids import parse_model_id

    mid = parse_model_id(args.model_id)
    client = open_client(args.rpc, args.registry, args.deployments_dir)
    result = check_weights(client, mid, args.weights, args.opening)
    shown = result.to_json()
    if args.json:
        print(json.dumps(shown))
    elif result.ok:
        print(f"OK: the weights are the committed final weights of verified model {shown['model_id']}")
    else:
        print(f"NOT OK: {result.reason}")
    if not args.json and result.same_weights is not None and result.same_weights.total > 1:
        same = result.same_weights
        earliest = "this model" if result.earliest else f"model {encode_hex(same.earliest)}"
        print(f"note: {same.total} registrations share these final weights; the earliest is {earliest}")
    return EXIT_OK if result.ok else EXIT_NO
