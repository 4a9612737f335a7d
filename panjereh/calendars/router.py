"""HTTP endpoints for business calendars: readable by every signed-in user, changed by admins."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from panjereh.agencies.models import Agency
from panjereh.api.deps import CurrentPrincipal, NowDep, SessionDep
from panjereh.api.responses import PROBLEMS
from panjereh.calendars import flows, service
from panjereh.calendars.schemas import (
    CalendarOut,
    Change,
    ClosureAdded,
    ClosureIn,
    ClosureOut,
    CorrectionIn,
    CorrectionOut,
    WorkingWeekIn,
    WorkingWeekOut,
)
from panjereh.errors import NotFound
from panjereh.sla.calendar import TEHRAN

router = APIRouter(prefix="/api/v1/calendars", tags=["calendars"], responses=PROBLEMS)

_DAY_CODES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


@router.get("/closures", response_model=list[ClosureOut])
def list_closures(principal: CurrentPrincipal, session: SessionDep) -> list[ClosureOut]:
    """Every closure, newest first."""
    return [ClosureOut.model_validate(c) for c in service.closures(session=session)]


@router.post("/closures", response_model=ClosureAdded, status_code=201)
def add_closure(
    body: ClosureIn, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> ClosureAdded:
    """Close offices for whole days (administrators); open deadlines it affects move, each
    with a "deadline moved" event."""
    record, moved = flows.add_closure(
        session=session,
        principal=principal,
        start=body.start,
        end=body.end,
        province=body.province,
        reason=body.reason,
        at=now,
    )
    session.commit()
    return ClosureAdded(closure=ClosureOut.model_validate(record), deadlines_moved=moved)


@router.delete("/closures/{closure_id}", response_model=Change)
def remove_closure(
    closure_id: int, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> Change:
    """Withdraw a closure (administrators); deadlines it had moved move back."""
    moved = flows.remove_closure(
        session=session, principal=principal, closure_id=closure_id, at=now
    )
    session.commit()
    return Change(deadlines_moved=moved)


@router.get("/corrections", response_model=list[CorrectionOut])
def list_corrections(principal: CurrentPrincipal, session: SessionDep) -> list[CorrectionOut]:
    """Every lunar-holiday correction."""
    return [CorrectionOut.model_validate(c) for c in service.corrections(session=session)]


@router.post("/corrections", response_model=CorrectionOut, status_code=201)
def add_correction(
    body: CorrectionIn, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> CorrectionOut:
    """Correct a lunar holiday's date (administrators)."""
    record, _ = flows.add_correction(
        session=session,
        principal=principal,
        moved_from=body.moved_from,
        moved_to=body.moved_to,
        reason=body.reason,
        at=now,
    )
    session.commit()
    return CorrectionOut.model_validate(record)


@router.get("/working-weeks", response_model=list[WorkingWeekOut])
def list_working_weeks(
    principal: CurrentPrincipal, session: SessionDep, agency: str | None = None
) -> list[WorkingWeekOut]:
    """Changes to agencies' working weeks."""
    return [
        WorkingWeekOut.model_validate(w)
        for w in service.working_weeks(session=session, agency_code=agency)
    ]


@router.post("/working-weeks", response_model=WorkingWeekOut, status_code=201)
def add_working_week(
    body: WorkingWeekIn, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> WorkingWeekOut:
    """Change an agency's working week from a date on (administrators)."""
    record, _ = flows.add_working_week(
        session=session,
        principal=principal,
        agency_code=body.agency_code,
        effective_from=body.effective_from,
        weekend=body.weekend,
        opens=body.opens,
        closes=body.closes,
        cutoff=body.cutoff,
        at=now,
    )
    session.commit()
    return WorkingWeekOut.model_validate(record)


@router.get("/{agency_code}", response_model=CalendarOut)
def agency_calendar(
    agency_code: str,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    province: str | None = None,
    days: Annotated[int, Query(ge=1, le=366, description="how far ahead to list days off")] = 60,
) -> CalendarOut:
    """An agency's calendar: its version, the week in force and the days off ahead."""
    if session.get(Agency, agency_code) is None:
        raise NotFound(f"agency {agency_code} does not exist")
    calendar = service.calendar_for(session=session, agency_code=agency_code, province=province)
    today = now.astimezone(TEHRAN).date()
    week = calendar.week_on(today)
    off = []
    for n in range(days):
        day = today + timedelta(days=n)
        if not calendar.is_business_day(day) and day.weekday() in week.working_days:
            off.append((day, calendar.holidays.get(day, "closure")))
    return CalendarOut(
        agency_code=agency_code,
        province=province,
        version=calendar.version,
        weekend=" ".join(c for i, c in enumerate(_DAY_CODES) if i not in week.working_days),
        opens=week.opens,
        closes=week.closes,
        cutoff=week.cutoff,
        days_off=off,
    )
