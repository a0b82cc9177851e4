"""The provenance page as a buyer acts on it: links (report, bundle, registry record), the exact
`zkdl check-weights` command, true quorum wording, the lineage drawing and the other registrations
of the same proof, and a layout that fits a desktop (1280 px) and a phone (375 px) in headless
Chromium, with working copy buttons under the page's own Content-Security-Policy."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from browser import Browser
from eth_utils import keccak
from markupsafe import escape
from svc_support import request_for

from zkdl.chain import AttestationRequest, DatasetRequest, RegistryClient, Verdict, deploy_registry, embedded_chain
from zkdl.service.jobs import JobStore
from zkdl.service.page import COPY_SCRIPT, PAGE_HEADERS, model_view, render_provenance_page, snapshot_view
from zkdl.service.service import chain_json
from zkdl.service.watcher import Watcher

WIDTHS = (1280, 375)
LONG_URI = "https://bundles.example.test/" + "a-long-path-segment-without-breaks" * 6 + '.zkdl?q="><b>bold</b>'


def k(text: str) -> bytes:
    return keccak(text=text)


class Scene:
    """On the embedded chain: a data-set record, a parent model, a copy of the child's proof by
    another owner registered first, and the child (fine-tuned from the parent, attested valid)."""

    def __init__(self, tmp: Path, bundle: dict[str, Any], accounts: list) -> None:
        self.w3 = embedded_chain()
        admin, self.verifier, self.owner, self.other = accounts[0], accounts[1], accounts[4], accounts[6]
        self.client = RegistryClient(self.w3, deploy_registry(self.w3, admin, quorum=1).address, admin)
        self.client.grant_verifier(self.verifier.address)
        dataset = DatasetRequest(bundle["c_data"], 1797, 64, 10, 8, k("range proof"), "https://data.example.test/" + "d" * 200)
        self.client.register_dataset(dataset, sender=self.owner)
        parent = request_for(
            bundle, "file:///srv/parent.zkdl", statement_digest=k("parent"), proof_digest=k("p"), c_wt_digest=bundle["c_w0"]
        )
        self.parent = self.register(parent, self.owner)
        self.copy = self.register(request_for(bundle, LONG_URI), self.other)  # front-runs the child
        self.child = self.register(request_for(bundle, LONG_URI, parent_digest=k("parent"), metadata_uri="ipfs://" + "m" * 120), self.owner)
        self.client.attest(AttestationRequest(bytes.fromhex(self.child[2:]), Verdict.VALID, k("report")), sender=self.verifier)
        self.jobs = JobStore(str(tmp / "jobs.sqlite"))
        Watcher(self.client, self.jobs, confirmations=1).poll()

    def register(self, request, owner) -> str:
        return "0x" + self.client.register_model(request, sender=owner).model_id.hex()

    def view(self, model_id: str) -> dict[str, Any]:
        """What the service's page route renders: the job's view with the chain's status now."""
        status = chain_json(self.client, model_id)
        return model_view(self.jobs.get(model_id), status, live=True, chain_id=self.client.chain_id, registry=self.client.address)


@pytest.fixture
def scene(tmp_path, bundle, accounts) -> Iterator[Scene]:
    scene = Scene(tmp_path, bundle, accounts)
    yield scene
    scene.jobs.close()


