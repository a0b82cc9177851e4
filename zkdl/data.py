"""Data sets (shipped digits, user `.npz` and `.csv`), their digests, and the public batch schedule.

A data set is integer-valued: features ``X`` (int64 [n, d]) are fixed-point numbers with
``frac_bits`` fractional bits (real value X / 2^frac_bits; digits pixels 0..16 use frac_bits = 4,
so a pixel enters the network as pixel/16), labels ``y`` are class indices in [0, classes). It comes
with a fixed train/test split. The proof commits the training part; its digest binds a run to it.

A user file is read into a `Table` (real-valued features; labels that are not 0..K−1, names or
other integers, mapped to 0..K−1 with their names kept), then optionally standardised on the
training split (`Standardization`, recorded with the run) and quantised (`quantize_features`).

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
import functools
import math
import zipfile
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
    # the original label of each class, when the file's labels were not 0..K−1 (`Table`)
    labels: tuple[str, ...] | None = None
    standardization: Standardization | None = None

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
    if ds.classes < 2:
        raise DataError(f"{ds.name}: the labels name {ds.classes} class; a classifier needs at least 2")
    if ds.y.min() < 0 or ds.y.max() >= ds.classes:
        raise DataError(f"{ds.name}: labels must lie in [0, {ds.classes})")
    if ds.labels is not None and len(ds.labels) != ds.classes:
        raise DataError(f"{ds.name}: {len(ds.labels)} label names for {ds.classes} classes")
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
    return load_dataset("digits")


@dataclass(frozen=True)
class Standardization:
    """Per-feature x -> (x − mean) / scale, fitted on the training split's real values (scale is the
    standard deviation, 1 for a constant feature). Recorded with a run, so that `zkdl prove` reloads
    the same integers and `zkdl predict` feeds new rows through the same map."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]

    @classmethod
    def fit(cls, X: np.ndarray) -> Standardization:
        """The map that standardises the rows of ``X`` (float64 [n, d])."""
        std = X.std(axis=0)
        return cls(tuple(map(float, X.mean(axis=0))), tuple(float(s) if s > 0 else 1.0 for s in std))

    @classmethod
    def from_dict(cls, d: dict[str, list[float]]) -> Standardization:
        """Inverse of `to_dict` (run.json)."""
        return cls(tuple(map(float, d["mean"])), tuple(map(float, d["scale"])))

    def to_dict(self) -> dict[str, list[float]]:
        """JSON form (floats round-trip exactly)."""
        return {"mean": list(self.mean), "scale": list(self.scale)}

    def apply(self, X: np.ndarray) -> np.ndarray:
        """(X − mean) / scale, elementwise in float64 (the ONNX export does the same two operations)."""
        if X.shape[1] != len(self.mean):
            raise DataError(f"{X.shape[1]} features, but the standardisation was fitted on {len(self.mean)}")
        return (X - np.array(self.mean)) / np.array(self.scale)


@dataclass(frozen=True)
class Table:
    """A data file as read, before quantisation: features (float64 real values, or int64 fixed-point
    numbers at scale 2^int_frac_bits), labels as classes 0..K−1 with their original names when they
    were not already 0..K−1, and a stored split if the file has one."""

    name: str
    X: np.ndarray
    y: np.ndarray
    classes: int
    labels: tuple[str, ...] | None = None
    int_frac_bits: int | None = None  # integer features: their own scale (None: the caller's frac_bits)
    split: tuple[np.ndarray, np.ndarray] | None = None

    def real_features(self, frac_bits: int) -> np.ndarray:
        """The features as real numbers (float64)."""
        if np.issubdtype(self.X.dtype, np.integer):
            return np.ldexp(self.X.astype(np.float64), -self._int_bits(frac_bits))
        return self.X

    def _int_bits(self, frac_bits: int) -> int:
        return self.int_frac_bits if self.int_frac_bits is not None else frac_bits


