"""A real JSON-RPC node for the tests: anvil (from npm, see package.json) on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from web3 import Web3

ROOT = Path(__file__).resolve().parents[1]
ANVIL = ROOT / "node_modules" / ".bin" / "anvil"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def anvil(port: int | None = None, *args: str, timeout: float = 30.0) -> Iterator[Web3]:
    """anvil on 127.0.0.1 (a free port unless given; extra CLI `args`), answering before it is
    yielded and stopped with SIGTERM afterwards (so --dump-state writes its file)."""
    if not ANVIL.exists():
        pytest.fail(f"{ANVIL} is missing: run `npm ci` in {ROOT} (anvil comes from package.json)", pytrace=False)
    port = port or free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - the node's log outlives this call; a file, not a pipe: never blocks
    proc = subprocess.Popen([str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--silent", *args],
                            stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}", request_kwargs={"timeout": 10}))
    try:
        deadline = time.monotonic() + timeout
        while not w3.is_connected():
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"anvil did not start (exit {proc.poll()}): {log.read().decode()[-2000:]}", pytrace=False)
            time.sleep(0.05)
        yield w3
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
