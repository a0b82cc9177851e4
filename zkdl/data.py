"""Data sets (shipped digits, user `.npz` and `.csv`), their digests, and the public batch schedule.

A data set is integer-valued: features ``X`` (int64 [n, d]) are fixed-point numbers with
``frac_bits`` fractional bits (real value X / 2^frac_bits; digits pixels 0..16 use frac_bits = 4,
so a pixel enters the network as pixel/16), labels ``y`` are class indices in [0, classes). It comes
with a fixed train/test split. The proof commits the training part; its digest binds a run to it.

Digest (version 1), Keccak-256 over::

    b"zkdl/dataset/v1" || u64(n) || u64(d) || u64(classes) || u64(frac_bits)
                       || X as int64, row-major || y as int64

with every integer big-endian (u64: unsigned 8 bytes, int64: two's complement 8 bytes).

Batch schedule (version 1), reproducible in any language from a public integer seed:

* word(seed, epoch, counter) = Keccak-256(b"zkdl/schedule/v1" || u64(seed) || u64(epoch) ||
  u64(counter)) read as a 256-bit big-endian unsigned integer.
* Epoch k starts from the identity permutation p = [0, 1, .., n_train-1] and a counter at 0, and runs
  a Fisher-Yates shuffle: for i = n_train-1 down to 1, draw j uniform in [0, i] by rejection: take
  v = word(seed, k, counter), counter += 1, until v < 2^256 - (2^256 mod (i+1)); j = v mod (i+1); swap
  p[i] and p[j]. (A rejection has probability below 2^-240: in practice never.)
* Each epoch gives floor(n_train / B) batches, consecutive slices p[bB:(b+1)B]; the incomplete last
  slice is dropped. Step t is batch t mod floor(n_train/B) of epoch t div floor(n_train/B).
"""

from __future__ import annotations

import csv
import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from eth_hash.auto import keccak

from zkdl.errors import DataError

DATASET_DOMAIN = b"zkdl/dataset/v1"
SCHEDULE_DOMAIN = b"zkdl/schedule/v1"
SCHEDULE_ALGORITHM = "keccak256-fisher-yates-v1"
DIGITS_FRAC_BITS = 4
DIGITS_PATH = Path(__file__).resolve().parent / "datasets" / "digits.npz"
_U64_LIMIT = 1 << 64
_WORD_LIMIT = 1 << 256


@dataclass(frozen=True)
class Dataset:
    """An integer classification data set with a fixed train/test split."""

    name: str
    X: np.ndarray
    y: np.ndarray
    classes: int
    frac_bits: int
    train_idx: np.ndarray
    test_idx: np.ndarray
    # how to load it again: "digits" or the file's absolute path, and the split's parameters
    source: str = ""
    test_fraction: float = 0.0
    split_seed: int = 0

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def n_features(self) -> int:
        """Input width d."""
        return int(self.X.shape[1])

    @property
    def X_train(self) -> np.ndarray:
        """Training features, in training-index order (the rows the schedule indexes)."""
        return self.X[self.train_idx]

    @property
    def y_train(self) -> np.ndarray:
        """Training labels."""
        return self.y[self.train_idx]

    @property
    def X_test(self) -> np.ndarray:
        """Test features."""
        return self.X[self.test_idx]

    @property
    def y_test(self) -> np.ndarray:
        """Test labels."""
        return self.y[self.test_idx]

    def train_digest(self) -> str:
        """Hex Keccak-256 digest of the training part (what the proof commits)."""
        return digest(self.X_train, self.y_train, self.classes, self.frac_bits)

    def test_digest(self) -> str:
        """Hex Keccak-256 digest of the test part (recorded so accuracies can be re-checked)."""
        return digest(self.X_test, self.y_test, self.classes, self.frac_bits)


def _validate(ds: Dataset) -> None:
    """Reject shapes, dtypes, labels and splits the trainer could misread."""
    if ds.X.dtype != np.int64 or ds.y.dtype != np.int64 or ds.X.ndim != 2 or ds.y.ndim != 1:
        raise DataError(f"{ds.name}: X must be int64 [n, d] and y int64 [n]")
    if ds.X.shape[0] != ds.y.shape[0] or ds.X.shape[0] == 0 or ds.X.shape[1] == 0:
        raise DataError(f"{ds.name}: X {ds.X.shape} and y {ds.y.shape} do not match or are empty")
    if ds.classes < 2 or ds.y.min() < 0 or ds.y.max() >= ds.classes:
        raise DataError(f"{ds.name}: labels must lie in [0, {ds.classes}) with at least 2 classes")
    if ds.frac_bits < 0:
        raise DataError(f"{ds.name}: frac_bits must be non-negative, got {ds.frac_bits}")
    n = ds.X.shape[0]
    for part in (ds.train_idx, ds.test_idx):
        if part.dtype != np.int64 or part.ndim != 1 or (part.size and (part.min() < 0 or part.max() >= n)):
            raise DataError(f"{ds.name}: split indices must be int64 in [0, {n})")
    if ds.train_idx.size == 0:
        raise DataError(f"{ds.name}: the training split is empty")
    if np.intersect1d(ds.train_idx, ds.test_idx).size or np.unique(ds.train_idx).size != ds.train_idx.size:
        raise DataError(f"{ds.name}: the train and test splits overlap or repeat rows")


