"""Data sets (shipped digits, .npz, .csv), digests and the public batch schedule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from eth_hash.auto import keccak

from zkdl.data import Dataset, Standardization, digest, load_dataset, one_hot, read_table, schedule, shuffle, split
from zkdl.errors import DataError

DIGITS_TRAIN_DIGEST = "92f366e9cf2547d92a296e4bdfd16740d46d7cff210ed68750a78ca38974f4ff"


def test_shipped_digits(digits: Dataset) -> None:
    assert digits.X.shape == (1797, 64) and digits.X.min() == 0 and digits.X.max() == 16
    assert sorted(set(digits.y.tolist())) == list(range(10))
    assert digits.train_idx.size == 1437 and digits.test_idx.size == 360
    assert np.union1d(digits.train_idx, digits.test_idx).size == 1797
    assert digits.frac_bits == 4 and digits.classes == 10


def test_digest_is_pinned_and_canonical(digits: Dataset) -> None:
    assert digits.train_digest() == DIGITS_TRAIN_DIGEST
    X, y = np.array([[1, -2]], dtype=np.int64), np.array([1], dtype=np.int64)
    enc = b"zkdl/dataset/v1" + b"".join(v.to_bytes(8, "big") for v in (1, 2, 3, 5))
    enc += (1).to_bytes(8, "big") + (-2).to_bytes(8, "big", signed=True) + (1).to_bytes(8, "big")
    assert digest(X, y, 3, 5) == keccak(enc).hex()
    assert digest(X, y, 3, 4) != digest(X, y, 3, 5)


def test_schedule_is_pinned_and_reproducible() -> None:
    sched = schedule(0, 1437, 64, 3)
    assert sched[0, :5].tolist() == [745, 1408, 1317, 780, 583]
    assert np.array_equal(schedule(0, 1437, 64, 3), sched)
    assert not np.array_equal(schedule(1, 1437, 64, 3), sched)


def test_schedule_epochs_and_dropped_tail() -> None:
    sched = schedule(5, 50, 16, 7)  # 3 batches per epoch, 2 rows dropped each epoch
    assert sched.shape == (7, 16)
    for epoch in range(2):
        rows = sched[3 * epoch : 3 * epoch + 3].ravel()
        assert np.unique(rows).size == 48 and rows.max() < 50
    assert np.array_equal(sched[3:6].ravel(), shuffle(5, 1, 50)[:48])
    assert schedule(5, 50, 16, 0).shape == (0, 16)
    with pytest.raises(DataError):
        schedule(5, 50, 51, 1)


def test_shuffle_is_fisher_yates_over_keccak_words() -> None:
    perm = list(range(4))
    for counter, i in enumerate((3, 2, 1)):  # no rejection happens for such small bounds
        msg = b"zkdl/schedule/v1" + b"".join(v.to_bytes(8, "big") for v in (9, 2, counter))
        j = int.from_bytes(keccak(msg), "big") % (i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    assert shuffle(9, 2, 4).tolist() == perm


@pytest.mark.parametrize("n", [2, 3, 1000, 4099])
def test_the_kernels_shuffle_is_the_reference_fisher_yates(n: int) -> None:
    """The schedule's permutation comes from the kernels; it must be the documented one, bit for bit."""
    from tests.reference import keccak_permutation

    for seed, epoch in ((0, 0), (7, 3), ((1 << 64) - 1, 1 << 40)):
        prefix = b"zkdl/schedule/v1" + seed.to_bytes(8, "big") + epoch.to_bytes(8, "big")
        assert shuffle(seed, epoch, n).tolist() == keccak_permutation(prefix, n)


def test_one_hot() -> None:
    assert one_hot(np.array([2, 0]), 3, 4).tolist() == [[0, 0, 16], [16, 0, 0]]


def test_split_is_disjoint_and_complete() -> None:
    train, test = split(10, 0.3, 1)
    assert train.size == 7 and test.size == 3 and np.union1d(train, test).tolist() == list(range(10))


