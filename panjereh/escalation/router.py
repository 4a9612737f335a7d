"""HTTP endpoints: an inquiry's clock, manual escalation, and the escalation policies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from panjereh.agencies.service import list_inquiry_types
from panjereh.api.deps import CurrentPrincipal, IdempotencyKey, NowDep, SessionDep
from panjereh.api.responses import PROBLEMS, respond_once
from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.errors import Forbidden, NotFound
from panjereh.escalation import flows, policies, service
from panjereh.escalation.policy import EscalationPolicy
from panjereh.escalation.schemas import AssignIn, ClockOut, EscalateIn, PolicyIn, PolicyOut
from panjereh.idempotency.service import Outcome
from panjereh.inquiries import service as inquiries
from panjereh.inquiries.models import Inquiry

router = APIRouter(prefix="/api/v1", tags=["clock and escalation"], responses=PROBLEMS)


@router.get("/inquiries/{inquiry_id}/clock", response_model=ClockOut)
def inquiry_clock(
    inquiry_id: int, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> ClockOut:
    """The inquiry's service-level clock: deadline, running and paused segments, business
    time used and left, and its escalation ladder with what has fired."""
    inquiry = inquiries.get_visible(session=session, principal=principal, inquiry_id=inquiry_id)
    return service.clock_view(session=session, inquiry=inquiry, now=now)


async def _clock_response(
    request: Request,
    session: Session,
    principal: Principal,
    key: str | None,
    now: datetime,
    path: str,
    body: bytes,
    change: Callable[[], Inquiry],
) -> Response:
    def action() -> Outcome:
        inquiry = change()
        return Outcome.of(200, service.clock_view(session=session, inquiry=inquiry, now=now))

    return await respond_once(
        request,
        session=session,
        principal=principal,
        key=key,
        path=path,
        body=body,
        at=now,
        action=action,
    )


@router.post("/inquiries/{inquiry_id}/escalate", response_model=ClockOut)
async def escalate(
    request: Request,
    inquiry_id: int,
    body: EscalateIn,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Escalate an open inquiry to the national supervisor by hand (agency heads and
    supervisors), with a reason."""
    return await _clock_response(
        request,
        session,
        principal,
        idempotency_key,
        now,
        f"/api/v1/inquiries/{inquiry_id}/escalate",
        body.model_dump_json().encode(),
        lambda: flows.escalate(
            session=session, principal=principal, inquiry_id=inquiry_id, reason=body.reason, at=now
        ),
    )


@router.post("/inquiries/{inquiry_id}/acknowledge", response_model=ClockOut)
async def acknowledge(
    request: Request,
    inquiry_id: int,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """The agency acknowledges an escalated inquiry."""
    return await _clock_response(
        request,
        session,
        principal,
        idempotency_key,
        now,
        f"/api/v1/inquiries/{inquiry_id}/acknowledge",
        b"",
        lambda: flows.acknowledge(
            session=session, principal=principal, inquiry_id=inquiry_id, at=now
        ),
    )


@router.post("/inquiries/{inquiry_id}/assign", response_model=ClockOut)
async def assign(
    request: Request,
    inquiry_id: int,
    body: AssignIn,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """The agency head gives the inquiry to one of the agency's officers."""
    return await _clock_response(
        request,
        session,
        principal,
        idempotency_key,
        now,
        f"/api/v1/inquiries/{inquiry_id}/assign",
        body.model_dump_json().encode(),
        lambda: flows.assign(
            session=session,
            principal=principal,
            inquiry_id=inquiry_id,
            officer=body.officer,
            at=now,
        ),
    )


@router.get("/escalation-policies", response_model=list[PolicyOut])
def active_policies(principal: CurrentPrincipal, session: SessionDep) -> list[PolicyOut]:
    """The ladder in force for every inquiry type."""
    types = [t.code for t in list_inquiry_types(session=session)]
    active = policies.active_policies(session=session, inquiry_types=types)
    return [
        PolicyOut(
            inquiry_type=t, version=v, active=True, policy=p, created_at=None, created_by=None
        )
        for t, (v, p) in sorted(active.items())
    ]


@router.get("/escalation-policies/{inquiry_type}", response_model=list[PolicyOut])
def policy_versions(
    inquiry_type: str, principal: CurrentPrincipal, session: SessionDep
) -> list[PolicyOut]:
    """Every version of one inquiry type's ladder, newest first."""
    if inquiry_type not in {t.code for t in list_inquiry_types(session=session)}:
        raise NotFound(f"inquiry type {inquiry_type} does not exist")
    stored = policies.versions(session=session, inquiry_type=inquiry_type)
    versions = [
        PolicyOut(
            inquiry_type=inquiry_type,
            version=r.version,
            active=r.is_active,
            policy=EscalationPolicy.model_validate(r.document),
            created_at=r.created_at,
            created_by=r.created_by,
        )
        for r in stored
    ]
    return versions


@router.put("/escalation-policies/{inquiry_type}", response_model=PolicyOut, status_code=201)
def new_policy(
    inquiry_type: str, body: PolicyIn, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> PolicyOut:
    """Store a new version of an inquiry type's ladder (administrators). New inquiries take
    it; inquiries already created keep the ladder they were created with."""
    if principal.role != Role.ADMIN:
        raise Forbidden("only administrators change escalation policies")
    record = policies.add_version(
        session=session, inquiry_type=inquiry_type, policy=body, by=principal.username, at=now
    )
    session.commit()
    return PolicyOut(
        inquiry_type=inquiry_type,
        version=record.version,
        active=True,
        policy=body,
        created_at=record.created_at,
        created_by=record.created_by,
    )
