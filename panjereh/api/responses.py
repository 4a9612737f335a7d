"""Response helpers shared by routers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from panjereh.api.deps import on_store
from panjereh.auth.principal import Principal
from panjereh.errors import PROBLEM_JSON
from panjereh.idempotency.service import IDEMPOTENCY_HEADER, Encoded, Outcome, run_once

# RFC 9457 problem details as Panjereh writes them (inline, so it needs no registered model).
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "example": "/problems/validation"},
        "title": {"type": "string", "example": "Unprocessable Content"},
        "status": {"type": "integer", "example": 422},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
}
_PROBLEM = {"content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}}

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in, or the token is not valid", **_PROBLEM},
    403: {"description": "This role may not do this", **_PROBLEM},
    404: {"description": "Not found among what the caller may see", **_PROBLEM},
    409: {"description": "Not allowed in the resource's current state", **_PROBLEM},
    413: {"description": "The body is larger than the limit", **_PROBLEM},
    422: {"description": "A field is invalid: `errors` names it and why", **_PROBLEM},
}


async def respond_once(
    request: Request,
    *,
    session: Session,
    principal: Principal,
    key: str | None,
    path: str,
    body: bytes,
    at: datetime,
    action: Callable[[], Outcome],
    key_field: str = IDEMPOTENCY_HEADER,
) -> Response:
    """Answer a creating or deciding POST, run at most once per ``Idempotency-Key`` (or per
    the message id an agency's system sends), its work run on the store as
    :func:`~panjereh.api.deps.on_store` runs it (on SQLite, in the event loop)."""
    outcome = await on_store(
        request,
        session,
        lambda: run_once(
            session=session,
            principal=principal,
            key=key,
            key_field=key_field,
            method="POST",
            path=path,
            body=body,
            at=at,
            action=action,
        ),
    )
    return outcome_response(outcome)


def outcome_response(outcome: Outcome) -> Response:
    """The JSON response for an idempotent outcome, marking a replayed answer."""
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    if isinstance(outcome.body, Encoded):
        return Response(
            outcome.body.encode(),
            status_code=outcome.status_code,
            headers=headers,
            media_type="application/json",
        )
    return JSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)
