"""Slowing down password guessing: a username that fails to sign in too often is locked.

After ``PANJEREH_SIGN_IN_ATTEMPTS`` failures in a row under one username, every further
sign-in under it is refused with ``429`` (the password is not even checked) until the lock
ends: ``PANJEREH_SIGN_IN_LOCK_MINUTES`` after that failure, doubled for each failure after
it, at most a day. A right password before the limit, or after the lock has ended, clears
the count; so does a day without failures. Unknown usernames are counted like known ones, so
the answers do not tell an attacker which names exist. Failures are counted in the database,
so every server process sees the same count.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from panjereh.auth.models import SignInFailure
from panjereh.config import Settings
from panjereh.db import delete_some
from panjereh.errors import TooManyRequests

MAX_LOCK = timedelta(days=1)
FORGET_AFTER = timedelta(days=1)
"""A count whose last failure is older than this starts again (and is deleted by the worker)."""
USERNAME_LENGTH = 64


def _key(username: str) -> str:
    return username[:USERNAME_LENGTH]


def check(session: Session, username: str, *, now: datetime) -> None:
    """Refuse (429, with the seconds to wait) a username locked at ``now``."""
    locked_until = session.scalar(
        select(SignInFailure.locked_until).where(SignInFailure.username == _key(username))
    )
    if locked_until is not None and locked_until > now:
        wait = max(1, int((locked_until - now).total_seconds() + 0.999))
        raise TooManyRequests(
            "too many failed sign-ins under this username; try again later",
            retry_after=wait,
            slug="sign-in-locked",
        )


def failed(session: Session, username: str, *, now: datetime, settings: Settings) -> None:
    """Count a failed sign-in; lock the username once the count reaches the limit. The
    caller commits (the request itself fails)."""
    key = _key(username)
    row = session.get(SignInFailure, key, with_for_update=True)
    if row is None:
        try:
            with session.begin_nested():  # two first failures at once: one inserts
                session.add(SignInFailure(username=key, failures=0, last_at=now))
        except IntegrityError:
            pass
        row = session.get_one(SignInFailure, key, with_for_update=True, populate_existing=True)
    if now - row.last_at > FORGET_AFTER:
        row.failures, row.locked_until = 0, None
    row.failures += 1
    row.last_at = now
    over = row.failures - settings.sign_in_attempts
    if over >= 0:
        lock = timedelta(minutes=settings.sign_in_lock_minutes) * 2 ** min(over, 16)
        row.locked_until = now + min(lock, MAX_LOCK)
    session.flush()


def succeeded(session: Session, username: str) -> None:
    """A right password: the count starts again."""
    session.execute(delete(SignInFailure).where(SignInFailure.username == _key(username)))


def forget(session: Session, *, now: datetime, limit: int) -> int:
    """Delete up to ``limit`` counts whose last failure and lock are a day past; how many."""
    return delete_some(
        session,
        SignInFailure.username,
        SignInFailure.last_at < now - FORGET_AFTER,
        or_(SignInFailure.locked_until.is_(None), SignInFailure.locked_until < now),
        limit=limit,
    )
