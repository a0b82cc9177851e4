"""Kernel throughput on this machine: the limit that later prover phases are measured against.

Two sets of figures per thread count: `raw`, arkworks itself inside Rust (the cargo example
`kernels/examples/throughput.rs`), and `api`, the same work through the Python API with numpy
conversion included, as the prover sees it. Each thread count runs in its own processes because
rayon's pool size is fixed at first use.

    python bench/kernels.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

MSM_LOG_SIZES = [16, 17, 18, 19, 20]
VECTOR_LOG_SIZE = 20
KERNELS = Path(__file__).resolve().parent.parent / "kernels"


def best_time(fn, repeats: int = 3) -> float:
    """The fastest of a few runs: the least disturbed by the other core's load."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def vector_figures(log_n: int) -> dict[str, float]:
    from zkdl import _kernels as k

    n = 1 << log_n
    a, b, r = k.fr_random(n), k.fr_random(n), k.fr_random(1)[0]
    factors = [k.fr_random(n) for _ in range(2)]
    w = k.fr_random(log_n)

    def sumcheck_round() -> float:
        prover = k.ProductSumcheck(factors, w)  # set-up (eq table) is not part of a round
        return best_time(lambda: (prover.round_evaluations(), prover.bind(r)), repeats=1)

    return {
        "field_mul_per_s": n / best_time(lambda: k.fr_mul(a, b)),
        "mle_fold_elements_per_s": n / best_time(lambda: k.mle_fold(a, r)),
        "sumcheck_round_elements_per_s": n / min(sumcheck_round() for _ in range(3)),
    }


def msm_figures(log_sizes: list[int]) -> dict[str, dict[str, float]]:
    from zkdl import _kernels as k

    base = k.CommitKey(b"zkdl/bench", 1 << 12).generators()
    rng = np.random.default_rng(0)
    out: dict[str, dict[str, float]] = {}
    for log_n in log_sizes:
        n = 1 << log_n
        points = np.ascontiguousarray(np.tile(base, (n // len(base), 1)))
        scalars = {
            "full": lambda points=points, n=n: k.msm(points, k.fr_random(n)),
            "i64": lambda points=points, n=n: k.msm_i64(points, rng.integers(-(2**63), 2**63 - 1, size=n, dtype=np.int64)),
            "bits": lambda points=points, n=n: k.msm_bits(points, rng.integers(0, 2, size=n, dtype=np.uint8)),
        }
        repeats = 2 if log_n < 19 else 1  # the largest sizes are steady enough, and slow
        out[str(log_n)] = {kind: n / best_time(run, repeats) for kind, run in scalars.items()}
    return out


def worker(quick: bool) -> None:
    log_sizes = MSM_LOG_SIZES[:2] if quick else MSM_LOG_SIZES
    figures = {"vector": vector_figures(16 if quick else VECTOR_LOG_SIZE), "msm_points_per_s": msm_figures(log_sizes)}
    print(json.dumps(figures))


def run_with_threads(threads: int, quick: bool) -> dict:
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    cmd = [sys.executable, __file__, "--worker"] + (["--quick"] if quick else [])
    api = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout)
    sizes = [16 if quick else VECTOR_LOG_SIZE] + (MSM_LOG_SIZES[:2] if quick else MSM_LOG_SIZES)
    raw_cmd = ["cargo", "run", "--quiet", "--release", "--manifest-path", str(KERNELS / "Cargo.toml")]
    raw_cmd += ["--example", "throughput", "--", *map(str, sizes)]
    raw = json.loads(subprocess.run(raw_cmd, env=env, check=True, capture_output=True, text=True).stdout)
    return {"api": api, "raw": raw}


def print_table(results: dict[str, dict]) -> None:
    columns = [(t, kind) for t in results for kind in ("raw", "api")]
    print(f"{'figure (per second)':38}" + "".join(f"{f'{kind} {t} thr':>13}" for t, kind in columns))
    for name in results["1"]["api"]["vector"]:
        cells = [results[t]["raw"][name] if kind == "raw" else results[t]["api"]["vector"][name] for t, kind in columns]
        print(f"{name:38}" + "".join(f"{c:13.3g}" for c in cells))
    for log_n, kinds in results["1"]["api"]["msm_points_per_s"].items():
        for scalar_kind in kinds:
            cells = []
            for t, kind in columns:
                if kind == "raw":
                    cells.append(f"{results[t]['raw']['msm_full_points_per_s'][log_n]:13.3g}" if scalar_kind == "full" else f"{'-':>13}")
                else:
                    cells.append(f"{results[t]['api']['msm_points_per_s'][log_n][scalar_kind]:13.3g}")
            print(f"{f'msm_points 2^{log_n} {scalar_kind}':38}" + "".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    parser.add_argument("--json", type=Path, default=Path("bench/results/kernels.json"), help="where to write the figures")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.quick)
        return
    started = time.perf_counter()
    results = {str(t): run_with_threads(t, args.quick) for t in (1, 2)}
    print_table(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"machine_cores": os.cpu_count(), "threads": results}, indent=1))
    print(f"\nwrote {args.json} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
