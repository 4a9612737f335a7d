"""Use cases for inquiries: an agency decides, a trader replies.

Each one is a guarded compare-and-set: the transition must be allowed from the state the
inquiry is in, and the row's version must not have moved since it was read (a concurrent
decision makes the second one a 409). The declaration is locked first and its status is
recomputed in the same transaction (fan-in).

Deciding is the most frequent write in the system (one per agency per declaration), so it
works in a handful of SQL statements rather than ORM objects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, distinct, func, select, update
from sqlalchemy.orm import Session, aliased

from panjereh.agencies.models import InquiryType
from panjereh.audit import chain
from panjereh.auth.models import ANSWERING_ROLES, Role
from panjereh.auth.principal import Principal
from panjereh.calendars.service import calendar_for
from panjereh.declarations import service as declarations
from panjereh.declarations.models import Declaration
from panjereh.errors import Conflict, Forbidden, Invalid, NotFound
from panjereh.exchange import messages
from panjereh.exchange.models import MessageKind
from panjereh.inquiries import clock as inquiry_clock
from panjereh.inquiries import service
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.schemas import DecisionIn, InquiryDecided, ReplyIn
from panjereh.inquiries.states import (
    OPEN_STATES,
    Action,
    InquiryState,
    TransitionRefused,
    next_state,
)
from panjereh.sla import clock
from panjereh.statements import Prepared

_ACTIONS = {
    "approve": Action.APPROVE,
    "reject": Action.REJECT,
    "request_info": Action.REQUEST_INFO,
}


def _next(inquiry_id: int, state: str, action: Action) -> tuple[InquiryState, InquiryState]:
    before = InquiryState(state)
    try:
        return before, next_state(before, action)
    except TransitionRefused as refused:
        slug = "inquiry-waiting" if before in OPEN_STATES else "inquiry-closed"
        raise Conflict(f"inquiry {inquiry_id}: {refused}", slug=slug) from None


# Built once: deciding is the most frequent write in the system.
_LOAD_INQUIRY = select(
    Inquiry.declaration_id,
    Inquiry.agency_code,
    Inquiry.state,
    Inquiry.version,
    Inquiry.inquiry_type,
    Inquiry.province,
    Inquiry.due_at,
).where(Inquiry.id == bindparam("inquiry_id"))
_LOAD = Prepared(_LOAD_INQUIRY)
_GUARD = (Inquiry.id == bindparam("inquiry_id")) & (Inquiry.version == bindparam("expected"))
_ANSWER = Prepared(
    update(Inquiry)
    .where(_GUARD)
    .values(
        state=bindparam("state"),
        decided_at=bindparam("at"),
        decided_by=bindparam("by"),
        decision_reason=bindparam("reason"),
        next_action_at=None,
        trader_due_at=None,
        version=bindparam("next_version"),
    )
)
_PAUSE = Prepared(
    update(Inquiry)
    .where(_GUARD)
    .values(
        state=bindparam("state"),
        paused_at=bindparam("at"),
        remaining_minutes=bindparam("left"),
        trader_due_at=bindparam("trader_due"),
        next_action_at=bindparam("trader_due"),
        info_request=bindparam("info_request"),
        version=bindparam("next_version"),
    )
)


# SQLite holds the database's write lock from BEGIN IMMEDIATE, so one joined read is current:
# the inquiry, its declaration, and the states its sibling inquiries are in (for the fan-in).
_Sibling = aliased(Inquiry)
_LOAD_WITH_DECLARATION = Prepared(
    select(
        *_LOAD_INQUIRY.selected_columns,
        Declaration.status,
        Declaration.version.label("d_version"),
        select(func.group_concat(distinct(_Sibling.state)))
        .where(_Sibling.declaration_id == Inquiry.declaration_id, _Sibling.id != Inquiry.id)
        .scalar_subquery()
        .label("siblings"),
    )
    .join(Declaration, Declaration.id == Inquiry.declaration_id)
    .where(Inquiry.id == bindparam("inquiry_id"))
)


def _load_locked(
    session: Session, inquiry_id: int
) -> tuple[Any, tuple[str, int], list[str] | None]:
    """The inquiry, with its declaration locked (PostgreSQL: lock first, then read, since the
    state may move while we wait for the lock); on SQLite also its siblings' states."""
    if session.get_bind().dialect.name == "sqlite":
        row = _LOAD_WITH_DECLARATION.first(session, {"inquiry_id": inquiry_id})
        if row is None:
            return None, ("", 0), None
        siblings = row.siblings.split(",") if row.siblings else []
        return row, (row.status, row.d_version), siblings
    first = _LOAD.first(session, {"inquiry_id": inquiry_id})
    if first is None:
        return None, ("", 0), None
    locked = declarations.lock(session=session, declaration_id=first.declaration_id)
    return _LOAD.first(session, {"inquiry_id": inquiry_id}), locked, None


def _compare_and_set(
    session: Session, statement: Prepared, inquiry_id: int, version: int, **values: Any
) -> None:
    changed = statement.run(
        session,
        {"inquiry_id": inquiry_id, "expected": version, "next_version": version + 1, **values},
    )
    if changed != 1:
        raise Conflict(
            f"inquiry {inquiry_id} changed at the same moment; reload and retry",
            slug="concurrent-change",
        )


