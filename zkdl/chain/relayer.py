"""The relayer: gets registrations and verifiers' attestations on chain exactly once, crash or not.

Callers *enqueue* intents into the durable outbox (`zkdl.chain.outbox`); `process_once()` moves every
intent of this relayer (chain, registry, sending key) one step further:

* pending: if the chain already has it (the model exists / the verifier already attested) it is
  confirmed as existing, nothing is sent; else the gas is estimated (a revert here is a terminal
  `failed` with the decoded reason), a nonce is allocated and the transaction is signed and stored,
  all in one outbox transaction, *before* anything is broadcast;
* signed / sent: receipts of every stored version are looked up; an unbroadcast or forgotten
  (dropped, reorged out, node restarted) version is broadcast again, byte for byte the same; one
  pending longer than `stuck_after_s` is replaced by a version with the same nonce and both fee
  fields bumped; a nonce that another transaction took sends the intent back to pending;
* mined: the receipt is re-read each pass until its block is `confirmations` deep in the
  canonical chain (its own block counted); a vanished receipt (reorg) sends it back to sent, a
  receipt in another block is followed.

Nothing is kept only in memory, so killing the process at any point and starting it again neither
loses nor duplicates anything. See docs/relayer.md.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_account.types import TransactionDictType
from eth_typing import ChecksumAddress, Hash32
from eth_utils import decode_hex, encode_hex, to_checksum_address
from eth_utils.exceptions import ValidationError as EthValidationError
from web3 import Web3
from web3.exceptions import (
    ProviderConnectionError,
    RequestTimedOut,
    TooManyRequests,
    TransactionNotFound,
    Web3Exception,
)
from web3.types import TxParams, Wei

from ..backoff import backoff_delay
from ..errors import ZkdlError
from ..store import BundleStore
from .client import RegistryClient, model_id_for
from .eip712 import SignedAttestation, SignedRegistration
from .errors import AlreadyAttestedError, ModelAlreadyRegisteredError, RegistryError, TransactionRevertedError
from .outbox import (
    ACTIVE_STATES,
    OUTCOME_EXISTING,
    OUTCOME_INCLUDED,
    Intent,
    IntentKind,
    IntentState,
    Outbox,
    SignedTx,
)
from .structs import AttestationRequest, RegistrationRequest, Verdict

log = logging.getLogger("zkdl.relayer")

# The node cannot be reached right now: the pass stops and is retried with backoff, nothing changes.
# (requests' ConnectionError and Timeout are OSErrors.)
RPC_UNAVAILABLE: tuple[type[BaseException], ...] = (OSError, ProviderConnectionError, RequestTimedOut, TooManyRequests)
# The node answered but refused (underpriced, insufficient funds, nonce too low, ...): noted, retried.
_NODE_REFUSALS = (Web3Exception, ValueError, EthValidationError)
# Reverts that mean "this was already done": the intent is satisfied, not failed.
_ALREADY_DONE = (ModelAlreadyRegisteredError, AlreadyAttestedError)
MIN_FEE_BUMP = Fraction(9, 8)  # 12.5 %: above geth's 10 % replacement rule, as the issue requires


class RelayerError(ZkdlError, ValueError):
    """The relayer was configured or called wrongly."""

    code = "relayer"


@dataclass(frozen=True)
class PassReport:
    """After one pass: how many of this relayer's intents are in each state, and whether the node was down."""

    counts: dict[str, int] = field(default_factory=dict)
    rpc_error: str | None = None

    @property
    def active(self) -> int:
        return sum(self.counts.get(s.value, 0) for s in ACTIVE_STATES)

    @property
    def idle(self) -> bool:
        """Every intent is confirmed or failed (and the node answered)."""
        return self.rpc_error is None and self.active == 0


def model_key(model_id: bytes) -> str:
    """Idempotency key of a registration (direct or by signature: one model id, one intent)."""
    return f"model:{encode_hex(model_id)}"


def attestation_key(model_id: bytes, verifier: str) -> str:
    """Idempotency key of an attestation: one per (model id, verifier), as verdicts are final."""
    return f"attestation:{encode_hex(model_id)}:{to_checksum_address(verifier)}"


