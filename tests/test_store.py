"""The content-addressed bundle store: atomic local writes, file:// and http(s):// reads, integrity."""

from __future__ import annotations

import errno
import http.server
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from eth_utils import keccak

from zkdl.errors import ZkdlError
from zkdl.store import (
    BundleTooLargeError,
    IntegrityError,
    LocalStore,
    StoreError,
    UnsupportedUriError,
    fetch,
    file_path,
)

BUNDLE = b"zkdl-bundle\x00" + bytes(range(256)) * 40


def test_put_is_content_addressed_and_idempotent(tmp_path):
    store = LocalStore(tmp_path / "bundles")
    digest, uri = store.put(BUNDLE)
    assert digest == keccak(BUNDLE)
    assert uri.startswith("file://") and uri.endswith(f"{digest.hex()}.zkdl")
    assert file_path(uri).read_bytes() == BUNDLE
    assert store.put(BUNDLE) == (digest, uri)
    assert sorted(p.name for p in (tmp_path / "bundles").iterdir()) == [f"{digest.hex()}.zkdl"]  # no temp left
    assert store.get(uri, digest) == BUNDLE
    assert fetch(uri, digest) == BUNDLE


def test_put_repairs_a_corrupted_copy(tmp_path):
    store = LocalStore(tmp_path)
    digest, uri = store.put(BUNDLE)
    file_path(uri).write_bytes(b"x" * len(BUNDLE))
    with pytest.raises(IntegrityError, match="altered"):
        store.get(uri, digest)
    store.put(BUNDLE)
    assert store.get(uri, digest) == BUNDLE


def test_every_read_checks_the_digest(tmp_path):
    store = LocalStore(tmp_path)
    digest, uri = store.put(BUNDLE)
    other = keccak(b"another bundle")
    with pytest.raises(IntegrityError) as info:
        fetch(uri, other)
    assert isinstance(info.value, ValueError) and isinstance(info.value, ZkdlError)
    assert f"0x{digest.hex()}" in info.value.user_message and f"0x{other.hex()}" in info.value.user_message


def test_size_cap_and_missing_file_and_schemes(tmp_path):
    digest, uri = LocalStore(tmp_path).put(BUNDLE)
    with pytest.raises(BundleTooLargeError, match="limit is 100"):
        fetch(uri, digest, max_bytes=100)
    assert fetch(uri, digest, max_bytes=len(BUNDLE)) == BUNDLE
    with pytest.raises(StoreError, match="does not exist"):
        fetch((tmp_path / "nope.zkdl").as_uri(), digest)
    for bad in ("ftp://example.org/b.zkdl", "/plain/path.zkdl", "ipfs://Qm"):
        with pytest.raises(UnsupportedUriError, match="file:// or http"):
            fetch(bad, digest)
    with pytest.raises(UnsupportedUriError, match="local"):
        fetch("file://otherhost/b.zkdl", digest)
    with pytest.raises(UnsupportedUriError):
        LocalStore(tmp_path, base_url="ftp://x")


@pytest.mark.parametrize("err, remedy", [(errno.ENOSPC, "free disk space"), (errno.EACCES, "writable")])
def test_write_failures_are_clear_and_leave_no_partial_file(tmp_path, monkeypatch, err, remedy):
    real_fsync = os.fsync

    def failing_fsync(fd: int) -> None:  # fails after the data was written to the temp file
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(os, "fsync", failing_fsync)
    store = LocalStore(tmp_path)
    with pytest.raises(StoreError) as info:
        store.put(BUNDLE)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert isinstance(info.value, OSError)
    assert str(store.path_for(keccak(BUNDLE))) in info.value.user_message and remedy in info.value.user_message
    assert list(tmp_path.iterdir()) == []


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}

    def do_GET(self) -> None:
        if self.path == "/drip.zkdl":  # every piece well within the read timeout, the whole beyond the deadline
            self.send_response(200)
            self.end_headers()
            for _ in range(8):
                self.wfile.write(BUNDLE[:100])
                self.wfile.flush()
                time.sleep(0.25)
            return
        status, headers, body = self.routes.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers and not self.path.startswith("/stream"):
            self.send_header("Content-Length", str(len(body)))  # /stream*: body until close (HTTP/1.0)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_base() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_reads_are_capped_and_checked(http_base):
    digest = keccak(BUNDLE)
    _Handler.routes = {
        "/ok.zkdl": (200, {}, BUNDLE),
        "/tampered.zkdl": (200, {}, BUNDLE[:-1] + b"!"),
        "/big.zkdl": (200, {"Content-Length": str(10**9)}, b""),
        "/stream.zkdl": (200, {}, BUNDLE),
        "/to-ftp": (302, {"Location": "ftp://127.0.0.1/secret"}, b""),
    }
    assert fetch(f"{http_base}/ok.zkdl", digest) == BUNDLE
    with pytest.raises(IntegrityError):
        fetch(f"{http_base}/tampered.zkdl", digest)
    with pytest.raises(BundleTooLargeError, match="1000000000 bytes"):
        fetch(f"{http_base}/big.zkdl", digest)
    with pytest.raises(BundleTooLargeError, match="more than 1000 bytes"):
        fetch(f"{http_base}/stream.zkdl", digest, max_bytes=1000)
    assert fetch(f"{http_base}/stream.zkdl", digest) == BUNDLE
    with pytest.raises(StoreError, match="HTTP 404"):
        fetch(f"{http_base}/missing.zkdl", digest)
    with pytest.raises(UnsupportedUriError, match="redirected"):
        fetch(f"{http_base}/to-ftp", digest)
    _Handler.routes["/moved"] = (302, {"Location": "/ok.zkdl"}, b"")
    assert fetch(f"{http_base}/moved", digest) == BUNDLE


def test_a_slow_server_meets_one_overall_deadline(http_base):
    started = time.monotonic()
    with pytest.raises(StoreError, match="took longer than allowed"):
        fetch(f"{http_base}/drip.zkdl", keccak(BUNDLE), timeout=1.0)
    assert time.monotonic() - started < 1.9


def test_unreachable_server_is_a_store_error():
    with pytest.raises(StoreError, match="cannot fetch bundle"):
        fetch("http://127.0.0.1:9/b.zkdl", keccak(BUNDLE), timeout=2)


def test_served_store_hands_out_http_uris_and_reads_its_own_copy(tmp_path, http_base):
    store = LocalStore(tmp_path, base_url=http_base + "/bundles/")
    digest, uri = store.put(BUNDLE)
    assert uri == f"{http_base}/bundles/{digest.hex()}.zkdl"
    assert store.get(uri, digest) == BUNDLE  # local copy: the test server does not serve it
    assert Path(store.path_for(digest)).exists()
