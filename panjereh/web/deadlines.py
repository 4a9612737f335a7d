"""Business calendars for showing deadlines: which calendar an inquiry's agency works by.

The pages only *show* time left; they never compute a deadline (the flows do). They ask the
calendar the flows used, ``panjereh.calendars.service.calendar_for`` (agency, province,
closures; cached per calendar revision), once per (agency, province) and request, so a page of
fifty inquiries reads the calendar revision at most once per agency rather than once per row.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from panjereh.calendars.service import calendar_for
from panjereh.formatting import TimeLeft, time_left
from panjereh.sla.calendar import BusinessCalendar


class Calendars:
    """The calendars of one request, by (agency, province)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._memo: dict[tuple[str, str | None], BusinessCalendar] = {}

    def of(self, *, agency_code: str, province: str | None) -> BusinessCalendar:
        """The calendar the agency's office in ``province`` works by."""
        key = (agency_code, province)
        calendar = self._memo.get(key)
        if calendar is None:
            calendar = self._memo[key] = calendar_for(
                session=self.session, agency_code=agency_code, province=province
            )
        return calendar

    def left(
        self,
        *,
        agency_code: str,
        province: str | None,
        due_at: datetime,
        now: datetime,
        tz: ZoneInfo,
    ) -> TimeLeft:
        """Business days left before ``due_at`` (or past it) in the agency's calendar."""
        calendar = self.of(agency_code=agency_code, province=province)
        return time_left(calendar=calendar, due_at=due_at, now=now, tz=tz)
