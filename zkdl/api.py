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
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eth_hash.auto import keccak
from eth_utils import encode_hex, is_address, to_checksum_address

from zkdl import dataset_files, parallel
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
from zkdl.proof.data_range import CommittedDataset, commit_dataset, new_key
from zkdl.proof.dataset import PUBLIC_KEY
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
    dataset_id: str
    dataset_path: str  # the data-set proof file the bundle's C_data is the commitment of
    dataset_key_path: str | None  # written by this proof (a fresh private data set), else None


@dataclass(frozen=True)
class RayOptions:
    """Prove the chunks as Ray tasks (docs/distributed.md)."""

    address: str | None = None  # the cluster's head (host:port); None: $RAY_ADDRESS, else a local instance
    shared_run: bool = False  # workers read the run directory at the driver's path, not the object store


@dataclass(frozen=True)
class DatasetResult:
    dataset_id: str
    proof_path: str
    key_path: str | None  # None for a public data set
    public: bool
    seconds: float


@dataclass(frozen=True)
class VerifyResult:
    valid: bool
    reason: str | None
    statement_digest: str
    proof_digest: str
    seconds: float
    dataset_checked: bool = False  # whether the data set's range proof was verified too

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
    dataset: str | Path | None = None,
    dataset_key: str | Path | None = None,
    chunk_steps: int = training.DEFAULT_CHUNK_STEPS,
    on_phase: Callable[[str], None] = lambda _: None,
    on_plan: Callable[[int], None] = lambda _: None,
    ray: RayOptions | None = None,
) -> ProveResult:
    """Proves every step of the run in `run_dir` for `owner` (the address that will register it;
    the proof verifies for no other), `chunk_steps` steps at a time (memory grows with the chunk,
    not the run); writes the bundle to `out` and the buyers' opening of the final weights beside it
    (`<out>.opening.json`). A fine-tuned run names its `parent` as (bundle, opening file): the
    registered model whose final weights it started from. The data set is the one the run recorded
    (`data_path` if it moved; `data` if already loaded), committed as the data-set proof file
    `dataset` (with its key file `dataset_key`, by default beside it, if private); without one, the
    data set is committed afresh, privately, and its proof and key files written beside the bundle
    (`<out>.dataset`, `<out>.dataset.key`) for later proofs on it. `on_plan` is told how many phases follow.
    With `ray`, the chunks are proven in parallel on a Ray cluster (the same bundle; `on_phase` is
    then told when the boundaries are committed and each chunk is proven)."""
    if chunk_steps < 1:
        raise SpecError(f"chunk_steps is {chunk_steps}: prove at least one step per chunk")
    started = time.perf_counter()
    run = load_run(run_dir)
    if run.witness is None:
        raise DataError(f"{run_dir}: the run has no witness; train it again with zkdl train (it records one)")
    owner_bytes = _address(owner)
    data = data if data is not None else training_data(run, data_path)
    start = _parent(run, *parent) if parent is not None else None
    on_plan(1 + len(training.chunks(run.spec.steps, chunk_steps)) if ray is not None else training.phase_count(run.spec.steps, chunk_steps))
    on_phase("commit")
    out = Path(out)
    committed, dataset_path, key_path, fresh_files = _committed_dataset(data, out, dataset, dataset_key)
    statement, secrets = training.commit_run(run.witness, committed, owner_bytes, start)
    if ray is None:
        messages = training.prove_run(statement, secrets, run.witness, data, chunk_steps, on_phase)
    else:
        from zkdl import cluster  # Ray is imported only when asked for

        source = cluster.SharedRun.of(run_dir, data_path) if ray.shared_run else cluster.InMemoryRun(run.witness, data)
        messages = cluster.prove_run(statement, secrets, source, chunk_steps, ray.address, on_phase)
    encoded = Bundle(statement, tuple(messages)).encode()
    opening_path = out.with_name(out.name + ".opening.json")
    opening_file = registration.weights_opening(statement, to_ints(secrets.wt.blinds)).encode()
    # nothing is written before the proof is done: a proof stopped midway leaves an earlier one's files as they were
    _write_atomically({**fresh_files, opening_path: opening_file, out: encoded})
    return ProveResult(
        str(out), str(opening_path), encode_hex(statement.digest()), encode_hex(keccak(encoded)), len(encoded),
        time.perf_counter() - started, encode_hex(committed.commitment.digest()), str(dataset_path),
        None if key_path is None else str(key_path),
    )  # fmt: skip


