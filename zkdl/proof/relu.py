"""zkReLU: the committed bits of Z and G_A carry the ReLU forward and backward.

Per entry the bits give, linearly: Z (weights κ), the rescaled Z' = round-half-up(Z / 2^s)
(weights κ') and the sign S = 1 − top bit; likewise G_A and G_A'. The two non-linear relations
A_out = M ⊙ S ⊙ Z' (hidden layers) and G_Z = M ⊙ S ⊙ G_A' share the sign bit S, which is how one
committed decomposition serves both passes. Each is reduced by one Hadamard sumcheck over all
instances to claims on S, Z', G_A', i.e. weighted claims on the bits; a third sumcheck proves
every committed bit is 0 or 1 (zkdl.proof.binarity).
"""

from __future__ import annotations

from collections.abc import Callable

from zkdl.backend import MODULUS, Vector
from zkdl.proof import claims as cl
from zkdl.proof.binarity import binarity as binary
from zkdl.proof.claims import ClaimBook
from zkdl.proof.hidden import Hidden
from zkdl.proof.layout import Layout
from zkdl.proof.loss import output_gradient
from zkdl.proof.mle import weighted_sum
from zkdl.proof.packing import Packing
from zkdl.proof.party import Party
from zkdl.proof.selection import select
from zkdl.proof.witness import ProverTables


def _hadamard(
    party: Party, label: bytes, lay: Layout, claims: list[cl.Claim], tables_fn: Callable[[], list[Vector]]
) -> tuple[list[cl.Factor], Hidden, Hidden]:
    """One sumcheck for Σ w·S·V over every claim, each masked to the ReLU's real steps and columns
    (M ⊙ S ⊙ V on `unit`, every block of which is hidden); returns eq factors of its point and S, V there."""
    masked = [cl.claim(lay.hidden, [*c.factors, lay.step_mask, lay.unit_columns], c.value) for c in claims]
    point, (s, v) = party.product(label, lay.hidden, masked, tables_fn, 2)
    return list(cl.eq_factors(lay.hidden, point)), s, v


def activations(party: Party, lay: Layout, book: ClaimBook, tables: ProverTables) -> None:
    """Claims on A_in: the block "x" is the scheduled data (lifted to scale 2^R), the hidden blocks
    are the ReLU outputs of the same blocks of `unit`; with a bias, plus the public constant "one",
    2^R on real steps, whose share of the claim the verifier computes and subtracts itself."""
    lift = 1 << (lay.frac_bits - lay.data_frac_bits)
    relu_claims = []
    for claim in book.take("A_in"):
        f_step, f_row, f_in = (cl.factor_on(claim, axis) for axis in ("step", "row", "in"))
        if lay.bias:
            claim = cl.Claim(claim.factors, claim.value - _constant_part(lay, f_step, f_row, f_in))
        real_data = [_slice(lay.inputs, f_in, "x", "col"), lay.prefix("col", lay.widths[0], dict(lay.data_x)["col"])]
        data_col = cl.scaled_factor(cl.claim(lay.data_x, real_data, 0).factors[0], lift)
        part = cl.claim(lay.layer_inputs, [f_step, f_row, _only(lay.inputs, f_in, ["x"])], 0)
        piece, rest = _split(party, b"input split", lay.layer_inputs, claim, part, lambda: tables.field("A_in"))
        select(book, "X", lay.data_x, lay, f_step, f_row, data_col, piece)
        relu_claims.append(cl.claim(lay.hidden, [f_step, f_row, _moved(lay.inputs, lay.units, f_in)], rest))
    if relu_claims:
        point, s, z = _hadamard(party, b"relu forward", lay, relu_claims, lambda: [tables.field("sign"), tables.field("Z_rescaled")])
        book.add("BZ", cl.claim(lay.hidden_bits, [*point, lay.sign], 1 - s))  # S = 1 − the top bit
        book.add("BZ", cl.claim(lay.hidden_bits, [*point, lay.rescaled], z))


