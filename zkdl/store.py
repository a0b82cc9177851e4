"""Content-addressed store of proof bundles.

A bundle is addressed by its Keccak-256 digest, the `proofDigest` registered on chain. `LocalStore`
keeps bundles in a directory as `<root>/<hex digest>.zkdl` and hands out `file://` URIs (or
`http(s)://` URIs when the directory is served over HTTP, e.g. by the verifier service's API).
`fetch()` reads any `file://` or `http(s)://` URI with a size cap and one overall deadline and checks
the digest on every read: a bundle's bytes are never returned unless they are the registered ones.
"""

from __future__ import annotations

import errno
import functools
import os
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, Protocol

import httpx
from Crypto.Hash import keccak as streaming_keccak
from eth_utils import encode_hex, keccak

from . import guarded_http
from .errors import EXIT_UNUSABLE, ZkdlError

SUFFIX = ".zkdl"
DEFAULT_MAX_BYTES = 256 * 1024 * 1024  # a bundle is MBs; anything near this is hostile or broken
DEFAULT_TIMEOUT_S = 60.0
_CHUNK = 1 << 16


class StoreError(ZkdlError, OSError):
    """A bundle cannot be written or read (disk full, permissions, network, HTTP status)."""

    code = "store"
    exit_code = EXIT_UNUSABLE


class IntegrityError(ZkdlError, ValueError):
    """The bytes read do not hash to the expected digest: the bundle was altered or is another one."""

    code = "integrity"
    exit_code = EXIT_UNUSABLE


class BundleTooLargeError(ZkdlError, ValueError):
    """A bundle is larger than the reader's size cap."""

    code = "bundle-too-large"
    exit_code = EXIT_UNUSABLE


class UnsupportedUriError(ZkdlError, ValueError):
    """A bundle URI whose scheme the store cannot read."""

    code = "unsupported-uri"
    exit_code = EXIT_UNUSABLE


class FetchTimeoutError(StoreError):
    """A fetch did not end by its deadline (a slow or trickling server)."""

    code = "fetch-timeout"


class RefusedDestinationError(ZkdlError, ValueError):
    """A URI (or a redirect) leads to a loopback, private or other non-global address, and the
    reader does not allow local destinations."""

    code = "refused-destination"
    exit_code = EXIT_UNUSABLE


class BundleStore(Protocol):
    """Where relayers put bundles and verifiers get them."""

    def put(self, data: bytes) -> tuple[bytes, str]:
        """Store `data`; return (Keccak-256 digest, URI to register)."""
        ...

    def get(self, uri: str, expected_digest: bytes, max_bytes: int = DEFAULT_MAX_BYTES, timeout: float = DEFAULT_TIMEOUT_S) -> bytes:
        """The bytes at `uri`, checked against `expected_digest`."""
        ...


def digest_of(data: bytes) -> bytes:
    """The bundle digest: Keccak-256 of the bundle bytes (the registry's proofDigest)."""
    return keccak(data)


class LocalStore:
    """Bundles in a local directory, written atomically, one file per digest.

    `base_url`, if given, is where that directory is served over HTTP: `put` then returns
    `<base_url>/<hex digest>.zkdl` instead of a `file://` URI, so remote verifiers can fetch it.
    """

    def __init__(self, root: str | Path, base_url: str | None = None) -> None:
        self.root = Path(root).expanduser().resolve()
        if base_url is not None and not base_url.startswith(("http://", "https://")):
            raise UnsupportedUriError(
                f"bundle store base URL {base_url!r} is not http(s)://; give the URL under which the store directory is served"
            )
        self.base_url = base_url.rstrip("/") if base_url else None

    def path_for(self, digest: bytes) -> Path:
        return self.root / f"{bytes(digest).hex()}{SUFFIX}"

    def uri_for(self, digest: bytes) -> str:
        if self.base_url:
            return f"{self.base_url}/{bytes(digest).hex()}{SUFFIX}"
        return self.path_for(digest).as_uri()

    def put(self, data: bytes) -> tuple[bytes, str]:
        digest = digest_of(data)
        path = self.path_for(digest)
        if not _holds(path, digest, len(data)):
            _write_atomically(path, data)
        return digest, self.uri_for(digest)

    def get(self, uri: str, expected_digest: bytes, max_bytes: int = DEFAULT_MAX_BYTES, timeout: float = DEFAULT_TIMEOUT_S) -> bytes:
        # Our own copy, when we have it, saves a network round trip for http URIs we handed out.
        local = self.path_for(expected_digest)
        if local.exists():
            return fetch(local.as_uri(), expected_digest, max_bytes, timeout)
        return fetch(uri, expected_digest, max_bytes, timeout)


def _holds(path: Path, digest: bytes, size: int) -> bool:
    # An existing file is trusted only if it is intact: a corrupted copy gets rewritten by put().
    try:
        return path.stat().st_size == size and digest_of(path.read_bytes()) == digest
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise _store_error("read", path, exc) from exc


def _write_atomically(path: Path, data: bytes) -> None:
    """temp file in the same directory + fsync + rename: readers see the whole file or none."""
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
        _fsync_dir(path.parent)  # the rename itself must survive a power loss
    except OSError as exc:
        raise _store_error("write", path, exc) from exc
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _store_error(action: str, path: Path, exc: OSError) -> StoreError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        remedy = "free disk space (or point the store at another directory) and retry"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        remedy = "make the directory writable by this user (or point the store at another directory)"
    else:
        remedy = "check the path and the file system"
    return StoreError(f"cannot {action} bundle {path}: {exc.strerror or exc}; {remedy}")


