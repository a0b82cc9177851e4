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
from eth_utils import encode_hex

from zkdl.errors import EXIT_UNUSABLE, ZkdlError
from zkdl.proof.statement import Statement

if TYPE_CHECKING:
    from zkdl.model import Weights
    from zkdl.proof.bundle import Bundle

OPENING_FORMAT = "zkdl-weights-opening"
DIGESTS = ("statement_digest", "c_data_digest", "c_w0_digest", "c_wt_digest", "proof_digest")


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


def proof_rejection(claims: BundleClaims) -> str | None:
    """Why the bundle's proof does not prove its statement; None when it does."""
    from zkdl.proof import training  # the verifier and its kernels load when a proof is first checked

    try:
        training.verify(claims.statement, list(claims.bundle.messages))
    except ZkdlError as exc:
        return exc.user_message
    return None


def weights_opening(statement: Statement, blinds: Iterable[Iterable[int]]) -> str:
    """The buyers' opening file: the blinds of C_WT (the weights themselves travel as the model's .npz)."""
    rows = [[f"{int(limb):x}" for limb in row] for row in blinds]
    return json.dumps({"format": OPENING_FORMAT, "version": 1, "statement_digest": encode_hex(statement.digest()), "blinds": rows})


def check_weights(statement: Statement, weights: Weights, opening_file: str | Path) -> bool:
    """True iff the delivered weights, with the blinds of the opening file, recompute exactly the
    statement's final-weights commitment C_WT."""
    import numpy as np

    from zkdl.proof import commitment as cm  # the commitment kernels load with the first check
    from zkdl.proof.layout import Layout
    from zkdl.proof.witness import weight_slots

    try:
        meta = json.loads(Path(opening_file).read_text())
        blinds = np.array([[int(limb, 16) for limb in row] for row in meta["blinds"]], dtype=np.uint64)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OpeningFormatError(f"{opening_file}: not a readable weights opening ({exc})") from None
    if meta.get("format") != OPENING_FORMAT:
        raise OpeningFormatError(f"{opening_file}: not a {OPENING_FORMAT} file")
    lay = Layout.of(statement)
    if (weights.b is not None) != lay.bias:
        return False  # not the statement's model (a bias where none was proven, or none where one was)
    try:
        padded = weight_slots(lay, weights)
    except ZkdlError:
        return False  # a bias 2^R·b outside int64 was never committed
    try:  # the kernels refuse a blind at or above the field modulus with a ValueError too
        recommitted = cm.recommit(cm.TensorOpening(cm.EntryKind.INT64, padded, blinds))
    except ValueError as exc:
        raise OpeningFormatError(f"{opening_file}: the blinds do not fit the final weights ({exc})") from None
    return cm.encode(recommitted) == statement.c_wt
