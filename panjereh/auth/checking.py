"""Signing in and changing one's password from a request: passwords are checked and hashed
outside any transaction.

Checking an Argon2 hash takes about a tenth of a second of CPU. Checked inside the sign-in's
transaction, on SQLite that held the store's one write lock (and the request's turn) for as
long, and a morning's sign-ins queued every decision behind them; on PostgreSQL it held a
connection. Here the attempt is read in one short transaction, the hash is checked (and a new
one made) in the thread pool with the turn given back, and the outcome is written in a
second transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from panjereh.api.deps import turn_given_back
from panjereh.auth import service
from panjereh.auth.models import User
from panjereh.auth.passwords import verify_password
from panjereh.auth.principal import Principal
from panjereh.config import Settings


async def sign_in(
    request: Request,
    *,
    session: Session,
    username: str,
    password: str,
    now: datetime,
    settings: Settings,
) -> User | None:
    """The user if the credentials are right (see :func:`service.sign_in_outcome`); the
    caller commits. A locked username raises :class:`TooManyRequests` before any check."""
    attempt = await run_in_threadpool(
        _read, session, partial(service.sign_in_attempt, username=username, now=now)
    )
    async with turn_given_back(request):
        # The hash is checked even for an unknown user, so the answer takes as long.
        right = await run_in_threadpool(verify_password, attempt.password_hash, password)
    return await run_in_threadpool(
        partial(
            service.sign_in_outcome,
            session=session,
            attempt=attempt,
            right=right,
            now=now,
            settings=settings,
        )
    )


async def change_password(
    request: Request,
    *,
    session: Session,
    principal: Principal,
    current: str,
    new: str,
    now: datetime,
    settings: Settings,
) -> User:
    """Change ``principal``'s own password (see :func:`service.password_change_outcome`);
    the user, changed. The caller commits, also when it raises
    :class:`service.WrongPassword`."""
    attempt = await run_in_threadpool(
        _read, session, partial(service.password_change_attempt, principal=principal, now=now)
    )
    async with turn_given_back(request):
        new_hash = await run_in_threadpool(
            partial(service.new_password_hash, attempt, current=current, new=new)
        )
    return await run_in_threadpool(
        partial(
            service.password_change_outcome,
            session=session,
            principal=principal,
            attempt=attempt,
            new_hash=new_hash,
            at=now,
            settings=settings,
        )
    )


def _read(session: Session, read: Callable[..., service.SignInAttempt]) -> service.SignInAttempt:
    """``read(session=session)``, then the end of its transaction (it only read), before the
    slow part."""
    try:
        return read(session=session)
    finally:
        session.rollback()
