"""The service-level clock and the escalation ladder, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from panjereh.escalation import ladder
from panjereh.escalation.policy import DEFAULT_POLICY, EscalationPolicy
from panjereh.sla import clock
from panjereh.sla.calendar import TEHRAN, iran_calendar

CAL = iran_calendar(years=range(2025, 2029))
SAT_MORNING = datetime(2026, 11, 21, 8, 30, tzinfo=TEHRAN)  # Saturday, a working day


def _running(started: clock.Started, since: datetime) -> dict[str, Any]:
    """The ladder's arguments for a clock started as ``started`` and running since ``since``."""
    return {
        "due_at": started.due_at,
        "running_since": since,
        "budget_minutes": started.budget_minutes,
    }


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 1), timezones=st.just(UTC)
)


@settings(max_examples=200, deadline=None)
@given(
    received=instants,
    days=st.integers(1, 20),
    pause_after=st.integers(0, 20_000),
    pause_for=st.integers(0, 60 * 24 * 40),
)
def test_pausing_never_shortens_the_remaining_budget(
    received: datetime, days: int, pause_after: int, pause_for: int
) -> None:
    started = clock.start(CAL, received_at=received, business_days=days)
    paused_at = received + timedelta(minutes=pause_after)
    paused = clock.pause(CAL, due_at=started.due_at, at=paused_at, trader_business_days=10)
    resumed_at = paused_at + timedelta(minutes=pause_for)
    new_due = clock.resume(
        CAL, due_at=started.due_at, remaining_minutes=paused.remaining_minutes, at=resumed_at
    )
    assert new_due >= started.due_at or pause_for == 0 or paused.remaining_minutes == 0
    if paused.remaining_minutes > 0:
        assert CAL.business_minutes_between(resumed_at, new_due) == paused.remaining_minutes
    else:
        assert new_due == started.due_at
    # What the agency had used before the pause plus what it has after is the whole budget.
    # (Whole minutes, rounded down: a start or pause mid-minute may lose that one minute.)
    used = CAL.business_minutes_between(received, min(paused_at, started.due_at))
    assert abs(used + paused.remaining_minutes - started.budget_minutes) <= 1


def test_a_pause_over_nowruz_moves_the_deadline_past_it() -> None:
    received = datetime(2026, 3, 14, 9, 0, tzinfo=TEHRAN)  # Saturday before Nowruz
    started = clock.start(CAL, received_at=received, business_days=5)
    paused = clock.pause(
        CAL, due_at=started.due_at, at=received + timedelta(hours=2), trader_business_days=10
    )
    resumed = clock.resume(
        CAL,
        due_at=started.due_at,
        remaining_minutes=paused.remaining_minutes,
        at=datetime(2026, 3, 25, 9, 0, tzinfo=TEHRAN),
    )
    assert resumed.astimezone(TEHRAN).date() > datetime(2026, 3, 25).date()
    assert (
        CAL.business_minutes_between(datetime(2026, 3, 25, 9, 0, tzinfo=TEHRAN), resumed)
        == paused.remaining_minutes
    )


def test_default_ladder_times() -> None:
    started = clock.start(CAL, received_at=SAT_MORNING, business_days=5)
    rungs = ladder.schedule(DEFAULT_POLICY, CAL, **_running(started, SAT_MORNING))
    names = [(r.cycle, r.step) for r in rungs]
    assert names[:3] == [(0, "at_risk"), (0, "breached"), (0, "supervisor")]
    assert names[3:] == [(n, "repeat") for n in range(1, 6)]
    at_risk, breached, supervisor = rungs[:3]
    # Due Wednesday 14:30; one business day before is Tuesday 14:30. The budget is 2,040
    # business minutes (Saturday from 08:30, then four full days); 75% of it is spent by
    # Tuesday 13:00, so at-risk fires then, the earlier of the two.
    assert started.due_at.astimezone(TEHRAN) == datetime(2026, 11, 25, 14, 30, tzinfo=TEHRAN)
    assert at_risk.at.astimezone(TEHRAN) == datetime(2026, 11, 24, 13, 0, tzinfo=TEHRAN)
    assert breached.at == started.due_at
    # Two business days past Wednesday: Thursday and Friday are the weekend → Sunday close.
    assert supervisor.at.astimezone(TEHRAN) == datetime(2026, 11, 29, 14, 30, tzinfo=TEHRAN)
    assert [r.level for r in rungs[:3]] == [1, 2, 3]
    assert all(a.at < b.at for a, b in pairwise(rungs))


