"""docs/service.md's walkthrough, run as written: its fenced shell blocks, in order, as one script
in an empty directory, with this test's free ports, its anvil from node_modules and `zkdl` from this
checkout. An operator's path from nothing to an attested model cannot drift from the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

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
    prelude = (
        f"set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null' EXIT\nzkdl() {{ PYTHONPATH={ROOT} {sys.executable} -m zkdl.cli \"$@\"; }}\n"
    )
    (tmp_path / "walkthrough.sh").write_text(prelude + script)
    done = subprocess.run(["bash", "walkthrough.sh"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout[-4000:], done.stderr[-4000:])
    assert re.search(r"verified", done.stdout, re.I), done.stdout[-3000:]
    assert Path(tmp_path / "deployments").is_dir() and (tmp_path / "service.sqlite").exists()
