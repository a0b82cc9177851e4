"""The README's demo figures (scripts/readme_figures.py) are a real run's: its deterministic figures
(accuracies, proof size) are re-made here from the demo's own run and must match."""

from __future__ import annotations

import re
from pathlib import Path

from scripts import readme_figures
from zkdl import api
from zkdl.data import load_digits
from zkdl.model import resolve_spec
from zkdl.train import train

DEMO_STEPS = 16


def test_the_readme_figures_are_the_demo_run_s(tmp_path: Path) -> None:
    shown = readme_figures.figures_in(readme_figures.README.read_text())
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
