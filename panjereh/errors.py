"""The one error format: RFC 9457 problem details (``application/problem+json``).

Flows raise :class:`DomainError` subclasses; the handlers here turn them, request-validation
errors and HTTP errors into problem documents that name the field and the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.orm.exc import StaleDataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One field that is wrong, and why."""

    field: str
    reason: str


class DomainError(Exception):
    """A request that the domain refuses; subclasses fix the HTTP status."""

    status = 400
    slug = "bad-request"

    def __init__(self, detail: str, *, field: str | None = None, slug: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = [FieldError(field, detail)] if field else []
        if slug:
            self.slug = slug

    @property
    def headers(self) -> dict[str, str] | None:
        """Headers the answer carries besides the problem document."""
        return None


class Unauthorized(DomainError):
    """No valid credentials."""

    status, slug = 401, "unauthorized"

    @property
    def headers(self) -> dict[str, str] | None:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(DomainError):
    """Authenticated, but this role may not do this."""

    status, slug = 403, "forbidden"


class NotFound(DomainError):
    """No such resource within what the caller may see."""

    status, slug = 404, "not-found"


class Conflict(DomainError):
    """The resource is not in a state that allows this (for example, already decided)."""

    status, slug = 409, "conflict"


class Invalid(DomainError):
    """The request is well-formed but its content is refused."""

    status, slug = 422, "invalid"


class TooManyRequests(DomainError):
    """Refused for a while; ``retry_after`` says how many seconds."""

    status, slug = 429, "too-many-requests"

    def __init__(self, detail: str, *, retry_after: int, slug: str | None = None) -> None:
        super().__init__(detail, slug=slug)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)}


class StoreBusy(DomainError):
    """The store's write lock stayed taken for longer than a request waits; try again."""

    status, slug = 503, "store-busy"

    @property
    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": "1"}


def problem(
    status: int,
    *,
    slug: str,
    detail: str,
    errors: list[FieldError] | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Build a problem+json response."""
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [{"field": e.field, "reason": e.reason} for e in errors]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "items", 0, "hs_code")`` → ``items[0].hs_code``."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "form"):
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


def _clean_reason(message: str) -> str:
    return message.removeprefix("Value error, ")


RefusalHook = Callable[[Request, int, str, str], None]


async def _noted(request: Request, response: JSONResponse, slug: str, detail: str) -> JSONResponse:
    """Hand a refused machine request to the application's refusal hook (the security log);
    not an answer the server could not give (5xx: the store was busy)."""
    hook: RefusalHook | None = getattr(request.app.state, "on_refusal", None)
    machine = getattr(request.state, "machine", None)
    if hook is not None and machine is not None and response.status_code < 500:
        await run_in_threadpool(hook, request, response.status_code, slug, detail)
    return response


def install(app: FastAPI, *, on_refusal: RefusalHook | None = None) -> None:
    """Register the problem+json handlers on ``app``; ``on_refusal`` hears of every request
    refused that was made with a machine credential (marked on ``request.state.machine``)."""
    app.state.on_refusal = on_refusal

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        response = problem(
            exc.status,
            slug=exc.slug,
            detail=exc.detail,
            errors=exc.errors,
            instance=request.url.path,
            headers=exc.headers,
        )
        return await _noted(request, response, exc.slug, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            FieldError(field_path(e.get("loc", ())), _clean_reason(str(e.get("msg", ""))))
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e.field}: {e.reason}" for e in errors[:5]) or "invalid request"
        response = problem(
            422, slug="validation", detail=detail, errors=errors, instance=request.url.path
        )
        return await _noted(request, response, "validation", detail)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        # A guarded update found the row's version moved: someone else changed it first.
        return problem(
            409,
            slug="concurrent-change",
            detail="changed by someone else at the same moment; reload and retry",
            instance=request.url.path,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "-")
        response = problem(
            exc.status_code,
            slug=slug,
            detail=str(exc.detail),
            instance=request.url.path,
            headers=dict(exc.headers) if exc.headers else None,
        )
        return await _noted(request, response, slug, str(exc.detail))