def decide(
    *,
    session: Session,
    principal: Principal,
    inquiry_id: int,
    decision: DecisionIn,
    at: datetime,
    provenance: dict[str, Any] | None = None,
) -> InquiryDecided:
    """Record an agency's answer to one of its inquiries (``provenance``: an agency
    system's message id, signature and key, kept in the event)."""
    if principal.role not in ANSWERING_ROLES:
        raise Forbidden("only the agency an inquiry is addressed to can decide it")
    if decision.inquiry_id is not None and decision.inquiry_id != inquiry_id:
        raise Invalid(f"names inquiry {decision.inquiry_id}, not {inquiry_id}", field="inquiry_id")
    if provenance is not None and decision.inquiry_id is None:
        raise Invalid("an agency's system names the inquiry it decides", field="inquiry_id")
    action = _ACTIONS[decision.outcome]
    if action != Action.APPROVE and not decision.reason:
        raise Invalid(
            f"a reason is required to {decision.outcome.replace('_', ' ')}", field="reason"
        )
    row, locked, siblings = _load_locked(session, inquiry_id)
    if row is None:
        raise NotFound(f"inquiry {inquiry_id} not found")
    if row.agency_code != principal.agency_code:
        if principal.role == Role.AGENCY_SYSTEM:
            raise Forbidden(f"this credential acts for {principal.agency_code} only")
        raise NotFound(f"inquiry {inquiry_id} not found")
    state, version = row.state, row.version
    before, after = _next(inquiry_id, state, action)
    info_request = None
    decided_at = None
    if after == InquiryState.INFO_REQUESTED:
        trader_days = session.scalars(
            select(InquiryType.trader_reply_business_days).where(
                InquiryType.code == row.inquiry_type
            )
        ).one()
        calendar = calendar_for(session=session, agency_code=row.agency_code, province=row.province)
        paused = clock.pause(calendar, due_at=row.due_at, at=at, trader_business_days=trader_days)
        info_request = {
            "reason": decision.reason,
            "requested_at": at.isoformat(),
            "requested_by": principal.username,
            "trader_due_at": paused.trader_due_at.isoformat(),
            "remaining_business_minutes": paused.remaining_minutes,
        }
        _compare_and_set(
            session,
            _PAUSE,
            inquiry_id,
            version,
            state=after.value,
            at=at,
            left=paused.remaining_minutes,
            trader_due=paused.trader_due_at,
            info_request=info_request,
        )
    else:
        decided_at = at
        _compare_and_set(
            session,
            _ANSWER,
            inquiry_id,
            version,
            state=after.value,
            at=at,
            by=principal.id,
            reason=decision.reason,
        )
    chain.record(
        session,
        kind=f"inquiry.{after.value}",
        at=at,
        actor=principal,
        declaration_id=row.declaration_id,
        inquiry_id=inquiry_id,
        before=before.value,
        after=after.value,
        data={
            **({"reason": decision.reason} if decision.reason else {}),
            **({"provenance": provenance} if provenance else {}),
        },
    )
    status = declarations.apply_fan_in(
        session=session,
        declaration_id=row.declaration_id,
        locked=locked,
        actor=principal,
        at=at,
        states=None if siblings is None else [*siblings, after.value],
    )
    chain.append_pending(session)
    # Built from the values just written (validating them in pydantic-core costs less than
    # model_construct's Python).
    return InquiryDecided.model_validate(
        {
            "id": inquiry_id,
            "declaration_id": row.declaration_id,
            "agency_code": row.agency_code,
            "inquiry_type": row.inquiry_type,
            "state": after.value,
            "declaration_status": status.value,
            "decided_at": decided_at,
            "decision_reason": decision.reason if decided_at else None,
            "due_at": row.due_at,
            "info_request": info_request,
            "version": version + 1,
        }
    )


def reply(
    *, session: Session, principal: Principal, inquiry_id: int, answer: ReplyIn, at: datetime
) -> Inquiry:
    """The trader answers an agency's request for information; the inquiry goes back to it,
    its clock resuming with what was left."""
    if principal.role != Role.TRADER:
        raise Forbidden("only the trader who filed the declaration can reply")
    inquiry = service.get_visible(session=session, principal=principal, inquiry_id=inquiry_id)
    locked = declarations.lock(session=session, declaration_id=inquiry.declaration_id)
    session.refresh(inquiry)
    if inquiry.state != InquiryState.INFO_REQUESTED:
        raise Conflict(f"inquiry {inquiry.id} has not asked for information", slug="nothing-asked")
    before, after = _next(inquiry.id, inquiry.state, Action.REPLY)
    inquiry.state = after.value
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
    messages.tell(
        session,
        [messages.row_of(inquiry)],
        MessageKind.INQUIRY_REPLIED,
        at=at,
        extra=lambda: {"reply": {"message": answer.message, "replied_at": at.isoformat()}},
    )
    declarations.apply_fan_in(
        session=session,
        declaration_id=inquiry.declaration_id,
        locked=locked,
        actor=principal,
        at=at,
    )
    chain.append_pending(session)
    return inquiry
