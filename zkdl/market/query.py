"""A model's provenance for buyers: what the registry says, and what its proof bundle claims.

The chain is the authority: the record (owner, digests, URIs, times), the status with its counts and
the attestations all come from the registry. The bundle is fetched from its registered URI only to
decode the public statement (architecture, hyper-parameters, steps); its bytes are accepted only if
they hash to the registered proof digest, and every digest the bundle implies (statement, C_data,
C_W0, C_WT) is compared with the registered one. A disagreement is reported in `mismatches`, never
resolved in the bundle's favour.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

from eth_hash.auto import keccak
from eth_utils import encode_hex, to_checksum_address

from zkdl.chain.client import RegistryClient
from zkdl.chain.lineage import MAX_LISTED, lineage, models_json
from zkdl.chain.structs import Attestation, Dataset, IndexKind, Model, ModelStatus, Shared, Status
from zkdl.commands import printable
from zkdl.errors import ZkdlError
from zkdl.proof.registration import BundleClaims, claims_of, copy_of, dataset_rejection, differences
from zkdl.proof.statement import KNOWN_VERIFIER_VERSIONS, Statement, describe_origin
from zkdl.store import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S, BundleStore, fetch

from .ids import ModelIdError, looks_like_model_id, parse_model_id  # noqa: F401 - re-exported


@dataclass(frozen=True)
class AttestationView:
    """One attestation; `counted` is False for a verdict from a removed verifier."""

    attestation: Attestation

    @property
    def counted(self) -> bool:
        return self.attestation.counted

    def to_json(self) -> dict[str, Any]:
        a = self.attestation
        return {
            "verifier": a.verifier,
            "verdict": a.verdict.name.lower(),
            "attested_at": a.attested_at,
            "report_digest": None if a.report_digest is None else encode_hex(a.report_digest),
            "counted": a.counted,
            "removed_verifier": not a.counted,
        }


def copies_of(client: RegistryClient, model: Model) -> tuple[Shared, Shared]:
    """The registrations sharing the model's proof, and its final weights (the model is among them)."""
    found = (
        client.shared(IndexKind.PROOF, model.proof_digest, MAX_LISTED),
        client.shared(IndexKind.WEIGHTS, model.c_wt_digest, MAX_LISTED),
    )
    assert found[0] is not None and found[1] is not None, "a registered model is in its own indexes"
    return found[0], found[1]