@settings(max_examples=200, deadline=None)
@given(received=instants, days=st.integers(1, 20), late_by=st.integers(0, 60 * 24 * 30))
def test_rungs_come_in_time_order_from_the_deadlines_step(
    received: datetime, days: int, late_by: int
) -> None:
    # A stretch that started after the deadline (a reply once the budget was spent) puts the
    # steps before the deadline at its start, after the deadline's own step: from that step
    # on, times never decrease, which lets a walk stop at the first rung not due yet.
    started = clock.start(CAL, received_at=received, business_days=days)
    since = min(received + timedelta(minutes=late_by), started.due_at + timedelta(days=10))
    rungs = ladder.schedule(DEFAULT_POLICY, CAL, **_running(started, since))
    assert list(ladder.rungs(DEFAULT_POLICY, CAL, **_running(started, since))) == rungs
    first = ladder.in_order_from(DEFAULT_POLICY)
    assert rungs[first].step == "breached"
    assert all(a.at <= b.at for a, b in pairwise(rungs[first:]))
    assert all(r.at <= rungs[first].at for r in rungs[:first]) or since > started.due_at


def test_due_and_next() -> None:
    started = clock.start(CAL, received_at=SAT_MORNING, business_days=5)
    rungs = ladder.schedule(DEFAULT_POLICY, CAL, **_running(started, SAT_MORNING))
    late = started.due_at + timedelta(minutes=1)
    due = ladder.due_rungs(rungs, fired=set(), now=late)
    assert [r.step for r in due] == ["at_risk", "breached"]
    assert ladder.due_rungs(rungs, fired={(0, "at_risk"), (0, "breached")}, now=late) == []
    assert ladder.next_rung_at(rungs, fired={(0, "at_risk"), (0, "breached")}) == rungs[2].at
    assert ladder.next_rung_at(rungs, fired={(r.cycle, r.step) for r in rungs}) is None


@pytest.mark.parametrize(
    ("steps", "words"),
    [
        (
            [
                {"name": "later", "business_days_after_deadline": 2, "notify": ["supervisor"]},
                {"name": "first", "business_days_after_deadline": 0, "notify": ["agency_head"]},
            ],
            "increasing order",
        ),
        (
            [
                {"name": "first", "business_days_after_deadline": 0, "notify": ["agency_head"]},
                {"name": "first", "business_days_after_deadline": 1, "notify": ["agency_head"]},
            ],
            "unique",
        ),
        (
            [
                {
                    "name": "first",
                    "business_days_after_deadline": 0,
                    "budget_share": 0.5,
                    "notify": ["agency_head"],
                }
            ],
            "before the deadline",
        ),
        (
            [{"name": "first", "business_days_after_deadline": -99, "notify": ["agency_head"]}],
            "greater than or equal",
        ),
        ([{"name": "first", "business_days_after_deadline": 0, "notify": ["the_press"]}], "Input"),
    ],
)
def test_bad_policies_are_refused(steps: list[dict[str, object]], words: str) -> None:
    with pytest.raises(ValidationError, match=words) as refused:
        EscalationPolicy.model_validate({"steps": steps})
    assert refused.value.errors()[0]["loc"][0] == "steps"


def test_negative_repeat_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        EscalationPolicy.model_validate(
            {
                "steps": [
                    {"name": "first", "business_days_after_deadline": 0, "notify": ["agency_head"]}
                ],
                "repeat": {"every_business_days": -1, "max_times": 3, "notify": ["supervisor"]},
            }
        )
    assert refused.value.errors()[0]["loc"][:2] == ("repeat", "every_business_days")
