"""Prover benchmark: prove and verify a whole training run, with a per-phase breakdown.

    python bench/prove.py --workload digits|paper|ezkl-mlp|tiny [--steps T] [--bias] [--json PATH] [--ray [ADDRESS] | --ray-compare]

Workloads (docs/performance.md, design §6):

* `digits`: scikit-learn digits, MLP 64-128-128-10, batch 64, T = 16 (the demo run).
* `paper`: 8 hidden layers × 1024, batch 64, input 3072, random data (the zkDL paper's shape).
  Its bit tensors alone are T'·L'·B·N·64 bits; the benchmark estimates time and memory from the
  measured scaling first and refuses (with the reason) when the machine cannot hold the run.
* `ezkl-mlp`: a 784-128-128-10 MLP trained on random data (the proof of its training; the
  side-by-side comparison with ezkl's proof of inference is bench/ezkl_mlp.py).
* `tiny`: 64-16-16-10, batch 8, T = 3 (a smoke run).

Printed and written to bench/results/prove-<workload>.json (prove-<workload>-ray.json and
-ray-compare.json in those modes): prover seconds (total, per step, per phase), verifier seconds,
proof bytes (the encoded bundle), peak RSS, and each phase's ratio to the kernel figures of
bench/results/kernels.json (how far the phase is from this machine's limit for the dense work that
phase stands for; below 1 means the phase does less work than the dense reference).

With `--ray [ADDRESS]` the chunks are proven as tasks on that Ray cluster (zkdl.cluster; the
witness through the object store, the boundaries committed as tasks too): the figures are the
seconds until the boundaries were committed, the total, and when each chunk came back (no
per-phase breakdown: the phases run on the workers).

With `--ray-compare` one invocation proves the run three ways: on a local Ray cluster of one
one-CPU node, on one of two one-CPU nodes (separate `ray start` processes on 127.0.0.1, started and
stopped here by tests/raycluster.py; their workers started, zkdl imported, before the timing), and
in this process on every core. Each node's kernels get one thread (RAYON_NUM_THREADS=1 in its
environment, which its workers inherit; checked by a task on every node), so a one-CPU node uses
one core. Printed: each way's time, the parallel efficiency
T(1 node) / (2·T(2 nodes)), the ratio T(2 nodes) / T(single process), the single process's time per
chunk and per boundary commitment, the witness's size as sent through the object store, and peak
memory: the driver's own (VmHWM, reset before each way) and each node's (its processes' summed PSS
and its largest worker's own peak RSS, sampled every 0.2 s).

Phases are timed from outside the protocol: the sub-protocol functions `training._run` calls are
wrapped (the wrappers only time; the protocol and its transcript are untouched).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORKLOADS = {
    "tiny": dict(widths=(64, 16, 16, 10), batch=8, steps=3, data="digits"),
    "digits": dict(widths=(64, 128, 128, 10), batch=64, steps=16, data="digits"),
    # η = 2^-12: at the default 2^-10, 784 random inputs make the training diverge at step 2.
    "ezkl-mlp": dict(widths=(784, 128, 128, 10), batch=64, steps=16, data="random", lr_exp=12),
    # R = 12, η = 2^-16: at the defaults (R = 16, η = 2^-10) this deep net on random data diverges
    # in one step and Z leaves its 64 bits.
    "paper": dict(widths=(3072,) + (1024,) * 8 + (10,), batch=64, steps=2, data="random", frac_bits=12, lr_exp=16),
}
BITS_PER_WORD = 64


class PhaseClock:
    """Wall time per phase (training.prove's `on_phase` marks where each starts) and per product /
    opening call inside them (timed by wrapping the prover party's methods)."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self.steps: dict[str, float] = {}
        self.reference: dict[str, float] = {}  # dense-reference kernel seconds per phase
        self._current = "commit bits"
        self._since = time.perf_counter()

    def on_phase(self, name: str) -> None:
        name = name.split(": ", 1)[-1]  # "chunk k/K: phase": each phase's total over the chunks
        now = time.perf_counter()
        self.phases[self._current] = self.phases.get(self._current, 0.0) + now - self._since
        self._current, self._since = name, now

    def finish(self) -> None:
        self.on_phase("")
        self.phases.pop("", None)

    def wrap(self, cls, attribute: str, reference_of) -> None:
        original = getattr(cls, attribute)

        def timed(party, label, *args, **kwargs):
            start = time.perf_counter()
            try:
                return original(party, label, *args, **kwargs)
            finally:
                name = label.decode()
                self.steps[name] = self.steps.get(name, 0.0) + time.perf_counter() - start
                self.reference[self._current] = self.reference.get(self._current, 0.0) + reference_of(party, label, *args, **kwargs)

        setattr(cls, attribute, timed)


def kernel_figures() -> dict | None:
    path = ROOT / "bench" / "results" / "kernels.json"
    if not path.exists():
        return None
    figures = json.loads(path.read_text())
    threads = str(max(int(t) for t in figures["threads"]))
    api = figures["threads"][threads]["api"]
    msm = api["msm_points_per_s"]
    largest = max(msm, key=int)
    return {
        "threads": int(threads),
        "sumcheck_elements_per_s": api["vector"]["sumcheck_round_elements_per_s"],
        "msm_full_points_per_s": msm[largest]["full"],
        "msm_bits_points_per_s": msm[largest]["bits"],
    }


def install_clock(clock: PhaseClock, figures: dict | None) -> None:
    """Times the prover party's products and openings (the protocol itself is untouched)."""
    from zkdl.proof import party

    vars_of = lambda shape: sum(log for _, log in shape)  # noqa: E731

    def product_reference(self, label, shape, claims, tables, n):
        # A dense sumcheck over the shape with n + 1 tables: about twice its first round.
        return 0.0 if figures is None else 2 * (1 << vars_of(shape)) * (n + 1) / 2 / figures["sumcheck_elements_per_s"]

    def open_reference(self, label, commitment_, secret, point, value):
        # The IPA's cross terms: about 2·g full-scalar MSM points over the rounds.
        return 0.0 if figures is None else 2 * commitment_.row_length / figures["msm_full_points_per_s"]

    clock.wrap(party.ProverParty, "product", product_reference)
    clock.wrap(party.ProverParty, "open", open_reference)


def time_generator_keys() -> list[float]:
    """Seconds of each generator key made from here on: hash-to-curve, or a read of the disk cache."""
    from zkdl import backend

    real, spent = backend.CommitKey, []

    def timed(domain_tag: bytes, row_length: int):
        start = time.perf_counter()
        try:
            return real(domain_tag, row_length)
        finally:
            spent.append(time.perf_counter() - start)

    backend.CommitKey = timed
    return spent


def dataset(kind: str, widths: tuple[int, ...], samples: int = 2048):
    from zkdl.data import DIGITS_FRAC_BITS, Dataset, load_digits

    if kind == "digits":
        return load_digits()
    rng = np.random.default_rng(0)
    X = rng.integers(0, 1 << DIGITS_FRAC_BITS, size=(samples, widths[0]), dtype=np.int64)
    y = rng.integers(0, widths[-1], size=samples, dtype=np.int64)
    train_idx = np.arange(samples - samples // 8, dtype=np.int64)
    test_idx = np.arange(samples - samples // 8, samples, dtype=np.int64)
    return Dataset("random", X, y, widths[-1], DIGITS_FRAC_BITS, train_idx, test_idx)


def sizes(widths: tuple[int, ...], batch: int, steps: int) -> dict[str, int]:
    """Padded entries of one chunk of `steps` steps, from the layout's packed axes (docs/protocol.md §1)."""
    from zkdl.proof.layout import Layout

    lay = Layout(tuple(widths), batch, steps, BITS_PER_WORD, 12, 16, 4, batch, 0)  # only the shapes are read
    rows = (1 << lay.log_steps) * batch
    units, output = 1 << lay.units.log_size, 1 << dict(lay.output)["out"]
    weights = 1 << lay.weight_blocks.log_size
    return {
        "bit_entries": rows * (2 * units + output) * BITS_PER_WORD,
        "elements": rows * max(1 << lay.inputs.log_size, 1 << lay.outputs.log_size),  # the widest per-step table
        "history_entries": max(steps + 1, 1 << lay.log_steps) * weights,  # zkdl.proof.witness.ProverTables.history
        "weight_entries": weights,
    }


def paper_feasibility(args, cfg) -> str | None:
    """None when the paper run fits; else why not (from the prover's tables of one chunk)."""
    s = sizes(cfg["widths"], cfg["batch"], min(args.chunk_steps, args.steps))
    mem = psutil_total()
    # The dominating tables: the bit tensors (packed, 8 B per element, two of them), the field tables of
    # the activation-shaped tensors (32 B per element, ~12 live), the chunk's weight history (int64,
    # never a field copy) and the int64 openings of W_0, W_T and a boundary, plus one working copy.
    need = 2 * 8 * s["elements"] + 12 * 32 * s["elements"] + 8 * s["history_entries"] + 4 * 8 * s["weight_entries"]
    if need > 0.8 * mem:
        return (
            f"T = {args.steps} in chunks of {args.chunk_steps}: the prover holds about {need / 2**30:.1f} GiB of tables "
            f"({s['elements']:,} activation entries, {s['history_entries']:,} weight-history entries, "
            f"{s['bit_entries']:,} committed bits per chunk), more than 80 % of this machine's {mem / 2**30:.1f} GiB"
        )
    return None


def psutil_total() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 16 << 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="digits")
    parser.add_argument("--steps", type=int, help="training steps T (default: the workload's)")
    parser.add_argument("--chunk-steps", type=int, default=32, help="steps proven at a time (zkdl prove --chunk-steps; default 32)")
    parser.add_argument("--json", type=Path, help="where to write the figures (default bench/results/prove-<workload>[-MODE].json)")
    parser.add_argument("--force", action="store_true", help="run even when the estimate says the machine cannot")
    parser.add_argument("--bias", action="store_true", help="every layer with a bias (the same widths)")
    parser.add_argument("--ray", nargs="?", const="", metavar="ADDRESS", help="prove the chunks on the Ray cluster at ADDRESS")
    parser.add_argument(
        "--ray-compare", action="store_true", help="prove on local Ray clusters of 1 and 2 one-CPU nodes and in this process"
    )
    args = parser.parse_args()
    cfg = WORKLOADS[args.workload]
    args.steps = args.steps or cfg["steps"]
    if args.ray_compare and args.steps <= args.chunk_steps:
        parser.error("--ray-compare needs several chunks (the issue's comparison: 8): give --steps above --chunk-steps")
    mode = "-ray-compare" if args.ray_compare else "-ray" if args.ray is not None else ""  # never over the plain run's figures
    out_path = args.json or ROOT / "bench" / "results" / f"prove-{args.workload}{mode}.json"
    result: dict = {"workload": args.workload, "widths": list(cfg["widths"]), "bias": args.bias, "batch": cfg["batch"], "steps": args.steps}
    result["chunk_steps"] = min(args.chunk_steps, args.steps)
    result["cores"] = os.cpu_count()
    result["sizes"] = sizes(cfg["widths"], cfg["batch"], result["chunk_steps"])
    if args.workload == "paper" and not args.force:
        reason = paper_feasibility(args, cfg)
        if reason is not None:
            result["refused"] = reason
            print(f"paper workload refused: {reason}")
            _write(out_path, result)
            return

    from zkdl.model import ModelSpec, TrainSpec
    from zkdl.proof import training
    from zkdl.proof.bundle import Bundle
    from zkdl.proof.data_range import commit_dataset, new_key
    from zkdl.quant import QuantParams
    from zkdl.train import train

    key_seconds = time_generator_keys()
    data = dataset(cfg["data"], cfg["widths"])
    spec = TrainSpec(
        ModelSpec(cfg["widths"], bias=args.bias),
        QuantParams(frac_bits=cfg.get("frac_bits", 16), lr_exp=cfg.get("lr_exp", 10)),
        batch=cfg["batch"],
        steps=args.steps,
        schedule_seed=1,
        init_seed=2,
    )
    start = time.perf_counter()
    run = train(spec, data)
    result["train_s"] = time.perf_counter() - start
    start = time.perf_counter()
    statement, secrets = training.commit_run(run.witness, commit_dataset(data, new_key()))
    result["commit_statement_s"] = time.perf_counter() - start

    if args.ray is not None or args.ray_compare:
        (compare_on_ray if args.ray_compare else prove_on_ray)(args, result, statement, secrets, run.witness, data)
        _write(out_path, result)
        return
    figures = kernel_figures()
    clock = PhaseClock()
    install_clock(clock, figures)
    start = time.perf_counter()
    clock._since = start
    messages = training.prove_run(statement, secrets, run.witness, data, args.chunk_steps, clock.on_phase)
    clock.finish()
    prove_s = time.perf_counter() - start
    if figures is not None:  # the bit commitments: 0/1-scalar MSM points
        chunks = -(-args.steps // result["chunk_steps"])
        clock.reference["commit bits"] = 2 * chunks * result["sizes"]["bit_entries"] / figures["msm_bits_points_per_s"]
    rss_prove = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    training.verify(statement, messages)
    verify_s = time.perf_counter() - start
    proof_bytes = len(Bundle(statement, tuple(messages)).encode())

    phases = {}
    for name, seconds in clock.phases.items():
        ref = clock.reference.get(name, 0.0)
        phases[name] = {"s": round(seconds, 4), "reference_s": round(ref, 4), "ratio": round(seconds / ref, 3) if ref else None}
    result.update(
        prove_s=round(prove_s, 3),
        prove_per_step_s=round(prove_s / max(args.steps, 1), 3),
        verify_s=round(verify_s, 3),
        proof_bytes=proof_bytes,
        peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        peak_rss_after_prove_bytes=rss_prove,
        generator_keys_s=round(sum(key_seconds), 3),
        phases=phases,
        products_and_openings_s={k: round(v, 4) for k, v in clock.steps.items()},
        kernel_figures=figures,
    )
    print(
        f"workload {args.workload}: widths {cfg['widths']}, batch {cfg['batch']}, T = {args.steps} "
        f"in chunks of {result['chunk_steps']}, {os.cpu_count()} cores"
    )
    print(f"prove   {prove_s:9.2f} s  ({prove_s / max(args.steps, 1):.3f} s per step)")
    print(f"verify  {verify_s:9.2f} s")
    print(f"proof   {proof_bytes:9d} bytes")
    print(f"peak RSS {result['peak_rss_bytes'] / 2**20:8.0f} MiB (after proving: {rss_prove / 2**20:.0f} MiB)")
    print(f"keys    {sum(key_seconds):9.2f} s  ({len(key_seconds)} generator keys, derived or read from the cache; in commit and prove)")
    print(f"\n{'phase':26}{'seconds':>10}{'dense ref s':>13}{'ratio':>8}")
    for name, p in sorted(phases.items(), key=lambda kv: -kv[1]["s"]):
        ratio = f"{p['ratio']:8.2f}" if p["ratio"] is not None else f"{'-':>8}"
        print(f"{name:26}{p['s']:10.3f}{p['reference_s']:13.3f}{ratio}")
    print(f"\n{'product / opening call':26}{'seconds':>10}")
    for name, seconds in sorted(clock.steps.items(), key=lambda kv: -kv[1]):
        print(f"{name:26}{seconds:10.3f}")
    _write(out_path, result)


def prove_on_ray(args, result: dict, statement, secrets, witness, data) -> None:
    """The boundaries and the chunks as tasks on a Ray cluster: when each stage came back."""
    from zkdl import cluster

    result.update(_prove_on_cluster(args, statement, secrets, cluster.InMemoryRun(witness, data), args.ray or None))
    print(
        f"workload {args.workload}: T = {args.steps} in {len(result['chunk_returned_s'])} chunks of {result['chunk_steps']} on Ray: "
        f"boundaries {result['boundaries_s']:.2f} s, prove {result['prove_s']:.2f} s, "
        f"verify {result['verify_s']:.2f} s, driver peak RSS {result['driver_peak_rss_bytes'] / 2**20:.0f} MiB"
    )


def _prove_on_cluster(args, statement, secrets, source, address: str | None) -> dict:
    """One proof on the cluster at `address`: the seconds until the boundaries and each chunk came
    back, the total, the driver's peak RSS meanwhile, and the verification of the result."""
    from zkdl import cluster
    from zkdl.proof import training

    returned: list[float] = []
    _reset_peak_rss()
    start = time.perf_counter()
    messages = cluster.prove_run(statement, secrets, source, args.chunk_steps, address, lambda _: returned.append(time.perf_counter()))
    row = {
        "prove_s": round(time.perf_counter() - start, 3),
        "boundaries_s": round(returned[0] - start, 3),  # with the connection and the witness's upload
        "chunk_returned_s": [round(t - start, 3) for t in returned[1:]],
        "driver_peak_rss_bytes": _peak_rss(),
    }
    start = time.perf_counter()
    training.verify(statement, messages)
    row["verify_s"] = round(time.perf_counter() - start, 3)
    return row


def compare_on_ray(args, result: dict, statement, secrets, witness, data) -> None:
    """The run proven on local clusters of 1 and 2 one-CPU nodes, then by this process on every core."""
    import pickle

    from tests.raycluster import start_cluster
    from zkdl import cluster

    os.environ["RAY_AUTH_MODE"] = "disabled"  # the driver's, as the loopback nodes' (tests/raycluster.py)
    source = cluster.InMemoryRun(witness, data)
    result["witness_object_bytes"] = len(pickle.dumps(source, protocol=5))  # what ray.put sends each node once
    ways: dict[str, dict] = {}
    for nodes in (1, 2):
        started = start_cluster(worker_nodes=nodes - 1, node_env={"RAYON_NUM_THREADS": "1"})
        try:
            with cluster.connected(started.address), NodeMemory([node.pid for node in started.nodes]) as memory:
                threads = _warm_workers(2 * nodes)
                ways[f"ray {nodes} node"] = _prove_on_cluster(args, statement, secrets, source, None)
            ways[f"ray {nodes} node"].update(nodes=memory.peaks(), rayon_num_threads=threads)
        finally:
            started.stop()
    ways["single process"] = _prove_single(args, statement, secrets, witness, data)
    result["ways"] = ways
    one, two, single = (ways[name]["prove_s"] for name in ("ray 1 node", "ray 2 node", "single process"))
    result["parallel_efficiency"] = round(one / (2 * two), 3)
    result["two_nodes_over_single"] = round(two / single, 3)
    _print_comparison(args, result)


def _warm_workers(tasks: int) -> list[str | None]:
    """Starts the nodes' workers with zkdl imported (as a long job's workers are after its first
    tasks: not timed), and gives RAYON_NUM_THREADS as they see it (what sizes their kernels' threads)."""
    import ray

    @ray.remote(num_cpus=1)
    def threads() -> str | None:
        import zkdl.cluster  # noqa: F401 - the import a worker's first chunk pays

        time.sleep(0.5)  # long enough for the tasks to spread over the nodes
        return os.environ.get("RAYON_NUM_THREADS")

    return sorted(set(ray.get([threads.remote() for _ in range(tasks)])), key=str)


def _prove_single(args, statement, secrets, witness, data) -> dict:
    """training.prove_run in this process: the total, each boundary commitment's seconds and the mean
    of a chunk's (the rest, over the chunks)."""
    from zkdl.proof import training

    commit_boundary, boundary_s = training.commit_boundary, []

    def timed_boundary(*a):
        start = time.perf_counter()
        try:
            return commit_boundary(*a)
        finally:
            boundary_s.append(time.perf_counter() - start)

    training.commit_boundary = timed_boundary
    _reset_peak_rss()
    start = time.perf_counter()
    try:
        messages = training.prove_run(statement, secrets, witness, data, args.chunk_steps)
    finally:
        training.commit_boundary = commit_boundary
    prove_s = time.perf_counter() - start
    row = {
        "prove_s": round(prove_s, 3),
        "boundary_commit_s": [round(t, 3) for t in boundary_s],
        "chunk_mean_s": round((prove_s - sum(boundary_s)) / len(training.chunks(args.steps, args.chunk_steps)), 3),
        "driver_peak_rss_bytes": _peak_rss(),
    }
    start = time.perf_counter()
    training.verify(statement, messages)
    row["verify_s"] = round(time.perf_counter() - start, 3)
    return row


def _print_comparison(args, result: dict) -> None:
    ways = result["ways"]
    single = ways["single process"]
    print(
        f"workload {args.workload}: T = {args.steps} in chunks of {result['chunk_steps']}, "
        f"{os.cpu_count()} cores; Ray nodes of 1 CPU, kernels RAYON_NUM_THREADS {ways['ray 2 node']['rayon_num_threads']}"
    )
    print(f"\n{'prover':26}{'prove s':>9}{'boundaries s':>14}{'verify s':>10}{'driver peak':>13}   nodes: summed PSS peak / largest worker")
    for name, way in ways.items():
        nodes = "  ".join(f"{n['pss_peak_bytes'] / 2**20:.0f} / {n['worker_peak_rss_bytes'] / 2**20:.0f} MiB" for n in way.get("nodes", []))
        boundaries = f"{way['boundaries_s']:14.2f}" if "boundaries_s" in way else f"{sum(way['boundary_commit_s']):14.2f}"
        print(f"{name:26}{way['prove_s']:9.2f}{boundaries}{way['verify_s']:10.2f}{way['driver_peak_rss_bytes'] / 2**20:9.0f} MiB   {nodes}")
    print(f"\nparallel efficiency T(1 node) / (2 T(2 nodes)) = {result['parallel_efficiency']:.2f}")
    print(f"T(2 nodes) / T(single process, {os.cpu_count()} cores) = {result['two_nodes_over_single']:.2f}")
    boundary_s = single["boundary_commit_s"]
    print(f"single process: {single['chunk_mean_s']:.2f} s per chunk, {sum(boundary_s) / len(boundary_s):.2f} s per boundary commitment")
    print(f"witness through the object store: {result['witness_object_bytes']:,} bytes (to each node once)")


class NodeMemory:
    """Peak memory of each Ray node (the process tree of its `ray start` process), sampled every
    0.2 s from /proc: the summed PSS of its processes (shared pages, as the object store's, counted
    once) and the largest peak RSS (VmHWM) of its workers (`ray::` processes)."""

    def __init__(self, roots: list[int]) -> None:
        self.roots = roots
        self.pss = [0] * len(roots)
        self.worker_hwm = [0] * len(roots)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def __enter__(self) -> NodeMemory:
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join()

    def peaks(self) -> list[dict[str, int]]:
        return [{"pss_peak_bytes": p, "worker_peak_rss_bytes": w} for p, w in zip(self.pss, self.worker_hwm)]

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(0.2):
            children = _children()
            for i, root in enumerate(self.roots):
                tree = _tree(root, children)
                self.pss[i] = max(self.pss[i], sum(_proc_kib(pid, "smaps_rollup", "Pss") for pid in tree) * 1024)
                workers = [pid for pid in tree if _cmdline(pid).startswith(b"ray::")]
                self.worker_hwm[i] = max([self.worker_hwm[i], *(_proc_kib(pid, "status", "VmHWM") * 1024 for pid in workers)])


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):  # ended meanwhile
                continue
            children.setdefault(parent, []).append(int(entry.name))
    return children


def _tree(root: int, children: dict[int, list[int]]) -> list[int]:
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def _proc_kib(pid: int, name: str, field: str) -> int:
    """A `field:  N kB` line of /proc/PID/NAME; 0 for a process that ended meanwhile."""
    try:
        for line in (Path("/proc") / str(pid) / name).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cmdline(pid: int) -> bytes:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes()
    except OSError:
        return b""


def _reset_peak_rss() -> None:
    """This process's peak RSS (VmHWM) starts again from its current RSS (Linux: clear_refs 5)."""
    Path("/proc/self/clear_refs").write_text("5")


def _peak_rss() -> int:
    return _proc_kib(os.getpid(), "status", "VmHWM") * 1024


def _write(path: Path, result: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
