"""Escalation policies: the active version per inquiry type, and new versions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from panjereh.agencies.models import InquiryType
from panjereh.audit.models import Event
from panjereh.errors import NotFound
from panjereh.escalation.models import EscalationPolicyRecord
from panjereh.escalation.policy import DEFAULT_POLICY, EscalationPolicy
from panjereh.escalation.schemas import ClockOut, RungOut, SegmentOut
from panjereh.inquiries import clock as inquiry_clock
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.states import OPEN_STATES, InquiryState

DEFAULT_VERSION = 0
"""The version number of the built-in default ladder, used until an administrator sets one."""

_parsed: dict[int, EscalationPolicy] = {}


def _policy(record: EscalationPolicyRecord) -> EscalationPolicy:
    policy = _parsed.get(record.id)
    if policy is None:
        policy = _parsed[record.id] = EscalationPolicy.model_validate(record.document)
    return policy


def active_policies(
    *, session: Session, inquiry_types: Iterable[str]
) -> dict[str, tuple[int, EscalationPolicy]]:
    """The active ladder (version, policy) of each inquiry type; the default where none is set."""
    wanted = set(inquiry_types)
    found = {
        r.inquiry_type: (r.version, _policy(r))
        for r in session.scalars(
            select(EscalationPolicyRecord).where(
                EscalationPolicyRecord.is_active,
                EscalationPolicyRecord.inquiry_type.in_(wanted),
            )
        )
    }
    return {t: found.get(t, (DEFAULT_VERSION, DEFAULT_POLICY)) for t in wanted}


def versions(*, session: Session, inquiry_type: str) -> list[EscalationPolicyRecord]:
    """Every stored version of an inquiry type's ladder, newest first."""
    return list(
        session.scalars(
            select(EscalationPolicyRecord)
            .where(EscalationPolicyRecord.inquiry_type == inquiry_type)
            .order_by(EscalationPolicyRecord.version.desc())
        )
    )


def add_version(
    *, session: Session, inquiry_type: str, policy: EscalationPolicy, by: str, at: datetime
) -> EscalationPolicyRecord:
    """Store ``policy`` as the next version for ``inquiry_type`` and make it active."""
    if session.get(InquiryType, inquiry_type) is None:
        raise NotFound(f"inquiry type {inquiry_type} does not exist", field="inquiry_type")
    latest = (
        session.scalar(
            select(func.max(EscalationPolicyRecord.version)).where(
                EscalationPolicyRecord.inquiry_type == inquiry_type
            )
        )
        or DEFAULT_VERSION
    )
    session.execute(
        update(EscalationPolicyRecord)
        .where(EscalationPolicyRecord.inquiry_type == inquiry_type)
        .values(is_active=False)
    )
    record = EscalationPolicyRecord(
        inquiry_type=inquiry_type,
        version=latest + 1,
        document=policy.model_dump(mode="json"),
        is_active=True,
        created_at=at,
        created_by=by,
    )
    session.add(record)
    session.flush()
    return record


def clock_view(*, session: Session, inquiry: Inquiry, now: datetime) -> ClockOut:
    """Everything about an inquiry's clock and ladder, for people and agency systems."""
    calendar = inquiry_clock.calendar_of(session, inquiry)
    events = session.scalars(
        select(Event).where(Event.inquiry_id == inquiry.id).order_by(Event.seq)
    ).all()
    segments = inquiry_clock.segments(calendar, events, now=now)
    fired = inquiry_clock.fired_steps(session, inquiry.id)
    rungs = inquiry_clock.schedule(calendar, inquiry)
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
