"""The in-app inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

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
