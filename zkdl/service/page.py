"""The provenance page a marketplace buyer sees for one model: one self-contained HTML document
(inline CSS, one inline script for the copy buttons allowed by its hash, no external assets), every
value escaped by Jinja2's autoescaping (templates/provenance.html).

`model_view(...)` builds the JSON the API serves at /models/{id}; `render_provenance_page(view)`
turns it into HTML. `snapshot_view(client, model_id, bundle)` builds the same view straight from
the chain and a local bundle, for a static snapshot without a running service (`make demo`).
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import time
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import jinja2
from eth_utils import encode_hex
from markupsafe import Markup

from ..chain.client import RegistryClient
from ..proof import registration
from ..proof.statement import describe_origin
from .jobs import Job

STATUS_TITLES = {"verified": "Verified", "pending": "Pending", "disputed": "Disputed", "revoked": "Revoked", "unknown": "Unknown"}

# The copy buttons' script: inline, and the only script the page's policy allows (by its hash).
COPY_SCRIPT = (resources.files("zkdl.service") / "templates" / "copy.js").read_text(encoding="utf-8")
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(COPY_SCRIPT.encode()).digest()).decode()
PAGE_CSP = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{_SCRIPT_HASH}'"
PAGE_HEADERS = {"Content-Security-Policy": PAGE_CSP, "X-Content-Type-Options": "nosniff"}

# What the buyer runs on the weights and opening file the seller delivered (docs/market.md).
CHECK_WEIGHTS = "zkdl check-weights {model_id} weights_final.npz --opening run.zkdl.opening.json"


def model_view(
    job: Job, chain: dict[str, Any] | None, *, live: bool, chain_id: int | None = None, registry: str | None = None
) -> dict[str, Any]:
    """The API's JSON for one model: where it is registered (`chain_id`, `registry`: the service's,
    known even while the node is down), the registration, this verifier's job, the on-chain status
    (`chain`: `chain_json`: getStatus, copies, the data-set record and the lineage; `live` False
    when it is the cached copy) and `links` to the service's page and report."""
    reg = job.registration
    return {
        "model_id": job.model_id,
        "chain_id": chain_id,
        "registry": registry,
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
        "links": {"page": f"/models/{job.model_id}/page", "report": f"/models/{job.model_id}/report" if job.report else None},
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
        "chain_id": client.chain_id,
        "registry": client.address,
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
        "links": None,  # a static file: no service to link to
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
_PAGES.filters["short"] = lambda value: f"{value[:10]}…{value[-8:]}" if value and len(value) > 24 else value


def render_provenance_page(
    view: dict[str, Any], *, verifier: str | None = None, generated_at: float | None = None, explorer_url: str | None = None
) -> str:
    """The buyer's page for one model (a complete HTML document, templates/provenance.html).
    `explorer_url`: a block explorer's base URL (e.g. https://etherscan.io) for links to the registry
    and the registration transaction; none without it."""
    chain = view.get("chain") or {}
    status = chain.get("status", "unknown") if chain else "unknown"
    reg = view.get("registration") or {}
    model_id = view.get("model_id", "")
    links = view.get("links") or {}
    return _PAGES.get_template("provenance.html").render(
        title=STATUS_TITLES.get(status, "Unknown"),
        meaning=_meaning(status, chain),
        status=status,
        model_id=model_id,
        counts=_counts(chain),
        stale=not view.get("chain_live", True),
        statement=_statement_rows(view.get("statement")),
        digests=_digest_rows(reg),
        attestations=chain.get("attestations", []),
        copies=[c for c in chain.get("copies", []) if c["total"] > 1],
        dataset=_dataset_rows(chain.get("dataset"), reg.get("c_data_digest")) if chain else [],
        lineage=_lineage(chain, reg, view.get("statement")),
        verification=_verification_rows(view.get("verification") or {}, verifier, (view.get("report") or {}).get("dataset")),
        registration=_registration_rows(view, reg),
        record=_record(view, explorer_url),
        bundle=_bundle_link(reg.get("bundle_uri")),
        command=_check_command(model_id, view.get("registry")),
        report_link=links.get("report"),
        pages=bool(links),
        script=Markup(COPY_SCRIPT),  # not escaped: the project's own file, which the policy allows by its hash
        csp=PAGE_CSP,
        generated=_time(generated_at if generated_at is not None else time.time()),
    )


def _counts(chain: dict[str, Any]) -> str:
    if not chain:
        return "—"
    ignored = f", {chain['ignored_count']} from removed verifiers" if chain.get("ignored_count") else ""
    return f"{chain.get('valid_count', 0)} valid of quorum {chain.get('quorum', '?')}, {chain.get('invalid_count', 0)} invalid{ignored}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _meaning(status: str, chain: dict[str, Any]) -> str:
    """What the status means for this model, in its own numbers: one verifier is not "enough
    independent verifiers" unless the registry's quorum for this model is one."""
    valid, invalid = chain.get("valid_count", 0), chain.get("invalid_count", 0)
    needs = f"this registry needs {chain.get('quorum', '?')} for this model"
    if status == "verified":
        return f"{_plural(valid, 'verifier')} attested the proof of this training run valid; {needs}, and none found it invalid."
    if status == "pending":
        return f"{_plural(valid, 'verifier')} attested the proof valid so far; {needs}."
    if status == "disputed":
        return f"{_plural(invalid, 'verifier')} found the proof invalid. Do not rely on this model's claimed training run."
    if status == "revoked":
        return "The owner withdrew this model."
    return "The chain could not be read; see the last known data below."


def _bundle_link(uri: str | None) -> dict[str, Any]:
    """The bundle's URI, a link only when it is http(s) (a file:// URI names the owner's disk)."""
    parts = urlsplit(uri or "")
    return {"uri": uri or "", "href": uri if parts.scheme in ("http", "https") and parts.netloc else None}


def _record(view: dict[str, Any], explorer_url: str | None) -> dict[str, Any]:
    """Where the registration is on chain, with explorer links when an explorer is configured."""
    registry, tx = view.get("registry"), view.get("tx_hash")
    base = (explorer_url or "").rstrip("/")
    return {
        "chain_id": view.get("chain_id"),
        "registry": registry,
        "tx_hash": tx,
        "registry_href": f"{base}/address/{registry}" if base and registry else None,
        "tx_href": f"{base}/tx/{tx}" if base and tx else None,
    }


def _check_command(model_id: str, registry: str | None) -> str:
    command = CHECK_WEIGHTS.format(model_id=model_id)
    return f"{command} --registry {registry}" if registry else command


def _lineage(chain: dict[str, Any], reg: dict[str, Any], info: dict[str, Any] | None) -> dict[str, Any]:
    """The drawing's boxes: the data set (its record or none), the parent registrations (or where the
    initial weights came from), this model."""
    record = chain.get("dataset")
    lineage = chain.get("lineage") or {}
    st = (info or {}).get("statement") or {}
    return {
        "dataset": reg.get("c_data_digest"),
        "dataset_owner": record["owner"] if record else None,
        "fine_tuned": _parent(reg.get("parent_digest")) != NOT_FINE_TUNED,
        "parents": lineage.get("parents", []),
        "ancestors": lineage.get("ancestors", []),
        "problem": lineage.get("problem"),
        "origin": describe_origin(st["initial_weights"]) if "initial_weights" in st else None,
    }


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


NOT_FINE_TUNED = "none: not fine-tuned"


def _parent(digest: str | None) -> str:
    return NOT_FINE_TUNED if digest is None or int(digest, 16) == 0 else digest


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
