"""The proof bundle: canonical round trip, and every single-byte change or truncation of a real
bundle is refused, by decoding (BundleFormatError) or by verification (VerificationError), in every
section: the header, each field of the statement and of its commitments, the message count, and the
label, kind, count and payload of every kind of message (scalars, points, openings).

The only other refusal allowed is UnsupportedStatementError, for a statement the verifier does not
prove at all (a flipped bias flag, a batch that is not a power of two); zkdl.api.verify reports it
as an invalid proof like any ZkdlError.
"""

from __future__ import annotations

import dataclasses
import random
import struct

import pytest

from zkdl.proof import training
from zkdl.proof.channel import Message
from zkdl.proof.bundle import MAGIC, OPENING, POINT_BYTES, POINTS, SCALAR_BYTES, SCALARS, Bundle, BundleFormatError
from zkdl.proof.errors import VerificationError
from zkdl.proof.layout import UnsupportedStatementError
from zkdl.proof.statement import MAGIC as STATEMENT_MAGIC

FLIPS_PER_SECTION = 2


@pytest.fixture(scope="module")
def bundle(tiny_proof) -> bytes:
    return tiny_proof.bundle()


def _refusal(data: bytes) -> str:
    """How the bytes are refused: "format" or "verification" (anything else fails the test)."""
    try:
        decoded = Bundle.decode(data)
    except BundleFormatError:
        return "format"
    try:
        training.verify(decoded.statement, list(decoded.messages))
    except VerificationError:
        return "verification"
    except UnsupportedStatementError:
        return "unsupported statement"
    raise AssertionError("a changed bundle was ACCEPTED")


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
    (n_widths,) = struct.unpack(">H", data[take("statement n_widths", 2) :][:2])
    for i in range(n_widths):
        take(f"statement width {i}", 4)
    for name, n in (("bias", 1), ("frac_bits", 1), ("lr_exp", 1), ("range_bits", 1), ("loss", 1), ("batch", 4), ("steps", 4), ("schedule_seed", 8), ("n_train", 4), ("data_frac_bits", 1)):
        take(f"statement {name}", n)
    for name in ("C_data", "C_W0", "C_WT"):
        (length,) = struct.unpack(">I", data[take(f"statement {name} length", 4) :][:4])
        start = at
        if name == "C_data":
            (first,) = struct.unpack(">I", data[take("statement C_data pair length", 4) :][:4])
            for part, size in (("X", first), ("Y", length - 4 - first)):
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


def _fuzz(bundle: bytes, edits) -> dict[str, set[str]]:
    """Runs every (section, offset, xor mask) edit; collects the outcomes per section and fails
    with the complete list of edits that were not refused as they must be."""
    outcomes: dict[str, set[str]] = {}
    wrong = []
    for name, offset, mask in edits:
        edited = bytearray(bundle)
        edited[offset] ^= mask
        try:
            outcomes.setdefault(name, set()).add(_refusal(bytes(edited)))
        except Exception as exc:  # noqa: BLE001 - every other outcome is the failure being reported
            wrong.append(f"{name}, byte {offset} ^ {mask:#04x}: {type(exc).__name__}: {exc}")
    assert not wrong, f"{len(wrong)} of {len(edits)} edits not refused cleanly:\n" + "\n".join(wrong)
    return outcomes


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
    # the proof's own message kinds reach the verifier (not only format errors)
    assert any("verification" in v for k, v in outcomes.items() if "payload kind 1" in k)
    assert any("verification" in v for k, v in outcomes.items() if "payload kind 3" in k)
    # a statement no honest trainer produces is refused by the layout before it is used
    unsupported = {k for k, v in outcomes.items() if "unsupported statement" in v}
    refusable = {"bias", "batch", "frac_bits", "lr_exp", "range_bits", "data_frac_bits", "steps", "n_train"}
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
    _fuzz(bundle, edits)


def test_a_label_that_is_not_utf8_is_refused(tiny_proof):
    """Labels are raw bytes on the wire; a label that is not UTF-8 must be refused like any other
    wrong label, by decoding or by verification (not by a UnicodeDecodeError on the way)."""
    messages = list(tiny_proof.messages)
    messages[2] = Message(b"forward \xcc", scalars=messages[2].scalars)
    assert _refusal(Bundle(tiny_proof.statement, tuple(messages)).encode()) in ("format", "verification")


def test_a_statement_with_malformed_commitments_is_refused(tiny_proof):
    """A statement whose C_W0 is not a valid commitment encoding (a row that is not a curve point)
    decodes as a statement (its commitments are opaque there) and must then be refused by the
    bundle decoder or the verifier with their own errors (today a CommitmentFormatError escapes
    training.verify from StatementCommitments.of)."""
    c_w0 = bytearray(tiny_proof.statement.c_w0)
    c_w0[-1] ^= 0x01
    statement = dataclasses.replace(tiny_proof.statement, c_w0=bytes(c_w0))
    assert _refusal(Bundle(statement, tuple(tiny_proof.messages)).encode()) in ("format", "verification")


def test_truncated_or_extended_bundles_are_refused(bundle):
    rng = random.Random(7)
    cuts = {0, 1, len(MAGIC), len(bundle) - 1} | {rng.randrange(len(bundle)) for _ in range(40)}
    cuts |= {end for _, _, end in sections(bundle)[:30]}
    for cut in sorted(cuts - {len(bundle)}):
        with pytest.raises(BundleFormatError):
            Bundle.decode(bundle[:cut])
    for extra in (b"\x00", b"\x00" * 32, bundle[-100:]):
        with pytest.raises(BundleFormatError):
            Bundle.decode(bundle + extra)
