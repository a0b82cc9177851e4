"""The public statement of a training run: its canonical encoding and Keccak-256 digest.

Claim: the owner's training run, starting from the weights committed in C_W0, `steps` steps of the
fixed-point SGD of `zkdl.quant` on the batches that the seeded schedule draws from the data
committed in C_data (a data set's commitment, `zkdl.proof.dataset`: its size, scale and input
range are the data set's), yields exactly the weights committed in C_WT. The transcript absorbs the whole
encoding before anything else, so a proof is bound to every field here, the owner first: a proof
made for one owner verifies for no other (making another needs the witness).

Where W_0 came from (`init`): SEEDED, the initialisation `zkdl.model.init_weights` draws from
`init_seed`, which the verifier recomputes and commits with public blinds (W_0 is public then) and
requires to be C_W0; FINE_TUNED, the final weights of the registered model whose statement digest is
`parent`, whose C_WT must be this C_W0 (the fine-tuner holds its opening: a buyer's opening file);
UNCONSTRAINED, any weights, and every tool says so.

Encoding (version 3), all integers unsigned big-endian, no padding, nothing after the last field:

    magic "ZKDL-STATEMENT" (14 bytes) ‖ version u16 ‖ owner (20-byte address)
    n_widths u16 ‖ widths u32 × n_widths
    bias u8 (0 | 1) ‖ frac_bits u8 ‖ lr_exp u8 ‖ range_bits u8 ‖ loss u8 (1 = square loss, one-hot)
    batch u32 ‖ steps u32 ‖ schedule_seed u64
    init u8 (0 unconstrained, 1 seeded, 2 fine-tuned) ‖ init_seed u64 (0 unless seeded)
    parent (32 bytes: a statement digest; zero unless fine-tuned)
    C_data, C_W0, C_WT: each len u32 ‖ its canonical encoding (C_data: `zkdl.proof.dataset`)

The data set's inputs and classes are the network's input and output widths. Version 2 committed
the data at the network's padded width (a commitment of its own for every model) and version 1 had
no owner and no origin of W_0; both are refused with their version named.

The tensor commitments' encodings are opaque here (see `zkdl.proof.commitment`); the registry stores
their Keccak digests next to the statement digest, and the Keccak-256 of the protocol tag as the
verifier (circuit) version. These public facts live here, away from the prover, so that the chain
client, the verifier service and the buyer tools can read them without loading the native kernels.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_hash.auto import keccak
from eth_utils import to_checksum_address

from zkdl.errors import ZkdlError
from zkdl.model import TrainSpec
from zkdl.proof.dataset import DatasetCommitment, DatasetFormatError

MAGIC = b"ZKDL-STATEMENT"
VERSION = 3
LOSS_SQUARE_ONE_HOT = 1
ADDRESS_BYTES = 20
DIGEST_BYTES = 32

# The proof protocol a statement is proven under; `zkdl.proof.training` opens every transcript with
# it. Bump it when the statement, the bundle or the proof system changes incompatibly: registrations
# claim its Keccak-256 as their verifier version. v6: each layer padded only to its own power of two
# (packed axes, the bias outside the blocks, the output layer's bits BO); v5: statement version 3 (C_data is a data set's
# own commitment: model-independent widths, 0/1 labels); v4: statement version 2 (owner, origin of W_0);
# v3: the bits of Z and G_A in one tensor B (v2: two tensors); v2: zero-knowledge sumchecks.
PROTOCOL_TAG = b"zkdl/training/v7"
VERIFIER_VERSION = keccak(PROTOCOL_TAG)
KNOWN_VERIFIER_VERSIONS: dict[bytes, str] = {VERIFIER_VERSION: PROTOCOL_TAG.decode()}
_FIXED = struct.Struct(">BBBBBIIQBQ")  # bias .. schedule_seed, init, init_seed


class Init(IntEnum):
    """Where a statement's W_0 came from (module docstring)."""

    UNCONSTRAINED = 0
    SEEDED = 1
    FINE_TUNED = 2


