"""ezkl beside zkdl on the 784-128-128-10 ReLU MLP (design §6, `ezkl-mlp`), on this machine.

    python bench/ezkl_mlp.py [--batches 1 64] [--json PATH]

The two prove different things, and the table says so:

* ezkl (Halo2 over KZG) proves inference: y = f(x) for one batch of B inputs through an MLP whose
  weights are fixed in the circuit (ezkl's defaults: x and y public, weights in the verifying key).
  The network is an ONNX graph built here (no bias, like zkdl's); the SRS is generated locally
  (`ezkl.gen_srs`, nothing downloaded) and kept in ~/.ezkl/srs. Every ezkl call runs in a process
  of its own: its seconds are measured inside it, its peak RSS is the child's own (wait4).
* zkdl proves training: T SGD steps, each a forward pass, a backward pass and an update of a batch of
  B samples, on committed data and weights. Its figures are bench/prove.py's `ezkl-mlp` workload,
  run as a subprocess.

Per sample forward pass, zkdl's figure also pays for that sample's backward pass and update: the
ratios are an upper bound on zkdl's cost of a forward pass, not a like-for-like measurement.

Needs ezkl and onnx (`make bench-deps`, i.e. pip install -r bench/requirements-ezkl.txt); without
them it exits 2. Writes bench/results/ezkl-mlp.json.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import itertools
import json
import os
import resource
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import prove  # bench/prove.py: the zkdl workload and the machine's memory

ROOT = Path(__file__).resolve().parent.parent
WORKLOAD = prove.WORKLOADS["ezkl-mlp"]
WIDTHS = WORKLOAD["widths"]

# One ezkl call: its seconds are taken in the child, so they leave out interpreter start-up.
EZKL_STAGE = """import ezkl, json, sys, time
start = time.perf_counter()
answer = getattr(ezkl, sys.argv[1])(*json.loads(sys.argv[2]))
json.dump(time.perf_counter() - start, open(sys.argv[3], "w"))
sys.exit(answer is False)
"""


def spawn(argv: list[str], log: Path) -> resource.struct_rusage:
    """Runs argv to the end, its output appended to log; returns the child's own resource usage."""
    actions = [(os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644), (os.POSIX_SPAWN_DUP2, 1, 2)]
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"a child failed (exit {os.waitstatus_to_exitcode(status)}); the end of its log:\n{log.read_text()[-3000:]}")
    return usage


def ezkl_stage(work: Path, name: str, *args) -> dict:
    """Seconds and peak RSS of the call ezkl.<name>(*args), in a process of its own."""
    seconds = work / "seconds.json"
    argv = [sys.executable, "-c", EZKL_STAGE, name, json.dumps([str(a) if isinstance(a, Path) else a for a in args]), str(seconds)]
    usage = spawn(argv, work / "ezkl.log")
    return {"s": round(json.loads(seconds.read_text()), 3), "peak_rss_bytes": usage.ru_maxrss * 1024}