def _constant_part(lay: Layout, f_step: cl.Factor, f_row: cl.Factor, f_in: cl.Factor) -> int:
    """Σ_(t,b) f(t)·f(b)·f(one)·2^R·[t < T]: the constant input's share of a claim on A_in, from the
    claim's public factors (O(T' + B) work and the `in` factor's table)."""
    steps = sum(f_step.table[: lay.steps])
    rows = sum(f_row.table)
    return lay.constant * steps * rows * f_in.table[lay.inputs["one"].offset] % MODULUS


def gradients(party: Party, lay: Layout, book: ClaimBook, tables: ProverTables) -> None:
    """Claims on G_Z: the output block "y" is the loss gradient, the hidden blocks S ⊙ G_A'."""
    hidden_claims = []
    for claim in book.take("G_Z"):
        f_step, f_row, f_next = (cl.factor_on(claim, axis) for axis in ("step", "row", "next"))
        part = cl.claim(lay.layer_outputs, [f_step, f_row, _only(lay.outputs, f_next, ["y"])], 0)
        piece, rest = _split(party, b"gradient split", lay.layer_outputs, claim, part, lambda: tables.field("G_Z"))
        output_gradient(party, lay, book, tables, [f_step, f_row, _slice(lay.outputs, f_next, "y", "out")], piece)
        hidden_claims.append(cl.claim(lay.hidden, [f_step, f_row, _moved(lay.outputs, lay.units, f_next)], rest))
    if hidden_claims:
        point, s, g = _hadamard(party, b"relu backward", lay, hidden_claims, lambda: [tables.field("sign"), tables.field("G_A_rescaled")])
        book.add("BZ", cl.claim(lay.hidden_bits, [*point, lay.sign], 1 - s))  # the forward pass's sign bit
        book.add("BG", cl.claim(lay.hidden_bits, [*point, lay.rescaled], g))


def _split(
    party: Party, label: bytes, shape: cl.Shape, claim: cl.Claim, part: cl.Claim, table: Callable[[], Vector]
) -> tuple[Hidden, Hidden]:
    """The prover commits the claim's part on some blocks; the rest is the claim minus it (a linear
    form: both parts stay committed)."""
    (piece,) = party.send(label, lambda: [weighted_sum(shape, part, table())], 1)
    return piece, claim.value - piece


def _slice(packing: Packing, factor: cl.Factor, name: str, axis: str) -> cl.Factor:
    """A factor's table on one block of its packed axis, as a factor over that block's own axis."""
    found = packing[name]
    return cl.Factor((axis,), factor.table[found.offset : found.offset + (1 << found.log_size)])


def _only(packing: Packing, factor: cl.Factor, names: list[str]) -> cl.Factor:
    """The factor on the named blocks of its packed axis, zero elsewhere."""
    table = [0] * len(factor.table)
    for name in names:
        found = packing[name]
        table[found.offset : found.offset + (1 << found.log_size)] = factor.table[found.offset : found.offset + (1 << found.log_size)]
    return cl.Factor(factor.axes, tuple(table))


def _moved(source: Packing, target: Packing, factor: cl.Factor) -> cl.Factor:
    """The factor's table on the blocks `target` holds, moved to their offsets there (the same
    tensor blocks on another tensor's axis: A_in's hidden blocks are the ReLU's, G_Z's are S ⊙ G_A''s)."""
    table = [0] * (1 << target.log_size)
    for name, found in target.blocks.items():
        size, at = 1 << found.log_size, source[name].offset
        table[found.offset : found.offset + size] = factor.table[at : at + size]
    return cl.Factor((target.axis,), tuple(table))


def binarity(party: Party, lay: Layout, book: ClaimBook, tables: ProverTables, name: str) -> None:
    """Every committed bit of `name` (B, the hidden layers' bits, or BO, the output's) is 0 or 1."""
    if name == "B":
        binary(party, book, name, lay.stacked_bits, lambda: tables.stacked_bits())
    else:
        binary(party, book, name, lay.output_bits, lambda: tables.output_bits())