# -- reading -----------------------------------------------------------------------------------------


def fetch(
    uri: str, expected_digest: bytes, max_bytes: int = DEFAULT_MAX_BYTES, timeout: float = DEFAULT_TIMEOUT_S, *, allow_local: bool = True
) -> bytes:
    """Read a bundle from a `file://` or `http(s)://` URI and check its Keccak-256 digest.

    At most `max_bytes` are read (`BundleTooLargeError` past that). An HTTP read ends by one overall
    deadline, `timeout` seconds away (`FetchTimeoutError`), and is spooled to a temporary file while
    it arrives: only bytes that hash to `expected_digest` are ever held in memory (`IntegrityError`
    otherwise). Unless `allow_local`, loopback, private and other non-global destinations are
    refused, on every redirect too (`RefusedDestinationError`, see `zkdl.guarded_http`).
    """
    scheme = urllib.parse.urlsplit(uri).scheme.lower()
    if scheme == "file":
        data = _read_file(uri, max_bytes)
        _check_digest(uri, digest_of(data), expected_digest)
        return data
    if scheme in ("http", "https"):
        try:
            with tempfile.TemporaryFile(prefix="zkdl-fetch-") as spool:
                _check_digest(uri, _download(uri, spool, max_bytes, timeout, allow_local), expected_digest)
                spool.seek(0)
                return spool.read()
        except OSError as exc:  # the spool's own disk (full, read-only): the store's error, not the network's
            if isinstance(exc, ZkdlError):
                raise
            raise _store_error("spool", Path(tempfile.gettempdir()), exc) from exc
    raise UnsupportedUriError(
        f"cannot fetch bundle {uri!r}: scheme {scheme or '(none)'!r} is not supported; use a file:// or http(s):// URI"
    )


def _check_digest(uri: str, actual: bytes, expected: bytes) -> None:
    if actual != bytes(expected):
        raise IntegrityError(
            f"bundle at {uri} has digest {encode_hex(actual)}, expected {encode_hex(expected)}: "
            "it was altered or is another bundle; do not use it, re-fetch from a trusted source"
        )


def file_path(uri: str) -> Path:
    """The local path of a `file://` URI (only local hosts: a remote file host is not ours to read)."""
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        raise UnsupportedUriError(f"{uri!r} is not a local file:// URI")
    return Path(urllib.request.url2pathname(parts.path))


def _read_file(uri: str, max_bytes: int) -> bytes:
    path = file_path(uri)
    try:
        with open(path, "rb") as f:
            return _read_capped(iter(functools.partial(f.read, _CHUNK), b""), max_bytes, uri)
    except FileNotFoundError:
        raise StoreError(f"bundle {path} does not exist; check the URI or re-upload the bundle") from None
    except OSError as exc:
        raise _store_error("read", path, exc) from exc


def _download(uri: str, spool: BinaryIO, max_bytes: int, timeout: float, allow_local: bool) -> bytes:
    """Stream the body at `uri` into `spool`, capped; the Keccak-256 of what was written."""
    hasher = streaming_keccak.new(digest_bits=256)
    written = 0
    # identity: the digest is of the bytes sent, and a compressed body could expand far past the cap
    headers = {"Accept": "application/octet-stream", "Accept-Encoding": "identity"}
    try:
        with (
            guarded_http.client(guarded_http.Deadline(timeout), allow_local=allow_local) as client,
            client.stream("GET", uri, headers=headers) as response,
        ):
            response.raise_for_status()
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > max_bytes:
                raise _too_large(uri, max_bytes, int(length))
            for chunk in response.iter_raw(_CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise _too_large(uri, max_bytes, None)
                hasher.update(chunk)
                spool.write(chunk)
    except httpx.HTTPStatusError as exc:
        raise StoreError(
            f"bundle server answered HTTP {exc.response.status_code} {exc.response.reason_phrase} for "
            f"{uri}; check the URI and that the server still holds the bundle"
        ) from None
    except guarded_http.RefusedDestinationError as exc:
        raise RefusedDestinationError(
            f"bundle URI {uri} leads to {exc.host}, a {exc.category} address: refused (allow local destinations only for development)"
        ) from None
    except httpx.TimeoutException:
        raise FetchTimeoutError(
            f"fetching bundle {uri} took longer than allowed ({timeout:g} s); retry later or raise the timeout"
        ) from None
    except httpx.UnsupportedProtocol as exc:  # the URI is http(s): only a redirect leads elsewhere (file://, ftp://)
        raise UnsupportedUriError(f"bundle server redirected {uri} off http(s) ({exc}); only http(s) redirects are followed") from None
    except httpx.HTTPError as exc:
        raise StoreError(f"cannot fetch bundle {uri}: {exc}; check the network and retry later") from None
    return hasher.digest()


def _read_capped(chunks: Iterable[bytes], max_bytes: int, uri: str) -> bytes:
    """The chunks joined, refused beyond max_bytes as they arrive."""
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if len(data) > max_bytes:
            raise _too_large(uri, max_bytes, None)
    return bytes(data)


def _too_large(uri: str, max_bytes: int, size: int | None) -> BundleTooLargeError:
    what = f"{size} bytes" if size is not None else f"more than {max_bytes} bytes"
    return BundleTooLargeError(f"bundle at {uri} is {what}, the limit is {max_bytes}; raise max_bytes if the bundle is legitimate")
