"""Running a state-changing request at most once per ``Idempotency-Key``.

The first response is stored in the same transaction as the change it reports, so either both
exist or neither does: a client that timed out can retry with the same key and gets the first
answer, and the change is not made twice. The same key with a different request is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from panjereh.auth.principal import Principal
from panjereh.db import delete_some
from panjereh.errors import Conflict, DomainError, Invalid
from panjereh.idempotency.models import IdempotencyRecord
from panjereh.statements import Prepared, insert_row
from panjereh.testing import crashpoint

MAX_KEY_LENGTH = 200
IDEMPOTENCY_HEADER = "Idempotency-Key"


class Encoded(str):
    """A response body already encoded as JSON text."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a request answered, and whether this is the stored answer to a retry.

    ``body`` is a JSON-able value, or :class:`Encoded` text (see :meth:`of`)."""

    status_code: int
    body: Any
    replayed: bool = False

    @classmethod
    def of(cls, status_code: int, model: BaseModel) -> Outcome:
        """An answer made of a response model, encoded once (by pydantic) for both the
        response and the stored answer."""
        return cls(status_code, Encoded(model.model_dump_json()))


def _fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


# Built once: every creating or deciding request looks its key up, and most store one.
_STORED = Prepared(
    select(
        IdempotencyRecord.request_hash,
        IdempotencyRecord.status_code,
        IdempotencyRecord.response_body,
    ).where(
        IdempotencyRecord.user_id == bindparam("user_id"),
        IdempotencyRecord.key == bindparam("key"),
    )
)
_STORE = insert_row(IdempotencyRecord.__table__)  # type: ignore[arg-type]


def _stored(session: Session, user_id: int, key: str) -> Any:
    return _STORED.first(session, {"user_id": user_id, "key": key})


def _replay(record: Any, fingerprint: str, key_field: str) -> Outcome:
    if record.request_hash != fingerprint:
        detail = f"this {key_field} was already used for a different request"
        if key_field == IDEMPOTENCY_HEADER:
            raise Invalid(detail, field=key_field, slug="idempotency-key-reused")
        # A message id an agency's system reuses for another message: a replay, not a typo.
        raise Conflict(detail, field=key_field, slug="message-id-reused")
    return Outcome(record.status_code, json.loads(record.response_body), replayed=True)


def run_once(
    *,
    session: Session,
    principal: Principal,
    key: str | None,
    method: str,
    path: str,
    body: bytes,
    at: datetime,
    action: Callable[[], Outcome],
    key_field: str = IDEMPOTENCY_HEADER,
) -> Outcome:
    """Run ``action`` and commit, unless ``key`` already has a stored answer to return."""
    if key is None or principal.id is None:
        outcome = action()
        crashpoint("request.before_commit")
        session.commit()
        return outcome
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isascii():
        raise Invalid(f"must be 1 to {MAX_KEY_LENGTH} ASCII characters", field=key_field)
    fingerprint = _fingerprint(method, path, body)
    existing = _stored(session, principal.id, key)
    if existing is not None:
        return _replay(existing, fingerprint, key_field)
    try:
        outcome = action()
    except DomainError:
        # A concurrent request with the same key may have won while this one waited for its
        # locks, leaving a state this one cannot change again (an inquiry already decided):
        # answer as the winner did.
        session.rollback()
        winner = _stored(session, principal.id, key)
        if winner is None:
            raise
        return _replay(winner, fingerprint, key_field)
    crashpoint("request.before_commit")
    try:
        _STORE.run(
            session,
            {
                "user_id": principal.id,
                "key": key,
                "method": method,
                "path": path,
                "request_hash": fingerprint,
                "status_code": outcome.status_code,
                "response_body": _text(outcome.body),
                "created_at": at,
            },
        )
        session.commit()
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as it did.
        session.rollback()
        winner = _stored(session, principal.id, key)
        if winner is None:
            raise
        return _replay(winner, fingerprint, key_field)
    return outcome


def _text(body: Any) -> str:
    return body if isinstance(body, Encoded) else json.dumps(body, ensure_ascii=False)


def purge(session: Session, *, before: datetime, limit: int) -> int:
    """Forget up to ``limit`` stored answers made before ``before``, oldest first; how many.

    A retry after that runs as a new request: a decision finds its inquiry closed (409), a
    filing files again. Clients retry within minutes; the retention is days.
    """
    return delete_some(
        session,
        IdempotencyRecord.id,
        IdempotencyRecord.created_at < before,
        order_by=IdempotencyRecord.created_at,
        limit=limit,
    )
