"""The web application: server-rendered pages in Persian (default) and English.

``install(app)`` adds the pages to the API application: the session cookie middleware, the
static files (``/static``; the fonts and scripts under ``static/vendor`` are copied from npm
packages by ``python -m panjereh.web.assets``), the page routes, and HTML error pages for
browsers on paths outside the API. See ``docs/web.md``.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from panjereh.clock import Clock
from panjereh.web.core import error_page
from panjereh.web.pages import router
from panjereh.web.sessions import SessionMiddleware
from panjereh.web.templating import STATIC_DIR

_API_PREFIXES = ("/api/", "/docs", "/redoc", "/openapi.json", "/healthz", "/static/")


def _wants_page(request: Request) -> bool:
    accepts_html = "text/html" in request.headers.get("accept", "")
    return accepts_html and not request.url.path.startswith(_API_PREFIXES)


def install(app: FastAPI) -> None:
    """Add the web pages to ``app`` (once; a second call changes nothing)."""
    if getattr(app.state, "web_installed", False):
        return
    app.state.web_installed = True
    clock: Clock = app.state.clock
    app.add_middleware(SessionMiddleware, settings=app.state.settings, now=clock.now)
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    app.include_router(router)

    api_handler = app.exception_handlers.get(StarletteHTTPException)

    async def http_error(request: Request, exc: Exception) -> Response:
        # A browser that follows a dead link gets a page; API clients keep problem+json.
        if isinstance(exc, StarletteHTTPException) and _wants_page(request):
            return error_page(
                request, exc.status_code if exc.status_code in (403, 404, 405) else 404
            )
        if api_handler is None:
            raise exc
        response: Response = await api_handler(request, exc)  # type: ignore[misc]
        return response

    app.add_exception_handler(StarletteHTTPException, http_error)
