"""The relayer's durable outbox: one *intent* per idempotency key, and every signed transaction.

An intent is something the relayer must get on chain exactly once (a registration, or a verifier's
attestation). It moves through

    pending -> signed -> sent -> mined -> confirmed | failed

and can move back: mined -> sent after a reorg, sent -> pending when its nonce was taken by another
transaction. Every signed transaction (the first one and each fee-bumped replacement, all with the
intent's nonce) is stored *before* it is broadcast, so a crash can never leave a transaction on the
network that the outbox does not know.

`Outbox` is the backend-neutral interface the relayer uses; `SqlOutbox` implements it on SQLite (one
file, the default) or PostgreSQL (several hosts sharing a key), one transaction per state change
(`zkdl.db`). Nonce allocation runs under a lock per (chain, sender): SQLite's write transaction
locks the whole file, PostgreSQL takes a transaction-scoped advisory lock on the sender, so
processes sharing one outbox never hand out a nonce twice. See docs/relayer.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from ..db import Database, Schema
from ..errors import EXIT_UNUSABLE, ZkdlError

SCHEMA_VERSION = 2  # 2: the chains table (each chain id's block 0)


class OutboxError(ZkdlError, OSError):
    """The outbox database cannot be opened or has an incompatible schema."""

    code = "outbox"
    exit_code = EXIT_UNUSABLE


class IntentKind(str, Enum):
    REGISTER = "register"  # registerModel, sent by the relayer's key as owner
    REGISTER_BY_SIG = "register_by_sig"  # registerModelBySig, the owner signed (EIP-712)
    ATTEST_BY_SIG = "attest_by_sig"  # attestBySig, a verifier signed (EIP-712)


class IntentState(str, Enum):
    PENDING = "pending"
    SIGNED = "signed"
    SENT = "sent"
    MINED = "mined"
    CONFIRMED = "confirmed"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in (IntentState.CONFIRMED, IntentState.FAILED)


ACTIVE_STATES = (IntentState.PENDING, IntentState.SIGNED, IntentState.SENT, IntentState.MINED)

# How a confirmed intent got done: our transaction was included, or the chain already had it.
OUTCOME_INCLUDED = "included"
OUTCOME_EXISTING = "existing"


@dataclass(frozen=True)
class Intent:
    id: int
    key: str
    kind: IntentKind
    chain_id: int
    registry: str
    sender: str
    model_id: bytes
    payload: dict[str, Any]
    state: IntentState
    nonce: int | None
    tx_hash: bytes | None  # the mined transaction (one of the intent's versions)
    block_number: int | None
    block_hash: bytes | None
    receipt_status: int | None
    outcome: str | None
    error: str | None  # the failure reason, or the last transient problem
    reorgs: int
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class SignedTx:
    """One signed version of an intent's transaction (replacements share the nonce)."""

    tx_hash: bytes
    nonce: int
    gas: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    raw: bytes
    created_at: float = 0.0
    broadcast_at: float | None = None  # first accepted broadcast; None: never accepted yet


class Outbox(Protocol):
    """What the relayer needs from durable storage. Every method is one atomic transaction."""

    path: str  # where it is, for messages (a URL without its password)

    def enqueue(
        self, *, key: str, kind: IntentKind, chain_id: int, registry: str, sender: str, model_id: bytes, payload: dict[str, Any]
    ) -> Intent: ...

    def get(self, intent_id: int) -> Intent: ...

    def by_key(self, key: str) -> Intent | None: ...

    def intents(
        self,
        *,
        chain_id: int | None = None,
        registry: str | None = None,
        sender: str | None = None,
        states: Sequence[IntentState] | None = None,
    ) -> list[Intent]: ...

    def counts(self, *, chain_id: int, registry: str, sender: str) -> dict[IntentState, int]: ...

    def txs(self, intent_id: int) -> list[SignedTx]: ...

    def assign_nonce_and_sign(self, intent_id: int, chain_nonce: int, sign: Callable[[int], SignedTx]) -> Intent | None: ...

    def add_replacement(self, intent_id: int, tx: SignedTx) -> None: ...

    def mark_broadcast(self, intent_id: int, tx_hash: bytes) -> None: ...

    def mark_mined(self, intent_id: int, tx_hash: bytes, block_number: int, block_hash: bytes, status: int) -> Intent: ...

    def mark_unmined(self, intent_id: int) -> None: ...

    def release_nonce(self, intent_id: int, reason: str) -> None: ...

    def finish(self, intent_id: int, state: IntentState, *, outcome: str | None = None, error: str | None = None) -> Intent: ...

    def note_error(self, intent_id: int, error: str) -> None: ...

    def rearm(self, intent_id: int, payload: dict[str, Any]) -> bool: ...

    def max_nonce(self, chain_id: int, sender: str) -> int | None: ...

    def genesis_of(self, chain_id: int, genesis: bytes) -> bytes: ...

    def close(self) -> None: ...


