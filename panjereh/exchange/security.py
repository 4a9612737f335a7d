"""The security log: every refused request made with a machine credential."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.clock import Clock
from panjereh.db import delete_some, transaction
from panjereh.exchange.credentials import require
from panjereh.exchange.models import SecurityEvent
from panjereh.exchange.signing import MESSAGE_ID_HEADER

log = logging.getLogger("panjereh.security")


def record_refusal(request: Request, status: int, slug: str, detail: str) -> None:
    """Keep a refused machine request, in a transaction of its own (the request's own work
    was rolled back). A refusal that cannot be written is logged, never raised."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    clock: Clock = request.app.state.clock
    machine = request.state.machine
    try:
        with transaction(factory) as session:
            session.add(
                SecurityEvent(
                    at=clock.now(),
                    status=status,
                    kind=slug[:48],
                    agency_code=machine.get("agency"),
                    key_id=machine.get("key_id"),
                    method=request.method,
                    path=request.url.path[:300],
                    client=request.client.host if request.client else None,
                    message_id=(request.headers.get(MESSAGE_ID_HEADER) or "")[:200] or None,
                    detail=detail,
                )
            )
    except Exception:
        log.exception("could not write the security log for %s %s", request.method, request.url)
    log.warning(
        "refused %s %s from key %s: %s %s",
        request.method,
        request.url.path,
        machine.get("key_id"),
        status,
        detail,
    )


def recent(
    *, session: Session, principal: Principal, before: int | None, limit: int
) -> Sequence[SecurityEvent]:
    """The security log, newest first (administrators and supervisors)."""
    require(principal, Role.ADMIN, Role.SUPERVISOR)
    query = select(SecurityEvent).order_by(SecurityEvent.id.desc()).limit(limit)
    if before is not None:
        query = query.where(SecurityEvent.id < before)
    return session.scalars(query).all()


def forget(session: Session, *, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` refusals recorded before ``before``, oldest first; how many."""
    return delete_some(
        session, SecurityEvent.id, SecurityEvent.at < before, order_by=SecurityEvent.at, limit=limit
    )
