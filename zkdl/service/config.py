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
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import decode_hex, encode_hex
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, EnvSettingsSource, InitSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

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


def _seconds_env(name: str) -> AliasChoices:
    """The environment names of setting `<name>_s`: $ZKDL_<NAME>_S, or the older $ZKDL_<NAME>."""
    return AliasChoices(f"zkdl_{name}_s", f"zkdl_{name}")


class ServiceConfig(BaseModel):
    """Everything `zkdl serve` needs except the keys (see `load_keys`). Each setting is read from the
    TOML file by its name, from the environment as ``$ZKDL_<NAME>`` and from the command line as
    ``--<name>`` (`load_config`; the descriptions are the flags' help). Three keep their older flags
    (``--fetch-timeout``, ``--poll-interval``, ``--lease``), two their older variables too
    (``$ZKDL_FETCH_TIMEOUT``, ``$ZKDL_POLL_INTERVAL``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True)

    rpc_url: str = Field("http://127.0.0.1:8545", description="JSON-RPC URL")
    registry: str | None = Field(None, description="ModelRegistry address (default: the deployment record)")
    db: str = Field("zkdl-service.sqlite", description="jobs and cursor: a SQLite path or a postgresql:// URL")
    outbox: str | None = Field(None, description="relayer outbox (default: beside the database, or the same PostgreSQL database)")
    confirmations: int | None = Field(
        None,
        description="a block is scanned once this deep (own block counted); default: 1 on a development chain "
        "(chain id 31337 or 1337, or a node that mines a block per transaction), else 3",
    )
    start_block: int | None = Field(None, description="first block to scan (default: the deployment block, else 0)")
    reorg_rewind: int = Field(64, description="blocks rescanned when the cursor's block was reorganised away")
    max_blocks_per_poll: int = Field(2000, description="eth_getLogs range per request")
    poll_interval_s: float = Field(1.0, validation_alias=_seconds_env("poll_interval"), description="seconds between passes")
    rpc_timeout_s: float = Field(10.0, description="time limit of a JSON-RPC request, seconds")
    max_bundle_bytes: int = Field(DEFAULT_MAX_BYTES, description="size limit of a fetched bundle")
    fetch_timeout_s: float = Field(
        DEFAULT_TIMEOUT_S, validation_alias=_seconds_env("fetch_timeout"), description="time limit of a bundle fetch, seconds"
    )
    fetch_budget_s: float = Field(
        1800.0,
        description="the time one model's fetches may take in all, over every attempt: a host that keeps a worker "
        "busy (trickling, too slow) is given up as unavailable once it is spent, whatever the retry window",
    )
    allow_local: bool = Field(
        False,
        description="fetch bundles from loopback, private, link-local and other non-global addresses too "
        "(development only: a registrant could otherwise make the service probe its own network)",
    )
    explorer_url: str | None = Field(
        None, description="a block explorer's base URL (https://…): the provenance page then links the registry record to it"
    )
    fetchers: int = Field(4, description="jobs in hand at once: a slow or failing bundle host holds one of them, not the queue")
    fetches_per_host: int = Field(1, description="fetches at once from one host (host:port), and for one owner's models, in this process")
    max_attempts: int = Field(5, description="fetch attempts before a job is given up as unavailable")
    fetch_retry_window_s: float = Field(
        86400.0,
        description="a bundle that cannot be fetched (unreachable, or not the registered bytes) is retried for at least "
        "this long after the job was created, whatever the attempts, before it is given up as unavailable",
    )
    retry_base_s: float = Field(5.0, description="backoff between attempts: base x 2^(attempt-1), capped")
    retry_max_s: float = Field(600.0, description="the cap of that backoff, seconds")
    lease_s: float = Field(120.0, description="job lease, renewed every lease/3 while working; a crashed worker's job is retaken after it")
    workers: int = Field(1, description="verifications at once (CPU-bound); jobs in hand at once are max(workers, fetchers)")
    max_verify_s: float = Field(
        3600.0,
        description="a model whose verification would take longer (priced from its statement before anything is built: "
        "zkdl.proof.cost) is skipped with the reason, never verified nor attested; the default admits the paper's shape",
    )
    max_verify_bytes: int = Field(16 << 30, description="the same for the memory one verification would need")
    verifier_version: str = Field(
        encode_hex(VERIFIER_VERSION),
        description="the verifier (circuit) version this service verifies; models registered for another are skipped",
    )
    verifier_keystore: str | None = Field(
        None, description="the verifier's encrypted keystore (password in $ZKDL_VERIFIER_KEYSTORE_PASSWORD)"
    )
    attestation_ttl_s: int = Field(7 * 24 * 3600, description="signature deadline, in chain time after signing")
    relayer_confirmations: int | None = Field(
        None, description="depth before an attestation counts as done (default: as confirmations' default)"
    )
    relayer_max_fee_cap_wei: int | None = Field(None, description="bound of maxFeePerGas (default: none)")
    host: str = Field("127.0.0.1", description="HTTP address")
    port: int = Field(8080, description="HTTP port")
    bundle_dir: str | None = Field(None, description="a bundle store directory served at GET /bundles/{digest}")
    max_serve_bytes: int = Field(DEFAULT_MAX_BYTES, description="size limit of a bundle served")
    deployments_dir: str | None = Field(None, description="deployment records (default: deploy/deployments)")
    log_level: str = Field("info", description="debug, info, warning or error")

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

    def checked(self) -> ServiceConfig:
        """This config, once the checks its field types cannot express pass (ConfigError names the setting)."""
        if not self.rpc_url.startswith(("http://", "https://")):
            raise ConfigError(f"rpc_url {self.rpc_url!r} is not an http(s):// JSON-RPC URL")
        if self.explorer_url is not None and not self.explorer_url.startswith(("http://", "https://")):
            raise ConfigError(f"explorer_url {self.explorer_url!r} is not an http(s):// URL (the page links to it)")
        for name in (
            "confirmations",
            "reorg_rewind",
            "max_attempts",
            "max_bundle_bytes",
            "max_serve_bytes",
            "workers",
            "fetchers",
            "fetches_per_host",
            "max_blocks_per_poll",
            "max_verify_bytes",
        ):
            minimum = 0 if name == "confirmations" else 1
            if getattr(self, name) is not None and getattr(self, name) < minimum:
                raise ConfigError(f"{name} must be at least {minimum}, got {getattr(self, name)}")
        for name in ("poll_interval_s", "rpc_timeout_s", "fetch_timeout_s", "fetch_budget_s", "lease_s", "retry_base_s", "max_verify_s"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        self.verifier_version_bytes  # noqa: B018 - validates
        for location in (self.db, self.outbox_path):
            parse_location(location, ConfigError)
        return self

    def public_json(self) -> dict[str, Any]:
        """The settings without secrets (a database URL's password is masked) for logs and /health."""
        return {**self.model_dump(), "db": redact(self.db), "outbox": self.outbox and redact(self.outbox)}


_FORBIDDEN_IN_FILE = ("verifier_key", "relayer_key", "private_key", "key", "password", "verifier_keystore_password")


class _Settings(ServiceConfig, BaseSettings):
    """The layers: ``$ZKDL_<NAME>`` for every setting over the file."""

    model_config = SettingsConfigDict(env_prefix="ZKDL_", extra="forbid", frozen=True, validate_by_name=True)


class _Environment(EnvSettingsSource):
    """The environment source reading a given mapping (the process environment, or a test's)."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._given = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {name.lower(): value for name, value in self._given.items() if value}  # empty: unset


def load_config(
    path: str | Path | None = None, env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> ServiceConfig:
    """Defaults, then the TOML file (`path`, else `$ZKDL_SERVICE_CONFIG`; keys at the top level or
    in a `[service]` table), then the environment, then `overrides` (non-None values only)."""
    environ: Mapping[str, str] = os.environ if env is None else env
    from_file = _read_file(path or environ.get(CONFIG_ENV))

    class Layers(_Settings):  # this call's file and environment, under the overrides
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            # The process's own environment, .env and secrets sources are replaced by `environ` and the file.
            return init_settings, _Environment(settings_cls, environ), InitSettingsSource(settings_cls, from_file)

    try:
        layered = Layers(**{key: value for key, value in (overrides or {}).items() if value is not None})
    except ValidationError as exc:
        raise _config_error(exc) from None
    return ServiceConfig(**layered.model_dump()).checked()


def _read_file(path: str | Path | None) -> dict[str, Any]:
    """The settings of a TOML file (other tables ignored); keys and unknown settings refused."""
    if not path:
        return {}
    try:
        data = tomllib.loads(Path(path).read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the service config {path}: {exc}") from None
    table = data.get("service", data)
    for key, value in table.items():
        if key in _FORBIDDEN_IN_FILE:
            key_var, _, password_var = key_variables("verifier")
            raise ConfigError(
                f"{path}: {key!r} must not be in a config file; set ${key_var} (or a keystore with ${password_var}) in the environment"
            )
        if key not in ServiceConfig.model_fields and not isinstance(value, dict):
            raise ConfigError(f"{path}: unknown setting {key!r}; known: {', '.join(sorted(ServiceConfig.model_fields))}")
    return {key: value for key, value in table.items() if key in ServiceConfig.model_fields}


def _config_error(exc: ValidationError) -> ConfigError:
    """The first problem pydantic found, in the words of the settings."""
    error = exc.errors()[0]
    name = ".".join(str(part) for part in error["loc"])
    kind = {"int_parsing": "int", "float_parsing": "float"}.get(error["type"])
    if kind:
        return ConfigError(f"setting {name} = {error['input']!r} is not a valid {kind}")
    return ConfigError(f"bad service setting {name}: {error['msg']}")


def load_keys(config: ServiceConfig, env: Mapping[str, str] | None = None) -> tuple[LocalAccount, LocalAccount]:
    """(verifier account, relayer account) from the environment or the keystore (`zkdl.chain.keys`).
    The relayer pays the gas of the attestations; it defaults to the verifier's own key."""
    env = os.environ if env is None else env
    verifier = load_account("verifier", env, keystore=config.verifier_keystore)
    return verifier, load_account("relayer", env, required=False) or verifier