@dataclass(frozen=True)
class Provenance:
    """Everything a buyer needs to judge a registered model."""

    model_id: bytes
    chain_id: int
    registry: str
    model: Model
    status: ModelStatus
    attestations: tuple[AttestationView, ...]
    claims: BundleClaims | None  # None when the bundle could not be fetched or decoded
    bundle_error: str | None  # why `claims` is None
    mismatches: tuple[str, ...]  # where the bundle disagrees with the chain (the chain wins)
    parents: tuple[Model, ...] = ()  # a fine-tuned model's parent registrations (C_WT = this C_W0)
    ancestors: tuple[Model, ...] = ()  # the parent's parent and so on (the earliest linked registration each)
    dataset: Dataset | None = None  # the data-set record of C_data, None when not registered
    copies: tuple[Shared, ...] = ()  # registrations sharing the proof, the final weights
    dataset_check: str | None = None  # the record's proof file checked here: "verified", or why not (None: not tried)

    @property
    def verified(self) -> bool:
        return self.status.status is Status.VERIFIED

    @property
    def verifier_version_name(self) -> str | None:
        return KNOWN_VERIFIER_VERSIONS.get(self.model.verifier_version)

    def to_json(self) -> dict[str, Any]:
        m, s = self.model, self.status
        return {
            "model_id": encode_hex(self.model_id),
            "chain_id": self.chain_id,
            "registry": self.registry,
            "status": s.status.name.lower(),
            "counts": {"valid": s.valid_count, "invalid": s.invalid_count, "ignored": s.ignored_count, "quorum": s.quorum},
            "revoked_at": s.revoked_at or None,
            "owner": m.owner,
            "registered_at": m.registered_at,
            "verifier_version": encode_hex(m.verifier_version),
            "verifier_version_name": self.verifier_version_name,
            "statement_digest": encode_hex(m.statement_digest),
            "proof_digest": encode_hex(m.proof_digest),
            "commitment_digests": {
                "c_data": encode_hex(m.c_data_digest),
                "c_w0": encode_hex(m.c_w0_digest),
                "c_wt": encode_hex(m.c_wt_digest),
            },
            "bundle_uri": m.bundle_uri,
            "metadata_uri": m.metadata_uri,
            "attestations": [a.to_json() for a in self.attestations],
            "bundle": None
            if self.claims is None
            else {
                "fetched": True,
                "digest_checked": True,
                "bytes": self.claims.bundle_bytes,
                "messages": self.claims.messages,
                "statement": self.claims.statement.to_json(),
            },
            "bundle_error": self.bundle_error,
            "mismatches": list(self.mismatches),
            "parent_digest": encode_hex(m.parent_digest),
            "parents": models_json(self.parents),
            "ancestors": models_json(self.ancestors),
            "dataset": None if self.dataset is None else self.dataset.to_json(),
            "dataset_registered": self.dataset is not None,
            "dataset_check": self.dataset_check,
            "copies": [c.to_json() for c in self.copies],
        }

    def describe(self) -> str:
        """Human-readable lines."""
        m, s = self.model, self.status
        lines = [f"model {encode_hex(self.model_id)}", f"  registry {self.registry} on chain {self.chain_id}"]
        status = s.status.name
        if s.status is Status.REVOKED:
            status += f" at {_time(s.revoked_at)}"
        lines.append(
            f"status {status}: {s.valid_count} valid, {s.invalid_count} invalid of quorum {s.quorum}"
            + (f" ({s.ignored_count} verdict(s) from removed verifiers, not counted)" if s.ignored_count else "")
        )
        lines.append(f"owner {m.owner}, registered {_time(m.registered_at)}")
        name = self.verifier_version_name
        lines.append(f"verifier version {encode_hex(m.verifier_version)} ({name if name else 'unknown to this zkdl'})")
        if self.claims is not None:
            st = self.claims.statement
            lines.append(
                f"training run: MLP {'-'.join(map(str, st.widths))}{' with bias' if st.bias else ''}, "
                f"{st.steps} SGD steps of batch {st.batch}, learning rate 2^-{st.lr_exp}"
            )
            lines.append(
                f"  R = {st.frac_bits}, range {st.range_bits} bits, square loss on one-hot targets, "
                f"{st.n_train} training samples (input scale 2^{st.data_frac_bits}), "
                f"schedule seed {st.schedule_seed}"
            )
            visibility = "public: its id is the data's own" if st.dataset.public else "private"
            lines.append(f"  data set {encode_hex(keccak(st.c_data))} ({visibility})")
            lines.append(f"  proven for owner {to_checksum_address(st.owner)}; initial weights: {describe_origin(st.origin())}")
        else:
            lines.append(f"training run: unknown, the bundle is unavailable ({self.bundle_error})")
        for parent in self.parents:
            lines.append(f"  parent: model {encode_hex(parent.model_id)} (owner {parent.owner}): its C_WT is this model's C_W0")
        for ancestor in self.ancestors:
            lines.append(f"  ancestor: model {encode_hex(ancestor.model_id)} (owner {ancestor.owner})")
        lines.append(_describe_dataset(m.c_data_digest, self.dataset))
        if self.dataset_check is not None:
            lines.append(f"  its range proof, checked here: {self.dataset_check}")
        for c in self.copies:
            if c.total > 1:
                earliest = "this registration" if c.earliest == self.model_id else encode_hex(c.earliest)
                lines.append(f"{c.total} registrations share this {c.label}; the earliest is {earliest}")
                lines += [f"  {encode_hex(other)}" for other in c.models if other != self.model_id]
        lines += [
            f"statement digest {encode_hex(m.statement_digest)}",
            f"proof digest     {encode_hex(m.proof_digest)}",
            f"C_data {encode_hex(m.c_data_digest)}",
            f"C_W0   {encode_hex(m.c_w0_digest)}",
            f"C_WT   {encode_hex(m.c_wt_digest)}",
            f"bundle {m.bundle_uri}" + (" (fetched, digest checked)" if self.claims is not None else ""),
        ]
        if m.metadata_uri:
            lines.append(f"metadata {m.metadata_uri}")
        lines.append(f"attestations: {len(self.attestations) or 'none'}")
        for a in self.attestations:
            att = a.attestation
            report = "unknown" if att.report_digest is None else encode_hex(att.report_digest)
            lines.append(
                f"  {att.verifier} {att.verdict.name} at {_time(att.attested_at)}, report "
                f"{report}{'' if a.counted else ' (verdict from a removed verifier: not counted)'}"
            )
        for problem in self.mismatches:
            lines.append(f"WARNING: {problem}")
        return "\n".join(printable(line) for line in lines)  # URIs and mismatches quote untrusted registrations


