"""docs/service.md's walkthrough, run as written (tests/walkthrough.py): an operator's path from
nothing to an attested model cannot drift from the code."""

from __future__ import annotations

from tests.localnode import ROOT
from tests.walkthrough import shell_blocks, walk

DOC = ROOT / "docs" / "service.md"
SECTION = "## From nothing to an attested model on anvil"


def test_the_walkthrough_has_every_step():
    script = "".join(shell_blocks(DOC, SECTION))
    for step in ("anvil", "zkdl admin deploy", "zkdl admin grant-verifier", "zkdl serve", "zkdl register", "zkdl provenance"):
        assert step in script, step


def test_the_operator_walkthrough_ends_with_an_attested_model(tmp_path):
    walked = walk("".join(shell_blocks(DOC, SECTION)), tmp_path)
    assert walked.status == 0, walked.tail()
    assert "status VERIFIED: 1 valid, 0 invalid of quorum 1" in walked.output, walked.tail()
    assert (walked.work / "deployments").is_dir() and (walked.work / "service.sqlite").exists()
