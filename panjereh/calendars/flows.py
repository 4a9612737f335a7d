"""Changing the calendar: closures, holiday corrections, working weeks — and moving the
deadlines of open inquiries they affect, each move an event with the old and new deadline."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.agencies.models import Agency
from panjereh.audit import chain
from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.calendars.models import ClosureRecord, HolidayCorrectionRecord, WorkingWeekRecord
from panjereh.calendars.service import bump_revision, calendar_for
from panjereh.errors import Forbidden, Invalid, NotFound
from panjereh.inquiries import clock as inquiry_clock
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.states import InquiryState
from panjereh.reference import provinces
from panjereh.sla.calendar import TEHRAN, weekend_from_codes


def _require_admin(principal: Principal) -> None:
    if principal.role is not None and principal.role != Role.ADMIN:
        raise Forbidden("only administrators change calendars")


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, TEHRAN)


def recompute_open_deadlines(
    session: Session,
    *,
    since: date,
    province: str | None,
    agency_code: str | None,
    actor: Principal,
    at: datetime,
    reason: str,
) -> int:
    """Recompute the deadlines of running inquiries that a change from ``since`` can move.

    Only deadlines on or after the first changed day can move, so the query is an index range
    on the agency's open queue, not a scan of history. Returns how many moved.
    """
    query = select(Inquiry).where(
        Inquiry.state == InquiryState.AWAITING_ANSWER.value,
        Inquiry.due_at >= _start_of(since),
    )
    if province:
        query = query.where(Inquiry.province == province)
    if agency_code:
        query = query.where(Inquiry.agency_code == agency_code)
    moved = 0
    for inquiry in session.scalars(query.order_by(Inquiry.id)):
        calendar = calendar_for(
            session=session, agency_code=inquiry.agency_code, province=inquiry.province
        )
        change = inquiry_clock.recompute(
            session, inquiry, calendar, inquiry_clock.fired_steps(session, inquiry.id)
        )
        if change is None:
            continue
        moved += 1
        chain.record(
            session,
            kind="inquiry.deadline_moved",
            at=at,
            actor=actor,
            declaration_id=inquiry.declaration_id,
            inquiry_id=inquiry.id,
            data={
                "old_due_at": change[0].isoformat(),
                "new_due_at": change[1].isoformat(),
                "calendar_version": calendar.version,
                "reason": reason,
            },
        )
    return moved


def _valid_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > 300:
        raise Invalid("a reason of 1 to 300 characters is required", field="reason")
    return reason


def _apply(
    session: Session,
    *,
    principal: Principal,
    at: datetime,
    kind: str,
    data: dict[str, object],
    since: date,
    reason: str,
    province: str | None = None,
    agency_code: str | None = None,
    check: tuple[str, str] | None = None,
) -> int:
    """What every calendar change does after writing its row: mark cached calendars stale,
    build the changed calendar once (``check``: the agency to build and the field to blame if
    the change makes no valid calendar), record the event, move the open deadlines it affects.
    Returns how many moved."""
    bump_revision(session=session)
    if check is not None:
        agency, field = check
        try:
            calendar_for(session=session, agency_code=agency, province=None)
        except ValueError as error:
            raise Invalid(str(error), field=field) from None
    chain.record(session, kind=kind, at=at, actor=principal, data=data)
    moved = recompute_open_deadlines(
        session,
        since=since,
        province=province,
        agency_code=agency_code,
        actor=principal,
        at=at,
        reason=reason,
    )
    chain.append_pending(session)
    return moved


def add_closure(
    *,
    session: Session,
    principal: Principal,
    start: date,
    end: date,
    province: str | None,
    reason: str,
    at: datetime,
) -> tuple[ClosureRecord, int]:
    """Close offices for whole days (nationally, or in one province); returns the closure and
    how many open deadlines moved."""
    _require_admin(principal)
    if end < start:
        raise Invalid("the closure must not end before it starts", field="end")
    if province is not None and province not in provinces():
        raise Invalid(f"{province!r} is not an ISO 3166-2:IR province code", field="province")
    record = ClosureRecord(
        start=start,
        end=end,
        province=province,
        reason=_valid_reason(reason),
        created_at=at,
        created_by=principal.username,
    )
    session.add(record)
    moved = _apply(
        session,
        principal=principal,
        at=at,
        kind="calendar.closure_added",
        data=_closure_data(record),
        since=start,
        province=province,
        reason=f"closure: {record.reason}",
    )
    return record, moved


def remove_closure(*, session: Session, principal: Principal, closure_id: int, at: datetime) -> int:
    """Withdraw a closure; returns how many open deadlines moved back."""
    _require_admin(principal)
    record = session.get(ClosureRecord, closure_id)
    if record is None:
        raise NotFound(f"closure {closure_id} not found")
    session.delete(record)
    return _apply(
        session,
        principal=principal,
        at=at,
        kind="calendar.closure_removed",
        data=_closure_data(record),
        since=record.start,
        province=record.province,
        reason=f"closure withdrawn: {record.reason}",
    )


def _closure_data(record: ClosureRecord) -> dict[str, object]:
    return {
        "start": record.start.isoformat(),
        "end": record.end.isoformat(),
        "province": record.province,
        "reason": record.reason,
    }


def add_correction(
    *,
    session: Session,
    principal: Principal,
    moved_from: date,
    moved_to: date | None,
    reason: str,
    at: datetime,
) -> tuple[HolidayCorrectionRecord, int]:
    """Correct a lunar holiday the ``holidays`` package estimated on the wrong day."""
    _require_admin(principal)
    record = HolidayCorrectionRecord(
        moved_from=moved_from,
        moved_to=moved_to,
        reason=_valid_reason(reason),
        created_at=at,
        created_by=principal.username,
    )
    session.add(record)
    moved = _apply(
        session,
        principal=principal,
        at=at,
        kind="calendar.holiday_corrected",
        data={
            "moved_from": moved_from.isoformat(),
            "moved_to": moved_to.isoformat() if moved_to else None,
            "reason": record.reason,
        },
        since=min(moved_from, moved_to) if moved_to else moved_from,
        reason=f"holiday correction: {record.reason}",
        # Corrections apply to every calendar; building customs' shows whether one is valid.
        check=("IRICA", "moved_from"),
    )
    return record, moved


def add_working_week(
    *,
    session: Session,
    principal: Principal,
    agency_code: str,
    effective_from: date,
    weekend: str,
    opens: time,
    closes: time,
    cutoff: time,
    at: datetime,
) -> tuple[WorkingWeekRecord, int]:
    """Change an agency's working week from a date on."""
    _require_admin(principal)
    if session.get(Agency, agency_code) is None:
        raise NotFound(f"agency {agency_code} does not exist", field="agency_code")
    try:
        weekend_from_codes(weekend)
    except ValueError as error:
        raise Invalid(str(error), field="weekend") from None
    if not opens < closes:
        raise Invalid("offices must open before they close", field="closes")
    if not opens <= cutoff <= closes:
        raise Invalid("the cut-off must fall within working hours", field="cutoff")
    record = WorkingWeekRecord(
        agency_code=agency_code,
        effective_from=effective_from,
        weekend=weekend,
        opens=opens,
        closes=closes,
        cutoff=cutoff,
        created_at=at,
        created_by=principal.username,
    )
    session.add(record)
    moved = _apply(
        session,
        principal=principal,
        at=at,
        kind="calendar.working_week_changed",
        data={
            "agency": agency_code,
            "effective_from": effective_from.isoformat(),
            "weekend": weekend,
            "opens": opens.isoformat(),
            "closes": closes.isoformat(),
            "cutoff": cutoff.isoformat(),
        },
        since=effective_from,
        agency_code=agency_code,
        reason=f"working week of {agency_code} changed",
        check=(agency_code, "effective_from"),
    )
    return record, moved
