"""What verifying a statement costs, known from the statement before anything is built.

A verifier's work follows the sizes a statement claims, not the size of its bundle: a 74 kB bundle
can claim 2^24 samples. So the verifier service prices a statement first (`verifier_cost`) and
refuses one above its budget without building a table. The price is an upper bound made of the
terms that grow with the statement's sizes (docs/performance.md, "What a verification costs"):

* the schedule: the verifier derives every epoch's Keccak-driven permutation of the n samples
  (zkdl.data.shuffle: n Keccak calls in the kernels per epoch it reads, each remembered);
* the public tables each chunk builds as Python integers: the factors that are merged with another
  on one axis (claims moved between the packed axes `in`, `next`, `unit`; steps, bits, rows; eq tables, prefix masks, one-hot indices and
  the selection table are evaluated in closed form and cost no table, zkdl.proof.claims), and the
  selection table's T·B entries;
* the MSMs: every commitment row the openings combine (the data set's, the weights', each chunk's
  bits), the generators of the longest key, and the proof's own points;
* a seeded W_0: the verifier recommits the public initial weights, every entry of every slot;
* a fixed part per verification and per chunk (sumcheck rounds, Σ-checks, transcript).

Calibration (this project's 2-core machine, 2026-12-06, shared with other jobs; each coefficient
is the measured cost rounded up about 1.5× so that the price stays an upper bound on a loaded
machine): a merged (layer, col) table costs 2.1 µs and 290 B per entry to build and evaluate; the
schedule about 1 µs per sample per epoch loaded, rounded up 3× (the golden statement on a data set
of 2^20 samples: 1.4–1.9 s; 2^18: 0.4 s), 16 B per sample kept, allowed 80; recommitting
int64 entries 1.0 µs per zero of the padding and 6 µs per 40-bit weight; an MSM 60 µs per point at
the small sizes where overheads dominate (less per point at 2^15); the golden 3-step bundle
verifies in 0.2–0.5 s in a process of 53 MB. The table counts per chunk are those counted while
verifying the golden bundle of proof v5 (15 layer × column tables, about 22 step tables, 40
column tables, 6 bit tables), rounded up; since v6 the layer × column tables are tables over the
packed axes (zkdl.proof.layout), counted with the same coefficient. `tests/test_proof_cost.py` checks the price against a measured run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zkdl.errors import ZkdlError
from zkdl.proof.statement import Init, Statement

if TYPE_CHECKING:
    from zkdl.proof.channel import Message
    from zkdl.proof.claims import Shape
    from zkdl.proof.layout import Layout

SECONDS_FIXED, SECONDS_PER_CHUNK = 0.5, 0.3
SECONDS_PER_TABLE_ENTRY = 3e-6
SECONDS_PER_SCHEDULED_SAMPLE = 3e-6
SECONDS_PER_RECOMMITTED_ENTRY = 1.5e-6  # a zero of the padding
SECONDS_PER_RECOMMITTED_WEIGHT = 9e-6  # a real weight (about 40 bits at the weight scale)
SECONDS_PER_MSM_POINT = 1e-4
BYTES_FIXED = 256 << 20  # the interpreter, numpy and the kernels, with room for the bundle itself
BYTES_PER_TABLE_ENTRY = 450
BYTES_PER_SCHEDULED_SAMPLE = 80
BYTES_PER_RECOMMITTED_ENTRY = 32  # the packed int64 weights, and the initialisation they are made from
BYTES_PER_MSM_POINT = 300
SCHEDULE_EPOCHS_KEPT = 256  # zkdl.data keeps this many permutations


@dataclass(frozen=True)
class VerifierCost:
    """An upper bound on one verification's time and peak memory, and the terms it is made of."""

    seconds: float
    bytes: int
    chunks: int
    table_entries: int  # public-table entries built, over all chunks (the peak holds one chunk's)
    scheduled_samples: int  # samples permuted to derive the schedule
    msm_points: int
    recommitted_entries: int  # a seeded W_0's entries, recommitted

    def over(self, max_seconds: float, max_bytes: int) -> str | None:
        """Why this cost is above the budget, in words a registrant can act on; None within it."""
        if self.seconds > max_seconds:
            return f"verifying it would take about {self.seconds:.0f} s, above this verifier's budget of {max_seconds:g} s"
        if self.bytes > max_bytes:
            return f"verifying it would need about {self.bytes >> 20} MiB, above this verifier's budget of {max_bytes >> 20} MiB"
        return None