# The hash of block 0 of the chain each chain id named when this outbox first used it: nonces and
# transactions are only meaningful on that chain (a development node restarted keeps its id).
_CHAINS_DDL = "CREATE TABLE IF NOT EXISTS chains (chain_id INTEGER PRIMARY KEY, genesis BLOB NOT NULL);\n"

_DDL = (
    """
CREATE TABLE IF NOT EXISTS intents (
    id             INTEGER PRIMARY KEY,
    key            TEXT NOT NULL UNIQUE,
    kind           TEXT NOT NULL,
    chain_id       INTEGER NOT NULL,
    registry       TEXT NOT NULL,
    sender         TEXT NOT NULL,
    model_id       BLOB NOT NULL,
    payload        TEXT NOT NULL,
    state          TEXT NOT NULL,
    nonce          INTEGER,
    tx_hash        BLOB,
    block_number   INTEGER,
    block_hash     BLOB,
    receipt_status INTEGER,
    outcome        TEXT,
    error          TEXT,
    reorgs         INTEGER NOT NULL DEFAULT 0,
    created_at     REAL NOT NULL,
    updated_at     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS intents_active ON intents (chain_id, sender, state);
CREATE TABLE IF NOT EXISTS txs (
    tx_hash      BLOB PRIMARY KEY,
    intent_id    INTEGER NOT NULL REFERENCES intents (id),
    chain_id     INTEGER NOT NULL,
    sender       TEXT NOT NULL,
    nonce        INTEGER NOT NULL,
    gas          INTEGER NOT NULL,
    max_fee      TEXT NOT NULL,
    priority_fee TEXT NOT NULL,
    raw          BLOB NOT NULL,
    created_at   REAL NOT NULL,
    broadcast_at REAL
);
CREATE INDEX IF NOT EXISTS txs_intent ON txs (intent_id);
CREATE INDEX IF NOT EXISTS txs_sender_nonce ON txs (chain_id, sender, nonce);
"""
    + _CHAINS_DDL
)


_SCHEMA = Schema("relayer outbox", _DDL, SCHEMA_VERSION, "zkdl_outbox", OutboxError, upgrades=(_CHAINS_DDL,))


