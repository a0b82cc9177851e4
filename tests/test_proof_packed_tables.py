"""The shape-exact layout's packed axes and tables (docs/shape-exact.md, stage 3): the sizes of the
design's table, every packed block equal to the uniform layout's slot it replaces, and the
products check catching a changed entry in each kind of block."""

import dataclasses

import numpy as np
import pytest

from tests import proof_cheats as pc
from tests.conftest import tiny_spec
from zkdl.model import ModelSpec
from zkdl.proof.layout import Layout
from zkdl.proof.witness import PackedTables, ProverTables, block, packed_weights, weight_slots
from zkdl.train import train


def _layout(widths, bias, batch=64, steps=16) -> Layout:
    return Layout(tuple(widths), batch, steps, 64, 16, 10, 4, 1437, 0, bias)


@pytest.mark.parametrize(
    ("widths", "bias", "sizes"),
    [
        ((64, 128, 128, 10), False, (256, 512, 512, 1 << 15)),
        ((64, 128, 128, 10), True, (256, 512, 512, 1 << 15)),  # the bias costs nothing
        ((3072,) + (1024,) * 8 + (10,), False, (8192, 16384, 16384, 1 << 24)),  # uniform: 2^28 weights
        ((8, 4), False, (1, 8, 4, 32)),  # no hidden layer: an empty `unit` axis
    ],
)
def test_the_packed_axes_have_the_design_s_sizes(widths, bias, sizes):
    lay = _layout(widths, bias)
    assert tuple(1 << p.log_size for p in (lay.units, lay.inputs, lay.outputs, lay.weight_blocks)) == sizes


SPECS = {
    "tiny": tiny_spec(),
    "tiny with bias": dataclasses.replace(tiny_spec(), model=ModelSpec((6, 8, 5, 3), bias=True)),
    "depth 1": dataclasses.replace(tiny_spec(), model=ModelSpec((6, 3), bias=True)),
    "depth 4, T = 4": dataclasses.replace(tiny_spec(steps=4), model=ModelSpec((6, 8, 16, 5, 3), bias=False)),
}


@pytest.fixture(scope="module", params=list(SPECS))
def packed(request, tiny_data):
    spec = SPECS[request.param]
    run = train(spec, tiny_data)
    lay = Layout.of(pc.draft(spec, tiny_data))
    return PackedTables.of(lay, run.witness, tiny_data), ProverTables.of(lay, run.witness, tiny_data), run


def test_packed_tables_hold_the_run_s_products(packed):
    packed[0].check()


def test_every_packed_block_is_the_uniform_layout_s_slot(packed):
    """The packed tables' definitions are the protocol's (docs/protocol.md §3), block by block."""
    new, old, run = packed
    lay = new.layout
    for l in range(lay.layers):
        out_cols, in_cols = 1 << (lay.widths[l + 1] - 1).bit_length(), 1 << (lay.widths[l] - 1).bit_length()
        z = new.Z_out if l == lay.layers - 1 else block(new.Z, lay.units, lay.output_block(l))
        assert np.array_equal(z, old.Z[l, :, :, :out_cols])
        assert np.array_equal(block(new.G_Z, lay.outputs, lay.output_block(l)), old.G_Z[l, :, :, :out_cols])
        assert np.array_equal(block(new.A_in, lay.inputs, lay.input_block(l)), old.A_in_variable[l, :, :, :in_cols])
        if l < lay.layers - 1:
            assert np.array_equal(block(new.G_A, lay.units, lay.output_block(l)), old.G_A[l, :, :, :out_cols])
        if lay.bias:
            assert np.array_equal(block(new.A_in, lay.inputs, "one")[..., 0], old.A_in[l, :, :, lay.constant_column(l)])
    for tau in range(new.history.shape[0]):
        slots = weight_slots(lay, run.witness.weights_at(min(tau, lay.steps)))
        assert np.array_equal(new.history[tau], packed_weights(lay, run.witness.weights_at(min(tau, lay.steps))))
        for l in range(lay.layers):
            n_in, n_out = 1 << (lay.widths[l] - 1).bit_length(), 1 << (lay.widths[l + 1] - 1).bit_length()
            uniform = slots[l, :n_in, :n_out].copy()
            uniform[lay.widths[l] :] = 0  # the uniform slot's bias row, if inside: block b{l} here
            assert np.array_equal(block(new.history[tau], lay.weight_blocks, f"w{l}").reshape(n_in, n_out), uniform)
            if lay.bias:
                assert np.array_equal(block(new.history[tau], lay.weight_blocks, f"b{l}"), slots[l, lay.widths[l], :n_out])


def _changed(tables: PackedTables, name: str, where) -> PackedTables:
    array = getattr(tables, name).copy()
    array[where] += 1
    return dataclasses.replace(tables, **{name: array})


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("Z", (0, 1, 0)),  # layer 0's output, block h1
        ("Z_out", (1, 2, 1)),
        ("G_A", (0, 0, 0)),
        ("history", (0, 0)),  # W_0 of layer 0, entry (0, 0)
    ],
)
def test_the_products_check_catches_a_changed_entry(packed, name, where):
    tables = packed[0]
    if tables.layout.layers == 1 and name in ("Z", "G_A"):
        pytest.skip("no hidden layer")
    with pytest.raises(AssertionError, match="of the packed tables"):
        _changed(tables, name, where).check()


def test_a_changed_bias_is_caught(packed):
    tables = packed[0]
    if not tables.layout.bias:
        pytest.skip("no bias")
    offset = tables.layout.weight_blocks["b0"].offset
    with pytest.raises(AssertionError, match="Z of layer 0"):
        _changed(tables, "history", (0, offset)).check()
