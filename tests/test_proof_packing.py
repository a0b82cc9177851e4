"""Packed axes (docs/shape-exact.md §2): blocks are aligned, block factors evaluate like their
tables, an eq point becomes block terms, and re-blocking keeps every weighted sum."""

import random

import pytest

from tests import reference as ref
from zkdl.backend import to_ints
from zkdl.proof import claims as cl
from zkdl.proof.packing import BlockFactor, Packing, Term

DIGITS_UNITS = (("h1", 7), ("h2", 7))
PAPER_WEIGHTS = tuple((f"w{l}", log) for l, log in enumerate((22,) + (20,) * 7 + (14,)))


def _mle(table, variables):
    """The reference: the multilinear extension of the whole table."""
    return cl.Factor(("x",), table).at(variables)


def _point(rng, n):
    return [rng.randrange(ref.R) for _ in range(n)]


def test_blocks_are_placed_largest_first_at_aligned_offsets():
    packing = Packing("in", [("data", 6), ("h1", 7), ("h2", 7), ("one", 0)])
    assert [(b.name, b.offset) for b in packing.blocks.values()] == [("h1", 0), ("h2", 128), ("data", 256), ("one", 320)]
    assert (packing.used, packing.log_size) == (321, 9)  # 321 entries: the axis has 512, the gap 191
    for block in packing.blocks.values():
        assert block.offset % (1 << block.log_size) == 0


def test_the_paper_s_weights_pack_into_2_to_the_24():
    packing = Packing("weight", PAPER_WEIGHTS)
    assert packing.log_size == 24  # 11.5 M entries of blocks, against 2^28 in N × N slots
    assert Packing("unit", DIGITS_UNITS).log_size == 8


def test_bad_packings_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="distinct"):
        Packing("unit", [("h", 3), ("h", 3)])
    with pytest.raises(ValueError, match="≥ 0"):
        Packing("unit", [("h", -1)])
    with pytest.raises(ValueError, match="no block 'h9'"):
        Packing("unit", DIGITS_UNITS)["h9"]


def _random_factor(rng, packing):
    """Terms on every block, one block twice, with two inner factors where the block allows."""
    terms = []
    for name, block in list(packing.blocks.items()) + [next(iter(packing.blocks.items()))]:
        a = block.log_size
        split = [(a - a // 2), a // 2] if a >= 2 else [a]
        inner = tuple((cl.Factor(("x",), [rng.randrange(ref.R) for _ in range(1 << n)]), n) for n in split)
        terms.append(Term(name, rng.randrange(ref.R), inner))
    return BlockFactor(packing, terms)


@pytest.mark.parametrize("sizes", [DIGITS_UNITS, (("data", 3), ("h1", 4), ("one", 0)), (("w0", 4), ("w1", 5), ("b0", 2), ("b1", 2))])
def test_a_block_factor_evaluates_like_its_table(sizes):
    rng = random.Random(1)
    packing = Packing("axis", sizes)
    factor = _random_factor(rng, packing)
    for _ in range(3):
        x = _point(rng, packing.log_size)
        assert factor.at(x) == _mle(factor.table, x)
    gap = range(packing.used, 1 << packing.log_size)
    assert all(factor.table[i] == 0 for i in gap)


def test_an_eq_point_becomes_block_terms():
    """On the blocks, eq(p, ·) as terms is eq(p, ·) itself; in the gap it is zero."""
    rng = random.Random(2)
    packing = Packing("in", [("data", 2), ("h1", 3), ("one", 0)])
    p = _point(rng, packing.log_size)
    factor = packing.factor(packing.eq_terms(p, list(packing.blocks)))
    eq = cl.eq_factor("in", p).table
    assert factor.table == tuple(v if i < packing.used else 0 for i, v in enumerate(eq))
    x = _point(rng, packing.log_size)
    assert factor.at(x) == _mle(factor.table, x)


def test_reblocking_keeps_the_weighted_sum_of_the_same_blocks():
    """A tensor's blocks placed on two packings: the weighted sum is the same on both."""
    rng = random.Random(3)
    source = Packing("next", [("h1", 3), ("h2", 3), ("out", 2)])
    target = Packing("unit", [("u1", 3), ("u2", 3)])
    values = {name: [rng.randrange(ref.R) for _ in range(1 << b.log_size)] for name, b in source.blocks.items()}
    hidden = [t for t in _random_factor(rng, source).terms if t.block != "out"]
    moved = source.factor(hidden).reblocked(target, {"h1": "u1", "h2": "u2"})

    def weighted_sum(factor, packing, renamed):
        tensor = [0] * (1 << packing.log_size)
        for name, block in packing.blocks.items():
            tensor[block.offset : block.offset + (1 << block.log_size)] = values[renamed.get(name, name)]
        return sum(w * v for w, v in zip(factor.table, tensor)) % ref.R

    assert weighted_sum(moved, target, {"u1": "h1", "u2": "h2"}) == weighted_sum(source.factor(hidden), source, {})
    with pytest.raises(ValueError, match="differ in size"):
        source.factor(hidden).reblocked(Packing("unit", [("u1", 4), ("u2", 3)]), {"h1": "u1", "h2": "u2"})


def test_inner_factors_must_cover_their_block():
    packing = Packing("unit", DIGITS_UNITS)
    with pytest.raises(ValueError, match="has 7 variables"):
        BlockFactor(packing, [Term("h1", 1, ((cl.prefix_factor("x", 3, 6), 6),))])
    with pytest.raises(ValueError, match="not 2\\^7"):
        BlockFactor(packing, [Term("h1", 1, ((cl.prefix_factor("x", 3, 6), 7),))])
    with pytest.raises(ValueError, match="has 8 variables, got 3"):
        packing.factor([]).at([0, 1, 0])


def test_a_block_factor_s_vector_is_its_table():
    """The prover's field vector of a block factor (made block by block by the kernels) is its table."""
    rng = random.Random(5)
    packing = Packing("weight", (("w0", 4), ("w1", 5), ("b0", 2), ("b1", 0)))
    factor = _random_factor(rng, packing)
    assert to_ints(factor.vector()) == list(factor.table)
    assert to_ints(packing.factor([]).vector()) == [0] * (1 << packing.log_size)
