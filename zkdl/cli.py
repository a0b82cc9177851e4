"""The ``zkdl`` command: its core subcommands, the parser and the entry point.

Each subcommand is one `zkdl.commands.Subcommand` in the `SUBCOMMANDS` registry. A new subcommand
(prove, verify, inspect, ..) is one more ``@subcommand(...)`` function; its imports go inside its run
function so that ``zkdl --help`` stays fast. The market and service subcommands register themselves
from their own modules, which this module imports (they import only the registry).

Exit status: 0 on success, 1 when a `zkdl.errors.ZkdlError` stops the command (its
``user_message`` is printed on stderr), 2 for command-line usage errors (argparse) and, in the
commands whose help says so, for unusable input (`zkdl.commands.run_guarded`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from zkdl.commands import SUBCOMMANDS, add_json_flag, printable, run_guarded, subcommand
from zkdl.errors import SpecError, UnusableInputError, ZkdlError


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one sub-parser per registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="zkdl",
        description="Zero-knowledge proofs of MLP training runs (zkDL).",
        epilog="Exit status: 0 success, 1 the command failed or the answer is no (an invalid proof, weights that "
        "do not match), 2 unusable input or usage (a file that cannot be read or decoded, no key, no node).",
    )
    parser.add_argument("--version", action="version", version=_version())
    subs = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for cmd in SUBCOMMANDS.values():
        sub = subs.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        cmd.configure(sub)
        sub.set_defaults(run=cmd.run)
    return parser


def _version() -> str:
    """The package version and the proof protocol it proves and verifies."""
    from importlib.metadata import PackageNotFoundError, version

    from zkdl.proof.statement import PROTOCOL_TAG, VERSION

    try:
        package = version("zkdl")
    except PackageNotFoundError:  # run from a source tree without installing
        package = "source tree"
    return f"zkdl {package} (proof protocol {PROTOCOL_TAG.decode()}, statement version {VERSION})"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``zkdl`` script."""
    args = build_parser().parse_args(argv)
    cmd = SUBCOMMANDS[args.command]
    failure_json = cmd.failure_json if getattr(args, "json", False) else None
    return run_guarded(args.command, lambda: args.run(args), failure_json=failure_json)


def _csv_ints(text: str) -> list[int]:
    """Parse "128,128" (argparse type)."""
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _configure_train(p: argparse.ArgumentParser) -> None:
    """Arguments of ``zkdl train``: flags override the spec file, which overrides the defaults."""
    p.add_argument("--out", required=True, help="run directory to write")
    p.add_argument("--spec", help="TOML or JSON spec file (tables model, quant, train)")
    p.add_argument(
        "--data",
        help="'digits' (default, shipped), or your own .csv (numeric feature columns, then the label: class numbers "
        "or names; a header optional) or .npz (arrays X and y)",
    )
    p.add_argument(
        "--data-frac-bits",
        type=int,
        help="fractional bits of a user data set's features (default: chosen with R and e, see --lr-exp)",
    )
    p.add_argument(
        "--standardize",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="standardise a user data set's features (zero mean, unit variance on the training split; "
        "recorded with the run and applied again by prove and predict). Default: on for user files, off for digits",
    )
    p.add_argument(
        "--test-fraction",
        type=float,
        default=0.2,
        help="test share of a user data set without a stored split (default 0.2)",
    )
    p.add_argument("--hidden", type=_csv_ints, help="hidden widths, e.g. 128,128 (default)")
    p.add_argument("--bias", action=argparse.BooleanOptionalAction, default=None, help="biases on every layer")
    p.add_argument("--batch", type=int, help="batch size B (default 64)")
    steps = p.add_mutually_exclusive_group()
    steps.add_argument("--epochs", type=int, help="epochs (default 10); T = epochs * floor(n_train / B)")
    steps.add_argument("--steps", type=int, help="number of steps T")
    p.add_argument(
        "--lr-exp",
        type=int,
        help="e: learning rate 2^-e. Default: 10 for digits; for a user data set, chosen with R and the data bits "
        "from float runs of the same training, keeping 4 bits of headroom under --range-bits",
    )
    p.add_argument("--frac-bits", type=int, help="R: activations at scale 2^R (default 16 for digits, else chosen)")
    p.add_argument("--range-bits", type=int, help="bit width of the range-checked Z and G_A (default 64)")
    p.add_argument("--schedule-seed", type=int, help="public seed of the batch schedule (default 0)")
    p.add_argument("--init-seed", type=int, help="seed of the He-uniform initialisation (default 0)")
    p.add_argument("--init-weights", help="initial weights .npz (W0.., b0..) instead of the seeded init")
    add_json_flag(p, "a JSON summary")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _spec_mapping(args: argparse.Namespace) -> dict[str, Any]:
    """The spec file's mapping with the command-line flags applied on top."""
    from zkdl.model import read_spec_file

    mapping = read_spec_file(args.spec) if args.spec else {}
    tables = {k: dict(mapping.get(k, {})) for k in ("model", "quant", "train")}
    mapping = {**mapping, **tables}
    source = tables["train"].get("data")
    if args.spec and isinstance(source, str) and source != "digits":
        tables["train"]["data"] = str(Path(args.spec).parent / source)  # relative to the spec file
    if args.hidden is not None:
        tables["model"].pop("widths", None)
        tables["model"]["hidden"] = args.hidden
    if args.bias is not None:
        tables["model"]["bias"] = args.bias
    for flag, key in (("lr_exp", "lr_exp"), ("frac_bits", "frac_bits"), ("range_bits", "range_bits")):
        if getattr(args, flag) is not None:
            tables["quant"][key] = getattr(args, flag)
    for key in ("batch", "schedule_seed", "init_seed", "data"):
        if getattr(args, key) is not None:
            tables["train"][key] = getattr(args, key)
    for key, other in (("epochs", "steps"), ("steps", "epochs")):
        if getattr(args, key) is not None:
            tables["train"].pop(other, None)
            tables["train"][key] = getattr(args, key)
    return mapping


