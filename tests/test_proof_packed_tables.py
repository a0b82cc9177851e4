"""The layout's packed axes and the prover's tables on them (docs/protocol.md §1): the sizes of
docs/shape-exact.md's table, every recorded tensor in its block with zero padding, and the
products check catching a changed entry in each kind of block."""

import dataclasses

import numpy as np
import pytest

from tests import proof_cheats as pc
from tests.conftest import tiny_spec
from zkdl.model import ModelSpec
from zkdl.proof.layout import Layout
from zkdl.proof.witness import ProverTables, block, packed_weights
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
    return ProverTables.of(lay, run.witness, tiny_data), run


def test_packed_tables_hold_the_run_s_products(packed):
    packed[0].check()


def test_every_recorded_tensor_sits_in_its_block(packed):
    """Z, G_A, the weights and the biases of every layer at the top left of their blocks, zero
    around them (in the blocks' padding and in the axes' gaps)."""
    tables, run = packed
    lay, w = tables.layout, run.witness
    expected_z, expected_g = np.zeros_like(tables.Z), np.zeros_like(tables.G_A)
    for l in range(lay.layers - 1):
        block(expected_z, lay.units, lay.output_block(l))[: lay.steps, :, : lay.widths[l + 1]] = w.recorded(l, "Z", 0, lay.steps)
        block(expected_g, lay.units, lay.output_block(l))[: lay.steps, :, : lay.widths[l + 1]] = w.recorded(l, "G_A", 0, lay.steps)
    assert np.array_equal(tables.Z, expected_z) and np.array_equal(tables.G_A, expected_g)
    assert np.array_equal(tables.Z_out[: lay.steps, :, : lay.widths[-1]], w.recorded(lay.layers - 1, "Z", 0, lay.steps))
    assert not np.any(tables.Z_out[:, :, lay.widths[-1] :]) and not np.any(tables.Z_out[lay.steps :])
    for tau in range(tables.history.shape[0]):
        weights = w.weights_at(min(tau, lay.steps))
        expected = np.zeros_like(tables.history[tau])
        for l, layer_w in enumerate(weights.w):
            n_out = 1 << (lay.widths[l + 1] - 1).bit_length()
            block(expected, lay.weight_blocks, f"w{l}").reshape(-1, n_out)[: lay.widths[l], : lay.widths[l + 1]] = layer_w
            if lay.bias:
                block(expected, lay.weight_blocks, f"b{l}")[: lay.widths[l + 1]] = weights.b[l] << lay.frac_bits
        assert np.array_equal(tables.history[tau], expected)
        assert np.array_equal(packed_weights(lay, weights), expected)


def _changed(tables: ProverTables, name: str, where) -> ProverTables:
    array = getattr(tables, name).copy()
    array[where] += 1
    return dataclasses.replace(tables, **{name: array})


HIDDEN = [name for name, spec in SPECS.items() if len(spec.model.widths) > 2]  # networks with a hidden layer
BIASED = [name for name, spec in SPECS.items() if spec.model.bias]
CHANGES = [  # (tensor, entry, whether it needs a hidden layer)
    ("Z", (0, 1, 0), True),  # layer 0's output, block h1
    ("Z_out", (1, 2, 1), False),
    ("G_A", (0, 0, 0), True),
    ("history", (0, 0), False),  # W_0 of layer 0, entry (0, 0)
]


@pytest.mark.parametrize(
    ("packed", "name", "where"),
    [(spec, name, where) for spec in SPECS for name, where, hidden in CHANGES if spec in HIDDEN or not hidden],
    indirect=["packed"],
)
def test_the_products_check_catches_a_changed_entry(packed, name, where):
    with pytest.raises(AssertionError, match="of the packed tables"):
        _changed(packed[0], name, where).check()


@pytest.mark.parametrize("packed", BIASED, indirect=True)
def test_a_changed_bias_is_caught(packed):
    tables = packed[0]
    offset = tables.layout.weight_blocks["b0"].offset
    with pytest.raises(AssertionError, match="Z of layer 0"):
        _changed(tables, "history", (0, offset)).check()
