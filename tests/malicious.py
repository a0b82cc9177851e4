"""A malicious prover for the soundness suite: the protocol's own code, deviating inside it.

The cheats of tests/proof_cheats.py run the honest prover on false tables; this prover runs the
same sub-protocols (zkdl.proof.party: one description for both parties) but acts differently
where a script says so, as a prover that wants a false statement accepted would:

* `values`: commit values it did not compute (a label's committed values are replaced by a
  function of the honest ones and of the party, which knows the challenges drawn so far and each
  finished product's point and factor values, `proven`);
* `tables`: run a sumcheck over tables of its choosing (a product's tables are replaced by a
  function of the honest ones and of the party, which knows the challenges drawn so far and the
  product's batched claims); `fit(m)` changes factor m at one entry so that the sum holds for the
  (false) claim, leaving only the link from factor m's value to its tensor to reject;
* `challenge_first`: draw a challenge before sending the message it must follow — for
  "round" (every sumcheck round), "zero" (every proof of zero's commitment A) or "product" (every
  proof of product's first messages α, β, δ), exactly as a verifier with that order reversed
  would; with the honest verifier's order its challenges then differ from the verifier's;
* `fit_rounds`: for these sumcheck labels, a first round polynomial chosen after its challenge is
  known: it sums to the (false) claim and agrees with the true polynomial at the challenge, so
  every later round is honest (needs "round" in challenge_first);
* `forge_zero` / `forge_product`: answer these Σ-protocols without a witness: a simulated proof
  (zkdl.proof.sigma.simulate_*) for the challenge known in advance (needs "zero" / "product" in
  challenge_first); a forged product commits the value that makes its sumcheck's final check hold.

A test proves a false statement with `prove_malicious` and asserts which relation rejects it
(tests/relations.py). A verifier weakened at the right place (tests/mutants.toml) accepts the same
proof: that is what makes these tests able to fail.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from tests import proof_cheats as pc
from zkdl import _kernels, backend
from zkdl.backend.native import MODULUS, from_ints, to_int, to_ints
from zkdl.proof import claims as cl
from zkdl.proof import commitment as cm
from zkdl.proof import low_axis, packed, product, sigma, sumcheck, training
from zkdl.proof.channel import Message
from zkdl.proof.commitment import blinding_generator
from zkdl.proof.hidden import Hidden, combination
from zkdl.proof.opening import commit_values
from zkdl.proof.party import ProverParty
from zkdl.proof.statement import Statement
from zkdl.proof.witness import ProverTables


@dataclass(frozen=True)
class Batched:
    """A product's claims as the prover batched them: Σ_k α_k·Σ w_k·Π tables = Σ_k α_k·v_k."""

    shape: cl.Shape
    claims: list[cl.Claim]
    alphas: list[int]
    values: list[int]

    @property
    def total(self) -> int:
        return sum(a * v for a, v in zip(self.alphas, self.values)) % MODULUS


@dataclass(frozen=True)
class Script:
    values: dict[bytes, Callable[[list[int], MaliciousProver], list[int]]] = field(default_factory=dict)
    tables: dict[bytes, Callable[[list, MaliciousProver], list]] = field(default_factory=dict)
    challenge_first: frozenset[str] = frozenset()
    fit_rounds: frozenset[bytes] = frozenset()
    forge_zero: frozenset[bytes] = frozenset()
    forge_product: frozenset[bytes] = frozenset()


