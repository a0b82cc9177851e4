"""Follows the registry's ModelRegistered events from a stored cursor, behind a confirmation depth.

A block is scanned once it is `confirmations` deep (its own block counted, as in the relayer: with
3, block h is scanned when the head is h + 2), so a reorg shallower than that never shows the
watcher a registration that then disappears. The cursor stores the next block to scan and the hash
of the block before it; if that hash changes (a reorg deeper than the confirmation depth), the
watcher rewinds `reorg_rewind` blocks, rescans (inserting is idempotent, keyed by model id) and
re-checks that the models of the rewound range still exist.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from eth_utils import encode_hex, to_checksum_address

from ..chain.client import RegistryClient
from .jobs import JobState, JobStore

log = logging.getLogger("zkdl.service.watcher")


@dataclass(frozen=True)
class PollResult:
    head: int
    safe_head: int
    next_block: int
    added: int
    rewound: bool


class Watcher:
    def __init__(
        self,
        client: RegistryClient,
        jobs: JobStore,
        *,
        confirmations: int,
        start_block: int = 0,
        reorg_rewind: int = 64,
        max_blocks_per_poll: int = 2000,
    ) -> None:
        self.client = client
        self.w3 = client.w3
        self.jobs = jobs
        self.confirmations = confirmations
        self.start_block = start_block
        self.reorg_rewind = reorg_rewind
        self.max_blocks = max_blocks_per_poll

    def safe_head(self, head: int) -> int:
        return head - max(self.confirmations, 1) + 1

    def poll(self, max_chunks: int = 8) -> PollResult:
        """Scan what became safe since the last poll (at most `max_chunks` log queries)."""
        head = self.w3.eth.block_number
        safe = self.safe_head(head)
        cursor = self.jobs.cursor()
        next_block, prev_hash = cursor if cursor is not None else (self.start_block, None)
        rewound = False
        if prev_hash is not None and next_block > 0 and next_block - 1 <= head:
            actual = encode_hex(self.w3.eth.get_block(next_block - 1)["hash"])
            if actual != prev_hash:
                rewound = True
                next_block = self._rewind(next_block)
        elif prev_hash is not None and next_block - 1 > head:
            rewound = True  # the chain is shorter than what we scanned: a reorg or a reset node
            next_block = self._rewind(next_block)
        added = 0
        hashes: dict[int, str] = {}
        for _ in range(max_chunks):
            if next_block > safe:
                break
            to = min(safe, next_block + self.max_blocks - 1)
            for event in self.client.registered_events(next_block, to):
                if event.block_number not in hashes:
                    hashes[event.block_number] = encode_hex(self.w3.eth.get_block(event.block_number)["hash"])
                request = event.request
                registration = {
                    "c_data_digest": encode_hex(request.c_data_digest),
                    "c_w0_digest": encode_hex(request.c_w0_digest),
                    "c_wt_digest": encode_hex(request.c_wt_digest),
                    "statement_digest": encode_hex(request.statement_digest),
                    "proof_digest": encode_hex(request.proof_digest),
                    "parent_digest": encode_hex(request.parent_digest),
                    "verifier_version": encode_hex(request.verifier_version),
                    "bundle_uri": request.bundle_uri,
                    "metadata_uri": request.metadata_uri,
                    "registered_at": str(event.registered_at),
                    "submitter": to_checksum_address(event.submitter),
                }
                if self.jobs.add(
                    model_id=encode_hex(event.model_id),
                    owner=to_checksum_address(event.owner),
                    block_number=event.block_number,
                    block_hash=hashes[event.block_number],
                    tx_hash=encode_hex(event.tx_hash),
                    registration=registration,
                ):
                    added += 1
                    log.info("queued model %s (block %s)", encode_hex(event.model_id), event.block_number)
            next_block = to + 1
            self.jobs.set_cursor(next_block, encode_hex(self.w3.eth.get_block(to)["hash"]))
        return PollResult(head, safe, next_block, added, rewound)

    def _rewind(self, next_block: int) -> int:
        start = max(self.start_block, next_block - self.reorg_rewind)
        log.warning("reorg deeper than %s confirmations below block %s: rescanning from %s", self.confirmations, next_block, start)
        prev = encode_hex(self.w3.eth.get_block(start - 1)["hash"]) if start > 0 else None
        self.jobs.set_cursor(start, prev)
        # Models of the rewound range that are not on the canonical chain any more stop here; those
        # that are (re-mined elsewhere) are re-added by the rescan.
        for job in self.jobs.list((JobState.QUEUED, JobState.LEASED), limit=10_000):
            if job.block_number >= start and not self.client.model_exists(job.model_id):
                self.jobs.mark_gone(job.model_id, "the registration was removed by a chain reorganisation")
        return start
