"""Independent replay of a recorded run: every step is recomputed from the documented integer formulas
with Python integers (numpy object arrays), reading the run directory's files directly. Nothing here
calls zkdl's trainer, schedule or data loader, so a bug shared by the trainer and this replay would
have to be written twice. Tampering with any recorded value must make the replay fail."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from eth_hash.auto import keccak

DIGITS = Path(__file__).resolve().parent.parent / "zkdl" / "datasets" / "digits.npz"
RECORDED = {"Z", "G_A", "W", "b"}  # what docs/training.md says the witness holds; the rest is replayed


def py(a: np.ndarray) -> np.ndarray:
    """An int64 array as Python ints (object dtype): exact, unbounded arithmetic."""
    return np.asarray(a).astype(object)


def round_half_up(z: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray]:
    """z = 2^s q + r with q = floor((z + 2^(s-1)) / 2^s)."""
    q = (z + 2 ** (s - 1)) // 2**s
    return q, z - q * 2**s


def keccak_schedule(seed: int, n: int, batch: int, steps: int) -> list[list[int]]:
    """The documented schedule: per epoch a Keccak-driven Fisher-Yates shuffle, floor(n/B) batches."""
    rows: list[list[int]] = []
    epoch = 0
    while len(rows) < steps:
        perm, counter = list(range(n)), 0
        for i in range(n - 1, 0, -1):
            while True:
                msg = b"zkdl/schedule/v1" + b"".join(v.to_bytes(8, "big") for v in (seed, epoch, counter))
                v = int.from_bytes(keccak(msg), "big")
                counter += 1
                if v < 2**256 - 2**256 % (i + 1):
                    break
            j = v % (i + 1)
            perm[i], perm[j] = perm[j], perm[i]
        rows += [perm[k * batch : (k + 1) * batch] for k in range(n // batch)]
        epoch += 1
    return rows[:steps]


class Mismatch(AssertionError):
    """A recorded value differs from the replay."""


def same(name: str, recorded: np.ndarray, expected: np.ndarray) -> None:
    """Compare a recorded tensor with the replayed one exactly."""
    if recorded.shape != expected.shape or not all(int(a) == int(b) for a, b in zip(recorded.ravel(), expected.ravel())):
        raise Mismatch(name)


def replay(run_dir: Path) -> None:
    """Re-execute every step and check every recorded tensor, the ranges and the final weights."""
    meta = json.loads((run_dir / "run.json").read_text())
    widths, bias = meta["spec"]["model"]["widths"], meta["spec"]["model"]["bias"]
    R, e, range_bits = (meta["spec"]["quant"][k] for k in ("frac_bits", "lr_exp", "range_bits"))
    tr = meta["spec"]["train"]
    s, L = 2 * R + e, len(widths) - 1
    with np.load(DIGITS) as d:
        X, y = d["X"].astype(np.int64)[d["train_idx"]], d["y"].astype(np.int64)[d["train_idx"]]
    enc = b"zkdl/dataset/v1" + b"".join(v.to_bytes(8, "big") for v in (*X.shape, 10, 4))
    assert keccak(enc + X.astype(">i8").tobytes() + y.astype(">i8").tobytes()).hex() == meta["data"]["digest"]
    wit = dict(np.load(run_dir / "witness.npz"))
    W0, WT = np.load(run_dir / "weights_initial.npz"), np.load(run_dir / "weights_final.npz")
    W = [py(W0[f"W{l}"]) for l in range(L)]
    b = [py(W0[f"b{l}"]) for l in range(L)] if bias else None
    batches = keccak_schedule(tr["schedule_seed"], len(y), tr["batch"], tr["steps"])
    for t in range(tr["steps"]):
        Y = np.zeros((len(batches[t]), widths[-1]), dtype=object)
        for i, label in enumerate(y[batches[t]]):
            Y[i, label] = 2**R
        rec = [dict() for _ in range(L)]
        a = py(X[batches[t]]) * 2 ** (R - 4)  # digits pixels have 4 fractional bits
        for l in range(L):
            z = a.dot(W[l]) + (b[l][None, :] * 2 ** (2 * R) if bias else 0)
            assert all(-(2 ** (range_bits - 1)) <= v < 2 ** (range_bits - 1) for v in z.ravel())
            zq, rz = round_half_up(z, s)
            rec[l].update(A_in=a, W=W[l], Z=z, Z_rescaled=zq, R_Z=rz)
            if bias:
                rec[l]["b"] = b[l]
            if l < L - 1:
                S = np.vectorize(lambda v: 1 if v >= 0 else 0, otypes=[object])(z)
                a = S * zq
                rec[l].update(S=S, A_out=a)
        gz = rec[-1]["Z_rescaled"] - Y
        for l in range(L - 1, -1, -1):
            rec[l]["G_Z"] = gz
            rec[l]["G_W"] = rec[l]["A_in"].T.dot(gz)
            if bias:
                rec[l]["G_b"] = gz.sum(axis=0)
            if l > 0:
                ga = gz.dot(W[l].T)
                assert all(-(2 ** (range_bits - 1)) <= v < 2 ** (range_bits - 1) for v in ga.ravel())
                gaq, rga = round_half_up(ga, s)
                rec[l - 1].update(G_A=ga, G_A_rescaled=gaq, R_GA=rga)
                gz = rec[l - 1]["S"] * gaq
        for l in range(L):
            for name in RECORDED & rec[l].keys():
                same(f"step {t} layer {l} {name}", wit[f"layer{l}.{name}"][t], rec[l][name])
            W[l] = W[l] - rec[l]["G_W"]
            if bias:
                b[l] = b[l] - rec[l]["G_b"]
    expected_keys = {f"layer{l}.{n}" for l in range(L) for n in RECORDED & rec[l].keys()}
    assert set(wit) == expected_keys, set(wit) ^ expected_keys
    for l in range(L):
        same(f"final W{l}", WT[f"W{l}"], W[l])
        if bias:
            same(f"final b{l}", WT[f"b{l}"], b[l])


def test_replay_is_bit_exact(small_run_dir: Path) -> None:
    replay(small_run_dir)


def _tamper_witness(run_dir: Path, key: str, step: int) -> None:
    """Change one entry of one recorded tensor by +1."""
    path = run_dir / "witness.npz"
    arrays = dict(np.load(path))
    arrays[key][step].reshape(-1)[arrays[key][step].size // 2] += 1
    np.savez(path, **arrays)


@pytest.mark.parametrize(
    "key, step",
    [
        ("layer0.Z", 1),
        ("layer1.Z", 3),
        ("layer2.Z", 0),
        ("layer0.G_A", 4),
        ("layer1.G_A", 2),
        ("layer0.W", 1),
        ("layer2.W", 5),
    ],
)
def test_replay_detects_tampering(small_run_dir: Path, tmp_path: Path, key: str, step: int) -> None:
    run_dir = Path(shutil.copytree(small_run_dir, tmp_path / "run"))
    _tamper_witness(run_dir, key, step)
    layer, _, name = key.rpartition(".")
    where = f"step {step} " + (f"layer {layer.removeprefix('layer')} " if layer else "")
    with pytest.raises(Mismatch, match=f"^{where}{name}$"):
        replay(run_dir)


def test_replay_detects_wrong_final_weights(small_run_dir: Path, tmp_path: Path) -> None:
    run_dir = Path(shutil.copytree(small_run_dir, tmp_path / "run"))
    final = dict(np.load(run_dir / "weights_final.npz"))
    final["W1"][0, 0] += 1
    np.savez(run_dir / "weights_final.npz", **final)
    with pytest.raises(Mismatch, match="final W1"):
        replay(run_dir)