@subcommand("train", "train an MLP with exact fixed-point SGD and write the run directory", _configure_train)
def _run_train(args: argparse.Namespace) -> int:
    """``zkdl train``: resolve the spec, train, write the run, print accuracies."""
    from zkdl.calibrate import training_setup
    from zkdl.model import Weights, load_weights
    from zkdl.quant import QuantParams
    from zkdl.run import run_summary
    from zkdl.train import train

    def given_initial(quant: QuantParams) -> Weights:
        return load_weights(args.init_weights, quant)

    initial = given_initial if args.init_weights else None
    options = {"data_frac_bits": args.data_frac_bits, "test_fraction": args.test_fraction, "standardize": args.standardize}
    data, spec, calibration = training_setup(_spec_mapping(args), **options, initial=initial)
    if not args.json:
        if data.labels is not None:
            names = ", ".join(map(printable, data.labels[:10])) + (f" and {data.classes - 10} more" if data.classes > 10 else "")
            print(f"labels {names} are classes 0..{data.classes - 1} (recorded in the run)")
        if data.standardization is not None:
            print(f"features standardised on the {data.train_idx.size} training rows (recorded in the run)")
        if calibration is not None:
            print(calibration.describe())
    run = train(spec, data, initial=initial(spec.quant) if initial else None, progress=not (args.no_progress or args.json))
    out = run.save(args.out)
    summary = {**run_summary(run), "run_dir": str(out), "calibration": calibration.to_dict() if calibration else None}
    for warning in summary["warnings"]:
        print(f"zkdl train: warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary))
    else:
        print(_describe(summary, spec.quant.range_bits))
    return 0


def _describe(summary: dict[str, Any], range_bits: int) -> str:
    """Human-readable lines for a run summary."""
    test = summary["test_accuracy"]
    bits = summary["max_bits"]
    lines = [
        f"trained {summary['steps']} steps on {summary['data']} in {summary['seconds']:.1f} s",
        f"train accuracy {100 * summary['train_accuracy']:.2f} %"
        + (f", test accuracy {100 * test:.2f} %" if test is not None else " (no test split)"),
        f"max bits: Z {bits.get('Z', 0)}, G_A {bits.get('G_A', 0)} (range {range_bits})",
    ]
    if "run_dir" in summary:
        lines.append(f"run written to {summary['run_dir']}")
    return "\n".join(lines)


def _configure_use(p: argparse.ArgumentParser) -> None:
    """Arguments of ``zkdl predict`` and ``zkdl evaluate``."""
    p.add_argument("run_dir", help="run directory written by zkdl train")
    p.add_argument(
        "--data",
        required=True,
        metavar="FILE",
        help="a .csv (or .npz) of rows with the training file's features in their order, then a label "
        "(optional for predict, required for evaluate)",
    )
    add_json_flag(p)


@subcommand("predict", "the class of every row of a data file, by a trained run's final model (the proven network)", _configure_use)
def _run_predict(args: argparse.Namespace) -> int:
    """``zkdl predict``: one label per line, or JSON (labels, class indices, output scores)."""
    from zkdl import api

    result = api.predict(args.run_dir, args.data)
    return _report(args.json, result.to_json(), "\n".join(map(printable, result.labels)))


@subcommand("evaluate", "the accuracy of a trained run's final model on the labelled rows of a data file", _configure_use)
def _run_evaluate(args: argparse.Namespace) -> int:
    from zkdl import api

    result = api.evaluate(args.run_dir, args.data)
    return _report(args.json, result.to_json(), f"accuracy {100 * result.accuracy:.2f} % ({result.correct} of {result.rows} rows)")


def _report(as_json: bool, json_form: dict[str, Any], human: str) -> int:
    """Print a command's answer as JSON or for people; success."""
    print(json.dumps(json_form) if as_json else human)
    return 0


def _configure_export(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", help="run directory written by zkdl train")
    p.add_argument("-o", "--out", required=True, metavar="DIR", help="directory to write weights.npz, model.onnx and model.json to")
    add_json_flag(p, "the written paths as JSON")


@subcommand(
    "export",
    "write a trained run's final model as float weights (.npz, accepted by check-weights) and an ONNX model",
    _configure_export,
)
def _run_export(args: argparse.Namespace) -> int:
    from zkdl import api

    result = api.export(args.run_dir, args.out)
    written = f"weights {result.weights_path}\nONNX model {result.onnx_path}\ndescription {result.model_json_path}"
    return _report(args.json, result.__dict__, written)


def _configure_prove(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", help="run directory written by zkdl train (with its witness)")
    p.add_argument("-o", "--out", required=True, help="bundle file to write (e.g. run.zkdl)")
    p.add_argument(
        "--owner",
        metavar="ADDR",
        help="the address that will register the model: the proof is bound to it and verifies for no other "
        "(default: the address of $ZKDL_OWNER_KEY or $ZKDL_OWNER_KEYSTORE)",
    )
    p.add_argument(
        "--data",
        metavar="PATH",
        help="the run's data file, if it is no longer where the run recorded it (checked against the run's digest)",
    )
    p.add_argument(
        "--dataset",
        metavar="FILE",
        help="the data set's proof file (zkdl dataset commit): the proof runs on that commitment, shared by every model "
        "on it (default: the data committed afresh, privately, its files written beside the bundle)",
    )
    p.add_argument("--dataset-key", metavar="KEY_FILE", help="a private data set's key file (default FILE.key)")
    p.add_argument(
        "--parent",
        nargs=2,
        metavar=("BUNDLE", "OPENING"),
        help="fine-tuned run: the bundle and the buyer's opening file of the registered model whose final weights it started from",
    )
    p.add_argument(
        "--chunk-steps",
        type=_positive,
        default=None,
        metavar="N",
        help="prove N steps at a time: memory grows with N, not with the run (default 32)",
    )
    p.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="prove the chunks in parallel as tasks on the Ray cluster at ADDRESS (host:port; default $RAY_ADDRESS, "
        "else a local instance): needs zkdl[ray] on every node (docs/distributed.md)",
    )
    p.add_argument(
        "--ray-shared-run",
        action="store_true",
        help="with --ray: workers read the run directory at the same path on storage every node mounts "
        "(default: the driver sends the witness through Ray's object store)",
    )
    add_json_flag(p, "a JSON summary")


def _owner(given: str | None) -> str:
    """--owner, else the owner key's address; a proof is always bound to an owner."""
    from zkdl.chain.keys import key_variables, load_account

    if given:
        return given
    account = load_account("owner", required=False)
    if account is None:
        key, keystore, _ = key_variables("owner")
        raise SpecError(f"give --owner ADDR (the address that will register the model), or set ${key} or ${keystore}")
    return str(account.address)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


@subcommand("prove", "prove every step of a training run; writes the bundle and the buyers' opening", _configure_prove)
def _run_prove(args: argparse.Namespace) -> int:
    from zkdl import api

    chunking = {} if args.chunk_steps is None else {"chunk_steps": args.chunk_steps}
    owner, parent = _owner(args.owner), tuple(args.parent) if args.parent else None
    if args.ray_shared_run and args.ray is None:
        raise SpecError("--ray-shared-run needs --ray: give --ray [ADDRESS] to prove on a Ray cluster")
    ray = None if args.ray is None else api.RayOptions(args.ray or None, args.ray_shared_run)

    def prove(**progress: Any) -> api.ProveResult:
        return api.prove(
            args.run_dir, args.out, owner=owner, parent=parent, data_path=args.data, dataset=args.dataset, dataset_key=args.dataset_key,
            ray=ray, **chunking, **progress,
        )  # fmt: skip

    result = _with_phases(prove, quiet=args.json)
    if args.json:
        print(json.dumps(result.__dict__))
    else:
        print(f"proof written to {result.bundle_path} ({result.bundle_bytes} bytes) in {result.seconds:.1f} s")
        print(f"statement digest {result.statement_digest}\nproof digest     {result.proof_digest}")
        print(f"opening of the final weights for buyers: {result.opening_path}")
        print(f"data set {result.dataset_id}: {result.dataset_path}")
        if result.dataset_key_path is not None:
            print(f"its key (keep it with the data; prove again on this data set with --dataset): {result.dataset_key_path}")
    return 0


def _with_phases(work: Callable[..., Any], quiet: bool) -> Any:
    """Runs `work(on_phase=…, on_plan=…)` with a progress bar that advances at each proof phase."""
    from tqdm import tqdm

    with tqdm(total=1, unit="phase", disable=quiet, file=sys.stderr) as bar:

        def on_plan(phases: int) -> None:
            bar.total = phases + 1  # the commitments, then the phases
            bar.refresh()

        def on_phase(name: str) -> None:
            if bar.n or name != "commit":
                bar.update(1)
            bar.set_description(name)

        result = work(on_phase=on_phase, on_plan=on_plan)
        bar.update(bar.total - bar.n)
    return result


def _configure_bundle(p: argparse.ArgumentParser) -> None:
    p.add_argument("bundle", help="a .zkdl proof bundle")
    add_json_flag(p)


def _configure_verify(p: argparse.ArgumentParser) -> None:
    _configure_bundle(p)
    p.add_argument("--dataset", metavar="FILE", help="also verify its data set's proof file (the range of the data's values)")
    p.add_argument(
        "--jobs",
        type=_positive,
        default=1,
        metavar="N",
        help="verify the proof's chunks in N processes (the same verdict; default 1: worth it for many large chunks)",
    )


def _read_bundle(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UnusableInputError(f"cannot read {path}: {exc.strerror}") from None


def _verify_failure(error: ZkdlError, unusable: bool) -> dict[str, Any]:
    return {"valid": False, "usable": not unusable, "reason": error.user_message}


@subcommand(
    "verify",
    "verify a proof bundle (exit 0 valid, 1 invalid, 2 unusable input)",
    _configure_verify,
    failure_json=_verify_failure,
)
def _run_verify(args: argparse.Namespace) -> int:
    from zkdl import api

    result = api.verify(_read_bundle(args.bundle), _read_bundle(args.dataset) if args.dataset else None, args.jobs)
    if args.json:
        print(result.to_json())
    else:
        verdict = "VALID" if result.valid else f"INVALID: {printable(result.reason or '')}"
        print(f"{verdict}\nstatement digest {result.statement_digest}")
        if result.valid:
            print("its data set's range proof verified too" if result.dataset_checked else "data set not checked (--dataset FILE)")
        print(f"verified in {result.seconds:.2f} s")
    return 0 if result.valid else 1


def _inspect_run(directory: Path, json_output: bool) -> int:
    """`zkdl inspect RUN_DIR`: the run's spec, data and figures (run.json, no witness read)."""
    from dataclasses import asdict

    from zkdl.run import load_run, run_summary

    run = load_run(directory, with_witness=False)
    summary = run_summary(run)
    if json_output:
        print(json.dumps({**summary, "spec": run.spec.to_dict(), "data_ref": asdict(run.data)}))
    else:
        model = run.spec.model
        print(f"MLP {'-'.join(map(str, model.widths))}{' with bias' if model.bias else ''}, batch {run.spec.batch}")
        print(f"data {run.data.source or run.data.name}: {run.data.n_train} training and {run.data.n_test} test samples")
        print(_describe(summary, run.spec.quant.range_bits))
    return 0


def _configure_inspect(p: argparse.ArgumentParser) -> None:
    from zkdl.market.connect import add_chain_arguments  # light: web3 is imported only when used

    p.add_argument("bundle", help="a .zkdl proof bundle, a run directory (zkdl train), or a registered model id (0x + 64 hex digits)")
    add_json_flag(p)
    add_chain_arguments(p)


@subcommand(
    "inspect",
    "show a bundle's statement, digests and sizes, a run directory's spec and figures, or a registered model's provenance",
    _configure_inspect,
)
def _run_inspect(args: argparse.Namespace) -> int:
    from zkdl import api
    from zkdl.market.ids import looks_like_model_id
    from zkdl.proof.statement import describe_origin

    if looks_like_model_id(args.bundle) and not Path(args.bundle).exists():
        from zkdl.market.command import describe_model

        return describe_model(
            args.bundle, rpc=args.rpc, registry=args.registry, deployments_dir=args.deployments_dir, json_output=args.json
        )
    if Path(args.bundle).is_dir():
        return _inspect_run(Path(args.bundle), args.json)
    info = api.inspect(_read_bundle(args.bundle))
    if args.json:
        print(json.dumps(info))
    else:
        st = info["statement"]
        print(f"MLP {'-'.join(map(str, st['widths']))}{' with bias' if st['bias'] else ''}, {st['steps']} SGD steps of batch {st['batch']}")
        print(f"learning rate {st['learning_rate']}, R = {st['frac_bits']}, range {st['range_bits']} bits, loss {st['loss']}")
        print(f"owner {st['owner']}; initial weights: {describe_origin(st['initial_weights'])}")
        ds = st["dataset"]
        low, high = ds["value_range"]
        print(
            f"data set {ds['dataset_id']} ({'public' if ds['public'] else 'private'}): {ds['samples']} samples, inputs in [{low}, {high})"
        )
        print(f"input scale 2^{ds['frac_bits']}, schedule seed {st['schedule_seed']}")
        print(f"statement digest {info['statement_digest']}\nproof digest     {info['proof_digest']}")
        for name, digest in info["commitment_digests"].items():
            print(f"{name:6} {digest}")
        print(f"bundle {info['bundle_bytes']} bytes, {info['messages']} messages")
    return 0


DEMO_STEPS = 16  # design §6: the digits demo proves T = 16 steps


def _configure_demo(p: argparse.ArgumentParser) -> None:
    """Arguments of ``zkdl demo``."""
    p.add_argument("--out", default="demo-out", help="directory for every artefact (default demo-out)")
    p.add_argument("--steps", type=int, default=DEMO_STEPS, help=f"training steps to run and prove (default {DEMO_STEPS})")
    p.add_argument("--rpc", help="run the chain part against this JSON-RPC URL (keys from ZKDL_*_KEY) instead of the embedded chain")
    add_json_flag(p, "a JSON summary")


@subcommand(
    "demo",
    "the whole flow: train the digits MLP, prove every step, register, verify and attest, check as a buyer",
    _configure_demo,
)
def _run_demo(args: argparse.Namespace) -> int:
    """``zkdl demo``: train → prove → register → verifier attests → buyer checks, in one process."""
    from zkdl import demo

    say = (lambda _: None) if args.json else (lambda line: print(line, flush=True))
    report = demo.run(Path(args.out), args.steps, args.rpc, say)
    if args.json:
        summary = {"training": report.training, "proof": report.proof.__dict__, "model_id": report.model_id,
                   "weights_ok": report.weights_ok, "page": report.page_path}  # fmt: skip
        print(json.dumps(summary))
    else:
        print(_describe(report.training, report.range_bits))
        print(f"proof: {report.proof.bundle_path} ({report.proof.bundle_bytes} bytes, {report.proof.seconds:.1f} s)")
        print(report.provenance)
        print(f"buyer's weight check: {'the delivered weights are the committed final weights' if report.weights_ok else 'FAILED'}")
        print(f"provenance page snapshot: {report.page_path}")
    return 0 if report.weights_ok else 1


# Subcommands defined in other modules register themselves on import; imported after the core ones,
# they come after them in `zkdl --help`.
import zkdl.admin_command  # noqa: E402 - admin
import zkdl.dataset_command  # noqa: E402 - dataset
import zkdl.market.command  # noqa: E402 - register, provenance, check-weights
import zkdl.service.command  # noqa: E402,F401 - serve

if __name__ == "__main__":
    sys.exit(main())