class StatementFormatError(ZkdlError, ValueError):
    """A statement's bytes are not a canonical encoding of the supported version."""

    code = "statement-format"


@dataclass(frozen=True)
class Statement:
    widths: tuple[int, ...]
    bias: bool
    frac_bits: int
    lr_exp: int
    range_bits: int
    batch: int
    steps: int
    schedule_seed: int
    c_data: bytes
    c_w0: bytes
    c_wt: bytes
    loss: int = LOSS_SQUARE_ONE_HOT
    owner: bytes = bytes(ADDRESS_BYTES)  # the address the proof is bound to (zero: bound to nobody)
    init: Init = Init.UNCONSTRAINED
    init_seed: int = 0
    parent: bytes = bytes(DIGEST_BYTES)

    @classmethod
    def of_run(
        cls,
        spec: TrainSpec,
        c_data: bytes,
        c_w0: bytes,
        c_wt: bytes,
        *,
        owner: bytes = bytes(ADDRESS_BYTES),
        init: Init = Init.UNCONSTRAINED,
        parent: bytes = bytes(DIGEST_BYTES),
    ) -> Statement:
        """The statement of a run with the given spec, commitment encodings and origin."""
        return cls(
            widths=tuple(spec.model.widths),
            bias=spec.model.bias,
            frac_bits=spec.quant.frac_bits,
            lr_exp=spec.quant.lr_exp,
            range_bits=spec.quant.range_bits,
            batch=spec.batch,
            steps=spec.steps,
            schedule_seed=spec.schedule_seed,
            c_data=c_data,
            c_w0=c_w0,
            c_wt=c_wt,
            owner=owner,
            init=init,
            init_seed=spec.init_seed if init == Init.SEEDED else 0,
            parent=parent,
        )

    def encode(self) -> bytes:
        # the owner first: every transcript absorbs this encoding before anything else
        head = MAGIC + struct.pack(">H", VERSION) + self.owner + struct.pack(">H", len(self.widths))
        widths = b"".join(struct.pack(">I", w) for w in self.widths)
        fixed = _FIXED.pack(
            int(self.bias), self.frac_bits, self.lr_exp, self.range_bits, self.loss,
            self.batch, self.steps, self.schedule_seed, int(self.init), self.init_seed,
        )  # fmt: skip
        commitments = b"".join(struct.pack(">I", len(c)) + c for c in (self.c_data, self.c_w0, self.c_wt))
        return head + widths + fixed + self.parent + commitments

    def digest(self) -> bytes:
        """Keccak-256 of the canonical encoding: the statement digest the registry stores."""
        return keccak(self.encode())

    @property
    def dataset(self) -> DatasetCommitment:
        """The committed data set (decode checked it: a statement holds only a well-formed one)."""
        return DatasetCommitment.decode(self.c_data)

    @property
    def n_train(self) -> int:
        """The data set's number of samples: the rows the schedule draws from."""
        return self.dataset.samples

    @property
    def data_frac_bits(self) -> int:
        """The data set's input scale."""
        return self.dataset.frac_bits

    def commitment_digests(self) -> dict[str, bytes]:
        """Keccak-256 of each commitment's encoding: what the registry stores beside the statement."""
        return {"c_data": keccak(self.c_data), "c_w0": keccak(self.c_w0), "c_wt": keccak(self.c_wt)}

    def to_json(self) -> dict[str, Any]:
        """The public hyper-parameters, as `zkdl inspect`, the service and the buyer tools show them."""
        return {
            "widths": list(self.widths), "bias": self.bias, "frac_bits": self.frac_bits, "lr_exp": self.lr_exp,
            "learning_rate": f"2^-{self.lr_exp}", "range_bits": self.range_bits, "loss": "square, one-hot targets",
            "batch": self.batch, "steps": self.steps, "schedule_seed": self.schedule_seed, "n_train": self.n_train,
            "data_frac_bits": self.data_frac_bits, "dataset": self.dataset.to_json(), "owner": to_checksum_address(self.owner),
            "initial_weights": self.origin(),
        }  # fmt: skip

    def origin(self) -> dict[str, Any]:
        """Where W_0 came from, as the tools show it."""
        if self.init == Init.SEEDED:
            return {"kind": "seeded", "seed": self.init_seed}
        if self.init == Init.FINE_TUNED:
            return {"kind": "fine-tuned", "parent_statement_digest": "0x" + self.parent.hex()}
        return {"kind": "unconstrained"}

    @classmethod
    def decode(cls, data: bytes) -> Statement:
        """Parses a canonical encoding; anything else raises StatementFormatError."""
        reader = _Reader(data)
        if reader.take(len(MAGIC)) != MAGIC:
            raise StatementFormatError("not a zkdl statement (bad magic bytes)")
        (version,) = reader.unpack(">H")
        if version != VERSION:
            raise StatementFormatError(
                f"statement version {version} is not supported (this zkdl reads version {VERSION}): prove the run again"
            )
        owner = reader.take(ADDRESS_BYTES)
        (n_widths,) = reader.unpack(">H")
        widths = tuple(reader.unpack(">I")[0] for _ in range(n_widths))
        bias, frac, lr, rbits, loss, batch, steps, seed, init, init_seed = reader.unpack(_FIXED.format)
        parent = reader.take(DIGEST_BYTES)
        c_data, c_w0, c_wt = (reader.take(reader.unpack(">I")[0]) for _ in range(3))
        reader.finish()
        if bias > 1 or loss != LOSS_SQUARE_ONE_HOT or len(widths) < 2 or min(widths) < 1 or init not in {i.value for i in Init}:
            raise StatementFormatError("statement has an out-of-range field (bias flag, loss code, widths or init)")
        if (init_seed and init != Init.SEEDED) or (any(parent) and init != Init.FINE_TUNED):
            raise StatementFormatError("statement has an init seed or a parent its origin of W_0 does not use")
        _check_dataset(c_data, widths)
        return cls(
            widths, bool(bias), frac, lr, rbits, batch, steps, seed, c_data, c_w0, c_wt,
            loss=loss, owner=owner, init=Init(init), init_seed=init_seed, parent=parent,
        )  # fmt: skip


