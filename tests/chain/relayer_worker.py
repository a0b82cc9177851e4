"""A relayer process for test_relayer_faults.py: enqueue COUNT registrations, run until idle.

    ZKDL_TEST_RELAYER_KEY=0x... python relayer_worker.py URL REGISTRY OUTBOX BATCH COUNT [--crash-at N]

Every run of a batch enqueues the same COUNT registrations (tags fault-BATCH-0 ...): enqueuing is
idempotent, so a restarted worker simply carries on. With --crash-at N the process SIGKILLs itself
at the N-th *crash point*: each outbox state change and each broadcast is two points, just before
and just after the call, so the kill lands in every window a real crash could hit (signed but not
broadcast, broadcast but not recorded, mined but not recorded, ...). Exit status 0: idle (all
intents final); 3: not idle within the time limit.
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from eth_account import Account
from eth_utils import keccak
from web3 import Web3

from zkdl.chain import RegistrationRequest, RegistryClient
from zkdl.chain.outbox import SqlOutbox
from zkdl.chain.relayer import Relayer

OUTBOX_CHANGES = (
    "enqueue",
    "assign_nonce_and_sign",
    "add_replacement",
    "mark_broadcast",
    "mark_mined",
    "mark_unmined",
    "release_nonce",
    "finish",
    "note_error",
)


def request(batch: int, i: int) -> RegistrationRequest:
    tag = f"fault-{batch}-{i}"
    return RegistrationRequest(
        *(keccak(text=f"{tag}/{part}") for part in ("C_data", "C_W0", "C_WT", "statement", "proof")),
        keccak(text="zkdl-verifier/1"),
        f"file:///bundles/{tag}.zkdl",
    )


class CrashPoints:
    """Counts crash points and kills the process (SIGKILL: no cleanup, no flush) at point `at`."""

    def __init__(self, at: int | None) -> None:
        self.at = at
        self.seen = 0

    def point(self) -> None:
        if self.seen == self.at:
            os.kill(os.getpid(), signal.SIGKILL)
        self.seen += 1

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            self.point()
            result = fn(*args, **kwargs)
            self.point()
            return result

        return wrapped


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("registry")
    parser.add_argument("outbox")
    parser.add_argument("batch", type=int)
    parser.add_argument("count", type=int)
    parser.add_argument("--crash-at", type=int)
    parser.add_argument("--confirmations", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()

    account = Account.from_key(os.environ["ZKDL_TEST_RELAYER_KEY"])
    w3 = Web3(Web3.HTTPProvider(args.url, request_kwargs={"timeout": 10}))
    outbox = SqlOutbox(args.outbox)
    crash = CrashPoints(args.crash_at)
    for name in OUTBOX_CHANGES:
        setattr(outbox, name, crash.wrap(getattr(outbox, name)))
    w3.eth.send_raw_transaction = crash.wrap(w3.eth.send_raw_transaction)

    relayer = Relayer(w3, RegistryClient(w3, args.registry), account, outbox, confirmations=args.confirmations, poll_interval_s=0.05)
    for i in range(args.count):
        relayer.enqueue_registration(request(args.batch, i))
    print("enqueued", flush=True)  # the test times its outside kill from here, past the imports
    report = relayer.run_until_idle(args.timeout)
    print(f"crash points passed: {crash.seen}; states: {report.counts}", flush=True)
    return 0 if report.idle else 3


if __name__ == "__main__":
    sys.exit(main())
