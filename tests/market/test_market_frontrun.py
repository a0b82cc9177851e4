"""A copy taken from the mempool and sent with a higher tip lands first, in the same block as the
owner's registration, on a real node (anvil orders a block by tip): it leads the registry's
indexes, yet the proof is bound to its owner, so an honest verifier attests the copy invalid and
only the owner's registration becomes Verified; the buyer's tools name the copy."""

from __future__ import annotations

from eth_utils import keccak

from zkdl.chain.register import request_for_bundle
from zkdl.chain.structs import AttestationRequest, IndexKind, Status, Verdict
from zkdl.market import check_weights, provenance
from zkdl.service.report import check_bundle
from zkdl.store import LocalStore

GWEI = 10**9


def test_a_front_run_copy_in_the_same_block_is_never_verified(anvil_env, proved, tmp_path):
    env, w3 = anvil_env, anvil_env.w3
    request = request_for_bundle(proved.bundle, LocalStore(tmp_path / "store"))
    fee = env.client.registration_fee()

    def registration(account, tip: int) -> bytes:
        fn = env.client.contract.functions.registerModel(request.as_tuple())
        base = w3.eth.get_block("latest")["baseFeePerGas"]
        fields = {"from": account.address, "value": fee, "gas": 600_000, "maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * base + tip}
        tx = fn.build_transaction({**fields, "nonce": w3.eth.get_transaction_count(account.address, "pending")})
        return w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)

    w3.provider.make_request("evm_setAutomine", [False])
    try:
        owners = registration(env.owner, 1 * GWEI)
        copiers = registration(env.other_owner, 50 * GWEI)  # the same request, seen in the mempool, a higher tip
        w3.provider.make_request("evm_mine", [])
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    mine, copy = (w3.eth.wait_for_transaction_receipt(h, timeout=30) for h in (owners, copiers))
    assert mine["status"] == copy["status"] == 1 and mine["blockNumber"] == copy["blockNumber"]
    assert copy["transactionIndex"] < mine["transactionIndex"]  # the copy leads the block

    earliest, total = env.client.first_model_by(IndexKind.PROOF, request.proof_digest)
    ids = list(env.client.iter_model_ids_by(IndexKind.PROOF, request.proof_digest))
    assert total == 2 and env.client.get_model(earliest).owner == env.other_owner.address
    for model_id in ids:  # what an honest verifier service attests for each registration
        model = env.client.get_model(model_id)
        outcome = check_bundle(model, proved.bundle)
        expected = ("valid", "ok") if model.owner == env.owner.address else ("invalid", "copy")
        assert (outcome.verdict, outcome.code) == expected, outcome
        verdict = Verdict.VALID if outcome.verdict == "valid" else Verdict.INVALID
        env.client_as(env.verifier).attest(AttestationRequest(model_id, verdict, keccak(text=outcome.code)))
    original = next(i for i in ids if i != earliest)
    assert env.client.get_status(original).status is Status.VERIFIED
    assert env.client.get_status(earliest).status is not Status.VERIFIED
    shown = provenance(env.client, earliest, store=LocalStore(tmp_path / "store"))
    assert any("a copy" in m for m in shown.mismatches) and "WARNING" in shown.describe()
    assert check_weights(env.client, original, proved.weights, proved.opening_path, store=LocalStore(tmp_path / "store")).ok
