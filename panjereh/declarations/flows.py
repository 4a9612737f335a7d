"""Use cases for declarations: the pre-filing check, filing, and cancelling.

Flows change state and record events but never commit: the request (or job) that calls them
owns the transaction, so a filing and all its inquiries are stored together or not at all.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.agencies.models import Agency, InquiryType
from panjereh.audit import chain
from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.declarations import service
from panjereh.declarations.models import (
    OPEN_DECLARATION_STATUSES,
    Declaration,
    DeclarationItem,
    DeclarationStatus,
)
from panjereh.declarations.schemas import DeclarationIn, RequiredInquiry, RequirementsOut
from panjereh.errors import Conflict, Forbidden
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.states import Action, InquiryState, next_state
from panjereh.rules import engine
from panjereh.rules import service as rules
from panjereh.sla.deadlines import inquiry_deadline


def _filing(payload: DeclarationIn) -> engine.Filing:
    return engine.Filing(
        kind=payload.kind,
        lines=[
            engine.GoodsLine(n, item.hs_code, item.origin_country, item.value, item.currency)
            for n, item in enumerate(payload.items, start=1)
        ],
    )


def _plan(
    session: Session, payload: DeclarationIn, at: datetime
) -> tuple[int, list[RequiredInquiry]]:
    """What filing ``payload`` at ``at`` requires: the inquiries, with reasons and deadlines."""
    version, document = rules.active(session=session)
    needed = engine.requirements(document, _filing(payload))
    agency_rows = {a.code: a for a in session.scalars(select(Agency))}
    type_rows = {t.code: t for t in session.scalars(select(InquiryType))}
    planned = []
    for req in needed:
        agency, kind = agency_rows[req.agency_code], type_rows[req.inquiry_type]
        deadline = inquiry_deadline(
            received_at=at, business_days=req.sla_business_days, weekend=agency.weekend
        )
        planned.append(
            RequiredInquiry(
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
                due_at=deadline.due_at,
                calendar_version=deadline.calendar_version,
            )
        )
    return version, planned


def check_requirements(
    *, session: Session, payload: DeclarationIn, at: datetime
) -> RequirementsOut:
    """The pre-filing check: which inquiries filing now would need, why, and by when."""
    version, planned = _plan(session, payload, at)
    return RequirementsOut(rule_set_version=version, checked_at=at, inquiries=planned)


def file_declaration(
    *, session: Session, principal: Principal, payload: DeclarationIn, at: datetime
) -> Declaration:
    """File a declaration: store it with every inquiry it needs, all at the same moment."""
    if principal.role != Role.TRADER or principal.id is None:
        raise Forbidden("only traders file declarations")
    version, planned = _plan(session, payload, at)
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
        declaration.inquiries.append(
            Inquiry(
                inquiry_type=plan.inquiry_type,
                agency_code=plan.agency_code,
                state=InquiryState.AWAITING_ANSWER.value,
                rule_set_version=version,
                rule_codes=plan.rule_codes,
                reason_en=plan.reason_en,
                reason_fa=plan.reason_fa,
                item_lines=plan.item_lines,
                sla_business_days=plan.sla_business_days,
                received_at=at,
                due_at=plan.due_at,
                calendar_version=plan.calendar_version,
            )
        )
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
    withdraw_open_inquiries(
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


def withdraw_open_inquiries(
    *, session: Session, inquiries: list[Inquiry], actor: Principal, at: datetime, reason: str
) -> None:
    """Withdraw every still-open inquiry of a declaration that no longer needs answers."""
    for inquiry in inquiries:
        state = InquiryState(inquiry.state)
        if state not in (InquiryState.AWAITING_ANSWER, InquiryState.INFO_REQUESTED):
            continue
        inquiry.state = next_state(state, Action.WITHDRAW).value
        inquiry.decided_at = at
        chain.record(
            session,
            kind="inquiry.withdrawn",
            at=at,
            actor=actor,
            declaration_id=inquiry.declaration_id,
            inquiry_id=inquiry.id,
            before=state.value,
            after=inquiry.state,
            data={"reason": reason},
        )
