"""The service-level clock of one inquiry, as pure functions over a business calendar.

Decisions (ENGINE.md, "Service-level clock"):

- The clock counts business minutes of the agency's calendar; one business day is the
  minutes between opening and closing, never 24 hours.
- It starts at receipt (the first delivery attempt, or the filing). Day 1 is the day of
  receipt if that is a business day and receipt is before the cut-off; the deadline is close
  of business on the Nth business day. The budget is the business minutes from receipt to
  that deadline.
- A request for information pauses it: what is left of the budget is kept. The trader's
  reply resumes it with exactly that remainder, so pausing never shortens (or lengthens)
  what the agency had left; the new deadline is the remainder added to the moment of reply.
- An inquiry already overdue when it pauses keeps its original deadline: a pause does not
  cure lateness, and the time the trader spends does not count against the agency either
  (the dashboard measures agency time without paused segments).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from panjereh.sla.calendar import BusinessCalendar


@dataclass(frozen=True, slots=True)
class Started:
    """A running clock: its deadline and whole budget."""

    due_at: datetime
    budget_minutes: int


@dataclass(frozen=True, slots=True)
class Paused:
    """A paused clock: what was left, and when the trader's answer is due."""

    remaining_minutes: int
    trader_due_at: datetime


def start(calendar: BusinessCalendar, *, received_at: datetime, business_days: int) -> Started:
    """Start the clock at receipt with a service level of ``business_days``."""
    due_at = calendar.deadline(received_at, business_days)
    budget = calendar.business_minutes_between(received_at, due_at)
    return Started(due_at, budget)


def pause(
    calendar: BusinessCalendar, *, due_at: datetime, at: datetime, trader_business_days: int
) -> Paused:
    """Stop the clock at ``at``; the trader has ``trader_business_days`` to answer."""
    remaining = calendar.business_minutes_between(at, due_at) if at < due_at else 0
    return Paused(remaining, calendar.deadline(at, trader_business_days))


def resume(
    calendar: BusinessCalendar, *, due_at: datetime, remaining_minutes: int, at: datetime
) -> datetime:
    """The deadline after resuming at ``at`` with ``remaining_minutes`` left.

    With nothing left (the inquiry was overdue when it paused) the original deadline stands.
    """
    if remaining_minutes <= 0:
        return due_at
    return calendar.add_business_minutes(at, remaining_minutes)
