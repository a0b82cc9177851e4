"""The proof of a whole training run, composed from the sub-protocols (docs/protocol.md).

Order of the transcript (prover and verifier alike): the statement; the commitments to the bits of
the hidden layers' Z and G_A (B) and of the output layer's Z (BO); the forward and backward matrix
products; the final weights; the weight history; the ReLU forward (A_in) and backward (G_Z)
reductions with the loss gradient and the data selection; the binarity of both bit tensors; then,
per committed tensor, one merge of all its claims and one zero-knowledge opening. The number of
sumchecks is fixed: it does not grow with T, L or the layers' shapes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from zkdl.backend import Vector
from zkdl.data import Dataset
from zkdl.model import ModelSpec, init_weights
from zkdl.proof import commitment as cm
from zkdl.proof import history, matmul, opening, relu, targets
from zkdl.proof.channel import Message, ProverChannel, VerifierChannel
from zkdl.proof.claims import Claim, ClaimBook, Shape, onehot_factor
from zkdl.proof.commitment import TensorCommitment, TensorOpening
from zkdl.proof.data_range import CommittedDataset, commit_dataset, new_key
from zkdl.proof.dataset import DatasetFormatError
from zkdl.proof.errors import VerificationError
from zkdl.proof.layout import Layout, UnsupportedStatementError
from zkdl.proof.packed import BitTable, Int64Table, Table
from zkdl.proof.party import Party, ProverParty, VerifierParty, merge_and_open, settle
from zkdl.proof.statement import (
    ADDRESS_BYTES,
    DIGEST_BYTES,
    PROTOCOL_TAG,
    Init,
    Statement,
)
from zkdl.proof.transcript import Transcript
from zkdl.proof.witness import NO_TABLES, ProverTables, packed_weights
from zkdl.quant import QuantParams
from zkdl.witness import Witness

DEFAULT_CHUNK_STEPS = 32  # a chunk's tables take ~40 MiB per step for digits: ~1.3 GiB at 32
COMMITTED = ("X", "Y", "W0", "WT", "B", "BO")
STACKED = ("BZ", "BG")  # B's halves along its stack axis: their claims are merged and opened as B's


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
            dataset = statement.dataset
            found = cls(cm.decode(dataset.c_x), cm.decode(dataset.c_y), cm.decode(statement.c_w0), cm.decode(statement.c_wt))
        except (cm.CommitmentFormatError, DatasetFormatError) as exc:
            raise VerificationError(f"the statement's commitments are malformed: {exc.user_message}") from None
        for name, commitment, shape in zip(
            ("C_data (X)", "C_data (Y)", "C_W0", "C_WT"), found.all, (lay.data_x, lay.data_y, lay.weights, lay.weights)
        ):
            if commitment.shape != _dims(shape):
                raise VerificationError(f"{name} has shape {commitment.shape}, the statement needs {_dims(shape)}")
        return found

    @property
    def all(self) -> tuple[TensorCommitment, ...]:
        return (self.data_x, self.data_y, self.w0, self.wt)


@dataclass(frozen=True)
class Parent:
    """A registered model whose final weights a fine-tuned run starts from: its statement digest and
    the blinds of its C_WT (a buyer's opening file), so that C_W0 is that very commitment."""

    statement_digest: bytes
    blinds: Vector


def commit_statement(
    witness: Witness,
    data: Dataset,
    owner: bytes = bytes(ADDRESS_BYTES),
    parent: Parent | None = None,
    origin: Init | None = None,
    dataset: CommittedDataset | None = None,
) -> tuple[Statement, StatementSecrets, ProverTables]:
    """Commits W_0 and W_T (hiding: fresh blinds) beside the committed data set (by default the data
    committed afresh, privately); returns the public statement, its openings and the prover's tables
    of the whole run (checked against the trainer's products)."""
    dataset = dataset if dataset is not None else commit_dataset(data, new_key())
    statement, secrets = commit_run(witness, dataset, owner, parent, origin)
    tables = ProverTables.of(Layout.of(statement), witness, data)
    tables.check()
    return statement, secrets, tables


def commit_run(
    witness: Witness,
    dataset: CommittedDataset,
    owner: bytes = bytes(ADDRESS_BYTES),
    parent: Parent | None = None,
    origin: Init | None = None,
) -> tuple[Statement, StatementSecrets]:
    """The statement (bound to `owner`, on the committed data set: zkdl.proof.data_range) and its
    openings, without building any table of the steps.
    The origin of W_0 it claims is `origin`, by default the strongest that holds: fine-tuned from
    `parent`, else seeded when W_0 is the spec's seeded initialisation, else unconstrained (which
    keeps W_0 hidden: a prover may always claim it)."""
    c_data = dataset.commitment.encode()
    lay = Layout.of(Statement.of_run(witness.spec, c_data, b"", b""))
    init, (c0, o0) = _commit_initial(lay, witness, parent, origin)
    cT, oT = cm.commit_int64(packed_weights(lay, witness.final))
    statement = Statement.of_run(
        witness.spec, c_data, cm.encode(c0), cm.encode(cT),
        owner=owner, init=init, parent=parent.statement_digest if parent is not None else bytes(DIGEST_BYTES),
    )  # fmt: skip
    return statement, StatementSecrets(dataset.secrets.x, dataset.secrets.y, o0, oT)


def _commit_initial(
    lay: Layout, witness: Witness, parent: Parent | None, origin: Init | None
) -> tuple[Init, tuple[TensorCommitment, TensorOpening]]:
    """C_W0 and its opening, with the origin of W_0 the statement claims (statement.py)."""
    weights = packed_weights(lay, witness.initial)
    if origin is None:  # the seed's weights are drawn only when they could be the claim
        origin = Init.FINE_TUNED if parent is not None else Init.SEEDED if _is_seeded(witness) else Init.UNCONSTRAINED
    elif origin == Init.SEEDED and not _is_seeded(witness):
        raise UnsupportedStatementError(f"the run's W_0 is not the initialisation from seed {witness.spec.init_seed}")
    if origin == Init.FINE_TUNED:  # the parent's C_WT itself: its blinds over the same weights
        if parent is None:
            raise UnsupportedStatementError("a fine-tuned statement needs its parent's opening")
        return origin, cm.open_int64(weights, parent.blinds)
    if origin == Init.SEEDED:
        return origin, cm.commit_public_int64(weights)  # public weights: anyone recomputes C_W0
    return origin, cm.commit_int64(weights)


def _is_seeded(witness: Witness) -> bool:
    spec = witness.spec
    return witness.initial.equals(init_weights(spec.model, spec.quant, spec.init_seed))


def seeded_initial_commitment(lay: Layout, statement: Statement) -> bytes:
    """The encoding of C_W0 that a seeded statement must hold: the seed's weights, public blinds."""
    quant = QuantParams(statement.frac_bits, statement.lr_exp, statement.range_bits)
    weights = init_weights(ModelSpec(statement.widths, statement.bias), quant, statement.init_seed)
    return cm.encode(cm.commit_public_int64(packed_weights(lay, weights))[0])


def chunks(steps: int, chunk_steps: int) -> list[tuple[int, int]]:
    """(first step, number of steps) of each chunk: steps are proven chunk_steps at a time."""
    return [(t, min(chunk_steps, steps - t)) for t in range(0, steps, chunk_steps)]


def phase_count(steps: int, chunk_steps: int) -> int:
    """How many times a proof of `steps` steps calls `on_phase` (progress bars)."""
    return NUM_PHASES * len(chunks(steps, chunk_steps))


def prove(
    statement: Statement, secrets: StatementSecrets, tables: ProverTables, on_phase: Callable[[str], None] = lambda _: None
) -> list[Message]:
    """The proof, as one chunk, of the run behind `tables` for `statement`: the ordered prover
    messages. `on_phase` is told the name of each phase as it starts (progress bars)."""
    plan = ChunkPlan(statement, tables.layout.steps, NO_BOUNDARIES, ())
    return [*plan.header(), *prove_chunk(statement, 0, plan.chunk_steps, plan.rows, secrets, tables, on_phase)]


NO_BOUNDARIES = np.zeros((0, 96), np.uint8)


@dataclass(frozen=True)
class BoundaryBlinds:
    """The blinds of C_W_t at a boundary between chunks: its opening is rebuilt from the run when a
    chunk needs it (the packed weights: 2^24 int64, 128 MiB for the paper's shape)."""

    t: int
    kind: cm.EntryKind
    blinds: Vector

    def opening(self, lay: Layout, witness: Witness) -> TensorOpening:
        return TensorOpening(self.kind, packed_weights(lay, witness.weights_at(self.t)), self.blinds)


@dataclass(frozen=True)
class ChunkPlan:
    """What is fixed before any chunk is proven: the chunk size and the commitments to the weights
    at every boundary (their rows, and the blinds that open them). Given it, the chunks are
    independent (docs/protocol.md §2.1): the unit of parallel proving (zkdl.cluster)."""

    statement: Statement
    chunk_steps: int
    rows: np.ndarray
    boundaries: tuple[BoundaryBlinds, ...]

    @classmethod
    def of(cls, statement: Statement, chunk_steps: int, committed: list[tuple[TensorCommitment, BoundaryBlinds]]) -> ChunkPlan:
        """The plan from each boundary's commitment and blinds, in the order of the steps."""
        rows = np.concatenate([c.rows for c, _ in committed]) if committed else NO_BOUNDARIES
        return cls(statement, chunk_steps, rows, tuple(blinds for _, blinds in committed))

    @property
    def spans(self) -> list[tuple[int, int]]:
        return chunks(self.statement.steps, self.chunk_steps)

    def header(self) -> list[Message]:
        """The proof's first messages, before every chunk's."""
        return [Message(b"chunking", scalars=(self.chunk_steps,)), Message(b"boundary weights", points=self.rows)]


def plan_chunks(statement: Statement, witness: Witness, chunk_steps: int = DEFAULT_CHUNK_STEPS) -> ChunkPlan:
    """Commits the weights at each boundary between chunks of `chunk_steps` steps (hiding: fresh blinds)."""
    chunk_steps = min(chunk_steps, statement.steps)
    return ChunkPlan.of(statement, chunk_steps, [commit_boundary(statement, witness, t) for t in boundary_steps(statement, chunk_steps)])


def boundary_steps(statement: Statement, chunk_steps: int) -> list[int]:
    """The steps t whose weights W_t are committed between chunks of `chunk_steps` steps."""
    return [t for t, _ in chunks(statement.steps, chunk_steps)[1:]]


def commit_boundary(statement: Statement, witness: Witness, t: int) -> tuple[TensorCommitment, BoundaryBlinds]:
    """C_W_t and its blinds: the packed weights are dropped as soon as they are committed."""
    commitment, secret = cm.commit_int64(packed_weights(Layout.of(statement), witness.weights_at(t)))
    return commitment, BoundaryBlinds(t, secret.kind, secret.blinds)


def prove_run(
    statement: Statement,
    secrets: StatementSecrets,
    witness: Witness,
    data: Dataset,
    chunk_steps: int = DEFAULT_CHUNK_STEPS,
    on_phase: Callable[[str], None] = lambda _: None,
) -> list[Message]:
    """The proof of the whole run in chunks of `chunk_steps` steps: the prover holds the tables of
    one chunk at a time, and commits the weights at each boundary between chunks."""
    plan = plan_chunks(statement, witness, chunk_steps)
    messages = plan.header()
    for k in range(len(plan.spans)):
        messages += prove_planned_chunk(plan, k, secrets, witness, data, _named(on_phase, k, len(plan.spans)))
    return messages


def prove_planned_chunk(
    plan: ChunkPlan,
    k: int,
    secrets: StatementSecrets,
    witness: Witness,
    data: Dataset,
    on_phase: Callable[[str], None] = lambda _: None,
) -> list[Message]:
    """Chunk k of a planned run, its tables and boundary openings built from the run: the messages
    of that chunk alone (a worker's task: zkdl.cluster)."""
    lay = Layout.of(plan.statement)
    first, steps = plan.spans[k]
    tables = ProverTables.of(lay.chunk(first, steps), witness, data)
    tables.check()
    ends: list[Callable[[], TensorOpening]] = [
        lambda: secrets.w0,
        *(partial(b.opening, lay, witness) for b in plan.boundaries),
        lambda: secrets.wt,
    ]
    chunk_secrets = dataclasses.replace(secrets, w0=ends[k](), wt=ends[k + 1]())
    return prove_chunk(plan.statement, k, plan.chunk_steps, plan.rows, chunk_secrets, tables, on_phase)


def prove_chunk(
    statement: Statement,
    k: int,
    chunk_steps: int,
    rows: np.ndarray,
    secrets: StatementSecrets,
    tables: ProverTables,
    on_phase: Callable[[str], None],
) -> list[Message]:
    """Chunk k's messages under its own transcript (bound to the chunking and every boundary's
    commitment `rows`): `secrets` opens the weights at the chunk's ends, `tables` are its steps'."""
    lay = Layout.of(statement)
    base = StatementCommitments.of(statement, lay)
    weights = [base.w0, *_boundary_commitments(lay, rows), base.wt]
    channel = ProverChannel(_transcript(statement, chunk_steps, rows, k))
    _prove_chunk(channel, dataclasses.replace(base, w0=weights[k], wt=weights[k + 1]), secrets, tables, on_phase)
    return channel.messages


def _named(on_phase: Callable[[str], None], k: int, n: int) -> Callable[[str], None]:
    return on_phase if n == 1 else lambda name: on_phase(f"chunk {k + 1}/{n}: {name}")


def _prove_chunk(
    channel: ProverChannel,
    commitments: StatementCommitments,
    secrets: StatementSecrets,
    tables: ProverTables,
    on_phase: Callable[[str], None],
) -> None:
    lay = tables.layout
    bits, bits_secret = cm.commit_bits(tables.stacked_bits(), 1 << lay.log_bits)
    channel.send_points(b"bits commitment", bits.rows)  # the bits are fixed before any challenge
    out_bits, out_secret = cm.commit_bits(tables.output_bits(), 1 << lay.log_bits)
    channel.send_points(b"output bits commitment", out_bits.rows)
    committed = _committed(lay, commitments, bits, out_bits, tables)
    secret_of = dict(zip(COMMITTED, (secrets.data_x, secrets.data_y, secrets.w0, secrets.wt, bits_secret, out_secret)))
    _run(ProverParty(channel), lay, tables, committed, secret_of, on_phase)


@dataclass(frozen=True)
class ChunkedProof:
    """A proof's chunking, read and checked against its statement, and where each chunk's messages
    lie: given it, the chunks verify independently (the unit of parallel verification: zkdl.parallel)."""

    statement: Statement
    commitments: StatementCommitments
    chunk_steps: int
    rows: np.ndarray  # every boundary's commitment rows, as the proof sends them
    starts: tuple[int, ...]  # the index of each chunk's first message, then the proof's length

    @property
    def spans(self) -> list[tuple[int, int]]:
        return chunks(self.statement.steps, self.chunk_steps)

    def messages_of(self, messages: Sequence[Message], k: int) -> list[Message]:
        """Chunk k's messages and the next chunk's first: a chunk that reads on meets that message,
        and is refused as the verifier reading the whole proof in turn would refuse it."""
        return list(messages[self.starts[k] : self.starts[k + 1] + 1])


def read_chunks(statement: Statement, messages: Sequence[Message]) -> ChunkedProof:
    """The proof's chunking, checked against the statement, and each chunk's place. A chunk begins
    with its one `bits commitment` message (the first at message 2): the verifier of each chunk then
    checks that it reads exactly the messages up to the next one's start (verify_chunk), so a chunk
    with more or fewer messages, or messages after the last chunk, are refused."""
    lay = Layout.of(statement)
    # a seeded W_0 is public: the verifier recomputes its commitment instead of trusting C_W0
    if statement.init == Init.SEEDED and statement.c_w0 != seeded_initial_commitment(lay, statement):
        raise VerificationError(f"seeded init: C_W0 is not the commitment of the initialisation from seed {statement.init_seed}")
    chunk_steps, rows = _read_chunking(lay, messages)
    commitments = StatementCommitments.of(statement, lay)
    count = len(chunks(lay.steps, chunk_steps))
    later = [i for i in range(3, len(messages)) if messages[i].label == b"bits commitment"]
    starts = [2, *later][:count]
    starts += [len(messages)] * (count - len(starts))  # chunks missing from the proof: it ends before them
    return ChunkedProof(statement, commitments, chunk_steps, rows, (*starts, len(messages)))


def verify_chunk(proof: ChunkedProof, k: int, messages: list[Message]) -> opening.Batch:
    """Verifies chunk k from `proof.messages_of(…, k)`: raises VerificationError at its first failed
    check, else returns its deferred equations (one MSM checks every chunk's: verify)."""
    lay, base = Layout.of(proof.statement), proof.commitments
    weights = [base.w0, *_boundary_commitments(lay, proof.rows), base.wt]
    first, steps = proof.spans[k]
    channel = VerifierChannel(_transcript(proof.statement, proof.chunk_steps, proof.rows, k), messages, proof.starts[k])
    checks = opening.Batch()
    _verify_chunk(VerifierParty(channel, checks), lay.chunk(first, steps), dataclasses.replace(base, w0=weights[k], wt=weights[k + 1]))
    end = proof.starts[k + 1]
    if channel.position != end:
        where = "the proof" if k == len(proof.spans) - 1 else f"chunk {k + 1}/{len(proof.spans)}"
        raise VerificationError(f"{end - channel.position} unexpected messages at the end of {where}")
    return checks


ChunkVerifier = Callable[[ChunkedProof, list[list[Message]]], Iterable[opening.Batch]]


def verify_in_turn(proof: ChunkedProof, chunk_messages: list[list[Message]]) -> Iterable[opening.Batch]:
    """Each chunk's deferred equations, the chunks verified one after the other in this process."""
    return map(partial(verify_chunk, proof), range(len(chunk_messages)), chunk_messages)


def verify(statement: Statement, messages: Sequence[Message], verify_chunks: ChunkVerifier = verify_in_turn) -> None:
    """Raises VerificationError unless `messages` prove `statement`. `verify_chunks` verifies the
    chunks and gives their deferred equations in chunk order (zkdl.parallel: in processes); every
    opening's and Σ-protocol's equation, of every chunk, is then checked by one MSM."""
    proof = read_chunks(statement, messages)
    checks = opening.Batch()
    for chunk_checks in verify_chunks(proof, [proof.messages_of(messages, k) for k in range(len(proof.spans))]):
        checks.extend(chunk_checks)
    checks.verify()


def _read_chunking(lay: Layout, messages: Sequence[Message]) -> tuple[int, np.ndarray]:
    """The proof's chunk size and the boundary weights' commitments, checked against the statement."""
    if len(messages) < 2 or messages[0].label != b"chunking" or messages[1].label != b"boundary weights":
        raise VerificationError("the proof must start with its chunking and boundary weights")
    if len(messages[0].scalars) != 1 or not 1 <= messages[0].scalars[0] <= lay.steps:
        raise VerificationError(f"the chunk size must be one number of steps in [1, {lay.steps}]")
    chunk_steps = messages[0].scalars[0]
    rows, per_boundary = messages[1].points, cm.MatrixLayout.of(_dims(lay.weights)).num_rows
    expected = (len(chunks(lay.steps, chunk_steps)) - 1) * per_boundary
    if rows is None or len(rows) != expected:
        raise VerificationError(f"the boundary weights must be {expected} commitment rows for chunks of {chunk_steps} steps")
    return chunk_steps, rows


def _boundary_commitments(lay: Layout, rows: np.ndarray) -> list[TensorCommitment]:
    """The commitments to the weights at each boundary, from the rows the proof sends for them."""
    per_boundary = cm.MatrixLayout.of(_dims(lay.weights)).num_rows
    return [TensorCommitment(_dims(lay.weights), rows[i : i + per_boundary]) for i in range(0, len(rows), per_boundary)]


def _verify_chunk(party: VerifierParty, lay: Layout, commitments: StatementCommitments) -> None:
    bits = _receive_bits(party.channel, b"bits commitment", 2 * int(np.prod(_dims(lay.hidden))), lay)
    out_bits = _receive_bits(party.channel, b"output bits commitment", int(np.prod(_dims(lay.output))), lay)
    _run(party, lay, NO_TABLES, _committed(lay, commitments, bits, out_bits, NO_TABLES), {}, lambda _: None)


def _receive_bits(channel: VerifierChannel, label: bytes, words: int, lay: Layout) -> TensorCommitment:
    """A bit tensor's commitment, shaped as commit_bits shapes it: [words, width]."""
    shape = (words, 1 << lay.log_bits)
    return TensorCommitment(shape, channel.receive_points(label, cm.MatrixLayout.of(shape).num_rows))


PHASES = (  # (name, sub-protocol): the order is the transcript's
    ("forward matmul", matmul.forward),
    ("backward matmul", matmul.backward),
    ("final weights", history.final_weights),
    ("weight history", history.weight_history),
    ("relu forward", relu.activations),
    ("relu backward", relu.gradients),
    ("binarity of hidden bits", partial(relu.binarity, name="B")),
    ("binarity of output bits", partial(relu.binarity, name="BO")),
    ("one-hot targets", targets.one_hot),
)


def _run(
    party: Party,
    lay: Layout,
    tables: ProverTables,
    committed: dict[str, tuple[Shape, TensorCommitment, Callable[[], Table]]],
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
        claims = [*_stacked_claims(party, book), *book.take(name)] if name == "B" else book.take(name)
        merge_and_open(party, name, shape, commitment, claims, table, partial(secret_of.__getitem__, name))
    settle(party, book)


NUM_PHASES = len(PHASES) + len(COMMITTED)


def _stacked_claims(party: Party, book: ClaimBook) -> list[Claim]:
    """The claims on BZ and BG as claims on B: a one-hot factor on the stack axis picks the half,
    so one merge sumcheck and one opening serve both bit tensors."""
    lifted = []
    for index, name in enumerate(STACKED):
        claims = book.take(name)
        party.check(bool(claims), f"no claim reached the committed tensor {name}")
        lifted += [Claim((onehot_factor("stack", index, 1), *c.factors), c.value) for c in claims]
    return lifted


def _committed(
    lay: Layout, c: StatementCommitments, bits: TensorCommitment, out_bits: TensorCommitment, tables: ProverTables
) -> dict[str, tuple[Shape, TensorCommitment, Callable[[], Table]]]:
    """Each committed tensor's shape, commitment and field table (the table is the prover's only)."""
    ints = lambda array: lambda: Int64Table(np.ascontiguousarray(array()).reshape(-1), array().shape[-1])  # noqa: E731 — never a field copy
    weights = lambda array: lambda: Int64Table(array(), 1 << lay.weight_rows)  # noqa: E731 — rows of the smallest output block
    return {
        "X": (lay.data_x, c.data_x, ints(lambda: tables.data_x)),
        "Y": (lay.data_y, c.data_y, ints(lambda: tables.data_y)),
        "W0": (lay.weights, c.w0, weights(lambda: tables.history[0])),
        "WT": (lay.weights, c.wt, weights(lambda: tables.history[lay.steps])),
        "B": (lay.stacked_bits, bits, lambda: BitTable(tables.stacked_bits(), 1 << lay.log_bits)),  # kept packed
        "BO": (lay.output_bits, out_bits, lambda: BitTable(tables.output_bits(), 1 << lay.log_bits)),
    }


def _transcript(statement: Statement, chunk_steps: int, boundaries: np.ndarray, chunk: int) -> Transcript:
    """A chunk's transcript: bound to every public field, to the chunking and to every boundary
    commitment (fixed before any challenge of any chunk), and to the chunk's index."""
    transcript = Transcript(PROTOCOL_TAG)  # the protocol version separates every transcript
    transcript.absorb_bytes(b"statement", statement.encode())
    transcript.absorb_bytes(b"chunking", chunk_steps.to_bytes(4, "big") + chunk.to_bytes(4, "big"))
    transcript.absorb_points(b"boundary weights", boundaries)
    return transcript


def _dims(shape: Shape) -> tuple[int, ...]:
    return tuple(1 << log for _, log in shape)
