"""The application factory."""

from __future__ import annotations

import weakref
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from panjereh import __version__, errors, web
from panjereh.agencies.router import router as reference_router
from panjereh.auth.router import router as auth_router
from panjereh.calendars.router import router as calendars_router
from panjereh.clock import Clock, SystemClock
from panjereh.config import Settings, get_settings
from panjereh.dashboard import page as dashboard_page
from panjereh.dashboard.router import router as dashboard_router
from panjereh.db import make_engine, make_session_factory
from panjereh.declarations.router import router as declarations_router
from panjereh.escalation.router import router as escalation_router
from panjereh.exchange import security
from panjereh.exchange.router import router as exchange_router
from panjereh.inquiries.router import router as inquiries_router
from panjereh.notifications.router import router as notifications_router
from panjereh.reports.router import router as reports_router


class BodySizeLimit:
    """Refuse request bodies over the limit with a 413 problem, before anything parses them."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = errors.problem(
            413,
            slug="body-too-large",
            detail=f"the request body is larger than {self.max_bytes} bytes",
            errors=[errors.FieldError("body", f"at most {self.max_bytes} bytes")],
        )
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """Build the application for ``settings`` (from the environment if not given)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Panjereh — national trade single window",
        version=__version__,
        description=(
            "File once; every agency that must answer gets its inquiry at the same moment. "
            "Errors are RFC 9457 problem details (`application/problem+json`)."
        ),
    )
    engine = make_engine(settings.database_url, echo=settings.sql_echo)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.one_writer = engine.dialect.name == "sqlite"  # see api.deps.get_session
    app.state.session_turns = weakref.WeakKeyDictionary()
    app.state.clock = clock or SystemClock()
    errors.install(app, on_refusal=security.record_refusal)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    for router in (
        auth_router,
        declarations_router,
        inquiries_router,
        escalation_router,
        notifications_router,
        calendars_router,
        reports_router,
        dashboard_router,
        exchange_router,
        reference_router,
    ):
        app.include_router(router)
    web.install(app)
    dashboard_page.install(app)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, Any]:
        """Liveness and database reachability (no authentication: for load balancers)."""
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    return app
