"""The seller's registration flow: a proof bundle in, a registered model id out, exactly once.

`register_bundle` decodes the bundle, stores it (content-addressed, so its URI names its digest),
builds the `RegistrationRequest` from it (statement digest, the three commitment digests, the proof
digest = Keccak-256 of the bundle bytes, the bundle URI and the verifier-version id), enqueues it in
the relayer's durable outbox, either as a direct `registerModel` from the owner's key or as an
owner-signed `registerModelBySig` that the relayer's key pays for, and runs the relayer until
nothing is left in flight.

The model id is deterministic (chain id, registry, owner, C_WT digest, proof digest), so the call is
idempotent: a second call with the same bundle and owner sends nothing and returns the same id, and
so does a call after a crash (the outbox resumes where it stopped). See docs/market.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import encode_hex, to_checksum_address

from ..errors import ZkdlError
from ..proof import registration
from ..proof.statement import KNOWN_VERIFIER_VERSIONS, VERIFIER_VERSION
from ..proof.statement import PROTOCOL_TAG as VERIFIER_VERSION_TAG
from ..store import BundleStore
from .client import RegistryClient, Sender, model_id_for
from .errors import DatasetAlreadyRegisteredError, RegistryError
from .outbox import OUTCOME_EXISTING, IntentState
from .relayer import Relayer, RelayerError, bundle_request, model_key
from .structs import Dataset, DatasetRequest, Model, RegistrationRequest

DEFAULT_SIGNATURE_TTL_S = 24 * 3600  # chain time an owner's signature stays submittable


class RegistrationError(ZkdlError, ValueError):
    """A registration could not be made: it was refused (decoded revert), or a key or input is unusable."""

    code = "registration"


class RegistrationIncompleteError(ZkdlError, OSError):
    """The registration is queued but not final yet (node unreachable, confirmations pending).
    Nothing is lost: running the same registration again resumes it."""

    code = "registration-incomplete"


class Outcome(str, Enum):
    REGISTERED = "registered"  # our transaction registered the model now
    ALREADY_REGISTERED = "already-registered"  # the chain had it (an earlier call, or another relayer)


@dataclass(frozen=True)
class RegistrationResult:
    """What `register_bundle` did: the model id, whether this call registered it, and the record."""

    model_id: bytes
    outcome: Outcome
    chain_id: int
    registry: str
    owner: str
    submitter: str  # the key that sent (or would have sent) the transaction
    by_signature: bool
    request: RegistrationRequest  # what this call asked for
    model: Model  # what the chain holds (its URIs win if an earlier call used others)
    tx_hash: bytes | None  # our mined transaction (None if nothing of ours was sent)
    block_number: int | None
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        h = encode_hex
        return {
            "model_id": h(self.model_id),
            "outcome": self.outcome.value,
            "chain_id": self.chain_id,
            "registry": self.registry,
            "owner": self.owner,
            "submitter": self.submitter,
            "by_signature": self.by_signature,
            "proof_digest": h(self.model.proof_digest),
            "statement_digest": h(self.model.statement_digest),
            "c_data_digest": h(self.model.c_data_digest),
            "c_w0_digest": h(self.model.c_w0_digest),
            "c_wt_digest": h(self.model.c_wt_digest),
            "parent_digest": h(self.model.parent_digest),
            "verifier_version": h(self.model.verifier_version),
            "bundle_uri": self.model.bundle_uri,
            "metadata_uri": self.model.metadata_uri,
            "registered_at": self.model.registered_at,
            "tx_hash": None if self.tx_hash is None else h(self.tx_hash),
            "block_number": self.block_number,
            "warnings": list(self.warnings),
        }


def request_for_bundle(
    bundle: bytes,
    store: BundleStore,
    *,
    metadata_uri: str = "",
    verifier_version: bytes = VERIFIER_VERSION,
    claims: registration.BundleClaims | None = None,
) -> RegistrationRequest:
    """Decode `bundle` (`BundleFormatError` if it is not one) unless its `claims` are given, store
    it, and build its registration."""
    claims = claims if claims is not None else registration.claims_of(bundle)
    return bundle_request(
        store,
        bundle,
        c_data_digest=claims.c_data_digest,
        c_w0_digest=claims.c_w0_digest,
        c_wt_digest=claims.c_wt_digest,
        statement_digest=claims.statement_digest,
        verifier_version=verifier_version,
        metadata_uri=metadata_uri,
        parent_digest=claims.statement.parent,
    )


def register_bundle(
    bundle: bytes,
    *,
    client: RegistryClient,
    relayer: Relayer,
    store: BundleStore,
    owner_account: LocalAccount,
    by_signature: bool,
    metadata_uri: str = "",
    verifier_version: bytes = VERIFIER_VERSION,
    timeout_s: float = 600.0,
    signature_ttl_s: int = DEFAULT_SIGNATURE_TTL_S,
) -> RegistrationResult:
    """Store `bundle` and register it on `client`'s registry, owned by `owner_account`; idempotent.

    Direct (`by_signature=False`): the owner sends `registerModel`, so `relayer` must run on the
    owner's key. By signature: the owner signs the EIP-712 registration (valid `signature_ttl_s` of
    chain time) and `relayer`, on its own key, sends `registerModelBySig` and pays the gas.

    Returns once the registration is final (confirmed to the relayer's depth). Raises
    `RegistrationError` when the registry refuses it (the decoded revert), `BundleFormatError` for a
    malformed bundle, `RegistrationIncompleteError` when it is not final within `timeout_s` (the
    node is down, or confirmations are still coming): calling again with the same arguments resumes.
    """
    owner = to_checksum_address(owner_account.address)
    if relayer.client.address != client.address:
        raise RegistrationError(f"the relayer sends to registry {relayer.client.address}, not {client.address}")
    if not by_signature and relayer.sender != owner:
        raise RegistrationError(
            f"a direct registration is sent by its owner {owner}, but the relayer's key is "
            f"{relayer.sender}: run the relayer on the owner's key, or register by signature"
        )
    claims = registration.claims_of(bundle)
    copy = registration.copy_of(claims.statement, owner)
    if copy is not None:  # the registry would hold a record no honest verifier attests valid
        raise RegistrationError(f"{copy}: register it with that owner's key, or prove the run again with --owner {owner}")
    request = request_for_bundle(bundle, store, metadata_uri=metadata_uri, verifier_version=verifier_version, claims=claims)
    chain_id = client.chain_id
    model_id = model_id_for(chain_id, client.address, owner, request)
    key = model_key(model_id)

    before = relayer.outbox.by_key(key)
    if before is None and client.model_exists(model_id):
        # Already on chain (an earlier call with another outbox, or another relayer): nothing to send.
        return _result(client, model_id, Outcome.ALREADY_REGISTERED, owner, relayer, by_signature, request, None)
    if before is not None and before.state is IntentState.FAILED:
        raise _failed(model_id, before.error, key, relayer)
    if before is not None and not before.state.terminal and before.sender != relayer.sender:
        # A relayer only moves its own sender's intents: this one would wait forever.
        raise RegistrationError(
            f"model {encode_hex(model_id)} is already queued in this outbox to be sent by {before.sender} "
            f"({before.kind.value}); finish it with the same keys as before (with or without the relayer key)"
        )
    if before is None or not before.state.terminal:
        _check_funds(client, relayer.sender)
    if before is None:
        try:
            if by_signature:
                signed = client.sign_registration(owner_account, request, deadline=client.deadline_in(signature_ttl_s))
                relayer.enqueue_signed_registration(signed)
            else:
                relayer.enqueue_registration(request)
        except RelayerError as exc:
            raise RegistrationError(exc.user_message) from None

    report = relayer.run_until_idle(timeout_s)
    intent = relayer.outbox.by_key(key)
    assert intent is not None  # enqueued above or earlier; intents are never deleted
    if intent.state is IntentState.FAILED:
        raise _failed(model_id, intent.error, key, relayer)
    if intent.state is not IntentState.CONFIRMED:
        why = (
            f"the node is unreachable ({report.rpc_error})"
            if report.rpc_error
            else f"it is {intent.state.value}"
            + (f" ({intent.error})" if intent.error else "")
            + f", waiting for {relayer.confirmations} confirmation(s)"
        )
        raise RegistrationIncompleteError(
            f"model {encode_hex(model_id)} is queued but not registered yet: {why}; run the same registration "
            "again to resume (the outbox keeps its state; nothing is sent twice)"
        )
    fresh = before is None or not before.state.terminal
    ours = intent.outcome != OUTCOME_EXISTING and fresh
    outcome = Outcome.REGISTERED if ours else Outcome.ALREADY_REGISTERED
    tx = (intent.tx_hash, intent.block_number) if intent.outcome != OUTCOME_EXISTING else (None, None)
    return _result(client, model_id, outcome, owner, relayer, by_signature, request, tx)


def _check_funds(client: RegistryClient, sender: str) -> None:
    """Fail fast when the sender cannot pay the registry's fee and some gas: the relayer would
    otherwise retry the node's "insufficient funds" until the timeout."""
    balance, fee = client.w3.eth.get_balance(to_checksum_address(sender)), client.registration_fee()
    if balance > fee:
        return
    what = "no ether" if balance == 0 else f"{balance} wei"
    raise RegistrationError(
        f"the sending account {sender} has {what} on chain {client.chain_id}, not enough for the registry's fee "
        f"of {fee} wei (which pays the verifiers) and the gas: fund it, or have a funded relayer key relay the owner's signature"
    )


def _result(
    client: RegistryClient,
    model_id: bytes,
    outcome: Outcome,
    owner: str,
    relayer: Relayer,
    by_signature: bool,
    request: RegistrationRequest,
    tx: tuple[bytes | None, int | None] | None,
) -> RegistrationResult:
    model = client.get_model(model_id)  # its id hashes every digest of `request`: only the URIs can differ
    warnings = []
    if model.bundle_uri != request.bundle_uri:
        warnings.append(
            f"the model was registered earlier with bundle URI {model.bundle_uri} (this store: "
            f"{request.bundle_uri}); buyers fetch the registered one"
        )
    tx_hash, block = tx if tx is not None else (None, None)
    return RegistrationResult(
        model_id,
        outcome,
        client.chain_id,
        client.address,
        owner,
        relayer.sender,
        by_signature,
        request,
        model,
        tx_hash,
        block,
        tuple(warnings),
    )


def _failed(model_id: bytes, error: str | None, key: str, relayer: Relayer) -> RegistrationError:
    return RegistrationError(
        f"the registry refused model {encode_hex(model_id)}: {error or 'no reason recorded'} (intent {key} in outbox "
        f"{getattr(relayer.outbox, 'path', '?')} is final; fix the cause, then register with a new outbox file)"
    )


@dataclass(frozen=True)
class DatasetRegistration:
    """What `register_dataset` did: the record the chain holds, and whether this call registered it."""

    outcome: Outcome
    dataset: Dataset
    tx_hash: bytes | None  # our mined transaction (None if the chain had the record already)

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            **self.dataset.to_json(),
            "tx_hash": None if self.tx_hash is None else encode_hex(self.tx_hash),
        }


