"""Running an inquiry's service-level clock and its escalation schedule.

The arithmetic is pure (``panjereh.sla.clock``, ``panjereh.escalation.ladder``); this module
applies it to a stored inquiry: its deadline, what is left while paused, and the next time the
worker must look at it (``next_action_at``: the next rung of the ladder, or the trader's
deadline while paused, or nothing once the inquiry is closed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.audit import chain
from panjereh.audit.models import Event
from panjereh.auth.principal import SYSTEM
from panjereh.calendars.service import calendar_for
from panjereh.escalation import ladder, policies
from panjereh.escalation.models import EscalationFiring
from panjereh.escalation.policy import EscalationPolicy
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.states import InquiryState
from panjereh.sla import clock
from panjereh.sla.calendar import BusinessCalendar


def policy_of(session: Session, inquiry: Inquiry) -> EscalationPolicy:
    """The ladder the inquiry took at creation."""
    return policies.policy_for(
        session=session, inquiry_type=inquiry.inquiry_type, version=inquiry.policy_version
    )


def calendar_of(session: Session, inquiry: Inquiry) -> BusinessCalendar:
    """The calendar the inquiry's agency office works by."""
    return calendar_for(session=session, agency_code=inquiry.agency_code, province=inquiry.province)


def fired_steps(session: Session, inquiry_id: int) -> set[tuple[int, str]]:
    """The (cycle, step) pairs already fired for an inquiry."""
    rows = session.execute(
        select(EscalationFiring.cycle, EscalationFiring.step).where(
            EscalationFiring.inquiry_id == inquiry_id
        )
    )
    return {(cycle, step) for cycle, step in rows}


def schedule(session: Session, calendar: BusinessCalendar, inquiry: Inquiry) -> list[ladder.Rung]:
    """The inquiry's ladder with times, for its current deadline."""
    return ladder.schedule(
        policy_of(session, inquiry),
        calendar,
        due_at=inquiry.due_at,
        running_since=inquiry.running_since or inquiry.received_at,
        budget_minutes=inquiry.budget_minutes,
    )


def refresh_next_action(
    session: Session, inquiry: Inquiry, calendar: BusinessCalendar, fired: set[tuple[int, str]]
) -> None:
    """Set when the worker must next look at the inquiry."""
    state = InquiryState(inquiry.state)
    if state == InquiryState.INFO_REQUESTED:
        inquiry.next_action_at = inquiry.trader_due_at
    elif state == InquiryState.AWAITING_ANSWER:
        rungs = schedule(session, calendar, inquiry)
        inquiry.next_action_at = ladder.next_rung_at(rungs, fired=fired)
    else:
        inquiry.next_action_at = None


@dataclass(frozen=True, slots=True)
class Opening:
    """A new inquiry's clock: its deadline, budget and first action time."""

    due_at: datetime
    budget_minutes: int
    next_action_at: datetime | None


def opening(
    policy: EscalationPolicy,
    calendar: BusinessCalendar,
    *,
    received_at: datetime,
    started: clock.Started,
) -> Opening:
    """A clock started at receipt, and when its ladder first needs the worker (its first
    rung: rungs come in time order)."""
    first = ladder.schedule(
        policy,
        calendar,
        due_at=started.due_at,
        running_since=received_at,
        budget_minutes=started.budget_minutes,
        limit=1,
    )
    return Opening(started.due_at, started.budget_minutes, first[0].at if first else None)


def resume(
    session: Session, inquiry: Inquiry, calendar: BusinessCalendar, *, at: datetime
) -> tuple[datetime, datetime]:
    """Restart the clock with what was left; returns the deadline before and after."""
    before = inquiry.due_at
    inquiry.due_at = clock.resume(
        calendar, due_at=before, remaining_minutes=inquiry.remaining_minutes or 0, at=at
    )
    inquiry.running_since = at
    inquiry.paused_at = None
    inquiry.trader_due_at = None
    inquiry.calendar_version = calendar.version
    refresh_next_action(session, inquiry, calendar, fired_steps(session, inquiry.id))
    return before, inquiry.due_at