def digest(X: np.ndarray, y: np.ndarray, classes: int, frac_bits: int) -> str:
    """Hex Keccak-256 of the canonical encoding of (X, y) (see the module docstring)."""
    header = DATASET_DOMAIN + b"".join(int(v).to_bytes(8, "big") for v in (X.shape[0], X.shape[1], classes, frac_bits))
    body = np.ascontiguousarray(X, dtype=">i8").tobytes() + np.ascontiguousarray(y, dtype=">i8").tobytes()
    return keccak(header + body).hex()


def one_hot(y: np.ndarray, classes: int, exp: int) -> np.ndarray:
    """One-hot targets at scale 2^exp: Y[i, y_i] = 2^exp, else 0 (int64)."""
    out = np.zeros((y.shape[0], classes), dtype=np.int64)
    out[np.arange(y.shape[0]), y] = 1 << exp
    return out


def load_digits() -> Dataset:
    """The shipped scikit-learn digits (1797 x 64 pixels 0..16, 10 classes, 1437/360 split)."""
    with np.load(DIGITS_PATH) as z:
        return Dataset(
            source="digits",
            name="digits",
            X=z["X"].astype(np.int64),
            y=z["y"].astype(np.int64),
            classes=10,
            frac_bits=DIGITS_FRAC_BITS,
            train_idx=z["train_idx"].astype(np.int64),
            test_idx=z["test_idx"].astype(np.int64),
        )


def load_dataset(source: str, *, frac_bits: int = 8, test_fraction: float = 0.2, split_seed: int = 0) -> Dataset:
    """Load ``"digits"`` or a user ``.npz`` / ``.csv`` file.

    User files may hold float features: they are quantised to ``frac_bits`` fractional bits (integer
    features are taken as they are, with ``frac_bits`` stating their scale). Without a stored split,
    ``test_fraction`` of the rows (rounded down) go to the test split, chosen by the first epoch of the
    public schedule shuffle with ``split_seed``, so the split is reproducible in any language too.
    """
    if source == "digits":
        return load_digits()
    path = Path(source)
    if not path.is_file():
        raise DataError(f"data set {source!r} is neither 'digits' nor an existing file")
    if path.suffix == ".npz":
        data = _load_npz(path, frac_bits, test_fraction, split_seed)
    elif path.suffix == ".csv":
        data = _load_csv(path, frac_bits, test_fraction, split_seed)
    else:
        raise DataError(f"{source}: unsupported data file type (use .npz or .csv)")
    return dataclasses.replace(data, source=str(path.resolve()), test_fraction=test_fraction, split_seed=split_seed)


def _load_npz(path: Path, frac_bits: int, test_fraction: float, split_seed: int) -> Dataset:
    """An npz with ``X`` [n, d] and ``y`` [n]; optional ``train_idx``/``test_idx``, ``classes``,
    ``frac_bits``."""
    with np.load(path) as z:
        if "X" not in z or "y" not in z:
            raise DataError(f"{path}: an .npz data set needs arrays 'X' and 'y'")
        arrays = {k: z[k] for k in z.files}
    X_raw = arrays["X"]
    bits = int(arrays["frac_bits"]) if "frac_bits" in arrays else frac_bits
    y = _labels(arrays["y"], path)
    classes = int(arrays["classes"]) if "classes" in arrays else int(y.max()) + 1
    X = _features(X_raw, bits, path)
    if "train_idx" in arrays and "test_idx" in arrays:
        train_idx, test_idx = arrays["train_idx"].astype(np.int64), arrays["test_idx"].astype(np.int64)
    else:
        train_idx, test_idx = split(len(y), test_fraction, split_seed)
    return Dataset(path.name, X, y, classes, bits, train_idx, test_idx)


