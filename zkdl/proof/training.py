"""The proof of a whole training run, composed from the sub-protocols (docs/protocol.md).

Order of the transcript (prover and verifier alike): the statement; the commitments to the bits of
Z and G_A; the forward and backward matrix products; the final weights; the weight history; the
ReLU forward (A_in) and backward (G_Z) reductions with the loss gradient and the data selection;
the binarity of both bit tensors; then, per committed tensor, one merge of all its claims and one
zero-knowledge opening. The number of sumchecks is fixed: it does not grow with T or L.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from zkdl import _kernels
from zkdl.data import Dataset
from zkdl.proof import commitment as cm
from zkdl.proof import history, matmul, relu, targets
from zkdl.proof.channel import Message, ProverChannel, VerifierChannel
from zkdl.proof.claims import BitTable, ClaimBook, Shape
from zkdl.proof.commitment import TensorCommitment, TensorOpening
from zkdl.proof.errors import VerificationError
from zkdl.proof.layout import Layout
from zkdl.proof.party import Party, ProverParty, VerifierParty
from zkdl.proof.statement import Statement, StatementFormatError, pack_data_commitments, unpack_data_commitments
from zkdl.proof.transcript import Transcript
from zkdl.proof.witness import ProverTables
from zkdl.train import TrainingRun

DOMAIN = b"zkdl/training/v2"  # v2: zero-knowledge sumchecks (v1 sent round values in the clear)
COMMITTED = ("X", "Y", "W0", "WT", "BZ", "BG")


@dataclass(frozen=True)
class StatementSecrets:
    """The seller's openings of the statement's commitments (W_T's goes to buyers)."""

    data_x: TensorOpening
    data_y: TensorOpening
    w0: TensorOpening
    wt: TensorOpening


@dataclass(frozen=True)
class StatementCommitments:
    data_x: TensorCommitment
    data_y: TensorCommitment
    w0: TensorCommitment
    wt: TensorCommitment

    @classmethod
    def of(cls, statement: Statement, lay: Layout) -> StatementCommitments:
        """Decodes the statement's commitments and checks they have the shapes the layout needs."""
        try:
            x, y = unpack_data_commitments(statement.c_data)
            found = cls(cm.decode(x), cm.decode(y), cm.decode(statement.c_w0), cm.decode(statement.c_wt))
        except (cm.CommitmentFormatError, StatementFormatError) as exc:
            raise VerificationError(f"the statement's commitments are malformed: {exc.user_message}") from None
        for name, commitment, shape in zip(("C_data (X)", "C_data (Y)", "C_W0", "C_WT"), found.all, (lay.data, lay.data, lay.weights, lay.weights)):
            if commitment.shape != _dims(shape):
                raise VerificationError(f"{name} has shape {commitment.shape}, the statement needs {_dims(shape)}")
        return found

    @property
    def all(self) -> tuple[TensorCommitment, ...]:
        return (self.data_x, self.data_y, self.w0, self.wt)


def commit_statement(run: TrainingRun, data: Dataset) -> tuple[Statement, StatementSecrets, ProverTables]:
    """Commits the data set, W_0 and W_T (hiding: fresh blinds) and returns the public statement."""
    draft = Statement.of_run(run.spec, int(data.train_idx.size), data.frac_bits, b"", b"", b"")
    lay = Layout.of(draft)
    tables = ProverTables.of(lay, run, data)
    tables.check_against_run(run)
    (cx, ox), (cy, oy) = cm.commit_int64(tables.data_x), cm.commit_int64(tables.data_y)
    (c0, o0), (cT, oT) = cm.commit_int64(tables.history[:, 0]), cm.commit_int64(tables.history[:, lay.steps])
    statement = Statement.of_run(
        run.spec, lay.n_train, lay.data_frac_bits, pack_data_commitments(cm.encode(cx), cm.encode(cy)), cm.encode(c0), cm.encode(cT)
    )
    return statement, StatementSecrets(ox, oy, o0, oT), tables


def prove(
    statement: Statement, secrets: StatementSecrets, tables: ProverTables, on_phase: Callable[[str], None] = lambda _: None
) -> list[Message]:
    """The proof of the run behind `tables` for `statement`: the ordered prover messages.
    `on_phase` is told the name of each phase as it starts (progress bars)."""
    lay = tables.layout
    channel = ProverChannel(_transcript(statement))
    bz, bz_secret = cm.commit_bits(tables.bits("Z"), 1 << lay.log_bits)
    bg, bg_secret = cm.commit_bits(tables.bits("G_A"), 1 << lay.log_bits)
    channel.send_points(b"BZ commitment", bz.rows)  # the bits are fixed before any challenge
    channel.send_points(b"BG commitment", bg.rows)
    commitments = StatementCommitments.of(statement, lay)
    committed = _committed(lay, commitments, bz, bg, tables)
    secret_of = dict(zip(COMMITTED, (secrets.data_x, secrets.data_y, secrets.w0, secrets.wt, bz_secret, bg_secret)))
    _run(ProverParty(channel), lay, tables, committed, secret_of, on_phase)
    return channel.messages


def verify(statement: Statement, messages: list[Message]) -> None:
    """Raises VerificationError unless `messages` prove `statement`."""
    lay = Layout.of(statement)
    channel = VerifierChannel(_transcript(statement), messages)
    rows = lambda shape: cm.Layout.of(_dims(shape)).num_rows  # noqa: E731
    bit_shape = (int(np.prod(_dims(lay.act))), 1 << lay.log_bits)
    bz = TensorCommitment(bit_shape, channel.receive_points(b"BZ commitment", rows(lay.bits)))
    bg = TensorCommitment(bit_shape, channel.receive_points(b"BG commitment", rows(lay.bits)))
    commitments = StatementCommitments.of(statement, lay)
    _run(VerifierParty(channel), lay, None, _committed(lay, commitments, bz, bg, None), {}, lambda _: None)
    channel.finish()


PHASES = (  # (name, sub-protocol): the order is the transcript's
    ("forward matmul", matmul.forward),
    ("backward matmul", matmul.backward),
    ("final weights", history.final_weights),
    ("weight history", history.weight_history),
    ("relu forward", relu.activations),
    ("relu backward", relu.gradients),
    ("binarity of Z bits", partial(relu.binarity, name="BZ")),
    ("binarity of G_A bits", partial(relu.binarity, name="BG")),
    ("one-hot targets", targets.one_hot),
)


def _run(
    party: Party,
    lay: Layout,
    tables: ProverTables | None,
    committed: dict[str, tuple[Shape, TensorCommitment, Callable[[], np.ndarray]]],
    secret_of: dict[str, TensorOpening],
    on_phase: Callable[[str], None],
) -> None:
    """The protocol, once for both parties (zkdl.proof.party)."""
    book = ClaimBook()
    for name, phase in PHASES:
        on_phase(name)
        phase(party, lay, book, tables)
    for name in COMMITTED:  # one merge and one opening per committed tensor
        on_phase(f"opening {name}")
        shape, commitment, table = committed[name]
        claims = book.take(name)
        party.check(bool(claims), f"no claim reached the committed tensor {name}")
        point, (value,) = party.product(b"merge " + name.encode(), shape, claims, lambda: [table()], 1)
        party.open(b"opening " + name.encode(), commitment, lambda: secret_of[name], point, value)
    party.check(not book.pending(), f"claims left unreduced: {book.pending()}")


NUM_PHASES = len(PHASES) + len(COMMITTED)


def _committed(lay: Layout, c: StatementCommitments, bz: TensorCommitment, bg: TensorCommitment, tables: ProverTables | None):
    """Each committed tensor's shape, commitment and field table (the table is the prover's only)."""
    ints = lambda array: lambda: _kernels.fr_from_i64(np.ascontiguousarray(array()).reshape(-1))  # noqa: E731
    bits = lambda name: lambda: BitTable(tables.bits(name), 1 << lay.log_bits)  # noqa: E731 — kept packed
    return {
        "X": (lay.data, c.data_x, ints(lambda: tables.data_x)),
        "Y": (lay.data, c.data_y, ints(lambda: tables.data_y)),
        "W0": (lay.weights, c.w0, ints(lambda: tables.history[:, 0])),
        "WT": (lay.weights, c.wt, ints(lambda: tables.history[:, lay.steps])),
        "BZ": (lay.bits, bz, bits("Z")),
        "BG": (lay.bits, bg, bits("G_A")),
    }


def _transcript(statement: Statement) -> Transcript:
    transcript = Transcript(DOMAIN)
    transcript.absorb_bytes(b"statement", statement.encode())  # the proof is bound to every public field
    return transcript


def _dims(shape: Shape) -> tuple[int, ...]:
    return tuple(1 << log for _, log in shape)