def load_dataset(
    source: str,
    *,
    frac_bits: int = 8,
    test_fraction: float = 0.2,
    split_seed: int = 0,
    standardize: bool | Standardization = False,
) -> Dataset:
    """Load ``"digits"`` or a user ``.npz`` / ``.csv`` file.

    User files may hold float features: they are quantised to ``frac_bits`` fractional bits (integer
    features are taken as they are, with ``frac_bits`` stating their scale). Without a stored split,
    ``test_fraction`` of the rows (rounded down) go to the test split, chosen by the first epoch of the
    public schedule shuffle with ``split_seed``, so the split is reproducible in any language too.
    ``standardize``: True fits a `Standardization` on the training split and applies it to every row
    before quantisation (then every feature is quantised to ``frac_bits``); a `Standardization`
    applies that one (a recorded run's).
    """
    table = read_table(source)
    train_idx, test_idx = table.split if table.split is not None else split(len(table.y), test_fraction, split_seed)
    if standardize is True:
        standardize = Standardization.fit(table.real_features(frac_bits)[train_idx])
    standardization = standardize or None
    X, bits = quantize_features(table, frac_bits, standardization)
    return Dataset(
        name=table.name,
        X=X,
        y=table.y,
        classes=table.classes,
        frac_bits=bits,
        train_idx=train_idx,
        test_idx=test_idx,
        source=source if source == "digits" else str(Path(source).resolve()),
        test_fraction=0.0 if table.split is not None else test_fraction,
        split_seed=0 if table.split is not None else split_seed,
        labels=table.labels,
        standardization=standardization,
    )


def read_table(source: str, *, labelled: bool = True, n_features: int | None = None) -> Table:
    """Read ``"digits"``, an ``.npz`` or a ``.csv`` file. Unlabelled files (``labelled=False``: rows
    to predict) may still carry a label column after their ``n_features`` features; it is then read."""
    if source == "digits":
        return _read_npz(DIGITS_PATH, "digits", labelled=True)
    path = Path(source)
    if not path.is_file():
        raise DataError(f"data set {source!r} is neither 'digits' nor an existing file")
    if path.suffix == ".npz":
        return _read_npz(path, path.name, labelled=labelled)
    if path.suffix == ".csv":
        return _read_csv(path, labelled=labelled, n_features=n_features)
    raise DataError(f"{source}: unsupported data file type (use .npz or .csv)")


def quantize_features(table: Table, frac_bits: int, standardization: Standardization | None) -> tuple[np.ndarray, int]:
    """The features as network inputs and their fractional bits: integer features as they are
    (unless standardised), real values (standardised if asked) rounded to ``frac_bits`` bits."""
    if standardization is None and np.issubdtype(table.X.dtype, np.integer):
        return table.X.astype(np.int64), table._int_bits(frac_bits)
    X = table.real_features(frac_bits)
    if standardization is not None:
        X = standardization.apply(X)
    scaled = np.rint(X * 2.0**frac_bits)
    if not np.all(np.isfinite(scaled)) or np.any(np.abs(scaled) >= 2.0**62):
        raise DataError(f"{table.name}: features are not finite or too large for {frac_bits} fractional bits")
    return scaled.astype(np.int64), frac_bits