class SqlOutbox:
    """The outbox in a SQLite file or a PostgreSQL database (`location`: a path or URL, see
    `zkdl.db`). One connection, shared safely by the threads of a process."""

    def __init__(self, location: str | Path, *, busy_timeout_s: float = 30.0) -> None:
        self._db = Database(location, _SCHEMA, busy_timeout_s=busy_timeout_s)
        self.location = location
        self.path = self._db.label  # where it is, for messages (a URL without its password)

    def close(self) -> None:
        self._db.close()

    # -- reads -------------------------------------------------------------------------------------

    def get(self, intent_id: int) -> Intent:
        rows = self._db.query(f"SELECT {_INTENT_COLUMNS} FROM intents WHERE id = ?", (intent_id,))
        if not rows:
            raise KeyError(f"no intent {intent_id} in outbox {self.path}")
        return _intent(rows[0])

    def by_key(self, key: str) -> Intent | None:
        rows = self._db.query(f"SELECT {_INTENT_COLUMNS} FROM intents WHERE key = ?", (key,))
        return _intent(rows[0]) if rows else None

    def intents(
        self,
        *,
        chain_id: int | None = None,
        registry: str | None = None,
        sender: str | None = None,
        states: Sequence[IntentState] | None = None,
    ) -> list[Intent]:
        where, args = [], []
        for column, value in (("chain_id", chain_id), ("registry", registry), ("sender", sender)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if states is not None:
            where.append(f"state IN ({','.join('?' * len(states))})")
            args.extend(s.value for s in states)
        sql = f"SELECT {_INTENT_COLUMNS} FROM intents"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [_intent(r) for r in self._db.query(sql + " ORDER BY id", args)]

    def counts(self, *, chain_id: int, registry: str, sender: str) -> dict[IntentState, int]:
        rows = self._db.query(
            "SELECT state, COUNT(*) FROM intents WHERE chain_id = ? AND registry = ? AND sender = ? GROUP BY state",
            (chain_id, registry, sender),
        )
        return {IntentState(state): n for state, n in rows}

    def txs(self, intent_id: int) -> list[SignedTx]:
        rows = self._db.query(
            "SELECT tx_hash, nonce, gas, max_fee, priority_fee, raw, created_at, broadcast_at FROM txs WHERE intent_id = ? ORDER BY rowid",
            (intent_id,),
        )  # insertion order
        return [SignedTx(bytes(h), n, g, int(mf), int(pf), bytes(raw), c, b) for h, n, g, mf, pf, raw, c, b in rows]

    def max_nonce(self, chain_id: int, sender: str) -> int | None:
        return self._db.query("SELECT MAX(nonce) FROM txs WHERE chain_id = ? AND sender = ?", (chain_id, sender))[0][0]

    def genesis_of(self, chain_id: int, genesis: bytes) -> bytes:
        """The block-0 hash this outbox holds for `chain_id`: the first caller's `genesis`, recorded now if none was."""
        with self._db.write() as db:
            db.execute("INSERT INTO chains (chain_id, genesis) VALUES (?, ?) ON CONFLICT (chain_id) DO NOTHING", (chain_id, bytes(genesis)))
        return bytes(self._db.query("SELECT genesis FROM chains WHERE chain_id = ?", (chain_id,))[0][0])

    # -- state changes (one transaction each) ------------------------------------------------------

    def enqueue(
        self, *, key: str, kind: IntentKind, chain_id: int, registry: str, sender: str, model_id: bytes, payload: dict[str, Any]
    ) -> Intent:
        """Add an intent, or return the existing one with this key (the first payload wins)."""
        now = time.time()
        with self._db.write() as db:
            db.execute(
                "INSERT INTO intents (key, kind, chain_id, registry, sender, model_id, payload, state, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (key) DO NOTHING",
                (key, kind.value, chain_id, registry, sender, bytes(model_id), json.dumps(payload, sort_keys=True), now, now),
            )
        intent = self.by_key(key)
        assert intent is not None  # inserted or already there, and intents are never deleted
        return intent

    def assign_nonce_and_sign(self, intent_id: int, chain_nonce: int, sign: Callable[[int], SignedTx]) -> Intent | None:
        """Pick the sender's next nonce, sign with it and store the signed tx, atomically.

        The nonce is max(highest nonce this outbox ever used for the sender + 1, `chain_nonce`), so it
        never reuses one of our own (even if the node forgot it) and skips what others used. Returns
        None if the intent is no longer pending (another process signed it first).
        """
        with self._db.write() as db:
            intent = self.get(intent_id)
            db.lock(f"nonce:{intent.chain_id}:{intent.sender}")
            intent = self.get(intent_id)  # as left by whoever held the lock before us
            if intent.state is not IntentState.PENDING:
                return None
            ours = self.max_nonce(intent.chain_id, intent.sender)
            nonce = max(chain_nonce, -1 if ours is None else ours + 1)
            tx = sign(nonce)
            self._insert_tx(db, intent, tx)
            db.execute(
                "UPDATE intents SET state = 'signed', nonce = ?, error = NULL, updated_at = ? WHERE id = ?", (nonce, time.time(), intent_id)
            )
        return self.get(intent_id)

    def add_replacement(self, intent_id: int, tx: SignedTx) -> None:
        """Store a fee-bumped version (same nonce) before it is broadcast."""
        with self._db.write() as db:
            intent = self.get(intent_id)
            if tx.nonce != intent.nonce:
                raise ValueError(f"replacement nonce {tx.nonce} differs from intent {intent_id}'s nonce {intent.nonce}")
            self._insert_tx(db, intent, tx)

    def _insert_tx(self, db: Database, intent: Intent, tx: SignedTx) -> None:
        db.execute(
            "INSERT INTO txs (tx_hash, intent_id, chain_id, sender, nonce, gas, max_fee, priority_fee, raw, "
            "created_at) "
            # Signing is deterministic: two processes that sign the same replacement store one row.
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tx_hash) DO NOTHING",
            (
                tx.tx_hash,
                intent.id,
                intent.chain_id,
                intent.sender,
                tx.nonce,
                tx.gas,
                str(tx.max_fee_per_gas),
                str(tx.max_priority_fee_per_gas),
                tx.raw,
                time.time(),
            ),
        )

    def mark_broadcast(self, intent_id: int, tx_hash: bytes) -> None:
        """The node accepted (or already had) this version: signed -> sent."""
        now = time.time()
        with self._db.write() as db:
            db.execute("UPDATE txs SET broadcast_at = COALESCE(broadcast_at, ?) WHERE tx_hash = ?", (now, tx_hash))
            db.execute(
                "UPDATE intents SET state = 'sent', error = NULL, updated_at = ? WHERE id = ? AND state = 'signed'", (now, intent_id)
            )

    def mark_mined(self, intent_id: int, tx_hash: bytes, block_number: int, block_hash: bytes, status: int) -> Intent:
        """A version has a receipt: first time, or in another block after a reorg (counted)."""
        with self._db.write() as db:
            db.execute(
                "UPDATE intents SET "
                "reorgs = reorgs + CASE WHEN state = 'mined' AND block_hash <> ? THEN 1 ELSE 0 END, "
                "state = 'mined', tx_hash = ?, block_number = ?, block_hash = ?, receipt_status = ?, "
                "error = NULL, updated_at = ? WHERE id = ? AND state IN ('signed', 'sent', 'mined')",
                (block_hash, tx_hash, block_number, block_hash, status, time.time(), intent_id),
            )
        return self.get(intent_id)

    def mark_unmined(self, intent_id: int) -> None:
        """A reorg removed the mined transaction: back to sent (it gets re-broadcast)."""
        with self._db.write() as db:
            db.execute(
                "UPDATE intents SET state = 'sent', tx_hash = NULL, block_number = NULL, block_hash = NULL, "
                "receipt_status = NULL, reorgs = reorgs + 1, updated_at = ? WHERE id = ? AND state = 'mined'",
                (time.time(), intent_id),
            )

    def release_nonce(self, intent_id: int, reason: str) -> None:
        """Another transaction took this intent's nonce: back to pending, to be re-checked and re-signed.
        The old versions stay in `txs` (their nonce is used, so max_nonce still moves past it)."""
        with self._db.write() as db:
            db.execute(
                "UPDATE intents SET state = 'pending', nonce = NULL, tx_hash = NULL, block_number = NULL, "
                "block_hash = NULL, receipt_status = NULL, error = ?, updated_at = ? "
                "WHERE id = ? AND state IN ('signed', 'sent', 'mined')",
                (reason, time.time(), intent_id),
            )

    def finish(self, intent_id: int, state: IntentState, *, outcome: str | None = None, error: str | None = None) -> Intent:
        if not state.terminal:
            raise ValueError(f"finish() takes a terminal state, not {state.value}")
        with self._db.write() as db:
            db.execute(
                "UPDATE intents SET state = ?, outcome = ?, error = ?, updated_at = ? "
                "WHERE id = ? AND state NOT IN ('confirmed', 'failed')",
                (state.value, outcome, error, time.time(), intent_id),
            )
        return self.get(intent_id)

    def rearm(self, intent_id: int, payload: dict[str, Any]) -> bool:
        """A failed intent that never signed a transaction (refused at the estimate) goes back to
        pending with a new payload (a signature made again); False for any other intent."""
        with self._db.write() as db:
            cur = db.execute(
                "UPDATE intents SET state = 'pending', payload = ?, outcome = NULL, error = NULL, updated_at = ? "
                "WHERE id = ? AND state = 'failed' AND nonce IS NULL",
                (json.dumps(payload, sort_keys=True), time.time(), intent_id),
            )
            return bool(cur.rowcount)

    def note_error(self, intent_id: int, error: str) -> None:
        """Record a transient problem (the intent stays where it is and is retried)."""
        with self._db.write() as db:
            db.execute("UPDATE intents SET error = ?, updated_at = ? WHERE id = ?", (error, time.time(), intent_id))


_INTENT_COLUMNS = (
    "id, key, kind, chain_id, registry, sender, model_id, payload, state, nonce, tx_hash, block_number, "
    "block_hash, receipt_status, outcome, error, reorgs, created_at, updated_at"
)


def _intent(row: tuple) -> Intent:
    (
        id_,
        key,
        kind,
        chain_id,
        registry,
        sender,
        model_id,
        payload,
        state,
        nonce,
        tx_hash,
        block_number,
        block_hash,
        status,
        outcome,
        error,
        reorgs,
        created,
        updated,
    ) = row
    return Intent(
        id_,
        key,
        IntentKind(kind),
        chain_id,
        registry,
        sender,
        bytes(model_id),
        json.loads(payload),
        IntentState(state),
        nonce,
        None if tx_hash is None else bytes(tx_hash),
        block_number,
        None if block_hash is None else bytes(block_hash),
        status,
        outcome,
        error,
        reorgs,
        created,
        updated,
    )
