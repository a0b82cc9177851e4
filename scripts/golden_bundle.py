"""Regenerate the golden bundle, tests/vectors/golden.zkdl, its data set's proof file,
golden.dataset, and their description, golden.json.

    python -m scripts.golden_bundle        (from the repository root; or `make golden`)

The golden run is tiny and fixed: the soundness suite's network (widths 6-8-5-3, no bias, batch 4,
3 steps, learning rate 2^-10; every padded axis has padding) trained on the 24 samples defined
below, committed as a public data set (`zkdl.api.commit_data`) and proven on it by `zkdl.api.prove`
in chunks of 2 steps (so the bundle holds a boundary commitment between two chunks), with the
prover's randomness seeded (tests/seeding.py). The bundle embeds the run's public statement;
golden.json records its digests, sizes and the versions it was made with.

tests/test_golden_bundle.py re-proves the run and requires the committed bytes. Regenerate only for
an intended change of the bundle format, the transcript or the prover's messages, and bump the
proof version in the same change (zkdl.proof.bundle.VERSION, zkdl.proof.statement.PROTOCOL_TAG): a bundle
made by the old code must not be read as one made by the new.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

import zkdl
from tests.seeding import seeded_prover
from zkdl import api
from zkdl.data import Dataset
from zkdl.model import ModelSpec, TrainSpec
from zkdl.proof import bundle, statement
from zkdl.quant import QuantParams
from zkdl.train import train

VECTORS = Path(__file__).resolve().parent.parent / "tests" / "vectors"
BUNDLE = VECTORS / "golden.zkdl"
DATASET = VECTORS / "golden.dataset"
DESCRIPTION = VECTORS / "golden.json"
SEED = 1
CHUNK_STEPS = 2
OWNER = "0x" + "5a" * 20  # a fixed, synthetic owner address: the golden proof is bound to it
SPEC = TrainSpec(
    model=ModelSpec((6, 8, 5, 3), bias=False),
    quant=QuantParams(lr_exp=10),
    batch=4,
    steps=3,
    schedule_seed=5,
    init_seed=1,
)


def golden_data() -> Dataset:
    """24 samples of 6 pixels in 0..16 (scale 2^4), 3 classes, all in training. Given in closed form
    rather than drawn from numpy's generators, whose streams may change between numpy versions."""
    i, j = np.meshgrid(np.arange(24), np.arange(6), indexing="ij")
    X = ((7 * i + 11 * j + i * j) % 17).astype(np.int64)
    y = (np.arange(24) % 3).astype(np.int64)
    return Dataset("golden", X, y, 3, 4, np.arange(24, dtype=np.int64), np.zeros(0, np.int64))


def prove_golden() -> tuple[bytes, bytes]:
    """Trains the golden run, commits its public data set and proves the run on it under the seed:
    the golden bundle's bytes and the data set's proof file."""
    data = golden_data()
    with tempfile.TemporaryDirectory(prefix="zkdl-golden-") as tmp:
        run_dir = train(SPEC, data).save(Path(tmp) / "run")
        with seeded_prover(SEED):
            dataset = api.commit_data(run_dir, Path(tmp) / "golden.dataset", public=True, data=data)
            result = api.prove(
                run_dir, Path(tmp) / "golden.zkdl", owner=OWNER, data=data, dataset=dataset.proof_path, chunk_steps=CHUNK_STEPS
            )
        return Path(result.bundle_path).read_bytes(), Path(dataset.proof_path).read_bytes()


def describe(encoded: bytes, dataset: bytes) -> dict[str, Any]:
    """golden.json: what the bundle holds (zkdl.api.inspect) and what it was made with."""
    return {
        **api.inspect(encoded),
        "dataset_sha256": "0x" + hashlib.sha256(dataset).hexdigest(),
        "sha256": "0x" + hashlib.sha256(encoded).hexdigest(),
        "made_with": {
            "zkdl": zkdl.__version__,
            "bundle_version": bundle.VERSION,
            "statement_version": statement.VERSION,
            "transcript_domain": statement.PROTOCOL_TAG.decode(),
            "seed": SEED,
            "chunk_steps": CHUNK_STEPS,
        },
    }


def main() -> None:
    encoded, dataset = prove_golden()
    BUNDLE.write_bytes(encoded)
    DATASET.write_bytes(dataset)
    DESCRIPTION.write_text(json.dumps(describe(encoded, dataset), indent=2) + "\n")
    print(f"wrote {BUNDLE.name} ({len(encoded)} bytes), {DATASET.name} ({len(dataset)} bytes) and {DESCRIPTION.name} in {VECTORS}")


if __name__ == "__main__":
    main()
