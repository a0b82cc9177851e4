"""Typed values exchanged with the ModelRegistry contract (mirrors contracts/IModelRegistry.sol).

Digests are 32-byte Keccak-256 values; every constructor accepts `bytes` or a 0x-hex string and
stores `bytes`, so values compare equal whatever form the caller used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Generic, TypeVar

from eth_utils import decode_hex, encode_hex, to_checksum_address

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


class IndexKind(IntEnum):
    """The registry's indexes of models: each lists the models sharing one key, newest first."""

    OWNER = 0  # key: the owner's address, left-padded to 32 bytes (`owner_key`)
    DATASET = 1  # key: the C_data digest, the data set's id
    WEIGHTS = 2  # key: the C_WT digest (copies of the same final weights)
    PROOF = 3  # key: the proof digest (copies of the same bundle)
    STATEMENT = 4  # key: the statement digest (a fine-tuned model's parent_digest names its parent's)


def owner_key(owner: str) -> bytes:
    """The OWNER index key of an address."""
    return bytes(12) + decode_hex(to_checksum_address(owner))


ZERO_DIGEST = bytes(32)


@dataclass(frozen=True)
class RegistrationRequest:
    """What an owner registers: digests of the commitments (C_data, also the data set's id; C_W0;
    C_WT), of the public statement and of the proof bundle, the verifier (circuit) version, where to
    fetch things, and the parent model's statement digest (zero unless fine-tuned). Every field but
    the URIs goes into the model id."""

    c_data_digest: bytes
    c_w0_digest: bytes
    c_wt_digest: bytes
    statement_digest: bytes
    proof_digest: bytes
    verifier_version: bytes
    bundle_uri: str
    metadata_uri: str = ""
    parent_digest: bytes = ZERO_DIGEST

    _DIGESTS = ("c_data_digest", "c_w0_digest", "c_wt_digest", "statement_digest", "proof_digest", "verifier_version", "parent_digest")

    def __post_init__(self) -> None:
        _digests(self, self._DIGESTS)

    def as_tuple(self) -> tuple:
        """The ABI tuple (field order of the Solidity struct)."""
        return tuple(self.typed_fields().values())

    def typed_fields(self) -> dict[str, Any]:
        """The fields by their Solidity names, in the struct's order (also the EIP-712 `Registration`
        fields without owner, nonce and deadline)."""
        return {
            "cDataDigest": self.c_data_digest,
            "cW0Digest": self.c_w0_digest,
            "cWTDigest": self.c_wt_digest,
            "statementDigest": self.statement_digest,
            "proofDigest": self.proof_digest,
            "parentDigest": self.parent_digest,
            "verifierVersion": self.verifier_version,
            "bundleUri": self.bundle_uri,
            "metadataUri": self.metadata_uri,
        }

    @classmethod
    def from_tuple(cls, t: tuple | list | Mapping[str, Any]) -> RegistrationRequest:
        """From an ABI tuple, or from the name-keyed dict web3 decodes event structs into."""
        values = [t[name] for name in _REQUEST_ABI_NAMES] if isinstance(t, Mapping) else list(t)
        c_data, c_w0, c_wt, statement, proof, parent, version, bundle_uri, metadata_uri = values
        return cls(c_data, c_w0, c_wt, statement, proof, version, bundle_uri, metadata_uri, parent)


_REQUEST_ABI_NAMES = (
    "cDataDigest",
    "cW0Digest",
    "cWTDigest",
    "statementDigest",
    "proofDigest",
    "parentDigest",
    "verifierVersion",
    "bundleUri",
    "metadataUri",
)


@dataclass(frozen=True)
class ModelRecord:
    """What the registry stores of a model (`getModel`); the registration itself is in the
    ModelRegistered event of `registered_block`."""

    owner: str
    registered_block: int
    revoked_at: int
    quorum: int
    seq: int

    @classmethod
    def from_tuple(cls, t: tuple | list) -> ModelRecord:
        owner, block, revoked_at, quorum, seq = t
        return cls(to_checksum_address(owner), int(block), int(revoked_at), int(quorum), int(seq))


@dataclass(frozen=True)
class Model:
    """A registered model: its stored record joined with its registration event, whose fields hash
    to `model_id` (`RegistryClient.get_model` checks). `revoked_at` is 0 while not revoked."""

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
    parent_digest: bytes = ZERO_DIGEST
    registered_block: int = 0
    quorum: int = 0  # the quorum in force at registration: its status is counted against it

    @property
    def revoked(self) -> bool:
        return self.revoked_at != 0

    @property
    def dataset_id(self) -> bytes:
        """The data set's id: the C_data digest."""
        return self.c_data_digest

    @property
    def fine_tuned(self) -> bool:
        return self.parent_digest != ZERO_DIGEST

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
            self.parent_digest,
        )

    @classmethod
    def joined(cls, model_id: bytes, record: ModelRecord, request: RegistrationRequest, registered_at: int) -> Model:
        r = request
        return cls(
            bytes(model_id),
            record.owner,
            int(registered_at),
            record.revoked_at,
            r.c_data_digest,
            r.c_w0_digest,
            r.c_wt_digest,
            r.statement_digest,
            r.proof_digest,
            r.verifier_version,
            r.bundle_uri,
            r.metadata_uri,
            r.parent_digest,
            record.registered_block,
            record.quorum,
        )