def verifier_cost(statement: Statement, chunk_steps: int | None = None) -> VerifierCost:
    """The price of verifying a proof of `statement` made in chunks of `chunk_steps` steps (the
    proof's first message; None, or a value a verifier refuses: every step its own chunk, the
    dearest). Raises what `Layout.of` raises for a statement no verifier takes."""
    from zkdl.proof.layout import Layout  # the tables' shapes; loads the kernels, so not on import

    lay = Layout.of(statement)
    if chunk_steps is None or not 1 <= chunk_steps <= lay.steps:
        chunk_steps = 1
    chunks = -(-lay.steps // chunk_steps)
    chunk = lay.chunk(0, min(chunk_steps, lay.steps))
    tables = chunks * _chunk_table_entries(chunk) + 2 * lay.steps * lay.batch
    points = _key_length(lay) + chunks * _chunk_rows(chunk) + (chunks + 1) * _rows(_dims(lay.weights))
    samples = lay.n_train * _epochs(lay)
    recommitted = _entries(lay.weights) if statement.init == Init.SEEDED else 0
    seconds = (
        SECONDS_FIXED
        + SECONDS_PER_CHUNK * chunks
        + SECONDS_PER_TABLE_ENTRY * tables
        + SECONDS_PER_SCHEDULED_SAMPLE * samples
        + (SECONDS_PER_RECOMMITTED_ENTRY * recommitted + SECONDS_PER_RECOMMITTED_WEIGHT * _real_weights(lay) if recommitted else 0)
        + SECONDS_PER_MSM_POINT * points
    )
    kept = lay.n_train * min(_epochs(lay), SCHEDULE_EPOCHS_KEPT)
    memory = (
        BYTES_FIXED
        + BYTES_PER_TABLE_ENTRY * (_chunk_table_entries(chunk) + 2 * lay.steps * lay.batch)
        + BYTES_PER_SCHEDULED_SAMPLE * kept
        + BYTES_PER_RECOMMITTED_ENTRY * recommitted
        + BYTES_PER_MSM_POINT * points
    )
    return VerifierCost(seconds, memory, chunks, tables, samples, points, recommitted)


def _chunk_table_entries(lay: Layout) -> int:
    """The public tables one chunk builds (counted on the golden bundle's verification, rounded up):
    the claims' factors on the packed axes `in`, `next`, `unit` and the data's and output's
    columns; block factors on `weight` are evaluated block by block (no table)."""
    packed = (1 << lay.inputs.log_size) + (1 << lay.outputs.log_size) + (1 << lay.units.log_size)
    columns = (1 << dict(lay.data_x)["col"]) + (1 << dict(lay.output)["out"])
    steps, bits, history = 1 << lay.log_steps, 1 << lay.log_bits, 1 << lay.log_history
    blocks = len(lay.weight_names) + len(lay.inputs.blocks) + len(lay.outputs.blocks)
    return 24 * packed + 48 * columns + 48 * steps + 8 * bits + 8 * history + 8 * (1 << lay.log_batch) + 64 * blocks


def _chunk_rows(lay: Layout) -> int:
    """The commitment rows a chunk's openings combine: the data set's and the chunk's bits (B and BO
    as commit_bits shapes them: [words, 2^log_bits])."""
    width = 1 << lay.log_bits
    bits = _rows((2 * _entries(lay.hidden), width)) + _rows((_entries(lay.output), width))
    return _rows(_dims(lay.data_x)) + _rows(_dims(lay.data_y)) + bits


def _key_length(lay: Layout) -> int:
    """The generators of the longest row any opening uses."""
    from zkdl.proof.commitment import MatrixLayout

    shapes = (lay.data_x, lay.data_y, lay.weights, lay.stacked_bits, lay.output_bits)
    return max(1 << MatrixLayout.of(_dims(shape)).col_vars for shape in shapes)


def _rows(dims: tuple[int, ...]) -> int:
    from zkdl.proof.commitment import MatrixLayout

    return MatrixLayout.of(dims).num_rows


def _dims(shape: Shape) -> tuple[int, ...]:
    return tuple(1 << log for _, log in shape)


def _real_weights(lay: Layout) -> int:
    return sum((d_in + int(lay.bias)) * d_out for d_in, d_out in zip(lay.widths, lay.widths[1:]))


def _entries(shape: Shape) -> int:
    return 1 << sum(log for _, log in shape)


def _epochs(lay: Layout) -> int:
    """The epochs whose permutation the schedule of steps first_step … first_step + steps − 1 reads."""
    per_epoch = lay.n_train // lay.batch
    return -(-(lay.first_step + lay.steps) // per_epoch)


def budget_refusal(statement: Statement, messages: Sequence[Message], max_seconds: float, max_bytes: int) -> str | None:
    """Why a verifier with this budget does not verify this proof (its price is above the budget);
    None when it does, or when no verifier takes the statement (the verification refuses it at once)."""
    first = messages[0].scalars if messages else ()
    try:
        cost = verifier_cost(statement, first[0] if len(first) == 1 else None)
    except ZkdlError:
        return None
    return cost.over(max_seconds, max_bytes)
