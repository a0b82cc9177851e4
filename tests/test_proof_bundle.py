"""The proof bundle: canonical round trip, and every single-byte change or truncation of a real
bundle is refused, by decoding (BundleFormatError) or by verification (VerificationError), in every
section: the header, each field of the statement and of its commitments, the message count, and the
label, kind, count and payload of every kind of message (scalars, points, openings).

The only other refusal allowed is UnsupportedStatementError, for a statement the verifier does not
prove at all (a flipped bias flag, a batch that is not a power of two); zkdl.api.verify reports it
as an invalid proof like any ZkdlError.

A change that decodes must be refused by the check that reads what was changed
(`_names_the_change`): a label or a message kind by the proof's structure, the chunking messages
by the chunking, a statement field by the statement's shapes (of its commitments, or of the
proof: the bias flag doubles the blocks the weight history's updates sum over, so the proof's
sumcheck there is a round short), the chunking or the transcript (the statement is absorbed
first: an edited statement starts another transcript and the first deferred check fails), and a
payload by the sub-protocol it belongs to. The verifier checks every deferred equation in one
batch and names the first that fails in the proof's order; an edited message changes only the
checks at or after it, so the first to fail is the next one that names a relation.
"""

from __future__ import annotations

import dataclasses
import random
import re
import struct
from typing import NamedTuple

import pytest

from tests.relations import relation_of
from zkdl.proof import training
from zkdl.proof.bundle import MAGIC, OPENING, POINT_BYTES, POINTS, SCALAR_BYTES, SCALARS, Bundle, BundleFormatError
from zkdl.proof.channel import Message
from zkdl.proof.dataset import MAGIC as DATASET_MAGIC
from zkdl.proof.errors import VerificationError
from zkdl.proof.layout import UnsupportedStatementError
from zkdl.proof.statement import MAGIC as STATEMENT_MAGIC

FLIPS_PER_SECTION = 2


@pytest.fixture(scope="module")
def bundle(tiny_proof) -> bytes:
    return tiny_proof.bundle()


# The first deferred check of a proof: what a verifier on another transcript (an edited statement or
# an edited message absorbed before the first challenge) rejects first.
FIRST_CHECK = "forward: the committed product is not the product of its factors"


class Refusal(NamedTuple):
    how: str  # "format", "unsupported statement", "verification", or "ACCEPTED" (what no change may give)
    reason: str  # the error's message
    statement: object = None  # the decoded statement, when the bytes decode


def _refusal(data: bytes) -> Refusal:
    """How the bytes are refused, and why (any other exception propagates)."""
    try:
        decoded = Bundle.decode(data)
    except BundleFormatError as exc:
        return Refusal("format", exc.user_message)
    try:
        training.verify(decoded.statement, list(decoded.messages))
    except VerificationError as exc:
        return Refusal("verification", exc.user_message, decoded.statement)
    except UnsupportedStatementError as exc:
        return Refusal("unsupported statement", exc.user_message, decoded.statement)
    return Refusal("ACCEPTED", "", decoded.statement)


def _transcript_state(statement, messages) -> bytes:
    return training._transcript(statement, messages[0].scalars[0], messages[1].points, 0).state()


def sections(data: bytes) -> list[tuple[str, int, int]]:
    """(name, start, end) of every field of a bundle, following the documented layout."""
    out: list[tuple[str, int, int]] = []
    at = 0

    def take(name: str, n: int) -> int:
        nonlocal at
        out.append((name, at, at + n))
        at += n
        return at - n

    take("magic", len(MAGIC))
    take("version", 2)
    (st_len,) = struct.unpack(">I", data[take("statement length", 4) :][:4])
    end = at + st_len
    take("statement magic", len(STATEMENT_MAGIC))
    take("statement version", 2)
    take("statement owner", 20)
    (n_widths,) = struct.unpack(">H", data[take("statement n_widths", 2) :][:2])
    for i in range(n_widths):
        take(f"statement width {i}", 4)
    for name, n in (
        ("bias", 1),
        ("frac_bits", 1),
        ("lr_exp", 1),
        ("range_bits", 1),
        ("loss", 1),
        ("batch", 4),
        ("steps", 4),
        ("schedule_seed", 8),
        ("init", 1),
        ("init_seed", 8),
        ("parent", 32),
    ):
        take(f"statement {name}", n)
    for name in ("C_data", "C_W0", "C_WT"):
        (length,) = struct.unpack(">I", data[take(f"statement {name} length", 4) :][:4])
        start = at
        if name == "C_data":  # a data set's commitment (zkdl.proof.dataset)
            take("statement data set magic", len(DATASET_MAGIC))
            take("statement data set version", 2)
            for field, n in (("n_train", 4), ("features", 4), ("classes", 4), ("data_frac_bits", 1), ("value_bits", 1)):
                take(f"statement {field}", n)
            for field in ("signed", "public"):
                take(f"statement data set {field}", 1)
            for part in ("X", "Y"):
                (size,) = struct.unpack(">I", data[take(f"statement C_data {part} length", 4) :][:4])
                ndim = data[at + 1]
                take(f"statement C_data {part} header", 2 + 8 * ndim)
                take(f"statement C_data {part} rows", size - 2 - 8 * ndim)
        else:
            ndim = data[at + 1]
            take(f"statement {name} header", 2 + 8 * ndim)
            take(f"statement {name} rows", length - 2 - 8 * ndim)
        assert at == start + length
    assert at == end
    (count,) = struct.unpack(">I", data[take("message count", 4) :][:4])
    for i in range(count):
        label_len = data[take(f"message {i} label length", 1)]
        label = data[at : at + label_len].decode()
        take(f"message {i} ({label}) label", label_len)
        kind, n = struct.unpack(">BI", data[take(f"message {i} ({label}) kind and count", 5) :][:5])
        size = {SCALARS: n * SCALAR_BYTES, POINTS: n * POINT_BYTES, OPENING: n}[kind]
        take(f"message {i} ({label}) payload kind {kind}", size)
    assert at == len(data)
    return out


