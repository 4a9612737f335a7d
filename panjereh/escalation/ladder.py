"""When each rung of an inquiry's ladder is due. Pure: a policy, a calendar and the clock.

Steps before the deadline are placed on the current running segment of the clock (so a pause
moves them with the deadline); steps after it count business time past the deadline. A step
with a budget share fires at the earlier of its two times. Repeats follow the last step.
The level an inquiry reaches is the position of the last step fired (1 = first rung); repeats
and manual escalations stay at the top level.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime

from panjereh.escalation.policy import Audience, EscalationPolicy
from panjereh.sla.calendar import BusinessCalendar


@dataclass(frozen=True, slots=True)
class Rung:
    """One firing the ladder asks for: which, when, to whom, at what level."""

    cycle: int
    step: str
    at: datetime
    notify: tuple[Audience, ...]
    immediate_report: bool
    level: int


def business_day_minutes(calendar: BusinessCalendar, instant: datetime) -> int:
    """How many business minutes one business day has in the week in force at ``instant``."""
    weeks = calendar.weeks
    # One week for all time (the usual case): no need to find the day the instant falls on.
    week = weeks[0] if len(weeks) == 1 else calendar.week_on(instant.astimezone(calendar.tz).date())
    return (week.closes.hour * 60 + week.closes.minute) - (week.opens.hour * 60 + week.opens.minute)


def schedule(
    policy: EscalationPolicy,
    calendar: BusinessCalendar,
    *,
    due_at: datetime,
    running_since: datetime,
    budget_minutes: int,
    limit: int | None = None,
) -> list[Rung]:
    """Every rung of the ladder with its time, in the policy's order: steps, then repeats.
    From the deadline's step on, times never decrease (steps are validated in order); a step
    before the deadline is never placed before the running stretch started, so on a stretch
    that started late it may come after the deadline's. ``limit`` stops after that many."""
    found = rungs(policy, calendar, due_at=due_at, running_since=running_since,
                  budget_minutes=budget_minutes)  # fmt: skip
    return list(found if limit is None else itertools.islice(found, limit))


def in_order_from(policy: EscalationPolicy) -> int:
    """The position of the first rung from which ``rungs`` come in time order: the deadline's
    step (or the first after it), else the first repeat. A walk looking for the rungs due by
    some instant may stop at the first rung from there on that is not due yet."""
    return next(
        (n for n, s in enumerate(policy.steps) if s.business_days_after_deadline >= 0),
        len(policy.steps),
    )


def rungs(
    policy: EscalationPolicy,
    calendar: BusinessCalendar,
    *,
    due_at: datetime,
    running_since: datetime,
    budget_minutes: int,
) -> Iterator[Rung]:
    """The rungs of ``schedule`` one at a time, each computed when it is asked for: a caller
    that needs only those due by some instant stops at the first one after it."""
    day = business_day_minutes(calendar, due_at)
    left = calendar.business_minutes_between(running_since, due_at)
    spent_before = max(0, budget_minutes - left)
    last: Rung | None = None
    for level, step in enumerate(policy.steps, start=1):
        offset = step.business_days_after_deadline * day
        if offset < 0:
            # ``offset`` before the deadline, never before the stretch started (the calendar
            # only walks forward: from the stretch's start, by what is left of it once those
            # minutes are taken off), or earlier when the step's share of the budget is spent
            # first: time only grows with business minutes, so the earlier of the two is the
            # one of fewer minutes.
            minutes = max(0, left + offset)
            if step.budget_share is not None:
                spend = max(0, int(step.budget_share * budget_minutes) - spent_before)
                minutes = min(minutes, spend)
            at = calendar.add_business_minutes(running_since, minutes)
        else:
            at = calendar.add_business_minutes(due_at, offset) if offset else due_at
        last = Rung(0, step.name, at, step.notify, step.immediate_report, level)
        yield last
    if policy.repeat is not None and last is not None:
        for n in range(1, policy.repeat.max_times + 1):
            at = calendar.add_business_minutes(last.at, n * policy.repeat.every_business_days * day)
            yield Rung(n, "repeat", at, policy.repeat.notify, False, last.level)


def due_rungs(
    rungs: list[Rung], *, fired: Collection[tuple[int, str]], now: datetime
) -> list[Rung]:
    """The rungs due by ``now`` that have not fired yet, in order."""
    return [r for r in rungs if r.at <= now and (r.cycle, r.step) not in fired]


def next_rung_at(rungs: list[Rung], *, fired: Collection[tuple[int, str]]) -> datetime | None:
    """When the next rung that has not fired is due (None when the ladder is done)."""
    pending = [r.at for r in rungs if (r.cycle, r.step) not in fired]
    return min(pending) if pending else None
