"""Generate `tests/vectors/iris.csv` and `tests/vectors/wine.csv`: raw tabular data sets for the
calibration acceptance test and `bench/calibration.py` (run once, offline).

Source: scikit-learn's bundled copies of the UCI Iris (150 rows, 4 features) and Wine (178 rows, 13
features) data sets, read with `sklearn.datasets.load_iris` / `load_wine`. scikit-learn is
distributed under the BSD 3-Clause licence (Copyright (c) 2007-2024 The scikit-learn developers);
the UCI data sets are published under CC BY 4.0 (Iris: R. A. Fisher, https://doi.org/10.24432/C56C76;
Wine: S. Aeberhard and M. Forina, https://doi.org/10.24432/C5PC7J).

The files are what a user would have: a header, the features as published (unscaled: wine's
proline is in the thousands, its hue below 2) and the label in the last column, written as the
sources name it: iris by species name, wine by its original class numbers 1..3 (scikit-learn
renumbers them 0..2). zkdl maps such labels to classes 0..K-1 and records the mapping.

zkdl never imports scikit-learn: this script needs it once, in a throwaway environment:

    python -m venv /tmp/sk && /tmp/sk/bin/pip install scikit-learn
    /tmp/sk/bin/python scripts/make_tabular.py
"""

import csv
from pathlib import Path

from sklearn.datasets import load_iris, load_wine

OUT = Path(__file__).resolve().parent.parent / "tests" / "vectors"


def write(name: str, header: list[str], rows: list[list[str]]) -> None:
    """One CSV file: the header, then the rows."""
    with (OUT / f"{name}.csv").open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    print(f"wrote {OUT / name}.csv: {len(rows)} rows, {len(header) - 1} features")


def main() -> None:
    """Write both files."""
    iris = load_iris()
    species = [str(iris.target_names[t]) for t in iris.target]
    write("iris", [*iris.feature_names, "species"], [[repr(float(v)) for v in x] + [s] for x, s in zip(iris.data, species)])
    wine = load_wine()
    write("wine", [*wine.feature_names, "class"], [[repr(float(v)) for v in x] + [str(t + 1)] for x, t in zip(wine.data, wine.target)])


if __name__ == "__main__":
    main()