class MaliciousProver(ProverParty):
    """A ProverParty that follows its script (module docstring) and is honest elsewhere."""

    def __init__(self, channel, script: Script) -> None:
        super().__init__(channel)
        self.script = script
        self.drawn: dict[bytes, list[int]] = {}  # the last challenges drawn under each label
        self.claims: dict[bytes, Batched] = {}  # each product's batched claims, as it starts
        self.proven: dict[bytes, tuple[list[int], list[int]]] = {}  # each product's point and factor values
        self.label = b""  # the product being proven

    def challenges(self, label: bytes, n: int) -> list[int]:
        self.drawn[label] = self.channel.challenges(label, n)
        return self.drawn[label]

    def send(self, label: bytes, compute: Callable[[], Sequence[int]], n: int) -> list[Hidden]:
        values = [int(v) for v in compute()]
        if label in self.script.values:
            values = self.script.values[label](values, self)
        return self.channel.send_hidden(label, values)

    def zero(self, label: bytes, value: Hidden) -> None:
        self._zero(label, value)

    def product(self, label, shape, claims, tables, n):
        """product.prove_product, with this prover's tables, rounds and Σ-protocols."""
        alphas = product._coefficients(self.channel, claims)
        self.label, self.claims[label] = label, Batched(shape, list(claims), alphas, [self._value(c.value) for c in claims])
        chosen = self.script.tables[label](tables(), self) if label in self.script.tables else tables()
        total = combination(alphas, [c.value for c in claims])
        prover = low_axis.low_axis_prover(shape, claims, alphas, chosen)
        if prover is None:
            dense = [t.field() if isinstance(t, packed.BitTable | packed.Int64Table) else t for t in chosen]
            prover = backend.ProductSumcheck([cl.combined_weight(shape, claims, alphas), *dense])
        point, finals, final = self._rounds(label, prover, total)
        values = self.channel.send_hidden(b"factor values", finals[1:])
        weight = product._weight_at(alphas, shape, claims, point)
        result = values[0]
        for value in values[1:]:  # a forged product commits final / weight: the zero proof below then holds
            target = self._value(final) * pow(weight, -1, MODULUS) if label in self.script.forge_product else None
            result = self._product(label, result, value, target)
        self._zero(label + b" final", final - weight * result)
        self.proven[label] = (list(point), [self._value(v) for v in values])
        return list(point), values

    def _rounds(self, label: bytes, prover, claim: Hidden):
        """sumcheck.prove_rounds, with the challenge first where scripted (and then a fitted round)."""
        sumcheck._absorb_shape(self.channel.transcript, label, prover.num_vars, prover.degree)
        early = "round" in self.script.challenge_first
        assert early or label not in self.script.fit_rounds, "a fitted round needs its challenge first"
        point = []
        for k in range(prover.num_vars):
            values = prover.round_values()
            r = self.channel.challenge(b"sumcheck challenge") if early else None
            if k == 0 and label in self.script.fit_rounds:
                values = fitted(values, self._value(claim), r)
            sent = self.channel.send_hidden(b"sumcheck round", (values[0], *values[2:]))
            if not early:
                r = self.channel.challenge(b"sumcheck challenge")
            claim = sumcheck.next_claim(claim, sent, r)
            prover.bind(r)
            point.append(r)
        return tuple(point), prover.final_values(), claim

    def _zero(self, label: bytes, h: Hidden) -> None:
        if "zero" not in self.script.challenge_first:
            sigma.prove_zero(self.channel, label, h)
            return
        c = self.channel.challenge(label + b" zero challenge")
        if label in self.script.forge_zero:
            A, z = sigma.simulate_zero(self._commitment(h), c)
        else:
            (k,) = sigma._randoms(1)
            A, z = sigma._combine([blinding_generator()], [k]), (k + c * self.channel.ledger.blind(h)) % MODULUS
        self.channel.send_points(label + b" zero commitment", A[None])
        self.channel.send_scalars(label + b" zero response", [z])

    def _product(self, label: bytes, x: Hidden, y: Hidden, target: int | None) -> Hidden:
        if "product" not in self.script.challenge_first:
            return sigma.prove_product(self.channel, label, x, y)
        value = self._value(x) * self._value(y) if target is None else target
        (z,) = self.channel.send_hidden(label + b" product", [value])
        c = self.channel.challenge(label + b" product challenge")
        X, Y, Z = (self._commitment(h) for h in (x, y, z))
        first, responses = sigma.simulate_product(X, Y, Z, c)  # no witness needed: c is known
        self.channel.send_points(label + b" product commitments", first)
        self.channel.send_scalars(label + b" product responses", responses)
        return z

    def _value(self, h: Hidden) -> int:
        return self.channel.ledger.value(h)

    def _commitment(self, h: Hidden) -> np.ndarray:
        ledger = self.channel.ledger
        return commit_values([ledger.value(h)], [ledger.blind(h)])[0]