def _committed_dataset(
    data: Dataset, out: Path, dataset: str | Path | None, dataset_key: str | Path | None
) -> tuple[CommittedDataset, Path, Path | None, dict[Path, bytes]]:
    """The committed data set a proof runs on: the given data-set file's (re-derived from the data
    and its key), else a fresh private one, with its files to write beside the bundle."""
    if dataset is not None:
        bundle = dataset_files.read_proof_file(dataset)
        key = None if bundle.dataset.public else dataset_files.read_key(dataset_key or dataset_files.key_path(dataset), bundle.dataset)
        return dataset_files.committed(data, bundle, key), Path(dataset), None, {}
    key, proof_path = new_key(), out.with_name(out.name + ".dataset")
    fresh, key_path = commit_dataset(data, key), dataset_files.key_path(proof_path)
    files = {key_path: dataset_files.key_file(fresh.commitment, key).encode(), proof_path: dataset_files.proof_file(fresh)}
    return fresh, proof_path, key_path, files


def commit_data(
    run_dir: str | Path, out: str | Path, *, public: bool = False, data_path: str | Path | None = None, data: Dataset | None = None
) -> DatasetResult:
    """Commits the training data of the run in `run_dir` once, as a data set every proof on it can
    share (`prove(dataset=…)`): writes its proof file to `out` and, for a private data set, its key
    to `<out>.key` (keep it: it re-derives the commitment). A public data set's commitment is the
    data's alone: anyone holding the data file recomputes it (`check_data`)."""
    started = time.perf_counter()
    data = data if data is not None else training_data(load_run(run_dir), data_path)
    key = PUBLIC_KEY if public else new_key()
    committed = commit_dataset(data, key)
    out = Path(out)
    key_path = None if public else dataset_files.key_path(out)
    key_file = {} if key_path is None else {key_path: dataset_files.key_file(committed.commitment, key).encode()}
    _write_atomically({**key_file, out: dataset_files.proof_file(committed)})
    digest = encode_hex(committed.commitment.digest())
    return DatasetResult(digest, str(out), None if key_path is None else str(key_path), public, time.perf_counter() - started)


def check_data(proof_path: str | Path, data: Dataset | None = None, key_path: str | Path | None = None) -> dataset_files.DatasetCheck:
    """Verifies a data-set proof file's range proof and, given the data (and a private data set's
    key file), that its commitment is that data's."""
    bundle = dataset_files.read_proof_file(proof_path)
    key = dataset_files.read_key(key_path, bundle.dataset) if key_path is not None else None
    return dataset_files.check(bundle, data, key)


def verify(bundle: bytes, dataset: bytes | None = None, jobs: int = 1) -> VerifyResult:
    """Verifies a bundle and, given the data-set proof file of its data set, that file too (the
    range of the data's values). A malformed bundle raises BundleFormatError (unusable input); a
    well-formed bundle whose proof fails gives valid=False with the reason. With `jobs` > 1 the
    proof's chunks are verified by that many processes (zkdl.parallel: the same verdict)."""
    started = time.perf_counter()
    verify_chunks = parallel.chunk_verifier(jobs)
    claims = registration.claims_of(bundle)
    try:
        reason = registration.proof_rejection(claims, verify_chunks)
    except BrokenProcessPool:  # outside proof_rejection's verdicts: a lost process says nothing of the proof
        lost = f"a process verifying the chunks died (out of memory?): verify again with fewer than {jobs} jobs"
        raise parallel.VerifierLostError(lost) from None
    if reason is None and dataset is not None:
        reason = registration.dataset_rejection(claims.statement, dataset)
    digests = encode_hex(claims.statement_digest), encode_hex(claims.proof_digest)
    return VerifyResult(reason is None, reason, *digests, time.perf_counter() - started, dataset is not None)


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


def training_data(run: TrainingRun, path: str | Path | None = None) -> Dataset:
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


def _write_atomically(files: dict[Path, bytes]) -> None:
    """Each file to a temporary file beside it (fsync), then the renames, in order: a crash or a
    full disk never leaves a partial file, and files at these paths stay until every new one is
    written (between the renames, a crash can leave only some of them replaced)."""
    temporary: dict[Path, str] = {}
    try:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary[path] = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        for path, tmp in temporary.items():
            os.replace(tmp, path)
    except OSError as exc:
        for tmp in temporary.values():
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
