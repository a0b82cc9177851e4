"""Every HTTP endpoint answers a malformed or out-of-range parameter with 422 and a message, never a
500: a table of hostile values crossed with every query and path parameter (hypothesis is not a
dependency of the project; the table is the property's examples), on SQLite and PostgreSQL. And the
API serves no page that loads scripts from elsewhere."""

from __future__ import annotations

import asyncio
import itertools
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from zkdl.service.app import MAX_OFFSET, create_app
from zkdl.service.config import ServiceConfig
from zkdl.service.service import VerifierService

KNOWN = "0x" + "ab" * 32

HOSTILE = [
    "",
    " ",
    "-1",
    "0",
    "1",
    "1000",
    "1001",
    str(MAX_OFFSET),
    str(MAX_OFFSET + 1),
    str(2**63 - 1),
    str(2**63),
    str(2**64),
    "-" + str(2**63),
    "9" * 400,
    "1e3",
    "1.5",
    "nan",
    "inf",
    "-inf",
    "0x10",
    "\uff11",  # a fullwidth digit
    "\x00",
    "\n",
    "queued,",
    "queued,,attested",
    ",".join(["queued"] * 300),
    "true",
    "null",
    "' OR 1=1 --",
    "%00",
    "\U0001f642",
    "a" * 5000,
    KNOWN,
    KNOWN + "\n",
    KNOWN.upper().replace("0X", "0x"),
    KNOWN[:-1],
    KNOWN + "0",
    "0X" + "ab" * 32,
    "ab" * 32,
    "ab" * 32 + ".zkdl",
    "..",
    "../../etc/passwd",
]

QUERY = {  # endpoint: {parameter: the integer range it takes, or None for a text parameter}
    "/jobs": {"state": None, "limit": (1, 1000), "offset": (0, MAX_OFFSET)},
    "/models": {"limit": (1, 1000), "offset": (0, MAX_OFFSET)},
}
PATHS = ["/models/{}", "/models/{}/report", "/models/{}/page", "/bundles/{}"]


class _Api:
    """The app called in process (httpx's ASGI transport; Starlette's TestClient is deprecated)."""

    def __init__(self, app: Any) -> None:
        self._transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # a crash is a 500 to assert on

    def get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        async def call() -> httpx.Response:
            async with httpx.AsyncClient(transport=self._transport, base_url="http://service.test") as client:
                return await client.get(path, params=params)

        return asyncio.run(call())


@pytest.fixture
def api(tmp_path, db_location, accounts) -> Iterator[_Api]:
    config = ServiceConfig(db=db_location, bundle_dir=str(tmp_path / "bundles")).checked()
    service = VerifierService(config, accounts[1])  # not started: the API serves the database as it is
    registration = {"bundle_uri": "https://bundles.example/b.zkdl", "statement_digest": "0x" + "00" * 32}
    service.jobs.add(model_id=KNOWN, owner=accounts[4].address, block_number=1, block_hash="0x", tx_hash="0x", registration=registration)
    try:
        yield _Api(create_app(service))
    finally:
        service.jobs.close()


def _integer_within(value: str, bounds: tuple[int, int]) -> bool:
    try:
        number = int(value.strip().replace("_", ""))
    except ValueError:
        return False
    return bounds[0] <= number <= bounds[1]


def _check_answer(response: Any, what: str) -> None:
    assert response.status_code < 500, (what, response.status_code, response.text[:300])
    if response.status_code == 422:
        assert response.json()["detail"], what  # says what is wrong


def test_every_query_parameter_answers_422_or_a_result_never_500(api):
    for (path, params), value in itertools.product(((p, q) for p, q in QUERY.items()), HOSTILE):
        for name, bounds in params.items():
            response = api.get(path, params={name: value})
            what = f"{path}?{name}={value[:60]!r}"
            _check_answer(response, what)
            if bounds is not None and response.status_code == 200:
                assert _integer_within(value, bounds), what  # a 200 only for an integer in range
            if bounds is not None and not _integer_within(value, bounds):
                assert response.status_code == 422, what


def test_every_path_parameter_answers_422_or_404_never_500(api):
    for template, value in itertools.product(PATHS, [v for v in HOSTILE if v]):  # "": another route ("/models/")
        response = api.get(template.format(urllib.parse.quote(value, safe="")))
        what = f"{template} with {value[:60]!r}"
        _check_answer(response, what)
        if value.lower() != KNOWN:  # the known model, in either case, is found
            assert response.status_code in (404, 422), what
    assert api.get(f"/models/{KNOWN}").status_code == 200
    assert api.get(f"/models/{urllib.parse.quote(KNOWN + chr(10))}").status_code == 422  # "$" would have let it through


def test_no_docs_page_and_the_schema_is_plain_json(api):
    """FastAPI's /docs and /redoc pull their scripts from a CDN: they are off. The schema stays, as JSON."""
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        assert api.get(path).status_code == 404, path
    schema = api.get("/openapi.json")
    assert schema.status_code == 200 and "/jobs" in schema.json()["paths"]