def recompute(
    session: Session,
    inquiry: Inquiry,
    calendar: BusinessCalendar,
    fired: set[tuple[int, str]],
) -> tuple[datetime, datetime] | None:
    """Recompute a running inquiry's deadline on a changed calendar; the (old, new) deadline
    if it moved. A paused inquiry's deadline is recomputed when it resumes."""
    if inquiry.state != InquiryState.AWAITING_ANSWER:
        return None
    old = inquiry.due_at
    if inquiry.running_since in (None, inquiry.received_at):
        started = clock.start(
            calendar, received_at=inquiry.received_at, business_days=inquiry.sla_business_days
        )
        new, inquiry.budget_minutes = started.due_at, started.budget_minutes
        inquiry.remaining_minutes = started.budget_minutes
    else:
        assert inquiry.running_since is not None
        new = clock.resume(
            calendar,
            due_at=old,
            remaining_minutes=inquiry.remaining_minutes or 0,
            at=inquiry.running_since,
        )
    inquiry.calendar_version = calendar.version
    if new == old:
        return None
    inquiry.due_at = new
    refresh_next_action(session, inquiry, calendar, fired)
    return old, new


def receive(session: Session, inquiry_ids: Sequence[int], *, at: datetime) -> int:
    """The agency's system was first tried at ``at``: that is receipt, so a new inquiry's
    clock counts from then. A clock that would give the same deadline is left as it is
    (receipt moved within the same business stretch); otherwise it restarts, and the
    timeline says why. Returns how many deadlines moved."""
    inquiries = session.scalars(
        select(Inquiry).where(
            Inquiry.id.in_(inquiry_ids),
            Inquiry.state == InquiryState.AWAITING_ANSWER.value,
            Inquiry.received_at < at,
            Inquiry.running_since == Inquiry.received_at,
        )
    ).all()
    moved = 0
    for inquiry in inquiries:
        calendar = calendar_of(session, inquiry)
        started = clock.start(calendar, received_at=at, business_days=inquiry.sla_business_days)
        if started.due_at == inquiry.due_at:
            continue
        old = inquiry.due_at
        inquiry.received_at = inquiry.running_since = at
        inquiry.due_at = started.due_at
        inquiry.budget_minutes = inquiry.remaining_minutes = started.budget_minutes
        inquiry.calendar_version = calendar.version
        refresh_next_action(session, inquiry, calendar, fired_steps(session, inquiry.id))
        chain.record(
            session,
            kind="inquiry.deadline_moved",
            at=at,
            actor=SYSTEM,
            declaration_id=inquiry.declaration_id,
            inquiry_id=inquiry.id,
            data={
                "old_due_at": old.isoformat(),
                "new_due_at": started.due_at.isoformat(),
                "calendar_version": calendar.version,
                "reason": "received: first delivery attempt to the agency's system",
            },
        )
        moved += 1
    if moved:
        chain.append_pending(session)
    return moved


def stop(inquiry: Inquiry) -> None:
    """The inquiry is closed: nothing more is due."""
    inquiry.next_action_at = None
    inquiry.trader_due_at = None


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of an inquiry's life: the agency's clock running, or paused on the trader."""

    kind: str  # "running" or "paused"
    start: datetime
    end: datetime | None
    business_minutes: int


_PAUSES = {"inquiry.info_requested"}
_RESUMES = {"inquiry.replied"}
_ENDS = {"inquiry.approved", "inquiry.rejected", "inquiry.withdrawn", "inquiry.lapsed"}


def segments(
    calendar: BusinessCalendar, events: Iterable[Event], *, now: datetime
) -> list[Segment]:
    """The running and paused stretches of an inquiry, from its events (oldest first)."""
    out: list[Segment] = []
    kind, start = None, None
    for event in events:
        if event.kind == "inquiry.created":
            kind, start = "running", event.at
        elif event.kind in _PAUSES | _RESUMES | _ENDS and start is not None and kind:
            out.append(
                Segment(kind, start, event.at, calendar.business_minutes_between(start, event.at))
            )
            kind = "paused" if event.kind in _PAUSES else "running"
            start = None if event.kind in _ENDS else event.at
    if start is not None and kind:
        out.append(Segment(kind, start, None, calendar.business_minutes_between(start, now)))
    return out
