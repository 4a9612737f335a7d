"""Use cases for declarations: the pre-filing check, filing, and cancelling.

Flows change state and record events but never commit: the request (or job) that calls them
owns the transaction, so a filing and all its inquiries are stored together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.agencies.models import Agency, InquiryType
from panjereh.audit import chain
from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.calendars.service import calendar_for
from panjereh.declarations import service
from panjereh.declarations.models import (
    OPEN_DECLARATION_STATUSES,
    Declaration,
    DeclarationItem,
    DeclarationStatus,
)
from panjereh.declarations.schemas import DeclarationIn, RequiredInquiry, RequirementsOut
from panjereh.errors import Conflict, Forbidden
from panjereh.escalation import service as escalation
from panjereh.inquiries import clock as inquiry_clock
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.states import InquiryState
from panjereh.rules import engine
from panjereh.rules import service as rules
from panjereh.sla import clock
from panjereh.sla.calendar import BusinessCalendar


def _filing(payload: DeclarationIn) -> engine.Filing:
    return engine.Filing(
        kind=payload.kind,
        lines=[
            engine.GoodsLine(n, item.hs_code, item.origin_country, item.value, item.currency)
            for n, item in enumerate(payload.items, start=1)
        ],
    )


@dataclass(frozen=True, slots=True)
class _Planned:
    required: RequiredInquiry
    calendar: BusinessCalendar


def _plan(session: Session, payload: DeclarationIn, at: datetime) -> tuple[int, list[_Planned]]:
    """What filing ``payload`` at ``at`` requires: the inquiries, with reasons and deadlines."""
    version, document = rules.active(session=session)
    needed = engine.requirements(document, _filing(payload))
    agency_rows = {a.code: a for a in session.scalars(select(Agency))}
    type_rows = {t.code: t for t in session.scalars(select(InquiryType))}
    planned = []
    for req in needed:
        agency, kind = agency_rows[req.agency_code], type_rows[req.inquiry_type]
        calendar = calendar_for(session=session, agency_code=agency.code, province=payload.province)
        started = clock.start(calendar, received_at=at, business_days=req.sla_business_days)
        required = RequiredInquiry(
            inquiry_type=kind.code,
            inquiry_type_name_en=kind.name_en,
            inquiry_type_name_fa=kind.name_fa,
            agency_code=agency.code,
            agency_name_en=agency.name_en,
            agency_name_fa=agency.name_fa,
            rule_codes=req.rule_codes,
            item_lines=req.item_lines,
            reason_en=req.reason_en(version),
            reason_fa=req.reason_fa(version),
            sla_business_days=req.sla_business_days,
            due_at=started.due_at,
            calendar_version=calendar.version,
        )
        planned.append(_Planned(required, calendar))
    return version, planned


def check_requirements(
    *, session: Session, payload: DeclarationIn, at: datetime
) -> RequirementsOut:
    """The pre-filing check: which inquiries filing now would need, why, and by when."""
    version, planned = _plan(session, payload, at)
    return RequirementsOut(
        rule_set_version=version, checked_at=at, inquiries=[p.required for p in planned]
    )


def file_declaration(
    *, session: Session, principal: Principal, payload: DeclarationIn, at: datetime
) -> Declaration:
    """File a declaration: store it with every inquiry it needs, all at the same moment.

    Each inquiry's clock starts at filing and its escalation ladder is snapshotted; the
    exchange with the agency's own system, when it arrives, moves the start to the first
    delivery attempt.
    """
    if principal.role != Role.TRADER or principal.id is None:
        raise Forbidden("only traders file declarations")
    version, planned = _plan(session, payload, at)
    policies = escalation.active_policies(
        session=session, inquiry_types=[p.required.inquiry_type for p in planned]
    )
    declaration = Declaration(
        trader_id=principal.id,
        kind=payload.kind,
        customs_office=payload.customs_office,
        province=payload.province,
        status=DeclarationStatus.UNDER_INQUIRY.value,
        rule_set_version=version,
        filed_at=at,
        items=[
            DeclarationItem(line_no=n, **item.model_dump())
            for n, item in enumerate(payload.items, start=1)
        ],
    )
    for plan in planned:
        required = plan.required
        inquiry = Inquiry(
            inquiry_type=required.inquiry_type,
            agency_code=required.agency_code,
            province=payload.province,
            state=InquiryState.AWAITING_ANSWER.value,
            rule_set_version=version,
            rule_codes=required.rule_codes,
            reason_en=required.reason_en,
            reason_fa=required.reason_fa,
            item_lines=required.item_lines,
            sla_business_days=required.sla_business_days,
        )
        policy_version, policy = policies[required.inquiry_type]
        inquiry_clock.start(
            inquiry,
            plan.calendar,
            received_at=at,
            policy_version=policy_version,
            policy=policy,
            policy_document=policy.model_dump(mode="json"),
        )
        declaration.inquiries.append(inquiry)
    if not planned:
        declaration.status = DeclarationStatus.CLEARED.value
        declaration.closed_at = at
    session.add(declaration)
    session.flush()
    chain.record(
        session,
        kind="declaration.filed",
        at=at,
        actor=principal,
        declaration_id=declaration.id,
        after=declaration.status,
        data={"items": len(payload.items), "inquiries": len(planned), "rule_set_version": version},
    )
    for inquiry in declaration.inquiries:
        chain.record(
            session,
            kind="inquiry.created",
            at=at,
            actor=principal,
            declaration_id=declaration.id,
            inquiry_id=inquiry.id,
            after=inquiry.state,
            data={
                "agency": inquiry.agency_code,
                "inquiry_type": inquiry.inquiry_type,
                "rules": inquiry.rule_codes,
                "due_at": inquiry.due_at.isoformat(),
                "calendar_version": inquiry.calendar_version,
                "policy_version": inquiry.policy_version,
            },
        )
    chain.append_pending(session)
    return declaration


def cancel_declaration(
    *, session: Session, principal: Principal, declaration_id: int, at: datetime
) -> Declaration:
    """Cancel an open declaration: its open inquiries are withdrawn."""
    if principal.role != Role.TRADER:
        raise Forbidden("only the trader who filed a declaration can cancel it")
    declaration = service.get_visible(
        session=session,
        principal=principal,
        declaration_id=declaration_id,
        full=True,
        for_update=True,
    )
    if declaration.status not in OPEN_DECLARATION_STATUSES:
        raise Conflict(
            f"declaration {declaration_id} is {declaration.status} and cannot be cancelled"
        )
    service.withdraw_open_inquiries(
        session=session,
        inquiries=declaration.inquiries,
        actor=principal,
        at=at,
        reason="declaration cancelled by the trader",
    )
    before = declaration.status
    declaration.status = DeclarationStatus.CANCELLED.value
    declaration.closed_at = at
    chain.record(
        session,
        kind="declaration.cancelled",
        at=at,
        actor=principal,
        declaration_id=declaration.id,
        before=before,
        after=declaration.status,
    )
    chain.append_pending(session)
    return declaration
