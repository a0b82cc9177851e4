"""The worker: takes a leased job, fetches and checks the bundle, verifies, attests through the relayer.

For each job:

1. read the model from the chain (gone after a reorg: the job stops; another verifier version or a
   revoked model: skipped; this verifier already attested on chain: done);
2. fetch the bundle (`fetching.fetch_bundle`: size cap, one overall deadline, refused
   destinations), its digest checked against the registered proof digest, unless another worker
   of this process is fetching from the same host or for the same owner (the job then waits a
   little, and this worker takes another); an unreachable or slow bundle, or bytes that are not the
   registered ones (an error page, a cut transfer: not the proof, so no verdict), is retried with
   backoff and given up as `unavailable` after `max_attempts` and `fetch_retry_window_s`, a refused
   destination or an unsupported URI at once (nothing is attested: the owner's server may only be
   down, and a verdict is final on chain);
3. decode it and compare the statement digest and the three commitment digests with the
   registered ones, then verify (`zkdl.report.check_bundle`);
4. sign the EIP-712 attestation (verdict, report digest) and enqueue it in the relayer's outbox
   under the key (model id, verifier), then record the verdict. Enqueue-then-record means a crash
   in between re-runs the (deterministic) check and finds the intent already there: one
   attestation per model and verifier, whatever happens.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import encode_hex

from .. import store
from ..backoff import backoff_delay
from ..chain.client import RegistryClient
from ..chain.errors import UnknownModelError
from ..chain.relayer import RPC_UNAVAILABLE, Relayer, attestation_key
from ..chain.structs import AttestationRequest, Model, Verdict
from ..proof.statement import Statement
from .config import ServiceConfig
from .fetching import FETCH_ERRORS, FetchFailure, FetchGate, failure_of, fetch_bundle
from .jobs import Job, JobState, JobStore
from .report import INVALID, OVER_BUDGET, VALID, Outcome, build_report, check_bundle, dataset_status, invalid, report_digest

log = logging.getLogger("zkdl.service.worker")


class Worker:
    def __init__(
        self,
        name: str,
        config: ServiceConfig,
        jobs: JobStore,
        client: RegistryClient,
        relayer: Relayer,
        verifier: LocalAccount,
        *,
        metrics: Any = None,
        file_roots: list[Path] | None = None,
        gate: FetchGate | None = None,
        verify_slots: threading.Semaphore | None = None,
        hooks: dict[str, Callable[[], None]] | None = None,
        dataset_checks: dict[tuple[bytes, bytes], dict[str, Any]] | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.jobs = jobs
        self.client = client
        self.relayer = relayer
        self.verifier = verifier
        self.metrics = metrics
        self.file_roots = [Path(p).resolve() for p in (file_roots or [])]
        self.version = config.verifier_version_bytes
        # Shared by a process's workers: fetches per host/owner, and verifications (CPU) at once.
        self.gate = gate or FetchGate(config.fetches_per_host)
        self.verify_slots = verify_slots or threading.Semaphore(config.workers)
        self.dataset_checks = {} if dataset_checks is None else dataset_checks  # (data set id, file digest) → report entry
        self.hooks = hooks or {}  # test seams: called at named points ("leased", "enqueued", ...)

    def _hook(self, name: str) -> None:
        if name in self.hooks:
            self.hooks[name]()

    def run_once(self) -> Job | None:
        """Lease one due job and work it; None when nothing is due. Never raises for the job's
        contents; an unreachable node puts the job back (not counted as an attempt) and re-raises."""
        job = self.jobs.claim(self.name, self.config.lease_s)
        if job is None:
            return None
        self._hook("leased")
        stop = threading.Event()
        heartbeat = threading.Thread(target=self._heartbeat, args=(job.model_id, stop), daemon=True, name=f"lease-{self.name}")
        heartbeat.start()
        try:
            self._work(job)
        except RPC_UNAVAILABLE as exc:
            log.warning("job %s: node unreachable (%s); put back", job.model_id, exc)  # its address is the operator's, not public
            outage = "the chain node is unreachable"
            self.jobs.retry_later(job.model_id, self.name, outage, self.config.poll_interval_s, release_attempt=True)
            raise
        except Exception:
            log.exception("job %s: internal error", job.model_id)  # the details are the operator's, not public
            self._retry_or_give_up(job, "internal verifier error (the service's log has the details)", JobState.FAILED)
        finally:
            stop.set()
            heartbeat.join()
        return self.jobs.get(job.model_id)

    def _heartbeat(self, model_id: str, stop: threading.Event) -> None:
        # Keeps the lease while a long verification runs; a crashed process stops renewing it.
        while not stop.wait(self.config.lease_s / 3):
            if not self.jobs.renew(model_id, self.name, self.config.lease_s):
                return

    def _work(self, job: Job) -> None:
        mid = job.model_id
        try:
            model = self.client.get_model(mid)
        except UnknownModelError:
            self.jobs.mark_gone(mid, "the model is not on the canonical chain (removed by a reorganisation)")
            return
        if model.verifier_version != self.version:
            self.jobs.finish_leased(
                mid,
                self.name,
                JobState.SKIPPED,
                error=f"registered for verifier version {encode_hex(model.verifier_version)}, this "
                f"service verifies {encode_hex(self.version)}",
            )
            return
        if model.revoked:
            self.jobs.finish_leased(mid, self.name, JobState.SKIPPED, error="revoked by its owner before verification")
            return
        key = attestation_key(model.model_id, self.verifier.address)
        existing = self.client.get_attestation(mid, self.verifier.address)
        if existing.verdict is not Verdict.NONE and self.relayer.outbox.by_key(key) is None:
            # Attested by this key outside this database (a lost database, another instance):
            # nothing to submit. (With our own intent the check below re-runs to record the report.)
            verdict = VALID if existing.verdict is Verdict.VALID else INVALID
            self.jobs.finish_leased(
                mid, self.name, JobState.ATTESTED, verdict=verdict, reason=None, error="this verifier's attestation was already on chain"
            )
            return
        with self.gate.hold(self.gate.sources(model.bundle_uri, model.owner)) as free:
            if not free:  # another worker is fetching from this host or for this owner: others first
                self.jobs.retry_later(
                    mid, self.name, "waiting for another fetch from the same host or owner", self.config.retry_base_s, release_attempt=True
                )
                return
            try:
                data = self._timed_fetch(job, model)
            except store.BundleTooLargeError:
                self._attest(
                    job,
                    model,
                    invalid("bundle-too-large", f"the bundle is larger than this verifier's limit of {self.config.max_bundle_bytes} bytes"),
                )
                return
            except FETCH_ERRORS as exc:
                self._fetch_failed(job, failure_of(exc), exc.user_message)
                return
        self._hook("fetched")
        with self.verify_slots:
            outcome = check_bundle(
                model,
                data,
                dataset_check=lambda statement: self._dataset_check(job, model, statement),
                max_seconds=self.config.max_verify_s,
                max_bytes=self.config.max_verify_bytes,
            )
        if outcome.verdict == OVER_BUDGET:  # no verdict: a verifier with a larger budget may verify it
            self.jobs.finish_leased(mid, self.name, JobState.SKIPPED, error=outcome.reason)
            log.warning("job %s: %s", mid, outcome.reason)
            return
        if outcome.verify_seconds is not None and self.metrics is not None:
            self.metrics.verify_seconds.observe(outcome.verify_seconds)
        self._attest(job, model, outcome)

    def _attest(self, job: Job, model: Model, outcome: Outcome) -> None:
        report = build_report(model, self.verifier.address, self.version, outcome)
        digest = report_digest(report)
        verdict = Verdict.VALID if outcome.verdict == VALID else Verdict.INVALID
        request = AttestationRequest(model.model_id, verdict, digest)  # the id names the whole record
        key = attestation_key(model.model_id, self.verifier.address)
        if self.relayer.outbox.by_key(key) is None:  # else the first signed payload stands (same report)
            deadline = self.client.deadline_in(self.config.attestation_ttl_s)
            signed = self.client.sign_attestation(self.verifier, request, deadline=deadline)
            self.relayer.enqueue_attestation(signed)
        self._hook("enqueued")
        recorded = self.jobs.record_verdict(
            job.model_id,
            self.name,
            verdict=outcome.verdict,
            reason=outcome.reason,
            report=report,
            report_digest=encode_hex(digest),
            statement=outcome.statement,
            proof_bytes=outcome.proof_bytes,
            verify_seconds=outcome.verify_seconds,
            intent_key=key,
        )
        if self.metrics is not None:
            self.metrics.verdicts.labels(outcome.verdict, outcome.code).inc()
        log.info(
            "job %s: %s%s%s",
            job.model_id,
            outcome.verdict,
            f" ({outcome.reason})" if outcome.reason else "",
            "" if recorded else " (lease lost: another worker finishes it)",
        )

    def _timed_fetch(self, job: Job, model: Model) -> bytes:
        return self._fetch_within_budget(job, model.bundle_uri, model.proof_digest)

    def _fetch_within_budget(self, job: Job, uri: str, digest: bytes) -> bytes:
        """A file, fetched by a deadline within what is left of the job's fetch budget; the fetch's
        duration is added to the job's total however it ends."""
        deadline = min(self.config.fetch_timeout_s, self.config.fetch_budget_s - job.fetch_seconds)
        started = time.monotonic()
        try:
            return fetch_bundle(uri, digest, self.config, self.file_roots, deadline)
        finally:
            self.jobs.spend_fetch_time(job.model_id, self.name, time.monotonic() - started)

    def _dataset_check(self, job: Job, model: Model, statement: Statement) -> dict[str, Any]:
        """The data-set record the model's C_data names, its proof file verified (one fetch attempt:
        the data set is reported, not retried); a verified or invalid file is remembered by the
        process, so the next model on that data set neither fetches nor verifies it again."""
        if not self.client.dataset_exists(model.c_data_digest):
            return dataset_status(statement, "the data set has no record on the registry")
        record = self.client.get_dataset(model.c_data_digest).request
        key = (model.c_data_digest, record.range_proof_digest)  # the file is bound by its registered digest
        if (known := self.dataset_checks.get(key)) is not None:
            return known
        try:
            found: bytes | str = self._fetch_within_budget(job, record.uri, record.range_proof_digest)
        except (*FETCH_ERRORS, store.BundleTooLargeError) as exc:
            log.warning("job %s: the data set's proof file %s: %s", job.model_id, record.uri, exc)
            found = f"its proof file is unavailable ({failure_of(exc).category if isinstance(exc, FETCH_ERRORS) else 'too large'})"
        status = dataset_status(statement, found)
        if not isinstance(found, str):  # an unavailable file may come back: only a checked one is remembered
            self.dataset_checks[key] = status
        return status

    def _fetch_failed(self, job: Job, failure: FetchFailure, detail: str) -> None:
        """Retried with backoff over the retry window while the job's fetch budget lasts, else given
        up; only the category is public. Bytes that are not the registered ones say nothing about
        the proof, so never a verdict."""
        if self.metrics is not None:
            self.metrics.fetch_errors.labels(failure.metric).inc()
        log.warning("job %s: bundle %s: %s", job.model_id, failure.category, detail)
        current = self.jobs.get(job.model_id)
        spent = current.fetch_seconds if current else job.fetch_seconds
        if not failure.retry:
            self.jobs.finish_leased(job.model_id, self.name, JobState.UNAVAILABLE, error=failure.public)
        elif spent >= self.config.fetch_budget_s:
            error = f"{failure.public} (gave up: its fetches took this verifier's budget of {self.config.fetch_budget_s:g} s per model)"
            self.jobs.finish_leased(job.model_id, self.name, JobState.UNAVAILABLE, error=error)
            log.warning("job %s: fetch budget spent (%.1f s), given up", job.model_id, spent)
        else:
            self._retry_or_give_up(job, failure.public, JobState.UNAVAILABLE, window_s=self.config.fetch_retry_window_s)

    def _retry_or_give_up(self, job: Job, error: str, final: JobState, window_s: float = 0.0) -> None:
        """Retry with backoff; give up (`final`) after `max_attempts` attempts and, for fetch failures,
        not before `window_s` seconds since the job was created (an owner's host may be down a while)."""
        current = self.jobs.get(job.model_id)
        attempts = current.attempts if current else job.attempts
        created = current.created_at if current else job.created_at
        if attempts >= self.config.max_attempts and time.time() - created >= window_s:
            self.jobs.finish_leased(job.model_id, self.name, final, error=f"{error} (gave up after {attempts} attempts)")
            log.warning("job %s: gave up after %s attempts: %s", job.model_id, attempts, error)
            return
        delay = backoff_delay(self.config.retry_base_s, attempts - 1, self.config.retry_max_s)
        self.jobs.retry_later(job.model_id, self.name, error, delay)
        log.warning("job %s: %s; retry in %.0f s (attempt %s of %s)", job.model_id, error, delay, attempts, self.config.max_attempts)


def sync_attestations(jobs: JobStore, relayer: Relayer, client: RegistryClient, verifier: str) -> int:
    """Move verified/invalid jobs to attested (or failed) as their outbox intents become final."""
    changed = 0
    for job in jobs.list((JobState.VERIFIED, JobState.INVALID), limit=1000):
        intent = relayer.outbox.by_key(job.intent_key) if job.intent_key else None
        if intent is None:
            continue
        if intent.state.value == "confirmed":
            changed += jobs.mark_attested(
                job.model_id, note=None if intent.outcome == "included" else "the chain already held this verifier's attestation"
            )
        elif intent.state.value == "failed":
            if client.model_exists(job.model_id) and client.get_attestation(job.model_id, verifier).verdict is not Verdict.NONE:
                changed += jobs.mark_attested(job.model_id, note="attested outside this service's outbox")
            else:
                changed += jobs.mark_failed(job.model_id, f"attestation transaction failed: {intent.error}")
    return changed
