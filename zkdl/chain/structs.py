"""Typed values exchanged with the ModelRegistry contract (mirrors contracts/IModelRegistry.sol).

Digests are 32-byte Keccak-256 values; every constructor accepts `bytes` or a 0x-hex string and
stores `bytes`, so values compare equal whatever form the caller used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Generic, TypeVar

from eth_utils import decode_hex, to_checksum_address

T = TypeVar("T")


class Verdict(IntEnum):
    """A verifier's verdict; `NONE` only marks "has not attested"."""

    NONE = 0
    VALID = 1
    INVALID = 2


class Status(IntEnum):
    """A model's status for buyers. Precedence: REVOKED > DISPUTED > VERIFIED > PENDING."""

    PENDING = 0
    VERIFIED = 1
    DISPUTED = 2
    REVOKED = 3


def as_digest(value: bytes | str, name: str = "digest") -> bytes:
    """Coerce a 32-byte digest given as bytes or 0x-hex; raise ValueError naming the field otherwise."""
    raw = decode_hex(value) if isinstance(value, str) else bytes(value)
    if len(raw) != 32:
        raise ValueError(f"{name} must be 32 bytes (a Keccak-256 digest), got {len(raw)}")
    return raw


def _digests(obj: Any, names: tuple[str, ...]) -> None:
    # Frozen dataclasses: normalise in place once, at construction.
    for name in names:
        object.__setattr__(obj, name, as_digest(getattr(obj, name), name))


@dataclass(frozen=True)
class RegistrationRequest:
    """What an owner registers: digests of the commitments (C_data, C_W0, C_WT), of the public
    statement and of the proof bundle, the verifier (circuit) version, and where to fetch things."""

    c_data_digest: bytes
    c_w0_digest: bytes
    c_wt_digest: bytes
    statement_digest: bytes
    proof_digest: bytes
    verifier_version: bytes
    bundle_uri: str
    metadata_uri: str = ""

    _DIGESTS = ("c_data_digest", "c_w0_digest", "c_wt_digest", "statement_digest", "proof_digest", "verifier_version")

    def __post_init__(self) -> None:
        _digests(self, self._DIGESTS)

    def as_tuple(self) -> tuple:
        """The ABI tuple (field order of the Solidity struct)."""
        return tuple(getattr(self, n) for n in self._DIGESTS) + (self.bundle_uri, self.metadata_uri)

    def typed_fields(self) -> dict[str, Any]:
        """The EIP-712 `Registration` fields, by their Solidity names (without owner, nonce, deadline)."""
        return {
            "cDataDigest": self.c_data_digest,
            "cW0Digest": self.c_w0_digest,
            "cWTDigest": self.c_wt_digest,
            "statementDigest": self.statement_digest,
            "proofDigest": self.proof_digest,
            "verifierVersion": self.verifier_version,
            "bundleUri": self.bundle_uri,
            "metadataUri": self.metadata_uri,
        }

    @classmethod
    def from_tuple(cls, t: tuple | list | Mapping[str, Any]) -> RegistrationRequest:
        """From an ABI tuple, or from the name-keyed dict web3 decodes event structs into."""
        if isinstance(t, Mapping):
            return cls(*(t[name] for name in _REQUEST_ABI_NAMES))
        return cls(*t)


_REQUEST_ABI_NAMES = (
    "cDataDigest",
    "cW0Digest",
    "cWTDigest",
    "statementDigest",
    "proofDigest",
    "verifierVersion",
    "bundleUri",
    "metadataUri",
)


@dataclass(frozen=True)
class Model:
    """A registered model (`getModel`). `revoked_at` is 0 while the model is not revoked."""

    model_id: bytes
    owner: str
    registered_at: int
    revoked_at: int
    c_data_digest: bytes
    c_w0_digest: bytes
    c_wt_digest: bytes
    statement_digest: bytes
    proof_digest: bytes
    verifier_version: bytes
    bundle_uri: str
    metadata_uri: str

    @property
    def revoked(self) -> bool:
        return self.revoked_at != 0

    @property
    def request(self) -> RegistrationRequest:
        """The registration this model was created from."""
        return RegistrationRequest(
            self.c_data_digest,
            self.c_w0_digest,
            self.c_wt_digest,
            self.statement_digest,
            self.proof_digest,
            self.verifier_version,
            self.bundle_uri,
            self.metadata_uri,
        )

    @classmethod
    def from_tuple(cls, model_id: bytes, t: tuple | list) -> Model:
        owner, registered_at, revoked_at, *rest = t
        c_data, c_w0, c_wt, statement, proof, version = (bytes(x) for x in rest[:6])
        return cls(
            bytes(model_id),
            to_checksum_address(owner),
            int(registered_at),
            int(revoked_at),
            c_data,
            c_w0,
            c_wt,
            statement,
            proof,
            version,
            rest[6],
            rest[7],
        )


@dataclass(frozen=True)
class AttestationRequest:
    """What a verifier attests about a model. `verifier_version` must equal the model's."""

    model_id: bytes
    verdict: Verdict
    verifier_version: bytes
    report_digest: bytes

    def __post_init__(self) -> None:
        _digests(self, ("model_id", "verifier_version", "report_digest"))
        object.__setattr__(self, "verdict", Verdict(self.verdict))

    def as_tuple(self) -> tuple:
        return (self.model_id, int(self.verdict), self.verifier_version, self.report_digest)


@dataclass(frozen=True)
class Attestation:
    """A stored, final attestation (`verdict == NONE` means the verifier has not attested)."""

    verifier: str
    verdict: Verdict
    attested_at: int
    verifier_version: bytes
    report_digest: bytes

    @classmethod
    def from_tuple(cls, t: tuple | list) -> Attestation:
        verifier, verdict, attested_at, version, report = t
        return cls(to_checksum_address(verifier), Verdict(verdict), int(attested_at), bytes(version), bytes(report))


@dataclass(frozen=True)
class ModelStatus:
    """A model's status for buyers (`getStatus`). Counts include only attestations whose verifier
    still holds the verifier role; the others are `ignored_count`."""

    status: Status
    valid_count: int
    invalid_count: int
    ignored_count: int
    quorum: int
    revoked_at: int
    attestations: tuple[Attestation, ...]

    @classmethod
    def from_tuple(cls, t: tuple | list) -> ModelStatus:
        status, valid, invalid, ignored, quorum, revoked_at, atts = t
        return cls(
            Status(status),
            int(valid),
            int(invalid),
            int(ignored),
            int(quorum),
            int(revoked_at),
            tuple(Attestation.from_tuple(a) for a in atts),
        )


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list getter: `items` from `offset`, and the list's `total` length."""

    items: tuple[T, ...]
    offset: int
    total: int

    @property
    def next_offset(self) -> int | None:
        end = self.offset + len(self.items)
        return end if end < self.total else None


@dataclass(frozen=True)
class TxOutcome:
    """A mined, successful transaction."""

    tx_hash: bytes
    block_number: int
    gas_used: int
    events: tuple[dict[str, Any], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Registered:
    """Result of a registration: the model id (read from the ModelRegistered event) and the tx."""

    model_id: bytes
    tx: TxOutcome
