"""Which relation of docs/protocol.md rejected a proof, read from the verifier's message.

Every rejection names the check that failed: a deferred Σ-equation or opening equation by its
transcript label (`LABEL final: the committed value is not zero`, `opening WT: the final equation
…`), a structural check by its own sentence. A soundness test asserts the relation that must
reject its cheat (`assert_rejected_by`), so a test whose cheat is caught by some other, incidental
check does not hide a weakened one.
"""

from __future__ import annotations

import re

from zkdl.proof import training
from zkdl.proof.channel import Message
from zkdl.proof.errors import VerificationError
from zkdl.proof.statement import Statement

# relation name -> the pattern of the messages by which it rejects (docs/protocol.md §4, §5, §7)
RELATIONS: dict[str, str] = {
    "forward": r"^forward\b",  # R1: Z = A_in·W at a random point (its sumcheck and closing proofs)
    "backward": r"^backward\b",  # R2: G_A = G_Z(ℓ+1)·W(ℓ+1)ᵀ on the real columns
    "binarity": r"^binarity\b",  # R3: every committed bit is 0 or 1 (sumcheck, offset proof)
    "history": r"^history (merge|updates)\b",  # R4 and the weight history W_t = W_0 − Σ updates
    "relu forward": r"^relu forward\b",  # A_out = M ⊙ S ⊙ Z' (Hadamard sumcheck)
    "relu backward": r"^relu backward\b",  # G_Z = M ⊙ S ⊙ G_A' (Hadamard sumcheck)
    "targets": r"^targets\b",  # D_Y one-hot: entries in {0, 2^R} (its sumcheck, offset proof)
    "merge X": r"^(merge|opening) X\b",  # claims on D_X (data selection) against C_data
    "merge Y": r"^(merge|opening) Y\b",  # claims on D_Y (selection, row sums) against C_data
    "merge W0": r"^(merge|opening) W0\b",  # claims on W_0 against C_W0 (or a boundary)
    "merge WT": r"^(merge|opening) WT\b",  # claims on W_T against C_WT (or a boundary)
    "merge B": r"^(merge|opening) B\b",  # claims on the bits BZ, BG against the bits commitment
    "merge BO": r"^(merge|opening) BO\b",  # claims on the output layer's bits against their commitment
    "chunking": r"chunk size|boundary weights",  # the chunking message and the boundary rows
    "statement": r"statement's commitments|the statement needs",  # commitments of the statement's shapes
    "seeded init": r"^seeded init:",  # a seeded statement's C_W0 is the seed's initialisation (recomputed)
    "structure": r"^message \d+ is|must hold|ends before|unexpected messages|is the identity|not a reduced",
}


def relation_of(message: str) -> list[str]:
    """The relations whose pattern the rejection message matches."""
    return [name for name, pattern in RELATIONS.items() if re.search(pattern, message)]


def rejection(statement: Statement, messages: list[Message]) -> str:
    """The verifier's reason for rejecting (fails the test if it accepts or raises anything else)."""
    try:
        training.verify(statement, messages)
    except VerificationError as exc:
        print(f"rejected: {exc.user_message}")  # shown with pytest -s / -rA
        return exc.user_message
    raise AssertionError("the verifier ACCEPTED a cheating proof")


def assert_rejected_by(statement: Statement, messages: list[Message], *relations: str) -> str:
    """Verifies and asserts the rejection came from one of `relations` (names of RELATIONS)."""
    unknown = set(relations) - set(RELATIONS)
    assert not unknown, f"unknown relations {sorted(unknown)}"
    reason = rejection(statement, messages)
    assert set(relation_of(reason)) & set(relations), f"rejected by {relation_of(reason) or reason!r}, expected {relations}: {reason}"
    return reason