def bundle_request(
    store: BundleStore,
    bundle: bytes,
    *,
    c_data_digest: bytes,
    c_w0_digest: bytes,
    c_wt_digest: bytes,
    statement_digest: bytes,
    verifier_version: bytes,
    metadata_uri: str = "",
    parent_digest: bytes = bytes(32),
) -> RegistrationRequest:
    """Store the bundle (content-addressed, so repeating this is harmless) and return the request
    that registers it: proofDigest = Keccak-256 of the bundle, bundleUri = where the store put it."""
    digest, uri = store.put(bundle)
    return RegistrationRequest(
        c_data_digest, c_w0_digest, c_wt_digest, statement_digest, digest, verifier_version, uri, metadata_uri, parent_digest
    )


class Relayer:
    """Sends this relayer's intents from `account` to `client`'s registry through `outbox`.

    `confirmations` is the depth an inclusion must reach before it is final: the number of canonical
    blocks from the transaction's block to the head, both counted (1, like 0: final once mined, for
    automining dev chains where no further block may come). `fee_bump` multiplies both EIP-1559 fee
    fields of a transaction pending longer than `stuck_after_s` (at least 1.125).
    `max_fee_cap_wei` bounds maxFeePerGas (None: no bound; set one on a real network).
    """

    def __init__(
        self,
        w3: Web3,
        client: RegistryClient,
        account: LocalAccount,
        outbox: Outbox,
        *,
        confirmations: int = 1,
        stuck_after_s: float = 60.0,
        fee_bump: float = 1.125,
        max_fee_cap_wei: int | None = None,
        gas_margin: float = 1.25,
        poll_interval_s: float = 0.5,
        max_backoff_s: float = 30.0,
    ) -> None:
        if confirmations < 0:
            raise RelayerError(f"confirmations must be 0 or more, got {confirmations}")
        if Fraction(fee_bump) < MIN_FEE_BUMP:
            raise RelayerError(f"fee_bump {fee_bump} is too small: nodes reject replacements below +10 %; use >= 1.125")
        if gas_margin < 1:
            raise RelayerError(f"gas_margin {gas_margin} would send less gas than estimated; use >= 1")
        self.w3 = w3
        self.client = client
        self.account = account
        self.outbox = outbox
        self.confirmations = confirmations
        self.stuck_after_s = stuck_after_s
        self.fee_bump = Fraction(fee_bump)
        self.max_fee_cap_wei = max_fee_cap_wei
        self.gas_margin = Fraction(gas_margin)
        self.poll_interval_s = poll_interval_s
        self.max_backoff_s = max_backoff_s
        self._chain_checked = False  # the node's block 0 matched the outbox's record (once per relayer)

    @property
    def sender(self) -> ChecksumAddress:
        return to_checksum_address(self.account.address)

    @property
    def registry(self) -> ChecksumAddress:
        return self.client.address

    # -- enqueue -------------------------------------------------------------------------------------

    def enqueue_registration(self, request: RegistrationRequest) -> Intent:
        """Register `request` with the relayer's own key as the owner (`registerModel`)."""
        model_id = model_id_for(self.client.chain_id, self.registry, self.sender, request)
        return self._enqueue(IntentKind.REGISTER, model_key(model_id), model_id, {"request": _request_json(request)})

    def enqueue_signed_registration(self, signed: SignedRegistration) -> Intent:
        """Relay an owner's EIP-712 signed registration (`registerModelBySig`); the relayer pays gas."""
        model_id = model_id_for(self.client.chain_id, self.registry, signed.owner, signed.request)
        payload = {
            "owner": to_checksum_address(signed.owner),
            "request": _request_json(signed.request),
            **_signature_json(signed.nonce, signed.deadline, signed.signature),
        }
        return self._enqueue(IntentKind.REGISTER_BY_SIG, model_key(model_id), model_id, payload)

    def enqueue_attestation(self, signed: SignedAttestation) -> Intent:
        """Relay a verifier's EIP-712 signed attestation (`attestBySig`), once per (model, verifier)."""
        att = signed.attestation
        key = attestation_key(att.model_id, signed.verifier)
        return self._enqueue(IntentKind.ATTEST_BY_SIG, key, att.model_id, _attestation_json(signed))

    def retry_attestation(self, signed: SignedAttestation) -> bool:
        """Send again an attestation whose intent failed at the estimate (the registry was paused,
        the verifier lacked its role), with `signed`, a signature made again; False if its intent
        is not such a one (absent, in flight, done, or reverted on chain)."""
        intent = self.outbox.by_key(attestation_key(signed.attestation.model_id, signed.verifier))
        return intent is not None and intent.sender == self.sender and self.outbox.rearm(intent.id, _attestation_json(signed))

    def register_bundle(self, store: BundleStore, bundle: bytes, **digests: Any) -> Intent:
        """Store `bundle` and enqueue its registration owned by the relayer's key (see `bundle_request`)."""
        return self.enqueue_registration(bundle_request(store, bundle, **digests))

    def _enqueue(self, kind: IntentKind, key: str, model_id: bytes, payload: dict[str, Any]) -> Intent:
        intent = self.outbox.enqueue(
            key=key,
            kind=kind,
            chain_id=self.client.chain_id,
            registry=self.registry,
            sender=self.sender,
            model_id=model_id,
            payload=payload,
        )
        if intent.kind is not kind or intent.sender != self.sender or intent.registry != self.registry:
            raise RelayerError(
                f"{key} is already in the outbox as a {intent.kind.value} intent from {intent.sender} "
                f"to {intent.registry} (intent {intent.id}); it is handled there"
            )
        return intent

    # -- the loop ------------------------------------------------------------------------------------

    def process_once(self) -> PassReport:
        """One pass over this relayer's unfinished intents. Never raises for an unreachable node:
        the pass stops where it is (every step already committed) and the report says why."""
        try:
            self._check_chain()
            for intent in self._mine(IntentState.PENDING):
                self._guarded(self._sign_pending, intent)
            in_flight = self._mine(IntentState.SIGNED, IntentState.SENT, IntentState.MINED)
            for intent in sorted(in_flight, key=lambda i: (i.nonce, i.id)):
                self._guarded(self._track, intent)
        except RPC_UNAVAILABLE as exc:
            log.warning("node unreachable, pass stopped (state kept, will retry): %s", exc)
            return self._report(f"{type(exc).__name__}: {exc}")
        return self._report(None)

    def run_until_idle(self, timeout_s: float) -> PassReport:
        """Pass after pass until every intent is final or `timeout_s` elapsed; the last report.
        While the node is unreachable the pause between passes doubles up to `max_backoff_s`."""
        deadline = time.monotonic() + timeout_s
        failures = 0
        while True:
            report = self.process_once()
            left = deadline - time.monotonic()
            if report.idle or left <= 0:
                return report
            failures = failures + 1 if report.rpc_error else 0
            time.sleep(min(backoff_delay(self.poll_interval_s, failures, self.max_backoff_s), left))

    def _check_chain(self) -> None:
        """The node's chain must be the one this outbox's nonces and transactions were made on: a
        development node restarted keeps its chain id, and its fresh nonces would meet ours."""
        if self._chain_checked:
            return
        genesis = bytes(self.w3.eth.get_block(0)["hash"])
        recorded = self.outbox.genesis_of(self.client.chain_id, genesis)
        if recorded != genesis:
            raise RelayerError(
                f"the outbox {self.outbox.path} holds transactions of another chain with id {self.client.chain_id} "
                f"(its block 0 is {encode_hex(recorded)}, this node's is {encode_hex(genesis)}): the node was reset, or "
                "it is another network with the same id; use a new outbox, or delete this one if that chain is gone"
            )
        self._chain_checked = True

    def _mine(self, *states: IntentState) -> list[Intent]:
        return self.outbox.intents(chain_id=self.client.chain_id, registry=self.registry, sender=self.sender, states=states)

    def _report(self, rpc_error: str | None) -> PassReport:
        counts = self.outbox.counts(chain_id=self.client.chain_id, registry=self.registry, sender=self.sender)
        return PassReport({state.value: n for state, n in counts.items()}, rpc_error)

    def _guarded(self, step: Callable[[Intent], None], intent: Intent) -> None:
        # A refusal concerns this intent only: note it and go on with the others.
        try:
            step(intent)
        except RPC_UNAVAILABLE:
            raise
        except _NODE_REFUSALS as exc:
            log.warning("intent %s (%s): node refused: %s", intent.id, intent.key, exc)
            self.outbox.note_error(intent.id, f"{type(exc).__name__}: {exc}")

    # -- pending -> signed ---------------------------------------------------------------------------

    def _sign_pending(self, intent: Intent) -> None:
        if self._already_done(intent):
            self._finish(intent, IntentState.CONFIRMED, OUTCOME_EXISTING)
            return
        data = self._call_data(intent)
        value = self._value(intent)
        try:
            gas = self.w3.eth.estimate_gas({"from": self.sender, "to": self.registry, "data": data, "value": Wei(value)})
        except Exception as exc:
            typed = self.client.typed_error(exc)
            if not isinstance(typed, RegistryError):
                raise
            self._finish_reverted(intent, typed)
            return
        gas = math.ceil(gas * self.gas_margin)
        max_fee, priority = self._market_fees()
        chain_nonce = self.w3.eth.get_transaction_count(self.sender, "pending")
        signed = self.outbox.assign_nonce_and_sign(
            intent.id, chain_nonce, lambda nonce: self._sign(data, value, gas, nonce, max_fee, priority)
        )
        if signed is not None:
            log.info("intent %s (%s): signed with nonce %s", intent.id, intent.key, signed.nonce)

    def _already_done(self, intent: Intent) -> bool:
        # Checked before every (re)signing: this is what makes a retry after "broadcast, then crash
        # before the outbox heard of it" safe, and skips work another relayer already did.
        if intent.kind is IntentKind.ATTEST_BY_SIG:
            # getAttestation reverts for an unknown model; the estimate then fails with that reason.
            return (
                self.client.model_exists(intent.model_id)
                and self.client.get_attestation(intent.model_id, intent.payload["verifier"]).verdict is not Verdict.NONE
            )
        return self.client.model_exists(intent.model_id)

    def _sign(self, data: bytes, value: int, gas: int, nonce: int, max_fee: int, priority: int) -> SignedTx:
        tx: TransactionDictType = {
            "type": 2,
            "chainId": self.client.chain_id,
            "nonce": nonce,
            "to": self.registry,
            "value": value,
            "data": data,
            "gas": gas,
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": priority,
        }
        signed = self.account.sign_transaction(tx)
        return SignedTx(bytes(signed.hash), nonce, gas, max_fee, priority, bytes(signed.raw_transaction))

    def _market_fees(self) -> tuple[int, int]:
        """EIP-1559 fees: tip = the node's suggestion, max fee = 2 x base fee + tip (survives six
        full blocks of base-fee growth), both under the configured cap."""
        priority = int(self.w3.eth.max_priority_fee)
        base = int(self.w3.eth.get_block("latest").get("baseFeePerGas", 0))
        max_fee = 2 * base + priority
        if self.max_fee_cap_wei is not None:
            max_fee = min(max_fee, self.max_fee_cap_wei)
        return max_fee, min(priority, max_fee)

    # -- signed / sent / mined -----------------------------------------------------------------------

    def _track(self, intent: Intent) -> None:
        versions = self.outbox.txs(intent.id)
        receipt = self._receipt(versions)
        if receipt is not None:
            self._follow_receipt(intent, receipt)
            return
        if intent.state is IntentState.MINED:
            log.warning("intent %s (%s): receipt vanished (reorg), sending again", intent.id, intent.key)
            self.outbox.mark_unmined(intent.id)
        assert intent.nonce is not None  # signed, sent and mined intents always hold a nonce
        next_nonce = self.w3.eth.get_transaction_count(self.sender, "latest")
        if next_nonce > intent.nonce:
            self._nonce_taken(intent, versions)
            return
        latest = versions[-1]
        # Only the next nonce to be mined can be underpriced; later ones wait for it, and bumping
        # them would only raise what they pay once they go through.
        if next_nonce == intent.nonce and self._stuck(latest) and self._pending_version(versions) is not None:
            self._replace(intent, versions)
        elif latest.broadcast_at is None or not self._known(latest.tx_hash):
            self._broadcast(intent, latest, versions)

    def _receipt(self, versions: list[SignedTx]) -> Any | None:
        for tx in reversed(versions):
            try:
                return self.w3.eth.get_transaction_receipt(Hash32(tx.tx_hash))
            except TransactionNotFound:
                continue
        return None

    def _known(self, tx_hash: bytes) -> bool:
        try:
            self.w3.eth.get_transaction(Hash32(tx_hash))
            return True
        except TransactionNotFound:
            return False

    def _pending_version(self, versions: list[SignedTx]) -> SignedTx | None:
        return next((tx for tx in reversed(versions) if self._known(tx.tx_hash)), None)

    def _stuck(self, latest: SignedTx) -> bool:
        since = latest.broadcast_at if latest.broadcast_at is not None else latest.created_at
        return time.time() - since >= self.stuck_after_s  # outbox times are wall-clock

    def _nonce_taken(self, intent: Intent, versions: list[SignedTx]) -> None:
        """The chain used this intent's nonce. If none of our versions has a receipt (looked up once
        more: one may have been mined just now), another transaction took it: sign again."""
        if self._receipt(versions) is None:
            reason = f"nonce {intent.nonce} of {self.sender} was used by another transaction"
            log.warning("intent %s (%s): %s; checking the chain and signing again", intent.id, intent.key, reason)
            self.outbox.release_nonce(intent.id, reason)

    def _broadcast(self, intent: Intent, tx: SignedTx, versions: list[SignedTx]) -> None:
        try:
            self.w3.eth.send_raw_transaction(tx.raw)
        except RPC_UNAVAILABLE:
            raise
        except _NODE_REFUSALS as exc:
            # Nodes word "already known", "nonce too low", "underpriced" differently: decide from the
            # chain instead. If a version is known the intent is in flight; otherwise retry later.
            pending = self._pending_version(versions)
            if pending is None:
                log.warning("intent %s (%s): broadcast refused: %s", intent.id, intent.key, exc)
                self.outbox.note_error(intent.id, f"broadcast of {encode_hex(tx.tx_hash)} refused: {exc}")
                return
            tx = pending
        self.outbox.mark_broadcast(intent.id, tx.tx_hash)
        log.info("intent %s (%s): broadcast 0x%s (nonce %s)", intent.id, intent.key, tx.tx_hash.hex(), tx.nonce)

    def _replace(self, intent: Intent, versions: list[SignedTx]) -> None:
        """Same nonce, both fee fields at least `fee_bump` times the highest sent so far."""
        max_fee, priority = self._market_fees()
        max_fee = max(max_fee, _scaled(max(v.max_fee_per_gas for v in versions), self.fee_bump))
        priority = max(priority, _scaled(max(v.max_priority_fee_per_gas for v in versions), self.fee_bump))
        if self.max_fee_cap_wei is not None and max_fee > self.max_fee_cap_wei:
            self.outbox.note_error(
                intent.id,
                f"stuck at the fee cap {self.max_fee_cap_wei} wei: a replacement "
                "needs more; raise max_fee_cap_wei or wait for lower base fees",
            )
            return
        latest = versions[-1]
        replacement = self._sign(self._call_data(intent), self._value(intent), latest.gas, latest.nonce, max_fee, min(priority, max_fee))
        self.outbox.add_replacement(intent.id, replacement)  # stored before it is broadcast
        log.info("intent %s (%s): replacing stuck 0x%s with fees %s/%s", intent.id, intent.key, latest.tx_hash.hex(), max_fee, priority)
        self._broadcast(intent, replacement, versions + [replacement])

    def _follow_receipt(self, intent: Intent, receipt: Any) -> None:
        block_hash = bytes(receipt["blockHash"])
        if intent.state is not IntentState.MINED or intent.block_hash != block_hash:
            if intent.state is IntentState.MINED:
                log.warning("intent %s (%s): re-mined in another block (reorg)", intent.id, intent.key)
            intent = self.outbox.mark_mined(
                intent.id, bytes(receipt["transactionHash"]), receipt["blockNumber"], block_hash, receipt["status"]
            )
        assert intent.block_number is not None
        if self.w3.eth.block_number - intent.block_number + 1 < self.confirmations:
            return
        # The receipt says which block; the canonical chain must still agree at that height.
        if bytes(self.w3.eth.get_block(intent.block_number)["hash"]) != block_hash:
            return  # a reorg is under way: the next pass sees the new receipt or none
        if intent.receipt_status == 1:
            self._finish(intent, IntentState.CONFIRMED, OUTCOME_INCLUDED)
        else:
            self._finish_reverted(intent, self._revert_reason(intent))

    def _revert_reason(self, intent: Intent) -> RegistryError:
        """Replay the mined call on the state of its block to decode why it reverted."""
        call: TxParams = {"from": self.sender, "to": self.registry, "data": self._call_data(intent), "value": Wei(self._value(intent))}
        try:
            self.w3.eth.call(call, block_identifier=intent.block_number)
        except RPC_UNAVAILABLE:
            raise
        except Exception as exc:
            typed = self.client.typed_error(exc)
            if isinstance(typed, RegistryError):
                return typed
        return TransactionRevertedError(txHash=encode_hex(intent.tx_hash or b""))

    def _finish_reverted(self, intent: Intent, error: RegistryError) -> None:
        if isinstance(error, _ALREADY_DONE):
            self._finish(intent, IntentState.CONFIRMED, OUTCOME_EXISTING)
        else:
            self._finish(intent, IntentState.FAILED, None, error.user_message)

    def _finish(self, intent: Intent, state: IntentState, outcome: str | None, error: str | None = None) -> None:
        self.outbox.finish(intent.id, state, outcome=outcome, error=error)
        log.info("intent %s (%s): %s%s", intent.id, intent.key, state.value, f" ({outcome})" if outcome else f": {error}")

    # -- calls ---------------------------------------------------------------------------------------

    def _value(self, intent: Intent) -> int:
        """A registration pays the registry's fee as it is when (re)signed; an attestation pays nothing."""
        return 0 if intent.kind is IntentKind.ATTEST_BY_SIG else self.client.registration_fee()

    def _call_data(self, intent: Intent) -> bytes:
        p = intent.payload
        contract = self.client.contract
        if intent.kind is IntentKind.REGISTER:
            encoded = contract.encode_abi("registerModel", args=[_request_from_json(p["request"]).as_tuple()])
        elif intent.kind is IntentKind.REGISTER_BY_SIG:
            encoded = contract.encode_abi(
                "registerModelBySig", args=[p["owner"], _request_from_json(p["request"]).as_tuple(), *_signature_args(p)]
            )
        else:
            a = p["attestation"]
            att = AttestationRequest(a["model_id"], Verdict(a["verdict"]), a["report_digest"])
            encoded = contract.encode_abi("attestBySig", args=[p["verifier"], att.as_tuple(), *_signature_args(p)])
        return decode_hex(encoded)


