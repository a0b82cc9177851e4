"""The provenance page a marketplace buyer sees for one model: one self-contained HTML document
(inline CSS, no scripts, no external assets), every value escaped.

`model_view(...)` builds the JSON the API serves at /models/{id}; `render_provenance_page(view)`
turns it into HTML. `snapshot_view(client, model_id, bundle)` builds the same view straight from
the chain and a local bundle, for a static snapshot without a running service (`make demo`).
"""

from __future__ import annotations

import datetime as _dt
import html
import time
from typing import Any

from eth_utils import encode_hex

from ..chain.client import RegistryClient
from ..proof import registration
from .jobs import Job

STATUS_TEXT = {
    "verified": ("Verified", "Enough independent verifiers checked the proof of this training run and none "
                             "found a problem."),
    "pending": ("Pending", "Not enough verifiers have attested yet."),
    "disputed": ("Disputed", "At least one verifier found the proof invalid. Do not rely on this model's "
                             "claimed training run."),
    "revoked": ("Revoked", "The owner withdrew this model."),
    "unknown": ("Unknown", "The chain could not be read; see the last known data below."),
}


def model_view(job: Job, chain: dict[str, Any] | None, *, live: bool) -> dict[str, Any]:
    """The API's JSON for one model: registration, this verifier's job and the on-chain status
    (`chain`: `status_json` of getStatus; `live` False when it is the cached copy)."""
    reg = job.registration
    return {
        "model_id": job.model_id,
        "owner": job.owner,
        "block_number": job.block_number,
        "tx_hash": job.tx_hash,
        "registered_at": int(reg.get("registered_at", 0) or 0),
        "registration": reg,
        "verification": {
            "state": job.state.value, "verdict": job.verdict, "reason": job.reason, "error": job.error,
            "attempts": job.attempts, "proof_bytes": job.proof_bytes, "verify_seconds": job.verify_seconds,
            "report_digest": job.report_digest, "updated_at": job.updated_at,
        },
        "statement": job.statement,
        "report": job.report,
        "chain": chain,
        "chain_live": live,
    }


def snapshot_view(client: RegistryClient, model_id: bytes | str, bundle: bytes | None = None, *,
                  verify_seconds: float | None = None) -> dict[str, Any]:
    """A view straight from the chain (and the bundle, if given), without a service database."""
    from .service import status_json

    model = client.get_model(model_id)
    status = status_json(client.get_status(model_id))
    h = encode_hex
    reg = {"c_data_digest": h(model.c_data_digest), "c_w0_digest": h(model.c_w0_digest),
           "c_wt_digest": h(model.c_wt_digest), "statement_digest": h(model.statement_digest),
           "proof_digest": h(model.proof_digest), "verifier_version": h(model.verifier_version),
           "bundle_uri": model.bundle_uri, "metadata_uri": model.metadata_uri,
           "registered_at": str(model.registered_at)}
    info = registration.claims_of(bundle).to_json() if bundle is not None else None
    return {
        "model_id": h(model.model_id), "owner": model.owner, "block_number": None, "tx_hash": None,
        "registered_at": model.registered_at, "registration": reg,
        "verification": {"state": "snapshot", "verdict": None, "reason": None, "error": None, "attempts": 0,
                         "proof_bytes": len(bundle) if bundle is not None else None,
                         "verify_seconds": verify_seconds, "report_digest": None, "updated_at": time.time()},
        "statement": info, "report": None, "chain": status, "chain_live": True,
    }


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _time(ts: Any) -> str:
    try:
        ts = float(ts)
    except (TypeError, ValueError):
        return "—"
    if ts <= 0:
        return "—"
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _size(n: Any) -> str:
    if not isinstance(n, int):
        return "—"
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit} ({n:,} bytes)"
    return f"{n:,} bytes"


def _rows(pairs: list[tuple[str, Any]], mono: bool = False) -> str:
    cls = ' class="mono"' if mono else ""
    return "".join(f"<tr><th>{_e(k)}</th><td{cls}>{_e(v)}</td></tr>" for k, v in pairs)


