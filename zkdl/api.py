"""The typed Python API: prove a run, verify or inspect a bundle, check delivered weights, and use a
trained run: predict, evaluate, export.

The `zkdl` command is a thin layer over these functions.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eth_hash.auto import keccak
from eth_utils import encode_hex, is_address, to_checksum_address

from zkdl.backend import from_ints, to_ints
from zkdl.data import Dataset, load_dataset
from zkdl.errors import DataError, SpecError
from zkdl.export import ExportResult
from zkdl.export import export as export_model
from zkdl.predict import Evaluation, Predictions
from zkdl.predict import evaluate as evaluate_rows
from zkdl.predict import predict as predict_rows
from zkdl.proof import registration, training
from zkdl.proof.bundle import Bundle
from zkdl.proof.registration import OpeningFormatError, check_weights  # noqa: F401 - the API's verbs
from zkdl.run import TrainingRun, load_run


@dataclass(frozen=True)
class ProveResult:
    bundle_path: str
    opening_path: str
    statement_digest: str
    proof_digest: str
    bundle_bytes: int
    seconds: float


@dataclass(frozen=True)
class VerifyResult:
    valid: bool
    reason: str | None
    statement_digest: str
    proof_digest: str
    seconds: float

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def prove(
    run_dir: str | Path,
    out: str | Path,
    *,
    owner: str,
    parent: tuple[str | Path, str | Path] | None = None,
    data: Dataset | None = None,
    data_path: str | Path | None = None,
    chunk_steps: int = training.DEFAULT_CHUNK_STEPS,
    on_phase: Callable[[str], None] = lambda _: None,
    on_plan: Callable[[int], None] = lambda _: None,
) -> ProveResult:
    """Proves every step of the run in `run_dir` for `owner` (the address that will register it;
    the proof verifies for no other), `chunk_steps` steps at a time (memory grows with the chunk,
    not the run); writes the bundle to `out` and the buyers' opening of the final weights beside it
    (`<out>.opening.json`). A fine-tuned run names its `parent` as (bundle, opening file): the
    registered model whose final weights it started from. The data set is the one the run recorded
    (`data_path` if it moved; `data` if already loaded). `on_plan` is told how many phases follow."""
    if chunk_steps < 1:
        raise SpecError(f"chunk_steps is {chunk_steps}: prove at least one step per chunk")
    started = time.perf_counter()
    run = load_run(run_dir)
    if run.witness is None:
        raise DataError(f"{run_dir}: the run has no witness; train it again with zkdl train (it records one)")
    owner_bytes = _address(owner)
    data = data if data is not None else _dataset_of(run, data_path)
    start = _parent(run, *parent) if parent is not None else None
    on_plan(training.phase_count(run.spec.steps, chunk_steps))
    on_phase("commit")
    statement, secrets = training.commit_run(run.witness, data, owner_bytes, start)
    messages = training.prove_run(statement, secrets, run.witness, data, chunk_steps, on_phase)
    bundle = Bundle(statement, tuple(messages))
    encoded = bundle.encode()
    out = Path(out)
    _write_atomically(out, encoded)
    opening_path = out.with_name(out.name + ".opening.json")
    _write_atomically(opening_path, registration.weights_opening(statement, to_ints(secrets.wt.blinds)).encode())
    return ProveResult(
        str(out), str(opening_path), encode_hex(statement.digest()), encode_hex(keccak(encoded)), len(encoded),
        time.perf_counter() - started,
    )  # fmt: skip


def verify(bundle: bytes) -> VerifyResult:
    """Verifies a bundle. A malformed bundle raises BundleFormatError (unusable input); a
    well-formed bundle whose proof fails gives valid=False with the reason."""
    started = time.perf_counter()
    claims = registration.claims_of(bundle)
    reason = registration.proof_rejection(claims)
    digests = encode_hex(claims.statement_digest), encode_hex(claims.proof_digest)
    return VerifyResult(reason is None, reason, *digests, time.perf_counter() - started)


def inspect(bundle: bytes) -> dict[str, Any]:
    """The statement and sizes of a bundle (no verification)."""
    return registration.claims_of(bundle).to_json()


def _address(owner: str) -> bytes:
    if not is_address(owner):
        raise SpecError(f"owner {owner!r} is not an address: give the 0x address that will register the model")
    return bytes.fromhex(to_checksum_address(owner)[2:])


def _parent(run: TrainingRun, bundle_path: str | Path, opening_path: str | Path) -> training.Parent:
    """The parent of a fine-tuned run, checked: its opening recomputes its C_WT from this run's W_0."""
    try:
        claims = registration.claims_of(Path(bundle_path).read_bytes())
    except OSError as exc:
        raise DataError(f"cannot read the parent's bundle {bundle_path}: {exc.strerror or exc}") from None
    check = registration.check_weights(claims.statement, run.initial, opening_path)
    if not check.ok:
        raise SpecError(f"the run did not start from the parent's final weights ({bundle_path}): {check.reason}")
    return training.Parent(claims.statement_digest, from_ints(registration.read_opening(opening_path).blinds))


def _dataset_of(run: TrainingRun, path: str | Path | None) -> Dataset:
    """The run's data set, loaded as the run recorded it (source, scale, split), from `path` if given;
    it must be the data the run was trained on (its digest)."""
    ref = run.data
    source = str(path) if path is not None else ref.source or ref.name
    if not source:
        raise DataError("the run does not record where its data came from: give the data file (--data PATH)")
    if source != "digits" and not Path(source).is_file():
        raise DataError(f"the run's data set {source} is not there any more: give its new location with --data PATH")
    data = load_dataset(source, **ref.load_options())
    if data.train_digest() != ref.digest:
        raise DataError(
            f"{source} is not the data set the run was trained on (the training split's digest differs): "
            "give the file it was trained on (--data PATH)"
        )
    return data


def _write_atomically(path: Path, data: bytes) -> None:
    """Temp file, fsync, rename: a crash or a full disk never leaves a partial file at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise DataError(f"cannot write {path}: {exc.strerror}; free space or choose another path") from None


def predict(run_dir: str | Path, data_path: str | Path) -> Predictions:
    """The run's final model on every row of `data_path` (a .csv or .npz with the training file's
    features, a label column optional), exactly as the proof defines the network: the recorded
    standardisation and data bits, then the integer forward pass of a training step."""
    return predict_rows(load_run(run_dir, with_witness=False), str(data_path))


def evaluate(run_dir: str | Path, data_path: str | Path) -> Evaluation:
    """The accuracy of the run's final model on the labelled rows of `data_path`."""
    return evaluate_rows(load_run(run_dir, with_witness=False), str(data_path))


def export(run_dir: str | Path, out_dir: str | Path) -> ExportResult:
    """Writes the run's final model to `out_dir`: weights.npz (float weights, accepted by
    check-weights with the run's opening file), model.onnx (for onnxruntime) and model.json."""
    return export_model(load_run(run_dir, with_witness=False), out_dir)
