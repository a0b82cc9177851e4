"""Mutation testing of the verifier: every mutant of tests/mutants.toml must be killed by the proof tests.

Each mutant weakens one check the verifier makes (docs/protocol.md). For each, this script copies
the checkout's package and tests into a scratch directory (never touching the checkout), replaces
the mutant's `original` snippet by its `mutated` one, and runs

    python -m pytest -x -q -p no:cacheprovider -p no:randomly <killers> tests/test_proof_*.py tests/test_transcript.py

in the copy, the listed killers first (so a killed mutant stops early). pytest's exit 1 means the
mutant is KILLED (the first failing test is recorded), exit 0 that it SURVIVED; any other exit, a
timeout or an `original` that does not occur exactly once is an ERROR. The run prints a line per
mutant as it finishes, then the score and every survivor, and exits 0 only if every mutant was
killed, none was an error and the unmutated copy passes the same tests (the baseline, run with the
whole list). Standard library only.

    .venv/bin/python scripts/mutation.py                     # the whole list, one at a time
    .venv/bin/python scripts/mutation.py --jobs 2            # two mutants at a time
    .venv/bin/python scripts/mutation.py --only ID [ID ...]  # some mutants (no baseline unless --baseline)
    .venv/bin/python scripts/mutation.py --list              # the list
    .venv/bin/python scripts/mutation.py --markdown          # "check | mutant id | test that kills it"

The scratch copy holds zkdl/ (the package with its built extension zkdl/_kernels*.so and data
sets, without __pycache__), tests/ (the suites, their helpers, conftest.py and test vectors) and
pyproject.toml (pytest's rootdir and options); the venv's interpreter runs it with PYTHONPATH set
to the copy, and a tiny plugin written into the copy puts the killers first, records the first
failing test and refuses to run if `zkdl` would be imported from anywhere but the copy. With
`--ref REV` the package's tracked files come from git revision REV instead of the working tree
(the built extension still comes from the checkout): useful while the checkout is being edited.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIST = ROOT / "tests" / "mutants.toml"
PACKAGE = "zkdl"
SUITES = ("tests/test_proof_*.py", "tests/test_transcript.py")  # globbed in the copy at run time
FIELDS = ("id", "check", "file", "original", "mutated", "killers")
DEFAULT_TIMEOUT = 900
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")

PLUGIN = "_mutation_plugin"
PLUGIN_SOURCE = '''"""Written by scripts/mutation.py into its scratch copy: killers first, first failure recorded."""
import json
import os
from pathlib import Path

import pytest

_first = []


def pytest_sessionstart(session):
    import zkdl  # the copy's package, never the checkout's (the venv's editable install points there)

    here = Path.cwd().resolve()
    if here not in Path(zkdl.__file__).resolve().parents:
        raise pytest.UsageError(f"zkdl is imported from {zkdl.__file__}, not from the scratch copy {here}")


def pytest_collection_modifyitems(session, config, items):
    killers = [k for k in os.environ.get("MUTATION_KILLERS", "").split("\\n") if k]

    def rank(item):
        for i, killer in enumerate(killers):
            if item.nodeid == killer or item.nodeid.startswith((killer + "[", killer + "::")):
                return i
        return len(killers)

    items.sort(key=rank)  # stable: the rest keeps pytest's order


def pytest_runtest_logreport(report):
    if report.failed and not _first:
        crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
        reason = getattr(crash, "message", "") or str(report.longrepr).strip().splitlines()[-1:]
        reason = reason if isinstance(reason, str) else " ".join(reason)
        _first.append(report.nodeid)
        Path(os.environ["MUTATION_REPORT"]).write_text(
            json.dumps({"test": report.nodeid, "when": report.when, "reason": " ".join(reason.split())[:300]})
        )
'''


@dataclass(frozen=True)
class Mutant:
    id: str
    check: str
    file: str
    original: str
    mutated: str
    killers: tuple[str, ...]


@dataclass
class Result:
    id: str
    outcome: str  # "killed", "SURVIVED", "ERROR"
    seconds: float
    test: str = ""  # the first failing test of a killed mutant
    reason: str = ""  # its failure, or what went wrong
    stale: bool = False  # killed, but not by a listed killer (they all passed)
    log: str = field(default="", repr=False)


def load(path: Path = LIST) -> list[Mutant]:
    """The list; raises ValueError on a malformed entry (tests/test_mutants.py checks it in depth)."""
    with path.open("rb") as f:
        entries = tomllib.load(f).get("mutant", [])
    mutants = []
    for i, entry in enumerate(entries):
        missing = [k for k in FIELDS if k not in entry]
        if missing:
            raise ValueError(f"{path.name}: mutant #{i + 1} ({entry.get('id', '?')}) lacks {', '.join(missing)}")
        killers = tuple(dict.fromkeys(entry["killers"]))  # deduplicated, order kept
        mutants.append(Mutant(entry["id"], entry["check"], entry["file"], entry["original"], entry["mutated"], killers))
    ids = [m.id for m in mutants]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{path.name}: duplicate ids {', '.join(duplicates)}")
    return mutants


# ---- the scratch copy ---------------------------------------------------------------------------


def snapshot(dest: Path, ref: str | None) -> None:
    """The base copy every mutant starts from: zkdl/, tests/, pyproject.toml (see the module doc)."""
    dest.mkdir(parents=True)
    if ref is None:
        shutil.copytree(ROOT / PACKAGE, dest / PACKAGE, ignore=IGNORED)
    else:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref, PACKAGE], capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(dest, filter="data")
        for built in (ROOT / PACKAGE).glob("_kernels*"):  # the built extension is not tracked
            shutil.copy2(built, dest / PACKAGE / built.name)
    if not list((dest / PACKAGE).glob("_kernels*.so")) and not list((dest / PACKAGE).glob("_kernels*.pyd")):
        raise SystemExit(f"no built extension {PACKAGE}/_kernels*.so in {ROOT}: run `make setup` first")
    shutil.copytree(ROOT / "tests", dest / "tests", ignore=IGNORED)
    shutil.copy2(ROOT / "pyproject.toml", dest / "pyproject.toml")
    (dest / f"{PLUGIN}.py").write_text(PLUGIN_SOURCE)


def suites(base: Path) -> list[str]:
    """The proof suites present in the copy (new tests/test_proof_*.py files are picked up)."""
    found: list[str] = []
    for pattern in SUITES:
        found += sorted(str(p.relative_to(base)) for p in base.glob(pattern))
    return found


def apply(work: Path, mutant: Mutant) -> None:
    """Replaces the mutant's snippet in the copy; ValueError unless it occurs exactly once."""
    path = work / mutant.file
    if not path.is_file():
        raise ValueError(f"{mutant.file} does not exist")
    source = path.read_text()
    count = source.count(mutant.original)
    if count != 1:
        raise ValueError(f"the original snippet occurs {count} times in {mutant.file}, not once")
    path.write_text(source.replace(mutant.original, mutant.mutated))


