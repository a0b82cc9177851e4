"""Which registration a proof bundle claims, and where a registered record does not match it.

A registration names a bundle by the digests the bundle implies: the statement digest, the
Keccak-256 of each commitment (C_data, C_W0, C_WT) and the proof digest, the Keccak-256 of the
bundle bytes. `claims_of` decodes a bundle once and gives these digests with the statement and the
decoded proof; `differences` compares them with a record. The relayer registers a bundle's claims
(`zkdl.chain.register`), the verifier service checks a fetched bundle against its registration
(`zkdl.service.report`) and a buyer's provenance lists the differences (`zkdl.market.query`), so
the rule is written once, here.

A buyer's other question, whether delivered weights are the committed final weights, is answered
by `check_weights` with the opening file that `zkdl prove` writes beside the bundle
(`weights_opening`).

Importing this module loads no native kernels, so the chain client, the service and the buyer tools
stay light. Decoding a bundle (its points are checked on the curve), verifying a proof and
recomputing a commitment load them when first asked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from eth_hash.auto import keccak
from eth_utils import encode_hex, to_checksum_address

from zkdl.errors import EXIT_UNUSABLE, ZkdlError
from zkdl.proof.statement import Statement

if TYPE_CHECKING:
    from zkdl.model import Weights
    from zkdl.proof.bundle import Bundle
    from zkdl.proof.training import ChunkVerifier

OPENING_FORMAT = "zkdl-weights-opening"
OPENING_VERSION = 3  # 1 held the blinds as internal limbs; 2 as field integers; 3 of the packed weights (proof v6)
DIGESTS = ("statement_digest", "c_data_digest", "c_w0_digest", "c_wt_digest", "proof_digest", "parent_digest")


class OpeningFormatError(ZkdlError, ValueError):
    """A weights opening file is unreadable or does not fit the statement."""

    code = "opening-format"
    exit_code = EXIT_UNUSABLE


class Registered(Protocol):
    """A record that names a bundle by its digests: a registration request, a registered model
    (read-only members: frozen dataclasses qualify)."""

    @property
    def statement_digest(self) -> bytes: ...
    @property
    def c_data_digest(self) -> bytes: ...
    @property
    def c_w0_digest(self) -> bytes: ...
    @property
    def c_wt_digest(self) -> bytes: ...
    @property
    def proof_digest(self) -> bytes: ...
    @property
    def parent_digest(self) -> bytes: ...


@dataclass(frozen=True)
class BundleClaims:
    """A decoded bundle: its statement and proof, and the digests its registration must hold."""

    bundle: Bundle
    bundle_bytes: int
    statement_digest: bytes
    c_data_digest: bytes
    c_w0_digest: bytes
    c_wt_digest: bytes
    proof_digest: bytes

    @property
    def parent_digest(self) -> bytes:
        """The parent's statement digest the proof names (zero unless fine-tuned): the registry's lineage."""
        return self.bundle.statement.parent

    @property
    def statement(self) -> Statement:
        return self.bundle.statement

    @property
    def messages(self) -> int:
        return len(self.bundle.messages)

    def to_json(self) -> dict[str, Any]:
        """The statement, the digests and the sizes, as `zkdl inspect --json` prints them."""
        return {
            "statement": self.statement.to_json(),
            "statement_digest": encode_hex(self.statement_digest),
            "proof_digest": encode_hex(self.proof_digest),
            "commitment_digests": {name: encode_hex(d) for name, d in self.statement.commitment_digests().items()},
            "bundle_bytes": self.bundle_bytes,
            "messages": self.messages,
        }


@dataclass(frozen=True)
class Difference:
    """One digest on which a record and a bundle's claims disagree."""

    field: str  # one of DIGESTS
    claimed: bytes
    registered: bytes


def claims_of(data: bytes) -> BundleClaims:
    """Decode a bundle (`BundleFormatError` if it is not a canonical one) and derive its digests."""
    from zkdl.proof.bundle import Bundle  # checks points with the kernels: they load here, not on import

    bundle = Bundle.decode(data)
    commitments = bundle.statement.commitment_digests()
    return BundleClaims(
        bundle, len(data), bundle.statement.digest(), commitments["c_data"], commitments["c_w0"], commitments["c_wt"], keccak(data)
    )


def differences(claimed: Registered, registered: Registered) -> list[Difference]:
    """The digests of `registered` that are not those of `claimed`, in the order of `DIGESTS`."""
    pairs = ((name, getattr(claimed, name), getattr(registered, name)) for name in DIGESTS)
    return [Difference(name, mine, theirs) for name, mine, theirs in pairs if mine != theirs]


def proof_rejection(claims: BundleClaims, verify_chunks: ChunkVerifier | None = None) -> str | None:
    """Why the bundle's proof does not prove its statement; None when it does. `verify_chunks`
    verifies its chunks (training.verify's; by default in turn, in this process)."""
    from zkdl.proof import training  # the verifier and its kernels load when a proof is first checked

    try:
        training.verify(claims.statement, claims.bundle.messages, verify_chunks or training.verify_in_turn)
    except ZkdlError as exc:
        return exc.user_message
    return None


