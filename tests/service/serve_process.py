"""`zkdl serve` as a process for the tests: registers the subcommand (until zkdl/cli.py imports
zkdl.service.command itself) and runs zkdl.cli.main.

    python serve_process.py serve [zkdl serve flags]

$ZKDL_TEST_CRASH_AT names a worker point ("leased", "fetched", "enqueued"): the process SIGKILLs
itself there (no cleanup), the first time a job reaches it, as a crash would.
"""

from __future__ import annotations

import os
import signal
import sys

import zkdl.service.command  # noqa: F401 - registers `serve`
from zkdl.cli import main
from zkdl.service import worker


def _install_crash_point(point: str) -> None:
    original = worker.Worker._hook

    def hook(self: worker.Worker, name: str) -> None:
        if name == point:
            print(f"crash point {point}: SIGKILL", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        original(self, name)

    worker.Worker._hook = hook


if __name__ == "__main__":
    if os.environ.get("ZKDL_TEST_CRASH_AT"):
        _install_crash_point(os.environ["ZKDL_TEST_CRASH_AT"])
    sys.exit(main(sys.argv[1:]))
