"""Multilinear extensions of the prover's tables over named shapes (zkdl.proof.claims): partial
evaluations, contractions, evaluations and weighted sums, the values a prover computes for the
claims of every sub-protocol. An axis is named here; the backend takes its position in the
shape's numpy order.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from zkdl import backend
from zkdl.backend import Vector
from zkdl.proof import claims as cl
from zkdl.proof.claims import Shape
from zkdl.proof.packing import Packing


def partial(table: Vector, shape: Shape, axis: str, point: list[int]) -> Vector:
    """Binds one axis of a tensor table to a point (the prover's side of a claim)."""
    names = [name for name, _ in shape]
    return backend.partial_evaluate(table, [log for _, log in shape], names.index(axis), point)


def contract_i64(array: np.ndarray, shape: Shape, axis: str, weights: Vector) -> Vector:
    """Σ_k weights[k]·array[…, k, …] over one axis of an int64 tensor, as field entries: the weight
    stacks are contracted without a field copy of them."""
    names = [name for name, _ in shape]
    return backend.contract_i64(array, [log for _, log in shape], names.index(axis), weights)


def evaluate_i64(array: np.ndarray, shape: Shape, point: list[int]) -> int:
    """The MLE of an int64 tensor at a point: its last axis contracted first, the rest evaluated."""
    parts = cl.split_point(shape, point)
    low = shape[-1][0]
    rest = contract_i64(array, shape, low, backend.eq_vector(parts[low]))
    return backend.mle_evaluate(rest, cl.join_point(shape[:-1], parts))


def weighted_sum(shape: Shape, claim: cl.Claim, table: Vector) -> int:
    """Σ_x weight(x)·table(x): the value a prover sends for a claim it opens."""
    return backend.inner(cl.weight_table(shape, claim), table)


def on_packing(packing: Packing, rows: int, blocks: Mapping[str, Vector]) -> Vector:
    """A (rows, packed axis) field table from each named block's (rows, block) table: every row
    holds the blocks at their offsets, zero elsewhere (blocks not named are zero)."""
    pieces = []
    for row in range(rows):
        end = 0
        for found in sorted(packing.blocks.values(), key=lambda b: b.offset):
            size = 1 << found.log_size
            table = blocks.get(found.name)
            pieces.append(table[row * size : (row + 1) * size] if table is not None else backend.full(size, 0))
            end = found.offset + size
        pieces.append(backend.full((1 << packing.log_size) - end, 0))
    return backend.concat(pieces)
