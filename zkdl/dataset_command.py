"""``zkdl dataset``: commit a data set once (its identity for every model trained on it) and check
a data-set proof file, against the data when it is public or its key is given."""

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


@subcommand("dataset", "commit a data set once (`commit`), or check a data-set proof file (`check`)", _configure, reports_unusable=True)
def _run(args: argparse.Namespace) -> int:
    return _commit(args) if args.action == "commit" else _check(args)


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
