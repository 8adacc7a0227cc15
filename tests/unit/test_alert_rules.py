"""Properties of the alert rules (graphql_app.matching.alerts), and the reminders' settings checked at start."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphql_app.clock import Clock
from graphql_app.jobs.schedules import Scheduler
from graphql_app.matching.alerts import AlertGrant, AlertSettings, raises_alert

scores = st.floats(min_value=0, max_value=1)
amounts = st.none() | st.integers(min_value=0, max_value=10**9)
settings = st.builds(AlertSettings, st.none() | scores, st.booleans(), amounts)
grants = st.builds(AlertGrant, st.booleans(), amounts, amounts)


@given(settings, grants, scores, scores)
def test_a_higher_score_never_loses_an_alert(company, grant, score, higher):
    low, high = sorted((score, higher))
    if raises_alert(company, grant, low):
        assert raises_alert(company, grant, high)


@given(settings, grants, scores)
def test_alerts_off_raise_nothing_and_filters_only_remove(company, grant, score):
    assert not raises_alert(replace(company, min_score=None), grant, score)
    if raises_alert(company, grant, score):
        assert raises_alert(replace(company, carbon_focused_only=False, min_amount=None), grant, score)


@given(scores, amounts, amounts, st.integers(min_value=0, max_value=10**9))
def test_the_amount_filter_reads_the_largest_award(threshold, amount_min, amount_max, wanted):
    grant = AlertGrant(False, amount_min, amount_max)
    company = AlertSettings(threshold, False, wanted)
    largest = amount_max if amount_max is not None else amount_min
    assert raises_alert(company, grant, 1.0) == (largest is not None and largest >= wanted)


@given(settings, scores)
def test_the_carbon_filter_passes_carbon_focused_grants_only(company, score):
    focused = replace(company, carbon_focused_only=True, min_amount=None)
    assert not raises_alert(focused, AlertGrant(False, None, None), score)
    assert raises_alert(focused, AlertGrant(True, None, None), score) == (
        company.min_score is not None and score >= company.min_score
    )


def test_a_bad_reminder_schedule_stops_the_process_from_starting():
    with pytest.raises(ValueError, match="not a cron expression"):
        Scheduler(None, Clock(), days=7, expression="every hour")
    with pytest.raises(ValueError, match="must not be negative"):
        Scheduler(None, Clock(), days=-1, expression="0 * * * *")
    assert Scheduler(None, Clock(), days=7, expression="0 * * * *").expression == "0 * * * *"