_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
main{max-width:960px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.id{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;word-break:break-all;color:#4a5468}
.card{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:16px 20px;margin:12px 0}
.badge{display:inline-block;font-weight:700;padding:4px 12px;border-radius:999px;font-size:15px}
.verified{background:#dcf5e3;color:#0f6b2f}.pending{background:#fff3cd;color:#7a5b00}
.disputed{background:#fde0e0;color:#9b1c1c}.revoked,.unknown{background:#e5e7eb;color:#374151}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eef0f4;
vertical-align:top}th{width:34%;color:#4a5468;font-weight:600}
.mono,td.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;word-break:break-all}
.note{color:#4a5468;font-size:13px}.warn{color:#9b1c1c}
"""


def render_provenance_page(view: dict[str, Any], *, verifier: str | None = None,
                           generated_at: float | None = None) -> str:
    """The buyer's page for one model (a complete HTML document)."""
    chain = view.get("chain") or {}
    status = chain.get("status", "unknown") if chain else "unknown"
    title, meaning = STATUS_TEXT.get(status, STATUS_TEXT["unknown"])
    reg = view.get("registration") or {}
    ver = view.get("verification") or {}
    info = view.get("statement") or {}
    st = info.get("statement") if info else None
    counts = (f"{chain.get('valid_count', 0)} valid of quorum {chain.get('quorum', '?')}, "
              f"{chain.get('invalid_count', 0)} invalid" + (f", {chain['ignored_count']} from removed verifiers"
                                                            if chain.get("ignored_count") else "")) if chain else "—"
    stale = "" if view.get("chain_live", True) else \
        '<p class="note warn">The chain is unreachable right now: this is the last status this service read.</p>'

    if st:
        arch = "-".join(str(w) for w in st["widths"]) + (" with bias" if st.get("bias") else "")
        statement_rows = _rows([
            ("Architecture (layer widths)", f"MLP {arch}"),
            ("Training", f"{st['steps']} SGD steps, batch {st['batch']}, learning rate {st['learning_rate']}"),
            ("Loss", st.get("loss")),
            ("Data set", f"{st['n_train']} training samples (committed, private), batch schedule seed "
                         f"{st['schedule_seed']}"),
            ("Fixed point", f"R = {st['frac_bits']} fractional bits, data {st['data_frac_bits']} bits, range "
                            f"checks {st['range_bits']} bits"),
        ])
    else:
        statement_rows = _rows([("Statement", "not available: the bundle was not fetched or did not decode")])

    digests = _rows([
        ("Statement digest", reg.get("statement_digest")),
        ("C_data (training data) digest", reg.get("c_data_digest")),
        ("C_W0 (initial weights) digest", reg.get("c_w0_digest")),
        ("C_WT (final weights) digest", reg.get("c_wt_digest")),
        ("Proof digest", reg.get("proof_digest")),
        ("Verifier version", reg.get("verifier_version")),
    ], mono=True)

    att_rows = "".join(
        f"<tr><td class=\"mono\">{_e(a.get('verifier'))}</td><td><span class=\"badge "
        f"{'verified' if a.get('verdict') == 'valid' else 'disputed'}\">{_e(a.get('verdict'))}</span></td>"
        f"<td>{_e(_time(a.get('attested_at')))}</td><td class=\"mono\">{_e(a.get('report_digest'))}</td></tr>"
        for a in chain.get("attestations", []))
    attestations = (f"<table><tr><th>Verifier</th><th>Verdict</th><th>When</th><th>Report digest</th></tr>"
                    f"{att_rows}</table>") if att_rows else "<p>No attestation yet.</p>"

    verdict = ver.get("verdict")
    this_verifier = _rows([
        ("Verifier", verifier or "—"),
        ("Job state", ver.get("state")),
        ("Verdict", verdict or "not yet"),
        ("Reason", ver.get("reason") or ("—" if verdict else (ver.get("error") or "—"))),
        ("Proof size", _size(ver.get("proof_bytes"))),
        ("Verification time", f"{ver['verify_seconds']:.2f} s" if isinstance(ver.get("verify_seconds"), float)
         else "—"),
        ("Report digest", ver.get("report_digest") or "—"),
    ])
    registration = _rows([
        ("Owner", view.get("owner")),
        ("Registered", _time(view.get("registered_at"))),
        ("Block", view.get("block_number") if view.get("block_number") is not None else "—"),
        ("Bundle URI", reg.get("bundle_uri")),
        ("Metadata URI", reg.get("metadata_uri") or "—"),
    ])
    model_id = view.get("model_id", "")
    generated = _time(generated_at if generated_at is not None else time.time())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Model provenance: {_e(title)} · {_e(model_id[:18])}…</title>
<style>{_CSS}</style></head>
<body><main>
<h1>Model provenance</h1>
<div class="id" id="model-id">{_e(model_id)}</div>
<div class="card">
<span class="badge {_e(status)}" id="status">{_e(title)}</span>
<span id="counts" style="margin-left:12px">{_e(counts)}</span>
<p>{_e(meaning)}</p>{stale}
<p class="note">The proof shows that training the committed initial weights on the committed data set with the
statement below yields exactly the committed final weights (C_WT). The proof is zero knowledge: it reveals
nothing about the data or the weights beyond this statement. Check that the weights you receive
open C_WT (<code>zkdl check-weights</code>) and that the owner below is the seller you deal with.</p>
</div>
<h2>Statement</h2><div class="card"><table id="statement">{statement_rows}</table></div>
<h2>Commitments and digests</h2><div class="card"><table id="digests">{digests}</table></div>
<h2>Attestations on chain</h2><div class="card" id="attestations">{attestations}</div>
<h2>This verifier</h2><div class="card"><table id="verification">{this_verifier}</table></div>
<h2>Registration</h2><div class="card"><table id="registration">{registration}</table></div>
<p class="note">Generated {_e(generated)} by the zkdl verifier service.</p>
</main></body></html>
"""
