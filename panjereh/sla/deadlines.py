"""The one place where an inquiry's deadline is computed.

Every caller (filing, the pre-filing check, the demo loader, the benchmarks) asks
:func:`inquiry_deadline`, so the rule can change in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from panjereh.sla.calendar import BusinessCalendar, iran_calendar, weekend_from_codes

# Calendars are built for a window of years around now; outside it the calendar still works,
# only more slowly (it walks day by day).
CALENDAR_YEARS = range(2020, 2036)


@dataclass(frozen=True, slots=True)
class Deadline:
    """When an answer is due, and which calendar said so."""

    due_at: datetime
    calendar_version: str


@cache
def calendar_for(weekend: str) -> BusinessCalendar:
    """The national business calendar for an agency with the given weekend (e.g. "THU FRI")."""
    return iran_calendar(weekend=weekend_from_codes(weekend), years=CALENDAR_YEARS)


def inquiry_deadline(*, received_at: datetime, business_days: int, weekend: str) -> Deadline:
    """Close of business on the Nth business day of the agency's calendar after receipt."""
    calendar = calendar_for(weekend)
    return Deadline(calendar.deadline(received_at, business_days), calendar.version)
