"""Reading an inquiry's clock and ladder."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.audit.models import Event
from panjereh.escalation.schemas import ClockOut, RungOut, SegmentOut
from panjereh.inquiries import clock as inquiry_clock
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.states import OPEN_STATES, InquiryState


def clock_view(*, session: Session, inquiry: Inquiry, now: datetime) -> ClockOut:
    """Everything about an inquiry's clock and ladder, for people and agency systems."""
    calendar = inquiry_clock.calendar_of(session, inquiry)
    events = session.scalars(
        select(Event).where(Event.inquiry_id == inquiry.id).order_by(Event.seq)
    ).all()
    segments = inquiry_clock.segments(calendar, events, now=now)
    fired = inquiry_clock.fired_steps(session, inquiry.id)
    rungs = inquiry_clock.schedule(session, calendar, inquiry)
    open_state = inquiry.state in OPEN_STATES
    paused = inquiry.state == InquiryState.INFO_REQUESTED
    if paused:
        remaining = inquiry.remaining_minutes or 0
    elif open_state:
        remaining = calendar.business_minutes_between(now, inquiry.due_at)
    else:
        remaining = 0
    return ClockOut(
        inquiry_id=inquiry.id,
        state=inquiry.state,
        received_at=inquiry.received_at,
        due_at=inquiry.due_at,
        paused=paused,
        trader_due_at=inquiry.trader_due_at,
        budget_business_minutes=inquiry.budget_minutes,
        agency_business_minutes=sum(s.business_minutes for s in segments if s.kind == "running"),
        remaining_business_minutes=remaining,
        overdue=open_state and not paused and inquiry.due_at < now,
        calendar_version=inquiry.calendar_version,
        policy_version=inquiry.policy_version,
        escalation_level=inquiry.escalation_level,
        acknowledged_at=inquiry.acknowledged_at,
        assigned_to=inquiry.assigned_to,
        next_action_at=inquiry.next_action_at,
        segments=[
            SegmentOut(kind=s.kind, start=s.start, end=s.end, business_minutes=s.business_minutes)
            for s in segments
        ],
        ladder=[
            RungOut(
                cycle=r.cycle,
                step=r.step,
                due_at=r.at,
                notify=list(r.notify),
                level=r.level,
                fired=(r.cycle, r.step) in fired,
            )
            for r in rungs
        ]
        + [
            RungOut(
                cycle=c,
                step=s,
                due_at=inquiry.due_at,
                notify=["supervisor"],
                level=inquiry.escalation_level,
                fired=True,
            )
            for c, s in sorted(fired)
            if s == "manual"
        ],
    )
