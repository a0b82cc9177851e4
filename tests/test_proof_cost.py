"""A verifier's cost is known before it starts (zkdl.proof.cost), public tables with closed forms are
never materialised for the verifier (zkdl.proof.claims), and the decoder counts before it builds
(zkdl.proof.bundle). The resource attacks of a hostile registration (a small bundle claiming 2^24
samples, 2^24 empty messages) are refused within a stated budget of time and memory, measured
here with generous margins (the machine is shared: these are bounds, not benchmarks)."""

from __future__ import annotations

import dataclasses
import random
import struct
import time
import tracemalloc
from pathlib import Path

import pytest
from eth_utils import to_checksum_address

from zkdl import backend
from zkdl.backend import MODULUS
from zkdl.chain.structs import Model
from zkdl.proof import claims as cl
from zkdl.proof import training
from zkdl.proof.bundle import MAGIC, MAX_MESSAGES, MESSAGE_OVERHEAD, VERSION, Bundle, BundleFormatError
from zkdl.proof.cost import budget_refusal, verifier_cost
from zkdl.proof.layout import Layout
from zkdl.proof.statement import Init, Statement
from zkdl.service.config import ConfigError, ServiceConfig, load_config
from zkdl.service.report import OVER_BUDGET, VALID, check_bundle

GOLDEN = Path(__file__).parent / "vectors" / "golden.zkdl"


@pytest.fixture(scope="module")
def golden() -> Bundle:
    return Bundle.decode(GOLDEN.read_bytes())


