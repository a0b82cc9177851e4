"""The output layer's gradient for the square loss: G_Z = M ⊙ (Z' − Y_sel) on real steps.

It is linear, so a claim on it splits into a claim on the rescaled output (BO, the bits of the
output layer's Z) and a claim on the scheduled one-hot targets: 2^R times the committed data set's 0/1
labels D_Y (the data set does not depend on the model's scale).
"""

from __future__ import annotations

from zkdl.proof import claims as cl
from zkdl.proof.claims import ClaimBook
from zkdl.proof.hidden import Hidden
from zkdl.proof.layout import Layout
from zkdl.proof.mle import weighted_sum
from zkdl.proof.party import Party
from zkdl.proof.selection import select
from zkdl.proof.witness import ProverTables


def output_gradient(party: Party, lay: Layout, book: ClaimBook, tables: ProverTables, factors: list[cl.Factor], value: Hidden) -> None:
    """`factors` weigh (step, row, out) of the output layer's G_Z, whose weighted sum is `value`."""
    f_step, f_row, f_out = factors
    real = [cl.claim(lay.output, [f_step, lay.step_mask], 0).factors[0], f_row]
    columns = cl.claim(lay.output, [f_out, lay.prefix("out", lay.widths[-1], dict(lay.output)["out"])], 0).factors[0]
    output = cl.claim(lay.output, [*real, columns], 0)

    (z_part,) = party.send(b"output gradient split", lambda: [weighted_sum(lay.output, output, tables.field("Z_out_rescaled"))], 1)
    y_part = z_part - value  # Σ w·Y_sel = Σ w·Z' − Σ w·G_Z
    book.add("BO", cl.claim(lay.output_bits, [*output.factors, lay.rescaled], z_part))
    select(book, "Y", lay.data_y, lay, real[0], f_row, cl.scaled_factor(columns, lay.constant), y_part)  # Y_sel is 2^R·D_Y
