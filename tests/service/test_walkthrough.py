"""docs/service.md's walkthrough, run as written: its fenced shell blocks, in order, as one script
in an empty directory, with this test's free ports, its anvil from node_modules and `zkdl` from this
checkout. An operator's path from nothing to an attested model cannot drift from the code."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys

from tests.localnode import ANVIL, ROOT, free_port

DOC = ROOT / "docs" / "service.md"
SECTION = "## From nothing to an attested model on anvil"


def walkthrough_blocks() -> list[str]:
    text = DOC.read_text("utf-8")
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", len(SECTION))]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def test_the_walkthrough_has_every_step():
    script = "".join(walkthrough_blocks())
    for step in ("anvil", "zkdl admin deploy", "zkdl admin grant-verifier", "zkdl serve", "zkdl register", "zkdl provenance"):
        assert step in script, step


def test_the_operator_walkthrough_ends_with_an_attested_model(tmp_path):
    rpc_port, http_port = free_port(), free_port()
    script = "".join(walkthrough_blocks())
    script = script.replace("npx anvil", str(ANVIL)).replace("8545", str(rpc_port)).replace("8080", str(http_port))
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
            status = session.wait(timeout=300)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(session.pid, signal.SIGKILL)  # whatever the script left behind
    output = log.read_text(errors="replace")
    assert status == 0, output[-4000:]
    assert "status VERIFIED: 1 valid, 0 invalid of quorum 1" in output, output[-4000:]
    assert (work / "deployments").is_dir() and (work / "service.sqlite").exists()