def write_mlp(batch: int, work: Path) -> None:
    """mlp.onnx: the ReLU MLP with fixed random weights (seed 0, scaled by 1/sqrt(fan-in) so that
    activations stay of order 1), and input.json: one batch of inputs in [0, 1), the range of
    bench/prove.py's random data."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    nodes, weights, x = [], [], "x"
    for layer, (n_in, n_out) in enumerate(itertools.pairwise(WIDTHS)):
        w = (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32)
        weights.append(numpy_helper.from_array(w, f"W{layer}"))
        nodes.append(helper.make_node("MatMul", [x, f"W{layer}"], [f"z{layer}"]))
        x = f"z{layer}"
        if layer < len(WIDTHS) - 2:
            nodes.append(helper.make_node("Relu", [x], [f"a{layer}"]))
            x = f"a{layer}"
    shape = lambda name, width: helper.make_tensor_value_info(name, TensorProto.FLOAT, [batch, width])  # noqa: E731
    graph = helper.make_graph(nodes, "mlp", [shape("x", WIDTHS[0])], [shape(x, WIDTHS[-1])], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, work / "mlp.onnx")
    inputs = rng.random((batch, WIDTHS[0]), dtype=np.float32)
    (work / "input.json").write_text(json.dumps({"input_data": [inputs.ravel().tolist()]}))


def prove_inference(batch: int, work: Path, smaller: dict | None) -> dict:
    """ezkl end to end on one batch. Skipped, with the reason, when the peak RSS of the smaller batch
    scaled by the growth of the circuit (2^logrows) would not fit in 80 % of this machine's memory:
    a rough guard against a run that cannot finish (from B = 1 to 64 the real peak grew 12.7×, not 8×)."""
    work.mkdir()
    write_mlp(batch, work)
    f = work.joinpath
    stages = {
        "gen_settings": ezkl_stage(work, "gen_settings", f("mlp.onnx"), f("settings.json")),
        # "resources": the smallest circuit whose outputs stay accurate (ezkl's accuracy check).
        "calibrate_settings": ezkl_stage(work, "calibrate_settings", f("input.json"), f("mlp.onnx"), f("settings.json"), "resources"),
    }
    settings = json.loads(f("settings.json").read_text())
    run_args = settings["run_args"]
    column = {
        "proves": f"{batch} inference{'s' * (batch > 1)}",
        "samples": batch,
        "logrows": run_args["logrows"],
        "rows": settings["num_rows"],
        "visibility": {k: run_args[f"{k}_visibility"] for k in ("input", "output", "param")},
        "scales": {"input": run_args["input_scale"], "param": run_args["param_scale"]},
    }
    if smaller is not None and "skipped" not in smaller:
        estimate = smaller["peak_rss_bytes"] * 2 ** (column["logrows"] - smaller["logrows"])
        if estimate > 0.8 * prove.psutil_total():
            column["skipped"] = f"logrows {column['logrows']}: about {estimate / 2**30:.0f} GiB, more than 80 % of this machine's memory"
            return column
    # The SRS depends on logrows only: kept where ezkl keeps its own (~/.ezkl/srs), generated once
    # (minutes: 2^20 points take about 12 on 2 cores) and moved there only when complete.
    srs = Path.home() / ".ezkl" / "srs" / f"kzg{column['logrows']}.srs"
    if not srs.exists():
        stages["gen_srs"] = ezkl_stage(work, "gen_srs", f("kzg.srs"), column["logrows"])
        srs.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(f("kzg.srs"), srs)
    for name, *args in (
        ("compile_circuit", f("mlp.onnx"), f("mlp.ezkl"), f("settings.json")),
        ("setup", f("mlp.ezkl"), f("vk.key"), f("pk.key"), srs),
        ("gen_witness", f("input.json"), f("mlp.ezkl"), f("witness.json")),
        ("prove", f("witness.json"), f("mlp.ezkl"), f("pk.key"), f("proof.json"), srs),
        ("verify", f("proof.json"), f("settings.json"), f("vk.key"), srs),
    ):
        stages[name] = ezkl_stage(work, name, *args)
    column.update(
        srs_s=stages["gen_srs"]["s"] if "gen_srs" in stages else f"cached ({srs.name})",
        setup_s=stages["setup"]["s"],
        witness_s=stages["gen_witness"]["s"],
        prove_s=stages["prove"]["s"],
        verify_s=stages["verify"]["s"],
        proof_bytes=len(json.loads(f("proof.json").read_text())["proof"]),  # the proof's bytes, as a list
        proof_file_bytes=f("proof.json").stat().st_size,  # the proof with its public inputs and outputs
        peak_rss_bytes=max(stage["peak_rss_bytes"] for stage in stages.values()),
        stages=stages,
    )
    return column


def prove_training(work: Path) -> dict:
    """zkdl: bench/prove.py's `ezkl-mlp` workload in a process of its own."""
    path = work / "prove-ezkl-mlp.json"
    spawn([sys.executable, str(ROOT / "bench" / "prove.py"), "--workload", "ezkl-mlp", "--json", str(path)], work / "zkdl.log")
    run = json.loads(path.read_text())
    return {
        "proves": f"{run['steps']} SGD steps of {run['batch']}",
        "samples": run["steps"] * run["batch"],
        "srs_s": "none",
        "setup_s": "none (transparent)",
        "witness_s": run["train_s"],
        # The commitments to data and weights are prover work; ezkl's prove makes its commitments too.
        "prove_s": round(run["commit_statement_s"] + run["prove_s"], 3),
        "verify_s": run["verify_s"],
        "proof_bytes": run["proof_bytes"],
        "peak_rss_bytes": run["peak_rss_bytes"],
        "lr_exp": WORKLOAD["lr_exp"],
        "prove_py": run,
    }


ROWS = (
    ("proves", "proves", "{}"),
    ("circuit logrows", "logrows", "{}"),
    ("SRS generation s (one-off)", "srs_s", "{:.2f}"),
    ("setup s (proving/verifying keys)", "setup_s", "{:.2f}"),
    ("witness s (zkdl: training)", "witness_s", "{:.2f}"),
    ("prove s (commitments included)", "prove_s", "{:.2f}"),
    ("verify s", "verify_s", "{:.3f}"),
    ("proof bytes", "proof_bytes", "{:,}"),
    ("peak RSS MiB (largest process)", "peak_rss_mib", "{:,.0f}"),
    ("sample forward passes proven", "samples", "{:,}"),
    ("prove s per sample pass", "prove_per_sample_s", "{:.4f}"),
    ("verify s per sample pass", "verify_per_sample_s", "{:.5f}"),
    ("proof bytes per sample pass", "proof_bytes_per_sample", "{:,.0f}"),
    ("zkdl ÷ ezkl, prove s per pass", "zkdl_prove_ratio", "{:.3f}"),
)


