"""A data set's files: the data-set proof file (public: its commitment and range proof, what a
data-set record points to) and, for a private data set, the key file its owner keeps.

Key file (JSON): {"format": "zkdl-dataset-key", "version": 1, "dataset_id": "0x…", "key": "0x…"};
whoever holds the key and the data re-derives the commitment's openings (zkdl.proof.data_range),
so a data set is committed once and every later proof on it shares its id. A public data set has
no key file: its key is the all-zero key, and anyone recomputes its commitment from the data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from eth_utils import encode_hex

from zkdl.data import Dataset
from zkdl.errors import EXIT_UNUSABLE, ZkdlError
from zkdl.proof.bundle import BundleFormatError, DatasetBundle
from zkdl.proof.data_range import KEY_BYTES, CommittedDataset, commit_dataset, prove_dataset, verify_dataset
from zkdl.proof.dataset import PUBLIC_KEY, DatasetCommitment
from zkdl.proof.errors import VerificationError

KEY_FORMAT = "zkdl-dataset-key"
KEY_VERSION = 1


class DatasetFileError(ZkdlError, ValueError):
    """A data-set proof or key file is unreadable, malformed or not the one expected."""

    code = "dataset-file"
    exit_code = EXIT_UNUSABLE


def key_path(proof_path: str | Path) -> Path:
    """Where a private data set's key is kept by default: beside its proof file."""
    return Path(str(proof_path) + ".key")


def proof_file(committed: CommittedDataset) -> bytes:
    """The data-set proof file: the commitment and its range proof."""
    return DatasetBundle(committed.commitment, tuple(prove_dataset(committed))).encode()


def key_file(commitment: DatasetCommitment, key: bytes) -> str:
    return json.dumps(
        {"format": KEY_FORMAT, "version": KEY_VERSION, "dataset_id": encode_hex(commitment.digest()), "key": "0x" + key.hex()}
    )


def read_proof_file(path: str | Path) -> DatasetBundle:
    try:
        return DatasetBundle.decode(Path(path).read_bytes())
    except OSError as exc:
        raise DatasetFileError(f"cannot read the data-set proof {path}: {exc.strerror or exc}") from None
    except BundleFormatError as exc:
        raise DatasetFileError(f"{path}: {exc.user_message}") from None


def read_key(path: str | Path, commitment: DatasetCommitment) -> bytes:
    """The key of `commitment` from its key file (which must name that very data set)."""
    try:
        meta = json.loads(Path(path).read_text("utf-8"))
        if not isinstance(meta, dict) or meta.get("format") != KEY_FORMAT:
            raise ValueError(f"not a {KEY_FORMAT} file")
        if meta.get("version") != KEY_VERSION:
            raise ValueError(f"key file version {meta.get('version')}, this zkdl reads version {KEY_VERSION}")
        key = bytes.fromhex(str(meta["key"]).removeprefix("0x"))
        named = str(meta["dataset_id"])
    except (OSError, ValueError, KeyError) as exc:
        raise DatasetFileError(f"{path}: not a readable data-set key ({exc})") from None
    if len(key) != KEY_BYTES:
        raise DatasetFileError(f"{path}: the key is {len(key)} bytes, not {KEY_BYTES}")
    if named != encode_hex(commitment.digest()):
        raise DatasetFileError(
            f"{path} is the key of data set {named}, not of {encode_hex(commitment.digest())}: give that data set's key file"
        )
    return key


@dataclass(frozen=True)
class DatasetCheck:
    """The outcome of checking a data-set proof file (and, given the data, its commitment)."""

    dataset: DatasetCommitment
    valid: bool
    reason: str | None
    data_matches: bool | None  # None: no data given


def check(bundle: DatasetBundle, data: Dataset | None = None, key: bytes | None = None) -> DatasetCheck:
    """Verifies the range proof; with the data (and the key of a private data set), whether the
    commitment is that of this data."""
    try:
        verify_dataset(bundle.dataset, list(bundle.messages))
    except VerificationError as exc:
        return DatasetCheck(bundle.dataset, False, exc.user_message, None)
    if data is None:
        return DatasetCheck(bundle.dataset, True, None, None)
    if key is None and not bundle.dataset.public:
        raise DatasetFileError("the data set is private: its commitment is checked with its owner's key file (--key)")
    recomputed = commit_dataset(data, PUBLIC_KEY if key is None else key).commitment
    return DatasetCheck(bundle.dataset, True, None, recomputed == bundle.dataset)


def committed(data: Dataset, bundle: DatasetBundle, key: bytes | None) -> CommittedDataset:
    """The data set of a proof file, re-derived from the data and the key (the prover's openings);
    refused unless it is exactly that file's commitment."""
    if key is None and not bundle.dataset.public:
        raise DatasetFileError("the data set is private: give its key file")
    again = commit_dataset(data, PUBLIC_KEY if key is None else key)
    if again.commitment != bundle.dataset:
        raise DatasetFileError(
            f"the run's training data, with this key, is not the data set {encode_hex(bundle.dataset.digest())}: "
            "give the data-set file committed from this run's data (zkdl dataset commit)"
        )
    return again
