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
from zkdl.proof.party import Party
from zkdl.proof.selection import select
from zkdl.proof.witness import ProverTables


def _masked(lay: Layout, claim: cl.Claim, layers: range) -> cl.Claim:
    """The claim's weight times the masks of a ReLU output: real layers, steps and columns."""
    return cl.claim(lay.act, [*claim.factors, lay.layer_mask(layers), lay.step_mask, lay.output_columns], claim.value)


def _hadamard(
    party: Party, label: bytes, lay: Layout, claims: list[cl.Claim], tables_fn: Callable[[], list[Vector]]
) -> tuple[list[cl.Factor], Hidden, Hidden]:
    """One sumcheck for Σ w·S·V over every claim; returns eq factors of its point and S, V there."""
    point, (s, v) = party.product(label, lay.act, claims, tables_fn, 2)
    return list(cl.eq_factors(lay.act, point)), s, v


def activations(party: Party, lay: Layout, book: ClaimBook, tables: ProverTables) -> None:
    """Claims on A_in: layer 0 is the scheduled data (lifted to scale 2^R), layer ℓ ≥ 1 is the
    ReLU output of layer ℓ − 1; with a bias, plus the public constant column 2^R·[k = d_ℓ]·μ(t, ℓ),
    whose share of the claim the verifier computes and subtracts itself before the split."""
    lift = 1 << (lay.frac_bits - lay.data_frac_bits)
    first_columns = lay.prefix("col", lay.widths[0], lay.log_width)
    relu_claims = []
    for claim in book.take("A_in"):
        f_layer, f_step, f_row, f_col = (cl.factor_on(claim, axis) for axis in ("layer", "step", "row", "col"))
        if lay.bias:
            claim = cl.Claim(claim.factors, claim.value - _constant_part(lay, f_layer, f_step, f_row, f_col))
        data_col = cl.scaled_factor(cl.claim(lay.act, [f_col, first_columns], 0).factors[0], lift)
        first = cl.claim(lay.act, [cl.onehot_factor("layer", 0, lay.log_layers), f_step, f_row, f_col], 0)
        piece, rest = _split_layer(party, b"input split", lay, claim, 0, first, lambda: tables.field("A_in_variable"))
        select(book, "X", lay.data_x, lay, f_step, f_row, data_col, piece)
        relu_claims.append(cl.claim(lay.act, [cl.shifted_factor(f_layer, 1), f_step, f_row, f_col], rest))
    if relu_claims:
        masked = [_masked(lay, c, range(lay.layers - 1)) for c in relu_claims]
        point, s, z = _hadamard(party, b"relu forward", lay, masked, lambda: [tables.field("sign"), tables.field("Z_rescaled")])
        book.add("BZ", cl.claim(lay.bits, [*point, lay.sign], 1 - s))  # S = 1 − the top bit
        book.add("BZ", cl.claim(lay.bits, [*point, lay.rescaled], z))


def _constant_part(lay: Layout, f_layer: cl.Factor, f_step: cl.Factor, f_row: cl.Factor, f_col: cl.Factor) -> int:
    """Σ_(ℓ,t,b,k) f(ℓ)·f(t)·f(b)·f(k)·2^R·[k = d_ℓ]·[t < T]·[ℓ < L]: the constant column's share of a
    claim on A_in, from the claim's public factors (O(T' + B + L') work)."""
    steps = sum(f_step.table[: lay.steps])
    rows = sum(f_row.table)
    layers = sum(f_layer.table[l] * f_col.table[lay.constant_column(l)] for l in range(lay.layers))
    return lay.constant * steps * rows * layers % MODULUS


def gradients(party: Party, lay: Layout, book: ClaimBook, tables: ProverTables) -> None:
    """Claims on G_Z: the last layer's is the loss gradient, the hidden layers' is S ⊙ G_A'."""
    last = lay.layers - 1
    hidden_claims = []
    for claim in book.take("G_Z"):
        f_step, f_row, f_col = (cl.factor_on(claim, axis) for axis in ("step", "row", "col"))
        output = cl.claim(lay.act, [cl.onehot_factor("layer", last, lay.log_layers), f_step, f_row, f_col], 0)
        piece, rest = _split_layer(party, b"gradient split", lay, claim, last, output, lambda: tables.field("G_Z"))
        output_gradient(party, lay, book, tables, [f_step, f_row, f_col], piece)
        hidden_claims.append(cl.Claim(claim.factors, rest))
    if hidden_claims:
        masked = [_masked(lay, c, range(lay.layers - 1)) for c in hidden_claims]
        point, s, g = _hadamard(party, b"relu backward", lay, masked, lambda: [tables.field("sign"), tables.field("G_A_rescaled")])
        book.add("BZ", cl.claim(lay.bits, [*point, lay.sign], 1 - s))  # the forward pass's sign bit
        book.add("BG", cl.claim(lay.bits, [*point, lay.rescaled], g))


def _split_layer(
    party: Party, label: bytes, lay: Layout, claim: cl.Claim, layer: int, part: cl.Claim, table: Callable[[], Vector]
) -> tuple[Hidden, Hidden]:
    """The prover commits the claim's slice at `layer`; the rest is claim − f(layer)·slice, with f
    the claim's layer factor (a linear form: both parts stay committed)."""
    f = cl.factor_on(claim, "layer").table[layer]
    (piece,) = party.send(label, lambda: [weighted_sum(lay.act, part, table())], 1)
    return piece, claim.value - f * piece


def binarity(party: Party, lay: Layout, book: ClaimBook, tables: ProverTables, name: str) -> None:
    """Every committed bit of `name` (BZ or BG) is 0 or 1."""
    binary(party, book, name, lay.bits, lambda: tables.bits("Z" if name == "BZ" else "G_A"))