def _load_csv(path: Path, frac_bits: int, test_fraction: float, split_seed: int) -> Dataset:
    """A CSV of numeric rows, features then the integer label in the last column; an optional header."""
    with path.open(newline="") as fh:
        rows = [row for row in csv.reader(fh) if row]
    if rows and not _is_numeric(rows[0]):
        rows = rows[1:]
    if not rows or len({len(r) for r in rows}) != 1 or len(rows[0]) < 2:
        raise DataError(f"{path}: expected rows of equal length with at least one feature and a label")
    try:
        table = np.array([[float(v) for v in r] for r in rows])
    except ValueError as exc:
        raise DataError(f"{path}: non-numeric value ({exc})") from None
    y = _labels(table[:, -1], path)
    X = _features(table[:, :-1], frac_bits, path)
    train_idx, test_idx = split(len(y), test_fraction, split_seed)
    return Dataset(path.name, X, y, int(y.max()) + 1, frac_bits, train_idx, test_idx)


def _is_numeric(row: list[str]) -> bool:
    """True if every cell of a CSV row parses as a number (a header row does not)."""
    try:
        [float(v) for v in row]
    except ValueError:
        return False
    return True


def _labels(y: np.ndarray, path: Path) -> np.ndarray:
    """Integer class labels (floats must be whole numbers)."""
    y = np.asarray(y)
    if y.ndim != 1 or not np.all(np.isfinite(y)) or np.any(y != np.round(y)) or np.any(y < 0):
        raise DataError(f"{path}: labels must be a 1-D array of non-negative integers")
    y = y.astype(np.int64)
    missing = sorted(set(range(int(y.max()) + 1)) - {int(v) for v in np.unique(y)})
    if missing:  # a label of 1000 would otherwise make a 1001-class network
        shown = ", ".join(map(str, missing[:5])) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise DataError(f"{path}: labels must be the classes 0..K−1, each present; missing {shown}: renumber the labels")
    return y


def _features(X: np.ndarray, frac_bits: int, path: Path) -> np.ndarray:
    """Integer features as they are; float features quantised to ``frac_bits`` fractional bits."""
    X = np.asarray(X)
    if X.ndim != 2:
        raise DataError(f"{path}: X must be 2-D, got shape {X.shape}")
    if np.issubdtype(X.dtype, np.integer):
        return X.astype(np.int64)
    scaled = np.rint(X.astype(np.float64) * 2.0**frac_bits)
    if not np.all(np.isfinite(scaled)) or np.any(np.abs(scaled) >= 2.0**62):
        raise DataError(f"{path}: features are not finite or too large for {frac_bits} fractional bits")
    return scaled.astype(np.int64)


def split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A reproducible train/test split: the last floor(n * test_fraction) of a shuffle go to test."""
    if not 0.0 <= test_fraction < 1.0:
        raise DataError(f"test_fraction must lie in [0, 1), got {test_fraction}")
    perm = shuffle(seed, 0, n)
    n_test = math.floor(n * test_fraction)
    return np.sort(perm[: n - n_test]), np.sort(perm[n - n_test :])


def _word(seed: int, epoch: int, counter: int) -> int:
    """The schedule's 256-bit random word for (seed, epoch, counter)."""
    msg = SCHEDULE_DOMAIN + seed.to_bytes(8, "big") + epoch.to_bytes(8, "big") + counter.to_bytes(8, "big")
    return int.from_bytes(keccak(msg), "big")


def shuffle(seed: int, epoch: int, n: int) -> np.ndarray:
    """The Keccak-driven Fisher-Yates permutation of range(n) for one epoch (int64 [n])."""
    if not 0 <= seed < _U64_LIMIT or not 0 <= epoch < _U64_LIMIT:
        raise DataError(f"schedule seed and epoch must be unsigned 64-bit integers, got {seed}, {epoch}")
    perm = list(range(n))
    counter = 0
    for i in range(n - 1, 0, -1):
        bound = i + 1
        limit = _WORD_LIMIT - _WORD_LIMIT % bound
        while True:
            v = _word(seed, epoch, counter)
            counter += 1
            if v < limit:
                break
        j = v % bound
        perm[i], perm[j] = perm[j], perm[i]
    return np.array(perm, dtype=np.int64)


def steps_per_epoch(n_train: int, batch: int) -> int:
    """floor(n_train / B): the incomplete last batch of each epoch is dropped."""
    return n_train // batch


def schedule(seed: int, n_train: int, batch: int, steps: int) -> np.ndarray:
    """Training-set indices of every step's batch, int64 [steps, batch] (module docstring)."""
    per_epoch = steps_per_epoch(n_train, batch)
    if batch < 1 or per_epoch < 1:
        raise DataError(f"batch size {batch} must lie in [1, {n_train}] (the training set size)")
    epochs = -(-steps // per_epoch)
    rows = [shuffle(seed, k, n_train)[: per_epoch * batch].reshape(per_epoch, batch) for k in range(epochs)]
    return np.concatenate(rows, axis=0)[:steps] if rows else np.zeros((0, batch), dtype=np.int64)
