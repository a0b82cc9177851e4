"""`zkdl serve`: run the verifier service (watcher, workers, relayer, HTTP API) until SIGTERM/SIGINT.

Settings: defaults < TOML file (--config or $ZKDL_SERVICE_CONFIG) < environment < these flags.
The verifier key comes from $ZKDL_VERIFIER_KEY or an encrypted keystore, never from a flag.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

from zkdl.commands import subcommand


def _configure_serve(p: argparse.ArgumentParser) -> None:
    from zkdl.chain.keys import key_variables

    from .config import CONFIG_ENV, ServiceConfig

    verifier_key, verifier_keystore, password = key_variables("verifier")
    p.epilog = (
        f"Keys come from the environment, never from flags: the verifier's ${verifier_key}, or an encrypted keystore "
        f"(--verifier-keystore or ${verifier_keystore}, password in ${password}); the attestations' gas is paid by "
        f"${key_variables('relayer')[0]}, by default the verifier key. Every setting is also read from the --config file "
        f"(or ${CONFIG_ENV}) and from $ZKDL_<SETTING> (e.g. $ZKDL_RPC_URL, $ZKDL_DEPLOYMENTS_DIR); a flag wins."
    )
    p.add_argument("--config", help="TOML settings file (top level or a [service] table)")
    p.add_argument("--rpc-url", help="JSON-RPC URL (default $ZKDL_RPC_URL or http://127.0.0.1:8545)")
    p.add_argument("--registry", help="ModelRegistry address (default: the deployment record of the chain)")
    p.add_argument("--db", help="service database: a SQLite file or a postgresql:// URL (default zkdl-service.sqlite)")
    p.add_argument("--outbox", help="relayer outbox: a SQLite file or a postgresql:// URL (default beside the database)")
    p.add_argument(
        "--confirmations", type=int, help="blocks deep (own block counted) before a registration is seen (default 1 on a dev chain, else 3)"
    )
    p.add_argument("--start-block", type=int, help="first block to scan (default: the deployment block, else 0)")
    p.add_argument("--host", help="HTTP address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="HTTP port (default 8080)")
    p.add_argument("--workers", type=int, help="verifications at once (default 1)")
    p.add_argument("--bundle-dir", help="bundle store directory: served at /bundles and readable as file://")
    p.add_argument("--file-root", action="append", default=[], help="directory whose file:// bundle URIs may be read (repeatable)")
    p.add_argument("--max-bundle-bytes", type=int, help="size limit of a fetched bundle")
    p.add_argument(
        "--fetch-timeout", type=float, dest="fetch_timeout_s", metavar="FETCH_TIMEOUT", help="time limit of a bundle fetch, seconds"
    )
    p.add_argument("--poll-interval", type=float, dest="poll_interval_s", metavar="POLL_INTERVAL", help="seconds between passes")
    p.add_argument(
        "--lease", type=float, dest="lease_s", metavar="LEASE", help="job lease, seconds (a crashed worker's job is retaken after it)"
    )
    p.add_argument(
        "--allow-local",
        action="store_true",
        default=None,
        help="fetch bundles from loopback and private addresses too (development only; default: refused)",
    )
    p.add_argument("--max-attempts", type=int, help="fetch attempts before a bundle is given up as unavailable")
    p.add_argument("--relayer-confirmations", type=int, help="depth before an attestation counts as done (default: as --confirmations)")
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    given = set(vars(p.parse_args([])))
    for name, field in ServiceConfig.model_fields.items():  # every other setting, by its own name
        if name not in given:
            p.add_argument("--" + name.replace("_", "-"), type=_flag_type(field.annotation), help=field.description)


def _flag_type(annotation: Any) -> Callable[[str], Any]:
    """int, float or str: the setting's type, without the None of an optional one."""
    return next(kind for kind in (int, float, str) if kind == annotation or kind in getattr(annotation, "__args__", ()))


@subcommand("serve", "run the verifier service: follow the registry, verify bundles, attest, serve the API", _configure_serve)
def _run_serve(args: argparse.Namespace) -> int:
    from .config import ServiceConfig, load_config, load_keys

    config = load_config(args.config, overrides={name: getattr(args, name) for name in ServiceConfig.model_fields})
    verifier, relayer = load_keys(config)
    return serve(config, verifier, relayer, file_roots=args.file_root)


def serve(config: Any, verifier: Any, relayer: Any = None, *, file_roots: list[str] | None = None, hooks: dict | None = None) -> int:
    """Run the service in this process until SIGTERM/SIGINT (uvicorn's handlers), then stop the
    background threads cleanly. Returns the exit status."""
    import uvicorn

    from .app import create_app
    from .service import VerifierService

    logging.basicConfig(level=config.log_level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    service = VerifierService(config, verifier, relayer, file_roots=file_roots, hooks=hooks)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        service.start()
        logging.getLogger("zkdl.service").info(
            "verifier %s serving on http://%s:%s (chain %s, registry %s, %s confirmations)",
            verifier.address,
            config.host,
            config.port,
            service.chain_id,
            service.registry,
            service.confirmations,
        )
        try:
            yield
        finally:
            service.stop()
            logging.getLogger("zkdl.service").info("stopped")

    app = create_app(service, lifespan=lifespan)
    server = uvicorn.Server(
        uvicorn.Config(app, host=config.host, port=config.port, log_level=config.log_level, lifespan="on", access_log=False)
    )

    # uvicorn handles SIGTERM/SIGINT (graceful shutdown, lifespan stop) and then re-raises the signal
    # to the handler it found; this one turns that into a normal exit (status 0 after a clean stop).
    def on_signal(_signum: int, _frame: Any) -> None:
        server.should_exit = True

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if server.started else 1
