"""The provenance page a marketplace buyer sees for one model: one self-contained HTML document
(inline CSS, no scripts, no external assets), every value escaped by Jinja2's autoescaping
(templates/provenance.html).

`model_view(...)` builds the JSON the API serves at /models/{id}; `render_provenance_page(view)`
turns it into HTML. `snapshot_view(client, model_id, bundle)` builds the same view straight from
the chain and a local bundle, for a static snapshot without a running service (`make demo`).
"""

from __future__ import annotations

import datetime as _dt
import time
from typing import Any

import jinja2
from eth_utils import encode_hex

from ..chain.client import RegistryClient
from ..proof import registration
from ..proof.statement import describe_origin
from .jobs import Job

STATUS_TEXT = {
    "verified": ("Verified", "Enough independent verifiers checked the proof of this training run and none found a problem."),
    "pending": ("Pending", "Not enough verifiers have attested yet."),
    "disputed": ("Disputed", "At least one verifier found the proof invalid. Do not rely on this model's claimed training run."),
    "revoked": ("Revoked", "The owner withdrew this model."),
    "unknown": ("Unknown", "The chain could not be read; see the last known data below."),
}


def model_view(job: Job, chain: dict[str, Any] | None, *, live: bool) -> dict[str, Any]:
    """The API's JSON for one model: registration, this verifier's job and the on-chain status
    (`chain`: `chain_json`: getStatus, copies and the data-set record; `live` False when it is the cached copy)."""
    reg = job.registration
    return {
        "model_id": job.model_id,
        "owner": job.owner,
        "block_number": job.block_number,
        "tx_hash": job.tx_hash,
        "registered_at": int(reg.get("registered_at", 0) or 0),
        "registration": reg,
        "verification": {
            "state": job.state.value,
            "verdict": job.verdict,
            "reason": job.reason,
            "error": job.error,
            "attempts": job.attempts,
            "proof_bytes": job.proof_bytes,
            "verify_seconds": job.verify_seconds,
            "report_digest": job.report_digest,
            "updated_at": job.updated_at,
        },
        "statement": job.statement,
        "report": job.report,
        "chain": chain,
        "chain_live": live,
    }


def snapshot_view(
    client: RegistryClient, model_id: bytes | str, bundle: bytes | None = None, *, verify_seconds: float | None = None
) -> dict[str, Any]:
    """A view straight from the chain (and the bundle, if given), without a service database."""
    from .service import chain_json

    model = client.get_model(model_id)
    status = chain_json(client, model_id)
    h = encode_hex
    reg = {
        "c_data_digest": h(model.c_data_digest),
        "c_w0_digest": h(model.c_w0_digest),
        "c_wt_digest": h(model.c_wt_digest),
        "statement_digest": h(model.statement_digest),
        "proof_digest": h(model.proof_digest),
        "parent_digest": h(model.parent_digest),
        "verifier_version": h(model.verifier_version),
        "bundle_uri": model.bundle_uri,
        "metadata_uri": model.metadata_uri,
        "registered_at": str(model.registered_at),
    }
    info = registration.claims_of(bundle).to_json() if bundle is not None else None
    return {
        "model_id": h(model.model_id),
        "owner": model.owner,
        "block_number": None,
        "tx_hash": None,
        "registered_at": model.registered_at,
        "registration": reg,
        "verification": {
            "state": "snapshot",
            "verdict": None,
            "reason": None,
            "error": None,
            "attempts": 0,
            "proof_bytes": len(bundle) if bundle is not None else None,
            "verify_seconds": verify_seconds,
            "report_digest": None,
            "updated_at": time.time(),
        },
        "statement": info,
        "report": None,
        "chain": status,
        "chain_live": True,
    }


def _time(ts: Any) -> str:
    try:
        ts = float(ts)
    except (TypeError, ValueError):
        return "—"
    if ts <= 0:
        return "—"
    return _dt.datetime.fromtimestamp(ts, _dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _size(n: Any) -> str:
    if not isinstance(n, int):
        return "—"
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit} ({n:,} bytes)"
    return f"{n:,} bytes"


# Autoescaping escapes every value the template shows; a missing value shows as nothing, not "None".
_PAGES = jinja2.Environment(
    loader=jinja2.PackageLoader("zkdl.service", "templates"),
    autoescape=True,
    keep_trailing_newline=True,
    finalize=lambda value: "" if value is None else value,
)
_PAGES.filters["when"] = _time


def render_provenance_page(view: dict[str, Any], *, verifier: str | None = None, generated_at: float | None = None) -> str:
    """The buyer's page for one model (a complete HTML document, templates/provenance.html)."""
    chain = view.get("chain") or {}
    status = chain.get("status", "unknown") if chain else "unknown"
    title, meaning = STATUS_TEXT.get(status, STATUS_TEXT["unknown"])
    reg = view.get("registration") or {}
    return _PAGES.get_template("provenance.html").render(
        title=title,
        meaning=meaning,
        status=status,
        model_id=view.get("model_id", ""),
        counts=_counts(chain),
        stale=not view.get("chain_live", True),
        statement=_statement_rows(view.get("statement")),
        digests=_digest_rows(reg),
        attestations=chain.get("attestations", []),
        copies=[c for c in chain.get("copies", []) if c["total"] > 1],
        dataset=_dataset_rows(chain.get("dataset"), reg.get("c_data_digest")) if chain else [],
        verification=_verification_rows(view.get("verification") or {}, verifier, (view.get("report") or {}).get("dataset")),
        registration=_registration_rows(view, reg),
        generated=_time(generated_at if generated_at is not None else time.time()),
    )


