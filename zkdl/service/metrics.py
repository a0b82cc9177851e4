"""Prometheus metrics of one service instance (its own registry, so tests can run several)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily


class Metrics:
    def __init__(self, job_counts: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.verdicts = Counter("zkdl_verdicts", "verdicts recorded by this process", ["verdict", "code"], registry=r)
        self.fetch_errors = Counter("zkdl_bundle_fetch_errors", "bundle fetches that failed", ["kind"], registry=r)
        self.verify_seconds = Histogram(
            "zkdl_verify_seconds", "proof verification time", buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300), registry=r
        )
        self.rpc_errors = Counter("zkdl_rpc_errors", "loop passes stopped by an unreachable node", registry=r)
        self.loop_errors = Counter("zkdl_loop_errors", "unexpected errors in the service loop", registry=r)
        self.chain_head = Gauge("zkdl_chain_head_block", "latest block seen", registry=r)
        self.cursor = Gauge("zkdl_cursor_block", "next block the watcher scans", registry=r)
        self.last_poll = Gauge("zkdl_last_successful_poll_timestamp_seconds", "time of the last poll", registry=r)
        self.reorgs = Counter("zkdl_reorgs_detected", "cursor rewinds after a deep reorg", registry=r)
        r.register(_JobCollector(job_counts))


class _JobCollector:
    def __init__(self, job_counts: Callable[[], dict[str, int]]) -> None:
        self.job_counts = job_counts

    def collect(self):
        family = GaugeMetricFamily("zkdl_jobs", "jobs in the service database by state", labels=["state"])
        try:
            counts = self.job_counts()
        except Exception:
            counts = {}
        for state, n in counts.items():
            family.add_metric([state], n)
        yield family
