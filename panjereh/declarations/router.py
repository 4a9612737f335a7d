"""HTTP endpoints for declarations and the pre-filing check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from panjereh.api.deps import CurrentPrincipal, IdempotencyKey, NowDep, SessionDep
from panjereh.api.responses import PROBLEMS, respond_once
from panjereh.declarations import flows, service
from panjereh.declarations.models import DeclarationStatus
from panjereh.declarations.schemas import (
    DeclarationIn,
    DeclarationListItem,
    DeclarationOut,
    DeclarationPage,
    RequirementsOut,
)
from panjereh.errors import Forbidden
from panjereh.idempotency.service import Outcome

router = APIRouter(prefix="/api/v1", tags=["declarations"], responses=PROBLEMS)


@router.post("/requirements", response_model=RequirementsOut)
def check_requirements(
    payload: DeclarationIn, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> RequirementsOut:
    """Pre-filing check: which inquiries these goods will need, from which agencies, why, and
    by when each answer is due if filed now. Nothing is stored."""
    if principal.role is None:
        raise Forbidden("sign in first")
    return flows.check_requirements(session=session, payload=payload, at=now)


@router.post("/declarations", status_code=201, response_model=DeclarationOut)
async def file_declaration(
    request: Request,
    payload: DeclarationIn,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """File a declaration. Every inquiry it needs is created in the same transaction, each
    with its agency, reason and deadline."""

    def action() -> Outcome:
        filed = flows.file_declaration(
            session=session, principal=principal, payload=payload, at=now
        )
        return Outcome.of(201, filed)

    return await respond_once(
        request,
        session=session,
        principal=principal,
        key=idempotency_key,
        path="/api/v1/declarations",
        body=payload.model_dump_json().encode(),
        at=now,
        action=action,
    )


@router.get("/declarations", response_model=DeclarationPage)
def list_declarations(
    principal: CurrentPrincipal,
    session: SessionDep,
    status: DeclarationStatus | None = None,
    before: Annotated[int | None, Query(ge=1, description="id to page below")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeclarationPage:
    """Declarations the caller may see (a trader: their own), newest first."""
    rows = service.list_visible(
        session=session, principal=principal, status=status, before=before, limit=limit
    )
    return DeclarationPage(
        items=[DeclarationListItem.model_validate(r) for r in rows],
        next_before=rows[-1].id if len(rows) == limit else None,
    )


@router.get("/declarations/{declaration_id}", response_model=DeclarationOut)
def get_declaration(
    declaration_id: int, principal: CurrentPrincipal, session: SessionDep
) -> DeclarationOut:
    """One declaration with its items, inquiries and timeline."""
    declaration = service.get_visible(
        session=session, principal=principal, declaration_id=declaration_id, full=True
    )
    return service.detail(session=session, declaration=declaration)


@router.post("/declarations/{declaration_id}/cancel", response_model=DeclarationOut)
async def cancel_declaration(
    request: Request,
    declaration_id: int,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Cancel an open declaration; its open inquiries are withdrawn."""

    def action() -> Outcome:
        declaration = flows.cancel_declaration(
            session=session, principal=principal, declaration_id=declaration_id, at=now
        )
        return Outcome.of(200, service.detail(session=session, declaration=declaration))

    return await respond_once(
        request,
        session=session,
        principal=principal,
        key=idempotency_key,
        path=f"/api/v1/declarations/{declaration_id}/cancel",
        body=b"",
        at=now,
        action=action,
    )
