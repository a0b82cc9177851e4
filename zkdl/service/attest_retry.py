"""Attestations that failed for a cause since removed are sent again, without the operator.

The relayer fails an attestation whose gas estimate reverts: the registry was paused, or this
service's key did not hold the verifier role yet (docs/service.md: blockers). Once neither holds,
each such job is signed again (a fresh deadline and nonce; the verdict and report digest it
recorded) and its intent goes back to pending, so the relayer's checks decide again. A job whose
attestation fails again waits longer each time (backoff, `retry_base_s` to `retry_max_s`); one whose
attestation reverted on chain stays failed (its intent holds a spent nonce).
"""

from __future__ import annotations

import logging

from eth_account.signers.local import LocalAccount
from eth_utils import decode_hex

from ..backoff import backoff_delay
from ..chain.client import RegistryClient
from ..chain.relayer import Relayer
from ..chain.structs import AttestationRequest, Verdict
from .config import ServiceConfig
from .jobs import JobStore

log = logging.getLogger("zkdl.service")


def retry_failed_attestations(
    jobs: JobStore, relayer: Relayer, client: RegistryClient, verifier: LocalAccount, config: ServiceConfig
) -> int:
    """Send again the due failed attestations (call it only while nothing blocks attestations); how many."""
    retried = 0
    for job in jobs.failed_attestations():
        assert job.report_digest is not None  # a job holds its report digest from its verdict on
        verdict = Verdict.VALID if job.verdict == "valid" else Verdict.INVALID
        request = AttestationRequest(decode_hex(job.model_id), verdict, decode_hex(job.report_digest))
        signed = client.sign_attestation(verifier, request, deadline=client.deadline_in(config.attestation_ttl_s))
        # The job first: after a crash before the intent is re-armed, `sync_attestations` fails it again.
        jobs.retry_attestation(job.model_id, backoff_delay(config.retry_base_s, job.attempts, config.retry_max_s))
        if not relayer.retry_attestation(signed):  # reverted on chain: stays failed, out of the way for a while
            jobs.mark_failed(job.model_id, job.error or "attestation transaction failed")
            jobs.postpone(job.model_id, config.retry_max_s)
            continue
        log.info("job %s: attestation failed earlier (%s); sending it again", job.model_id, job.error)
        retried += 1
    return retried
