"""The typed Python API: prove a run, verify or inspect a bundle, check delivered weights.

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

import numpy as np
from eth_hash.auto import keccak

from zkdl.data import Dataset, load_dataset
from zkdl.errors import DataError, SpecError, ZkdlError
from zkdl.model import Weights
from zkdl.proof import commitment as cm
from zkdl.proof import training
from zkdl.proof.bundle import Bundle
from zkdl.proof.errors import VerificationError
from zkdl.proof.layout import Layout
from zkdl.proof.statement import Statement
from zkdl.proof.witness import weight_slots
from zkdl.train import TrainingRun, load_run

OPENING_FORMAT = "zkdl-weights-opening"


class OpeningFormatError(ZkdlError, ValueError):
    """A weights opening file is unreadable or does not fit the statement."""

    code = "opening-format"


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


def commitment_digests(statement: Statement) -> dict[str, str]:
    """Keccak-256 of each commitment's encoding: what the registry stores beside the statement."""
    return {name: "0x" + keccak(value).hex() for name, value in (("c_data", statement.c_data), ("c_w0", statement.c_w0), ("c_wt", statement.c_wt))}


def prove(
    run_dir: str | Path,
    out: str | Path,
    *,
    data: Dataset | None = None,
    chunk_steps: int = training.DEFAULT_CHUNK_STEPS,
    on_phase: Callable[[str], None] = lambda _: None,
    on_plan: Callable[[int], None] = lambda _: None,
) -> ProveResult:
    """Proves every step of the run in `run_dir`, `chunk_steps` steps at a time (memory grows with
    the chunk, not the run); writes the bundle to `out` and the buyers' opening of the final
    weights beside it (`<out>.opening.json`). `on_plan` is told how many phases will follow."""
    if chunk_steps < 1:
        raise SpecError(f"chunk_steps is {chunk_steps}: prove at least one step per chunk")
    started = time.perf_counter()
    run = load_run(run_dir)
    if run.witness is None:
        raise DataError(f"{run_dir}: the run has no witness; train it again with zkdl train (it records one)")
    data = data if data is not None else _dataset_of(run)
    on_plan(training.phase_count(run.spec.steps, chunk_steps))
    on_phase("commit")
    statement, secrets = training.commit_run(run, data)
    messages = training.prove_run(statement, secrets, run, data, chunk_steps, on_phase)
    bundle = Bundle(statement, tuple(messages))
    encoded = bundle.encode()
    out = Path(out)
    _write_atomically(out, encoded)
    opening_path = out.with_name(out.name + ".opening.json")
    _write_atomically(opening_path, _weights_opening(statement, run, secrets).encode())
    return ProveResult(
        str(out), str(opening_path), "0x" + statement.digest().hex(), "0x" + keccak(encoded).hex(), len(encoded),
        time.perf_counter() - started,
    )  # fmt: skip


def verify(bundle: bytes) -> VerifyResult:
    """Verifies a bundle. A malformed bundle raises BundleFormatError (unusable input); a
    well-formed bundle whose proof fails gives valid=False with the reason."""
    started = time.perf_counter()
    decoded = Bundle.decode(bundle)
    try:
        training.verify(decoded.statement, list(decoded.messages))
        reason = None
    except (VerificationError, ZkdlError) as exc:
        reason = exc.user_message
    digest = "0x" + decoded.statement.digest().hex()
    return VerifyResult(reason is None, reason, digest, "0x" + keccak(bundle).hex(), time.perf_counter() - started)


def inspect(bundle: bytes) -> dict[str, Any]:
    """The statement and sizes of a bundle (no verification)."""
    decoded = Bundle.decode(bundle)
    st = decoded.statement
    return {
        "statement": {
            "widths": list(st.widths), "bias": st.bias, "frac_bits": st.frac_bits, "lr_exp": st.lr_exp,
            "learning_rate": f"2^-{st.lr_exp}", "range_bits": st.range_bits, "loss": "square, one-hot targets",
            "batch": st.batch, "steps": st.steps, "schedule_seed": st.schedule_seed, "n_train": st.n_train,
            "data_frac_bits": st.data_frac_bits,
        },
        "statement_digest": "0x" + st.digest().hex(),
        "proof_digest": "0x" + keccak(bundle).hex(),
        "commitment_digests": commitment_digests(st),
        "bundle_bytes": len(bundle),
        "messages": len(decoded.messages),
    }  # fmt: skip


def check_weights(statement: Statement, weights: Weights, opening_file: str | Path) -> bool:
    """True iff the delivered weights, with the blinds of the opening file, recompute exactly the
    statement's final-weights commitment C_WT."""
    try:
        meta = json.loads(Path(opening_file).read_text())
        blinds = np.array([[int(limb, 16) for limb in row] for row in meta["blinds"]], dtype=np.uint64)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OpeningFormatError(f"{opening_file}: not a readable weights opening ({exc})") from None
    if meta.get("format") != OPENING_FORMAT:
        raise OpeningFormatError(f"{opening_file}: not a {OPENING_FORMAT} file")
    lay = Layout.of(statement)
    if (weights.b is not None) != lay.bias:
        return False  # not the statement's model (a bias where none was proven, or none where one was)
    try:
        padded = weight_slots(lay, weights)
    except ZkdlError:
        return False  # a bias 2^R·b outside int64 was never committed
    try:
        opening = cm.TensorOpening(cm.EntryKind.INT64, padded, blinds)
    except ValueError as exc:
        raise OpeningFormatError(f"{opening_file}: the blinds do not fit the final weights ({exc})") from None
    return cm.encode(cm.recommit(opening)) == statement.c_wt


def _weights_opening(statement: Statement, run: TrainingRun, secrets: training.StatementSecrets) -> str:
    """The buyers' file: the blinds of C_WT (the weights themselves travel as the model's .npz)."""
    blinds = [[f"{int(limb):x}" for limb in row] for row in secrets.wt.blinds]
    return json.dumps({"format": OPENING_FORMAT, "version": 1, "statement_digest": "0x" + statement.digest().hex(), "blinds": blinds})


def _dataset_of(run: TrainingRun) -> Dataset:
    data = load_dataset(run.data.name, frac_bits=run.data.frac_bits)
    if data.train_digest() != run.data.digest:
        raise DataError(f"the data set {run.data.name!r} is not the one the run was trained on (digest differs)")
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