# ---- running pytest -----------------------------------------------------------------------------

_running: set[subprocess.Popen] = set()
_lock = threading.Lock()
_stopping = threading.Event()


def run_pytest(work: Path, killers: tuple[str, ...], timeout: float, first: tuple[str, ...] = ()) -> tuple[int | None, dict, str]:
    """(exit code or None on timeout, the first failure as recorded by the plugin, the output). The
    killers run first, then the tests or files of `first`, then the rest in pytest's order."""
    report = work / ".mutation-report.json"
    command = [
        sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-p", PLUGIN,
        *dict.fromkeys([*killers, *first, *suites(work)]),
    ]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(work), *filter(None, [os.environ.get("PYTHONPATH")])]))
    order = dict.fromkeys([*killers, *first])
    env.update(MUTATION_KILLERS="\n".join(order), MUTATION_REPORT=str(report), PYTHONDONTWRITEBYTECODE="1")
    with _lock:
        if _stopping.is_set():
            return None, {}, "stopped"
        process = subprocess.Popen(
            command, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
        _running.add(process)
    try:
        output, _ = process.communicate(timeout=timeout)
        code: int | None = process.returncode
    except subprocess.TimeoutExpired:
        _kill(process)
        output, _ = process.communicate()
        code = None
    finally:
        with _lock:
            _running.discard(process)
    first = json.loads(report.read_text()) if report.exists() else {}
    return code, first, output


def _kill(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # the whole group: pytest and anything it started


def run_mutant(base: Path, scratch: Path, mutant: Mutant, timeout: float, keep: bool, first: tuple[str, ...] = ()) -> Result:
    start = time.monotonic()
    work = scratch / mutant.id
    try:
        shutil.copytree(base, work)  # a fresh copy per mutant: a few MB, and no stale bytecode
        try:
            apply(work, mutant)
        except ValueError as exc:
            return Result(mutant.id, "ERROR", time.monotonic() - start, reason=str(exc))
        code, failure, output = run_pytest(work, mutant.killers, timeout, first)
        seconds = time.monotonic() - start
        if code is None:
            return Result(mutant.id, "ERROR", seconds, reason=f"timed out after {timeout:.0f} s", log=output)
        if code == 1:
            test = failure.get("test", "") or _first_failure(output)
            stale = bool(mutant.killers) and test not in mutant.killers and not any(test.startswith(k + "[") for k in mutant.killers)
            return Result(mutant.id, "killed", seconds, test, failure.get("reason", ""), stale, output)
        if code == 0:
            return Result(mutant.id, "SURVIVED", seconds, log=output)
        return Result(mutant.id, "ERROR", seconds, reason=f"pytest exited {code}: {_tail(output)}", log=output)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def run_baseline(base: Path, scratch: Path, killers: tuple[str, ...], timeout: float, order: tuple[str, ...] = ()) -> Result:
    """The unmutated copy must pass the same tests, or a kill means nothing."""
    start = time.monotonic()
    work = scratch / "baseline"
    try:
        shutil.copytree(base, work)
        code, first, output = run_pytest(work, killers, timeout, order)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    seconds = time.monotonic() - start
    if code == 0:
        return Result("(baseline)", "passed", seconds)
    reason = f"timed out after {timeout:.0f} s" if code is None else f"pytest exited {code}: {first.get('reason') or _tail(output)}"
    return Result("(baseline)", "ERROR", seconds, first.get("test", ""), reason, log=output)


def _first_failure(output: str) -> str:
    for line in output.splitlines():
        for prefix in ("FAILED ", "ERROR "):
            if line.startswith(prefix):
                return line[len(prefix) :].split(" - ")[0].strip()
    return "?"


def _tail(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return " | ".join(lines[-3:])[:400]


# ---- reports ------------------------------------------------------------------------------------


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def markdown(mutants: list[Mutant]) -> str:
    rows = ["| check | mutant id | test that kills it |", "|---|---|---|"]
    for m in mutants:
        killer = f"`{m.killers[0]}`" if m.killers else "**none yet**"
        rows.append(f"| {m.check.replace('|', chr(92) + '|')} | `{m.id}` | {killer} |")
    return "\n".join(rows)


def listing(mutants: list[Mutant]) -> str:
    lines = []
    for m in mutants:
        lines.append(f"{m.id}  ({m.file}; killers: {', '.join(m.killers) or 'none'})")
        lines.append(f"    {m.check}")
    return "\n".join(lines)


def line(result: Result, width: int) -> str:
    text = f"{result.id:<{width}}  {result.outcome:<8}  {result.seconds:6.0f} s"
    if result.test:
        text += f"  {result.test}"
    if result.stale:
        text += "  (not a listed killer: the killers passed)"
    if result.outcome == "ERROR" and result.reason:
        text += f"  {result.reason}"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="ID", help="run these mutants only")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at a time (default 1)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help=f"seconds per mutant (default {DEFAULT_TIMEOUT})")
    parser.add_argument("--list", action="store_true", help="print the list and exit")
    parser.add_argument("--markdown", action="store_true", help="print the docs/protocol.md table and exit")
    baseline = parser.add_mutually_exclusive_group()
    baseline.add_argument(
        "--baseline", dest="baseline", action="store_true", default=None, help="also run the unmutated tests (default without --only)"
    )
    baseline.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip the unmutated run")
    parser.add_argument(
        "--first", nargs="+", default=[], metavar="TEST", help="tests or test files to run right after each mutant's killers"
    )
    parser.add_argument("--ref", metavar="REV", help="take zkdl/'s tracked files from this git revision, not the working tree")
    parser.add_argument("--keep", action="store_true", help="keep each mutant's scratch copy (printed path) for debugging")
    parser.add_argument("--log", metavar="DIR", help="write each mutant's pytest output to DIR/ID.log")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON to FILE")
    args = parser.parse_args(argv)

    mutants = load()
    if args.only:
        unknown = sorted(set(args.only) - {m.id for m in mutants})
        if unknown:
            parser.error(f"unknown mutant ids: {', '.join(unknown)}")
        mutants = [m for m in mutants if m.id in args.only]
    if args.list or args.markdown:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `--list | head` ends quietly
    if args.list:
        print(listing(mutants))
        return 0
    if args.markdown:
        print(markdown(mutants))
        return 0
    with_baseline = args.baseline if args.baseline is not None else not args.only

    signal.signal(signal.SIGTERM, _interrupt)  # a stopped run stops its tests and removes its copies
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # started in the background by a shell
        signal.signal(signal.SIGINT, _interrupt)
    scratch = Path(tempfile.mkdtemp(prefix="zkdl-mutation-"))
    base = scratch / "base"
    snapshot(base, args.ref)
    print(f"{len(mutants)} mutants of {LIST.relative_to(ROOT)}, {args.jobs} at a time, in {scratch}", flush=True)
    print(f"suites: {' '.join(suites(base))}", flush=True)
    width = max([len(m.id) for m in mutants] + [10])
    results: list[Result] = []
    baseline_result: Result | None = None
    log_dir = Path(args.log) if args.log else None
    if log_dir:
        log_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs))
    futures: dict[concurrent.futures.Future, Mutant | None] = {}
    try:
        if with_baseline:
            all_killers = tuple(dict.fromkeys(k for m in mutants for k in m.killers))
            futures[pool.submit(run_baseline, base, scratch, all_killers, args.timeout, tuple(args.first))] = None
        for m in mutants:
            futures[pool.submit(run_mutant, base, scratch, m, args.timeout, args.keep, tuple(args.first))] = m
        for future in concurrent.futures.as_completed(futures):
            result = future.result()
            if futures[future] is None:
                baseline_result = result
            else:
                results.append(result)
            if log_dir:
                (log_dir / f"{result.id.strip('()')}.log").write_text(result.log)
            print(line(result, width), flush=True)
    except KeyboardInterrupt:
        print("interrupted: stopping the running tests", flush=True)
        for f in futures:
            f.cancel()
        with _lock:
            _stopping.set()
            for process in list(_running):
                _kill(process)
        pool.shutdown(wait=True, cancel_futures=True)
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
        return 130
    pool.shutdown(wait=True)
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)

    order = {m.id: i for i, m in enumerate(mutants)}
    results.sort(key=lambda r: order[r.id])
    by_id = {m.id: m for m in mutants}
    killed = [r for r in results if r.outcome == "killed"]
    survivors = [r for r in results if r.outcome == "SURVIVED"]
    errors = [r for r in results if r.outcome == "ERROR"]
    elapsed = time.monotonic() - started
    print(f"\nkilled {len(killed)} of {len(results)} ({len(survivors)} survived, {len(errors)} errors) in {elapsed:.0f} s")
    if survivors:
        print("\nSURVIVORS (no test fails when this check is weakened):")
        for r in survivors:
            print(f"  {r.id}  ({by_id[r.id].file})\n      {by_id[r.id].check}")
    if errors:
        print("\nERRORS (fix the mutant or the suite):")
        for r in errors:
            print(f"  {r.id}: {r.reason}")
    stale = [r for r in killed if r.stale]
    if stale:
        print("\nkilled, but not by a listed killer (update `killers` in tests/mutants.toml):")
        for r in stale:
            print(f"  {r.id}: {r.test}")
    baseline_ok = baseline_result is None or baseline_result.outcome == "passed"
    if not baseline_ok:
        print(f"\nBASELINE FAILED: the unmutated copy fails {baseline_result.test or '?'}: {baseline_result.reason}")
        print("  kills by that test mean nothing until it passes")
    if args.json:
        Path(args.json).write_text(json.dumps(
            [{k: v for k, v in vars(r).items() if k != "log"} for r in results + ([baseline_result] if baseline_result else [])], indent=1
        ))  # fmt: skip
    return 0 if not survivors and not errors and baseline_ok else 1


if __name__ == "__main__":
    sys.exit(main())
