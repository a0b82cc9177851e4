"""The watcher, worker and relayer in process on the embedded chain, with the service database
and outbox on SQLite and on PostgreSQL: every verdict and reason, the report digest, and the
provenance page's escaping. (The HTTP process on anvil is in
test_service_anvil.py.)"""

from __future__ import annotations

import html
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from eth_utils import keccak
from svc_support import TricklingServer, free_port, request_for

from zkdl.chain import RegistryClient, Status, Verdict, deploy_registry, embedded_chain
from zkdl.chain.outbox import SqlOutbox
from zkdl.chain.relayer import Relayer
from zkdl.service.config import ServiceConfig
from zkdl.service.fetching import NOT_REGISTERED, REFUSED, TIMED_OUT, UNREACHABLE, FetchGate
from zkdl.service.jobs import JobState, JobStore
from zkdl.service.page import COPY_SCRIPT, model_view, render_provenance_page, snapshot_view
from zkdl.service.report import canonical_json
from zkdl.service.service import status_json
from zkdl.service.watcher import Watcher
from zkdl.service.worker import Worker, sync_attestations
from zkdl.store import LocalStore


class Pipeline:
    def __init__(self, tmp: Path, db: str, accounts: list, **config: Any) -> None:
        self.w3 = embedded_chain()
        self.admin, self.verifier, self.owner = accounts[0], accounts[1], accounts[4]
        record = deploy_registry(self.w3, self.admin, quorum=1)
        self.client = RegistryClient(self.w3, record.address, self.admin)
        self.client.grant_verifier(self.verifier.address)
        self.store = LocalStore(tmp / "bundles")
        self.config = ServiceConfig(**{"db": db, "confirmations": 1, "retry_base_s": 0.01, **config}).checked()
        self.jobs = JobStore(self.config.db)
        self.relayer = Relayer(self.w3, RegistryClient(self.w3, record.address), self.verifier, SqlOutbox(self.config.outbox_path))
        self.watcher = Watcher(self.client, self.jobs, confirmations=1)
        self.worker = Worker("w", self.config, self.jobs, self.client, self.relayer, self.verifier, file_roots=[self.store.root])

    def register(self, request, owner=None) -> str:
        return "0x" + self.client.register_model(request, sender=owner or self.owner).model_id.hex()

    def run(self, passes: int = 20):
        for _ in range(passes):
            self.watcher.poll()
            while self.worker.run_once() is not None:
                pass
            self.relayer.process_once()
            sync_attestations(self.jobs, self.relayer, self.client, self.verifier.address)

    def job(self, mid: str):
        return self.jobs.get(mid)

    def close(self) -> None:
        self.jobs.close()
        self.relayer.outbox.close()


@pytest.fixture
def pipe(tmp_path, db_location, accounts) -> Iterator[Pipeline]:
    limits = dict(max_bundle_bytes=200_000, max_attempts=2, fetch_timeout_s=2, fetch_retry_window_s=0)
    pipe = Pipeline(tmp_path, db_location, accounts, allow_local=True, **limits)
    yield pipe
    pipe.close()


def test_a_valid_bundle_is_verified_and_attested_once_with_its_report(pipe, bundle):
    _, uri = pipe.store.put(bundle["bytes"])
    mid = pipe.register(request_for(bundle, uri))
    pipe.run(3)
    job = pipe.job(mid)
    assert (job.state, job.verdict, job.reason) == (JobState.ATTESTED, "valid", None), job
    assert job.proof_bytes == len(bundle["bytes"]) and job.verify_seconds > 0
    att = pipe.client.get_attestation(mid, pipe.verifier.address)
    assert att.verdict is Verdict.VALID
    (shown,) = pipe.client.get_status(mid).attestations
    assert "0x" + shown.report_digest.hex() == job.report_digest == "0x" + keccak(canonical_json(job.report)).hex()
    assert job.report["statement"]["widths"] == [64, 8, 10]
    assert pipe.client.get_status(mid).status is Status.VERIFIED
    pipe.run(2)  # nothing more happens
    assert len(pipe.client.attested_events()) == 1 and len(pipe.relayer.outbox.intents()) == 1


