"""Checking a fetched bundle against its registration, and the canonical verification report.

`check_bundle` never raises for anything in the bundle: a malformed bundle, one whose statement or
commitments differ from the registered digests, or one whose proof fails, each gives an `Outcome`
with verdict "invalid" and a reason. The report is a canonical JSON document (sorted keys, no
spaces, ASCII) whose Keccak-256 is the attestation's `reportDigest`; it holds no timing, so anyone
re-running the check gets the same bytes and can compare the digest.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_hash.auto import keccak
from eth_utils import encode_hex

from ..chain.structs import Model
from ..errors import ZkdlError
from ..proof import cost, registration
from ..proof.statement import Statement

REPORT_FORMAT = "zkdl-verification-report"
REPORT_VERSION = 3  # 3: the data set's range proof (its registered record's file); 2: the registered parent digest (registry v2)
VALID, INVALID = "valid", "invalid"
OVER_BUDGET = "over-budget"  # not a verdict: the model is skipped, nothing is attested (another verifier may take it)


@dataclass(frozen=True)
class Outcome:
    verdict: str  # "valid" | "invalid" | "over-budget" (no verdict)
    reason: str | None
    code: str  # machine-readable reason code ("ok", "digest-mismatch", ...)
    statement: dict[str, Any] | None  # the bundle's claims (`zkdl inspect --json`), when it decoded
    proof_bytes: int | None
    verify_seconds: float | None
    dataset: dict[str, Any] | None = None  # the data set's range proof: "verified", "invalid", or why unchecked


DatasetCheck = Callable[[Statement], dict[str, Any]]  # the statement's data set, checked: `dataset_status`


def invalid(code: str, reason: str, *, proof_bytes: int | None = None, statement: dict[str, Any] | None = None) -> Outcome:
    return Outcome(INVALID, reason, code, statement, proof_bytes, None)


def check_bundle(
    model: Model,
    bundle: bytes,
    *,
    dataset_check: DatasetCheck = lambda statement: dataset_status(statement, "not checked"),
    max_seconds: float = math.inf,
    max_bytes: int = sys.maxsize,
) -> Outcome:
    """Decode (once), compare with the registration, price (`OVER_BUDGET` above the budget: no
    verdict), verify; for a valid proof, check its data set's registered record too (`dataset_check`).
    The bundle's digest has already been checked against `model.proof_digest` by the fetch.

    The data set's range proof is reported, not part of the verdict: the verdict is the model's
    proof, and a data-set record is whoever registered that id first (a bad record must not make a
    valid model invalid). The report, whose digest the attestation signs, says which it was."""
    size = len(bundle)
    try:
        claims = registration.claims_of(bundle)
    except ZkdlError as exc:  # BundleFormatError: the only error a decoding raises
        return invalid("malformed-bundle", f"the bundle is malformed: {exc.user_message}", proof_bytes=size)
    info = claims.to_json()
    mismatches = registration.differences(claims, model)
    if mismatches:
        code, reason = _mismatch(mismatches[0])
        return invalid(code, reason, proof_bytes=size, statement=info)
    copy = registration.copy_of(claims.statement, model.owner)
    if copy is not None:  # the proof is another owner's: whoever registered it did not prove it
        return invalid("copy", copy, proof_bytes=size, statement=info)
    over = cost.budget_refusal(claims.statement, claims.bundle.messages, max_seconds, max_bytes)
    if over is not None:
        return Outcome(OVER_BUDGET, f"not verified by this verifier: {over}", "over-budget", info, size, None)
    started = time.perf_counter()
    rejection = registration.proof_rejection(claims)
    seconds = time.perf_counter() - started
    if rejection is None:
        return Outcome(VALID, None, "ok", info, size, seconds, dataset_check(claims.statement))
    return Outcome(INVALID, f"the proof does not verify: {rejection}", "proof-rejected", info, size, seconds)


def dataset_status(statement: Statement, found: bytes | str) -> dict[str, Any]:
    """The report's word on the data set: its proof file `found` verified against the statement's
    data set, or why there is no file to verify (`found` is then the reason)."""
    if isinstance(found, str):
        return {"status": "unchecked", "reason": found}
    reason = registration.dataset_rejection(statement, found)
    return {"status": "verified"} if reason is None else {"status": "invalid", "reason": reason}


def _mismatch(difference: registration.Difference) -> tuple[str, str]:
    """The reason code and text of the first digest on which the bundle and its registration differ."""
    claimed, registered = encode_hex(difference.claimed), encode_hex(difference.registered)
    if difference.field == "statement_digest":
        return "statement-mismatch", (f"the bundle proves another statement: its digest is {claimed}, the registry says {registered}")
    if difference.field == "parent_digest":  # the registry's lineage must be the proof's
        return "parent-mismatch", f"the bundle's statement names parent {claimed}, the registry says {registered}"
    if difference.field == "proof_digest":  # checked by the fetch: only a caller that did not fetch gets here
        return "digest-mismatch", f"the bundle is not the registered one: its digest is {claimed}, the registry says {registered}"
    name = difference.field.removesuffix("_digest")
    return "commitment-mismatch", f"the bundle's commitment {name} has digest {claimed}, the registry says {registered}"


def build_report(model: Model, verifier: str, verifier_version: bytes, outcome: Outcome) -> dict[str, Any]:
    """The canonical report of one verification (deterministic: no clock, no timings)."""
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "model_id": encode_hex(model.model_id),
        "verifier": verifier,
        "verifier_version": encode_hex(verifier_version),
        "verdict": outcome.verdict,
        "code": outcome.code,
        "reason": outcome.reason,
        "registered": {
            "statement_digest": encode_hex(model.statement_digest),
            "proof_digest": encode_hex(model.proof_digest),
            "c_data_digest": encode_hex(model.c_data_digest),
            "c_w0_digest": encode_hex(model.c_w0_digest),
            "c_wt_digest": encode_hex(model.c_wt_digest),
            "parent_digest": encode_hex(model.parent_digest),
            "bundle_uri": model.bundle_uri,
        },
        "proof_bytes": outcome.proof_bytes,
        "statement": outcome.statement["statement"] if outcome.statement else None,
        "dataset": outcome.dataset,
    }


def canonical_json(report: dict[str, Any]) -> bytes:
    return json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def report_digest(report: dict[str, Any]) -> bytes:
    """Keccak-256 of the canonical JSON: the attestation's reportDigest."""
    return keccak(canonical_json(report))
