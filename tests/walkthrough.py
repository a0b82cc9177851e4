"""Walkthroughs in the docs, run as written: a section's fenced ```sh blocks, in order, as one bash
script in an empty directory, with free ports for the node (8545) and the service (8080), anvil
from node_modules and `zkdl` from this checkout. A reader's path through the commands then cannot
drift from the code (README.md, docs/service.md)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.localnode import ANVIL, ROOT, free_port


def shell_blocks(doc: Path, section: str) -> list[str]:
    """The ```sh blocks of `section` (a heading line of `doc`, up to the next heading of its level)."""
    text = doc.read_text("utf-8")
    body = text[text.index(section) + len(section) :]
    level = "\n" + section.split(" ", 1)[0] + " "
    if level in body:
        body = body[: body.index(level)]
    return re.findall(r"```sh\n(.*?)```", body, flags=re.S)


@dataclass(frozen=True)
class Walked:
    status: int
    output: str
    work: Path  # the directory it ran in

    def tail(self) -> str:
        """The end of its output and of the service's log (for failure messages)."""
        service_log = self.work / "serve.log"
        extra = f"\n--- serve.log ---\n{service_log.read_text(errors='replace')[-2000:]}" if service_log.exists() else ""
        return self.output[-4000:] + extra


def walk(script: str, tmp_path: Path, timeout: float = 300) -> Walked:
    """Run `script` (the blocks joined) under `set -euo pipefail` in `tmp_path`/work; whatever it left
    running is killed afterwards."""
    script = script.replace("npx anvil", str(ANVIL))
    for port in ("8545", "8080"):
        script = re.sub(rf"\b{port}\b", str(free_port()), script)
    bin_dir = tmp_path / "bin"  # `zkdl` of this checkout, exec'ed so that `zkdl serve &` is the service itself
    bin_dir.mkdir()
    (bin_dir / "zkdl").write_text(f'#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m zkdl.cli "$@"\n')
    (bin_dir / "zkdl").chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    (work / "walkthrough.sh").write_text("set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null' EXIT\n" + script)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    log = tmp_path / "walkthrough.log"
    with log.open("wb") as out:
        session = subprocess.Popen(
            ["bash", "walkthrough.sh"], cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            with contextlib.suppress(subprocess.TimeoutExpired):  # then killed below: status -9
                session.wait(timeout=timeout)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(session.pid, signal.SIGKILL)  # whatever the script left behind
    return Walked(session.wait(), log.read_text(errors="replace"), work)
