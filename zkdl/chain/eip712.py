"""EIP-712 messages of the registry: registration by signature and attestations.

The types mirror `REGISTRATION_TYPEHASH` and `ATTESTATION_TYPEHASH` in contracts/ModelRegistry.sol;
the domain is ("ZkdlModelRegistry", "2", chain id, registry address), so a signature is bound to one
chain and one registry. An attestation names a model id, which is the hash of the whole registration
(every digest, the parent, the verifier version, the owner), so a verdict is for one record. Nonces
are unordered (any unused uint256 of the signer), so `random_nonce()` needs no coordination between
signers and relayers.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from .structs import AttestationRequest, RegistrationRequest

DOMAIN_NAME = "ZkdlModelRegistry"
DOMAIN_VERSION = "2"  # registry v2: a v1 signature never verifies here

EIP712_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
REGISTRATION_TYPE = [
    {"name": "owner", "type": "address"},
    {"name": "cDataDigest", "type": "bytes32"},
    {"name": "cW0Digest", "type": "bytes32"},
    {"name": "cWTDigest", "type": "bytes32"},
    {"name": "statementDigest", "type": "bytes32"},
    {"name": "proofDigest", "type": "bytes32"},
    {"name": "parentDigest", "type": "bytes32"},
    {"name": "verifierVersion", "type": "bytes32"},
    {"name": "bundleUri", "type": "string"},
    {"name": "metadataUri", "type": "string"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]
ATTESTATION_TYPE = [
    {"name": "verifier", "type": "address"},
    {"name": "modelId", "type": "bytes32"},
    {"name": "verdict", "type": "uint8"},
    {"name": "reportDigest", "type": "bytes32"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]


def random_nonce() -> int:
    """A fresh unordered nonce (256 random bits: collisions are not a practical concern)."""
    return secrets.randbits(256)


def domain(chain_id: int, registry: str) -> dict[str, Any]:
    """The registry's EIP-712 domain."""
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": int(chain_id),
        "verifyingContract": to_checksum_address(registry),
    }


def registration_message(
    chain_id: int, registry: str, owner: str, request: RegistrationRequest, nonce: int, deadline: int
) -> dict[str, Any]:
    """The full typed-data message an owner signs to have a relayer register `request`."""
    message = {"owner": to_checksum_address(owner), **request.typed_fields(), "nonce": nonce, "deadline": deadline}
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN_TYPE, "Registration": REGISTRATION_TYPE},
        "primaryType": "Registration",
        "domain": domain(chain_id, registry),
        "message": message,
    }


def attestation_message(
    chain_id: int, registry: str, verifier: str, attestation: AttestationRequest, nonce: int, deadline: int
) -> dict[str, Any]:
    """The full typed-data message a verifier signs to have anyone submit its attestation."""
    message = {
        "verifier": to_checksum_address(verifier),
        "modelId": attestation.model_id,
        "verdict": int(attestation.verdict),
        "reportDigest": attestation.report_digest,
        "nonce": nonce,
        "deadline": deadline,
    }
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN_TYPE, "Attestation": ATTESTATION_TYPE},
        "primaryType": "Attestation",
        "domain": domain(chain_id, registry),
        "message": message,
    }


def typed_data_hash(full_message: dict[str, Any]) -> bytes:
    """The EIP-712 digest that gets signed (equals the contract's hashRegistration/hashAttestation)."""
    signable = encode_typed_data(full_message=full_message)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


@dataclass(frozen=True)
class SignedRegistration:
    """Everything `registerModelBySig` needs; safe to hand to a relayer (it holds no key)."""

    owner: str
    request: RegistrationRequest
    nonce: int
    deadline: int
    signature: bytes


@dataclass(frozen=True)
class SignedAttestation:
    """Everything `attestBySig` needs; safe to hand to a relayer (it holds no key)."""

    verifier: str
    attestation: AttestationRequest
    nonce: int
    deadline: int
    signature: bytes


def sign_registration(
    account: LocalAccount,
    chain_id: int,
    registry: str,
    request: RegistrationRequest,
    *,
    deadline: int,
    nonce: int | None = None,
    owner: str | None = None,
) -> SignedRegistration:
    """Sign a registration with the owner's key. `owner` defaults to the key's address; pass a
    contract wallet's address to sign for an ERC-1271 owner controlled by this key."""
    owner = to_checksum_address(owner or account.address)
    nonce = random_nonce() if nonce is None else nonce
    msg = registration_message(chain_id, registry, owner, request, nonce, deadline)
    sig = Account.sign_typed_data(account.key, full_message=msg).signature
    return SignedRegistration(owner, request, nonce, deadline, bytes(sig))


def sign_attestation(
    account: LocalAccount,
    chain_id: int,
    registry: str,
    attestation: AttestationRequest,
    *,
    deadline: int,
    nonce: int | None = None,
    verifier: str | None = None,
) -> SignedAttestation:
    """Sign an attestation with the verifier's key (`verifier` defaults to the key's address)."""
    verifier = to_checksum_address(verifier or account.address)
    nonce = random_nonce() if nonce is None else nonce
    msg = attestation_message(chain_id, registry, verifier, attestation, nonce, deadline)
    sig = Account.sign_typed_data(account.key, full_message=msg).signature
    return SignedAttestation(verifier, attestation, nonce, deadline, bytes(sig))
