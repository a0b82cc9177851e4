"""The registry of ``zkdl`` subcommands, and the one way they turn an error into an exit status.

A module that defines subcommands registers each with ``@subcommand(...)``: a name, a one-line
help, a function that adds its arguments and a function that runs it and returns the exit status.
`zkdl.cli`, the entry point, imports those modules and builds the parser from `SUBCOMMANDS`; this
module imports none of them, so no command module imports the command line back.

Errors (`run_guarded`), one policy for every command: a `zkdl.errors.ZkdlError`, or a foreign error
that `as_zkdl_error` maps into the tree, is printed on stderr and ends the command with its family's
``exit_code``: 2, ``zkdl COMMAND: unusable input: MESSAGE``, for input that cannot be used (a file
that cannot be read or decoded, a bad specification, no key, no node); 1, ``zkdl COMMAND: error:
MESSAGE``, when the command ran and failed or refused. With ``--json``, a command's
``failure_json`` also prints the failure on stdout. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zkdl.errors import EXIT_FAILED, EXIT_UNUSABLE, ZkdlError, as_zkdl_error

FailureJson = Callable[[ZkdlError, bool], dict[str, Any]]  # (the error, whether it is unusable input)


def add_json_flag(p: argparse.ArgumentParser, what: str = "JSON") -> None:
    """`--json`: the command's answer on stdout as JSON, for scripts (failures too, where it has a failure_json)."""
    p.add_argument("--json", action="store_true", help=f"print {what} on stdout")


@dataclass(frozen=True)
class Subcommand:
    """A registered subcommand."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    failure_json: FailureJson | None = None


SUBCOMMANDS: dict[str, Subcommand] = {}


def failure_answer(error: ZkdlError, unusable: bool) -> dict[str, Any]:
    """The --json answer of a command that stopped on `error` (a `failure_json`)."""
    return {"ok": False, "usable": not unusable, "error": error.code, "reason": error.user_message}


def printable(text: str) -> str:
    """`text` with every control character escaped (\\x1b, \\n, …): messages quote untrusted
    bundles and registrations, which must not move the cursor or forge a line on a terminal."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def subcommand(
    name: str,
    help: str,
    configure: Callable[[argparse.ArgumentParser], None],
    *,
    failure_json: FailureJson | None = None,
) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    """Register the decorated function as the runner of subcommand ``name``."""

    def register(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        SUBCOMMANDS[name] = Subcommand(name, help, configure, run, failure_json)
        return run

    return register


def run_guarded(command: str, work: Callable[[], int], *, failure_json: FailureJson | None = None) -> int:
    """Run `work` and return its exit status, or report the error it raised and return the error's."""
    try:
        return int(work())
    except BrokenPipeError:  # the reader went away (`zkdl … | head -3`): nothing to report, least of all a lost node
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush does not raise again
        return EXIT_FAILED
    except Exception as exc:
        error = as_zkdl_error(exc)
        if error is None:
            raise
        unusable = error.exit_code == EXIT_UNUSABLE
        if failure_json is not None:
            print(json.dumps(failure_json(error, unusable)))
        print(f"zkdl {command}: {'unusable input' if unusable else 'error'}: {printable(error.user_message)}", file=sys.stderr)
        return error.exit_code
