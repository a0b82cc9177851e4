"""Exponential backoff, the one formula behind every retry pause (relayer passes, the verifier
service's loop, a bundle fetch retried later)."""

from __future__ import annotations

_MAX_DOUBLINGS = 60  # far past any cap: keeps base·2^n a float during the longest outage


def backoff_delay(base_s: float, retries: int, cap_s: float) -> float:
    """The pause after `retries` failures in a row: base_s·2^retries, at most cap_s."""
    return min(base_s * 2.0 ** min(retries, _MAX_DOUBLINGS), cap_s)