def register_dataset(client: RegistryClient, request: DatasetRequest, *, sender: Sender | None = None) -> DatasetRegistration:
    """Register a data set owned by `sender` (default: the client's sender); idempotent.

    A data set has one record, its first registrant's. If the chain already holds this very record
    (same owner, shape, range-proof digest and URI: a retry, or a crash after sending), nothing is
    sent and the outcome is `already-registered`. `RegistrationError` when the id is registered with
    other fields or by another owner, or the registry refuses (the decoded revert).
    """
    sender = sender if sender is not None else client.sender
    if sender is None:
        raise RegistrationError("no account to register the data set from: pass sender= or set client.sender")
    owner = to_checksum_address(sender if isinstance(sender, str) else sender.address)
    if client.dataset_exists(request.dataset_id):
        return _existing_dataset(client.get_dataset(request.dataset_id), request, owner)
    try:
        tx = client.register_dataset(request, sender=sender)
    except DatasetAlreadyRegisteredError:  # registered between our read and our transaction
        return _existing_dataset(client.get_dataset(request.dataset_id), request, owner)
    except RegistryError as exc:
        raise RegistrationError(f"the registry refused data set {encode_hex(request.dataset_id)}: {exc.user_message}") from None
    return DatasetRegistration(Outcome.REGISTERED, client.get_dataset(request.dataset_id), tx.tx_hash)


def _existing_dataset(dataset: Dataset, request: DatasetRequest, owner: str) -> DatasetRegistration:
    if dataset.owner != owner:
        raise RegistrationError(
            f"data set {encode_hex(request.dataset_id)} is already registered by {dataset.owner} (block "
            f"{dataset.registered_block}): a data set has one record, its first registrant's"
        )
    if dataset.request != request:
        raise RegistrationError(
            f"data set {encode_hex(request.dataset_id)} is already registered by this owner with other fields "
            f"({dataset.to_json()}); a record is final: register it as it is, or commit the data set again"
        )
    return DatasetRegistration(Outcome.ALREADY_REGISTERED, dataset, None)


__all__ = [
    "KNOWN_VERIFIER_VERSIONS",
    "VERIFIER_VERSION",
    "VERIFIER_VERSION_TAG",
    "DatasetRegistration",
    "Outcome",
    "RegistrationError",
    "RegistrationIncompleteError",
    "RegistrationResult",
    "register_bundle",
    "register_dataset",
    "request_for_bundle",
]
