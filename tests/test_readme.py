"""The README follows the code. Its demo figures (scripts/readme_figures.py) are a real run's: the
deterministic ones (accuracies, proof size) are re-made here from the demo's own run and must match.
Its walkthrough from a CSV to a checked model runs as written (tests/walkthrough.py). It links every
doc, names the current proof format, and says what `make test` installs as root before the command."""

from __future__ import annotations

import re
from pathlib import Path

from scripts import readme_figures
from tests.localnode import ROOT
from tests.walkthrough import shell_blocks, walk
from zkdl import api
from zkdl.data import load_digits
from zkdl.model import resolve_spec
from zkdl.proof import bundle
from zkdl.train import train

README = readme_figures.README

DEMO_STEPS = 16


def test_the_readme_figures_are_the_demo_run_s(tmp_path: Path) -> None:
    shown = readme_figures.figures_in(README.read_text())
    test, train_accuracy, steps, size = (
        re.search(pattern, shown).group(1)  # type: ignore[union-attr]
        for pattern in (r"test accuracy .*\| ([\d.]+) %", r"train accuracy \| ([\d.]+) %", r"proof of the (\d+) steps", r"\| (\d+) bytes")
    )
    data = load_digits()
    shape = {"n_features": data.n_features, "classes": data.classes, "n_train": int(data.train_idx.size)}
    spec = resolve_spec({"train": {"steps": DEMO_STEPS}}, **shape)
    run = train(spec, data)
    run_dir = run.save(tmp_path / "run")
    dataset = api.commit_data(run_dir, tmp_path / "digits.dataset", public=True, data=data)  # as zkdl demo does
    proof = api.prove(run_dir, tmp_path / "run.zkdl", owner="0x" + "00" * 19 + "01", data=data, dataset=dataset.proof_path)
    assert (int(steps), int(size)) == (DEMO_STEPS, proof.bundle_bytes), "regenerate with `python -m scripts.readme_figures`"
    assert (test, train_accuracy) == (f"{100 * run.stats.test_accuracy:.2f}", f"{100 * run.stats.train_accuracy:.2f}")


WALKTHROUGH = "## From your own CSV to a verified model"


def test_the_walkthrough_goes_from_a_csv_to_a_checked_model() -> None:
    script = "".join(shell_blocks(README, WALKTHROUGH))
    steps = ("zkdl train", "zkdl prove", "anvil", "zkdl admin deploy", "zkdl admin grant-verifier", "zkdl serve",
             "zkdl dataset register", "zkdl register", "zkdl provenance", "zkdl export", "zkdl check-weights")  # fmt: skip
    for step in steps:
        assert step in script, step
    assert [script.index(step) for step in steps] == sorted(script.index(step) for step in steps)


def test_the_readme_walkthrough_ends_with_weights_a_buyer_accepts(tmp_path: Path) -> None:
    walked = walk("".join(shell_blocks(README, WALKTHROUGH)), tmp_path)
    assert walked.status == 0, walked.tail()  # under set -e: every command exited 0, check-weights included
    assert "labels apple, lemon, orange are classes 0..2" in walked.output, walked.tail()
    assert "\nVALID\n" in walked.output, walked.tail()
    assert "status VERIFIED: 1 valid, 0 invalid of quorum 1" in walked.output, walked.tail()
    assert re.search(r"\ndata set 0x[0-9a-f]{64}: registered by 0x", walked.output), walked.tail()
    assert "OK: the weights are the committed final weights of verified model" in walked.output, walked.tail()


def test_every_doc_is_linked_from_the_documentation_list() -> None:
    text = README.read_text("utf-8")
    documentation = text[text.index("## Documentation") :]
    for doc in sorted((ROOT / "docs").glob("*.md")):
        assert f"](docs/{doc.name})" in documentation, f"README's Documentation list does not link docs/{doc.name}"


def test_the_status_line_names_the_bundle_version() -> None:
    assert f"Status: proof format v{bundle.VERSION} " in README.read_text("utf-8")


def test_what_make_test_installs_as_root_is_said_before_the_command() -> None:
    text = README.read_text("utf-8")
    command = text.index("\nmake test ")
    packages = re.findall(r"apt-get install -y -q ([\w.-]+)", (ROOT / "Makefile").read_text("utf-8"))
    assert packages, "the Makefile installs no system package: say so in the README"
    for said in ("`apt-get`", "`sudo`", *(f"`{package}`" for package in packages)):
        assert -1 < text.find(said) < command, f"README must say {said} before the `make test` command"
