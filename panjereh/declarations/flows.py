"""Use cases for declarations: the pre-filing check, filing, and cancelling.

Flows change state and record events but never commit: the request (or job) that calls them
owns the transaction, so a filing and all its inquiries are stored together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from panjereh.agencies.models import Agency
from panjereh.audit import chain
from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.calendars.service import calendar_for
from panjereh.declarations import service
from panjereh.declarations.models import (
    Declaration,
    DeclarationItem,
    DeclarationStatus,
)
from panjereh.declarations.schemas import (
    DeclarationIn,
    DeclarationOut,
    RequiredInquiry,
    RequirementsOut,
)
from panjereh.errors import Forbidden
from panjereh.escalation import policies
from panjereh.exchange import messages
from panjereh.exchange.models import MessageKind
from panjereh.inquiries import clock as inquiry_clock
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.states import InquiryState
from panjereh.rules import engine
from panjereh.rules import service as rules
from panjereh.rules.document import RuleSetDocument
from panjereh.sla import clock
from panjereh.sla.calendar import BusinessCalendar
from panjereh.statements import insert_row


def _filing(payload: DeclarationIn) -> engine.Filing:
    return engine.Filing(
        kind=payload.kind,
        lines=[
            engine.GoodsLine(n, item.hs_code, item.origin_country, item.value, item.currency)
            for n, item in enumerate(payload.items, start=1)
        ],
    )


# The tables themselves: filing inserts rows past the ORM's unit of work.
DECLARATIONS: Table = Declaration.__table__  # type: ignore[assignment]
ITEMS: Table = DeclarationItem.__table__  # type: ignore[assignment]
INQUIRIES: Table = Inquiry.__table__  # type: ignore[assignment]
_INSERT_DECLARATION = insert_row(DECLARATIONS, DECLARATIONS.c.id)
_INSERT_ITEM = insert_row(ITEMS)
_INSERT_INQUIRY = insert_row(INQUIRIES, INQUIRIES.c.id)


@dataclass(frozen=True, slots=True)
class _Planned:
    requirement: engine.Requirement
    calendar: BusinessCalendar
    started: clock.Started


def _plan(
    session: Session,
    payload: DeclarationIn,
    at: datetime,
    rule_set: tuple[int, RuleSetDocument] | None = None,
) -> tuple[int, RuleSetDocument, list[_Planned]]:
    """What filing ``payload`` at ``at`` requires under ``rule_set`` (default: the active one):
    the inquiries, their calendars and clocks."""
    version, document = rule_set or rules.active(session=session)
    planned = []
    starts: dict[tuple[int, int], clock.Started] = {}  # inquiries on one calendar and level
    for req in engine.requirements(document, _filing(payload)):
        calendar = calendar_for(
            session=session,
            agency_code=req.agency_code,
            province=payload.province,
        )
        key = (id(calendar), req.sla_business_days)
        started = starts.get(key)
        if started is None:
            started = starts[key] = clock.start(
                calendar, received_at=at, business_days=req.sla_business_days
            )
        planned.append(_Planned(req, calendar, started))
    return version, document, planned


def check_requirements(
    *,
    session: Session,
    payload: DeclarationIn,
    at: datetime,
    rule_set: tuple[int, RuleSetDocument] | None = None,
) -> RequirementsOut:
    """The pre-filing check: which inquiries filing now would need, why, and by when — under
    the active rule set, or under ``rule_set`` (a stored version an administrator previews)."""
    version, document, planned = _plan(session, payload, at, rule_set)
    agencies = {a.code: a for a in session.scalars(select(Agency))}
    kinds = {t.code: t for t in document.inquiry_types}
    return RequirementsOut(
        rule_set_version=version,
        checked_at=at,
        inquiries=[
            RequiredInquiry(
                inquiry_type=p.requirement.inquiry_type,
                inquiry_type_name_en=kinds[p.requirement.inquiry_type].name_en,
                inquiry_type_name_fa=kinds[p.requirement.inquiry_type].name_fa,
                agency_code=p.requirement.agency_code,
                agency_name_en=agencies[p.requirement.agency_code].name_en,
                agency_name_fa=agencies[p.requirement.agency_code].name_fa,
                rule_codes=p.requirement.rule_codes,
                item_lines=p.requirement.item_lines,
                reason_en=p.requirement.reason_en(version),
                reason_fa=p.requirement.reason_fa(version),
                sla_business_days=p.requirement.sla_business_days,
                due_at=p.started.due_at,
                calendar_version=p.calendar.version,
            )
            for p in planned
        ],
    )


def file_declaration(
    *, session: Session, principal: Principal, payload: DeclarationIn, at: datetime
) -> DeclarationOut:
    """File a declaration: store it with every inquiry it needs, all at the same moment.

    Each inquiry's clock starts at filing and takes its type's active escalation ladder; the
    exchange with the agency's own system, when it arrives, moves the start to the first
    delivery attempt. This is the hottest write in the system, so it inserts rows with a few
    multi-row statements rather than one ORM object at a time, and answers from what it wrote.
    """
    if principal.role != Role.TRADER or principal.id is None:
        raise Forbidden("only traders file declarations")
    version, _, planned = _plan(session, payload, at)
    ladders = policies.active_policies(
        session=session, inquiry_types=[p.requirement.inquiry_type for p in planned]
    )
    status = DeclarationStatus.UNDER_INQUIRY if planned else DeclarationStatus.CLEARED
    declaration: dict[str, Any] = {
        "trader_id": principal.id,
        "kind": payload.kind,
        "customs_office": payload.customs_office,
        "province": payload.province,
        "status": status.value,
        "rule_set_version": version,
        "filed_at": at,
        "closed_at": None if planned else at,
        "version": 1,
    }
    declaration_id: int = _INSERT_DECLARATION.run_returning(session, [declaration])[0].id
    items = [
        {"declaration_id": declaration_id, "line_no": n, **item.model_dump()}
        for n, item in enumerate(payload.items, start=1)
    ]
    _INSERT_ITEM.run_many(session, items)
    inquiries: list[dict[str, Any]] = []
    openings: dict[tuple[int, int, clock.Started], inquiry_clock.Opening] = {}
    for p in planned:
        req = p.requirement
        policy_version, policy = ladders[req.inquiry_type]
        key = (id(policy), id(p.calendar), p.started)
        opening = openings.get(key)
        if opening is None:
            opening = openings[key] = inquiry_clock.opening(
                policy, p.calendar, received_at=at, started=p.started
            )
        inquiries.append(
            {
                "declaration_id": declaration_id,
                "inquiry_type": req.inquiry_type,
                "agency_code": req.agency_code,
                "province": payload.province,
                "state": InquiryState.AWAITING_ANSWER.value,
                "rule_set_version": version,
                "rule_codes": req.rule_codes,
                "reason_en": req.reason_en(version),
                "reason_fa": req.reason_fa(version),
                "item_lines": req.item_lines,
                "sla_business_days": req.sla_business_days,
                "received_at": at,
                "due_at": opening.due_at,
                "calendar_version": p.calendar.version,
                "budget_minutes": opening.budget_minutes,
                "running_since": at,
                "paused_at": None,
                "remaining_minutes": opening.budget_minutes,
                "trader_due_at": None,
                "policy_version": policy_version,
                "escalation_level": 0,
                "next_action_at": opening.next_action_at,
                "assigned_to": None,
                "acknowledged_at": None,
                "decided_at": None,
                "decided_by": None,
                "decision_reason": None,
                "info_request": None,
                "version": 1,
            }
        )
    if inquiries:
        ids = _INSERT_INQUIRY.run_returning(session, inquiries)
        for row, inserted in zip(inquiries, ids, strict=True):
            row["id"] = inserted.id
        messages.tell(
            session,
            inquiries,
            MessageKind.INQUIRY_CREATED,
            at=at,
            extra=lambda: {
                "declaration": messages.declaration_part(
                    {"id": declaration_id, **declaration}, items
                )
            },
        )
    chain.record(
        session,
        kind="declaration.filed",
        at=at,
        actor=principal,
        declaration_id=declaration_id,
        after=status.value,
        data={"items": len(items), "inquiries": len(inquiries), "rule_set_version": version},
    )
    for row in inquiries:
        chain.record(
            session,
            kind="inquiry.created",
            at=at,
            actor=principal,
            declaration_id=declaration_id,
            inquiry_id=row["id"],
            after=row["state"],
            data={
                "agency": row["agency_code"],
                "inquiry_type": row["inquiry_type"],
                "rules": row["rule_codes"],
                "due_at": row["due_at"].isoformat(),
                "calendar_version": row["calendar_version"],
                "policy_version": row["policy_version"],
            },
        )
    events = chain.append_pending(session)
    # Built from the rows just written, in one validation by pydantic-core: three times faster
    # than constructing the 47 models of a 13-line, 16-inquiry filing one by one in Python.
    return DeclarationOut.model_validate(
        {
            "id": declaration_id,
            **declaration,
            "items": items,
            "inquiries": inquiries,
            "timeline": events,
        }
    )


def cancel_declaration(
    *, session: Session, principal: Principal, declaration_id: int, at: datetime
) -> Declaration:
    """Cancel an open declaration: its open inquiries are withdrawn."""
    if principal.role != Role.TRADER:
        raise Forbidden("only the trader who filed a declaration can cancel it")
    service.get_visible(session=session, principal=principal, declaration_id=declaration_id)
    service.cancel(session=session, declaration_id=declaration_id, actor=principal, at=at)
    chain.append_pending(session)
    session.expire_all()
    return service.get_visible(
        session=session, principal=principal, declaration_id=declaration_id, full=True
    )
