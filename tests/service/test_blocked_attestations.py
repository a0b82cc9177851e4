"""The onboarding trap of issue 18, as an operator meets it: `zkdl serve` started before the admin
granted its key the verifier role. Its first verdict cannot land (the registry refuses it); once
`zkdl admin grant-verifier` has run, the service sends it again by itself, with no restart, no
deleted database and no requeue, and the model ends Verified."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from svc_support import ROOT, ServiceProcess, anvil, request_for, services, setup_registry, wait_until

from zkdl.chain import RegistryClient, Status
from zkdl.store import LocalStore


def test_a_verdict_refused_before_the_grant_lands_after_it_without_manual_steps(tmp_path, bundle, accounts):
    admin, verifier, owner = accounts[0], accounts[1], accounts[4]
    with anvil() as w3:
        client = setup_registry(w3, admin, [], [owner, verifier])  # funded, not yet a verifier
        _, uri = LocalStore(tmp_path / "store").put(bundle["bytes"])
        svc = ServiceProcess.on(tmp_path, client, verifier, "--bundle-dir", str(tmp_path / "store"), env={"ZKDL_RETRY_BASE_S": "0.5"})
        with services(svc):
            svc.start()
            mid = RegistryClient(w3, client.address, owner).register_model(request_for(bundle, uri)).model_id
            failed = svc.wait_job(mid, ("failed",))
            assert failed["verdict"] == "valid" and "not an authorised verifier" in failed["error"]

            env = {**os.environ, "PYTHONPATH": str(ROOT), "ZKDL_RPC_URL": w3.provider.endpoint_uri,
                   "ZKDL_REGISTRY": client.address, "ZKDL_ADMIN_KEY": "0x" + bytes(admin.key).hex()}  # fmt: skip
            grant = subprocess.run([sys.executable, "-m", "zkdl.cli", "admin", "grant-verifier", verifier.address],
                                   env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
            assert grant.returncode == 0 and json.loads(grant.stdout)["changed"] is True, grant.stderr

            svc.wait_job(mid, ("attested",))
            status = wait_until("Verified", lambda: (s := client.get_status(mid)).status is Status.VERIFIED and s)
            assert (status.valid_count, [a.verifier for a in status.attestations]) == (1, [verifier.address])
            assert "sending it again" in svc.tail()
