"""The verifier service: the watcher, the relayer and the workers in background threads beside the
HTTP API. State lives in SQLite (jobs + cursor, and the relayer's outbox), so a restart neither
loses nor repeats work. See docs/service.md.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import encode_hex, to_checksum_address
from web3 import Web3

from ..backoff import backoff_delay
from ..chain.client import RegistryClient
from ..chain.deploy import read_deployment
from ..chain.lineage import lineage_json
from ..chain.outbox import SqlOutbox
from ..chain.relayer import RPC_UNAVAILABLE, Relayer
from ..chain.structs import IndexKind, ModelStatus
from ..errors import ZkdlError
from .attest_retry import retry_failed_attestations
from .config import ServiceConfig
from .fetching import FetchGate
from .jobs import JobStore
from .metrics import Metrics
from .watcher import Watcher
from .worker import Worker, sync_attestations

log = logging.getLogger("zkdl.service")

DEV_CHAIN_IDS = frozenset({31337, 1337, 131277322940537})  # anvil and Hardhat, geth --dev and Ganache, eth-tester
PUBLIC_CHAIN_CONFIRMATIONS = 3


def automines(w3: Web3) -> bool:
    """Whether the node mines one block per transaction (anvil's and Hardhat's automine)."""
    for method in ("anvil_getAutomine", "hardhat_getAutomine"):
        try:
            if w3.provider.make_request(method, []).get("result") is True:  # type: ignore[arg-type]  # an RPC method name
                return True
        except Exception:  # a node without the method does not automine that way
            continue
    return False


def status_json(status: ModelStatus) -> dict[str, Any]:
    """A `getStatus` result as JSON (digests 0x-hex, enums by name)."""
    return {
        "status": status.status.name.lower(),
        "valid_count": status.valid_count,
        "invalid_count": status.invalid_count,
        "ignored_count": status.ignored_count,
        "quorum": status.quorum,
        "revoked_at": status.revoked_at,
        "attestations": [
            {
                "verifier": a.verifier,
                "verdict": a.verdict.name.lower(),
                "attested_at": a.attested_at,
                "counted": a.counted,  # False: a verdict from a removed verifier
                "report_digest": None if a.report_digest is None else encode_hex(a.report_digest),
            }
            for a in status.attestations
        ],
    }


def chain_json(client: RegistryClient, model_id: str | bytes) -> dict[str, Any]:
    """`status_json` of a model's status, with what the registry's indexes add for a buyer: the
    registrations sharing its proof and its final weights (copies; the earliest is the original),
    the record of its data set (None when the data set is not registered) and the model's lineage
    (its parent's registrations, their ancestors, or why none)."""
    model = client.get_model(model_id)
    view = status_json(client.get_status(model_id))
    shared = (client.shared(IndexKind.PROOF, model.proof_digest), client.shared(IndexKind.WEIGHTS, model.c_wt_digest))
    view["copies"] = [s.to_json() for s in shared if s is not None]
    view["dataset"] = client.get_dataset(model.c_data_digest).to_json() if client.dataset_exists(model.c_data_digest) else None
    view["lineage"] = lineage_json(client, model)
    return view


class VerifierService:
    """Owns the background threads. `start()` connects (retrying in the background while the node
    is unreachable) and starts them; `stop()` lets the workers finish the job in hand."""

    def __init__(
        self,
        config: ServiceConfig,
        verifier: LocalAccount,
        relayer_account: LocalAccount | None = None,
        *,
        file_roots: Sequence[str | Path] | None = None,
        hooks: dict[str, Callable[[], None]] | None = None,
    ) -> None:
        self.config = config
        self.verifier = verifier
        self.relayer_account = relayer_account or verifier
        roots = list(file_roots or [])
        if config.bundle_dir:
            roots.append(config.bundle_dir)
        self.file_roots = [Path(r).expanduser().resolve() for r in roots]
        self.hooks = hooks
        self.jobs = JobStore(config.db)
        self.metrics = Metrics(self.jobs.counts)
        self.gate = FetchGate(config.fetches_per_host)
        self.verify_slots = threading.Semaphore(config.workers)
        self.dataset_checks: dict[tuple[bytes, bytes], dict[str, Any]] = {}  # shared by the workers: one check per data-set file
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._connected = threading.Event()
        self._lock = threading.Lock()
        self._local = threading.local()
        self.registry: str | None = config.registry and to_checksum_address(config.registry)
        self.chain_id: int | None = None
        self.start_block = config.start_block or 0
        # The depths, resolved for the chain on connecting where they are not set.
        self.confirmations = PUBLIC_CHAIN_CONFIRMATIONS if config.confirmations is None else config.confirmations
        self.relayer_confirmations = self.confirmations if config.relayer_confirmations is None else config.relayer_confirmations
        self.started_at = time.time()
        self.state: dict[str, Any] = {
            "rpc_ok": None,
            "rpc_error": None,
            "last_poll": None,
            "head": None,
            "safe_head": None,
            "relayer": None,
        }

    # -- chain access ----------------------------------------------------------------------------------

    def new_w3(self, timeout: float | None = None) -> Web3:
        return Web3(Web3.HTTPProvider(self.config.rpc_url, request_kwargs={"timeout": timeout or self.config.rpc_timeout_s}))

    def _connect(self) -> None:
        """Learn the chain id and registry and bind the database to them (once)."""
        w3 = self.new_w3()
        chain_id = w3.eth.chain_id
        registry = self.registry
        if registry is None:
            record = read_deployment(chain_id, self.config.deployments_dir)
            registry = to_checksum_address(record.address)
            if self.config.start_block is None:
                self.start_block = record.block_number
        if not w3.eth.get_code(to_checksum_address(registry)):
            raise ZkdlError(f"no contract at {registry} on chain {chain_id}: check ZKDL_REGISTRY and ZKDL_RPC_URL")
        RegistryClient(w3, registry).check_version()  # another registry version: refused by name, at start
        self.jobs.bind(chain_id, registry, to_checksum_address(self.verifier.address))
        self._resolve_confirmations(w3, chain_id)
        with self._lock:
            self.chain_id, self.registry = chain_id, registry
        self._connected.set()

    def _resolve_confirmations(self, w3: Web3, chain_id: int) -> None:
        """The depths the chain needs where none is set: 1 on a development chain, where blocks come
        only with transactions (a deeper block might never come), else `PUBLIC_CHAIN_CONFIRMATIONS`."""
        automining = automines(w3)
        default = 1 if automining or chain_id in DEV_CHAIN_IDS else PUBLIC_CHAIN_CONFIRMATIONS
        self.confirmations = default if self.config.confirmations is None else self.config.confirmations
        self.relayer_confirmations = default if self.config.relayer_confirmations is None else self.config.relayer_confirmations
        if automining and max(self.confirmations, self.relayer_confirmations) > 1:
            log.warning(
                "the node mines a block per transaction (automine) and confirmations are %s (relayer %s): a registration "
                "is seen, and an attestation done, only once that many blocks exist; leave them unset (1 here) or mine blocks",
                self.confirmations,
                self.relayer_confirmations,
            )

    def client(self, w3: Web3 | None = None) -> RegistryClient:
        assert self.registry is not None
        return RegistryClient(w3 or self.new_w3(), self.registry)

    def api_client(self) -> RegistryClient | None:
        """A per-thread client with a short timeout for the HTTP API (None before connecting)."""
        if not self._connected.is_set():
            return None
        client = getattr(self._local, "client", None)
        if client is None:
            client = self.client(self.new_w3(min(self.config.rpc_timeout_s, 5.0)))
            self._local.client = client
        return client

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        if not self.file_roots:  # file:// bundle URIs (a local store) are then given up as unavailable
            log.warning("no file roots (--file-root, bundle_dir): bundles registered with file:// URIs cannot be read")
        try:
            self._connect()
        except RPC_UNAVAILABLE as exc:
            log.warning("node %s unreachable at start (%s); retrying in the background", self.config.rpc_url, exc)
            self._note_rpc_error(exc)
        self._spawn("zkdl-loop", self._loop)
        for i in range(max(self.config.workers, self.config.fetchers)):  # at most `workers` of them verify at once
            self._spawn(f"zkdl-worker-{i}", self._worker_loop, i)

    def _spawn(self, name: str, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            log.warning("threads still busy at shutdown (their leases expire): %s", ", ".join(alive))

    @property
    def alive(self) -> bool:
        return bool(self._threads) and all(t.is_alive() for t in self._threads) and not self._stop.is_set()

    def _note_rpc_error(self, exc: BaseException) -> None:
        self.state.update(rpc_ok=False, rpc_error=f"{type(exc).__name__}: {exc}"[:500])
        self.metrics.rpc_errors.inc()

    def _pause(self, failures: int) -> None:
        # At most 64 poll intervals and at most 30 s: an unreachable node is retried within half a minute.
        self._stop.wait(backoff_delay(self.config.poll_interval_s, min(failures, 6), 30.0))

    # -- threads -------------------------------------------------------------------------------------

    def _loop(self) -> None:
        """Watcher, relayer and attestation bookkeeping, one pass per poll interval."""
        parties: tuple[Watcher, Relayer, RegistryClient] | None = None
        failures = 0
        while not self._stop.is_set():
            try:
                if not self._connected.is_set():
                    self._connect()
                if parties is None:
                    # All three or none: a failure half-way (a locked outbox) is retried whole next pass.
                    parties = self._loop_parties()
                watcher, relayer, client = parties
                poll = watcher.poll()
                if poll.rewound:
                    self.metrics.reorgs.inc()
                report = relayer.process_once()
                self.state["relayer"] = report.counts
                if report.rpc_error:
                    raise ConnectionError(report.rpc_error)
                sync_attestations(self.jobs, relayer, client, self.verifier.address)
                self._check_blockers(client)
                if not self.state["blockers"]:
                    retry_failed_attestations(self.jobs, relayer, client, self.verifier, self.config)
                self._refresh_statuses(client)
                now = time.time()
                self.state.update(rpc_ok=True, rpc_error=None, last_poll=now, head=poll.head, safe_head=poll.safe_head)
                self.metrics.chain_head.set(poll.head)
                self.metrics.cursor.set(poll.next_block)
                self.metrics.last_poll.set(now)
                failures = 0
                self._stop.wait(self.config.poll_interval_s)
            except RPC_UNAVAILABLE as exc:
                failures += 1
                log.warning("node unreachable (%s); retrying", exc)
                self._note_rpc_error(exc)
                self._pause(failures)
            except Exception as exc:
                failures += 1
                log.exception("service loop error")
                self.metrics.loop_errors.inc()
                self.state["loop_error"] = f"{type(exc).__name__}: {exc}"[:500]
                self._pause(failures)

    def _loop_parties(self) -> tuple[Watcher, Relayer, RegistryClient]:
        w3 = self.new_w3()
        client = self.client(w3)
        watcher = Watcher(
            client,
            self.jobs,
            confirmations=self.confirmations,
            start_block=self.start_block,
            reorg_rewind=self.config.reorg_rewind,
            max_blocks_per_poll=self.config.max_blocks_per_poll,
        )
        relayer = Relayer(
            w3,
            client,
            self.relayer_account,
            SqlOutbox(self.config.outbox_path),
            confirmations=self.relayer_confirmations,
            max_fee_cap_wei=self.config.relayer_max_fee_cap_wei,
        )
        return watcher, relayer, client

    def _check_blockers(self, client: RegistryClient, every_s: float = 10.0) -> None:
        """What stops this service's attestations from landing (no verifier role, a paused registry):
        shown on /health (degraded, with the reasons) and logged at WARNING when it changes."""
        if time.time() - self.state.get("blockers_checked", 0.0) < every_s:
            return
        me = to_checksum_address(self.verifier.address)
        blockers = []
        if not client.has_role(client.verifier_role(), me):
            blockers.append(f"this service's key {me} does not hold the verifier role on {self.registry}: the registry admin must grant it")
        if client.paused():
            blockers.append(f"the registry {self.registry} is paused: attestations revert until it is unpaused")
        if blockers != self.state.get("blockers", []):
            for blocker in blockers:
                log.warning("cannot attest: %s", blocker)
            if not blockers:
                log.info("attestations can land again")
        self.state.update(blockers=blockers, blockers_checked=time.time())

    def _refresh_statuses(self, client: RegistryClient, every_s: float = 10.0, batch: int = 200) -> None:
        """Keep the cached on-chain status of known models fresh (for /models and a node outage)."""
        if time.time() - self.state.get("status_refreshed", 0.0) < every_s:
            return
        for job in self.jobs.list(None, limit=batch, offset=self.state.get("status_offset", 0)):
            if job.state.value != "gone":
                try:
                    self.jobs.set_chain_status(job.model_id, status_json(client.get_status(job.model_id)))
                except RPC_UNAVAILABLE:
                    raise
                except Exception:
                    continue
        total = self.jobs.count()
        offset = self.state.get("status_offset", 0) + batch
        self.state["status_offset"] = offset if offset < total else 0
        self.state["status_refreshed"] = time.time()

    def _worker_loop(self, index: int) -> None:
        worker = None
        failures = 0
        while not self._stop.is_set():
            try:
                if not self._connected.is_set():
                    self._stop.wait(self.config.poll_interval_s)
                    continue
                if worker is None:
                    w3 = self.new_w3()
                    client = self.client(w3)
                    relayer = Relayer(w3, client, self.relayer_account, SqlOutbox(self.config.outbox_path))
                    worker = Worker(
                        f"{_host_pid()}:{index}",
                        self.config,
                        self.jobs,
                        client,
                        relayer,
                        self.verifier,
                        metrics=self.metrics,
                        file_roots=self.file_roots,
                        gate=self.gate,
                        verify_slots=self.verify_slots,
                        hooks=self.hooks,
                        dataset_checks=self.dataset_checks,
                    )
                job = worker.run_once()
                failures = 0
                if job is None:
                    self._stop.wait(self.config.poll_interval_s)
            except RPC_UNAVAILABLE as exc:
                failures += 1
                self._note_rpc_error(exc)
                self._pause(failures)
            except Exception:
                failures += 1
                log.exception("worker %s error", index)
                self.metrics.loop_errors.inc()
                self._pause(failures)

    # -- views for the API -----------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        last = self.state.get("last_poll")
        return {
            "status": "ok"
            if self.alive and self.state.get("rpc_ok") and not self.state.get("blockers")
            else ("degraded" if self.alive else "stopped"),
            "blockers": self.state.get("blockers", []),
            "threads_alive": self.alive,
            "rpc_ok": self.state.get("rpc_ok"),
            "rpc_error": self.state.get("rpc_error"),
            "chain_id": self.chain_id,
            "registry": self.registry,
            "verifier": to_checksum_address(self.verifier.address),
            "verifier_version": self.config.verifier_version,
            "confirmations": self.confirmations,
            "head": self.state.get("head"),
            "safe_head": self.state.get("safe_head"),
            "cursor": (self.jobs.cursor() or (None, None))[0],
            "last_poll_age_s": None if last is None else round(time.time() - last, 3),
            "jobs": self.jobs.counts(),
            "relayer": self.state.get("relayer"),
            "uptime_s": round(time.time() - self.started_at, 3),
        }


def _host_pid() -> str:
    import os
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"
