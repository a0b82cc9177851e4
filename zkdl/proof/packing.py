"""Packed axes: power-of-two blocks of different sizes on one axis (docs/shape-exact.md §2).

A `Packing` places named blocks of 2^a entries on one axis, largest first (ties in the order
given), each at the running offset: since sizes descend, every offset is a multiple of its block's
size, so a block is exactly the indices whose variables above its lowest a spell offset / 2^a.
For a multilinear V on the axis, V restricted to a block is then the block's own extension of its
low variables, and the block's indicator is an eq of its high variables: claims on one block read
the packed tensor at (offset bits, inner point) with no sumcheck. The axis has 2^⌈log Σ 2^a⌉
entries; what lies beyond the last block is its gap.

A `BlockFactor` is a public weight on a packed axis: on each of its terms' blocks, a coefficient
times inner factors (one per consecutive range of the block's variables, numpy order: the last
owns the lowest), zero elsewhere. The verifier evaluates its extension term by term in closed form
(O(terms · log)), never building a table over the axis; re-blocking moves a weight onto another
packing of the same blocks, which is how a claim crosses from one tensor's axis to another's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from zkdl import backend
from zkdl.backend import MODULUS, Vector, from_ints
from zkdl.proof.claims import Factor, eq_at, eq_factor


@dataclass(frozen=True)
class Block:
    name: str
    log_size: int
    offset: int

    def high_bits(self, log_axis: int) -> list[int]:
        """The block's index among blocks of its size, as the axis's high variables (LSB first)."""
        index = self.offset >> self.log_size
        return [index >> i & 1 for i in range(log_axis - self.log_size)]


class Packing:
    """Named blocks of 2^log_size entries on the axis `axis`, placed largest first."""

    def __init__(self, axis: str, sizes: Sequence[tuple[str, int]]) -> None:
        names = [name for name, _ in sizes]
        if len(set(names)) != len(names):
            raise ValueError(f"packing {axis!r}: block names must be distinct, got {names}")
        if any(log < 0 for _, log in sizes):
            raise ValueError(f"packing {axis!r}: a block's log2 size must be ≥ 0, got {list(sizes)}")
        self.axis = axis
        self.blocks: dict[str, Block] = {}
        offset = 0
        for name, log in sorted(sizes, key=lambda block: -block[1]):  # stable: ties keep their order
            self.blocks[name] = Block(name, log, offset)
            offset += 1 << log
        self.used = offset
        self.log_size = max(offset - 1, 0).bit_length()

    def __getitem__(self, name: str) -> Block:
        try:
            return self.blocks[name]
        except KeyError:
            raise ValueError(f"packing {self.axis!r} has no block {name!r} (blocks: {sorted(self.blocks)})") from None

    def eq_terms(self, point: Sequence[int], names: Sequence[str]) -> list[Term]:
        """eq(point, ·) on the named blocks, as terms: the block's high variables give the
        coefficient, its low ones the inner eq factor."""
        if len(point) != self.log_size:
            raise ValueError(f"a point on packing {self.axis!r} has {self.log_size} variables, got {len(point)}")
        terms = []
        for name in names:
            block = self[name]
            low, high = list(point[: block.log_size]), list(point[block.log_size :])
            terms.append(Term(name, eq_at(block.high_bits(self.log_size), high), ((eq_factor(self.axis, low), block.log_size),)))
        return terms

    def factor(self, terms: Sequence[Term]) -> BlockFactor:
        return BlockFactor(self, terms)


@dataclass(frozen=True)
class Term:
    """coefficient × Π inner factors on one block; `inner` lists (factor, its number of variables)
    in numpy order (the last factor owns the block's lowest variables), together the block's."""

    block: str
    coefficient: int
    inner: tuple[tuple[Factor, int], ...]

    def at(self, variables: Sequence[int]) -> int:
        value, start = self.coefficient % MODULUS, 0
        for factor, num_vars in reversed(self.inner):
            value = value * factor.at(variables[start : start + num_vars]) % MODULUS
            start += num_vars
        return value

    def vector(self) -> Vector:
        """The table as a field vector, the tensor product made by the kernels."""
        if not self.inner:
            return from_ints([self.coefficient])
        tables = [([axis], factor.vector()) for axis, (factor, _) in enumerate(self.inner)]
        return backend.tensor_combination([num_vars for _, num_vars in self.inner], [(self.coefficient, tables)])

    def table(self) -> list[int]:
        """The inner factors' tensor product times the coefficient (row-major: the last factor fastest)."""
        out = [self.coefficient % MODULUS]
        for factor, _ in self.inner:
            out = [a * b % MODULUS for a in out for b in factor.table]
        return out


class BlockFactor(Factor):
    """A weight on a packed axis: Σ_terms coefficient·[block]·inner, zero in the gap. Its
    extension is evaluated term by term; its table is built only when a prover reads it."""

    def __init__(self, packing: Packing, terms: Sequence[Term]) -> None:
        for term in terms:
            block = packing[term.block]
            if sum(num_vars for _, num_vars in term.inner) != block.log_size:
                raise ValueError(
                    f"block {term.block!r} of packing {packing.axis!r} has {block.log_size} variables; "
                    f"its inner factors cover {[n for _, n in term.inner]}"
                )
            for factor, num_vars in term.inner:
                if len(factor.table) != 1 << num_vars:
                    raise ValueError(f"an inner factor of block {term.block!r} has {len(factor.table)} entries, not 2^{num_vars}")
        self.axes = (packing.axis,)
        self.packing = packing
        self.terms = tuple(terms)
        self._built: tuple[int, ...] | None = None

    @property
    def table(self) -> tuple[int, ...]:
        if self._built is None:
            table = [0] * (1 << self.packing.log_size)
            for term in self.terms:
                offset = self.packing[term.block].offset
                for i, v in enumerate(term.table()):
                    table[offset + i] = (table[offset + i] + v) % MODULUS
            self._built = tuple(table)
        return self._built

    def vector(self) -> Vector:
        """The table as a field vector, block by block (a packed `weight` axis has 2^24 entries for
        the paper's network: never a Python list)."""
        blocks: dict[str, Vector] = {}
        for term in self.terms:
            found = blocks.get(term.block)
            blocks[term.block] = term.vector() if found is None else backend.add(found, term.vector())
        pieces, end = [], 0
        for block in sorted(self.packing.blocks.values(), key=lambda b: b.offset):
            if block.name in blocks:
                pieces += [backend.full(block.offset - end, 0), blocks[block.name]]
                end = block.offset + (1 << block.log_size)
        return backend.concat([*pieces, backend.full((1 << self.packing.log_size) - end, 0)])

    def at(self, variables: Sequence[int]) -> int:
        log_axis = self.packing.log_size
        if len(variables) != log_axis:
            raise ValueError(f"a point on packing {self.packing.axis!r} has {log_axis} variables, got {len(variables)}")
        total = 0
        for term in self.terms:
            block = self.packing[term.block]
            inside = eq_at(block.high_bits(log_axis), variables[block.log_size :])
            total += inside * term.at(variables[: block.log_size])
        return total % MODULUS

    def reblocked(self, onto: Packing, names: Mapping[str, str] | None = None) -> BlockFactor:
        """The same weight on another packing holding the same blocks (renamed by `names`): claims
        cross between tensors whose blocks are the same values at other offsets."""
        names = names or {}
        terms = []
        for term in self.terms:
            target = names.get(term.block, term.block)
            if onto[target].log_size != self.packing[term.block].log_size:
                raise ValueError(f"block {term.block!r} of {self.packing.axis!r} and block {target!r} of {onto.axis!r} differ in size")
            terms.append(Term(target, term.coefficient, term.inner))
        return BlockFactor(onto, terms)
