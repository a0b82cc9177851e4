"""Settings of the verifier service: defaults < TOML file < environment < command line.

Keys never come from a file or an argument (shell history, `ps`, config repos): the verifier key
is `$ZKDL_VERIFIER_KEY`, or an encrypted keystore (`verifier_keystore` / `$ZKDL_VERIFIER_KEYSTORE`)
whose password is `$ZKDL_VERIFIER_KEYSTORE_PASSWORD`. The key that pays for the attestation
transactions is `$ZKDL_RELAYER_KEY` (default: the verifier key pays its own gas).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import decode_hex, encode_hex

from ..chain.keys import key_variables, load_account
from ..db import SQLITE, parse_location, redact
from ..errors import EXIT_UNUSABLE, ZkdlError
from ..proof.statement import VERIFIER_VERSION  # the verifier (circuit) version registrations claim
from ..store import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S


CONFIG_ENV = "ZKDL_SERVICE_CONFIG"


class ConfigError(ZkdlError, ValueError):
    """The service settings are missing or wrong."""

    code = "service-config"
    exit_code = EXIT_UNUSABLE


@dataclass(frozen=True)
class ServiceConfig:
    """Everything `zkdl serve` needs except the keys (see `load_keys`)."""

    rpc_url: str = "http://127.0.0.1:8545"
    registry: str | None = None            # None: the deployment record of the node's chain
    db: str = "zkdl-service.sqlite"        # jobs and cursor: a SQLite path or a postgresql:// URL (zkdl.db)
    outbox: str | None = None              # default: <db stem>.outbox.sqlite, or the same PostgreSQL database
    confirmations: int = 3                 # a block is scanned once this deep (own block counted)
    start_block: int | None = None         # first block to scan (default: the deployment block, else 0)
    reorg_rewind: int = 64                 # blocks rescanned when the cursor's block was reorged away
    max_blocks_per_poll: int = 2000        # eth_getLogs range per request
    poll_interval_s: float = 1.0
    rpc_timeout_s: float = 10.0
    max_bundle_bytes: int = DEFAULT_MAX_BYTES
    fetch_timeout_s: float = DEFAULT_TIMEOUT_S
    max_attempts: int = 5                  # fetch attempts before a job is given up as unavailable
    retry_base_s: float = 5.0              # backoff between attempts: base x 2^(attempt-1), capped
    retry_max_s: float = 600.0
    lease_s: float = 120.0                 # renewed every lease_s/3 while working; a crashed worker's job is retaken after it
    workers: int = 1
    verifier_version: str = encode_hex(VERIFIER_VERSION)
    attestation_ttl_s: int = 7 * 24 * 3600  # signature deadline, in chain time after signing
    relayer_confirmations: int = 1
    relayer_max_fee_cap_wei: int | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    bundle_dir: str | None = None          # a LocalStore directory served at GET /bundles/{digest}
    max_serve_bytes: int = DEFAULT_MAX_BYTES
    deployments_dir: str | None = None
    log_level: str = "info"
    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def outbox_path(self) -> str:
        """The outbox's location. On PostgreSQL the default is the service's own database (the
        outbox keeps its tables in a schema of its own)."""
        if self.outbox:
            return self.outbox
        kind, db = parse_location(self.db, ConfigError)
        if kind != SQLITE:
            return self.db
        return str(Path(db).with_name(Path(db).stem + ".outbox.sqlite"))

    @property
    def verifier_version_bytes(self) -> bytes:
        raw = self.verifier_version
        try:
            value = decode_hex(raw)
        except ValueError:
            value = b""
        if len(value) != 32:
            raise ConfigError(f"verifier_version {raw!r} is not a 32-byte hex value")
        return value

    def validate(self) -> "ServiceConfig":
        if not self.rpc_url.startswith(("http://", "https://")):
            raise ConfigError(f"rpc_url {self.rpc_url!r} is not an http(s):// JSON-RPC URL")
        for name in ("confirmations", "reorg_rewind", "max_attempts", "max_bundle_bytes", "max_serve_bytes",
                     "workers", "max_blocks_per_poll"):
            minimum = 0 if name == "confirmations" else 1
            if getattr(self, name) < minimum:
                raise ConfigError(f"{name} must be at least {minimum}, got {getattr(self, name)}")
        for name in ("poll_interval_s", "rpc_timeout_s", "fetch_timeout_s", "lease_s", "retry_base_s"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        self.verifier_version_bytes  # noqa: B018 - validates
        for location in (self.db, self.outbox_path):
            parse_location(location, ConfigError)
        return self

    def public_json(self) -> dict[str, Any]:
        """The settings without secrets (a database URL's password is masked) for logs and /health."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        return {**out, "db": redact(self.db), "outbox": self.outbox and redact(self.outbox)}


_ENV = {
    "ZKDL_RPC_URL": ("rpc_url", str), "ZKDL_REGISTRY": ("registry", str), "ZKDL_DB": ("db", str),
    "ZKDL_OUTBOX": ("outbox", str), "ZKDL_CONFIRMATIONS": ("confirmations", int),
    "ZKDL_START_BLOCK": ("start_block", int), "ZKDL_MAX_BUNDLE_BYTES": ("max_bundle_bytes", int),
    "ZKDL_FETCH_TIMEOUT": ("fetch_timeout_s", float), "ZKDL_POLL_INTERVAL": ("poll_interval_s", float),
    "ZKDL_LEASE_S": ("lease_s", float), "ZKDL_MAX_ATTEMPTS": ("max_attempts", int),
    "ZKDL_WORKERS": ("workers", int), "ZKDL_BUNDLE_DIR": ("bundle_dir", str), "ZKDL_HOST": ("host", str),
    "ZKDL_PORT": ("port", int), "ZKDL_VERIFIER_VERSION": ("verifier_version", str),
    "ZKDL_DEPLOYMENTS_DIR": ("deployments_dir", str),
}
_FORBIDDEN_IN_FILE = ("verifier_key", "relayer_key", "private_key", "key", "password", "verifier_keystore_password")


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None,
                overrides: Mapping[str, Any] | None = None) -> ServiceConfig:
    """Defaults, then the TOML file (`path`, else `$ZKDL_SERVICE_CONFIG`; keys at the top level or
    in a `[service]` table), then the environment, then `overrides` (non-None values only)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    known = {f.name: f for f in fields(ServiceConfig) if f.name != "extra"}
    path = path or env.get(CONFIG_ENV)
    extra: dict[str, Any] = {}
    if path:
        try:
            data = tomllib.loads(Path(path).read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read the service config {path}: {exc}") from None
        table = data.get("service", data)
        for key, value in table.items():
            if key in _FORBIDDEN_IN_FILE:
                key_var, _, password_var = key_variables("verifier")
                raise ConfigError(f"{path}: {key!r} must not be in a config file; set ${key_var} (or a keystore "
                                  f"with ${password_var}) in the environment")
            if key == "verifier_keystore":
                extra["verifier_keystore"] = str(value)
            elif key in known:
                values[key] = value
            elif not isinstance(value, dict):
                raise ConfigError(f"{path}: unknown setting {key!r}; known: {', '.join(sorted(known))}")
    for var, (name, kind) in _ENV.items():
        if env.get(var):
            try:
                values[name] = kind(env[var])
            except ValueError:
                raise ConfigError(f"${var}={env[var]!r} is not a valid {kind.__name__}") from None
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
    try:
        config = ServiceConfig(**values, extra=extra)
    except TypeError as exc:
        raise ConfigError(f"bad service settings: {exc}") from None
    return config.validate()


def load_keys(config: ServiceConfig, env: Mapping[str, str] | None = None) -> tuple[LocalAccount, LocalAccount]:
    """(verifier account, relayer account) from the environment or the keystore (`zkdl.chain.keys`).
    The relayer pays the gas of the attestations; it defaults to the verifier's own key."""
    env = os.environ if env is None else env
    keystore = env.get(key_variables("verifier")[1]) or config.extra.get("verifier_keystore")
    verifier = load_account("verifier", env, keystore=keystore)
    return verifier, load_account("relayer", env, required=False) or verifier


def with_overrides(config: ServiceConfig, **changes: Any) -> ServiceConfig:
    return replace(config, **{k: v for k, v in changes.items() if v is not None}).validate()
