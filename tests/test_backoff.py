"""The one backoff formula: doubling from the base, capped, and never overflowing."""

from zkdl.backoff import backoff_delay


def test_the_pause_doubles_from_the_base_up_to_the_cap():
    assert [backoff_delay(5.0, n, 600.0) for n in range(9)] == [5, 10, 20, 40, 80, 160, 320, 600, 600]


def test_a_long_outage_stays_at_the_cap():
    assert backoff_delay(0.5, 10**6, 30.0) == 30.0