def provenance(
    client: RegistryClient,
    model_id: bytes | str,
    *,
    store: BundleStore | None = None,
    fetch_bundle: bool = True,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Provenance:
    """The registered record, status, attestations and (if fetchable) the bundle's statement.

    Raises `UnknownModelError` (a `RegistryError`) for an id the registry does not know.
    """
    mid = parse_model_id(model_id)
    model = client.get_model(mid)
    status = client.get_status(mid)
    claims: BundleClaims | None = None
    error: str | None = None
    mismatches: list[str] = []
    if fetch_bundle:
        try:
            data = fetch_registered_bundle(model, store=store, max_bytes=max_bytes, timeout_s=timeout_s)
            claims, mismatches = bundle_claims(model, data)
        except ZkdlError as exc:
            error = exc.user_message
    parents, ancestors, problem = lineage(client, model)
    dataset = client.get_dataset(model.c_data_digest) if client.dataset_exists(model.c_data_digest) else None
    dataset_check = None
    if claims is not None and dataset is not None:
        mismatches += _dataset_mismatches(dataset, claims.statement)
        dataset_check = _check_dataset_file(dataset, claims.statement, store, max_bytes, timeout_s)
    copies = copies_of(client, model)
    return Provenance(
        mid,
        client.chain_id,
        client.address,
        model,
        status,
        tuple(AttestationView(a) for a in status.attestations),
        claims,
        error,
        tuple(mismatches + ([problem] if problem else [])),
        parents,
        ancestors,
        dataset,
        copies,
        dataset_check,
    )


def _check_dataset_file(dataset: Dataset, statement: Statement, store: BundleStore | None, max_bytes: int, timeout_s: float) -> str:
    """The data-set record's proof file, fetched (its digest checked) and verified against the
    statement's data set: "verified", or why not."""
    d = dataset.request
    try:
        data = (
            store.get(d.uri, d.range_proof_digest, max_bytes, timeout_s)
            if store is not None
            else fetch(d.uri, d.range_proof_digest, max_bytes, timeout_s)
        )
    except ZkdlError as exc:
        return f"unchecked: its proof file cannot be fetched ({exc.user_message})"
    reason = dataset_rejection(statement, data)
    return "verified" if reason is None else f"INVALID: {reason}"


def _dataset_mismatches(dataset: Dataset, statement: Statement) -> list[str]:
    """Where the registered data-set record disagrees with the data the statement trains on."""
    d = dataset.request
    pairs = (
        ("samples", d.samples, statement.n_train),
        ("features", d.features, statement.widths[0]),
        ("classes", d.classes, statement.widths[-1]),
        ("fraction bits", d.frac_bits, statement.data_frac_bits),
    )
    return [
        f"the data-set record of C_data says {name} {recorded}, the statement trains on {trained}: they do not describe the same data"
        for name, recorded, trained in pairs
        if recorded != trained
    ]


def _describe_dataset(dataset_id: bytes, dataset: Dataset | None) -> str:
    if dataset is None:
        return f"data set {encode_hex(dataset_id)}: not registered (no data-set record: its shape and range proof are unchecked)"
    d = dataset.request
    return (
        f"data set {encode_hex(dataset_id)}: registered by {dataset.owner} at {_time(dataset.registered_at)}: "
        f"{d.samples} samples x {d.features} features, {d.classes} classes, input scale 2^{d.frac_bits}; "
        f"range proof {encode_hex(d.range_proof_digest)}; {d.uri}"
    )


def fetch_registered_bundle(
    model: Model, *, store: BundleStore | None = None, max_bytes: int = DEFAULT_MAX_BYTES, timeout_s: float = DEFAULT_TIMEOUT_S
) -> bytes:
    """The bundle at the registered URI; its Keccak-256 must be the registered proof digest
    (`IntegrityError` otherwise). A local store's own copy is used when it has one."""
    if store is not None:
        return store.get(model.bundle_uri, model.proof_digest, max_bytes, timeout_s)
    return fetch(model.bundle_uri, model.proof_digest, max_bytes, timeout_s)


def bundle_claims(model: Model, data: bytes) -> tuple[BundleClaims, list[str]]:
    """Decode a digest-checked bundle and list where it disagrees with the registered record."""
    claims = claims_of(data)
    mismatches = [
        f"the bundle's {_LABELS[d.field]} {encode_hex(d.claimed)} differs from the registered "
        f"{encode_hex(d.registered)}: the registration does not describe this proof; do not trust the statement "
        "shown"
        for d in differences(claims, model)
    ]
    copy = copy_of(claims.statement, model.owner)
    return claims, mismatches + ([f"{copy}: only that owner's registration is the proven model"] if copy else [])


_LABELS = {
    "statement_digest": "statement digest",
    "c_data_digest": "C_data digest",
    "c_w0_digest": "C_W0 digest",
    "c_wt_digest": "C_WT digest",
    "proof_digest": "proof digest",
    "parent_digest": "parent statement digest (its lineage)",
}


def _time(ts: int) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if ts else "never"
