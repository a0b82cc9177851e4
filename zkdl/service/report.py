"""Checking a fetched bundle against its registration, and the canonical verification report.

`check_bundle` never raises for anything in the bundle: a malformed bundle, one whose statement or
commitments differ from the registered digests, or one whose proof fails, each gives an `Outcome`
with verdict "invalid" and a reason. The report is a canonical JSON document (sorted keys, no
spaces, ASCII) whose Keccak-256 is the attestation's `reportDigest`; it holds no timing, so anyone
re-running the check gets the same bytes and can compare the digest.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from eth_hash.auto import keccak

from .. import api
from ..chain.structs import Model
from ..proof.bundle import Bundle, BundleFormatError

REPORT_FORMAT = "zkdl-verification-report"
REPORT_VERSION = 1
VALID, INVALID = "valid", "invalid"


@dataclass(frozen=True)
class Outcome:
    verdict: str                       # "valid" | "invalid"
    reason: str | None
    code: str                          # machine-readable reason code ("ok", "digest-mismatch", ...)
    statement: dict[str, Any] | None   # api.inspect of the bundle, when it decoded
    proof_bytes: int | None
    verify_seconds: float | None


def invalid(code: str, reason: str, *, proof_bytes: int | None = None,
            statement: dict[str, Any] | None = None) -> Outcome:
    return Outcome(INVALID, reason, code, statement, proof_bytes, None)


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def check_bundle(model: Model, bundle: bytes) -> Outcome:
    """Decode, compare with the registration, verify. The bundle's digest has already been checked
    against `model.proof_digest` by the fetch."""
    size = len(bundle)
    try:
        decoded = Bundle.decode(bundle)
        info = api.inspect(bundle)
    except BundleFormatError as exc:
        return invalid("malformed-bundle", f"the bundle is malformed: {exc.user_message}", proof_bytes=size)
    statement = decoded.statement
    if statement.digest() != model.statement_digest:
        return invalid("statement-mismatch",
                       f"the bundle proves another statement: its digest is {_hex(statement.digest())}, the registry "
                       f"says {_hex(model.statement_digest)}", proof_bytes=size, statement=info)
    digests = api.commitment_digests(statement)
    for name, registered in (("c_data", model.c_data_digest), ("c_w0", model.c_w0_digest),
                             ("c_wt", model.c_wt_digest)):
        if digests[name] != _hex(registered):
            return invalid("commitment-mismatch",
                           f"the bundle's commitment {name} has digest {digests[name]}, the registry says "
                           f"{_hex(registered)}", proof_bytes=size, statement=info)
    started = time.perf_counter()
    try:
        result = api.verify(bundle)
    except BundleFormatError as exc:  # decoded above, so only a deeper format check can land here
        return invalid("malformed-bundle", f"the bundle is malformed: {exc.user_message}", proof_bytes=size,
                       statement=info)
    seconds = time.perf_counter() - started
    if result.valid:
        return Outcome(VALID, None, "ok", info, size, seconds)
    return Outcome(INVALID, f"the proof does not verify: {result.reason}", "proof-rejected", info, size, seconds)


def build_report(model: Model, verifier: str, verifier_version: bytes, outcome: Outcome) -> dict[str, Any]:
    """The canonical report of one verification (deterministic: no clock, no timings)."""
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "model_id": _hex(model.model_id),
        "verifier": verifier,
        "verifier_version": _hex(verifier_version),
        "verdict": outcome.verdict,
        "code": outcome.code,
        "reason": outcome.reason,
        "registered": {
            "statement_digest": _hex(model.statement_digest),
            "proof_digest": _hex(model.proof_digest),
            "c_data_digest": _hex(model.c_data_digest),
            "c_w0_digest": _hex(model.c_w0_digest),
            "c_wt_digest": _hex(model.c_wt_digest),
            "bundle_uri": model.bundle_uri,
        },
        "proof_bytes": outcome.proof_bytes,
        "statement": outcome.statement["statement"] if outcome.statement else None,
    }


def canonical_json(report: dict[str, Any]) -> bytes:
    return json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def report_digest(report: dict[str, Any]) -> bytes:
    """Keccak-256 of the canonical JSON: the attestation's reportDigest."""
    return keccak(canonical_json(report))