def _sampled(all_sections):
    """Every section of the header and the statement; for the messages, every section of the first
    message of each label, and of the last one of that label when it is another."""
    by_label: dict[str, list[int]] = {}
    for name, _, _ in all_sections:
        if name.startswith("message ") and name.endswith(") label"):
            index, label = int(name.split()[1]), name[name.index("(") + 1 : name.rindex(")")]
            by_label.setdefault(label, []).append(index)
    picked = {i for indices in by_label.values() for i in (indices[0], indices[-1])}
    return [
        (name, start, end)
        for name, start, end in all_sections
        if not name.startswith("message ") or name == "message count" or int(name.split()[1]) in picked
    ]


def test_bundles_round_trip_canonically(tiny_proof, bundle):
    decoded = Bundle.decode(bundle)
    assert decoded.statement == tiny_proof.statement
    assert decoded.encode() == bundle
    assert [m.label for m in decoded.messages] == [m.label for m in tiny_proof.messages]
    training.verify(decoded.statement, list(decoded.messages))
    names = [name for name, _, _ in sections(bundle)]
    assert any("payload kind 1" in n for n in names) and any("payload kind 2" in n for n in names)
    assert any("payload kind 3" in n for n in names)


def _fuzz(bundle: bytes, edits) -> dict[tuple[str, int, int], Refusal]:
    """Runs every (section, offset, xor mask) edit: the refusal of each (an exception other than the
    refusals fails at once, with the edit)."""
    outcomes = {}
    for name, offset, mask in edits:
        edited = bytearray(bundle)
        edited[offset] ^= mask
        try:
            outcomes[name, offset, mask] = _refusal(bytes(edited))
        except Exception as exc:
            raise AssertionError(f"{name}, byte {offset} ^ {mask:#04x}: {type(exc).__name__}: {exc}") from exc
    return outcomes


def _sub_protocols(messages) -> list[str]:
    """The relation each message belongs to: the first one a label names at or after it."""
    out, current = [], None
    for message in reversed(messages):
        current = next(iter(relation_of(message.label.decode())), current)
        out.append(current)
    return out[::-1]


def _names_the_change(honest: Bundle, sub_protocols: list[str], section: str, refusal: Refusal) -> bool:
    """Whether a verifier's rejection names the check that reads the changed section (module docstring)."""
    relations = relation_of(refusal.reason)
    if section.startswith("statement "):
        if refusal.reason == FIRST_CHECK:  # rejected by the transcript: the statement must be bound
            other, messages = refusal.statement, honest.messages
            return _transcript_state(other, messages) != _transcript_state(honest.statement, messages)
        return bool({"statement", "structure", "chunking", "seeded init"} & set(relations))
    if not section.startswith("message ") or section == "message count":
        return False  # the header and the count: only the decoder may refuse them
    index = int(section.split()[1])
    if index < 2:
        return "chunking" in relations
    if section.endswith(" label") or "kind and count" in section:
        return "structure" in relations
    return sub_protocols[index] in relations  # a payload: the sub-protocol it belongs to


def _assert_refused_as_they_must_be(bundle: bytes, outcomes: dict[tuple[str, int, int], Refusal]) -> None:
    accepted = [edit for edit, refusal in outcomes.items() if refusal.how == "ACCEPTED"]
    assert not accepted, f"{len(accepted)} changed bundles were ACCEPTED: {accepted}"
    honest = Bundle.decode(bundle)
    sub_protocols = _sub_protocols(honest.messages)
    wrong = [
        f"{name}, byte {offset} ^ {mask:#04x}: {refusal.reason}"
        for (name, offset, mask), refusal in outcomes.items()
        if refusal.how == "verification" and not _names_the_change(honest, sub_protocols, name, refusal)
    ]
    assert not wrong, f"{len(wrong)} of {len(outcomes)} changes refused by a check that does not read them:\n" + "\n".join(wrong)


