"""Use cases for inquiries: an agency decides, a trader replies.

Each one is a guarded compare-and-set: the transition must be allowed from the state the
inquiry is in, and the row's version must not have moved since it was read (a concurrent
decision makes the second one a 409). The declaration's status is recomputed in the same
transaction (fan-in).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.agencies.models import InquiryType
from panjereh.audit import chain
from panjereh.auth.models import AGENCY_ROLES, Role
from panjereh.auth.principal import Principal
from panjereh.declarations import service as declarations
from panjereh.declarations.models import Declaration
from panjereh.errors import Conflict, Forbidden, Invalid
from panjereh.inquiries import clock as inquiry_clock
from panjereh.inquiries import service
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.schemas import DecisionIn, ReplyIn
from panjereh.inquiries.states import (
    OPEN_STATES,
    Action,
    InquiryState,
    TransitionRefused,
    next_state,
)

_ACTIONS = {
    "approve": Action.APPROVE,
    "reject": Action.REJECT,
    "request_info": Action.REQUEST_INFO,
}


def _transition(inquiry: Inquiry, action: Action) -> tuple[InquiryState, InquiryState]:
    before = InquiryState(inquiry.state)
    try:
        after = next_state(before, action)
    except TransitionRefused as refused:
        slug = "inquiry-waiting" if before in OPEN_STATES else "inquiry-closed"
        raise Conflict(f"inquiry {inquiry.id}: {refused}", slug=slug) from None
    inquiry.state = after.value
    return before, after


def _lock_declaration(session: Session, inquiry: Inquiry) -> tuple[Declaration, list[Inquiry]]:
    """Lock the inquiry's declaration and read all its inquiries afresh.

    Answers to two inquiries of one declaration must not both judge the fan-in on a view
    that misses the other (write skew: both last approvals would leave it "under inquiry").
    Locking the declaration row first serialises them on PostgreSQL; SQLite's BEGIN
    IMMEDIATE already does.
    """
    declaration = session.scalars(
        select(Declaration)
        .where(Declaration.id == inquiry.declaration_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    inquiries = list(
        session.scalars(
            select(Inquiry)
            .where(Inquiry.declaration_id == inquiry.declaration_id)
            .order_by(Inquiry.id)
            .execution_options(populate_existing=True)
        )
    )
    return declaration, inquiries


def decide(
    *,
    session: Session,
    principal: Principal,
    inquiry_id: int,
    decision: DecisionIn,
    at: datetime,
) -> Inquiry:
    """Record an agency's answer to one of its inquiries."""
    if principal.role not in AGENCY_ROLES:
        raise Forbidden("only the agency an inquiry is addressed to can decide it")
    inquiry = service.get_visible(session=session, principal=principal, inquiry_id=inquiry_id)
    action = _ACTIONS[decision.outcome]
    if action != Action.APPROVE and not decision.reason:
        raise Invalid(
            f"a reason is required to {decision.outcome.replace('_', ' ')}", field="reason"
        )
    declaration, inquiries = _lock_declaration(session, inquiry)
    before, after = _transition(inquiry, action)
    if after == InquiryState.INFO_REQUESTED:
        kind = session.get_one(InquiryType, inquiry.inquiry_type)
        inquiry_clock.pause(
            inquiry,
            inquiry_clock.calendar_of(session, inquiry),
            at=at,
            trader_business_days=kind.trader_reply_business_days,
        )
        inquiry.info_request = {
            "reason": decision.reason,
            "requested_at": at.isoformat(),
            "requested_by": principal.username,
            "trader_due_at": inquiry.trader_due_at.isoformat() if inquiry.trader_due_at else None,
            "remaining_business_minutes": inquiry.remaining_minutes,
        }
    else:
        inquiry.decided_at, inquiry.decided_by = at, principal.id
        inquiry.decision_reason = decision.reason
        inquiry_clock.stop(inquiry)
    chain.record(
        session,
        kind=f"inquiry.{after.value}",
        at=at,
        actor=principal,
        declaration_id=inquiry.declaration_id,
        inquiry_id=inquiry.id,
        before=before.value,
        after=after.value,
        data={"reason": decision.reason} if decision.reason else {},
    )
    declarations.apply_fan_in(
        session=session, declaration=declaration, inquiries=inquiries, actor=principal, at=at
    )
    chain.append_pending(session)
    return inquiry


def reply(
    *, session: Session, principal: Principal, inquiry_id: int, answer: ReplyIn, at: datetime
) -> Inquiry:
    """The trader answers an agency's request for information; the inquiry goes back to it."""
    if principal.role != Role.TRADER:
        raise Forbidden("only the trader who filed the declaration can reply")
    inquiry = service.get_visible(session=session, principal=principal, inquiry_id=inquiry_id)
    declaration, inquiries = _lock_declaration(session, inquiry)
    if inquiry.state != InquiryState.INFO_REQUESTED:
        raise Conflict(f"inquiry {inquiry.id} has not asked for information", slug="nothing-asked")
    before, after = _transition(inquiry, Action.REPLY)
    old_due, new_due = inquiry_clock.resume(
        session, inquiry, inquiry_clock.calendar_of(session, inquiry), at=at
    )
    inquiry.info_request = {
        **(inquiry.info_request or {}),
        "reply": answer.message,
        "replied_at": at.isoformat(),
    }
    chain.record(
        session,
        kind="inquiry.replied",
        at=at,
        actor=principal,
        declaration_id=inquiry.declaration_id,
        inquiry_id=inquiry.id,
        before=before.value,
        after=after.value,
        data={
            "message": answer.message,
            "due_before": old_due.isoformat(),
            "due_after": new_due.isoformat(),
        },
    )
    declarations.apply_fan_in(
        session=session, declaration=declaration, inquiries=inquiries, actor=principal, at=at
    )
    chain.append_pending(session)
    return inquiry
