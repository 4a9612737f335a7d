"""Signing in: the OAuth2 password flow, issuing short-lived bearer tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from panjereh.api.deps import CurrentPrincipal, NowDep, SessionDep, SettingsDep
from panjereh.api.responses import PROBLEMS
from panjereh.auth import checking, service, tokens
from panjereh.errors import Unauthorized

router = APIRouter(prefix="/api/v1", tags=["auth"], responses=PROBLEMS)

MAX_PASSWORD_LENGTH = 1024
"""Longer passwords are refused before hashing (Argon2 reads all of it)."""


class Token(BaseModel):
    """An OAuth2 bearer token."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class Me(BaseModel):
    """Who the token belongs to."""

    id: int | None
    username: str
    role: str | None
    agency_code: str | None


@router.post("/auth/token", response_model=Token)
async def issue_token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> Token:
    """Exchange a username and password for a bearer token (OAuth2 password flow).

    After too many failures in a row under one username, it is locked for a while: 429 with
    ``Retry-After`` (see docs/api.md)."""
    user = await checking.sign_in(
        request,
        session=session,
        username=form.username,
        password=form.password,
        now=now,
        settings=settings,
    )
    await run_in_threadpool(session.commit)  # a failure stays counted, a success is counted
    if user is None:
        raise Unauthorized("wrong username or password")
    principal = service.principal_of(user)
    ttl = timedelta(minutes=settings.token_ttl_minutes)
    token = tokens.issue(principal=principal, secret=settings.secret_key, now=now, ttl=ttl)
    return Token(access_token=token, expires_in=int(ttl.total_seconds()))


class PasswordChange(BaseModel):
    """A new password, with the current one as proof."""

    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    new_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


@router.post("/auth/password", status_code=204)
async def change_password(
    request: Request,
    change: PasswordChange,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> Response:
    """Change your own password (at least 10 characters, not the current one). A wrong
    current password is 422 on ``current_password`` and counts as a failed sign-in; a
    password changed meanwhile by another session is 409; web sessions signed in with the
    old password end at their next request. The passwords are checked and hashed outside
    any transaction."""
    try:
        await checking.change_password(
            request,
            session=session,
            principal=principal,
            current=change.current_password,
            new=change.new_password,
            now=now,
            settings=settings,
        )
    except service.WrongPassword:
        await run_in_threadpool(session.commit)  # the failure stays counted
        raise
    await run_in_threadpool(session.commit)
    return Response(status_code=204)


@router.get("/auth/me", response_model=Me)
def who_am_i(principal: CurrentPrincipal) -> Me:
    """The signed-in user's identity, role and agency."""
    return Me(
        id=principal.id,
        username=principal.username,
        role=principal.role.value if principal.role else None,
        agency_code=principal.agency_code,
    )
