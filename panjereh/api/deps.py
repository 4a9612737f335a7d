"""Dependencies shared by the routers: the session, the clock, the signed-in principal."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from panjereh.auth import tokens
from panjereh.auth.principal import Principal
from panjereh.clock import Clock
from panjereh.config import Settings
from panjereh.db import (
    WouldWait,
    begin_at_once,
    close_session,
    connection_of,
    open_session,
    without_waiting,
)
from panjereh.errors import Unauthorized
from panjereh.exchange import credentials

_T = TypeVar("_T")

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# Dependencies are coroutines: FastAPI runs a plain function in its thread pool, and a hop
# there and back costs more than these take. What touches the database is sent there alone.
# They read the settings and the clock from the application rather than from dependencies
# of their own: FastAPI solves a dependency's dependencies again wherever it is used, cached
# or not, and the hot endpoints use the principal twice (directly and through provenance).


async def get_settings(request: Request) -> Settings:
    """The application's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for this request; whatever it did not commit is rolled back.

    Opening a session touches no database; closing one that holds a transaction does (the
    rollback), in the thread pool. On SQLite requests take turns for their session here, in
    the event loop: every transaction takes the store's one write lock, so requests
    waiting in threads would only queue there, at the cost of waking threads and handing
    Python's lock between them. The request holding the turn has the loop thread's kept
    session (``db.open_session``); one that takes the turn while another request gave it back
    for a while (``turn_given_back``) gets a session of its own."""
    turn = _turn(request.app)
    if turn is not None:
        await turn.acquire()
        request.scope[TURN] = turn
    try:
        factory = request.app.state.session_factory
        session = open_session(factory)
        try:
            yield session
        finally:
            if session.in_transaction():
                await run_in_threadpool(session.rollback)
            close_session(factory, session)
    finally:
        held: asyncio.Lock | None = request.scope.pop(TURN, None)  # given back meanwhile?
        if held is not None:
            held.release()


TURN = "panjereh.turn"
"""Where a request keeps its turn at the store, in its ASGI scope, while it holds it."""


@asynccontextmanager
async def turn_given_back(request: Request) -> AsyncIterator[None]:
    """Let other requests take their turn at the store while this one does slow work that
    needs no database (its session must hold no transaction meanwhile)."""
    turn: asyncio.Lock | None = request.scope.pop(TURN, None)
    if turn is None:
        yield
        return
    turn.release()
    try:
        yield
    finally:
        await turn.acquire()
        request.scope[TURN] = turn


LOOP_PATIENCE = 0.002
"""How long the event loop waits for SQLite's write lock (taken by another server process)
before it hands the wait to a thread: most transactions here end well within it, and the
hand-off (a thread's wake-up and the GIL passed back and forth) cost more CPU than the short
wait, about 7% of the throughput of two workers on two cores."""


async def on_store(request: Request, session: Session, work: Callable[[], _T]) -> _T:
    """Run ``work``, a request's database work in ``session``.

    On SQLite, while the request holds its turn, the work runs in the event loop itself, its
    transaction begun first: if the write lock is free or frees within ``LOOP_PATIENCE``
    (another process's transaction ending), in the loop, else by waiting for the lock in a
    thread, so the loop never waits long. The work is CPU (SQLite's pages are in memory and
    a transaction here takes well under a millisecond), and running it in a thread added
    hand-offs of Python's GIL between the loop and the thread that cost more than the work.
    On PostgreSQL, whose round trips would stall the loop, it runs in the thread pool.
    ``work`` must be safe to run again when a transaction of its own could not begin in
    time (one transaction, committed last, is)."""
    if request.scope.get(TURN) is None:
        return await run_in_threadpool(work)
    if not begin_at_once(session, patience=LOOP_PATIENCE):
        await run_in_threadpool(connection_of, session)
    try:
        with without_waiting(LOOP_PATIENCE):
            return work()
    except WouldWait:
        # A second transaction of the work (a refusal's lookup of a concurrent answer) found
        # the lock taken: nothing was committed, so the work runs again where it may wait.
        session.rollback()
        return await run_in_threadpool(work)


def _turn(app: Any) -> asyncio.Lock | None:
    if not app.state.one_writer:
        return None
    loop = asyncio.get_running_loop()
    turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]
    turns = app.state.session_turns
    turn = turns.get(loop)
    if turn is None:
        turn = turns[loop] = asyncio.Lock()
    return turn


def now_of(request: Request) -> datetime:
    """The instant this request happens: the application's clock, read once per request so
    that everything the request does and checks happens at the same instant."""
    now: datetime | None = request.scope.get(_NOW)
    if now is None:
        clock: Clock = request.app.state.clock
        now = request.scope[_NOW] = clock.now()
    return now


_NOW = "panjereh.now"


async def get_now(request: Request) -> datetime:
    """The instant this request happens (:func:`now_of`)."""
    return now_of(request)


SessionDep = Annotated[Session, Depends(get_session)]


async def get_principal(
    request: Request, token: Annotated[str | None, Depends(oauth2)], session: SessionDep
) -> Principal:
    """The signed-in principal; every endpoint but sign-in and health needs one.

    A person sends a short-lived JWT from /api/v1/auth/token; an agency's system sends its
    machine key (``pjk_…``). A request made with a machine key is marked on ``request.state``
    so that a refusal lands in the security log, whatever refuses it.
    """
    if not token:
        raise Unauthorized("sign in first: send a bearer token from /api/v1/auth/token")
    if not token.startswith(credentials.KEY_PREFIX):
        settings: Settings = request.app.state.settings
        return tokens.read(token, secret=settings.secret_key, now=now_of(request))
    machine_key = credentials.parse(token)
    if machine_key is None:
        request.state.machine = {"key_id": None, "agency": None}
        raise Unauthorized("a machine key reads pjk_<key id>_<secret>")
    request.state.machine = {"key_id": machine_key[0][:24], "agency": None}
    principal = await run_in_threadpool(credentials.authenticate, session, *machine_key)
    request.state.machine["agency"] = principal.agency_code
    return principal


NowDep = Annotated[datetime, Depends(get_now)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Any unique string; a retry with the same key returns the first response.",
    ),
]
