"""The HTTP API of the verifier service (FastAPI).

GET /health                 liveness and chain/relayer state (503 once the background threads died)
GET /metrics                Prometheus text format
GET /jobs?state=&limit=&offset=
GET /models                 every model this service knows, with its last known status
GET /models/{id}            one model: registration, verification, statement, on-chain status (JSON)
GET /models/{id}/report     the canonical report whose Keccak-256 is the attestation's reportDigest
GET /models/{id}/page       the provenance page for buyers (HTML)
GET /bundles/{digest}       a stored bundle (when a bundle directory is configured), size-capped
GET /openapi.json           the API's OpenAPI schema (FastAPI's /docs and /redoc are off: they load
                            their scripts from a CDN)
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..store import LocalStore
from .jobs import JobState
from .page import PAGE_HEADERS, model_view, render_provenance_page
from .report import canonical_json
from .service import VerifierService, chain_json

# \Z, not $: "$" also matches before a trailing newline, which would pass "0x…\n" on to a lookup
_MODEL_ID = re.compile(r"\A0x[0-9a-fA-F]{64}\Z")
_BUNDLE = re.compile(r"\A(?:0x)?([0-9a-fA-F]{64})(?:\.zkdl)?\Z")
MAX_OFFSET = 2**62  # both stores take signed 64-bit offsets; beyond this a page is empty anyway


def create_app(service: VerifierService, *, lifespan: Any = None) -> FastAPI:
    app = FastAPI(title="zkdl verifier service", version="1", lifespan=lifespan, docs_url=None, redoc_url=None)

    def chain_status(model_id: str) -> tuple[dict[str, Any] | None, bool]:
        """(status, live): the chain's status now, else the last one read."""
        client = service.api_client()
        job = service.jobs.get(model_id)
        if client is not None:
            try:
                status = chain_json(client, model_id)
                service.jobs.set_chain_status(model_id, status)
                return status, True
            except Exception:
                pass
        return (job.chain_status if job else None), False

    def job_or_404(model_id: str):
        if not _MODEL_ID.match(model_id):
            raise HTTPException(422, "a model id is 0x followed by 64 hex digits")
        job = service.jobs.get(model_id.lower())
        if job is None:
            raise HTTPException(
                404, f"this verifier has not seen this model (not registered, or not yet {service.confirmations} blocks deep)"
            )
        return job

    @app.get("/health")
    def health() -> JSONResponse:
        body = service.health()
        return JSONResponse(body, status_code=200 if body["threads_alive"] else 503)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/jobs")
    def jobs(state: str | None = None, limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> dict:
        states = None
        if state:
            try:
                states = tuple(JobState(s) for s in state.split(","))
            except ValueError:
                raise HTTPException(422, f"state must be among {', '.join(s.value for s in JobState)}") from None
        items = [j.to_json() for j in service.jobs.list(states, limit, offset)]
        for item in items:
            item.pop("report", None)  # served at /models/{id}/report
        return {"total": service.jobs.count(), "offset": offset, "counts": service.jobs.counts(), "jobs": items}

    @app.get("/models")
    def models(limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> dict:
        out = []
        for job in service.jobs.list(None, limit, offset):
            if job.state is JobState.GONE:
                continue
            out.append(
                {
                    "model_id": job.model_id,
                    "owner": job.owner,
                    "state": job.state.value,
                    "verdict": job.verdict,
                    "status": (job.chain_status or {}).get("status"),
                    "statement_digest": job.registration.get("statement_digest"),
                    "page": f"/models/{job.model_id}/page",
                }
            )
        return {"offset": offset, "models": out}

    @app.get("/models/{model_id}")
    def model(model_id: str) -> dict:
        job = job_or_404(model_id)
        status, live = chain_status(job.model_id)
        return model_view(job, status, live=live, chain_id=service.chain_id, registry=service.registry)

    @app.get("/models/{model_id}/report")
    def report(model_id: str) -> Response:
        job = job_or_404(model_id)
        if job.report is None:
            raise HTTPException(404, "no verification report yet")
        return Response(canonical_json(job.report), media_type="application/json")

    @app.get("/models/{model_id}/page", response_class=HTMLResponse)
    def page(model_id: str) -> HTMLResponse:
        job = job_or_404(model_id)
        status, live = chain_status(job.model_id)
        view = model_view(job, status, live=live, chain_id=service.chain_id, registry=service.registry)
        html = render_provenance_page(view, verifier=service.verifier.address, explorer_url=service.config.explorer_url)
        return HTMLResponse(html, headers=PAGE_HEADERS)

    @app.get("/bundles/{name}")
    def bundle(name: str) -> Response:
        if not service.config.bundle_dir:
            raise HTTPException(404, "this service serves no bundles (no bundle_dir configured)")
        match = _BUNDLE.match(name)
        if not match:
            raise HTTPException(422, "a bundle is named by its 64-hex-digit Keccak-256 digest")
        path = LocalStore(service.config.bundle_dir).path_for(bytes.fromhex(match.group(1)))
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise HTTPException(404, "no such bundle") from None
        if size > service.config.max_serve_bytes:
            raise HTTPException(413, f"the bundle is larger than this server's limit ({service.config.max_serve_bytes} bytes)")
        return FileResponse(path, media_type="application/octet-stream")

    return app
