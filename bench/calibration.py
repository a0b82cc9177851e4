"""Calibration benchmark: raw CSVs trained with no settings, proven and verified (docs/training.md).

    python bench/calibration.py [--data iris,wine,digits] [--json PATH]

For each data set, as `zkdl train --data FILE.csv --out RUN` with no other flag would: standardise,
calibrate R, e and data bits on float runs (`zkdl.calibrate.training_setup`), train with the default
network (hidden 128, 128), batch (64) and epochs (10), then prove and verify the whole run. Beside
the quantised test accuracy it trains the float32 reference with the same initialisation, schedule
and learning rate. Data: tests/vectors/iris.csv and wine.csv (scripts/make_tabular.py), and the
shipped digits written out as a raw CSV (pixels 0..16, label last). Prints a markdown table and
writes the figures to bench/results/calibration.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from zkdl import api  # noqa: E402 - after the path set-up
from zkdl.calibrate import training_setup  # noqa: E402
from zkdl.data import load_digits  # noqa: E402
from zkdl.float_reference import train_float_reference  # noqa: E402
from zkdl.train import train  # noqa: E402

VECTORS = ROOT / "tests" / "vectors"
OWNER = "0x000000000000000000000000000000000000dEaD"


def digits_csv(path: Path) -> Path:
    """The shipped digits as a user's raw CSV."""
    digits = load_digits()
    header = ",".join(f"pixel{i}" for i in range(64)) + ",digit\n"
    path.write_text(header + "".join(",".join(map(str, [*x, y])) + "\n" for x, y in zip(digits.X.tolist(), digits.y.tolist())))
    return path


def measure(name: str, csv: Path, work: Path) -> dict:
    """Train with no settings, prove, verify; the float reference beside it."""
    data, spec, calibration = training_setup({"train": {"data": str(csv)}})
    assert calibration is not None
    run = train(spec, data)
    ref = train_float_reference(spec, data, run.initial)
    run_dir = run.save(work / name)
    proof = api.prove(run_dir, work / f"{name}.zkdl", owner=OWNER)
    started = time.perf_counter()
    verdict = api.verify(Path(proof.bundle_path).read_bytes())
    return {
        "data": name,
        "rows": f"{data.train_idx.size}/{data.test_idx.size}",
        "widths": "-".join(map(str, spec.model.widths)),
        "steps": spec.steps,
        "frac_bits": spec.quant.frac_bits,
        "lr_exp": spec.quant.lr_exp,
        "data_frac_bits": data.frac_bits,
        "quantised_test": run.stats.test_accuracy,
        "float_test": ref.test_accuracy,
        "max_bits_z": run.stats.max_bits["Z"],
        "max_bits_g_a": run.stats.max_bits["G_A"],
        "prove_s": round(proof.seconds, 1),
        "verify_s": round(time.perf_counter() - started, 2),
        "proof_bytes": proof.bundle_bytes,
        "valid": verdict.valid,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="iris,wine,digits", help="comma-separated: iris, wine, digits")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "calibration.json"), help="where to write the figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = {"iris": VECTORS / "iris.csv", "wine": VECTORS / "wine.csv", "digits": digits_csv(work / "digits.csv")}
        rows = [measure(name, files[name], work) for name in args.data.split(",")]
    print("| data (train/test) | MLP, steps | R, e, data bits | quantised test | float test | max bits Z, G_A | prove | verify | proof |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['data']} ({r['rows']}) | {r['widths']}, {r['steps']} | {r['frac_bits']}, {r['lr_exp']}, {r['data_frac_bits']} "
            f"| {100 * r['quantised_test']:.2f} % | {100 * r['float_test']:.2f} % | {r['max_bits_z']}, {r['max_bits_g_a']} "
            f"| {r['prove_s']} s | {r['verify_s']} s{'' if r['valid'] else ' INVALID'} | {r['proof_bytes'] / 1000:.0f} kB |"
        )
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
