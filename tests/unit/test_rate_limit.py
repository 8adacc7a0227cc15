"""The per-caller moving window of expensive operations."""

from __future__ import annotations

from collections import Counter

import pytest

from graphql_app.limits import ExpensiveOperationLimiter, LimitExceeded, Measure


def costing(n: int) -> Measure:
    return Measure(rate_limited=Counter({"liveGrantMatches": n}))


def test_the_window_counts_costs_per_caller_and_frees_them_as_they_age():
    limiter = ExpensiveOperationLimiter("3/minute")
    limiter.charge("a", costing(1), now=100.0)
    limiter.charge("a", costing(2), now=110.0)
    with pytest.raises(LimitExceeded) as refused:
        limiter.charge("a", costing(1), now=120.0)
    assert refused.value.code == "RATE_LIMITED"
    assert refused.value.extensions["retryAfter"] == 40  # the charge at 100 leaves the window at 160
    limiter.charge("b", costing(3), now=120.0)  # another caller has its own budget
    limiter.charge("a", costing(1), now=160.5)  # the first charge has aged out
    with pytest.raises(LimitExceeded):
        limiter.charge("a", costing(1), now=161.0)
    limiter.charge("a", costing(0), now=161.0)  # nothing expensive: never refused


def test_an_operation_over_the_whole_budget_is_refused_and_idle_callers_are_forgotten():
    limiter = ExpensiveOperationLimiter("3/minute")
    with pytest.raises(LimitExceeded):
        limiter.charge("a", costing(4), now=0.0)
    for i in range(2000):
        limiter.charge(f"caller {i}", costing(1), now=float(i))
    assert len(limiter._spent) < 1100  # callers idle for a whole window are dropped as charges go on