def test_one_byte_changed_in_any_section_is_refused(bundle):
    rng = random.Random(2024)
    chosen = _sampled(sections(bundle))
    assert len(chosen) > 60
    edits = [
        (name, rng.randrange(start, end), rng.randrange(1, 256))
        for name, start, end in chosen
        for _ in range(min(FLIPS_PER_SECTION, end - start))
    ]
    # the last byte of each opening is its response z2: a flip there decodes and must fail the check
    responses = [(name, end - 1, 0x01) for name, _, end in sections(bundle) if "payload kind 3" in name]
    outcomes = _fuzz(bundle, edits + responses)
    _assert_refused_as_they_must_be(bundle, outcomes)
    hows = {}
    for (name, _, _), refusal in outcomes.items():
        hows.setdefault(name, set()).add(refusal.how)
    assert all(v == {"format"} for k, v in hows.items() if k.startswith(("magic", "version", "statement length")))
    # the proof's own message kinds reach the verifier (not only format errors)
    assert any("verification" in v for k, v in hows.items() if "payload kind 1" in k)
    assert all(outcomes[edit].how == "verification" for edit in responses)  # a flipped z2 decodes: the opening refuses it
    # a statement no honest trainer produces is refused by the layout before it is used
    unsupported = {k for k, v in hows.items() if "unsupported statement" in v}
    refusable = {"bias", "batch", "frac_bits", "lr_exp", "range_bits", "data_frac_bits", "steps", "n_train", "features", "classes"}
    widths = {k for k in unsupported if k.startswith("statement width ")}  # too wide to check: refused by size
    assert unsupported - widths <= {f"statement {f}" for f in refusable}, unsupported


def test_each_statement_field_is_bound(bundle):
    """Every bit of each one-byte statement field (bias, frac_bits, lr_exp, range_bits, loss,
    data_frac_bits), and two random bit flips in every other field of the statement and of its
    commitments' lengths and headers."""
    rng = random.Random(5)
    edits = []
    for name, start, end in sections(bundle):
        if not name.startswith("statement ") or "rows" in name:
            continue
        if end - start == 1:
            edits += [(name, start, 1 << bit) for bit in range(8)]
        else:
            edits += [(name, rng.randrange(start, end), 1 << rng.randrange(8)) for _ in range(2)]
    outcomes = _fuzz(bundle, edits)
    _assert_refused_as_they_must_be(bundle, outcomes)
    # the fields the transcript alone refuses (the trainer's fixed-point parameters and its schedule)
    bound = {name for (name, _, _), refusal in outcomes.items() if refusal.reason == FIRST_CHECK}
    assert {"statement frac_bits", "statement lr_exp", "statement schedule_seed", "statement data_frac_bits"} <= bound, bound


def test_a_label_that_is_not_utf8_is_refused(tiny_proof):
    """Labels are raw bytes on the wire; a label that is not UTF-8 must be refused like any other
    wrong label, by decoding or by verification (not by a UnicodeDecodeError on the way)."""
    messages = list(tiny_proof.messages)
    messages[2] = Message(b"forward \xcc", scalars=messages[2].scalars)
    refusal = _refusal(Bundle(tiny_proof.statement, tuple(messages)).encode())
    assert refusal.how == "verification" and relation_of(refusal.reason) == ["structure"], refusal
    assert re.match("message 2 is 'forward \ufffd', expected 'bits commitment'$", refusal.reason), refusal.reason


def test_a_statement_with_malformed_commitments_is_refused(tiny_proof):
    """A statement whose C_W0 is not a valid commitment encoding (a row that is not a curve point)
    decodes as a statement (its commitments are opaque there) and must then be refused by the
    bundle decoder or the verifier with their own errors (today a CommitmentFormatError escapes
    training.verify from StatementCommitments.of)."""
    c_w0 = bytearray(tiny_proof.statement.c_w0)
    c_w0[-1] ^= 0x01
    statement = dataclasses.replace(tiny_proof.statement, c_w0=bytes(c_w0))
    refusal = _refusal(Bundle(statement, tuple(tiny_proof.messages)).encode())
    assert refusal.how == "format", refusal
    assert re.match(r"statement: tensor commitment row: point \d+ is invalid", refusal.reason), refusal.reason


def test_truncated_or_extended_bundles_are_refused(bundle):
    rng = random.Random(7)
    cuts = {0, 1, len(MAGIC), len(bundle) - 1} | {rng.randrange(len(bundle)) for _ in range(40)}
    cuts |= {end for _, _, end in sections(bundle)[:30]}
    for cut in sorted(cuts - {len(bundle)}):
        with pytest.raises(BundleFormatError, match="^bundle truncated in "):
            Bundle.decode(bundle[:cut])
    for extra in (b"\x00", b"\x00" * 32, bundle[-100:]):
        with pytest.raises(BundleFormatError, match=f"^{len(extra)} unexpected bytes after the last message$"):
            Bundle.decode(bundle + extra)