def derive_figures(columns: list[dict], zkdl: dict) -> None:
    """Peak RSS in MiB, per sample forward pass figures, and zkdl's prove seconds per pass over each ezkl column's."""
    for column in columns:
        if "prove_s" in column:
            column["peak_rss_mib"] = column["peak_rss_bytes"] / 2**20
            column["prove_per_sample_s"] = column["prove_s"] / column["samples"]
            column["verify_per_sample_s"] = column["verify_s"] / column["samples"]
            column["proof_bytes_per_sample"] = column["proof_bytes"] / column["samples"]
    for column in columns[:-1]:
        if "prove_s" in column:
            column["zkdl_prove_ratio"] = zkdl["prove_per_sample_s"] / column["prove_per_sample_s"]


def print_table(heads: list[str], columns: list[dict]) -> None:
    width = 34
    print(f"{'':{width}}" + "".join(f"{head:>22}" for head in heads))
    for label, key, form in ROWS:
        values = [column.get(key, "-") for column in columns]
        cells = [value if isinstance(value, str) else form.format(value) for value in values]
        print(f"{label:{width}}" + "".join(f"{cell:>22}" for cell in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 64], help="ezkl batch sizes, smallest first")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "ezkl-mlp.json")
    args = parser.parse_args()
    missing = [name for name in ("ezkl", "onnx") if importlib.util.find_spec(name) is None]
    if missing:
        print(
            f"{' and '.join(missing)} not installed: run `make bench-deps` (.venv/bin/pip install -r bench/requirements-ezkl.txt)",
            file=sys.stderr,
        )
        sys.exit(2)

    # Other jobs on the machine inflate every figure: the 1-minute load average is kept with them.
    load = [os.getloadavg()[0]]
    columns: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="ezkl-mlp-") as tmp:
        # zkdl first: its run is the larger in memory, so a machine too full for it fails early.
        zkdl = prove_training(Path(tmp))
        print(f"zkdl T={WORKLOAD['steps']}: done", flush=True)
        for batch in sorted(args.batches):
            columns.append(prove_inference(batch, Path(tmp) / f"batch-{batch}", columns[-1] if columns else None))
            print(f"ezkl batch {batch}: {columns[-1].get('skipped') or 'done'}", flush=True)
    load.append(os.getloadavg()[0])
    derive_figures(columns + [zkdl], zkdl)
    ezkl_version = importlib.metadata.version("ezkl")
    heads = [f"ezkl B={c['samples']}" for c in columns] + [f"zkdl T={WORKLOAD['steps']} B={WORKLOAD['batch']}"]
    statements = {
        "ezkl": "y = f(x) for one batch of B inputs; x and y public, the weights fixed in the circuit (in the verifying key), "
        f"values quantized at the calibrated scales; Halo2 with KZG (per-circuit setup, SRS generated locally), ezkl {ezkl_version}",
        "zkdl": f"T = {WORKLOAD['steps']} SGD steps, each the forward pass, backward pass and weight update of a batch of "
        f"{WORKLOAD['batch']} samples, on committed (hidden) data and weights; no setup (transparent commitments); "
        f"bench/prove.py's ezkl-mlp workload (eta = 2^-{WORKLOAD['lr_exp']})",
        "ratios": "per sample forward pass, zkdl's figures also pay for that sample's backward pass and update: an upper bound "
        "on what a zkdl forward pass would cost, not a like-for-like comparison",
    }
    machine = f"{os.cpu_count()} cores, {prove.psutil_total() / 2**30:.1f} GiB"
    print(f"\nezkl-mlp: MLP {'-'.join(map(str, WIDTHS))} (ReLU), {machine}, load average {load[0]:.1f} at start, {load[1]:.1f} at end")
    print_table(heads, columns + [zkdl])
    for column in columns:
        if "skipped" in column:
            print(f"ezkl B={column['samples']} skipped: {column['skipped']}")
    for name, text in statements.items():
        print(f"{name}: {text}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "widths": list(WIDTHS),
        "cores": os.cpu_count(),
        "memory_bytes": prove.psutil_total(),
        "load_average": load,
        "ezkl_version": ezkl_version,
        "onnx_version": importlib.metadata.version("onnx"),
        "ezkl": columns,
        "zkdl": zkdl,
        "statements": statements,
    }
    args.json.write_text(json.dumps(result, indent=1))
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
