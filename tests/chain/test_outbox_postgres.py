"""The PostgreSQL outbox where it differs from SQLite: a connection lost in the middle of a
transaction, and the errors of opening one. (Every outbox and relayer test of test_relayer.py and
test_relayer_faults.py also runs on PostgreSQL.)"""

from __future__ import annotations

import pytest
from eth_utils import keccak

from tests.localnode import free_port
from tests.pgserver import PASSWORD, PASSWORD_USER
from zkdl.chain.outbox import IntentKind, IntentState, OutboxError, SignedTx, SqlOutbox


def enqueue(box: SqlOutbox, key: str):
    return box.enqueue(
        key=key, kind=IntentKind.REGISTER, chain_id=1, registry="0xR", sender="0xS", model_id=keccak(text=key), payload={"key": key}
    )


def tx(nonce: int) -> SignedTx:
    return SignedTx(keccak(nonce.to_bytes(8, "big")), nonce, 21_000, 2, 1, b"raw")


def test_a_connection_lost_mid_transaction_loses_nothing_already_accepted(pg_server, pg_url):
    box = SqlOutbox(pg_url)
    first, second = enqueue(box, "first"), enqueue(box, "second")
    box.assign_nonce_and_sign(first.id, 0, tx)

    def sign_while_the_connection_drops(nonce: int) -> SignedTx:
        assert pg_server.drop_connections(pg_url.rsplit("/", 1)[1]) == 1
        return tx(nonce)

    with pytest.raises(OutboxError, match="relayer outbox .* failed: .*terminating connection"):
        box.assign_nonce_and_sign(second.id, 0, sign_while_the_connection_drops)
    seen = SqlOutbox(pg_url)  # as another process sees it
    assert [(i.key, i.state, i.nonce) for i in seen.intents()] == [("first", IntentState.SIGNED, 0), ("second", IntentState.PENDING, None)]
    assert seen.txs(first.id) == box.txs(first.id) and len(seen.txs(first.id)) == 1
    assert seen.txs(second.id) == [] and seen.max_nonce(1, "0xS") == 0  # the lost nonce was not spent
    assert box.assign_nonce_and_sign(second.id, 0, tx).nonce == 1  # the same object reconnected
    assert seen.get(second.id).state is IntentState.SIGNED
    seen.close()
    box.close()


def test_opening_errors_name_the_database_and_never_the_password(pg_server, pg_url):
    dbname = pg_url.rsplit("/", 1)[1]
    pg_server.sql(dbname, f"GRANT ALL ON DATABASE {dbname} TO {PASSWORD_USER}")
    box = SqlOutbox(pg_server.url(dbname, PASSWORD_USER, PASSWORD))
    assert PASSWORD not in box.path and f"{PASSWORD_USER}:***@" in box.path
    box.close()
    wrong = pg_server.url(dbname, PASSWORD_USER, "wrong-secret")
    with pytest.raises(OutboxError, match="password authentication failed") as err:
        SqlOutbox(wrong)
    assert "wrong-secret" not in err.value.user_message
    unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/{dbname}"
    with pytest.raises(OutboxError, match=f"cannot open the relayer outbox {unreachable}: .*refused.*; check that the server is running"):
        SqlOutbox(unreachable)
    with pytest.raises(OutboxError, match='database "missing" does not exist'):
        SqlOutbox(pg_server.url("missing"))
    with pytest.raises(OutboxError, match="bad PostgreSQL URL .*; the form is postgresql://"):
        SqlOutbox("postgresql://a b@127.0.0.1/x")
    with pytest.raises(OutboxError, match=r"mysql://u:\*\*\*@h/db is not a database location"):
        SqlOutbox("mysql://u:secret@h/db")