def _counts(chain: dict[str, Any]) -> str:
    if not chain:
        return "—"
    ignored = f", {chain['ignored_count']} from removed verifiers" if chain.get("ignored_count") else ""
    return f"{chain.get('valid_count', 0)} valid of quorum {chain.get('quorum', '?')}, {chain.get('invalid_count', 0)} invalid{ignored}"


def _statement_rows(info: dict[str, Any] | None) -> list[tuple[str, Any]]:
    st = info.get("statement") if info else None
    if not st:
        return [("Statement", "not available: the bundle was not fetched or did not decode")]
    arch = "-".join(str(w) for w in st["widths"]) + (" with bias" if st.get("bias") else "")
    return [
        ("Architecture (layer widths)", f"MLP {arch}"),
        ("Training", f"{st['steps']} SGD steps, batch {st['batch']}, learning rate {st['learning_rate']}"),
        ("Loss", st.get("loss")),
        ("Data set", _dataset_line(st)),
        ("Fixed point", f"R = {st['frac_bits']} fractional bits, data {st['data_frac_bits']} bits, range checks {st['range_bits']} bits"),
        ("Proven for (owner)", st.get("owner")),
        ("Initial weights", describe_origin(st["initial_weights"]) if "initial_weights" in st else None),
    ]


def _dataset_line(st: dict[str, Any]) -> str:
    ds = st["dataset"]
    visibility = "public: anyone recomputes its id from the data" if ds["public"] else "private: committed by its owner"
    return f"{ds['dataset_id']}, {ds['samples']} training samples ({visibility}), batch schedule seed {st['schedule_seed']}"


def _dataset_rows(record: dict[str, Any] | None, dataset_id: str | None) -> list[tuple[str, Any]]:
    """The data set's record on the registry, or that there is none."""
    if record is None:
        return [("Data set", dataset_id), ("Record", "not registered: no data-set record (its shape and range proof are unchecked)")]
    return [
        ("Data set", record["dataset_id"]),
        ("Registered by", f"{record['owner']} at {_time(record['registered_at'])}"),
        ("Shape", f"{record['samples']} samples x {record['features']} features, {record['classes']} classes"),
        ("Input scale", f"2^{record['frac_bits']}"),
        ("Range-proof digest", record["range_proof_digest"]),
        ("Description", record["uri"]),
    ]


def _digest_rows(reg: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("Statement digest", reg.get("statement_digest")),
        ("C_data (training data) digest", reg.get("c_data_digest")),
        ("C_W0 (initial weights) digest", reg.get("c_w0_digest")),
        ("C_WT (final weights) digest", reg.get("c_wt_digest")),
        ("Proof digest", reg.get("proof_digest")),
        ("Parent statement digest (fine-tuned from)", _parent(reg.get("parent_digest"))),
        ("Verifier version", reg.get("verifier_version")),
    ]


def _parent(digest: str | None) -> str:
    return "none: not fine-tuned" if digest is None or int(digest, 16) == 0 else digest


def _verification_rows(ver: dict[str, Any], verifier: str | None, dataset: dict[str, Any] | None) -> list[tuple[str, Any]]:
    verdict = ver.get("verdict")
    seconds = ver.get("verify_seconds")
    return [
        ("Verifier", verifier or "—"),
        ("Job state", ver.get("state")),
        ("Verdict", verdict or "not yet"),
        ("Reason", ver.get("reason") or ("—" if verdict else (ver.get("error") or "—"))),
        ("Proof size", _size(ver.get("proof_bytes"))),
        ("Verification time", f"{seconds:.2f} s" if isinstance(seconds, float) else "—"),
        ("Report digest", ver.get("report_digest") or "—"),
        ("Data set's range proof", _dataset_check(dataset)),
    ]


def _dataset_check(dataset: dict[str, Any] | None) -> str:
    """The service's check of the data set's registered proof file, as the report gives it."""
    if dataset is None:
        return "—"
    if dataset["status"] == "verified":
        return "verified: every input lies in the range the data set's record states"
    return f"{dataset['status']}: {dataset.get('reason')}"


def _registration_rows(view: dict[str, Any], reg: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("Owner", view.get("owner")),
        ("Registered", _time(view.get("registered_at"))),
        ("Block", view.get("block_number") if view.get("block_number") is not None else "—"),
        ("Bundle URI", reg.get("bundle_uri")),
        ("Metadata URI", reg.get("metadata_uri") or "—"),
    ]
