"""Decisions from agencies' systems: signed, carrying the agency's own message id.

A machine's decision must carry ``X-Panjereh-Message-Id`` (unique per agency: a repeat returns
the first result, the same id with another body is a 409) and ``X-Panjereh-Signature`` over the
timestamp, the message id and the exact body, with the agency's signing secret. Both are kept in
the event the decision writes, with the credential's key id: who said what, provably.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from panjereh.api.deps import now_of
from panjereh.auth.models import Role
from panjereh.auth.principal import Principal
from panjereh.errors import Invalid, Unauthorized
from panjereh.exchange.service import agency_connection
from panjereh.exchange.signing import MESSAGE_ID_HEADER, SIGNATURE_HEADER, BadSignature, verify

MAX_MESSAGE_ID = 200


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a machine's request came from, as the event log keeps it."""

    message_id: str
    signature: str
    key_id: str | None

    def as_data(self) -> dict[str, str | None]:
        """The event's record of it."""
        return {
            "message_id": self.message_id,
            "signature": self.signature,
            "key_id": self.key_id,
        }


async def machine_provenance(
    request: Request, principal: Principal, session: Session
) -> Provenance | None:
    """For a request from an agency's system: its verified message id and signature (401
    if the signature is missing, wrong or stale). None for people."""
    if principal.role != Role.AGENCY_SYSTEM:
        return None
    message_id = request.headers.get(MESSAGE_ID_HEADER, "")
    if not 1 <= len(message_id) <= MAX_MESSAGE_ID or not message_id.isascii():
        raise Invalid(
            f"an agency's system names each decision with 1 to {MAX_MESSAGE_ID} ASCII characters",
            field=MESSAGE_ID_HEADER,
        )
    connection = await run_in_threadpool(agency_connection, session, principal.agency_code or "")
    if connection is None:
        raise Unauthorized(
            f"agency {principal.agency_code} has no connected system, so no key to sign with",
            slug="bad-signature",
        )
    header = request.headers.get(SIGNATURE_HEADER)
    now = now_of(request)
    secret, *old = connection.secrets_in_force(now)  # old: a rotation's, while it lasts
    try:
        verify(
            secret,
            header,
            await request.body(),
            now=now.timestamp(),
            message_id=message_id,
            also=old,
        )
    except BadSignature as bad:
        raise Unauthorized(str(bad), field=SIGNATURE_HEADER, slug="bad-signature") from None
    assert header is not None
    return Provenance(message_id, header, principal.key_id)