def _read_npz(path: Path, name: str, *, labelled: bool) -> Table:
    """An npz with ``X`` [n, d] and ``y`` [n] (optional when not ``labelled``); optional
    ``train_idx``/``test_idx``, ``classes``, ``frac_bits``."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a readable .npz data set ({type(exc).__name__}): give arrays X and y") from None
    if "X" not in arrays or (labelled and "y" not in arrays):
        raise DataError(f"{path}: an .npz data set needs arrays 'X' and 'y'")
    X = arrays["X"]
    if X.ndim != 2 or not (np.issubdtype(X.dtype, np.integer) or np.issubdtype(X.dtype, np.floating)):
        raise DataError(f"{path}: X must be a 2-D numeric array, got {X.dtype}{list(X.shape)}")
    y, classes, labels = _labels(arrays["y"], path) if "y" in arrays else (np.zeros(0, np.int64), 0, None)
    if "classes" in arrays and labels is None:
        classes = max(classes, int(arrays["classes"]))
    stored = "train_idx" in arrays and "test_idx" in arrays
    return Table(
        name=name,
        X=X.astype(np.int64) if np.issubdtype(X.dtype, np.integer) else X.astype(np.float64),
        y=y,
        classes=classes,
        labels=labels,
        int_frac_bits=DIGITS_FRAC_BITS if name == "digits" else (int(arrays["frac_bits"]) if "frac_bits" in arrays else None),
        split=(arrays["train_idx"].astype(np.int64), arrays["test_idx"].astype(np.int64)) if stored else None,
    )


def _read_csv(path: Path, *, labelled: bool, n_features: int | None) -> Table:
    """A CSV of rows of numeric features then the label (a class number or name) in the last column,
    with an optional header. Unlabelled (rows to predict): ``n_features`` columns, or one more with
    labels."""
    with path.open(newline="") as fh:
        rows = [row for row in csv.reader(fh) if row]
    if rows and not _is_numeric(rows[0][: n_features if not labelled and n_features else -1]):
        rows = rows[1:]
    width = len(rows[0]) if rows else 0
    if not rows or len({len(r) for r in rows}) != 1 or width < 2 - (not labelled):
        raise DataError(f"{path}: expected rows of equal length with at least one feature and a label")
    if not labelled and n_features is not None and width not in (n_features, n_features + 1):
        raise DataError(f"{path}: {width} columns, but the model takes {n_features} features (and optionally a label after them)")
    has_labels = labelled or width == (n_features or 0) + 1
    cells = [r[:-1] for r in rows] if has_labels else rows
    try:
        X = np.array([[float(v) for v in r] for r in cells])
    except ValueError as exc:
        raise DataError(f"{path}: non-numeric feature value ({exc})") from None
    y, classes, labels = _labels(np.array([r[-1] for r in rows]), path) if has_labels else (np.zeros(0, np.int64), 0, None)
    return Table(path.name, X, y, classes, labels)


def _is_numeric(row: list[str]) -> bool:
    """True if every cell of a CSV row parses as a number (a header row does not)."""
    try:
        [float(v) for v in row]
    except ValueError:
        return False
    return True


def _labels(raw: np.ndarray, path: Path) -> tuple[np.ndarray, int, tuple[str, ...] | None]:
    """Class indices, the number of classes and the original labels of the classes (None when the
    labels already are the classes 0..K−1, each present). Other labels, integers or names, are
    mapped to 0..K−1 in sorted order (numerically for integers)."""
    raw = np.asarray(raw)
    if raw.ndim != 1:
        raise DataError(f"{path}: labels must be a 1-D array, got shape {raw.shape}")
    values = _label_numbers(raw, path)
    names, y = np.unique(values if values is not None else raw.astype(str), return_inverse=True)
    identity = values is not None and np.array_equal(names, np.arange(names.size))
    labels = None if identity else tuple(str(v) for v in names.tolist())
    return y.astype(np.int64).reshape(-1), int(names.size), labels


def _label_numbers(raw: np.ndarray, path: Path) -> np.ndarray | None:
    """Integer labels as int64; None when the labels are names (any label is not a number)."""
    try:
        numbers = raw.astype(np.float64)
    except ValueError:
        return None
    if not np.all(np.isfinite(numbers)) or np.any(numbers != np.round(numbers)):
        bad = next(v for v in raw.tolist() if not np.isfinite(float(v)) or float(v) != round(float(v)))
        raise DataError(f"{path}: label {bad!r} is a number but not a whole one: labels are class numbers or names")
    return numbers.astype(np.int64)


def split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A reproducible train/test split: the last floor(n * test_fraction) of a shuffle go to test."""
    if not 0.0 <= test_fraction < 1.0:
        raise DataError(f"test_fraction must lie in [0, 1), got {test_fraction}")
    perm = shuffle(seed, 0, n)
    n_test = math.floor(n * test_fraction)
    return np.sort(perm[: n - n_test]), np.sort(perm[n - n_test :])


def shuffle(seed: int, epoch: int, n: int) -> np.ndarray:
    """The Keccak-driven Fisher-Yates permutation of range(n) for one epoch (int64 [n])."""
    if not 0 <= seed < _U64_LIMIT or not 0 <= epoch < _U64_LIMIT:
        raise DataError(f"schedule seed and epoch must be unsigned 64-bit integers, got {seed}, {epoch}")
    return _permutation(seed, epoch, n).copy()


@functools.lru_cache(maxsize=256)
def _permutation(seed: int, epoch: int, n: int) -> np.ndarray:
    """`shuffle`'s permutation, remembered (read-only): training, its float reference runs and the
    prover all derive the same schedule. Drawn by the kernels (n Keccak calls)."""
    from zkdl import backend  # the kernels load when a schedule is first drawn, not on import

    perm = backend.keccak_permutation(SCHEDULE_DOMAIN + seed.to_bytes(8, "big") + epoch.to_bytes(8, "big"), n)
    perm.setflags(write=False)
    return perm


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
