"""HTTP endpoints for inquiries: the agency queue, decisions and the trader's replies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from panjereh.api.deps import CurrentPrincipal, IdempotencyKey, NowDep, SessionDep
from panjereh.api.responses import PROBLEMS, respond_once
from panjereh.declarations import service as declarations
from panjereh.declarations.schemas import EventOut, InquirySummary, ItemOut
from panjereh.exchange.inbound import machine_provenance
from panjereh.exchange.signing import MESSAGE_ID_HEADER
from panjereh.idempotency.service import IDEMPOTENCY_HEADER, Outcome
from panjereh.inquiries import flows, service
from panjereh.inquiries.models import Inquiry
from panjereh.inquiries.schemas import (
    DecisionIn,
    InquiryDecided,
    InquiryOut,
    InquiryQueueItem,
    InquiryQueuePage,
    ReplyIn,
)
from panjereh.inquiries.states import InquiryState

router = APIRouter(prefix="/api/v1/inquiries", tags=["inquiries"], responses=PROBLEMS)


def _detail(session: Session, inquiry: Inquiry) -> InquiryOut:
    declaration = declarations.get_by_id(session=session, declaration_id=inquiry.declaration_id)
    events = [
        EventOut.model_validate(e)
        for e in declarations.timeline(session=session, declaration_id=declaration.id)
        if e.inquiry_id in (None, inquiry.id)
    ]
    return InquiryOut(
        **InquirySummary.model_validate(inquiry).model_dump(),
        declaration_id=declaration.id,
        declaration_status=declaration.status,
        kind=declaration.kind,
        customs_office=declaration.customs_office,
        province=declaration.province,
        items=[ItemOut.model_validate(i) for i in declaration.items],
        timeline=events,
    )


@router.get("", response_model=InquiryQueuePage)
def agency_queue(
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    state: InquiryState | None = None,
    agency: Annotated[str | None, Query(description="supervisors only: one agency")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> InquiryQueuePage:
    """The agency's inquiries, soonest deadline first (officers see their own agency's)."""
    rows, total = service.queue(
        session=session,
        principal=principal,
        state=state,
        agency=agency,
        offset=offset,
        limit=limit,
    )
    return InquiryQueuePage(
        items=[
            InquiryQueueItem(
                **InquirySummary.model_validate(r).model_dump(),
                declaration_id=r.declaration_id,
                overdue=r.state == InquiryState.AWAITING_ANSWER and r.due_at < now,
            )
            for r in rows
        ],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get("/{inquiry_id}", response_model=InquiryOut)
def get_inquiry(inquiry_id: int, principal: CurrentPrincipal, session: SessionDep) -> InquiryOut:
    """One inquiry with the goods it concerns and its history."""
    inquiry = service.get_visible(session=session, principal=principal, inquiry_id=inquiry_id)
    return _detail(session, inquiry)


@router.post("/{inquiry_id}/decision", response_model=InquiryDecided)
async def decide(
    request: Request,
    inquiry_id: int,
    decision: DecisionIn,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """The agency's answer: approve, reject (reason required) or request information
    (reason required). A decision on an inquiry that is no longer open is a 409.

    An agency's system (machine credential) must also send ``X-Panjereh-Message-Id`` and
    ``X-Panjereh-Signature`` (see docs/agency-integration.md): the message id makes a repeat
    return the first result, and both are kept in the event log."""
    # Checked here rather than as a dependency: FastAPI would solve the principal's
    # dependencies again for it, on the busiest endpoint.
    provenance = await machine_provenance(request, principal, session)

    def action() -> Outcome:
        decided = flows.decide(
            session=session,
            principal=principal,
            inquiry_id=inquiry_id,
            decision=decision,
            at=now,
            provenance=provenance.as_data() if provenance else None,
        )
        return Outcome.of(200, decided)

    return await respond_once(
        request,
        session=session,
        principal=principal,
        key=provenance.message_id if provenance else idempotency_key,
        key_field=MESSAGE_ID_HEADER if provenance else IDEMPOTENCY_HEADER,
        path=f"/api/v1/inquiries/{inquiry_id}/decision",
        body=decision.model_dump_json().encode(),
        at=now,
        action=action,
    )


@router.post("/{inquiry_id}/reply", response_model=InquiryOut)
async def reply(
    request: Request,
    inquiry_id: int,
    answer: ReplyIn,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """The trader answers an agency's request for information."""

    def action() -> Outcome:
        inquiry = flows.reply(
            session=session, principal=principal, inquiry_id=inquiry_id, answer=answer, at=now
        )
        return Outcome.of(200, _detail(session, inquiry))

    return await respond_once(
        request,
        session=session,
        principal=principal,
        key=idempotency_key,
        path=f"/api/v1/inquiries/{inquiry_id}/reply",
        body=answer.model_dump_json().encode(),
        at=now,
        action=action,
    )