def _scaled(value: int, factor: Fraction) -> int:
    return math.ceil(value * factor)


def _request_json(request: RegistrationRequest) -> dict[str, str]:
    return {name: encode_hex(value) if isinstance(value, bytes) else value for name, value in asdict(request).items()}


def _request_from_json(data: Mapping[str, str]) -> RegistrationRequest:
    # The inverse of `_request_json`: the digests were stored 0x-hex, the URIs as they are.
    return RegistrationRequest(
        decode_hex(data["c_data_digest"]),
        decode_hex(data["c_w0_digest"]),
        decode_hex(data["c_wt_digest"]),
        decode_hex(data["statement_digest"]),
        decode_hex(data["proof_digest"]),
        decode_hex(data["verifier_version"]),
        data["bundle_uri"],
        data["metadata_uri"],
        decode_hex(data.get("parent_digest", "0x" + "00" * 32)),  # intents queued before registry v2 had none
    )


def _attestation_json(signed: SignedAttestation) -> dict[str, Any]:
    att = signed.attestation
    return {
        "verifier": to_checksum_address(signed.verifier),
        "attestation": {"model_id": encode_hex(att.model_id), "verdict": int(att.verdict), "report_digest": encode_hex(att.report_digest)},
        **_signature_json(signed.nonce, signed.deadline, signed.signature),
    }


def _signature_json(nonce: int, deadline: int, signature: bytes) -> dict[str, str]:
    # uint256 values as decimal strings: JSON numbers lose precision above 2^53 in most readers.
    return {"nonce": str(nonce), "deadline": str(deadline), "signature": encode_hex(signature)}


def _signature_args(payload: dict[str, Any]) -> list[Any]:
    return [int(payload["nonce"]), int(payload["deadline"]), decode_hex(payload["signature"])]
