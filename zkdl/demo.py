"""`make demo`: the whole flow in one process, on the embedded defaults.

train → prove → deploy the registry → register through the relayer → the verifier service's
watcher and worker verify and attest → a buyer reads the provenance and checks the weights. The
chain is the in-process eth-tester chain unless an RPC URL is given (then the keys of the deployer,
the owner and the verifier come from the environment as `zkdl.chain.keys` loads them:
ZKDL_DEPLOYER_KEY, ZKDL_OWNER_KEY and ZKDL_VERIFIER_KEY or their keystores, the latter two
defaulting to the deployer's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from eth_utils import encode_hex
from web3 import Web3

from zkdl import api
from zkdl.chain import RegistryClient, deploy_registry, embedded_accounts, embedded_chain
from zkdl.chain.keys import load_account
from zkdl.chain.outbox import SqlOutbox
from zkdl.chain.register import register_bundle
from zkdl.chain.relayer import Relayer
from zkdl.data import load_digits
from zkdl.errors import ZkdlError
from zkdl.market import check_weights, provenance
from zkdl.model import resolve_spec
from zkdl.run import run_summary
from zkdl.service.config import ServiceConfig
from zkdl.service.jobs import JobStore
from zkdl.service.page import render_provenance_page, snapshot_view
from zkdl.service.watcher import Watcher
from zkdl.service.worker import Worker, sync_attestations
from zkdl.store import LocalStore
from zkdl.train import train


class DemoError(ZkdlError, RuntimeError):
    """A step of the demo flow did not reach its expected state."""

    code = "demo"


@dataclass(frozen=True)
class DemoReport:
    training: dict
    range_bits: int
    proof: api.ProveResult
    model_id: str
    provenance: str
    weights_ok: bool
    page_path: str


RELAYER_DB = "relayer.sqlite"  # the owner's relayer outbox
SERVICE_DB = "service.sqlite"  # the verifier service's jobs; its outbox is service.outbox.sqlite


def run(out: Path, steps: int, rpc_url: str | None, say: Callable[[str], None]) -> DemoReport:
    w3, admin, owner, verifier = _chain(rpc_url)  # first: a bad URL or a missing key fails before any work
    out.mkdir(parents=True, exist_ok=True)
    if rpc_url is None:
        _forget_the_last_embedded_chain(out)
    data = load_digits()
    spec = resolve_spec({"train": {"steps": steps}}, n_features=data.n_features, classes=data.classes,
                        n_train=int(data.train_idx.size))  # fmt: skip
    say(f"1/6 training the digits MLP {'-'.join(map(str, spec.model.widths))} for {steps} steps")
    trained = train(spec, data)
    run_dir = trained.save(out / "run")
    say("2/6 committing the digits data set (public: anyone recomputes its id from the data) and proving every step")
    dataset = api.commit_data(run_dir, out / "digits.dataset", public=True, data=data)
    proof = api.prove(run_dir, out / "run.zkdl", owner=owner.address, data=data, dataset=dataset.proof_path)
    bundle = Path(proof.bundle_path).read_bytes()
    say(f"3/6 deploying the registry on chain {w3.eth.chain_id}")
    record = deploy_registry(w3, admin, quorum=1)
    client = RegistryClient(w3, record.address, admin)
    client.grant_verifier(verifier.address)
    say("4/6 registering the model through the relayer")
    store = LocalStore(out / "bundles")
    relayer = Relayer(w3, RegistryClient(w3, record.address), admin, SqlOutbox(str(out / RELAYER_DB)))
    registered = register_bundle(bundle, client=client, relayer=relayer, store=store, owner_account=owner, by_signature=True)
    model_id = encode_hex(registered.model_id)
    say("5/6 the verifier service verifies and attests")
    _verify_and_attest(w3, record.address, verifier, out, store)
    say("6/6 the buyer checks provenance and weights")
    view = provenance(client, model_id, store=store)
    weights = check_weights(client, model_id, run_dir / "weights_final.npz", proof.opening_path, store=store)
    page = out / "provenance.html"
    page.write_text(render_provenance_page(snapshot_view(client, model_id, bundle), verifier=verifier.address))
    return DemoReport(run_summary(trained), spec.quant.range_bits, proof, model_id, view.describe(), weights.ok, str(page))


def _verify_and_attest(w3: Web3, registry: str, verifier: LocalAccount, out: Path, store: LocalStore) -> None:
    """One verifier's watcher, worker and relayer, run until the attestation is on chain."""
    config = _service_config(out)
    jobs = JobStore(config.db)
    client = RegistryClient(w3, registry, verifier)
    relayer = Relayer(w3, RegistryClient(w3, registry), verifier, SqlOutbox(config.outbox_path))
    watcher = Watcher(client, jobs, confirmations=1)
    worker = Worker("demo", config, jobs, client, relayer, verifier, file_roots=[store.root])
    for _ in range(10):
        watcher.poll()
        while worker.run_once() is not None:
            pass
        relayer.process_once()
        sync_attestations(jobs, relayer, client, verifier.address)
        if client.attested_events():
            return
    raise DemoError("the verifier service did not attest the model; see the job table in " + config.db)


def _service_config(out: Path) -> ServiceConfig:
    return ServiceConfig(db=str(out / SERVICE_DB), confirmations=1).checked()


def _forget_the_last_embedded_chain(out: Path) -> None:
    """The embedded chain lives in one process: an earlier run's outboxes and job table describe a
    chain that is gone (the relayer would wait for its nonces, the watcher start past its blocks),
    so with it they start empty. On a real node (--rpc) they are kept: that chain remembers."""
    for path in (out / RELAYER_DB, out / SERVICE_DB, Path(_service_config(out).outbox_path)):
        for suffix in ("", "-wal", "-shm"):  # SQLite's write-ahead log and its index go with the file
            path.with_name(path.name + suffix).unlink(missing_ok=True)


def _chain(rpc_url: str | None) -> tuple[Web3, LocalAccount, LocalAccount, LocalAccount]:
    if rpc_url is None:
        accounts = embedded_accounts()
        return embedded_chain(), accounts[0], accounts[1], accounts[2]
    admin = load_account("deployer", required=False)
    if admin is None:
        raise DemoError("--rpc needs ZKDL_DEPLOYER_KEY (and optionally ZKDL_OWNER_KEY, ZKDL_VERIFIER_KEY) in the environment")
    owner, verifier = (load_account(role, required=False) or admin for role in ("owner", "verifier"))
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 30}))
    if not w3.is_connected():
        raise DemoError(f"no JSON-RPC node answers at {rpc_url}: start it or fix the URL")
    return w3, admin, owner, verifier
