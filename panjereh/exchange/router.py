"""HTTP endpoints of the exchange: connections and credentials (administrators), delivery
health and the security log (administrators, supervisors), the pull inbox (agencies'
systems). Agencies' systems decide through ``POST /api/v1/inquiries/{id}/decision``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from panjereh.api.deps import CurrentPrincipal, NowDep, SessionDep, SettingsDep
from panjereh.api.responses import PROBLEMS
from panjereh.exchange import credentials, security, service
from panjereh.exchange.models import Mode

router = APIRouter(prefix="/api/v1", tags=["agency exchange"], responses=PROBLEMS)


class ConnectionIn(BaseModel):
    """How an agency's system is reached."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    mode: Mode
    endpoint_url: str | None = Field(
        default=None,
        max_length=500,
        description="push only: where each message is POSTed",
        examples=["https://inquiries.ivo.example/panjereh"],
    )


class ConnectionOut(BaseModel):
    """An agency's connection; ``signing_secret`` only when it is first made or rotated."""

    agency_code: str
    mode: str
    endpoint_url: str | None
    created_at: datetime
    updated_at: datetime
    signing_secret: str | None = None


class SecretOut(BaseModel):
    """A new signing secret, shown only now, and until when the old one still works."""

    agency_code: str
    signing_secret: str
    old_valid_until: datetime | None = None


class CredentialIn(BaseModel):
    """A new machine credential."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    label: str = Field(default="", max_length=200, examples=["IVO inquiries system, 2026"])


class CredentialOut(BaseModel):
    """A machine credential; ``key`` only when it is created."""

    model_config = ConfigDict(from_attributes=True)

    key_id: str
    agency_code: str
    label: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    key: str | None = None


class InboxMessage(BaseModel):
    """A message in the pull inbox: ``seq`` is its place (the cursor), ``body`` exactly
    what a push would POST."""

    seq: int
    message_id: str
    type: str
    inquiry_id: int
    created_at: datetime
    body: dict[str, Any]


class InboxOut(BaseModel):
    """A page of the inbox; pass ``next_after`` as ``after`` for the next page."""

    messages: list[InboxMessage]
    next_after: int


class AckIn(BaseModel):
    """Messages the agency's system has taken in."""

    model_config = ConfigDict(extra="forbid")

    message_ids: list[str] = Field(min_length=1, max_length=1000)


class AckOut(BaseModel):
    """How many messages were newly acknowledged."""

    acknowledged: int


class SecurityEventOut(BaseModel):
    """A refused machine request."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    status: int
    kind: str
    agency_code: str | None
    key_id: str | None
    method: str
    path: str
    client: str | None
    message_id: str | None
    detail: str


@router.get("/agency-connections", response_model=list[service.Health])
def connections(principal: CurrentPrincipal, session: SessionDep) -> list[service.Health]:
    """Every connected agency with its delivery health: messages, delivered, waiting, dead,
    attempts, the oldest waiting, the last error, commit-to-receipt latency p50/p99."""
    return service.health(session=session, principal=principal)


@router.put("/agency-connections/{agency_code}", response_model=ConnectionOut)
def connect(
    agency_code: str,
    body: ConnectionIn,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
) -> ConnectionOut:
    """Connect an agency's system (push: to its endpoint; pull: it fetches its inbox) or
    change how it is reached. The signing secret is in the answer the first time only."""
    connection, secret = service.connect(
        session=session,
        principal=principal,
        agency_code=agency_code,
        mode=body.mode,
        endpoint_url=body.endpoint_url,
        at=now,
    )
    out = ConnectionOut(
        agency_code=connection.agency_code,
        mode=connection.mode,
        endpoint_url=connection.endpoint_url,
        created_at=connection.created_at,
        updated_at=connection.updated_at,
        signing_secret=secret,
    )
    session.commit()
    return out


@router.post("/agency-connections/{agency_code}/rotate-secret", response_model=SecretOut)
def rotate_secret(
    agency_code: str,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> SecretOut:
    """A new signing secret. The old one keeps working for ``PANJEREH_SECRET_OVERLAP_HOURS``
    (24): still accepted on decisions, and pushes are signed with both, so the agency's
    system switches when it is ready."""
    rotated = service.rotate_secret(
        session=session,
        principal=principal,
        agency_code=agency_code,
        at=now,
        overlap=timedelta(hours=settings.secret_overlap_hours),
    )
    session.commit()
    return SecretOut(
        agency_code=agency_code,
        signing_secret=rotated.secret,
        old_valid_until=rotated.old_valid_until,
    )


@router.post(
    "/agency-connections/{agency_code}/credentials",
    response_model=CredentialOut,
    status_code=201,
)
def create_credential(
    agency_code: str,
    body: CredentialIn,
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
) -> CredentialOut:
    """A machine credential for the agency's system; the key is shown only in this answer."""
    credential, key = credentials.create(
        session=session, principal=principal, agency_code=agency_code, label=body.label, at=now
    )
    out = CredentialOut.model_validate(credential).model_copy(update={"key": key})
    session.commit()
    return out


@router.get("/agency-connections/{agency_code}/credentials", response_model=list[CredentialOut])
def list_credentials(
    agency_code: str, principal: CurrentPrincipal, session: SessionDep
) -> list[CredentialOut]:
    """The agency's machine credentials (never their secrets)."""
    return [
        CredentialOut.model_validate(c)
        for c in credentials.listing(session=session, principal=principal, agency_code=agency_code)
    ]


@router.delete(
    "/agency-connections/{agency_code}/credentials/{key_id}", response_model=CredentialOut
)
def revoke_credential(
    agency_code: str, key_id: str, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> CredentialOut:
    """Revoke a machine credential: its next request is refused."""
    credential = credentials.revoke(
        session=session, principal=principal, key_id=key_id, at=now, agency_code=agency_code
    )
    out = CredentialOut.model_validate(credential)
    session.commit()
    return out


@router.get("/agency/inbox", response_model=InboxOut)
def pull(
    principal: CurrentPrincipal,
    session: SessionDep,
    now: NowDep,
    after: Annotated[int, Query(ge=0, description="the last `seq` already seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> InboxOut:
    """The agency's messages not yet acknowledged, oldest first (agencies' systems)."""
    messages = service.inbox(session=session, principal=principal, after=after, limit=limit, at=now)
    out = InboxOut(
        messages=[
            InboxMessage(
                seq=m.id,
                message_id=m.message_id,
                type=m.kind,
                inquiry_id=m.inquiry_id,
                created_at=m.created_at,
                body=m.body,
            )
            for m in messages
        ],
        next_after=messages[-1].id if messages else after,
    )
    session.commit()
    return out


@router.post("/agency/inbox/ack", response_model=AckOut)
def acknowledge(
    body: AckIn, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> AckOut:
    """Acknowledge messages taken in; they leave the inbox. Acknowledging twice is harmless."""
    count = service.acknowledge(
        session=session, principal=principal, message_ids=body.message_ids, at=now
    )
    session.commit()
    return AckOut(acknowledged=count)


@router.get("/security-events", response_model=list[SecurityEventOut])
def security_events(
    principal: CurrentPrincipal,
    session: SessionDep,
    before: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SecurityEventOut]:
    """Refused machine requests, newest first (administrators and supervisors)."""
    return [
        SecurityEventOut.model_validate(e)
        for e in security.recent(session=session, principal=principal, before=before, limit=limit)
    ]
