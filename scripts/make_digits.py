"""Generate `zkdl/datasets/digits.npz`, the digits data set shipped with zkdl (run once, offline).

Source: scikit-learn's bundled copy of the UCI "Optical Recognition of Handwritten Digits" test set
(1797 images of 8x8 pixels, values 0..16, ten classes), read with `sklearn.datasets.load_digits`.
scikit-learn is distributed under the BSD 3-Clause licence (Copyright (c) 2007-2024 The
scikit-learn developers); the UCI data set by E. Alpaydin and C. Kaynak is published under
CC BY 4.0 (https://doi.org/10.24432/C50P49). The shipped file keeps the values unchanged.

zkdl itself never imports scikit-learn: this script needs it once, in a throwaway environment:

    python -m venv /tmp/sk && /tmp/sk/bin/pip install scikit-learn
    /tmp/sk/bin/python scripts/make_digits.py

The file holds `X` (uint8 [1797, 64], pixels 0..16), `y` (uint8 [1797], labels 0..9) and a fixed
train/test split `train_idx` (1437 rows) / `test_idx` (360 rows), both sorted, drawn once from a
seeded permutation. The split is stored rather than re-derived so that it never depends on a numpy
version.
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

N_TEST = 360
SPLIT_SEED = 20240501
OUT = Path(__file__).resolve().parent.parent / "zkdl" / "datasets" / "digits.npz"


def main() -> None:
    """Write the npz file and print its shape summary."""
    digits = load_digits()
    X = digits.data.astype(np.uint8)
    y = digits.target.astype(np.uint8)
    assert X.shape == (1797, 64) and int(X.max()) == 16 and np.array_equal(X, digits.data)
    perm = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    test_idx = np.sort(perm[:N_TEST]).astype(np.int64)
    train_idx = np.sort(perm[N_TEST:]).astype(np.int64)
    np.savez_compressed(OUT, X=X, y=y, train_idx=train_idx, test_idx=test_idx)
    print(f"wrote {OUT}: X {X.shape}, train {len(train_idx)}, test {len(test_idx)}")


if __name__ == "__main__":
    main()
