"""Fetching bundles from hosts a registrant chose: one overall deadline that a trickling server cannot
stretch, a size cap without holding the body in memory, refused destinations (after DNS, on every
redirect, against DNS rebinding), and the fairness gate between hosts and owners."""

from __future__ import annotations

import errno
import http.server
import socket
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from eth_utils import keccak
from svc_support import TricklingServer

from zkdl import guarded_http
from zkdl.service.fetching import FetchGate
from zkdl.store import BundleTooLargeError, FetchTimeoutError, IntegrityError, RefusedDestinationError, StoreError, fetch

BODY = b"zkdl-bundle" + bytes(range(256)) * 8


@pytest.mark.parametrize("trickle_headers", [False, True], ids=["body", "headers"])
def test_a_trickling_server_is_cut_at_the_overall_deadline(trickle_headers):
    body = BODY[:20]  # all of it within seconds without the deadline: the test then fails fast
    server = TricklingServer(body, interval=0.2, trickle_headers=trickle_headers)  # each byte well within any read timeout
    try:
        started = time.monotonic()
        with pytest.raises(FetchTimeoutError, match=r"took longer than allowed \(1.5 s\)"):
            fetch(server.url + "/b.zkdl", keccak(body), timeout=1.5, allow_local=True)
        assert time.monotonic() - started < 2.0
    finally:
        server.close()