def dataset_rejection(statement: Statement, dataset_file: bytes) -> str | None:
    """Why a data-set proof file is not a valid proof of the statement's data set (its range
    proof); None when it is."""
    from zkdl.proof.bundle import BundleFormatError, DatasetBundle
    from zkdl.proof.data_range import verify_dataset

    try:
        bundle = DatasetBundle.decode(dataset_file)
    except BundleFormatError as exc:
        return f"the data-set proof is unusable: {exc.user_message}"
    if bundle.dataset.encode() != statement.c_data:
        theirs, ours = encode_hex(bundle.dataset.digest()), encode_hex(keccak(statement.c_data))
        return f"the data-set proof is of data set {theirs}, not the statement's {ours}"
    try:
        verify_dataset(bundle.dataset, list(bundle.messages))
    except ZkdlError as exc:
        return f"the data set's range proof: {exc.user_message}"
    return None


def weights_opening(statement: Statement, blinds: Iterable[int]) -> str:
    """The buyers' opening file: the blinds of C_WT as field integers (the weights themselves travel
    as the model's .npz), named by the statement they open."""
    return json.dumps(
        {
            "format": OPENING_FORMAT,
            "version": OPENING_VERSION,
            "statement_digest": encode_hex(statement.digest()),
            "blinds": [hex(int(b)) for b in blinds],
        }
    )


@dataclass(frozen=True)
class WeightsOpening:
    """A parsed opening file: the statement it opens and the blinds of that statement's C_WT."""

    statement_digest: bytes
    blinds: list[int]


def read_opening(opening_file: str | Path) -> WeightsOpening:
    """Parses an opening file (`OpeningFormatError` naming what is wrong, never a raw exception)."""
    try:
        meta = json.loads(Path(opening_file).read_text("utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        raise OpeningFormatError(f"{opening_file}: not a readable weights opening ({exc})") from None
    if meta.get("format") != OPENING_FORMAT:
        raise OpeningFormatError(f"{opening_file}: not a {OPENING_FORMAT} file")
    if meta.get("version") != OPENING_VERSION:
        raise OpeningFormatError(
            f"{opening_file}: opening version {meta.get('version')}, this zkdl reads version {OPENING_VERSION}: "
            "ask the seller for an opening written by this version"
        )
    try:
        digest = bytes.fromhex(str(meta["statement_digest"]).removeprefix("0x"))
        blinds = [int(str(b), 16) for b in meta["blinds"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise OpeningFormatError(f"{opening_file}: malformed statement digest or blinds ({exc})") from None
    if len(digest) != 32:
        raise OpeningFormatError(f"{opening_file}: the statement digest is not 32 bytes")
    return WeightsOpening(digest, blinds)


@dataclass(frozen=True)
class WeightsCheck:
    """Whether delivered weights are a statement's committed final weights, and if not, why."""

    ok: bool
    reason: str | None = None


def check_weights(statement: Statement, weights: Weights, opening_file: str | Path) -> WeightsCheck:
    """Whether the delivered weights, with the blinds of the opening file, are the statement's final
    weights: the weights must have its architecture (widths, bias, shapes: zero-extended weights of
    another network are not it) and, with the opening's blinds, recompute C_WT exactly. An opening
    that is unreadable or names another statement raises `OpeningFormatError`."""
    from zkdl import backend  # the commitment kernels load with the first check
    from zkdl.model import ModelSpec
    from zkdl.proof import commitment as cm
    from zkdl.proof.layout import Layout
    from zkdl.proof.witness import packed_weights

    opening = read_opening(opening_file)
    if opening.statement_digest != statement.digest():  # the wrong file, not wrong weights: unusable input
        raise OpeningFormatError(
            f"{opening_file} is the opening of statement {encode_hex(opening.statement_digest)}, but the model's "
            f"statement is {encode_hex(statement.digest())}: ask the seller for this model's opening file"
        )
    try:
        weights.check(ModelSpec(tuple(statement.widths), statement.bias))
    except ZkdlError as exc:
        return WeightsCheck(
            False, f"the weights are not of the proven architecture (MLP {'-'.join(map(str, statement.widths))}): {exc.user_message}"
        )
    if any(not 0 <= b < backend.MODULUS for b in opening.blinds):
        raise OpeningFormatError(f"{opening_file}: a blind is not a field element (0 ≤ b < r): the file is damaged")
    lay = Layout.of(statement)
    try:
        padded = packed_weights(lay, weights)
        recommitted, _ = cm.open_int64(padded, backend.from_ints(opening.blinds))
    except ZkdlError as exc:
        return WeightsCheck(False, f"the weights cannot be the committed ones: {exc.user_message}")
    except ValueError as exc:  # the kernels refuse a blind at or above the field modulus, or a wrong count
        raise OpeningFormatError(f"{opening_file}: the blinds do not fit the final weights ({exc})") from None
    if cm.encode(recommitted) != statement.c_wt:
        return WeightsCheck(
            False,
            "the delivered weights, with the blinds of the opening file, do not recompute the final-weights "
            "commitment C_WT: they are not the weights of the proven run",
        )
    return WeightsCheck(True)


def copy_of(statement: Statement, owner: str) -> str | None:
    """Why a registration by `owner` of a bundle proving `statement` is a copy (the proof is bound to
    another owner: only that owner could have made it), or None when the owners agree."""
    bound = to_checksum_address(statement.owner)
    if bound == to_checksum_address(owner):
        return None
    return f"a copy: the proof is bound to owner {bound}, but this registration's owner is {to_checksum_address(owner)}"
