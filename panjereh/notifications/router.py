"""The in-app inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from panjereh.api.deps import CurrentPrincipal, NowDep, SessionDep
from panjereh.api.responses import PROBLEMS
from panjereh.notifications import service

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"], responses=PROBLEMS)


class NotificationOut(BaseModel):
    """A notification in the inbox."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    title_en: str
    title_fa: str
    body_en: str
    body_fa: str
    inquiry_id: int | None
    declaration_id: int | None
    created_at: datetime
    read_at: datetime | None


class Marked(BaseModel):
    """How many notifications were marked read."""

    marked: int


class WebhookIn(BaseModel):
    """Subscribe an endpoint to escalation notices."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: str = Field(min_length=8, max_length=500, examples=["https://ivo.example/panjereh"])
    agency_code: str | None = Field(
        default=None, description="the agency whose notices it receives; empty: national ones"
    )


class WebhookOut(BaseModel):
    """A webhook subscription (its secret is shown only when it is created)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    agency_code: str | None
    created_at: datetime


class WebhookCreated(WebhookOut):
    """A new subscription, with the secret that signs what it receives."""

    secret: str


@router.get("/webhooks", response_model=list[WebhookOut])
def list_webhooks(principal: CurrentPrincipal, session: SessionDep) -> list[WebhookOut]:
    """Webhook subscriptions (administrators)."""
    return [
        WebhookOut.model_validate(h) for h in service.webhooks(session=session, principal=principal)
    ]


@router.post("/webhooks", response_model=WebhookCreated, status_code=201)
def add_webhook(
    body: WebhookIn, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> WebhookCreated:
    """Subscribe an endpoint to escalation notices (administrators). The answer carries the
    HMAC secret that signs every delivery; it is not shown again."""
    hook, secret = service.add_webhook(
        session=session, principal=principal, agency_code=body.agency_code, url=body.url, at=now
    )
    session.commit()
    return WebhookCreated(
        id=hook.id,
        url=hook.url,
        agency_code=hook.agency_code,
        created_at=hook.created_at,
        secret=secret,
    )


@router.delete("/webhooks/{webhook_id}", status_code=204)
def remove_webhook(webhook_id: int, principal: CurrentPrincipal, session: SessionDep) -> None:
    """Unsubscribe an endpoint (administrators)."""
    service.remove_webhook(session=session, principal=principal, webhook_id=webhook_id)
    session.commit()


@router.get("", response_model=list[NotificationOut])
def inbox(
    principal: CurrentPrincipal,
    session: SessionDep,
    unread: bool = False,
    before: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[NotificationOut]:
    """The signed-in user's notifications, newest first."""
    rows = service.inbox(
        session=session, principal=principal, unread_only=unread, before=before, limit=limit
    )
    return [NotificationOut.model_validate(r) for r in rows]


@router.post("/{notification_id}/read", response_model=Marked)
def mark_read(
    notification_id: int, principal: CurrentPrincipal, session: SessionDep, now: NowDep
) -> Marked:
    """Mark one notification read."""
    marked = service.mark_read(
        session=session, principal=principal, notification_id=notification_id, at=now
    )
    session.commit()
    return Marked(marked=marked)


@router.post("/read-all", response_model=Marked)
def mark_all_read(principal: CurrentPrincipal, session: SessionDep, now: NowDep) -> Marked:
    """Mark every notification read."""
    marked = service.mark_read(session=session, principal=principal, notification_id=None, at=now)
    session.commit()
    return Marked(marked=marked)
