"""``zkdl dataset``: commit a data set once (its identity for every model trained on it), check a
data-set proof file (against the data when it is public or its key is given), and register it on
the registry as a data-set record whose URI is the stored proof file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from zkdl.commands import printable, subcommand

if TYPE_CHECKING:
    from zkdl.data import Dataset


def _configure(p: argparse.ArgumentParser) -> None:

    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    commit = actions.add_parser(
        "commit",
        help="commit a run's training data as a data set; writes its proof file (and key file, if private)",
        description="Commits the training data of RUN_DIR once: prove runs on it with `zkdl prove --dataset FILE` and "
        "they share its id. A private data set's key is written to FILE.key: keep it with the data.",
    )
    commit.add_argument("run_dir", help="a run directory (zkdl train): its training data, as it recorded them")
    commit.add_argument("-o", "--out", required=True, help="the data-set proof file to write")
    commit.add_argument("--public", action="store_true", help="public data: blinds anyone can recompute, so the id is the data's own")
    commit.add_argument("--data", metavar="PATH", help="the run's data file, if it is no longer where the run recorded it")
    commit.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    check = actions.add_parser(
        "check",
        help="verify a data-set proof file (the range of the data's values) and, given the data, that it is its commitment",
        description="Verifies FILE's range proof. With --run or --data, also recomputes the commitment from the data "
        "(a private data set needs its --key). Exit 0 valid (and matching), 1 invalid or not this data, 2 unusable input.",
    )
    check.add_argument("file", help="a data-set proof file (zkdl dataset commit, or the .dataset beside a bundle)")
    source = check.add_mutually_exclusive_group()
    source.add_argument("--run", dest="trained_run", metavar="RUN_DIR", help="the data a run was trained on")
    source.add_argument(
        "--data",
        metavar="SOURCE",
        help="'digits' or a .npz / .csv file, loaded as `zkdl train` loads it: split as --test-fraction and --split-seed say, "
        "at the data set's own input scale, standardised unless --no-standardize (digits never)",
    )
    check.add_argument("--test-fraction", type=float, default=0.2, help="with --data: the test share held out (default 0.2)")
    check.add_argument("--split-seed", type=int, default=0, help="with --data: the split's seed (default 0)")
    check.add_argument(
        "--standardize",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="with --data: standardise the features (default: as zkdl train)",
    )
    check.add_argument("--key", metavar="KEY_FILE", help="a private data set's key file")
    check.add_argument("--json", action="store_true", help="print JSON on stdout")
    _configure_register(actions)
    _configure_show(actions)


def _configure_show(actions: argparse._SubParsersAction) -> None:
    from zkdl.market.connect import add_chain_arguments  # light: web3 loads only when used

    show = actions.add_parser(
        "show",
        help="a registered data set: its record and the models trained on it (newest first)",
        description="Reads the registry: the data-set record of ID (or that there is none) and the models whose C_data "
        "is ID, newest first, with their status. Exit 0 shown, 2 unusable input (a malformed id, no node).",
    )
    show.add_argument("dataset_id", help="the data set's id (0x + 64 hex digits: zkdl dataset commit prints it)")
    add_chain_arguments(show)
    show.add_argument("--limit", type=int, default=100, help="models listed at most (default 100)")
    show.add_argument("--json", action="store_true", help="print JSON on stdout")


def _configure_register(actions: argparse._SubParsersAction) -> None:
    from zkdl.chain.keys import keystore_help
    from zkdl.market.connect import DEFAULT_STORE, STORE_ENV, add_chain_arguments

    register = actions.add_parser(
        "register",
        help="verify a data-set proof file, store it and register the data set's record (owner key $ZKDL_OWNER_KEY)",
        description="Verifies FILE's range proof, puts FILE in the bundle store and registers the data-set record: its id, "
        "shape and scale, the Keccak-256 of FILE and FILE's URI, owned by the owner key. Idempotent: the same record again "
        "is 'already registered'. Exit 0 registered, 1 refused (an invalid proof, an id another owner holds), 2 unusable input.",
    )
    register.add_argument("file", help="a data-set proof file (zkdl dataset commit)")
    add_chain_arguments(register)
    register.add_argument("--store", help=f"bundle store directory (default ${STORE_ENV} or {DEFAULT_STORE})")
    register.add_argument("--store-url", help="http(s) URL under which the store directory is served (default: a file:// URI)")
    register.add_argument("--keystore", help=keystore_help("owner"))
    register.add_argument("--json", action="store_true", help="print a JSON summary on stdout")


@subcommand(
    "dataset",
    "commit a data set once (`commit`), check a data-set proof file (`check`), register its record (`register`), list its models (`show`)",
    _configure,
)
def _run(args: argparse.Namespace) -> int:
    return {"commit": _commit, "check": _check, "register": _register, "show": _show}[args.action](args)


def _commit(args: argparse.Namespace) -> int:
    from zkdl import api

    result = api.commit_data(args.run_dir, args.out, public=args.public, data_path=args.data)
    if args.json:
        print(json.dumps(result.__dict__))
        return 0
    print(f"data set {result.dataset_id} ({'public' if result.public else 'private'}) committed in {result.seconds:.1f} s")
    print(f"proof file: {result.proof_path}")
    if result.key_path is not None:
        print(f"key file (keep it secret, with the data: later proofs on this data set need it): {result.key_path}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from zkdl import api, dataset_files

    data = _data(args, dataset_files.read_proof_file(args.file).dataset.frac_bits)
    result = api.check_data(args.file, data, args.key)
    if args.json:
        print(json.dumps({**result.dataset.to_json(), "valid": result.valid, "reason": result.reason, "data_matches": result.data_matches}))
    else:
        header = result.dataset.to_json()
        low, high = header["value_range"]
        print(f"data set {header['dataset_id']}: {header['samples']} samples × {header['features']} features, {header['classes']} classes")
        print(f"inputs at scale 2^{header['frac_bits']}, {'public' if header['public'] else 'private'}")
        print(f"range proof: {'VALID: every input lies in' if result.valid else 'INVALID: ' + printable(result.reason or '')}"
              + (f" [{low}, {high})" if result.valid else ""))  # fmt: skip
        if result.data_matches is not None:
            print(
                "the data: "
                + ("its commitment is this data set's" if result.data_matches else "NOT this data set (its commitment differs)")
            )
    return 0 if result.valid and result.data_matches is not False else 1


def _register(args: argparse.Namespace) -> int:
    from eth_utils import encode_hex

    from zkdl import dataset_files
    from zkdl.chain.keys import load_account
    from zkdl.chain.register import register_dataset
    from zkdl.chain.structs import DatasetRequest
    from zkdl.errors import ZkdlError
    from zkdl.market.connect import open_client, store_dir
    from zkdl.store import LocalStore

    bundle = dataset_files.read_proof_file(args.file)
    checked = dataset_files.check(bundle)
    if not checked.valid:
        raise ZkdlError(f"the range proof in {args.file} does not verify ({checked.reason}); not registering it")
    owner = load_account("owner", keystore=args.keystore)
    client = open_client(args.rpc, args.registry, args.deployments_dir, sender=owner)
    digest, uri = LocalStore(store_dir(args.store), base_url=args.store_url).put(bundle.encode())
    header = bundle.dataset
    request = DatasetRequest(header.digest(), header.samples, header.features, header.classes, header.frac_bits, digest, uri)
    result = register_dataset(client, request, sender=owner)
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        verb = "registered" if result.tx_hash is not None else "already registered"
        print(f"data set {encode_hex(header.digest())} {verb} by {result.dataset.owner} on chain {client.chain_id}")
        print(f"proof file {uri} (Keccak-256 {encode_hex(digest)})")
    return 0


def _show(args: argparse.Namespace) -> int:
    from itertools import islice

    from eth_utils import encode_hex

    from zkdl.chain.structs import IndexKind
    from zkdl.market.connect import open_client
    from zkdl.market.ids import parse_model_id

    dataset_id = parse_model_id(args.dataset_id)  # the same 32-byte form
    client = open_client(args.rpc, args.registry, args.deployments_dir)
    record = client.get_dataset(dataset_id) if client.dataset_exists(dataset_id) else None
    models = [
        {"model_id": encode_hex(mid), "owner": client.get_model(mid).owner, "status": client.get_status(mid).status.name.lower()}
        for mid in islice(client.iter_model_ids_by(IndexKind.DATASET, dataset_id), max(args.limit, 0))
    ]
    total = client.first_model_by(IndexKind.DATASET, dataset_id)[1]
    if args.json:
        print(
            json.dumps(
                {
                    "dataset_id": encode_hex(dataset_id),
                    "record": None if record is None else record.to_json(),
                    "models": models,
                    "total": total,
                }
            )
        )
        return 0
    if record is None:
        print(f"data set {encode_hex(dataset_id)}: not registered (no data-set record)")
    else:
        d = record.request
        print(f"data set {encode_hex(dataset_id)}: registered by {record.owner}")
        print(f"{d.samples} samples x {d.features} features, {d.classes} classes")
        print(f"input scale 2^{d.frac_bits}; range proof {encode_hex(d.range_proof_digest)} at {printable(d.uri)}")
    print(f"{total} model(s) trained on it{f', the newest {len(models)}' if len(models) < total else ''}:")
    for m in models:
        print(f"  {m['model_id']}  {m['status']:10}  owner {m['owner']}")
    return 0


def _data(args: argparse.Namespace, frac_bits: int) -> Dataset | None:
    """The data to compare with, if any: a run's training data, or a data source loaded as `zkdl
    train` loads it at the data set's scale `frac_bits`."""
    from zkdl import api
    from zkdl.data import load_dataset
    from zkdl.run import load_run

    if args.trained_run is not None:
        return api.training_data(load_run(Path(args.trained_run), with_witness=False))
    if args.data is None:
        return None
    standardize = args.data != "digits" if args.standardize is None else args.standardize
    split = {"test_fraction": args.test_fraction, "split_seed": args.split_seed}
    return load_dataset(args.data, frac_bits=frac_bits, standardize=standardize, **split)
