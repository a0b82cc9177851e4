"""Fetching registered bundles for the worker: the service's limits, what a failure is called in
public, and the fairness gate between hosts and owners.

Bundle URIs are chosen by registrants, so every fetch is hostile until its digest matches:
`zkdl.store.fetch` streams it under one overall deadline with the size cap, and (unless
`allow_local`) refuses loopback, private and other non-global destinations, on every redirect.

What the service publishes about a failed fetch (`/jobs`, `/models`, the page) is a category and a
fixed sentence, never the server's status, body, digest or address, nor the service's own file
roots: a registrant must not learn anything about the operator's network by registering URIs. The
details go to the log, for the operator.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .. import store
from .config import ServiceConfig


@dataclass(frozen=True)
class FetchFailure:
    category: str  # what the public sees: "unreachable", "timed out", …
    explanation: str  # a fixed sentence, nothing from the server
    retry: bool  # a passing failure (retried with backoff), or a final one
    metric: str  # the `kind` label of zkdl_bundle_fetch_errors_total

    @property
    def public(self) -> str:
        return f"{self.category}: {self.explanation}"


NOT_REGISTERED = FetchFailure(
    "not the registered bytes",
    "the bytes at the registered URI are not the registered proof (their Keccak-256 differs from the proof digest)",
    retry=True,
    metric="not-registered-bytes",
)
TIMED_OUT = FetchFailure("timed out", "the bundle did not arrive within this verifier's fetch deadline", retry=True, metric="timed-out")
UNREACHABLE = FetchFailure(
    "unreachable", "the registered URI could not be read (no connection, or an HTTP error)", retry=True, metric="unreachable"
)
REFUSED = FetchFailure(
    "refused destination",
    "the registered URI leads to a loopback, private or other non-public address, which this verifier does not fetch from",
    retry=False,
    metric="refused-destination",
)
UNSUPPORTED = FetchFailure(
    "unsupported URI",
    "the registered URI is neither http(s):// nor a file:// below this verifier's file roots",
    retry=False,
    metric="unsupported",
)


def failure_of(exc: store.StoreError | store.IntegrityError | store.UnsupportedUriError | store.RefusedDestinationError) -> FetchFailure:
    """The public category of a fetch error (`BundleTooLargeError` is a verdict, not a failure)."""
    if isinstance(exc, store.IntegrityError):
        return NOT_REGISTERED
    if isinstance(exc, store.FetchTimeoutError):
        return TIMED_OUT
    if isinstance(exc, store.RefusedDestinationError):
        return REFUSED
    if isinstance(exc, store.UnsupportedUriError):
        return UNSUPPORTED
    return UNREACHABLE


FETCH_ERRORS = (store.IntegrityError, store.StoreError, store.UnsupportedUriError, store.RefusedDestinationError)


def fetch_bundle(uri: str, digest: bytes, config: ServiceConfig, file_roots: list[Path], timeout: float) -> bytes:
    """`zkdl.store.fetch` with the service's limits and a deadline `timeout` away; `file://` only
    below the configured roots (a registrant must not make the service read arbitrary local files)."""
    if urllib.parse.urlsplit(uri).scheme.lower() == "file":
        path = store.file_path(uri).resolve()
        if not any(path.is_relative_to(root) for root in file_roots):
            raise store.UnsupportedUriError(
                f"file:// bundle URIs are read only below the service's file roots ({', '.join(map(str, file_roots)) or 'none configured'})"
            )
    return store.fetch(uri, digest, max_bytes=config.max_bundle_bytes, timeout=timeout, allow_local=config.allow_local)


class FetchGate:
    """Fetches in flight per host (host:port) and per owner, shared by one process's workers: a slow,
    trickling or failing host, or one owner's many registrations, hold at most `limit` workers, and
    the other workers go on with other models."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._busy: Counter[str] = Counter()
        self._lock = threading.Lock()

    @staticmethod
    def sources(uri: str, owner: str) -> tuple[str, ...]:
        try:
            netloc = urllib.parse.urlsplit(uri).netloc.lower()
        except ValueError:  # a malformed URI: its fetch fails at once, whatever its host
            netloc = ""
        return (f"host:{netloc}", f"owner:{owner.lower()}")

    @contextmanager
    def hold(self, sources: tuple[str, ...]) -> Iterator[bool]:
        """True (and the sources held until the block ends) when none is at its limit, else False."""
        with self._lock:
            free = all(self._busy[s] < self.limit for s in sources)
            if free:
                self._busy.update(sources)
        try:
            yield free
        finally:
            if free:
                with self._lock:
                    self._busy -= Counter(sources)  # drops the sources back at zero: no key kept per host ever seen
