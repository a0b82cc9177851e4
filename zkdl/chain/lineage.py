"""A model's lineage on the registry: the registrations of its parent statement and the ancestors
beyond, read through the registry's statement index (chain reads only: the verifier service's page
and the buyer's provenance both show it)."""

from __future__ import annotations

from itertools import islice
from typing import Any

from eth_utils import encode_hex

from .client import RegistryClient
from .structs import IndexKind, Model

MAX_LISTED = 20  # registrations listed per shared key (the totals are exact)
MAX_LINEAGE_DEPTH = 16  # ancestors followed up a fine-tuning chain


def lineage(client: RegistryClient, model: Model) -> tuple[tuple[Model, ...], tuple[Model, ...], str | None]:
    """The registrations of the model's parent statement whose C_WT is its C_W0, the ancestors beyond
    (following the earliest such registration each time), and the problem when the parent is not
    registered, or registered with other final weights. Found through the registry's statement index."""
    if not model.fine_tuned:
        return (), (), None
    parents = _parent_registrations(client, model)
    if not parents:
        named = client.first_model_by(IndexKind.STATEMENT, model.parent_digest)[1]
        parent = f"the parent statement {encode_hex(model.parent_digest)}"
        if named:
            return (), (), f"{parent} is registered with other final weights: this is not its fine-tuning"
        return (), (), f"{parent} is not registered here: the lineage is unchecked"
    ancestors: list[Model] = []
    current = parents[-1]  # newest first: the last is the earliest registration
    while current.fine_tuned and len(ancestors) < MAX_LINEAGE_DEPTH:
        up = _parent_registrations(client, current)
        if not up:
            break
        current = up[-1]
        ancestors.append(current)
    return parents, tuple(ancestors), None


def lineage_json(client: RegistryClient, model: Model) -> dict[str, Any]:
    """`lineage` as JSON: the parent registrations, the ancestors (id and owner each) and the problem."""
    parents, ancestors, problem = lineage(client, model)
    return {"parents": models_json(parents), "ancestors": models_json(ancestors), "problem": problem}


def models_json(models: tuple[Model, ...]) -> list[dict[str, str]]:
    return [{"model_id": encode_hex(m.model_id), "owner": m.owner} for m in models]


def _parent_registrations(client: RegistryClient, model: Model) -> tuple[Model, ...]:
    named = (client.get_model(i) for i in islice(client.iter_model_ids_by(IndexKind.STATEMENT, model.parent_digest), MAX_LISTED))
    return tuple(m for m in named if m.c_wt_digest == model.c_w0_digest)
