"""The off-chain verifier service (`zkdl serve`): follows the registry, verifies proof bundles,
attests through the relayer, and serves a JSON API and provenance pages. See docs/service.md.

Importing `zkdl.service.command` registers the `serve` subcommand; it stays light (the heavy
modules load when the command runs), so names here are imported lazily too.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "VERIFIER_VERSION": "config",
    "ConfigError": "config",
    "ServiceConfig": "config",
    "load_config": "config",
    "load_keys": "config",
    "Job": "jobs",
    "JobState": "jobs",
    "JobStore": "jobs",
    "model_view": "page",
    "render_provenance_page": "page",
    "snapshot_view": "page",
    "Outcome": "report",
    "build_report": "report",
    "canonical_json": "report",
    "check_bundle": "report",
    "report_digest": "report",
    "VerifierService": "service",
    "create_app": "app",
    "serve": "command",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
