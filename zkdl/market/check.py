"""Does a delivered model match a verified registration? The buyer's weight check.

The seller delivers the final weights (`.npz`) and the opening file written by `zkdl prove` (the
blinding factors of C_WT). `check_weights` fetches the registered bundle (its Keccak-256 must be the
registered proof digest), checks that the bundle's C_WT hashes to the registered C_WT digest,
recomputes the commitment from the delivered weights and blinds (`zkdl.proof.registration`), and
says yes only if the recomputed commitment is the registered one *and* the model is verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import encode_hex

from zkdl.chain.client import RegistryClient
from zkdl.chain.errors import UnknownModelError
from zkdl.chain.structs import IndexKind, Shared, Status
from zkdl.errors import EXIT_UNUSABLE, ZkdlError
from zkdl.proof import registration
from zkdl.store import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S, BundleStore

from .ids import parse_model_id
from .query import MAX_LISTED, bundle_claims, fetch_registered_bundle


class UnusableWeightsError(ZkdlError, ValueError):
    """The weights file cannot be read at all (the check cannot run)."""

    code = "unusable-weights"
    exit_code = EXIT_UNUSABLE


@dataclass(frozen=True)
class WeightCheck:
    """The answer: `ok` only if the weights recompute the registered C_WT and the model is verified."""

    ok: bool
    model_id: bytes
    weights_match: bool | None  # None: the check did not get as far as recomputing
    status: Status | None  # None: the model is not registered
    reason: str | None  # why not ok (None when ok)
    same_weights: Shared | None = None  # every registration of these final weights (None: not registered)

    @property
    def earliest(self) -> bool:
        """Whether this model is the earliest registration of its final weights (not a later copy)."""
        return self.same_weights is not None and self.same_weights.earliest == self.model_id

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "model_id": encode_hex(self.model_id),
            "weights_match": self.weights_match,
            "status": None if self.status is None else self.status.name.lower(),
            "reason": self.reason,
            "same_weights": None if self.same_weights is None else self.same_weights.to_json(),
        }


def check_weights(
    client: RegistryClient,
    model_id: bytes | str,
    weights_path: str | Path,
    opening_path: str | Path,
    *,
    store: BundleStore | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> WeightCheck:
    """Check delivered weights against the registered final-weights commitment of `model_id`.

    Returns a `WeightCheck` whose `reason` says what failed: an unknown model, a bundle that does not
    match its registration, weights of another shape, weights that do not recompute C_WT, or a model
    that is not verified (a disputed or revoked one even when its bundle cannot be fetched). Raises
    (the check cannot run) for an unreadable weights or opening file
    (`UnusableWeightsError`, `OpeningFormatError`), an unreachable bundle (`StoreError`), a
    bundle whose bytes are not the registered ones (`IntegrityError`) or an unreachable node.
    """
    from zkdl.model import load_weights
    from zkdl.quant import QuantParams

    mid = parse_model_id(model_id)

    try:
        model = client.get_model(mid)
    except UnknownModelError:
        reason = f"model {encode_hex(mid)} is not registered on registry {client.address} (chain {client.chain_id})"
        return WeightCheck(False, mid, None, None, reason)
    status = client.get_status(mid)
    same_weights = client.shared(IndexKind.WEIGHTS, model.c_wt_digest, MAX_LISTED)

    def no(reason: str, status: Status | None, match: bool | None = None) -> WeightCheck:
        return WeightCheck(False, mid, match, status, reason, same_weights)

    try:
        bundle = fetch_registered_bundle(model, store=store, max_bytes=max_bytes, timeout_s=timeout_s)
    except ZkdlError as exc:
        if status.status not in (Status.DISPUTED, Status.REVOKED):
            raise
        # No weights pass such a model: that is the answer, whatever happened to its bundle.
        counts = f"{status.valid_count} valid, {status.invalid_count} invalid attestations"
        return no(f"the model is {status.status.name.lower()} ({counts}); its bundle is unavailable ({exc.user_message})", status.status)
    claims, mismatches = bundle_claims(model, bundle)
    if mismatches:
        return no("the registered bundle does not match its registration: " + "; ".join(mismatches), status.status)
    statement = claims.statement
    try:
        weights = load_weights(weights_path, QuantParams(statement.frac_bits, statement.lr_exp, statement.range_bits))
    except ZkdlError as exc:  # an unreadable file or arrays that are not weights: the buyer's input is unusable
        raise UnusableWeightsError(f"cannot use weights {weights_path}: {exc.user_message}") from None
    except Exception as exc:
        raise UnusableWeightsError(f"cannot read weights {weights_path}: {type(exc).__name__}: {exc}") from None
    checked = registration.check_weights(statement, weights, opening_path)
    if not checked.ok:
        return no(f"{checked.reason} (registered C_WT digest {encode_hex(model.c_wt_digest)})", status.status, False)
    if status.status is not Status.VERIFIED:
        return no(
            f"the weights match C_WT but the model is not verified: status {status.status.name.lower()} "
            f"({status.valid_count} valid, {status.invalid_count} invalid attestations; quorum "
            f"{status.quorum})",
            status.status,
            True,
        )
    return WeightCheck(True, mid, True, status.status, None, same_weights)
