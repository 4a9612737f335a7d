"""What people do about escalations: escalate by hand, acknowledge, reassign."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.audit import chain
from panjereh.auth.models import Role, User
from panjereh.auth.principal import Principal
from panjereh.errors import Conflict, Forbidden, Invalid, NotFound
from panjereh.escalation.ladder import Rung
from panjereh.escalation.models import EscalationFiring
from panjereh.escalation.notices import escalation_notice
from panjereh.escalation.sweep import fire
from panjereh.inquiries import clock as inquiry_clock
from panjereh.inquiries import service as inquiries
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.states import OPEN_STATES
from panjereh.notifications.service import notify

MANUAL = "manual"


def _open_inquiry(session: Session, principal: Principal, inquiry_id: int) -> Inquiry:
    inquiry = inquiries.get_visible(session=session, principal=principal, inquiry_id=inquiry_id)
    session.refresh(inquiry, with_for_update=True)
    if inquiry.state not in OPEN_STATES:
        raise Conflict(
            f"inquiry {inquiry_id} is {inquiry.state}; there is nothing to escalate",
            slug="inquiry-closed",
        )
    return inquiry


def escalate(
    *, session: Session, principal: Principal, inquiry_id: int, reason: str, at: datetime
) -> Inquiry:
    """Send an open inquiry straight to the national supervisor (agency heads, supervisors)."""
    if principal.role not in (Role.AGENCY_HEAD, Role.SUPERVISOR):
        raise Forbidden("only an agency head or a supervisor can escalate by hand")
    if not reason.strip():
        raise Invalid("a reason is required to escalate", field="reason")
    inquiry = _open_inquiry(session, principal, inquiry_id)
    cycle = 1 + (
        session.scalar(
            select(func.count())
            .select_from(EscalationFiring)
            .where(EscalationFiring.inquiry_id == inquiry.id, EscalationFiring.step == MANUAL)
        )
        or 0
    )
    top = len(inquiry_clock.policy_of(session, inquiry).steps)
    fire(
        session,
        inquiry,
        Rung(cycle, MANUAL, at, ("supervisor",), True, top),
        now=at,
        by=principal.username,
        reason=reason,
    )
    inquiry.escalation_level = max(inquiry.escalation_level, top)
    chain.append_pending(session)
    return inquiry


def acknowledge(
    *, session: Session, principal: Principal, inquiry_id: int, at: datetime
) -> Inquiry:
    """The agency says it has seen the escalation and is on it."""
    if principal.role not in (Role.OFFICER, Role.AGENCY_HEAD):
        raise Forbidden("only the agency the inquiry is addressed to can acknowledge it")
    inquiry = _open_inquiry(session, principal, inquiry_id)
    if inquiry.escalation_level == 0:
        raise Conflict(f"inquiry {inquiry_id} has not been escalated", slug="not-escalated")
    inquiry.acknowledged_at = at
    chain.record(
        session,
        kind="escalation.acknowledged",
        at=at,
        actor=principal,
        declaration_id=inquiry.declaration_id,
        inquiry_id=inquiry.id,
        data={"level": inquiry.escalation_level},
    )
    chain.append_pending(session)
    return inquiry


def assign(
    *, session: Session, principal: Principal, inquiry_id: int, officer: str, at: datetime
) -> Inquiry:
    """An agency head gives an open inquiry to one of the agency's officers."""
    if principal.role != Role.AGENCY_HEAD:
        raise Forbidden("only the agency head can reassign inquiries")
    inquiry = _open_inquiry(session, principal, inquiry_id)
    user = session.scalars(select(User).where(User.username == officer)).first()
    if user is None or user.role != Role.OFFICER or user.agency_code != inquiry.agency_code:
        raise NotFound(f"no officer {officer!r} in {inquiry.agency_code}", field="officer")
    before = inquiry.assigned_to
    inquiry.assigned_to = user.id
    chain.record(
        session,
        kind="inquiry.assigned",
        at=at,
        actor=principal,
        declaration_id=inquiry.declaration_id,
        inquiry_id=inquiry.id,
        data={"officer": user.username, "previous": before},
    )
    notify(
        session,
        audience=(),
        agency_code=inquiry.agency_code,
        notice=escalation_notice(inquiry, "assigned"),
        dedupe_key=f"assigned:{inquiry.id}:{inquiry.version}:{user.id}",
        at=at,
        users=[user],
    )
    chain.append_pending(session)
    return inquiry
