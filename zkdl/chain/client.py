"""Typed Python client of the ModelRegistry contract.

One method per contract function (snake_case of the Solidity name), dataclasses for structs, and
reverts decoded into the `RegistryError` hierarchy. A *sender* is either a `LocalAccount` (the
client signs the transaction itself: any JSON-RPC node) or an address the node has unlocked
(eth-tester, anvil's dev accounts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from eth_account.signers.local import LocalAccount
from eth_utils import encode_hex, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from .artifacts import load_artifact
from .eip712 import SignedAttestation, SignedRegistration, sign_attestation, sign_registration
from .errors import RegistryError, RevertDecoder, TransactionRevertedError, UnknownRevertError, revert_data
from .structs import (
    Attestation,
    AttestationRequest,
    Model,
    ModelStatus,
    Page,
    Registered,
    RegistrationRequest,
    TxOutcome,
    Verdict,
    as_digest,
)

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
    verifier_version: bytes
    report_digest: bytes
    submitter: str
    attested_at: int
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

    def _send(self, fn: Any, sender: Sender | None) -> TxOutcome:
        sender = sender if sender is not None else self.sender
        if sender is None:
            raise RegistryError("no account to send the transaction from", "pass sender= or set client.sender")
        try:
            tx_hash = self._submit(fn, sender)
        except Exception as exc:
            raise self.typed_error(exc) from exc
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout)
        if receipt["status"] != 1:
            raise TransactionRevertedError(txHash=encode_hex(tx_hash))
        return TxOutcome(bytes(tx_hash), receipt["blockNumber"], receipt["gasUsed"], tuple(self._events(receipt)))

    def _submit(self, fn: Any, sender: Sender) -> HexBytes:
        if isinstance(sender, str):
            return fn.transact({"from": to_checksum_address(sender)})
        # Gas is estimated by build_transaction, so a revert surfaces here, before signing.
        nonce = self.w3.eth.get_transaction_count(sender.address, "pending")
        tx = fn.build_transaction({"from": sender.address, "nonce": nonce})
        return self.w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)

    def _events(self, receipt: Any) -> Iterator[dict[str, Any]]:
        for event in self.contract.events:  # type: ignore[attr-defined]  # web3 annotates this generator's __iter__ as Iterable
            for log in event.process_receipt(receipt, errors=DISCARD):
                yield {"event": log["event"], "args": dict(log["args"]), "logIndex": log["logIndex"]}

    def _page(self, fn: Callable[[int, int], Any], convert: Callable[[Any], R], offset: int, limit: int) -> Page[R]:
        items, total = self._call(fn(offset, limit))
        return Page(tuple(convert(x) for x in items), offset, int(total))

    def deadline_in(self, seconds: int = 3600) -> int:
        """A signature deadline `seconds` after the latest block's time (chain time, not wall time)."""
        return int(self.w3.eth.get_block("latest")["timestamp"]) + seconds

    # -- registration ------------------------------------------------------------------------------

    def register_model(self, request: RegistrationRequest, *, sender: Sender | None = None) -> Registered:
        """Register a model owned by the sender. Raises `ModelAlreadyRegisteredError` on a retry."""
        tx = self._send(self.contract.functions.registerModel(request.as_tuple()), sender)
        return Registered(_registered_id(tx), tx)

    def register_model_by_sig(self, signed: SignedRegistration, *, sender: Sender | None = None) -> Registered:
        """Submit an owner's signed registration; the sender (a relayer) pays the gas."""
        fn = self.contract.functions.registerModelBySig(
            signed.owner, signed.request.as_tuple(), signed.nonce, signed.deadline, signed.signature
        )
        tx = self._send(fn, sender)
        return Registered(_registered_id(tx), tx)

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

    # -- administration ----------------------------------------------------------------------------

    def set_quorum(self, quorum: int, *, sender: Sender | None = None) -> TxOutcome:
        return self._send(self.contract.functions.setQuorum(quorum), sender)

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
        """Remove `account` from the verifier set (admin only); its attestations stop counting."""
        return self.revoke_role(self.verifier_role(), account, sender=sender)

    # -- reads ---------------------------------------------------------------------------------------

    def compute_model_id(self, owner: str, c_wt_digest: bytes | str, proof_digest: bytes | str) -> bytes:
        fn = self.contract.functions.computeModelId(
            to_checksum_address(owner), as_digest(c_wt_digest, "c_wt_digest"), as_digest(proof_digest, "proof_digest")
        )
        return bytes(self._call(fn))

    def model_exists(self, model_id: bytes | str) -> bool:
        return self._call(self.contract.functions.modelExists(as_digest(model_id, "model_id")))

    def get_model(self, model_id: bytes | str) -> Model:
        """The model; raises `UnknownModelError` for an unknown id."""
        mid = as_digest(model_id, "model_id")
        return Model.from_tuple(mid, self._call(self.contract.functions.getModel(mid)))

    def get_status(self, model_id: bytes | str) -> ModelStatus:
        """Status, counts and attestations of a model in one call (for buyers)."""
        return ModelStatus.from_tuple(self._call(self.contract.functions.getStatus(as_digest(model_id, "model_id"))))

    def get_attestation(self, model_id: bytes | str, verifier: str) -> Attestation:
        fn = self.contract.functions.getAttestation(as_digest(model_id, "model_id"), to_checksum_address(verifier))
        return Attestation.from_tuple(self._call(fn))

    def get_attestations(self, model_id: bytes | str, offset: int = 0, limit: int = 100) -> Page[Attestation]:
        mid = as_digest(model_id, "model_id")
        return self._page(lambda o, n: self.contract.functions.getAttestations(mid, o, n), Attestation.from_tuple, offset, limit)

    def get_model_ids(self, offset: int = 0, limit: int = 100) -> Page[bytes]:
        return self._page(self.contract.functions.getModelIds, bytes, offset, limit)

    def get_model_ids_by_owner(self, owner: str, offset: int = 0, limit: int = 100) -> Page[bytes]:
        owner = to_checksum_address(owner)
        return self._page(lambda o, n: self.contract.functions.getModelIdsByOwner(owner, o, n), bytes, offset, limit)

    def iter_model_ids(self, owner: str | None = None, page_size: int = 100) -> Iterator[bytes]:
        """Every model id (of `owner`, if given), page by page, in registration order."""
        offset: int | None = 0
        while offset is not None:
            page = self.get_model_ids(offset, page_size) if owner is None else self.get_model_ids_by_owner(owner, offset, page_size)
            yield from page.items
            offset = page.next_offset

    def nonce_used(self, signer: str, nonce: int) -> bool:
        return self._call(self.contract.functions.nonceUsed(to_checksum_address(signer), nonce))

    def quorum(self) -> int:
        return self._call(self.contract.functions.quorum())

    def hash_registration(self, owner: str, request: RegistrationRequest, nonce: int, deadline: int) -> bytes:
        fn = self.contract.functions.hashRegistration(to_checksum_address(owner), request.as_tuple(), nonce, deadline)
        return bytes(self._call(fn))

    def hash_attestation(self, verifier: str, attestation: AttestationRequest, nonce: int, deadline: int) -> bytes:
        fn = self.contract.functions.hashAttestation(to_checksum_address(verifier), attestation.as_tuple(), nonce, deadline)
        return bytes(self._call(fn))

    def version(self) -> str:
        return self._call(self.contract.functions.version())

    def paused(self) -> bool:
        return self._call(self.contract.functions.paused())

    def has_role(self, role: bytes, account: str) -> bool:
        return self._call(self.contract.functions.hasRole(role, to_checksum_address(account)))

    def get_role_admin(self, role: bytes) -> bytes:
        return bytes(self._call(self.contract.functions.getRoleAdmin(role)))

    def get_role_member(self, role: bytes, index: int) -> str:
        return self._call(self.contract.functions.getRoleMember(role, index))

    def get_role_member_count(self, role: bytes) -> int:
        return self._call(self.contract.functions.getRoleMemberCount(role))

    def get_role_members(self, role: bytes) -> list[str]:
        return list(self._call(self.contract.functions.getRoleMembers(role)))

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

    def registration_typehash(self) -> bytes:
        return bytes(self._call(self.contract.functions.REGISTRATION_TYPEHASH()))

    def attestation_typehash(self) -> bytes:
        return bytes(self._call(self.contract.functions.ATTESTATION_TYPEHASH()))

    # -- events --------------------------------------------------------------------------------------

    def registered_events(self, from_block: int = 0, to_block: int | str = "latest") -> list[RegisteredEvent]:
        """ModelRegistered logs in a block range (for indexers and the verifier service)."""
        logs = self.contract.events.ModelRegistered().get_logs(from_block=from_block, to_block=to_block)
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

    def attested_events(self, from_block: int = 0, to_block: int | str = "latest") -> list[AttestedEvent]:
        """ModelAttested logs in a block range."""
        logs = self.contract.events.ModelAttested().get_logs(from_block=from_block, to_block=to_block)
        return [
            AttestedEvent(
                bytes(e.args.modelId),
                e.args.verifier,
                Verdict(e.args.verdict),
                bytes(e.args.verifierVersion),
                bytes(e.args.reportDigest),
                e.args.submitter,
                e.args.attestedAt,
                e.blockNumber,
                bytes(e.transactionHash),
            )
            for e in logs
        ]


def _address(sender: Sender) -> str:
    return to_checksum_address(sender if isinstance(sender, str) else sender.address)


def _registered_id(tx: TxOutcome) -> bytes:
    for event in tx.events:
        if event["event"] == "ModelRegistered":
            return bytes(event["args"]["modelId"])
    raise RegistryError("the registration transaction emitted no ModelRegistered event", "check that the address is a ModelRegistry")
