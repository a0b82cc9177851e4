"""The verifier service's durable state: the event cursor and the job table (SQLite or PostgreSQL).

One job per model id. States:

    queued ──► leased ──► verified | invalid ──► attested
      ▲          │  (lease expired: another worker takes it)
      └──────────┘  retry later (bundle unreachable, node down)   ──► unavailable (gave up, nothing attested)
    any non-final ──► gone (the model vanished in a reorg; revived if it comes back)
    queued ──► skipped (another verifier version: not ours to attest)

`fetch_seconds` adds up the duration of every fetch of the job (the budget `fetch_budget_s`).
`verified` / `invalid` hold the verdict and the canonical report; the attestation is then in the
relayer's outbox under the key (model id, verifier), so it is submitted at most once whatever
happens; `attested` means the outbox confirmed it (or the chain already had this verifier's verdict).

Every change is one transaction (`zkdl.db`) and every transition is compare-and-set on the
expected state and lease owner, so several worker threads or processes can share one store: a
worker whose lease expired cannot overwrite the work of the one that took the job over. Workers
claim with `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite's write transaction locks the
whole file), so many workers never take one job twice nor wait on each other.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from ..db import Database, Schema
from ..errors import EXIT_UNUSABLE, ZkdlError

SCHEMA_VERSION = 2  # 2: fetch_seconds


class JobStoreError(ZkdlError, OSError):
    """The service database cannot be opened, has another schema, or belongs to another registry."""

    code = "service-db"
    exit_code = EXIT_UNUSABLE


class RequeueError(ZkdlError, ValueError):
    """A job cannot be requeued: there is none for the model, or it is not given up nor failed."""

    code = "requeue"


_NOT_REQUEUED = {
    "queued": "it is in the queue already",
    "leased": "a worker has it in hand",
    "verified": "its attestation is being sent",
    "invalid": "its attestation is being sent",
    "attested": "it is attested, and a verdict is final on chain",
    "skipped": "it is not this service's to verify",
    "gone": "its registration is not on the canonical chain",
}


class JobState(str, Enum):
    QUEUED = "queued"
    LEASED = "leased"
    VERIFIED = "verified"  # verdict valid, attestation enqueued
    INVALID = "invalid"  # verdict invalid, attestation enqueued
    ATTESTED = "attested"  # the attestation is on chain (confirmed)
    UNAVAILABLE = "unavailable"  # the bundle could not be fetched after every attempt: nothing attested
    SKIPPED = "skipped"  # registered for another verifier version
    GONE = "gone"  # the model is no longer on the canonical chain (reorg)
    FAILED = "failed"  # the attestation transaction failed for good (reason in `error`)

    @property
    def final(self) -> bool:
        return self in (JobState.ATTESTED, JobState.UNAVAILABLE, JobState.SKIPPED, JobState.FAILED)


ALL_STATES = tuple(JobState)


@dataclass(frozen=True)
class Job:
    model_id: str  # 0x-hex
    owner: str
    block_number: int
    block_hash: str
    tx_hash: str
    registration: dict[str, str]  # the registered request (0x-hex digests, URIs)
    state: JobState
    attempts: int
    fetch_seconds: float  # time its fetches took, over all attempts (the budget `fetch_budget_s`)
    not_before: float
    lease_owner: str | None
    lease_expires: float | None
    verdict: str | None  # "valid" | "invalid"
    reason: str | None
    report: dict[str, Any] | None
    report_digest: str | None
    statement: dict[str, Any] | None  # the bundle's claims (`zkdl inspect --json`), when it decoded
    proof_bytes: int | None
    verify_seconds: float | None
    intent_key: str | None
    error: str | None  # last transient problem (retried) or the final failure
    chain_status: dict[str, Any] | None  # last on-chain status read (cache for the API)
    created_at: float
    updated_at: float

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["state"] = self.state.value
        return out


_DDL = """
CREATE TABLE IF NOT EXISTS jobs (
    model_id       TEXT PRIMARY KEY,
    owner          TEXT NOT NULL,
    block_number   INTEGER NOT NULL,
    block_hash     TEXT NOT NULL,
    tx_hash        TEXT NOT NULL,
    registration   TEXT NOT NULL,
    state          TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    fetch_seconds  REAL NOT NULL DEFAULT 0,
    not_before     REAL NOT NULL DEFAULT 0,
    lease_owner    TEXT,
    lease_expires  REAL,
    verdict        TEXT,
    reason         TEXT,
    report         TEXT,
    report_digest  TEXT,
    statement      TEXT,
    proof_bytes    INTEGER,
    verify_seconds REAL,
    intent_key     TEXT,
    error          TEXT,
    chain_status   TEXT,
    created_at     REAL NOT NULL,
    updated_at     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, not_before);
