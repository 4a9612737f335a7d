"""The clock sweep: fire the ladder steps that are due, lapse unanswered requests.

Each inquiry stores ``next_action_at``; the sweep claims the rows whose time has come (an
index range, never a scan), in one short transaction per batch:

- an inquiry waiting on the trader whose trader deadline passed lapses (the declaration is
  refused, the other inquiries withdrawn);
- an inquiry awaiting its agency fires every due step it has not fired, in order, each once:
  a row in ``escalation_firings`` (unique on inquiry, cycle and step), an event on the
  timeline, and notification jobs with dedupe keys, all in the same transaction;
- then ``next_action_at`` moves to the next rung (or to nothing);
- an inquiry whose agency takes pushes but has not been tried yet (the worker was down) is not
  received, so nothing fires: it is looked at again a minute later, by when the push has
  started its clock (``panjereh.inquiries.clock.receive``).

A worker killed mid-batch leaves nothing behind: the transaction rolls back and the rows are
due again. On PostgreSQL rows are claimed with ``FOR UPDATE SKIP LOCKED`` so several workers
share the work; the unique key is the backstop.

The sweep updates an inquiry's schedule columns without bumping its version, so an officer's
answer racing with a reminder is not refused for it; state changes (a lapse) are guarded
compare-and-sets like every other.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from panjereh.audit import chain
from panjereh.auth.principal import SYSTEM
from panjereh.db import is_postgres
from panjereh.declarations import service as declarations
from panjereh.declarations.models import Declaration
from panjereh.escalation.ladder import Rung, due_rungs, next_rung_at
from panjereh.escalation.models import EscalationFiring
from panjereh.escalation.notices import escalation_notice
from panjereh.exchange import messages
from panjereh.exchange.models import MessageKind
from panjereh.inquiries import clock as inquiry_clock
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.states import Action, InquiryState, next_state
from panjereh.notifications.service import notify

IMMEDIATE_REPORT_PATH = "/api/v1/reports/immediate"
RECEIPT_RECHECK = timedelta(minutes=1)


def claim_due(session: Session, *, now: datetime, limit: int) -> list[Inquiry]:
    """Inquiries whose next action is due, locked for this transaction (skipping locked ones
    on PostgreSQL)."""
    query = (
        select(Inquiry)
        .where(Inquiry.next_action_at <= now)
        .order_by(Inquiry.next_action_at)
        .limit(limit)
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def next_due(session: Session) -> datetime | None:
    """The earliest next action time of any inquiry (the worker sleeps until then)."""
    return session.scalar(
        select(Inquiry.next_action_at)
        .where(Inquiry.next_action_at.is_not(None))
        .order_by(Inquiry.next_action_at)
        .limit(1)
    )


def fire(
    session: Session,
    inquiry: Inquiry,
    rung: Rung,
    *,
    now: datetime,
    by: str = SYSTEM.username,
    reason: str | None = None,
) -> None:
    """Record one rung as fired, put it on the timeline and notify its audience."""
    session.add(
        EscalationFiring(
            inquiry_id=inquiry.id,
            cycle=rung.cycle,
            step=rung.step,
            due_at=rung.at,
            fired_at=now,
            fired_by=by,
        )
    )
    data = {
        "cycle": rung.cycle,
        "step": rung.step,
        "due_at": rung.at.isoformat(),
        "notify": list(rung.notify),
        "level": rung.level,
        "immediate_report": rung.immediate_report,
    }
    if reason:
        data["reason"] = reason
    chain.record(
        session,
        kind=f"escalation.{rung.step}",
        at=now,
        actor=SYSTEM,
        declaration_id=inquiry.declaration_id,
        inquiry_id=inquiry.id,
        data=data,
    )
    notice = escalation_notice(inquiry, rung.step, reason=reason)
    if rung.immediate_report:
        notice = replace(notice, link=IMMEDIATE_REPORT_PATH)
    notify(
        session,
        audience=rung.notify,
        agency_code=inquiry.agency_code,
        notice=notice,
        dedupe_key=f"escalation:{inquiry.id}:{rung.cycle}:{rung.step}",
        at=now,
    )


def _escalate(session: Session, inquiry: Inquiry, now: datetime) -> None:
    calendar = inquiry_clock.calendar_of(session, inquiry)
    fired = inquiry_clock.fired_steps(session, inquiry.id)
    rungs = inquiry_clock.schedule(session, calendar, inquiry)
    level = inquiry.escalation_level
    for rung in due_rungs(rungs, fired=fired, now=now):
        fire(session, inquiry, rung, now=now)
        fired.add((rung.cycle, rung.step))
        level = max(level, rung.level)
    session.execute(
        update(Inquiry)
        .where(Inquiry.id == inquiry.id)
        .values(next_action_at=next_rung_at(rungs, fired=fired), escalation_level=level)
        .execution_options(synchronize_session=False)
    )


def _lapse(session: Session, inquiry: Inquiry, now: datetime) -> None:
    locked = session.execute(
        select(Declaration.status, Declaration.version)
        .where(Declaration.id == inquiry.declaration_id)
        .with_for_update(skip_locked=True)
    ).first()
    if locked is None:
        return  # someone is changing the declaration right now; due again next sweep
    before = InquiryState(inquiry.state)
    inquiry.state = next_state(before, Action.LAPSE).value
    inquiry.decided_at = now
    inquiry_clock.stop(inquiry)
    chain.record(
        session,
        kind="inquiry.lapsed",
        at=now,
        actor=SYSTEM,
        declaration_id=inquiry.declaration_id,
        inquiry_id=inquiry.id,
        before=before.value,
        after=inquiry.state,
        data={
            "reason": "the trader did not answer the request for information by "
            f"{inquiry.info_request and inquiry.info_request.get('trader_due_at')}"
        },
    )
    messages.tell(
        session,
        [messages.row_of(inquiry)],
        MessageKind.INQUIRY_LAPSED,
        at=now,
        extra=lambda: {
            "lapsed": {"reason": "the trader did not answer the request for information"}
        },
    )
    declarations.apply_fan_in(
        session=session,
        declaration_id=inquiry.declaration_id,
        locked=(locked[0], locked[1]),
        actor=SYSTEM,
        at=now,
    )


def _defer(session: Session, inquiry: Inquiry, until: datetime) -> None:
    session.execute(
        update(Inquiry)
        .where(Inquiry.id == inquiry.id)
        .values(next_action_at=until)
        .execution_options(synchronize_session=False)
    )


def process(session: Session, inquiry: Inquiry, *, now: datetime) -> None:
    """Do whatever is due for one claimed inquiry."""
    state = InquiryState(inquiry.state)
    if state == InquiryState.INFO_REQUESTED:
        if inquiry.trader_due_at is not None and inquiry.trader_due_at <= now:
            _lapse(session, inquiry, now)
    elif state == InquiryState.AWAITING_ANSWER:
        if messages.awaiting_first_push(session, inquiry.id):
            # Not received yet: its agency's system has not been tried (the worker was down).
            # Its clock will count from that first attempt; look again shortly.
            _defer(session, inquiry, now + RECEIPT_RECHECK)
        else:
            _escalate(session, inquiry, now)
    else:
        session.execute(
            update(Inquiry)
            .where(Inquiry.id == inquiry.id)
            .values(next_action_at=None)
            .execution_options(synchronize_session=False)
        )


def sweep(session: Session, *, now: datetime, limit: int) -> int:
    """One batch: claim what is due and act on it (the caller commits). Returns the count."""
    due = claim_due(session, now=now, limit=limit)
    for inquiry in due:
        process(session, inquiry, now=now)
    chain.append_pending(session)
    return len(due)