@dataclass(frozen=True)
class DatasetRequest:
    """What a data set's owner registers: its id (the C_data digest), its shape, the Keccak-256 of its
    range-proof file and the URI of its description."""

    dataset_id: bytes
    samples: int
    features: int
    classes: int
    frac_bits: int
    range_proof_digest: bytes
    uri: str

    def __post_init__(self) -> None:
        _digests(self, ("dataset_id", "range_proof_digest"))

    def as_tuple(self) -> tuple:
        return (self.dataset_id, self.samples, self.features, self.classes, self.frac_bits, self.range_proof_digest, self.uri)

    @classmethod
    def from_tuple(cls, t: tuple | list | Mapping[str, Any]) -> DatasetRequest:
        names = ("datasetId", "samples", "features", "classes", "fracBits", "rangeProofDigest", "uri")
        values = [t[n] for n in names] if isinstance(t, Mapping) else list(t)
        dataset_id, samples, features, classes, frac_bits, range_proof, uri = values
        return cls(bytes(dataset_id), int(samples), int(features), int(classes), int(frac_bits), bytes(range_proof), uri)


@dataclass(frozen=True)
class Dataset:
    """A registered data set: its stored record joined with its registration event (for the URI)."""

    owner: str
    registered_block: int
    registered_at: int
    request: DatasetRequest

    @property
    def dataset_id(self) -> bytes:
        return self.request.dataset_id

    def to_json(self) -> dict[str, Any]:
        r = self.request
        return {
            "dataset_id": encode_hex(r.dataset_id),
            "owner": self.owner,
            "registered_block": self.registered_block,
            "registered_at": self.registered_at,
            "samples": r.samples,
            "features": r.features,
            "classes": r.classes,
            "frac_bits": r.frac_bits,
            "range_proof_digest": encode_hex(r.range_proof_digest),
            "uri": r.uri,
        }


@dataclass(frozen=True)
class AttestationRequest:
    """What a verifier attests: a verdict on one model id, that is on one whole registration."""

    model_id: bytes
    verdict: Verdict
    report_digest: bytes

    def __post_init__(self) -> None:
        _digests(self, ("model_id", "report_digest"))
        object.__setattr__(self, "verdict", Verdict(self.verdict))

    def as_tuple(self) -> tuple:
        return (self.model_id, int(self.verdict), self.report_digest)


@dataclass(frozen=True)
class Attestation:
    """A stored, final attestation (`verdict == NONE` means the verifier has not attested).
    `counted` is False for a removed verifier's verdict; `report_digest` comes from the
    ModelAttested event (None when it was not read)."""

    verifier: str
    verdict: Verdict
    attested_at: int
    counted: bool
    report_digest: bytes | None = None

    @classmethod
    def from_tuple(cls, t: tuple | list) -> Attestation:
        verifier, verdict, attested_at, counted = t
        return cls(to_checksum_address(verifier), Verdict(verdict), int(attested_at), bool(counted))


@dataclass(frozen=True)
class ModelStatus:
    """A model's status for buyers (`getStatus`). Counts include only attestations of current
    verifiers; those of removed verifiers are `ignored_count` (their `counted` is False). `quorum`
    is the model's: the quorum in force when it was registered."""

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
class VerifierInfo:
    """An account ever granted the verifier role (`removed_at` 0 while it holds it)."""

    account: str
    granted_at: int
    removed_at: int
    attestations: int

    @property
    def removed(self) -> bool:
        return self.removed_at != 0

    @classmethod
    def from_tuple(cls, t: tuple | list) -> VerifierInfo:
        account, granted_at, removed_at, attestations = t
        return cls(to_checksum_address(account), int(granted_at), int(removed_at), int(attestations))


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
class Shared:
    """The registrations sharing one key of an index (copies of a proof, of final weights, ...):
    how many, the earliest (the original), and the newest `len(models)` of them."""

    kind: IndexKind
    total: int
    earliest: bytes
    models: tuple[bytes, ...]

    @property
    def label(self) -> str:
        return {IndexKind.PROOF: "proof", IndexKind.WEIGHTS: "final weights"}.get(self.kind, self.kind.name.lower())

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.label,
            "total": self.total,
            "earliest": encode_hex(self.earliest),
            "models": [encode_hex(m) for m in self.models],
        }


@dataclass(frozen=True)
class CursorPage(Generic[T]):
    """One page of an index, newest first: `items`, the cursor of the next page (None at the end),
    and how many models share the key."""

    items: tuple[T, ...]
    next_cursor: int | None
    total: int


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