def test_npz_with_float_features_and_stored_split(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(
        path,
        X=np.array([[0.5, 1.0], [0.25, -1.0], [0.0, 0.0]]),
        y=np.array([0, 1, 1]),
        train_idx=np.array([0, 2]),
        test_idx=np.array([1]),
    )
    ds = load_dataset(str(path), frac_bits=2)
    assert ds.X.tolist() == [[2, 4], [1, -4], [0, 0]] and ds.frac_bits == 2 and ds.classes == 2
    assert ds.train_idx.tolist() == [0, 2] and ds.test_idx.tolist() == [1]


def test_npz_with_integer_features(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, X=np.arange(20).reshape(10, 2), y=np.arange(10) % 3, frac_bits=np.array(3))
    ds = load_dataset(str(path), test_fraction=0.2)
    assert ds.frac_bits == 3 and ds.X.dtype == np.int64 and ds.classes == 3
    assert ds.train_idx.size == 8 and ds.test_idx.size == 2


def test_csv_with_header(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b,label\n0.5,1,0\n1,0.25,1\n0,0,2\n1,1,0\n")
    ds = load_dataset(str(path), frac_bits=2, test_fraction=0.25)
    assert ds.X.tolist() == [[2, 4], [4, 1], [0, 0], [4, 4]] and ds.y.tolist() == [0, 1, 2, 0]
    assert ds.train_idx.size == 3 and ds.test_idx.size == 1 and ds.name == "d.csv"


@pytest.mark.parametrize(
    "content, message",
    [
        ("1,2,0\n1,x,0\n", "non-numeric"),
        ("1,2,0\n1,0\n", "equal length"),
        ("", "equal length"),
        ("1,2,0\n3,4,0\n", "the labels name 1 class; a classifier needs at least 2"),
        ("1,2,1.0\n3,4,2.5\n", "label '2.5' is a number but not a whole one"),
    ],
)
def test_bad_csv_is_rejected(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        load_dataset(str(path))


def test_bad_sources_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="neither"):
        load_dataset(str(tmp_path / "missing.npz"))
    (tmp_path / "d.txt").write_text("1")
    with pytest.raises(DataError, match="unsupported"):
        load_dataset(str(tmp_path / "d.txt"))
    np.savez(tmp_path / "noy.npz", X=np.zeros((2, 2)))
    with pytest.raises(DataError, match="'X' and 'y'"):
        load_dataset(str(tmp_path / "noy.npz"))
    np.savez(
        tmp_path / "overlap.npz",
        X=np.zeros((3, 1)),
        y=np.array([0, 1, 0]),
        train_idx=np.array([0, 1]),
        test_idx=np.array([1]),
    )
    with pytest.raises(DataError, match="overlap"):
        load_dataset(str(tmp_path / "overlap.npz"))


@pytest.mark.parametrize(
    "labels, classes, names",
    [
        (["1000", "0", "2", "0"], [2, 0, 1, 0], ("0", "2", "1000")),  # integers, sorted numerically
        (["b", "a", "c", "a"], [1, 0, 2, 0], ("a", "b", "c")),  # names, sorted
        (["1.0", "0.0", "1", "0"], [1, 0, 1, 0], None),  # already the classes 0..K-1
    ],
)
def test_other_labels_are_mapped_to_classes_and_named(tmp_path: Path, labels: list[str], classes: list[int], names: tuple | None) -> None:
    path = tmp_path / "d.csv"
    path.write_text("x,label\n" + "".join(f"{i},{label}\n" for i, label in enumerate(labels)))
    ds = load_dataset(str(path), test_fraction=0.0)
    assert ds.y.tolist() == classes and ds.labels == names and ds.classes == len(set(classes))


def test_npz_labels_may_be_names(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", X=np.zeros((4, 2)), y=np.array(["cat", "dog", "cat", "eel"]))
    ds = load_dataset(str(tmp_path / "d.npz"))
    assert ds.labels == ("cat", "dog", "eel") and ds.y.tolist() == [0, 1, 0, 2]


def test_standardization_is_fitted_on_the_training_split_and_reapplied(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    rows = [(float(i), 1000.0 + 10 * i, 5.0, i % 2) for i in range(20)]
    path.write_text("".join(f"{a},{b},{c},{y}\n" for a, b, c, y in rows))
    ds = load_dataset(str(path), frac_bits=10, test_fraction=0.25, standardize=True)
    real = ds.X_train / 2**10
    assert np.allclose(real.mean(axis=0), 0, atol=1e-3) and np.allclose(real[:, :2].std(axis=0), 1, atol=1e-3)
    assert ds.standardization is not None and ds.standardization.scale[2] == 1.0  # a constant feature
    again = load_dataset(str(path), frac_bits=10, test_fraction=0.25, standardize=Standardization.from_dict(ds.standardization.to_dict()))
    assert again.train_digest() == ds.train_digest() and again.test_digest() == ds.test_digest()
    assert load_dataset(str(path), frac_bits=10, test_fraction=0.25).train_digest() != ds.train_digest()


def test_rows_to_predict_may_come_with_or_without_labels(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("a,b\n1,2\n3,4\n")
    (tmp_path / "xy.csv").write_text("a,b,kind\n1,2,p\n3,4,q\n")
    bare = read_table(str(tmp_path / "x.csv"), labelled=False, n_features=2)
    assert bare.X.tolist() == [[1, 2], [3, 4]] and bare.y.size == 0
    labelled = read_table(str(tmp_path / "xy.csv"), labelled=False, n_features=2)
    assert labelled.X.tolist() == [[1, 2], [3, 4]] and labelled.labels == ("p", "q")


def test_an_unreadable_npz_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable .npz data set"):
        load_dataset(str(tmp_path / "junk.npz"))
