"""What a bundle claims for its registration, and where a record does not match it
(zkdl.proof.registration): the one rule the relayer, the verifier service and buyers share."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

from eth_hash.auto import keccak

from zkdl.proof import registration
from zkdl.proof.bundle import Bundle
from zkdl.proof.statement import KNOWN_VERIFIER_VERSIONS, PROTOCOL_TAG, VERIFIER_VERSION


def test_the_verifier_version_is_the_keccak_of_the_protocol_tag():
    assert keccak(PROTOCOL_TAG) == VERIFIER_VERSION and KNOWN_VERIFIER_VERSIONS == {VERIFIER_VERSION: "zkdl/training/v7"}


def test_a_bundle_claims_the_digests_of_its_statement_commitments_and_bytes(tiny_proof):
    data = tiny_proof.bundle()
    claims = registration.claims_of(data)
    st = claims.statement
    assert st == Bundle.decode(data).statement and claims.bundle_bytes == len(data)
    assert claims.statement_digest == keccak(st.encode()) and claims.proof_digest == keccak(data)
    assert (claims.c_data_digest, claims.c_w0_digest, claims.c_wt_digest) == (keccak(st.c_data), keccak(st.c_w0), keccak(st.c_wt))
    shown = claims.to_json()
    assert shown["statement"] == st.to_json() and shown["messages"] == claims.messages > 0
    assert shown["commitment_digests"]["c_wt"] == "0x" + claims.c_wt_digest.hex()
    assert shown["proof_digest"] == "0x" + keccak(data).hex() and shown["bundle_bytes"] == len(data)


def test_differences_name_each_digest_that_differs_in_order(tiny_proof):
    claims = registration.claims_of(tiny_proof.bundle())
    record = {name: getattr(claims, name) for name in registration.DIGESTS}
    assert registration.differences(claims, SimpleNamespace(**record)) == []
    other = SimpleNamespace(**{**record, "c_w0_digest": b"\1" * 32, "statement_digest": b"\2" * 32})
    assert registration.differences(claims, other) == [
        registration.Difference("statement_digest", claims.statement_digest, b"\2" * 32),
        registration.Difference("c_w0_digest", claims.c_w0_digest, b"\1" * 32),
    ]


def test_the_proof_of_an_honest_bundle_holds_and_of_another_statement_does_not(tiny_proof):
    data = tiny_proof.bundle()
    assert registration.proof_rejection(registration.claims_of(data)) is None
    decoded = Bundle.decode(data)
    moved = Bundle(dataclasses.replace(decoded.statement, schedule_seed=decoded.statement.schedule_seed + 1), decoded.messages)
    assert registration.proof_rejection(registration.claims_of(moved.encode()))