CREATE INDEX IF NOT EXISTS jobs_block ON jobs (block_number);
"""

_COLUMNS = (
    "model_id, owner, block_number, block_hash, tx_hash, registration, state, attempts, fetch_seconds, not_before, "
    "lease_owner, lease_expires, verdict, reason, report, report_digest, statement, proof_bytes, "
    "verify_seconds, intent_key, error, chain_status, created_at, updated_at"
)
_JSON = ("registration", "report", "statement", "chain_status")


_UPGRADES = ("ALTER TABLE jobs ADD COLUMN fetch_seconds REAL NOT NULL DEFAULT 0",)  # 1 → 2
_SCHEMA = Schema("verifier service database", _DDL, SCHEMA_VERSION, "zkdl_service", JobStoreError, _UPGRADES)


class JobStore:
    """The job table and cursor in a SQLite file or a PostgreSQL database (`location`: a path or
    URL, see `zkdl.db`). Safe to share between threads and between processes."""

    def __init__(self, location: str | Path, *, busy_timeout_s: float = 30.0) -> None:
        self._db = Database(location, _SCHEMA, busy_timeout_s=busy_timeout_s)
        self.path = self._db.label  # where it is, for messages (a URL without its password)

    def close(self) -> None:
        self._db.close()

    # -- binding and cursor --------------------------------------------------------------------------

    def bind(self, chain_id: int, registry: str, verifier: str) -> None:
        """Tie the store to one (chain, registry, verifier) the first time; refuse any other later."""
        want = {"chain_id": str(chain_id), "registry": registry, "verifier": verifier}
        with self._db.write() as db:
            for name, value in want.items():
                # Insert-if-absent, then compare: two first binds at once cannot both insert.
                db.execute("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", (name, value))
                bound = db.query("SELECT value FROM meta WHERE name = ?", (name,))[0][0]
                if bound != value:
                    raise JobStoreError(
                        f"service database {self.path} belongs to {name} {bound}, not {value}; "
                        "use one database per chain, registry and verifier key"
                    )

    def meta(self, name: str) -> str | None:
        rows = self._db.query("SELECT value FROM meta WHERE name = ?", (name,))
        return rows[0][0] if rows else None

    def cursor(self) -> tuple[int, str | None] | None:
        """(next block to scan, hash of the block before it) or None before the first scan."""
        raw = self.meta("cursor")
        if raw is None:
            return None
        data = json.loads(raw)
        return int(data["next_block"]), data.get("prev_hash")

    def set_cursor(self, next_block: int, prev_hash: str | None) -> None:
        with self._db.write() as db:
            db.execute(
                "INSERT INTO meta (name, value) VALUES ('cursor', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (json.dumps({"next_block": next_block, "prev_hash": prev_hash}),),
            )

    # -- jobs ------------------------------------------------------------------------------------------

    def add(self, *, model_id: str, owner: str, block_number: int, block_hash: str, tx_hash: str, registration: dict[str, str]) -> bool:
        """Insert the job of a registration once (keyed by model id). A job marked `gone` by a reorg
        comes back to `queued` when the registration is seen again. True when something changed."""
        now = time.time()
        with self._db.write() as db:
            cur = db.execute(
                "INSERT INTO jobs (model_id, owner, block_number, block_hash, tx_hash, registration, state, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?) ON CONFLICT (model_id) DO NOTHING",
                (model_id, owner, block_number, block_hash, tx_hash, json.dumps(registration, sort_keys=True), now, now),
            )
            if cur.rowcount:
                return True
            cur = db.execute(
                "UPDATE jobs SET state = 'queued', block_number = ?, block_hash = ?, tx_hash = ?, lease_owner = NULL, "
                "lease_expires = NULL, error = NULL, updated_at = ? WHERE model_id = ? AND state = 'gone'",
                (block_number, block_hash, tx_hash, now, model_id),
            )
            return bool(cur.rowcount)

    def get(self, model_id: str) -> Job | None:
        rows = self._db.query(f"SELECT {_COLUMNS} FROM jobs WHERE model_id = ?", (model_id.lower(),))
        return _job(rows[0]) if rows else None

    def list(self, states: tuple[JobState, ...] | None = None, limit: int = 100, offset: int = 0) -> list[Job]:
        sql, args = f"SELECT {_COLUMNS} FROM jobs", []
        if states:
            sql += f" WHERE state IN ({','.join('?' * len(states))})"
            args += [s.value for s in states]
        sql += " ORDER BY block_number, created_at LIMIT ? OFFSET ?"
        return [_job(r) for r in self._db.query(sql, args + [limit, offset])]

    def count(self) -> int:
        return self._db.query("SELECT COUNT(*) FROM jobs")[0][0]

    def counts(self) -> dict[str, int]:
        found = dict(self._db.query("SELECT state, COUNT(*) FROM jobs GROUP BY state"))
        return {s.value: int(found.get(s.value, 0)) for s in JobState}

    def claim(self, worker: str, lease_s: float) -> Job | None:
        """Lease the oldest job that is due: queued and past its retry time, or leased by a worker
        whose lease expired (it crashed or hung). Attempts count every lease."""
        now = time.time()
        with self._db.write() as db:
            # PostgreSQL: a row another worker is claiming right now is skipped, not waited for.
            row = db.execute(
                "SELECT model_id FROM jobs WHERE (state = 'queued' AND not_before <= ?) "
                "OR (state = 'leased' AND lease_expires < ?) ORDER BY block_number, created_at LIMIT 1" + db.skip_locked,
                (now, now),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE jobs SET state = 'leased', lease_owner = ?, lease_expires = ?, attempts = attempts + 1, "
                "updated_at = ? WHERE model_id = ?",
                (worker, now + lease_s, now, row[0]),
            )
        return self.get(row[0])

    def renew(self, model_id: str, worker: str, lease_s: float) -> bool:
        """Extend a lease this worker still holds; False when it lost it."""
        now = time.time()
        with self._db.write() as db:
            cur = db.execute(
                "UPDATE jobs SET lease_expires = ?, updated_at = ? WHERE model_id = ? AND state = 'leased' AND lease_owner = ?",
                (now + lease_s, now, model_id, worker),
            )
            return bool(cur.rowcount)

    def spend_fetch_time(self, model_id: str, worker: str, seconds: float) -> bool:
        """Add a fetch's duration to the job's total, while this worker holds its lease."""
        with self._db.write() as db:
            cur = db.execute(
                "UPDATE jobs SET fetch_seconds = fetch_seconds + ? WHERE model_id = ? AND state = 'leased' AND lease_owner = ?",
                (seconds, model_id, worker),
            )
            return bool(cur.rowcount)

    def _leased_update(self, model_id: str, worker: str, sets: dict[str, Any]) -> bool:
        sets = {**sets, "lease_owner": None, "lease_expires": None, "updated_at": time.time()}
        cols = ", ".join(f"{k} = ?" for k in sets)
        vals = [json.dumps(v, sort_keys=True) if k in _JSON and v is not None else v for k, v in sets.items()]
        with self._db.write() as db:
            cur = db.execute(
                f"UPDATE jobs SET {cols} WHERE model_id = ? AND state = 'leased' AND lease_owner = ?", vals + [model_id, worker]
            )
            return bool(cur.rowcount)

    def record_verdict(
        self,
        model_id: str,
        worker: str,
        *,
        verdict: str,
        reason: str | None,
        report: dict[str, Any],
        report_digest: str,
        statement: dict[str, Any] | None,
        proof_bytes: int | None,
        verify_seconds: float | None,
        intent_key: str,
    ) -> bool:
        state = JobState.VERIFIED if verdict == "valid" else JobState.INVALID
        return self._leased_update(
            model_id,
            worker,
            {
                "state": state.value,
                "verdict": verdict,
                "reason": reason,
                "report": report,
                "report_digest": report_digest,
                "statement": statement,
                "proof_bytes": proof_bytes,
                "verify_seconds": verify_seconds,
                "intent_key": intent_key,
                "error": None,
            },
        )

    def retry_later(self, model_id: str, worker: str, error: str, delay_s: float, *, release_attempt: bool = False) -> bool:
        """Back to queued, due again after `delay_s`. `release_attempt`: the failure was not the
        bundle's (the node was down), so it does not count towards giving up."""
        sets: dict[str, Any] = {"state": JobState.QUEUED.value, "error": error, "not_before": time.time() + delay_s}
        ok = self._leased_update(model_id, worker, sets)
        if ok and release_attempt:
            with self._db.write() as db:
                db.execute("UPDATE jobs SET attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END WHERE model_id = ?", (model_id,))
        return ok

    def finish_leased(
        self,
        model_id: str,
        worker: str,
        state: JobState,
        *,
        error: str | None = None,
        verdict: str | None = None,
        reason: str | None = None,
    ) -> bool:
        sets: dict[str, Any] = {"state": state.value, "error": error}
        if verdict is not None:
            sets.update(verdict=verdict, reason=reason)
        return self._leased_update(model_id, worker, sets)

    def mark_attested(self, model_id: str, *, note: str | None = None) -> bool:
        with self._db.write() as db:
            cur = db.execute(
                "UPDATE jobs SET state = 'attested', error = ?, updated_at = ? WHERE model_id = ? "
                "AND state IN ('verified', 'invalid', 'failed')",
                (note, time.time(), model_id),
            )
            return bool(cur.rowcount)

    def mark_failed(self, model_id: str, error: str) -> bool:
        with self._db.write() as db:
            cur = db.execute(
                "UPDATE jobs SET state = 'failed', error = ?, updated_at = ? WHERE model_id = ? AND state IN ('verified', 'invalid')",
                (error, time.time(), model_id),
            )
            return bool(cur.rowcount)

    def failed_attestations(self, limit: int = 100) -> tuple[Job, ...]:
        """Failed jobs whose attestation did not land (they hold a verdict) and are due a retry."""
        rows = self._db.query(
            f"SELECT {_COLUMNS} FROM jobs WHERE state = 'failed' AND intent_key IS NOT NULL AND not_before <= ? "
            "ORDER BY block_number, created_at LIMIT ?",
            (time.time(), limit),
        )
        return tuple(_job(r) for r in rows)

    def retry_attestation(self, model_id: str, delay_s: float) -> bool:
        """A failed attestation is being sent again: back to its verdict's state; if it fails again,
        the next retry is due after `delay_s`."""
        with self._db.write() as db:
            cur = db.execute(
                "UPDATE jobs SET state = CASE WHEN verdict = 'valid' THEN 'verified' ELSE 'invalid' END, attempts = attempts + 1, "
                "not_before = ?, error = NULL, updated_at = ? WHERE model_id = ? AND state = 'failed' AND intent_key IS NOT NULL",
                (time.time() + delay_s, time.time(), model_id),
            )
            return bool(cur.rowcount)

    def postpone(self, model_id: str, delay_s: float) -> None:
        with self._db.write() as db:
            db.execute("UPDATE jobs SET not_before = ? WHERE model_id = ?", (time.time() + delay_s, model_id))

    def requeue(self, model_id: str) -> Job:
        """The operator's retry of a job given up (`unavailable`) or `failed`: back to the queue with
        a fresh attempt count and fetch budget, or, when its attestation failed, due for the
        service's retry of that attestation now. `RequeueError` names why any other job is not."""
        model_id = model_id.lower()
        with self._db.write() as db:
            rows = db.query("SELECT state, intent_key FROM jobs WHERE model_id = ?", (model_id,))
            if not rows:
                raise RequeueError(
                    f"no job for model {model_id} in {self.path}: the service adds it once it has seen the registration "
                    "(check the model id and --db)"
                )
            state, intent_key = rows[0]
            if state == JobState.FAILED.value and intent_key is not None:
                db.execute("UPDATE jobs SET not_before = 0, updated_at = ? WHERE model_id = ?", (time.time(), model_id))
            elif state in (JobState.FAILED.value, JobState.UNAVAILABLE.value):
                db.execute(
                    "UPDATE jobs SET state = 'queued', attempts = 0, fetch_seconds = 0, not_before = 0, verdict = NULL, reason = NULL, "
                    "lease_owner = NULL, lease_expires = NULL, error = 'requeued by the operator', updated_at = ? WHERE model_id = ?",
                    (time.time(), model_id),
                )
            else:
                raise RequeueError(f"the job of model {model_id} is {state}, not requeued: {_NOT_REQUEUED[state]}")
        job = self.get(model_id)
        assert job is not None
        return job

    def mark_gone(self, model_id: str, reason: str) -> bool:
        """The model is not on the canonical chain any more (a reorg deeper than the confirmations)."""
        with self._db.write() as db:
            cur = db.execute(
                "UPDATE jobs SET state = 'gone', error = ?, lease_owner = NULL, lease_expires = NULL, "
                "updated_at = ? WHERE model_id = ? AND state IN ('queued', 'leased')",
                (reason, time.time(), model_id),
            )
            return bool(cur.rowcount)

    def set_chain_status(self, model_id: str, status: dict[str, Any]) -> None:
        with self._db.write() as db:
            db.execute("UPDATE jobs SET chain_status = ? WHERE model_id = ?", (json.dumps(status, sort_keys=True), model_id))


def _job(row: tuple) -> Job:
    names = [c.strip() for c in _COLUMNS.split(",")]
    data = dict(zip(names, row))
    for key in _JSON:
        data[key] = json.loads(data[key]) if data[key] is not None else None
    data["state"] = JobState(data["state"])
    return Job(**data)
