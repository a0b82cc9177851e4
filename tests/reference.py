"""Slow, obviously-correct pure-Python references for the kernels: Python ints mod r.

Variable order is LSB first (docs/kernels.md): variable i is bit i of the table index.
"""

from __future__ import annotations

import random

from zkdl.backend import MODULUS as R


def random_ints(rng: random.Random, n: int) -> list[int]:
    return [rng.randrange(R) for _ in range(n)]


def eq_table(point: list[int]) -> list[int]:
    table = []
    for x in range(1 << len(point)):
        value = 1
        for i, u in enumerate(point):
            value = value * (u if (x >> i) & 1 else 1 - u) % R
        table.append(value)
    return table


def mle_evaluate(table: list[int], point: list[int]) -> int:
    return sum(t * e for t, e in zip(table, eq_table(point), strict=True)) % R


def fold(table: list[int], r: int) -> list[int]:
    return [(table[2 * j] + r * (table[2 * j + 1] - table[2 * j])) % R for j in range(len(table) // 2)]


def round_evaluations(factors: list[list[int]], degree: int) -> list[int]:
    """Σ over the free variables but variable 0 of Π f_i, at variable 0 = t for t = 0..degree."""
    out = []
    for t in range(degree + 1):
        total = 0
        for j in range(len(factors[0]) // 2):
            product = 1
            for f in factors:
                product = product * (f[2 * j] + t * (f[2 * j + 1] - f[2 * j])) % R
            total += product
        out.append(total % R)
    return out


def interpolate(values: list[int], x: int) -> int:
    total = 0
    for i, v in enumerate(values):
        num, den = 1, 1
        for j in range(len(values)):
            if j != i:
                num, den = num * (x - j) % R, den * (i - j) % R
        total += v * num * pow(den, -1, R)
    return total % R


def bits_of(value: int, width: int) -> list[int]:
    """Two's-complement bits of value, LSB first."""
    return [((value % (1 << width)) >> j) & 1 for j in range(width)]


def keccak_permutation(prefix: bytes, n: int) -> list[int]:
    """Fisher–Yates over the 256-bit Keccak words K(prefix ‖ be64(counter)), with rejection (zkdl/data.py)."""
    from eth_hash.auto import keccak

    perm, counter = list(range(n)), 0
    for i in range(n - 1, 0, -1):
        limit = (1 << 256) - (1 << 256) % (i + 1)
        while (v := int.from_bytes(keccak(prefix + counter.to_bytes(8, "big")), "big")) >= limit:
            counter += 1
        counter += 1
        perm[i], perm[v % (i + 1)] = perm[v % (i + 1)], perm[i]
    return perm