class _Routes(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(f"{self.server.server_address[0]}{self.path}")
        status, headers, body = self.routes.get(self.path, (404, {}, b"not here"))
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            if value:  # "": not sent (a body without a length ends when the connection closes)
                self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def servers() -> Iterator[Any]:
    """A server on 127.0.0.1 and another on 127.0.0.2, same port: a name can lead to either."""
    started: list[http.server.ThreadingHTTPServer] = []

    def start(host: str, port: int = 0) -> int:
        server = http.server.ThreadingHTTPServer((host, port), _Routes)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return server.server_address[1]

    _Routes.routes, _Routes.hits = {}, []
    port = start("127.0.0.1")
    start("127.0.0.2", port)
    try:
        yield port
    finally:
        for server in started:
            server.shutdown()
            server.server_close()


def test_a_wrong_body_is_spooled_to_disk_not_held_in_memory(servers):
    big = bytes(range(256)) * (32 * 4096)  # 32 MiB that are not the bundle
    _Routes.routes["/big"] = (200, {}, big)
    tracemalloc.start()
    try:
        with pytest.raises(IntegrityError):
            fetch(f"http://127.0.0.1:{servers}/big", keccak(BODY), max_bytes=64 << 20, allow_local=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, peak
    with pytest.raises(BundleTooLargeError, match="more than 1000000 bytes"):
        _Routes.routes["/big"] = (200, {"Content-Length": ""}, big)  # no length announced: counted as it streams
        fetch(f"http://127.0.0.1:{servers}/big", keccak(BODY), max_bytes=1_000_000, allow_local=True)


@pytest.mark.parametrize(
    ("host", "category"),
    [
        ("127.0.0.1", "loopback"),
        ("localhost", "loopback"),
        ("[::1]", "loopback"),
        ("[::ffff:127.0.0.1]", "loopback"),
        ("169.254.169.254", "link-local"),
        ("[fe80::1]", "link-local"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("[fd00::1]", "private"),
        ("224.0.0.1", "multicast"),
        ("[ff02::1]", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("[::]", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "reserved"),
    ],
)
def test_every_non_public_destination_is_refused_before_connecting(host, category):
    started = time.monotonic()
    with pytest.raises(RefusedDestinationError, match=f"a {category} address: refused"):
        fetch(f"http://{host}:9/b.zkdl", keccak(BODY), timeout=5, allow_local=False)
    assert time.monotonic() - started < 1.0  # refused, not tried


def test_public_addresses_pass_the_check():
    for address in ("93.184.216.34", "8.8.8.8", "2606:4700::1111"):
        assert guarded_http.refused_category(address) is None


@pytest.fixture
def loopback_one_is_public(monkeypatch):
    """127.0.0.1 treated as a public host, every other address as the real check says: the tests'
    stand-in for a public bundle host (the machine has no public address of its own)."""
    real = guarded_http.refused_category
    monkeypatch.setattr(guarded_http, "refused_category", lambda a: None if a == "127.0.0.1" else real(a))


def test_a_redirect_to_a_loopback_or_private_address_is_refused_and_never_connected(servers, loopback_one_is_public):
    _Routes.routes["/ok.zkdl"] = (200, {}, BODY)
    _Routes.routes["/moved"] = (302, {"Location": f"http://127.0.0.2:{servers}/ok.zkdl"}, b"")
    _Routes.routes["/moved-here"] = (302, {"Location": "/ok.zkdl"}, b"")
    assert fetch(f"http://127.0.0.1:{servers}/moved-here", keccak(BODY), allow_local=False) == BODY
    with pytest.raises(RefusedDestinationError, match="127.0.0.2, a loopback address"):
        fetch(f"http://127.0.0.1:{servers}/moved", keccak(BODY), allow_local=False)
    _Routes.routes["/to-private"] = (307, {"Location": "http://10.20.30.40/ok.zkdl"}, b"")
    with pytest.raises(RefusedDestinationError, match="10.20.30.40, a private address"):
        fetch(f"http://127.0.0.1:{servers}/to-private", keccak(BODY), timeout=5, allow_local=False)
    assert _Routes.hits == ["127.0.0.1/moved-here", "127.0.0.1/ok.zkdl", "127.0.0.1/moved", "127.0.0.1/to-private"]
    assert fetch(f"http://127.0.0.1:{servers}/moved", keccak(BODY), allow_local=True) == BODY  # allowed: followed


def test_the_connection_goes_to_the_checked_address_when_dns_changes_its_answer(servers, loopback_one_is_public, monkeypatch):
    """DNS rebinding: the name first resolves to the (public) address that is checked, then to a
    loopback one. Connecting by name again would reach 127.0.0.2; only the checked address is used."""
    _Routes.routes["/ok.zkdl"] = (200, {}, BODY)
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1"] + ["127.0.0.2"] * 10)

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "bundles.rebind.test":
            host = next(answers)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    assert fetch(f"http://bundles.rebind.test:{servers}/ok.zkdl", keccak(BODY), allow_local=False) == BODY
    assert _Routes.hits == ["127.0.0.1/ok.zkdl"]
    with pytest.raises(RefusedDestinationError, match="loopback"):  # the next lookup answers 127.0.0.2: refused
        fetch(f"http://bundles.rebind.test:{servers}/ok.zkdl", keccak(BODY), allow_local=False)
    assert _Routes.hits == ["127.0.0.1/ok.zkdl"]


def test_the_gate_holds_one_fetch_per_host_and_per_owner():
    gate = FetchGate(1)
    a = gate.sources("https://Bundles.example:443/a.zkdl", "0xAB")
    assert a == ("host:bundles.example:443", "owner:0xab")
    with gate.hold(a) as first:
        assert first
        with gate.hold(gate.sources("https://bundles.example:443/b.zkdl", "0xcd")) as same_host:
            assert not same_host
        with gate.hold(gate.sources("https://other.example/c.zkdl", "0xab")) as same_owner:
            assert not same_owner
        with gate.hold(gate.sources("https://other.example/c.zkdl", "0xcd")) as other:
            assert other
    with gate.hold(a) as again:  # released when the first fetch ended
        assert again


def test_a_full_spool_disk_is_a_store_error_naming_the_remedy(servers, monkeypatch):
    _Routes.routes["/ok.zkdl"] = (200, {}, BODY)

    def no_space(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryFile", no_space)
    with pytest.raises(StoreError, match="cannot spool bundle .*No space left on device; free disk space"):
        fetch(f"http://127.0.0.1:{servers}/ok.zkdl", keccak(BODY), allow_local=True)