class _Page(http.server.BaseHTTPRequestHandler):
    """Serves one page with the headers the service's page route sends."""

    body: ClassVar[bytes] = b""

    def do_GET(self) -> None:
        self.send_response(200)
        for name, value in {**PAGE_HEADERS, "Content-Type": "text/html; charset=utf-8"}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[str, Browser]]:
    """(URL, browser): the page set in `_Page.body` served on 127.0.0.1, and a headless Chromium."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    browser = Browser(tmp_path / "chromium-profile")
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/page", browser
    finally:
        browser.close()
        server.shutdown()
        server.server_close()


# Every element whose box passes the viewport's right edge, and every element that clips its own
# content sideways (text cut off), with enough of each to find it.
OVERFLOW = """(() => {
  const width = window.innerWidth, out = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    const clips = style.overflowX !== "visible" && el.scrollWidth > el.clientWidth + 1;
    const where = `${el.tagName}#${el.id}.${el.className} right=${box.right}`;
    if (box.right > width + 0.5 || clips) out.push(`${where} ${el.textContent.slice(0, 60)}`);
  }
  return {width, scrollWidth: document.documentElement.scrollWidth, out};
})()"""


def test_the_page_fits_a_desktop_and_a_phone_without_overflow(scene, served, tmp_path):
    url, browser = served
    _Page.body = render_provenance_page(scene.view(scene.child), verifier=scene.verifier.address).encode()
    for width in WIDTHS:
        browser.open(url, width)
        layout = browser.evaluate(OVERFLOW)
        shot = browser.screenshot(tmp_path / f"page-{width}.png")
        assert layout["width"] == width, layout
        assert layout["scrollWidth"] <= width and layout["out"] == [], (width, layout, shot)
        assert browser.evaluate("document.getElementById('bundle-link').getAttribute('href')") == LONG_URI
        assert browser.evaluate("document.querySelectorAll('b').length") == 0  # the URI's markup is text


def test_copy_buttons_copy_the_whole_value_under_the_page_s_policy(scene, served):
    url, browser = served
    _Page.body = render_provenance_page(scene.view(scene.child)).encode()
    browser.open(url, 375)
    origin = url.rsplit("/", 1)[0]
    browser.send("Browser.grantPermissions", origin=origin, permissions=["clipboardReadWrite", "clipboardSanitizedWrite"])
    buttons = browser.evaluate("[...document.querySelectorAll('button.copy')].map(b => [b.hidden, b.dataset.copy])")
    assert [hidden for hidden, _ in buttons] == [False] * len(buttons)  # the script ran: the policy allows it
    command = f"zkdl check-weights {scene.child} weights_final.npz --opening run.zkdl.opening.json --registry {scene.client.address}"
    assert [scene.child, command] == [value for _, value in buttons[:2]]
    copied = browser.evaluate(
        "(async () => { const b = document.querySelectorAll('button.copy')[1]; b.click();"
        " await new Promise(r => setTimeout(r, 200)); return [b.textContent, await navigator.clipboard.readText()]; })()"
    )
    assert copied == ["Copied", command]


def test_the_page_links_the_report_the_bundle_and_the_registry_record(scene):
    view = scene.view(scene.child)
    page = render_provenance_page(view)
    assert "none from this service" in page and 'id="report-link"' not in page  # no report yet: no dead link
    reported = {**view, "links": {**view["links"], "report": f"/models/{scene.child}/report"}}
    assert f'<a href="/models/{scene.child}/report" id="report-link">' in render_provenance_page(reported)
    assert f'id="bundle-link" class="mono">{escape(LONG_URI)}</a>' in page
    assert f"chain {scene.client.chain_id}, registry" in page and scene.client.address in page
    assert "etherscan" not in page and "/tx/" not in page  # no explorer configured
    explorer = render_provenance_page(view, explorer_url="https://explorer.example.test/")
    assert f'href="https://explorer.example.test/address/{scene.client.address}"' in explorer
    assert f'href="https://explorer.example.test/tx/{view["tx_hash"]}"' in explorer
    parent = render_provenance_page(scene.view(scene.parent))
    assert "file:///srv/parent.zkdl" in parent and 'href="file:' not in parent and 'id="bundle-link"' not in parent


def test_the_page_gives_the_exact_weights_check_command_for_this_model(scene):
    page = render_provenance_page(scene.view(scene.child))
    command = f"zkdl check-weights {scene.child} weights_final.npz --opening run.zkdl.opening.json --registry {scene.client.address}"
    assert f'<pre id="check-command">{command}</pre>' in page
    assert f"a node of chain {scene.client.chain_id}" in page


def test_the_lineage_runs_from_the_data_set_record_through_the_parent_to_this_model(scene):
    page = render_provenance_page(scene.view(scene.child))
    drawing = page.split('<ol class="lineage"')[1].split("</ol>")[0]
    boxes = re.findall(r'<span class="kind">([^<]+)</span>', drawing)
    assert boxes == ["Data set", "Fine-tuned from", "This model"]
    assert f'<a href="/models/{scene.parent}/page" title="{scene.parent}">' in drawing
    assert f'title="{scene.owner.address}"' in drawing and "no data-set record" not in drawing
    unlinked = render_provenance_page(snapshot_view(scene.client, scene.parent))  # a static snapshot: no service to link to
    drawing = unlinked.split('<ol class="lineage"')[1].split("</ol>")[0]
    assert re.findall(r'<span class="kind">([^<]+)</span>', drawing) == ["Data set", "Initial weights", "This model"]
    assert "<a " not in drawing


def test_a_lineage_whose_parent_is_not_registered_says_so(scene, bundle):
    orphan = scene.register(request_for(bundle, "file:///o.zkdl", parent_digest=k("nobody"), c_wt_digest=k("o")), scene.owner)
    page = render_provenance_page(snapshot_view(scene.client, orphan))
    assert f"the parent statement 0x{k('nobody').hex()} is not registered here: the lineage is unchecked" in page


def test_every_other_registration_of_the_proof_is_listed_with_the_earliest_named(scene):
    page = render_provenance_page(scene.view(scene.child))
    assert f'2 registrations share this proof; the earliest is <span class="mono">{scene.copy}</span>.' in page
    assert f'<li class="mono"><a href="/models/{scene.copy}/page" title="{scene.copy}">{scene.copy}</a> (earliest)</li>' in page


def test_the_quorum_wording_is_the_registry_s_own_numbers(scene, bundle, accounts):
    page = render_provenance_page(scene.view(scene.child))
    assert "1 verifier attested the proof of this training run valid; this registry needs 1 for this model" in page
    assert "enough" not in page.lower()
    scene.client.grant_verifier(accounts[2].address)
    scene.client.set_quorum(2)
    later = scene.register(request_for(bundle, "file:///later.zkdl", c_wt_digest=k("later")), scene.owner)
    scene.client.attest(AttestationRequest(bytes.fromhex(later[2:]), Verdict.VALID, k("r")), sender=scene.verifier)
    pending = render_provenance_page(snapshot_view(scene.client, later))
    assert 'id="status">Pending<' in pending
    assert "1 verifier attested the proof valid so far; this registry needs 2 for this model." in pending


def test_the_only_script_is_the_copy_script_and_the_page_carries_its_policy(scene):
    page = render_provenance_page(scene.view(scene.child))
    assert re.findall(r"<script[^>]*>(.*?)</script>", page, flags=re.S) == [COPY_SCRIPT]
    assert f'<meta http-equiv="Content-Security-Policy" content="{escape(PAGE_HEADERS["Content-Security-Policy"])}">' in page
