"""G1 kernels and Hyrax commitments against py_ecc (a slow, independent BLS12-381 implementation).

Points cross the kernel boundary as `uint8[n, 96]` (arkworks uncompressed: x ‖ y, 48 bytes each,
big-endian, with the ZCash flags in the top three bits of byte 0) and `uint8[n, 48]` (compressed).
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import numpy as np
import pytest
from py_ecc import optimized_bls12_381 as ecc
from py_ecc.bls.hash_to_curve import hash_to_G1
from py_ecc.bls.point_compression import compress_G1

from zkdl import _kernels as k

R = ecc.curve_order
P = ecc.field_modulus
assert int(k.MODULUS) == R
VECTORS = Path(__file__).parent / "vectors" / "hash_to_g1_rfc9380_j91.txt"


# ---- conversions: Python ints and py_ecc points <-> kernel arrays -------------------------------


def from_ints(values: list[int]) -> np.ndarray:
    """uint64[n, 4] Montgomery limbs of integers mod r (through the canonical encoding)."""
    raw = b"".join((v % R).to_bytes(32, "big") for v in values)
    return k.fr_from_bytes(np.frombuffer(raw, dtype=np.uint8).reshape(len(values), 32))


def from_int(value: int) -> np.ndarray:
    return from_ints([value])[0]


def to_ints(vector: np.ndarray) -> list[int]:
    return [int.from_bytes(row.tobytes(), "big") for row in k.fr_to_bytes(vector)]


def ecc_to_bytes(point) -> bytes:
    """The 96-byte uncompressed arkworks encoding of a py_ecc point."""
    if ecc.is_inf(point):
        return bytes([0x40]) + bytes(95)
    x, y = ecc.normalize(point)
    return int(x).to_bytes(48, "big") + int(y).to_bytes(48, "big")


def ecc_points(points: list) -> np.ndarray:
    raw = b"".join(ecc_to_bytes(p) for p in points)
    return np.frombuffer(raw, dtype=np.uint8).reshape(len(points), 96).copy()


def to_ecc(encoding: np.ndarray):
    """A py_ecc point from one 96-byte encoding."""
    raw = encoding.tobytes()
    assert len(raw) == 96
    if raw[0] & 0x40:
        assert raw == bytes([0x40]) + bytes(95)
        return ecc.Z1
    x, y = int.from_bytes(raw[:48], "big"), int.from_bytes(raw[48:], "big")
    point = (ecc.FQ(x), ecc.FQ(y), ecc.FQ.one())
    assert ecc.is_on_curve(point, ecc.b)
    return point


def ecc_msm(points: list, scalars: list[int]):
    total = ecc.Z1
    for p, s in zip(points, scalars):
        total = ecc.add(total, ecc.multiply(p, s % R))
    return total


def random_ecc_points(rng: random.Random, n: int) -> list:
    return [ecc.multiply(ecc.G1, rng.randrange(1, R)) for _ in range(n)]


def kernel_points(n: int, seed: int) -> np.ndarray:
    """n distinct valid points made by the kernels themselves (fast for large n)."""
    key = k.CommitKey(b"test/points/%d" % seed, 1 << max(0, (n - 1).bit_length()))
    return key.generators()[:n]


def same_point(a: np.ndarray, b) -> bool:
    return ecc.eq(to_ecc(a), b)


# ---- hash-to-curve -------------------------------------------------------------------------------


def rfc_vectors() -> tuple[bytes, list[tuple[bytes, bytes]]]:
    lines = [line for line in VECTORS.read_text().splitlines() if line and not line.startswith("#")]
    dst = lines[0].removeprefix("dst ").encode()
    cases = []
    for line in lines[1:]:
        _, msg, x, y = line.split(" ")
        cases.append((msg.removeprefix("msg=").encode(), bytes.fromhex(x[2:] + y[2:])))
    return dst, cases


def test_hash_to_g1_matches_rfc9380_appendix_j91():
    dst, cases = rfc_vectors()
    assert dst == b"QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_"
    assert [m[:5] for m, _ in cases] == [b"", b"abc", b"abcde", b"q128_", b"a512_"]
    for msg, expected in cases:
        assert k.hash_to_g1(dst, msg).tobytes() == expected, msg


@pytest.mark.parametrize("message", [b"", b"zkdl", bytes(range(200))])
def test_hash_to_g1_agrees_with_py_ecc(message):
    dst = b"zkdl-test-dst"
    assert same_point(k.hash_to_g1(dst, message), hash_to_G1(message, dst, hashlib.sha256))


def test_hash_to_g1_refuses_an_empty_tag():
    with pytest.raises(k.KernelError, match="domain tag"):
        k.hash_to_g1(b"", b"abc")


# ---- encodings -------------------------------------------------------------------------------


def test_compress_and_decompress_agree_with_py_ecc():
    rng = random.Random(1)
    points = random_ecc_points(rng, 8) + [ecc.Z1, ecc.neg(ecc.G1), ecc.G1]
    internal = ecc_points(points)
    wire = k.g1_compress(internal)
    assert wire.shape == (len(points), 48) and wire.dtype == np.uint8
    for row, p in zip(wire, points):
        assert int.from_bytes(row.tobytes(), "big") == compress_G1(p)
    assert np.array_equal(k.g1_decompress(wire), internal)
    assert wire[8].tobytes() == bytes([0xC0]) + bytes(47)  # the identity, per the ZCash format
    assert k.g1_decompress(np.zeros((0, 48), np.uint8)).shape == (0, 96)


def encoding(value: int) -> np.ndarray:
    return np.frombuffer(value.to_bytes(48, "big"), dtype=np.uint8).reshape(1, 48)


def non_subgroup_point():
    """A point of E(F_p) outside G1: the first x = 1, 2, … on the curve whose r-multiple is not O."""
    for x in range(1, 1000):
        rhs = (x**3 + 4) % P
        y = pow(rhs, (P + 1) // 4, P)
        if y * y % P == rhs:
            point = (ecc.FQ(x), ecc.FQ(y), ecc.FQ.one())
            if not ecc.is_inf(ecc.multiply(point, R)):
                return point
    raise AssertionError("no point found")


def test_decompress_rejects_every_non_canonical_encoding():
    good = compress_G1(ecc.multiply(ecc.G1, 12345))
    x_of_good = good % 2**381
    off_curve_x = next(x for x in range(1, 100) if pow((x**3 + 4) % P, (P - 1) // 2, P) == P - 1)
    cases = {
        "compression flag": x_of_good,  # no flag bits at all
        "non-zero x": (0b110 << 381) | 1,  # identity flag with x != 0
        "sign flag": 0b111 << 381,  # identity with the sign flag
        "not below p": (0b100 << 381) | P,  # x = p
        "abscissa": (0b100 << 381) | off_curve_x,  # x^3 + 4 not a square
        "subgroup": compress_G1(non_subgroup_point()),  # on E, not in G1
    }
    for reason, value in cases.items():
        with pytest.raises(k.KernelError, match=f"point 0 is invalid: .*{reason}"):
            k.g1_decompress(encoding(value))
    # x = 0 (flags 100) is a curve point, (0, ±2), of order 3: outside the subgroup.
    with pytest.raises(k.KernelError, match="subgroup"):
        k.g1_decompress(encoding(0b100 << 381))
    # The error names the first bad index.
    batch = np.concatenate([encoding(good), encoding(good), encoding(x_of_good)])
    with pytest.raises(k.KernelError, match="point 2 is invalid"):
        k.g1_decompress(batch)
    with pytest.raises(ValueError, match=r"shape \(n, 48\)"):
        k.g1_decompress(np.zeros((1, 47), np.uint8))


def test_malformed_internal_points_are_clean_errors():
    good = ecc_points([ecc.G1])
    with pytest.raises(ValueError, match=r"shape \(n, 96\)"):
        k.g1_compress(np.zeros((2, 95), np.uint8))
    bad = good.copy()
    bad[0, 0] |= 0x80  # a compressed flag on an uncompressed encoding
    with pytest.raises(k.KernelError, match="point 0 is invalid"):
        k.g1_add(bad, good)
    with pytest.raises(k.KernelError, match="point 1 is invalid"):
        k.msm(np.concatenate([good, np.full((1, 96), 0x1F, np.uint8)]), from_ints([1, 1]))
    # Non-contiguous inputs are accepted (copied).
    assert np.array_equal(k.g1_compress(np.concatenate([good, good], axis=1)[:, :96]), k.g1_compress(good))


# ---- point arithmetic ------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 5])
def test_point_arithmetic_agrees_with_py_ecc(n):
    rng = random.Random(n)
    a, b = random_ecc_points(rng, n), random_ecc_points(rng, n)
    a[0] = ecc.Z1 if n > 1 else a[0]
    pa, pb = ecc_points(a), ecc_points(b)
    s = rng.randrange(R)
    each = [rng.randrange(R) for _ in range(n)]
    for i in range(n):
        assert same_point(k.g1_add(pa, pb)[i], ecc.add(a[i], b[i]))
        assert same_point(k.g1_scale(pa, from_int(s))[i], ecc.multiply(a[i], s))
        assert same_point(k.g1_scale_each(pa, from_ints(each))[i], ecc.multiply(a[i], each[i]))
    assert np.array_equal(k.g1_add(pa, k.g1_scale(pa, from_int(R - 1))), np.tile(k.g1_identity(), (n, 1)))


def test_identity_and_empty_inputs():
    identity = k.g1_identity()
    assert identity.shape == (96,) and identity.tobytes() == bytes([0x40]) + bytes(95)
    empty = np.zeros((0, 96), np.uint8)
    assert np.array_equal(k.msm(empty, np.zeros((0, 4), np.uint64)), identity)
    assert k.g1_add(empty, empty).shape == (0, 96)


def test_arithmetic_errors():
    p2 = ecc_points([ecc.G1, ecc.G1])
    with pytest.raises(k.KernelError, match="length mismatch"):
        k.g1_add(p2, p2[:1])
    with pytest.raises(k.KernelError, match="length mismatch"):
        k.g1_scale_each(p2, from_ints([1]))
    with pytest.raises(ValueError, match="not a reduced field element"):
        k.g1_scale(p2, np.full(4, 2**64 - 1, np.uint64))


# ---- MSMs -------------------------------------------------------------------------------------------


def test_msms_agree_with_py_ecc_on_small_inputs():
    rng = random.Random(3)
    n = 6
    points = random_ecc_points(rng, n)
    encoded = ecc_points(points)
    full = [rng.randrange(R) for _ in range(n)]
    small = [-(2**63), 2**63 - 1, 0, -1, 1, rng.randrange(-(2**40), 2**40)]
    bits = [1, 0, 1, 1, 0, 1]
    assert same_point(k.msm(encoded, from_ints(full)), ecc_msm(points, full))
    assert same_point(k.msm_i64(encoded, np.array(small, np.int64)), ecc_msm(points, small))
    assert same_point(k.msm_bits(encoded, np.array(bits, np.uint8)), ecc_msm(points, bits))


@pytest.mark.parametrize("n", [1, 2, 3, 31, 33, 100, 1000, 4096])
def test_fast_msm_paths_agree_with_the_generic_one(n):
    rng = np.random.default_rng(n)
    points = kernel_points(n, n)
    small = rng.integers(-(2**63), 2**63 - 1, size=n, dtype=np.int64, endpoint=True)
    small[rng.random(n) < 0.5] //= 2**40  # a mix of magnitudes
    bits = rng.integers(0, 2, size=n, dtype=np.uint8)
    assert np.array_equal(k.msm_i64(points, small), k.msm(points, k.fr_from_i64(small)))
    assert np.array_equal(k.msm_bits(points, bits), k.msm(points, k.fr_from_i64(bits.astype(np.int64))))


def test_msm_errors():
    points = ecc_points([ecc.G1, ecc.G1])
    with pytest.raises(k.KernelError, match="length mismatch"):
        k.msm(points, from_ints([1]))
    with pytest.raises(k.KernelError, match="length mismatch"):
        k.msm_i64(points, np.array([1, 2, 3], np.int64))
    with pytest.raises(k.KernelError, match="bit 1 is 2"):
        k.msm_bits(points, np.array([1, 2], np.uint8))


# ---- commitments -----------------------------------------------------------------------------------


def gen_message(j: int) -> bytes:
    return b"zkdl/G" + j.to_bytes(8, "big")


def test_generators_are_hash_to_curve_outputs():
    key = k.CommitKey(b"zkdl/test", 8)
    assert key.row_length == 8
    gens = key.generators()
    assert gens.shape == (8, 96) and gens.dtype == np.uint8
    for j in range(8):
        assert np.array_equal(gens[j], k.hash_to_g1(b"zkdl/test", gen_message(j)))
    assert np.array_equal(key.blinding_generator(), k.hash_to_g1(b"zkdl/test", b"zkdl/H"))
    # An independent implementation derives the same generator.
    assert same_point(gens[5], hash_to_G1(gen_message(5), b"zkdl/test", hashlib.sha256))


def test_generators_are_deterministic_distinct_and_tag_bound():
    a, again, b = k.CommitKey(b"tag-a", 64), k.CommitKey(b"tag-a", 64), k.CommitKey(b"tag-b", 64)
    assert np.array_equal(a.generators(), again.generators())
    assert np.array_equal(a.blinding_generator(), again.blinding_generator())
    everything = np.concatenate([a.generators(), a.blinding_generator()[None], b.generators(), b.blinding_generator()[None]])
    assert len({row.tobytes() for row in everything}) == len(everything)
    assert not any(row[0] & 0x40 for row in everything)  # none is the identity
    # Every generator passes the full wire checks (on the curve, in the subgroup).
    k.g1_decompress(k.g1_compress(everything))


def test_a_long_key_is_the_hash_to_curve_of_each_message():
    # CommitKey derives in one batch (its own SSWU and isogeny evaluation): it must give arkworks'
    # single-message hash (and py_ecc's) for every index, across the parallel chunks.
    tag = b"zkdl/test-batch"
    gens = k.CommitKey(tag, 512).generators()
    for j in range(512):
        assert np.array_equal(gens[j], k.hash_to_g1(tag, gen_message(j))), j
    for j in (0, 257, 511):
        assert same_point(gens[j], hash_to_G1(gen_message(j), tag, hashlib.sha256))


def test_scaling_many_points_by_one_scalar_agrees_with_scaling_each():
    # g1_scale and g1_fold share one GLV/wNAF recoding across the points: compare with per-point
    # multiplication over more points than one normalisation chunk, with the identity and ±P inside.
    points = kernel_points(700, 7)
    points[10] = k.g1_identity()
    points[400] = k.g1_scale_each(points[399:400], from_ints([R - 1]))[0]  # −P
    rng = random.Random(7)
    for s in [0, 1, R - 1, 2, 2**128 + 5, rng.randrange(R)]:
        scaled = k.g1_scale(points, from_int(s))
        assert np.array_equal(scaled, k.g1_scale_each(points, from_ints([s] * len(points)))), s
        half = len(points) // 2
        w = rng.randrange(R)
        expected = k.g1_add(k.g1_scale(points[:half], from_int(s)), k.g1_scale_each(points[half:], from_ints([w] * half)))
        assert np.array_equal(k.g1_fold(points, from_int(s), from_int(w)), expected), s
    assert same_point(k.g1_scale(points[:2], from_int(12345))[1], ecc.multiply(to_ecc(points[1]), 12345))


# ---- the generator cache (kernels/src/commit.rs `cache`, docs/opening.md §1) ------------------------

PROTOCOL_TAG = b"zkdl/v1"  # the one tag with pinned digests


def cache_file(root: Path) -> Path:
    return root / "generators" / (hashlib.sha256(PROTOCOL_TAG).hexdigest()[:16] + ".g1")


def fresh_generators(n: int) -> np.ndarray:
    return np.stack([k.hash_to_g1(PROTOCOL_TAG, gen_message(j)) for j in range(n)])


def test_cached_generators_equal_freshly_derived_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("ZKDL_CACHE_DIR", str(tmp_path))
    fresh = fresh_generators(64)
    assert np.array_equal(k.CommitKey(PROTOCOL_TAG, 16).generators(), fresh[:16])  # derived, then written
    path = cache_file(tmp_path)
    assert path.read_bytes() == b"zkdlG1v1" + (16).to_bytes(8, "big") + fresh[:16].tobytes()
    assert np.array_equal(k.CommitKey(PROTOCOL_TAG, 64).generators(), fresh)  # extends the file
    assert path.stat().st_size == 16 + 64 * 96
    inode = path.stat().st_ino
    for n in (64, 8, 1):  # read back (whole or a prefix): the verified file is not rewritten
        assert np.array_equal(k.CommitKey(PROTOCOL_TAG, n).generators(), fresh[:n])
        assert path.stat().st_ino == inode
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left over
    monkeypatch.setenv("ZKDL_CACHE_DIR", "")  # empty: no disk cache at all
    assert np.array_equal(k.CommitKey(PROTOCOL_TAG, 64).generators(), fresh)
    # Other tags have no pinned digest and never touch the disk.
    monkeypatch.setenv("ZKDL_CACHE_DIR", str(tmp_path / "other"))
    k.CommitKey(b"zkdl/another-tag", 8)
    assert not (tmp_path / "other").exists()


def test_the_cache_lives_in_the_user_cache_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("ZKDL_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    k.CommitKey(PROTOCOL_TAG, 2)
    assert cache_file(tmp_path / "xdg" / "zkdl").exists()
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    k.CommitKey(PROTOCOL_TAG, 2)
    assert cache_file(tmp_path / "home" / ".cache" / "zkdl").exists()


def _swap_points(data: bytes, i: int, j: int) -> bytes:
    out = bytearray(data)
    a, b = slice(16 + 96 * i, 16 + 96 * (i + 1)), slice(16 + 96 * j, 16 + 96 * (j + 1))
    out[a], out[b] = data[b], data[a]
    return bytes(out)


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda d: d[:40] + bytes([d[40] ^ 1]) + d[41:],  # a flipped bit in G_0
        lambda d: _swap_points(d, 3, 4),  # valid points in the wrong order
        lambda d: d[:16] + k.hash_to_g1(b"attacker", b"x").tobytes() + d[16 + 96 :],  # a valid point of another tag
        lambda d: d[:-1],  # truncated
        lambda d: d[:8] + (2**40).to_bytes(8, "big") + d[16:],  # a count the body does not hold
        lambda d: b"zkdlG1v0" + d[8:],  # another format
        lambda d: b"",
    ],
    ids=["flipped-bit", "swapped", "foreign-point", "truncated", "huge-count", "magic", "empty"],
)
def test_a_corrupted_cache_file_is_detected_and_not_used(tmp_path, monkeypatch, corrupt):
    monkeypatch.setenv("ZKDL_CACHE_DIR", str(tmp_path))
    fresh = fresh_generators(32)
    k.CommitKey(PROTOCOL_TAG, 32)
    path = cache_file(tmp_path)
    good = path.read_bytes()
    path.write_bytes(corrupt(good))
    assert np.array_equal(k.CommitKey(PROTOCOL_TAG, 32).generators(), fresh)
    assert path.read_bytes() == good  # recomputed and written back


def test_an_unwritable_cache_directory_still_works(tmp_path, monkeypatch):
    fresh = fresh_generators(16)
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"not a directory")
    monkeypatch.setenv("ZKDL_CACHE_DIR", str(blocker))  # generators/ cannot be created under a file
    assert np.array_equal(k.CommitKey(PROTOCOL_TAG, 16).generators(), fresh)
    readonly = tmp_path / "readonly"
    (readonly / "generators").mkdir(parents=True)
    (readonly / "generators").chmod(0o500)
    try:
        monkeypatch.setenv("ZKDL_CACHE_DIR", str(readonly))
        assert np.array_equal(k.CommitKey(PROTOCOL_TAG, 16).generators(), fresh)
    finally:
        (readonly / "generators").chmod(0o700)


def test_commit_key_arguments():
    for bad in [0, 3, 12]:
        with pytest.raises(k.KernelError, match="power of two"):
            k.CommitKey(b"t", bad)
    with pytest.raises(k.KernelError, match="domain tag"):
        k.CommitKey(b"", 4)
    with pytest.raises(OverflowError):
        k.CommitKey(b"t", -1)


def ecc_commit(gens: list, h, row: list[int], rho: int):
    return ecc.add(ecc_msm(gens, row), ecc.multiply(h, rho))


@pytest.mark.parametrize("g,m", [(1, 3), (2, 2), (4, 3)])
def test_commit_rows_agree_with_py_ecc(g, m):
    rng = random.Random(g * 100 + m)
    key = k.CommitKey(b"zkdl/test/rows", g)
    gens = [to_ecc(p) for p in key.generators()]
    h = to_ecc(key.blinding_generator())
    values = [rng.randrange(R) for _ in range(m * g)]
    small = [rng.randrange(-(2**63), 2**63) for _ in range(m * g)]
    blinds = [rng.randrange(R) for _ in range(m)]
    rows = key.commit_rows(from_ints(values), from_ints(blinds))
    rows_i64 = key.commit_rows_i64(np.array(small, np.int64), from_ints(blinds))
    assert rows.shape == (m, 96)
    for i in range(m):
        assert same_point(rows[i], ecc_commit(gens, h, values[i * g : (i + 1) * g], blinds[i]))
        assert same_point(rows_i64[i], ecc_commit(gens, h, small[i * g : (i + 1) * g], blinds[i]))
    vector = values[: g - 1] if g > 1 else values[:1]
    assert same_point(key.commit_vector(from_ints(vector), from_int(blinds[0])), ecc_commit(gens, h, vector, blinds[0]))


def generic_rows(key, values: np.ndarray, blinds: np.ndarray) -> np.ndarray:
    """C_i = msm(G ‖ H, row_i ‖ ρ_i): the commitment written as one generic MSM per row."""
    g = key.row_length
    bases = np.concatenate([key.generators(), key.blinding_generator()[None]])
    return np.stack([k.msm(bases, np.concatenate([values[i * g : (i + 1) * g], blinds[i : i + 1]])) for i in range(len(blinds))])


@pytest.mark.parametrize("g,n", [(1, 1), (1, 7), (2, 6), (16, 48), (256, 256), (256, 4096), (4096, 4096)])
def test_commit_rows_fast_paths_agree_with_the_generic_path(g, n):
    rng = np.random.default_rng(g + n)
    key = k.CommitKey(b"zkdl/test/generic", g)
    m = n // g
    blinds = k.fr_random(m)
    small = rng.integers(-(2**63), 2**63 - 1, size=n, dtype=np.int64, endpoint=True)
    small[::3] //= 2**50
    field = k.fr_from_i64(small)
    expected = generic_rows(key, field, blinds)
    assert np.array_equal(key.commit_rows(field, blinds), expected)
    assert np.array_equal(key.commit_rows_i64(small, blinds), expected)


@pytest.mark.parametrize("g,width,n", [(1, 1, 5), (4, 2, 6), (8, 8, 3), (16, 64, 2), (64, 4, 48), (256, 16, 256), (4, 64, 3)])
def test_commit_rows_bits_matches_the_expanded_tensor(g, width, n):
    rng = np.random.default_rng(g * width + n)
    key = k.CommitKey(b"zkdl/test/bits", g)
    words = rng.integers(0, 2**64 - 1, size=n, dtype=np.uint64, endpoint=True)
    if width < 64:
        words &= np.uint64((1 << width) - 1)  # clean above the width (anything else is refused)
    m = n * width // g
    blinds = k.fr_random(m)
    # Entry (i, j) = bit j of word i, bit index fastest.
    expanded = ((words[:, None] >> np.arange(width, dtype=np.uint64)) & np.uint64(1)).reshape(-1).astype(np.int64)
    assert np.array_equal(key.commit_rows_bits(words, width, blinds), key.commit_rows_i64(expanded, blinds))


def test_commit_rows_bits_refuses_bits_above_the_width():
    """Words that agree below the width used to commit alike; now the dirty one is refused."""
    key = k.CommitKey(b"zkdl/test/bits", 4)
    blinds = k.fr_random(1)
    clean = np.array([0b01, 0b11], dtype=np.uint64)
    key.commit_rows_bits(clean, 2, blinds)
    with pytest.raises(k.KernelError, match="above width"):
        key.commit_rows_bits(clean | np.uint64(0b100), 2, blinds)
    big = k.CommitKey(b"zkdl/test/bits", 64)  # the byte-table path (many rows) checks too
    words = np.zeros(64 * 16, dtype=np.uint64)
    words[-1] = np.uint64(1 << 8)
    with pytest.raises(k.KernelError, match="above width"):
        big.commit_rows_bits(words, 4, k.fr_random(64))


def test_commit_vector_is_a_padded_row():
    key = k.CommitKey(b"zkdl/test/vector", 8)
    values, blind = k.fr_random(5), k.fr_random(1)
    padded = np.concatenate([values, k.fr_from_i64(np.zeros(3, np.int64))])
    assert np.array_equal(key.commit_vector(values, blind[0]), key.commit_rows(padded, blind)[0])
    only_blind = key.commit_vector(np.zeros((0, 4), np.uint64), blind[0])
    assert np.array_equal(only_blind, k.g1_scale(key.blinding_generator()[None], blind[0])[0])


def test_commitment_errors():
    key = k.CommitKey(b"zkdl/test/errors", 4)
    one = k.fr_from_i64(np.ones(1, np.int64))
    with pytest.raises(k.KernelError, match="not a whole number of rows of 4"):
        key.commit_rows(k.fr_from_i64(np.ones(6, np.int64)), one)
    with pytest.raises(k.KernelError, match="blinds has 1 elements, expected 2"):
        key.commit_rows_i64(np.ones(8, np.int64), one)
    with pytest.raises(k.KernelError, match="bit width 3"):
        key.commit_rows_bits(np.ones(4, np.uint64), 3, one)
    with pytest.raises(k.KernelError, match="bit width 128"):
        key.commit_rows_bits(np.ones(4, np.uint64), 128, one)
    with pytest.raises(k.KernelError, match="not a whole number of rows"):
        key.commit_rows_bits(np.ones(1, np.uint64), 2, one)
    with pytest.raises(k.KernelError, match="longer than the row length 4"):
        key.commit_vector(k.fr_from_i64(np.ones(5, np.int64)), one[0])
    with pytest.raises(ValueError, match="not a reduced field element"):
        key.commit_rows(np.full((4, 4), 2**64 - 1, np.uint64), one)
