"""Helpers of the service tests: anvil nodes, registries, `zkdl serve` as a real process, polling."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3

from tests.localnode import anvil, free_port  # noqa: F401 - re-exported to the service tests
from zkdl.chain import RegistrationRequest, RegistryClient, deploy_registry
from zkdl.service.config import VERIFIER_VERSION

ROOT = Path(__file__).resolve().parents[2]
SERVE = Path(__file__).with_name("serve_process.py")


def mine(w3: Web3, blocks: int = 1) -> None:
    for _ in range(blocks):
        w3.provider.make_request("evm_mine", [])


def setup_registry(
    w3: Web3, admin: LocalAccount, verifiers: list[LocalAccount], funded: list[LocalAccount], quorum: int = 1
) -> RegistryClient:
    for account in {a.address: a for a in [admin, *verifiers, *funded]}.values():
        w3.provider.make_request("anvil_setBalance", [account.address, hex(10**22)])
    record = deploy_registry(w3, admin, quorum=quorum, verifiers=[v.address for v in verifiers])
    return RegistryClient(w3, record.address, admin)


def request_for(bundle: dict[str, Any], uri: str, **overrides: Any) -> RegistrationRequest:
    """The honest registration of the session's bundle at `uri` (fields overridable)."""
    fields = dict(
        c_data_digest=bundle["c_data"],
        c_w0_digest=bundle["c_w0"],
        c_wt_digest=bundle["c_wt"],
        statement_digest=bundle["statement_digest"],
        proof_digest=bundle["proof_digest"],
        verifier_version=VERIFIER_VERSION,
        bundle_uri=uri,
        metadata_uri="https://example.test/model",
    )
    fields.update(overrides)
    return RegistrationRequest(**fields)


def wait_until(
    what: str, check: Callable[[], Any], timeout: float = 90.0, interval: float = 0.25, on_timeout: Callable[[], str] | None = None
) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (httpx.HTTPError, OSError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(interval)
    extra = on_timeout() if on_timeout else ""
    pytest.fail(f"timed out after {timeout} s waiting for {what} (last: {last!r})\n{extra}", pytrace=False)


class ServiceProcess:
    """`zkdl serve` in a subprocess (tests/service/serve_process.py registers the command and runs
    zkdl.cli.main), logging to a file; stopped with SIGTERM, SIGKILL as a last resort."""

    def __init__(
        self,
        tmp: Path,
        name: str,
        *,
        rpc_url: str,
        registry: str,
        verifier: LocalAccount,
        args: list[str] | None = None,
        env: dict[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.name = name
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = tmp / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.dir / "service.log"
        self.rpc_url, self.registry, self.verifier = rpc_url, registry, verifier
        self.args = args or []
        self.env = env or {}
        self.proc: subprocess.Popen | None = None
        self.runs = 0

    @classmethod
    def on(
        cls, tmp: Path, client: RegistryClient, verifier: LocalAccount, *args: str, name: str = "verifier", env: dict | None = None
    ) -> ServiceProcess:
        """`verifier`'s service on `client`'s registry, through the node `client` talks to."""
        rpc_url = client.w3.provider.endpoint_uri  # the tests' anvil: an HTTPProvider
        return cls(tmp, name, rpc_url=rpc_url, registry=client.address, verifier=verifier, args=list(args), env=env)

    def start(self, *, extra_env: dict[str, str] | None = None, wait: bool = True) -> ServiceProcess:
        self.runs += 1
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "ZKDL_VERIFIER_KEY": "0x" + bytes(self.verifier.key).hex(),
            "ZKDL_RPC_URL": self.rpc_url,
            "ZKDL_REGISTRY": self.registry,
            "ZKDL_DB": str(self.dir / "service.sqlite"),
            "ZKDL_CONFIRMATIONS": "1",
            "ZKDL_POLL_INTERVAL": "0.2",
            **self.env,
            **(extra_env or {}),
        }
        cmd = [sys.executable, str(SERVE), "serve", "--port", str(self.port), "--log-level", "info", *self.args]
        log = open(self.log_path, "ab")  # noqa: SIM115 - the service process writes it after this call returns
        log.write(f"\n===== run {self.runs}: {' '.join(cmd)}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        if wait:
            wait_until(f"{self.name} to answer /health", self._up, timeout=60, on_timeout=self.tail)
        return self

    def _up(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            pytest.fail(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}", pytrace=False)
        return httpx.get(self.url + "/health", timeout=2).status_code == 200

    def tail(self, n: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.get(self.url + path, timeout=kw.pop("timeout", 10), **kw)

    def json(self, path: str) -> Any:
        response = self.get(path)
        response.raise_for_status()
        return response.json()

    def job(self, model_id: bytes | str) -> dict[str, Any] | None:
        mid = model_id if isinstance(model_id, str) else "0x" + model_id.hex()
        for job in self.json("/jobs?limit=1000")["jobs"]:
            if job["model_id"] == mid:
                return job
        return None

    def wait_job(self, model_id: bytes | str, states: tuple[str, ...], timeout: float = 90.0) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            job = self.job(model_id)
            return job if job and job["state"] in states else None

        return wait_until(
            f"{self.name}: job {model_id!r} in {states}", check, timeout, on_timeout=lambda: f"job: {self.job(model_id)}\n{self.tail()}"
        )

    def wait_exit(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def terminate(self, timeout: float = 30.0) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@contextmanager
def services(*procs: ServiceProcess) -> Iterator[None]:
    try:
        yield
    finally:
        for p in procs:
            p.terminate()
            p.kill()


def model_hex(model_id: bytes) -> str:
    return "0x" + bytes(model_id).hex()


def write_toml(path: Path, values: dict[str, Any]) -> Path:
    lines = ["[service]"] + [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def other_digest(tag: str) -> bytes:
    return keccak(text=tag)


class TricklingServer:
    """An HTTP server on `host` that answers every GET with `body`, one byte every `interval`
    seconds (from the status line on when `trickle_headers`), and records each connection's
    (start, end) in monotonic time: how long a client let it hold the connection."""

    def __init__(self, body: bytes, *, host: str = "127.0.0.1", interval: float = 1.0, trickle_headers: bool = False) -> None:
        self.body, self.interval, self.trickle_headers = body, interval, trickle_headers
        self.connections: list[tuple[float, float | None]] = []
        self._lock = threading.Lock()
        self._server = socket.create_server((host, 0))
        self.url = f"http://{host}:{self._server.getsockname()[1]}"
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True, name="trickler").start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with self._lock:
            index = len(self.connections)
            self.connections.append((time.monotonic(), None))
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(self.body)}\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
        try:
            conn.recv(65536)  # the request
            if not self.trickle_headers:
                conn.sendall(head)
            for byte in (head if self.trickle_headers else b"") + self.body:
                if self._stop.wait(self.interval):
                    break
                conn.sendall(bytes([byte]))  # fails once the client hung up
        except OSError:
            pass
        finally:
            conn.close()
            with self._lock:
                self.connections[index] = (self.connections[index][0], time.monotonic())

    def close(self) -> None:
        self._stop.set()
        self._server.close()
