"""The service's confirmation depths default to what the chain needs: 1 where blocks come only with
transactions (a development chain id, or a node that automines), 3 elsewhere; a set depth is kept,
with a WARNING when an automining node would never reach it."""

from __future__ import annotations

import logging

import pytest
from svc_support import anvil

from zkdl.chain import embedded_accounts, embedded_chain
from zkdl.service.config import ServiceConfig
from zkdl.service.service import VerifierService


def _resolved(tmp_path, w3, **settings) -> tuple[int, int]:
    service = VerifierService(ServiceConfig(db=str(tmp_path / "svc.sqlite"), **settings).checked(), embedded_accounts()[1])
    service._resolve_confirmations(w3, w3.eth.chain_id)
    service.jobs.close()
    return service.confirmations, service.relayer_confirmations


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), (1, 1)),  # anvil's chain id 31337
        (("--chain-id", "5"), (1, 1)),  # another id, but every transaction mines a block
        (("--chain-id", "5", "--block-time", "1"), (3, 3)),  # blocks come by themselves, as on a real network
    ],
)
def test_the_default_depth_follows_the_node(tmp_path, args, expected):
    with anvil(None, *args) as w3:
        assert _resolved(tmp_path, w3) == expected


def test_the_embedded_chain_needs_one_and_a_set_depth_is_kept_with_a_warning(tmp_path, caplog):
    assert _resolved(tmp_path, embedded_chain()) == (1, 1)
    with anvil() as w3, caplog.at_level(logging.WARNING, "zkdl.service"):
        assert _resolved(tmp_path, w3, confirmations=3, relayer_confirmations=2) == (3, 2)
    assert "mines a block per transaction (automine) and confirmations are 3" in caplog.text