def describe_origin(origin: dict[str, Any]) -> str:
    """`Statement.origin()` in words, as every tool prints it."""
    if origin["kind"] == "seeded":
        return f"the seeded initialisation (seed {origin['seed']}), checked by the verifier"
    if origin["kind"] == "fine-tuned":
        return f"the final weights of the registered model with statement {origin['parent_statement_digest']} (fine-tuned)"
    return "unconstrained (any weights: nothing is proven about where they came from)"


def _check_dataset(c_data: bytes, widths: tuple[int, ...]) -> None:
    """C_data must be a data set's commitment whose inputs and classes are the network's ends."""
    try:
        dataset = DatasetCommitment.decode(c_data)
    except DatasetFormatError as exc:
        raise StatementFormatError(f"C_data: {exc.user_message}") from None
    if (dataset.features, dataset.classes) != (widths[0], widths[-1]):
        raise StatementFormatError(
            f"the data set has {dataset.features} inputs and {dataset.classes} classes, the network {widths[0]} and {widths[-1]}"
        )


class _Reader:
    """Bounds-checked sequential reads: a truncated input is an error, never an exception elsewhere."""

    def __init__(self, data: bytes) -> None:
        self.data, self.offset = bytes(data), 0

    def take(self, n: int) -> bytes:
        if self.offset + n > len(self.data):
            raise StatementFormatError(f"statement truncated at byte {len(self.data)} (needed {self.offset + n})")
        chunk = self.data[self.offset : self.offset + n]
        self.offset += n
        return chunk

    def unpack(self, fmt: str) -> tuple[int, ...]:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))

    def finish(self) -> None:
        if self.offset != len(self.data):
            raise StatementFormatError(f"{len(self.data) - self.offset} unexpected bytes after the statement")