@dataclass
class MaskedAs(ProverTables):
    """Tables whose virtual tensors (A_out, A_in, G_Z) use the column masks of `widths`, the network
    the prover really trained, instead of the claimed layout's."""

    widths: tuple[int, ...] = ()

    @property
    def masked_widths(self) -> tuple[int, ...]:
        return self.widths


def masked_as(tables: ProverTables, widths: tuple[int, ...]) -> MaskedAs:
    fields = {f.name: getattr(tables, f.name) for f in dataclasses.fields(ProverTables)}
    return MaskedAs(**fields, widths=widths)


def fit(index: int) -> Callable[[list, MaliciousProver], list]:
    """A tables hook: factor `index` changed at one entry so that Σ w·Π tables is the batched
    claim, however false (the sumcheck then holds for it)."""

    def hook(tables: list, party: MaliciousProver) -> list:
        batched = party.claims[party.label]
        fields = [t.field() if isinstance(t, packed.BitTable | packed.Int64Table) else t for t in tables]
        others = cl.combined_weight(batched.shape, batched.claims, batched.alphas)
        for m, table in enumerate(fields):
            others = others if m == index else _kernels.fr_mul(others, table)
        coefficients = to_ints(others)
        at = next(i for i, c in enumerate(coefficients) if c)
        current = to_int(_kernels.fr_inner(others, fields[index]))
        entries = to_ints(fields[index])
        entries[at] = (entries[at] + (batched.total - current) * pow(coefficients[at], -1, MODULUS)) % MODULUS
        return [*fields[:index], from_ints(entries), *fields[index + 1 :]]

    return hook


def fitted(values: Sequence[int], claim: int, r: int) -> list[int]:
    """p = s + Δ·(x − r)/(1 − 2r) with Δ = claim − s(0) − s(1): p(0) + p(1) = claim and p(r) = s(r)."""
    delta = (claim - values[0] - values[1]) * pow(1 - 2 * r, -1, MODULUS)
    return [(v + delta * (x - r)) % MODULUS for x, v in enumerate(values)]


@contextlib.contextmanager
def malicious(script: Script) -> Iterator[list[MaliciousProver]]:
    """training.prove runs a MaliciousProver instead of the honest party; yields the parties made."""
    parties: list[MaliciousProver] = []

    def party(channel) -> MaliciousProver:
        parties.append(MaliciousProver(channel, script))
        return parties[-1]

    with pc._patched(training, "ProverParty", party):
        yield parties


def prove_malicious(
    tables: ProverTables, claimed: Statement, script: Script, reuse: pc.Honest | None = None, committed: ProverTables | None = None
) -> tuple[Statement, list[Message]]:
    """Commits the statement's tensors of `committed` (default: `tables`), then proves with the
    malicious prover reading `tables`: a prover may commit one thing and compute with another."""
    (cx, ox), (cy, oy), (c0, o0), (cT, oT) = pc.commitments_of(committed if committed is not None else tables, reuse)
    statement = dataclasses.replace(pc.with_dataset(claimed, c_x=cm.encode(cx), c_y=cm.encode(cy)), c_w0=cm.encode(c0), c_wt=cm.encode(cT))
    with malicious(script), pc.field_bits_prover():
        return statement, training.prove(statement, training.StatementSecrets(ox, oy, o0, oT), tables)


def claimed(h: pc.Honest) -> Statement:
    """The honest statement without its weights' commitments (prove_cheat puts in those of the
    tables, and the data's into its data set's header)."""
    return dataclasses.replace(h.statement, c_w0=b"", c_wt=b"")