def _measured(run) -> tuple[object, float, int]:
    """What `run()` returns, its seconds and its peak of Python allocations (tracemalloc)."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = run()
        return result, time.perf_counter() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _reshaped(statement: Statement, *, samples: int | None = None, widths=None, batch=None, steps=None, init=None) -> Statement:
    """The statement with other sizes (its commitments unchanged: only the price is asked of it)."""
    widths = tuple(widths or statement.widths)
    dataset = dataclasses.replace(statement.dataset, samples=samples or statement.n_train, features=widths[0], classes=widths[-1])
    return dataclasses.replace(
        statement, widths=widths, batch=batch or statement.batch, steps=steps or statement.steps,
        c_data=dataset.encode(), init=statement.init if init is None else init,
    )  # fmt: skip


# Closed forms: each equals the extension of the table it stands for.


def _point(n: int) -> list[int]:
    rng = random.Random(n)
    return [rng.randrange(MODULUS) for _ in range(n)]


@pytest.mark.parametrize("log_size", [0, 1, 3, 6])
def test_the_closed_forms_are_the_extensions_of_their_tables(log_size):
    point, at = _point(log_size), _point(log_size + 100)[:log_size]
    rng = random.Random(log_size)
    factors = [cl.eq_factor("a", point), cl.onehot_factor("a", rng.randrange(1 << log_size), log_size)]
    sizes = {0, 1, (1 << log_size) - 1, 1 << log_size, rng.randrange(1 << log_size)}
    factors += [cl.prefix_factor("a", n, log_size) for n in sizes] + [cl.masked_eq_factor("a", point, n) for n in sizes]
    entries = {rng.randrange(1 << log_size): rng.randrange(MODULUS) for _ in range(5)}
    factors.append(cl.sparse_factor("a", entries, log_size))
    for factor in factors:
        closed = factor.at(at)
        assert closed == backend.mle_evaluate(backend.from_ints(factor.table), at)
        assert backend.to_ints(factor.vector()) == list(factor.table)  # the prover's field vector (EqFactor: the kernels')


def test_the_verifier_evaluates_a_statement_of_2_24_samples_without_its_tables():
    """The selection table over 2^24 samples from the schedule's entries, the samples' eq table and
    prefix mask in O(log): none of the 2^24-entry tables is built."""
    log = 24
    at = _point(log)
    factors = [
        cl.sparse_factor("sample", {5: 7, (1 << log) - 1: 3}, log),
        cl.eq_factor("sample", _point(log + 1)[:log]),
        cl.prefix_factor("sample", 3 << 22, log),
    ]
    values, seconds, peak = _measured(lambda: [f.at(at) for f in factors])
    assert seconds < 5 and peak < 16 << 20, (seconds, peak)
    assert values[0] == (7 * cl.eq_at([1, 0, 1] + [0] * 21, at) + 3 * cl.eq_at([1] * 24, at)) % MODULUS
    assert all(f._built is None for f in factors)  # the tables were never built


# The price of a verification.


def test_the_price_bounds_a_measured_verification(golden):
    price = verifier_cost(golden.statement, golden.messages[0].scalars[0])
    _, seconds, peak = _measured(lambda: training.verify(golden.statement, list(golden.messages)))
    assert seconds < price.seconds and peak < price.bytes, (seconds, peak, price)


def test_the_price_grows_with_every_size_the_statement_claims(golden):
    base = verifier_cost(golden.statement, 1)
    st = golden.statement
    for bigger in (
        _reshaped(st, samples=1 << 20),
        _reshaped(st, steps=64),
        _reshaped(st, batch=16),
        _reshaped(st, widths=(6, 1024, 5, 3)),
        _reshaped(st, widths=(6, 8, 8, 8, 8, 5, 3)),
        _reshaped(st, init=Init.SEEDED if st.init != Init.SEEDED else Init.UNCONSTRAINED),
    ):
        price = verifier_cost(bigger, 1)
        assert price.seconds != base.seconds and price.bytes != base.bytes
        if bigger.init == st.init:
            assert price.seconds > base.seconds and price.bytes > base.bytes, bigger
    assert verifier_cost(_reshaped(st, steps=64), 64).seconds < verifier_cost(_reshaped(st, steps=64), 1).seconds  # fewer chunks


def test_the_default_budget_admits_the_papers_shape(golden):
    paper = _reshaped(golden.statement, widths=(3072,) + (1024,) * 8 + (10,), batch=64, steps=1024, samples=50_000, init=Init.SEEDED)
    paper = dataclasses.replace(paper, frac_bits=12, lr_exp=16)
    config = ServiceConfig()
    assert verifier_cost(paper, 32).over(config.max_verify_s, config.max_verify_bytes) is None


def test_a_small_bundle_claiming_2_24_samples_is_refused_before_anything_is_built(golden):
    claimed = _reshaped(golden.statement, samples=1 << 24)
    data = Bundle(claimed, golden.messages).encode()
    assert len(data) < 200_000
    reason, seconds, peak = _measured(lambda: budget_refusal(Bundle.decode(data).statement, golden.messages, 30, 4 << 30))
    assert reason is not None and "above this verifier's budget of 30 s" in reason
    assert seconds < 5 and peak < 64 << 20, (seconds, peak)
    assert verifier_cost(claimed, 1).scheduled_samples == 1 << 24  # the schedule permutes every sample


def test_a_budget_refusal_is_no_verdict_and_the_same_bundle_within_budget_is_valid(golden):
    data = GOLDEN.read_bytes()
    st = golden.statement
    digests = st.commitment_digests()
    model = Model(
        b"\x01" * 32, to_checksum_address(st.owner), 1, 0, digests["c_data"], digests["c_w0"], digests["c_wt"],
        st.digest(), Bundle.decode(data).digest(), b"\x00" * 32, "file:///golden.zkdl", "", st.parent,
    )  # fmt: skip
    refused = check_bundle(model, data, max_seconds=0.001)
    assert (refused.verdict, refused.code) == (OVER_BUDGET, "over-budget") and "budget of 0.001 s" in refused.reason
    assert refused.verify_seconds is None  # nothing was verified
    assert check_bundle(model, data, max_bytes=1 << 20).verdict == OVER_BUDGET
    assert check_bundle(model, data).verdict == VALID


@pytest.mark.parametrize("name", ["max_verify_s", "max_verify_bytes"])
def test_a_budget_must_be_positive(name):
    with pytest.raises(ConfigError, match=name):
        load_config(env={}, overrides={name: 0})


# The decoder counts before it builds.


def _with_messages(statement: Statement, count: int, claimed: int | None = None) -> bytes:
    """A bundle of `count` empty one-letter messages, its count field saying `claimed`."""
    head = statement.encode()
    body = struct.pack(">I", count if claimed is None else claimed) + b"\x01x\x01\x00\x00\x00\x00" * count
    return MAGIC + struct.pack(">HI", VERSION, len(head)) + head + body


def _refusal(data: bytes) -> str:
    with pytest.raises(BundleFormatError) as refused:
        Bundle.decode(data)
    return refused.value.user_message


def test_2_24_empty_messages_are_refused_before_any_is_built(golden):
    data = _with_messages(golden.statement, 1 << 24)  # 117 MB
    reason, seconds, peak = _measured(lambda: _refusal(data))
    assert "more than 1048576" in str(reason)
    assert seconds < 5 and peak < len(data) + (16 << 20), (seconds, peak)  # one copy of the bytes, no message


def test_a_message_count_the_bytes_cannot_hold_is_refused_at_once(golden):
    data = _with_messages(golden.statement, 10, claimed=MAX_MESSAGES)
    assert _refusal(data).startswith("bundle truncated in the messages")


def test_the_messages_a_bundle_may_hold_decode_within_the_stated_memory(golden):
    count = 1 << 16
    data = _with_messages(golden.statement, count)
    decoded, seconds, peak = _measured(lambda: Bundle.decode(data))
    assert len(decoded.messages) == count
    assert peak < 2 * len(data) + count * MESSAGE_OVERHEAD, peak
    assert seconds < 30


def test_the_selection_is_sparse_in_the_layout_of_a_real_statement(golden):
    lay = Layout.of(golden.statement)
    from zkdl.proof.selection import selection

    steps, rows = cl.prefix_factor("step", lay.steps, lay.log_steps), cl.eq_factor("row", _point(lay.log_batch))
    table = selection(lay, steps, rows)
    dense = [0] * (1 << lay.log_samples)
    for scheduled in lay.schedule.tolist():
        for b, n in enumerate(scheduled):
            dense[n] = (dense[n] + rows.table[b]) % MODULUS
    assert table.table == tuple(dense)
