"""The buyer side of zkdl: a model's provenance and the check of delivered weights (see docs/market.md).

    from zkdl.market import open_client, provenance, check_weights
    client = open_client("http://127.0.0.1:8545", None)         # or any RegistryClient
    info = provenance(client, model_id)                          # record, status, attestations, statement
    result = check_weights(client, model_id, "weights.npz", "run.zkdl.opening.json")
    result.ok, result.reason

The seller's side, registering a bundle, is `zkdl.chain.register.register_bundle`.
"""

from importlib import import_module
from typing import Any

# Loaded on first use: `zkdl.market.command` is imported by `zkdl --help`, which must not pay for web3.
_EXPORTS = {
    "UnusableWeightsError": "check",
    "WeightCheck": "check",
    "check_weights": "check",
    "ChainConfigError": "connect",
    "connect": "connect",
    "open_client": "connect",
    "AttestationView": "query",
    "BundleClaims": "query",
    "ModelIdError": "ids",
    "Provenance": "query",
    "Shared": "query",
    "looks_like_model_id": "ids",
    "parse_model_id": "ids",
    "provenance": "query",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
