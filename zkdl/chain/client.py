"""Typed Python client of the ModelRegistry contract.

One method per contract function (snake_case of the Solidity name), dataclasses for structs, and
reverts decoded into the `RegistryError` hierarchy. A *sender* is either a `LocalAccount` (the
client signs the transaction itself: any JSON-RPC node) or an address the node has unlocked
(eth-tester, anvil's dev accounts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import encode_hex, keccak, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from .artifacts import load_artifact
from .eip712 import SignedAttestation, SignedRegistration, sign_attestation, sign_registration
from .errors import RegistryError, RegistryVersionError, RevertDecoder, TransactionRevertedError, UnknownRevertError, revert_data
from .structs import (
    Attestation,
    AttestationRequest,
    CursorPage,
    Dataset,
    DatasetRequest,
    IndexKind,
    Model,
    ModelRecord,
    ModelStatus,
    Page,
    Registered,
    RegistrationRequest,
    Shared,
    TxOutcome,
    Verdict,
    VerifierInfo,
    as_digest,
    owner_key,
)

SUPPORTED_MAJOR = 2  # the registry version (major) this client speaks: its ABI, id formula and EIP-712 domain

Sender = LocalAccount | str
R = TypeVar("R")


@dataclass(frozen=True)
class RegisteredEvent:
    """A decoded ModelRegistered log."""

    model_id: bytes
    owner: str
    request: RegistrationRequest
    submitter: str
    registered_at: int
    block_number: int
    tx_hash: bytes


@dataclass(frozen=True)
class AttestedEvent:
    """A decoded ModelAttested log."""

    model_id: bytes
    verifier: str
    verdict: Verdict
    report_digest: bytes
    submitter: str
    attested_at: int
    reward: int
    block_number: int
    tx_hash: bytes


def _is_revert(exc: BaseException) -> bool:
    # eth-tester's TransactionFailed is imported lazily: eth-tester is only needed for embedded chains.
    return isinstance(exc, ContractLogicError) or type(exc).__name__ == "TransactionFailed"


class RegistryClient:
    """Client of one deployed ModelRegistry. `sender` is the default account for transactions."""

    def __init__(self, w3: Web3, address: str, sender: Sender | None = None, *, receipt_timeout: float = 120) -> None:
        artifact = load_artifact()
        self.w3 = w3
        self.address = to_checksum_address(address)
        self.sender = sender
        self.receipt_timeout = receipt_timeout
        self.contract = w3.eth.contract(address=self.address, abi=artifact.abi)
        self._decoder = RevertDecoder(artifact.abi)
        self._chain_id: int | None = None

    # -- plumbing ------------------------------------------------------------------------------------

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self.w3.eth.chain_id
        return self._chain_id

    def typed_error(self, exc: BaseException) -> BaseException:
        """The `RegistryError` for a revert raised by web3; other exceptions are returned unchanged."""
        data = revert_data(exc)
        if data is None:
            return UnknownRevertError(data="0x") if _is_revert(exc) else exc
        return self._decoder.decode(data)

    def _call(self, fn: Any, *, sender: Sender | None = None) -> Any:
        params = {"from": _address(sender)} if sender is not None else {}
        try:
            return fn.call(params)
        except Exception as exc:
            raise self.typed_error(exc) from exc

    def _send(self, fn: Any, sender: Sender | None, value: int = 0) -> TxOutcome:
        sender = sender if sender is not None else self.sender
        if sender is None:
            raise RegistryError("no account to send the transaction from", "pass sender= or set client.sender")
        try:
            tx_hash = self._submit(fn, sender, value)
        except Exception as exc:
            raise self.typed_error(exc) from exc
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout)
        if receipt["status"] != 1:
            raise TransactionRevertedError(txHash=encode_hex(tx_hash))
        return TxOutcome(bytes(tx_hash), receipt["blockNumber"], receipt["gasUsed"], tuple(self._events(receipt)))

    def _submit(self, fn: Any, sender: Sender, value: int) -> HexBytes:
        if isinstance(sender, str):
            return fn.transact({"from": to_checksum_address(sender), "value": value})
        # Gas is estimated by build_transaction, so a revert surfaces here, before signing.
        nonce = self.w3.eth.get_transaction_count(sender.address, "pending")
        tx = fn.build_transaction({"from": sender.address, "nonce": nonce, "value": value})
        return self.w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)

    def _events(self, receipt: Any) -> Iterator[dict[str, Any]]:
        for event in self.contract.events:  # type: ignore[attr-defined]  # web3 annotates this generator's __iter__ as Iterable
            for log in event.process_receipt(receipt, errors=DISCARD):
                yield {"event": log["event"], "args": dict(log["args"]), "logIndex": log["logIndex"]}

    def _page(self, fn: Callable[[int, int], Any], convert: Callable[[Any], R], offset: int, limit: int) -> Page[R]:
        items, total = self._call(fn(offset, limit))
        return Page(tuple(convert(x) for x in items), offset, int(total))

    def check_version(self) -> str:
        """The registry's version; `RegistryVersionError` naming it unless its major version is the one
        this client speaks (another ABI, model id formula and signature domain)."""
        found = self.version()
        if found.split(".")[0] != str(SUPPORTED_MAJOR):
            raise RegistryVersionError(
                f"the registry at {self.address} on chain {self.chain_id} is version {found}; this zkdl speaks registry "
                f"version {SUPPORTED_MAJOR}.x only (its records, model ids and signatures differ)",
                "use the zkdl release that matches that registry, or a registry deployed by this one",
            )
        return found

    def deadline_in(self, seconds: int = 3600) -> int:
        """A signature deadline `seconds` after the latest block's time (chain time, not wall time);
        `ValueError` if the registry accepts no signature living that long."""
        longest = self.max_signature_ttl()
        if seconds > longest:
            raise ValueError(
                f"a signature valid for {seconds} s is refused by this registry, which accepts at most {longest} s "
                "(max_signature_ttl): choose a shorter lifetime"
            )
        return int(self.w3.eth.get_block("latest")["timestamp"]) + seconds

    # -- registration ------------------------------------------------------------------------------

    def register_model(self, request: RegistrationRequest, *, sender: Sender | None = None, fee: int | None = None) -> Registered:
        """Register a model owned by the sender, paying `fee` (default: `registration_fee()`).
        Raises `ModelAlreadyRegisteredError` on a retry."""
        fee = self.registration_fee() if fee is None else fee
        tx = self._send(self.contract.functions.registerModel(request.as_tuple()), sender, fee)
        return Registered(_registered_id(tx), tx)

    def register_model_by_sig(self, signed: SignedRegistration, *, sender: Sender | None = None, fee: int | None = None) -> Registered:
        """Submit an owner's signed registration; the sender (a relayer) pays the gas and the fee."""
        fn = self.contract.functions.registerModelBySig(
            signed.owner, signed.request.as_tuple(), signed.nonce, signed.deadline, signed.signature
        )
        tx = self._send(fn, sender, self.registration_fee() if fee is None else fee)
        return Registered(_registered_id(tx), tx)

    def register_dataset(self, request: DatasetRequest, *, sender: Sender | None = None) -> TxOutcome:
        """Register a data set owned by the sender (`DatasetAlreadyRegisteredError` if the id is taken)."""
        return self._send(self.contract.functions.registerDataset(request.as_tuple()), sender)

    def revoke_model(self, model_id: bytes | str, *, sender: Sender | None = None) -> TxOutcome:
        """Withdraw a model (owner only, final)."""
        return self._send(self.contract.functions.revokeModel(as_digest(model_id, "model_id")), sender)

    def sign_registration(
        self,
        owner: LocalAccount,
        request: RegistrationRequest,
        *,
        deadline: int | None = None,
        nonce: int | None = None,
        owner_address: str | None = None,
    ) -> SignedRegistration:
        """Sign `request` for this registry's chain and address (deadline: 1 h of chain time)."""
        deadline = self.deadline_in() if deadline is None else deadline
        return sign_registration(owner, self.chain_id, self.address, request, deadline=deadline, nonce=nonce, owner=owner_address)

    # -- attestations ------------------------------------------------------------------------------

    def attest(self, attestation: AttestationRequest, *, sender: Sender | None = None) -> TxOutcome:
        """Attest as the sending verifier."""
        return self._send(self.contract.functions.attest(attestation.as_tuple()), sender)

    def attest_by_sig(self, signed: SignedAttestation, *, sender: Sender | None = None) -> TxOutcome:
        """Submit a verifier's signed attestation; anyone may send it."""
        fn = self.contract.functions.attestBySig(
            signed.verifier, signed.attestation.as_tuple(), signed.nonce, signed.deadline, signed.signature
        )
        return self._send(fn, sender)

    def sign_attestation(
        self,
        verifier: LocalAccount,
        attestation: AttestationRequest,
        *,
        deadline: int | None = None,
        nonce: int | None = None,
        verifier_address: str | None = None,
    ) -> SignedAttestation:
        """Sign `attestation` for this registry's chain and address (deadline: 1 h of chain time)."""
        deadline = self.deadline_in() if deadline is None else deadline
        return sign_attestation(
            verifier, self.chain_id, self.address, attestation, deadline=deadline, nonce=nonce, verifier=verifier_address
        )

    def cancel_nonce(self, nonce: int, *, sender: Sender | None = None) -> TxOutcome:
        """Invalidate one of the sender's nonces (cancels a signed, unsubmitted message)."""
        return self._send(self.contract.functions.cancelNonce(nonce), sender)

    def withdraw_rewards(self, to: str, *, sender: Sender | None = None) -> TxOutcome:
        """Send the sending verifier's attestation rewards to `to`."""
        return self._send(self.contract.functions.withdrawRewards(to_checksum_address(to)), sender)

    # -- administration ----------------------------------------------------------------------------

    def set_quorum(self, quorum: int, *, sender: Sender | None = None) -> TxOutcome:
        """The quorum of models registered from now on: 1 to the number of verifiers (admin only)."""
        return self._send(self.contract.functions.setQuorum(quorum), sender)

    def set_attestation_fee(self, fee_wei: int, *, sender: Sender | None = None) -> TxOutcome:
        """Each attestation earns `fee_wei`; a registration pays it per verifier (admin only)."""
        return self._send(self.contract.functions.setAttestationFee(fee_wei), sender)

    def set_max_signature_ttl(self, seconds: int, *, sender: Sender | None = None) -> TxOutcome:
        return self._send(self.contract.functions.setMaxSignatureTtl(seconds), sender)

    # The default admin changes in two steps (OpenZeppelin AccessControlDefaultAdminRules): begin, wait
    # `default_admin_delay()`, accept. Its delay changes are delayed too.
    def begin_default_admin_transfer(self, new_admin: str, *, sender: Sender | None = None) -> TxOutcome:
        return self._send(self.contract.functions.beginDefaultAdminTransfer(to_checksum_address(new_admin)), sender)

    def accept_default_admin_transfer(self, *, sender: Sender | None = None) -> TxOutcome:
        return self._send(self.contract.functions.acceptDefaultAdminTransfer(), sender)

    def cancel_default_admin_transfer(self, *, sender: Sender | None = None) -> TxOutcome:
        return self._send(self.contract.functions.cancelDefaultAdminTransfer(), sender)

    def change_default_admin_delay(self, seconds: int, *, sender: Sender | None = None) -> TxOutcome:
        return self._send(self.contract.functions.changeDefaultAdminDelay(seconds), sender)

    def rollback_default_admin_delay(self, *, sender: Sender | None = None) -> TxOutcome:
        return self._send(self.contract.functions.rollbackDefaultAdminDelay(), sender)

    def pause(self, *, sender: Sender | None = None) -> TxOutcome:
        return self._send(self.contract.functions.pause(), sender)

    def unpause(self, *, sender: Sender | None = None) -> TxOutcome:
        return self._send(self.contract.functions.unpause(), sender)

    def grant_role(self, role: bytes, account: str, *, sender: Sender | None = None) -> TxOutcome:
        return self._send(self.contract.functions.grantRole(role, to_checksum_address(account)), sender)

    def revoke_role(self, role: bytes, account: str, *, sender: Sender | None = None) -> TxOutcome:
        return self._send(self.contract.functions.revokeRole(role, to_checksum_address(account)), sender)

    def renounce_role(self, role: bytes, account: str, *, sender: Sender | None = None) -> TxOutcome:
        return self._send(self.contract.functions.renounceRole(role, to_checksum_address(account)), sender)

    def grant_verifier(self, account: str, *, sender: Sender | None = None) -> TxOutcome:
        """Add `account` to the verifier set (admin only)."""
        return self.grant_role(self.verifier_role(), account, sender=sender)

    def revoke_verifier(self, account: str, *, sender: Sender | None = None) -> TxOutcome:
        """Remove `account` from the verifier set (admin only); its attestations stop counting and
        are shown as from a removed verifier."""
        return self.revoke_role(self.verifier_role(), account, sender=sender)

    # -- reads ---------------------------------------------------------------------------------------

    def compute_model_id(self, owner: str, request: RegistrationRequest) -> bytes:
        """The id `owner`'s registration of `request` gets: the hash of the whole record."""
        return bytes(self._call(self.contract.functions.computeModelId(to_checksum_address(owner), request.as_tuple())))

    def model_exists(self, model_id: bytes | str) -> bool:
        return self._call(self.contract.functions.modelExists(as_digest(model_id, "model_id")))

    def get_model_record(self, model_id: bytes | str) -> ModelRecord:
        """What storage holds of a model; raises `UnknownModelError` for an unknown id."""
        mid = as_digest(model_id, "model_id")
        return ModelRecord.from_tuple(self._call(self.contract.functions.getModel(mid)))

    def get_model(self, model_id: bytes | str) -> Model:
        """The model: its record joined with its ModelRegistered event, whose fields must hash to the
        id (so a node's logs cannot change what a buyer reads). `UnknownModelError` for an unknown id."""
        mid = as_digest(model_id, "model_id")
        record = self.get_model_record(mid)
        events = self.registered_events(record.registered_block, record.registered_block, model_id=mid)
        for event in events:
            if event.owner == record.owner and self.model_id_of(record.owner, event.request) == mid:
                return Model.joined(mid, record, event.request, event.registered_at)
        raise RegistryError(
            f"model {encode_hex(mid)} is registered in block {record.registered_block}, but the node returns no "
            "ModelRegistered event there whose fields hash to its id",
            "use a node that keeps logs (an archive or full node without log pruning)",
        )

    def model_id_of(self, owner: str, request: RegistrationRequest) -> bytes:
        """`computeModelId`, computed locally."""
        return model_id_for(self.chain_id, self.address, owner, request)

    def get_status(self, model_id: bytes | str) -> ModelStatus:
        """Status, counts and attestations of a model in one call (for buyers), each attestation with
        its report digest from its ModelAttested event."""
        mid = as_digest(model_id, "model_id")
        status = ModelStatus.from_tuple(self._call(self.contract.functions.getStatus(mid)))
        if not status.attestations:
            return status
        reports = {e.verifier: e.report_digest for e in self.attested_events(self.get_model_record(mid).registered_block, model_id=mid)}
        attestations = tuple(replace(a, report_digest=reports.get(a.verifier)) for a in status.attestations)
        return replace(status, attestations=attestations)

    def get_attestation(self, model_id: bytes | str, verifier: str) -> Attestation:
        fn = self.contract.functions.getAttestation(as_digest(model_id, "model_id"), to_checksum_address(verifier))
        return Attestation.from_tuple(self._call(fn))

    def get_verifiers(self) -> list[VerifierInfo]:
        """Every account ever granted the verifier role, removed ones included."""
        return [VerifierInfo.from_tuple(v) for v in self._call(self.contract.functions.getVerifiers())]

    def get_dataset(self, dataset_id: bytes | str) -> Dataset:
        """A registered data set (its URI from its DatasetRegistered event); `UnknownDatasetError` if none."""
        did = as_digest(dataset_id, "dataset_id")
        owner, block, frac_bits, classes, samples, features, range_proof = self._call(self.contract.functions.getDataset(did))
        logs = self.contract.events.DatasetRegistered().get_logs(from_block=block, to_block=block, argument_filters={"datasetId": did})
        stored = DatasetRequest(did, samples, features, classes, frac_bits, bytes(range_proof), "")
        for log in logs:
            request = DatasetRequest.from_tuple(log.args.dataset)
            if replace(request, uri="") == stored:
                return Dataset(to_checksum_address(owner), int(block), int(log.args.registeredAt), request)
        raise RegistryError(
            f"data set {encode_hex(did)} is registered in block {block}, but the node returns no matching DatasetRegistered event",
            "use a node that keeps logs",
        )

    def dataset_exists(self, dataset_id: bytes | str) -> bool:
        return self._call(self.contract.functions.datasetExists(as_digest(dataset_id, "dataset_id")))

    def get_model_ids(self, offset: int = 0, limit: int = 100) -> Page[bytes]:
        return self._page(self.contract.functions.getModelIds, bytes, offset, limit)

    def get_model_ids_by(self, kind: IndexKind, key: bytes | str, cursor: int = 0, limit: int = 100) -> CursorPage[bytes]:
        """A page of the models sharing `key` in index `kind`, newest first (`cursor`: the previous
        page's `next_cursor`)."""
        items, next_cursor, total = self._call(self.contract.functions.getModelIdsBy(int(kind), as_digest(key, "key"), cursor, limit))
        return CursorPage(tuple(bytes(x) for x in items), int(next_cursor) or None, int(total))

    def first_model_by(self, kind: IndexKind, key: bytes | str) -> tuple[bytes | None, int]:
        """The earliest model sharing `key` in index `kind` (None if none), and how many share it."""
        first, total = self._call(self.contract.functions.firstModelBy(int(kind), as_digest(key, "key")))
        return (bytes(first) if int(total) else None), int(total)

    def shared(self, kind: IndexKind, key: bytes | str, listed: int = 20) -> Shared | None:
        """The registrations sharing `key` in index `kind`: the count, the earliest and the newest
        `listed`; None when there is none."""
        earliest, total = self.first_model_by(kind, key)
        if earliest is None:
            return None
        return Shared(kind, total, earliest, self.get_model_ids_by(kind, key, 0, listed).items)

    def iter_model_ids_by(self, kind: IndexKind, key: bytes | str, page_size: int = 100) -> Iterator[bytes]:
        """Every model sharing `key` in index `kind`, newest first, page by page."""
        cursor: int | None = 0
        while cursor is not None:
            page = self.get_model_ids_by(kind, key, cursor, page_size)
            yield from page.items
            cursor = page.next_cursor

    def iter_model_ids(self, owner: str | None = None, page_size: int = 100) -> Iterator[bytes]:
        """Every model id in registration order, or `owner`'s newest first."""
        if owner is not None:
            yield from self.iter_model_ids_by(IndexKind.OWNER, owner_key(owner), page_size)
            return
        offset: int | None = 0
        while offset is not None:
            page = self.get_model_ids(offset, page_size)
            yield from page.items
            offset = page.next_offset

    def nonce_used(self, signer: str, nonce: int) -> bool:
        return self._call(self.contract.functions.nonceUsed(to_checksum_address(signer), nonce))

    def quorum(self) -> int:
        """The quorum that models registered now get."""
        return self._call(self.contract.functions.quorum())

    def verifier_count(self) -> int:
        return self._call(self.contract.functions.verifierCount())

    def attestation_fee(self) -> int:
        return self._call(self.contract.functions.attestationFee())

    def registration_fee(self) -> int:
        """What a registration pays now (wei): the attestation fee times the number of verifiers."""
        return self._call(self.contract.functions.registrationFee())

    def reward_pool(self) -> int:
        return self._call(self.contract.functions.rewardPool())

    def rewards_of(self, verifier: str) -> int:
        return self._call(self.contract.functions.rewardsOf(to_checksum_address(verifier)))

    def max_signature_ttl(self) -> int:
        """The longest signature lifetime (seconds) the registry accepts."""
        return self._call(self.contract.functions.maxSignatureTtl())

    def default_admin(self) -> str:
        return self._call(self.contract.functions.defaultAdmin())

    def default_admin_delay(self) -> int:
        return self._call(self.contract.functions.defaultAdminDelay())

    def pending_default_admin(self) -> tuple[str, int]:
        """(the admin a transfer was begun to, the time it may accept); zero address and 0 if none."""
        admin, schedule = self._call(self.contract.functions.pendingDefaultAdmin())
        return admin, int(schedule)

    def pending_default_admin_delay(self) -> tuple[int, int]:
        delay, schedule = self._call(self.contract.functions.pendingDefaultAdminDelay())
        return int(delay), int(schedule)

    def default_admin_delay_increase_wait(self) -> int:
        return self._call(self.contract.functions.defaultAdminDelayIncreaseWait())

    def owner(self) -> str:
        """The default admin (ERC-5313's name for it)."""
        return self._call(self.contract.functions.owner())

    def hash_registration(self, owner: str, request: RegistrationRequest, nonce: int, deadline: int) -> bytes:
        fn = self.contract.functions.hashRegistration(to_checksum_address(owner), request.as_tuple(), nonce, deadline)
        return bytes(self._call(fn))

    def hash_attestation(self, verifier: str, attestation: AttestationRequest, nonce: int, deadline: int) -> bytes:
        fn = self.contract.functions.hashAttestation(to_checksum_address(verifier), attestation.as_tuple(), nonce, deadline)
        return bytes(self._call(fn))

    def version(self) -> str:
        return str(self._call(self.contract.functions.version()))

    def paused(self) -> bool:
        return self._call(self.contract.functions.paused())

    def has_role(self, role: bytes, account: str) -> bool:
        return self._call(self.contract.functions.hasRole(role, to_checksum_address(account)))

    def get_role_admin(self, role: bytes) -> bytes:
        return bytes(self._call(self.contract.functions.getRoleAdmin(role)))

    def eip712_domain(self) -> dict[str, Any]:
        """ERC-5267 domain: name, version, chainId, verifyingContract (and unused fields)."""
        fields, name, version, chain_id, contract, salt, extensions = self._call(self.contract.functions.eip712Domain())
        return {
            "fields": fields,
            "name": name,
            "version": version,
            "chainId": chain_id,
            "verifyingContract": contract,
            "salt": salt,
            "extensions": list(extensions),
        }

    def supports_interface(self, interface_id: bytes) -> bool:
        return self._call(self.contract.functions.supportsInterface(interface_id))

    # Constants of the contract, read from the chain (not hard-coded) so a client never disagrees with it.
    def default_admin_role(self) -> bytes:
        return bytes(self._call(self.contract.functions.DEFAULT_ADMIN_ROLE()))

    def verifier_role(self) -> bytes:
        return bytes(self._call(self.contract.functions.VERIFIER_ROLE()))

    def pauser_role(self) -> bytes:
        return bytes(self._call(self.contract.functions.PAUSER_ROLE()))

    def max_page_size(self) -> int:
        return self._call(self.contract.functions.MAX_PAGE_SIZE())

    def max_uri_length(self) -> int:
        return self._call(self.contract.functions.MAX_URI_LENGTH())

    def signature_ttl_min(self) -> int:
        return self._call(self.contract.functions.SIGNATURE_TTL_MIN())

    def signature_ttl_max(self) -> int:
        return self._call(self.contract.functions.SIGNATURE_TTL_MAX())

    def registration_typehash(self) -> bytes:
        return bytes(self._call(self.contract.functions.REGISTRATION_TYPEHASH()))

    def attestation_typehash(self) -> bytes:
        return bytes(self._call(self.contract.functions.ATTESTATION_TYPEHASH()))

    # -- events --------------------------------------------------------------------------------------

    def registered_events(
        self, from_block: int = 0, to_block: int | str = "latest", *, model_id: bytes | None = None
    ) -> list[RegisteredEvent]:
        """ModelRegistered logs in a block range (of one model, if given), for indexers and the service."""
        filters = {} if model_id is None else {"argument_filters": {"modelId": model_id}}
        logs = self.contract.events.ModelRegistered().get_logs(from_block=from_block, to_block=to_block, **filters)
        return [
            RegisteredEvent(
                bytes(e.args.modelId),
                e.args.owner,
                RegistrationRequest.from_tuple(e.args.registration),
                e.args.submitter,
                e.args.registeredAt,
                e.blockNumber,
                bytes(e.transactionHash),
            )
            for e in logs
        ]

    def attested_events(self, from_block: int = 0, to_block: int | str = "latest", *, model_id: bytes | None = None) -> list[AttestedEvent]:
        """ModelAttested logs in a block range (of one model, if given)."""
        filters = {} if model_id is None else {"argument_filters": {"modelId": model_id}}
        logs = self.contract.events.ModelAttested().get_logs(from_block=from_block, to_block=to_block, **filters)
        return [
            AttestedEvent(
                bytes(e.args.modelId),
                e.args.verifier,
                Verdict(e.args.verdict),
                bytes(e.args.reportDigest),
                e.args.submitter,
                e.args.attestedAt,
                e.args.reward,
                e.blockNumber,
                bytes(e.transactionHash),
            )
            for e in logs
        ]

    def removed_verifier_events(self, from_block: int = 0) -> list[dict[str, Any]]:
        """VerifierRemoved logs: which verifier, how many verdicts stopped counting, when."""
        logs = self.contract.events.VerifierRemoved().get_logs(from_block=from_block)
        return [{"verifier": e.args.verifier, "attestations": e.args.attestations, "removed_at": e.args.removedAt} for e in logs]


def model_id_for(chain_id: int, registry: str, owner: str, request: RegistrationRequest) -> bytes:
    """The registry's model id, computed locally (mirrors `computeModelId`): the hash of the chain,
    the registry, the owner and every field of the registration but its URIs."""
    r = request
    return keccak(
        abi_encode(
            ["uint256", "address", "address"] + ["bytes32"] * 7,
            [
                chain_id,
                to_checksum_address(registry),
                to_checksum_address(owner),
                r.c_data_digest,
                r.c_w0_digest,
                r.c_wt_digest,
                r.statement_digest,
                r.proof_digest,
                r.parent_digest,
                r.verifier_version,
            ],
        )
    )


def _address(sender: Sender) -> str:
    return to_checksum_address(sender if isinstance(sender, str) else sender.address)


def _registered_id(tx: TxOutcome) -> bytes:
    for event in tx.events:
        if event["event"] == "ModelRegistered":
            return bytes(event["args"]["modelId"])
    raise RegistryError("the registration transaction emitted no ModelRegistered event", "check that the address is a ModelRegistry")