def _bad_cases(pipe: Pipeline, bundle: dict, tmp: Path) -> dict[str, tuple[Any, str | None]]:
    data = bundle["bytes"]
    _, good_uri = pipe.store.put(data)
    truncated = data[: len(data) // 2]
    t_digest, t_uri = pipe.store.put(truncated)
    big = b"\0" * 300_000
    big_digest, big_uri = pipe.store.put(big)
    _, other_uri = pipe.store.put(b"some other bytes")
    outside = tmp / "outside.zkdl"
    outside.write_bytes(data)
    dead = f"http://127.0.0.1:{free_port()}/bundles/{bundle['proof_digest'].hex()}.zkdl"
    k = lambda t: keccak(text=t)  # noqa: E731
    return {
        # name: (request, expected verdict / None for no verdict)
        "digest-mismatch": (request_for(bundle, other_uri, c_wt_digest=k("a")), None),  # not the proof: no verdict
        "malformed-bundle": (request_for(bundle, t_uri, proof_digest=t_digest, c_wt_digest=k("b")), "invalid"),
        "bundle-too-large": (request_for(bundle, big_uri, proof_digest=big_digest, c_wt_digest=k("c")), "invalid"),
        "statement-mismatch": (request_for(bundle, good_uri, statement_digest=k("other statement"), c_wt_digest=k("h")), "invalid"),
        "commitment-mismatch": (request_for(bundle, good_uri, c_data_digest=k("other data"), c_wt_digest=k("d")), "invalid"),
        "parent-mismatch": (request_for(bundle, good_uri, parent_digest=k("a parent the proof does not name")), "invalid"),
        "unreachable": (request_for(bundle, dead, c_wt_digest=k("e")), None),
        "outside-file-roots": (request_for(bundle, outside.as_uri(), c_wt_digest=k("f")), None),
        "other-version": (request_for(bundle, good_uri, verifier_version=k("zkdl-verifier/99"), c_wt_digest=k("g")), None),
    }


def test_every_bad_input_gets_its_verdict_or_error_and_the_pipeline_goes_on(pipe, bundle, tmp_path, accounts):
    cases = _bad_cases(pipe, bundle, tmp_path)
    ids = {name: pipe.register(req) for name, (req, _) in cases.items()}
    _, good_uri = pipe.store.put(bundle["bytes"])
    cases["copy"] = (request_for(bundle, good_uri), "invalid")  # the proof is bound to accounts[4]
    ids["copy"] = pipe.register(cases["copy"][0], owner=accounts[6])
    good = pipe.register(request_for(bundle, good_uri))
    pipe.run(12)
    seen = {}
    for name, (_, verdict) in cases.items():
        job = pipe.job(ids[name])
        seen[name] = (job.state.value, job.verdict, job.reason or job.error)
        if verdict is None:
            assert job.verdict is None, seen[name]
            assert pipe.client.get_attestation(ids[name], pipe.verifier.address).verdict is Verdict.NONE
        else:
            assert job.state is JobState.ATTESTED and job.verdict == verdict, seen[name]
            assert job.report["code"] == name, seen[name]
            assert pipe.client.get_attestation(ids[name], pipe.verifier.address).verdict is Verdict.INVALID
    assert seen["unreachable"][0] == "unavailable" and "gave up after 2 attempts" in seen["unreachable"][2]
    assert seen["digest-mismatch"][0] == "unavailable" and "not the registered proof" in seen["digest-mismatch"][2]
    assert seen["outside-file-roots"][0] == "unavailable" and "file roots" in seen["outside-file-roots"][2]
    assert seen["other-version"][0] == "skipped" and "verifier version" in seen["other-version"][2]
    assert "another statement" in seen["statement-mismatch"][2]
    assert "the registry says 0x" in seen["parent-mismatch"][2]
    assert "limit of 200000 bytes" in seen["bundle-too-large"][2]
    assert "malformed" in seen["malformed-bundle"][2]
    assert f"bound to owner {accounts[4].address}, but this registration's owner is {accounts[6].address}" in seen["copy"][2]
    # ...and the honest model registered last is still verified.
    assert pipe.job(good).state is JobState.ATTESTED and pipe.job(good).verdict == "valid"
    assert pipe.client.get_status(ids["statement-mismatch"]).status is Status.DISPUTED


def test_the_page_lists_copies_with_the_earliest_and_the_data_set_record(pipe, bundle, accounts):
    from zkdl.chain import DatasetRequest

    _, uri = pipe.store.put(bundle["bytes"])
    copy = pipe.register(request_for(bundle, uri), owner=accounts[6])  # front-run: lands first
    mine = pipe.register(request_for(bundle, uri))
    page = render_provenance_page(snapshot_view(pipe.client, mine, bundle["bytes"]))
    assert f'2 registrations share this proof; the earliest is <span class="mono">{copy}</span>.' in page
    assert "2 registrations share this final weights" in page and "not registered: no data-set record" in page
    c_data = bundle["info"]["commitment_digests"]["c_data"]
    pipe.client.register_dataset(DatasetRequest(c_data, 1797, 64, 10, 8, keccak(b"rp"), "ipfs://digits"), sender=accounts[6])
    page = render_provenance_page(snapshot_view(pipe.client, copy, bundle["bytes"]))
    assert "1797 samples x 64 features, 10 classes" in page and f"{accounts[6].address} at" in page
    assert "(this model)" in page and "none: not fine-tuned" in page


@pytest.mark.parametrize("record", ["none", "its proof file", "a damaged file"])
def test_the_report_says_whether_the_data_set_range_proof_verifies_and_the_verdict_stays_the_model_s(pipe, bundle, record):
    """The data set's registered proof file is verified with the model and reported; the verdict is
    the model's proof alone (a data-set record is its first registrant's: a bad one must not make a
    valid model invalid)."""
    from zkdl.chain import DatasetRequest
    from zkdl.proof.bundle import DatasetBundle

    header = DatasetBundle.decode(bundle["dataset"]).dataset
    if record != "none":
        data = bundle["dataset"] if record == "its proof file" else bundle["dataset"][:-1] + bytes([bundle["dataset"][-1] ^ 1])
        digest, uri = pipe.store.put(data)
        fields = (header.samples, header.features, header.classes, header.frac_bits, digest, uri)
        pipe.client.register_dataset(DatasetRequest(header.digest(), *fields), sender=pipe.owner)
    _, uri = pipe.store.put(bundle["bytes"])
    mid = pipe.register(request_for(bundle, uri))
    pipe.run(3)
    job = pipe.job(mid)
    assert (job.state, job.verdict) == (JobState.ATTESTED, "valid"), job
    status = {"none": "unchecked", "its proof file": "verified", "a damaged file": "invalid"}[record]
    assert job.report["dataset"]["status"] == status, job.report["dataset"]
    if record == "a damaged file":
        assert "range proof" in job.report["dataset"]["reason"]
    page = render_provenance_page(model_view(job, status_json(pipe.client.get_status(mid)), live=True))
    assert f"{status}: " in page or (status == "verified" and "verified: every input lies in the range" in page)


def test_a_data_set_file_is_fetched_and_verified_once_for_every_model_on_it(pipe, bundle, same_data_bundle, accounts):
    """The second model on a data set reuses the first one's check of its registered proof file:
    with the file gone from the store, its report still says verified."""
    from zkdl.chain import DatasetRequest
    from zkdl.proof.bundle import DatasetBundle

    header = DatasetBundle.decode(bundle["dataset"]).dataset
    assert header.digest() == same_data_bundle["c_data"]  # one data set, two models
    digest, data_uri = pipe.store.put(bundle["dataset"])
    fields = (header.samples, header.features, header.classes, header.frac_bits, digest, data_uri)
    pipe.client.register_dataset(DatasetRequest(header.digest(), *fields), sender=pipe.owner)
    first = pipe.register(request_for(bundle, pipe.store.put(bundle["bytes"])[1]))
    pipe.run(3)
    assert pipe.job(first).report["dataset"] == {"status": "verified"}
    pipe.store.path_for(digest).unlink()  # a second fetch would find nothing
    second = pipe.register(request_for(same_data_bundle, pipe.store.put(same_data_bundle["bytes"])[1]), owner=accounts[6])
    pipe.run(3)
    job = pipe.job(second)
    assert (job.verdict, job.report["dataset"]) == ("valid", {"status": "verified"}), job.report


def test_a_restart_after_enqueue_does_not_attest_twice(pipe, bundle, accounts):
    _, uri = pipe.store.put(bundle["bytes"])
    mid = pipe.register(request_for(bundle, uri))
    pipe.watcher.poll()

    class Crash(BaseException):
        pass

    def crash() -> None:
        raise Crash

    short = ServiceConfig(db=pipe.config.db, lease_s=0.5, confirmations=1)
    pipe.worker = Worker(
        "w1", short, pipe.jobs, pipe.client, pipe.relayer, pipe.verifier, file_roots=[pipe.store.root], hooks={"enqueued": crash}
    )  # dies after the enqueue
    with pytest.raises(Crash):
        pipe.worker.run_once()
    assert pipe.job(mid).state is JobState.LEASED and len(pipe.relayer.outbox.intents()) == 1
    pipe.relayer.process_once()  # the attestation goes out before the restart
    pipe.worker = Worker("w2", short, pipe.jobs, pipe.client, pipe.relayer, pipe.verifier, file_roots=[pipe.store.root])
    time.sleep(max(0.0, pipe.job(mid).lease_expires - time.time()) + 0.05)  # the crashed worker's lease expires
    pipe.run(3)
    job = pipe.job(mid)
    assert job.state is JobState.ATTESTED and job.verdict == "valid" and job.report_digest
    assert len(pipe.client.attested_events()) == 1 and len(pipe.relayer.outbox.intents()) == 1


def test_the_page_escapes_every_value_and_shows_what_a_buyer_needs(pipe, bundle):
    _, uri = pipe.store.put(bundle["bytes"])
    evil = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    mid = pipe.register(request_for(bundle, uri + "?" + evil, metadata_uri="javascript:" + evil))
    pipe.run(2)
    job = pipe.job(mid)
    page = render_provenance_page(model_view(job, status_json(pipe.client.get_status(mid)), live=True), verifier=pipe.verifier.address)
    assert page.count("<script") == 1 and f"<script>{COPY_SCRIPT}</script>" in page  # only the page's own copy script
    assert "<img" not in page and "onerror=alert" not in page.replace("onerror=alert(2)&gt;", "")
    assert evil in html.unescape(page)  # shown as text: escaped above, whole once unescaped
    for text in (
        "Verified",
        "MLP 64-8-10",
        "2 SGD steps, batch 4",
        "1 valid of quorum 1",
        bundle["info"]["statement_digest"],
        bundle["info"]["commitment_digests"]["c_wt"],
        "KiB",
    ):
        assert text in page, text
    snap = render_provenance_page(snapshot_view(pipe.client, mid, bundle["bytes"], verify_seconds=0.5))
    assert "Verified" in snap and "0.50 s" in snap and "MLP 64-8-10" in snap
    pipe.client.revoke_verifier(pipe.verifier.address)
    removed = render_provenance_page(snapshot_view(pipe.client, mid, bundle["bytes"]))
    assert "verdict from a removed verifier: not counted" in removed and "1 from removed verifiers" in removed


def test_a_reorg_deeper_than_the_confirmations_rewinds_the_cursor_and_drops_the_job(pipe, bundle, accounts):
    _, uri = pipe.store.put(bundle["bytes"])
    snapshot = pipe.w3.testing.snapshot()
    mid = pipe.register(request_for(bundle, uri))
    pipe.w3.testing.mine(1)
    assert pipe.watcher.poll().added == 1  # 1 confirmation: seen at once
    pipe.w3.testing.revert(snapshot)  # the registration's block is gone
    pipe.w3.testing.mine(3)
    poll = pipe.watcher.poll()
    assert poll.rewound and pipe.job(mid).state is JobState.GONE
    assert pipe.worker.run_once() is None  # nothing to verify, nothing attested
    again = pipe.register(request_for(bundle, uri))  # the same registration is mined again
    assert again == mid
    pipe.run(3)
    assert pipe.job(mid).state is JobState.ATTESTED and len(pipe.client.attested_events()) == 1


def test_wrong_bytes_then_a_missing_file_then_the_bundle_end_verified(db_location, bundle, tmp_path, accounts):
    """The owner's host first serves other bytes (an error page with status 200, a cut transfer), then
    nothing, then the bundle: only the registered bytes can be judged, so the job keeps retrying
    past max_attempts within the retry window and ends Verified, never attested invalid."""
    pipe = Pipeline(tmp_path, db_location, accounts, max_attempts=2, fetch_retry_window_s=3600, retry_max_s=0.05)
    try:
        _wrong_bytes_then_the_bundle(pipe, bundle)
    finally:
        pipe.close()


def _wrong_bytes_then_the_bundle(pipe: Pipeline, bundle) -> None:
    digest, uri = pipe.store.put(bundle["bytes"])
    path = pipe.store.path_for(digest)

    def run_until(done, passes: int = 60):
        for _ in range(passes):
            pipe.run(1)
            if done(pipe.job(mid)):
                return pipe.job(mid)
            time.sleep(0.06)  # past the capped backoff: the next pass retries
        raise AssertionError(f"not reached: {pipe.job(mid)}")

    path.write_bytes(b"<html>502 Bad Gateway</html>")
    mid = pipe.register(request_for(bundle, uri))
    job = run_until(lambda j: j is not None and j.attempts > 3)
    assert job.verdict is None and not job.state.final and "not the registered proof" in job.error, job
    path.unlink()
    attempts = job.attempts
    job = run_until(lambda j: j.attempts > attempts + 1)
    assert job.verdict is None and not job.state.final and "unreachable" in job.error, job
    path.write_bytes(bundle["bytes"])
    job = run_until(lambda j: j.state is JobState.ATTESTED)
    assert job.verdict == "valid" and pipe.client.get_status(mid).status is Status.VERIFIED


class _Answers(http.server.BaseHTTPRequestHandler):
    """What an operator's internal server might answer: statuses and bodies nobody outside may see."""

    routes: ClassVar[dict[str, tuple[int, bytes]]] = {}
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        status, body = self.routes.get(self.path, (404, b"no such thing on intranet-7"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def internal_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Answers.routes, _Answers.hits = {}, []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _public_text(pipe: Pipeline, mid: str) -> str:
    """Everything the service publishes about a model: /jobs and /models/{id} (the job's JSON), the page."""
    job = pipe.job(mid)
    view = model_view(job, status_json(pipe.client.get_status(mid)), live=True)
    return json.dumps(job.to_json()) + json.dumps(view) + render_provenance_page(view, verifier=pipe.verifier.address)


def test_public_outputs_name_the_category_never_the_servers_answer(pipe, bundle, internal_server):
    secret = b"<html>error from billing.intranet-7</html>"
    _Answers.routes = {"/down.zkdl": (503, secret), "/page.zkdl": (200, secret)}
    k = lambda t: keccak(text=t)  # noqa: E731
    down = pipe.register(request_for(bundle, internal_server + "/down.zkdl", c_wt_digest=k("down")))
    page = pipe.register(request_for(bundle, internal_server + "/page.zkdl", c_wt_digest=k("page")))
    pipe.run(6)
    for mid, failure in ((down, UNREACHABLE), (page, NOT_REGISTERED)):
        job = pipe.job(mid)
        assert job.state is JobState.UNAVAILABLE and job.error.startswith(failure.public), job
        published = _public_text(pipe, mid)
        for internal in ("HTTP 503", "Service Unavailable", "intranet-7", keccak(secret).hex()):  # the URI itself is public
            assert internal not in published, internal
    assert sorted(set(_Answers.hits)) == ["/down.zkdl", "/page.zkdl"]  # they were fetched (allowed here)


def test_a_registration_pointing_into_the_operators_network_is_refused_at_once(tmp_path, db_location, bundle, accounts, internal_server):
    _Answers.routes = {"/b.zkdl": (200, bundle["bytes"])}
    pipe = Pipeline(tmp_path, db_location, accounts, max_attempts=3, fetch_retry_window_s=3600)  # allow_local: not given
    try:
        mid = pipe.register(request_for(bundle, internal_server + "/b.zkdl"))
        pipe.run(2)
        job = pipe.job(mid)
        assert (job.state, job.attempts, job.error, job.verdict) == (JobState.UNAVAILABLE, 1, REFUSED.public, None)
        assert _Answers.hits == []  # never connected
        assert pipe.client.get_attestation(mid, pipe.verifier.address).verdict is Verdict.NONE
    finally:
        pipe.close()


def test_a_job_whose_host_is_being_fetched_waits_and_the_next_model_goes_first(tmp_path, db_location, bundle, other_bundle, accounts):
    pipe = Pipeline(tmp_path, db_location, accounts, retry_base_s=30)
    try:
        busy = f"http://127.0.0.1:{free_port()}/b.zkdl"
        waiting = pipe.register(request_for(bundle, busy))
        _, uri = pipe.store.put(other_bundle["bytes"])
        good = pipe.register(request_for(other_bundle, uri), owner=accounts[6])
        pipe.watcher.poll()
        with pipe.worker.gate.hold(FetchGate.sources(busy, "0x" + "11" * 20)) as held:  # another worker on that host
            assert held
            assert pipe.worker.run_once().model_id == waiting  # the oldest job: its host is busy, so it waits
            assert pipe.worker.run_once().model_id == good  # and the next model is verified meanwhile
        job = pipe.job(waiting)
        assert (job.state, job.attempts, job.error) == (JobState.QUEUED, 0, "waiting for another fetch from the same host or owner")
        assert job.not_before > time.time() + 20
        assert (pipe.job(good).state, pipe.job(good).verdict) == (JobState.VERIFIED, "valid")
    finally:
        pipe.close()


def test_a_host_that_keeps_timing_out_is_given_up_when_the_fetch_budget_is_spent(tmp_path, db_location, bundle, accounts):
    """However long the retry window, one model's fetches take at most its budget of worker time."""
    trickler = TricklingServer(bundle["bytes"], interval=0.2)  # the registered bytes, far too slowly
    limits = dict(fetch_timeout_s=1.5, fetch_budget_s=2.5, fetch_retry_window_s=3600, max_attempts=1, retry_max_s=0.01)
    pipe = Pipeline(tmp_path, db_location, accounts, allow_local=True, **limits)
    try:
        mid = pipe.register(request_for(bundle, trickler.url + "/b.zkdl"))
        for _ in range(40):  # attempt 1 takes its deadline (1.5 s), attempt 2 what is left of the budget (1 s)
            pipe.run(1)
            if pipe.job(mid).state.final:
                break
            time.sleep(0.05)  # past the backoff
        job = pipe.job(mid)
        assert (job.state, job.attempts, job.verdict) == (JobState.UNAVAILABLE, 2, None), job
        assert job.error.startswith(TIMED_OUT.public) and "budget of 2.5 s per model" in job.error, job
        assert 2.5 <= job.fetch_seconds < 3.5, job
        assert pipe.client.get_attestation(mid, pipe.verifier.address).verdict is Verdict.NONE
    finally:
        pipe.close()
        trickler.close()


def test_a_node_outage_during_a_job_publishes_no_node_address(pipe, bundle, monkeypatch):
    _, uri = pipe.store.put(bundle["bytes"])
    mid = pipe.register(request_for(bundle, uri))
    pipe.watcher.poll()

    def down(_model_id: object) -> None:
        raise ConnectionError("HTTPConnectionPool(host='10.9.8.7', port=8545): Max retries exceeded")

    monkeypatch.setattr(pipe.client, "get_model", down)
    with pytest.raises(ConnectionError):
        pipe.worker.run_once()
    job = pipe.job(mid)
    assert (job.state, job.attempts, job.error) == (JobState.QUEUED, 0, "the chain node is unreachable")


def test_a_model_priced_above_the_budget_is_skipped_with_the_reason_and_nothing_is_attested(tmp_path, db_location, bundle, accounts):
    """The price comes from the statement before verifying: above the budget there is no verdict (a
    verifier with a larger budget may verify the model), never an invalid one."""
    pipe = Pipeline(tmp_path, db_location, accounts, allow_local=True, max_verify_s=0.01)
    try:
        _, uri = pipe.store.put(bundle["bytes"])
        mid = pipe.register(request_for(bundle, uri))
        pipe.run(3)
        job = pipe.job(mid)
        assert (job.state, job.verdict) == (JobState.SKIPPED, None), job
        assert job.error.startswith("not verified by this verifier: verifying it would take about") and "budget of 0.01 s" in job.error
        assert pipe.client.get_attestation(mid, pipe.verifier.address).verdict is Verdict.NONE
        assert pipe.client.get_status(mid).status is Status.PENDING and not pipe.relayer.outbox.intents()
    finally:
        pipe.close()


def test_attestations_refused_while_paused_or_without_the_role_land_once_that_is_lifted(pipe, bundle, other_bundle, accounts):
    """The relayer fails an attestation the registry refuses (paused; no verifier role): once the
    cause is gone, the service's retry signs it again and it lands, once."""
    from zkdl.service.attest_retry import retry_failed_attestations

    def retry() -> int:
        config = pipe.config.model_copy(update={"retry_base_s": 60.0})  # a second refusal waits a minute
        return retry_failed_attestations(pipe.jobs, pipe.relayer, pipe.client, pipe.verifier, config)

    _, uri = pipe.store.put(bundle["bytes"])
    paused = pipe.register(request_for(bundle, uri))
    pipe.client.pause()
    pipe.run(3)
    assert pipe.job(paused).state is JobState.FAILED and "paused" in pipe.job(paused).error
    pipe.client.unpause()
    assert retry() == 1 and pipe.job(paused).state is JobState.VERIFIED
    pipe.run(2)
    assert pipe.job(paused).state is JobState.ATTESTED and pipe.client.get_status(paused).status is Status.VERIFIED

    pipe.client.revoke_verifier(pipe.verifier.address)
    _, other_uri = pipe.store.put(other_bundle["bytes"])
    unauthorised = pipe.register(request_for(other_bundle, other_uri), owner=accounts[6])
    pipe.run(3)
    assert pipe.job(unauthorised).state is JobState.FAILED and "not an authorised verifier" in pipe.job(unauthorised).error
    assert retry() == 1  # still without the role: refused again at the estimate, then backing off
    pipe.run(1)
    assert pipe.job(unauthorised).state is JobState.FAILED and retry() == 0
    pipe.client.grant_verifier(pipe.verifier.address)
    pipe.jobs.requeue(unauthorised)  # the operator does not wait for the backoff
    assert retry() == 1
    pipe.run(2)
    assert pipe.job(unauthorised).state is JobState.ATTESTED
    assert [e.model_id.hex() for e in pipe.client.attested_events()] == [paused[2:], unauthorised[2:]]
    assert all(i.nonce is not None for i in pipe.relayer.outbox.intents())  # no nonce was spent on a refusal
