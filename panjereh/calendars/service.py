"""Business calendars as the store describes them, built once per change and cached.

An agency's calendar is the official Iranian calendar (``holidays``, country IR) with the
agency's working week, the administrator's closures (national, or for the province the
declaration is in) and corrections of lunar holidays. Every change bumps one revision
counter; each process rebuilds a calendar the first time it is asked for it at a new revision.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.agencies.models import Agency
from panjereh.calendars.models import (
    CalendarRevision,
    ClosureRecord,
    HolidayCorrectionRecord,
    WorkingWeekRecord,
)
from panjereh.db import keep_for_transaction, once_per_transaction
from panjereh.sla.calendar import (
    BusinessCalendar,
    Closure,
    HolidayCorrection,
    WorkingWeek,
    iran_calendar,
    weekend_from_codes,
    working_days_from_weekend,
)
from panjereh.statements import Prepared

# Calendars precompute these years for speed; outside them they still work, more slowly, and
# know no official holidays (see docs/business-time.md).
CALENDAR_YEARS = range(2020, 2036)

_cache: dict[tuple[int, str, str | None], BusinessCalendar] = {}


_SEEN = "panjereh.calendar_revision"
_REVISION = Prepared(select(CalendarRevision.revision).where(CalendarRevision.id == 1))


def revision(*, session: Session) -> int:
    """The current calendar revision (0 before any change), read once per transaction: a
    filing asks for a dozen calendars and the sweep one per inquiry, and none of them should
    cost a query. A change in this transaction (:func:`bump_revision`) updates what is seen."""
    return once_per_transaction(session, _SEEN, lambda: _read_revision(session))


def _read_revision(session: Session) -> int:
    row = _REVISION.first(session)
    return row.revision if row is not None else 0


def bump_revision(*, session: Session) -> int:
    """Mark every cached calendar stale; returns the new revision."""
    current = session.get(CalendarRevision, 1, with_for_update=True)
    if current is None:
        current = CalendarRevision(id=1, revision=0)
        session.add(current)
    current.revision += 1
    session.flush()
    keep_for_transaction(session, _SEEN, current.revision)
    _cache.clear()
    _province_sets.clear()
    return current.revision


def _build(session: Session, agency_code: str, province: str | None) -> BusinessCalendar:
    agency = session.get_one(Agency, agency_code)
    weeks = [
        WorkingWeek(
            effective_from=w.effective_from,
            working_days=working_days_from_weekend(weekend_from_codes(w.weekend)),
            opens=w.opens,
            closes=w.closes,
            cutoff=w.cutoff,
        )
        for w in session.scalars(
            select(WorkingWeekRecord).where(WorkingWeekRecord.agency_code == agency_code)
        )
    ]
    closures = [
        Closure(c.start, c.end, c.reason, c.province)
        for c in session.scalars(select(ClosureRecord).order_by(ClosureRecord.id))
    ]
    corrections = [
        HolidayCorrection(c.moved_from, c.moved_to, c.reason)
        for c in session.scalars(
            select(HolidayCorrectionRecord).order_by(HolidayCorrectionRecord.id)
        )
    ]
    return iran_calendar(
        years=CALENDAR_YEARS,
        weekend=weekend_from_codes(agency.weekend),
        closures=closures,
        corrections=corrections,
        province=province,
        extra_weeks=weeks,
    )


def _provinces_with_closures(session: Session, at_revision: int) -> frozenset[str]:
    key = (at_revision, "", "provinces")
    cached = _province_sets.get(key)
    if cached is None:
        cached = _province_sets[key] = frozenset(
            p for p in session.scalars(select(ClosureRecord.province).distinct()) if p
        )
    return cached


_province_sets: dict[tuple[int, str, str], frozenset[str]] = {}


def calendar_for(*, session: Session, agency_code: str, province: str | None) -> BusinessCalendar:
    """The calendar an agency's office in ``province`` works by, at the current revision.

    A province without closures of its own shares the national calendar, so at most one
    calendar per agency is built unless provinces close.
    """
    current = revision(session=session)
    if province is not None and province not in _provinces_with_closures(session, current):
        province = None
    key = (current, agency_code, province)
    calendar = _cache.get(key)
    if calendar is None:
        if _cache and next(iter(_cache))[0] != current:
            _cache.clear()
            _province_sets.clear()
        built = _build(session, agency_code, province)
        # Agencies that work the same week share one calendar (equal versions are equal
        # calendars), and so its precomputed tables and the clocks a filing computes on it.
        same = next((c for c in _cache.values() if c.version == built.version), None)
        calendar = _cache[key] = same or built
    return calendar


def closures(*, session: Session) -> list[ClosureRecord]:
    """Every closure, newest first."""
    return list(session.scalars(select(ClosureRecord).order_by(ClosureRecord.start.desc())))


def corrections(*, session: Session) -> list[HolidayCorrectionRecord]:
    """Every holiday correction, newest first."""
    return list(
        session.scalars(
            select(HolidayCorrectionRecord).order_by(HolidayCorrectionRecord.moved_from.desc())
        )
    )


def working_weeks(*, session: Session, agency_code: str | None = None) -> list[WorkingWeekRecord]:
    """Working-week changes, by agency and date."""
    query = select(WorkingWeekRecord).order_by(
        WorkingWeekRecord.agency_code, WorkingWeekRecord.effective_from
    )
    if agency_code:
        query = query.where(WorkingWeekRecord.agency_code == agency_code)
    return list(session.scalars(query))
