"""An httpx client for URLs that someone else chose (a registrant's bundle URI).

Two guarantees, both enforced where the bytes move, under httpx's connection pool:

* **One overall deadline.** Every socket operation (DNS lookup, connect, TLS handshake, each read
  and write) gets at most the time left before the fetch's deadline, so a server trickling one byte
  at a time, in its headers or its body, cannot stretch a fetch past it.
* **Refused destinations.** Each host is resolved once, its addresses checked, and the connection
  made to a checked address (so a DNS answer that changes between the check and the connection
  cannot lead elsewhere); redirects open new connections, which are checked the same way.
  Loopback, link-local, private, multicast, unspecified and reserved (every non-global) address
  is refused unless `allow_local`. Environment proxies are ignored: a proxy would connect for us.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

MAX_REDIRECTS = 5
CONNECT_TIMEOUT_S = 10.0  # a host that takes longer to accept a connection (or a TLS handshake) is unreachable


class RefusedDestinationError(httpx.TransportError):
    """The host resolves only to addresses this client must not connect to."""

    def __init__(self, host: str, category: str) -> None:
        super().__init__(f"{host} resolves to a {category} address")
        self.host, self.category = host, category


class Deadline:
    """A point in time that every network operation of one fetch must finish before."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def cap(self, timeout: float | None, expired: type[Exception]) -> float:
        """`timeout` shortened to the time left; `expired` raised once none is left."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise expired("the fetch's overall deadline passed")
        return left if timeout is None else min(timeout, left)


def refused_category(address: str) -> str | None:
    """Why a client of untrusted URLs must not connect to `address` (None: a global address)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone ("fe80::1%eth0") names no other host
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for category, hit in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("reserved", not ip.is_global),  # shared (100.64/10), benchmarking, …: nobody's public host
    ):
        if hit:
            return category
    return None


def client(deadline: Deadline, *, allow_local: bool) -> httpx.Client:
    """A client whose every connection is checked and bound by `deadline` (close it after use)."""
    transport = httpx.HTTPTransport(trust_env=False)
    # httpx (pinned) has no public seam for httpcore's network backend: the pool is replaced whole.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(), network_backend=_GuardedBackend(deadline, allow_local)
    )
    return httpx.Client(
        transport=transport,
        trust_env=False,
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        timeout=httpx.Timeout(None, connect=CONNECT_TIMEOUT_S),  # reads and writes: the deadline bounds them
    )


class _GuardedBackend(httpcore.NetworkBackend):
    def __init__(self, deadline: Deadline, allow_local: bool) -> None:
        self._deadline = deadline
        self._allow_local = allow_local
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = _resolve(host, port, self._deadline.cap(timeout, httpcore.ConnectTimeout))
        refused = {} if self._allow_local else {a: category for a in addresses if (category := refused_category(a))}
        allowed = [a for a in addresses if a not in refused]
        if not allowed:
            raise RefusedDestinationError(host, refused[addresses[0]])
        failure: Exception | None = None
        for address in allowed:  # connect to the address checked, never to the name again
            try:
                stream = self._sockets.connect_tcp(
                    address, port, self._deadline.cap(timeout, httpcore.ConnectTimeout), local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
                continue
            return _DeadlineStream(stream, self._deadline)
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are never connected to for an untrusted URL")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _resolve(host: str, port: int, timeout: float) -> list[str]:
    """The addresses of `host`, looked up in a helper thread that is abandoned at `timeout` (the
    system resolver takes no time limit; an abandoned lookup ends by the resolver's own)."""
    found: list[Any] = []

    def lookup() -> None:
        try:
            found.append([info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)])
        except OSError as exc:
            found.append(exc)

    thread = threading.Thread(target=lookup, daemon=True, name="resolve")
    thread.start()
    thread.join(timeout)
    if not found:
        raise httpcore.ConnectTimeout(f"resolving {host} took longer than the fetch's deadline")
    if isinstance(found[0], OSError) or not found[0]:
        raise httpcore.ConnectError(f"cannot resolve {host}: {found[0] or 'no address'}")
    return list(dict.fromkeys(found[0]))


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose reads, writes and TLS handshake all end by the deadline."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.cap(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._deadline.cap(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> httpcore.NetworkStream:
        # CPython bounds a whole TLS handshake by the socket's timeout, not each of its reads.
        tls = self._stream.start_tls(ssl_context, server_hostname, self._deadline.cap(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(tls, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)
