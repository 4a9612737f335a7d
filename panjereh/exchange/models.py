"""An agency's connection, its machine credentials, the messages it is sent, refusals."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from panjereh.db import Base, BigId, JSONValue, UTCDateTime


class Mode(StrEnum):
    """How an agency's system receives its inquiries."""

    PUSH = "push"  # Panjereh POSTs each message to the agency's endpoint
    PULL = "pull"  # the agency's system fetches its inbox and acknowledges


class AgencyConnection(Base):
    """How Panjereh reaches one agency's own system. No row: the agency works in the web
    pages only, and nothing is queued for a system it does not have."""

    __tablename__ = "agency_connections"

    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))
    endpoint_url: Mapped[str | None] = mapped_column(String(500), default=None)
    # HMAC-SHA256 key for messages both ways. Kept as it is (signing needs it), shown once.
    signing_secret: Mapped[str] = mapped_column(String(128))
    # After a rotation, the old secret still signs and is still accepted until then.
    previous_secret: Mapped[str | None] = mapped_column(String(128), default=None)
    previous_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def secrets_in_force(self, now: datetime) -> tuple[str, ...]:
        """The secret, then the old one while a rotation's overlap lasts."""
        if self.previous_secret and self.previous_until is not None and now < self.previous_until:
            return (self.signing_secret, self.previous_secret)
        return (self.signing_secret,)


class MachineCredential(Base):
    """An API key with which one agency's system acts for that agency, and only it.

    Only a SHA-256 digest of the key's secret part is stored: the secret is 256 random bits,
    so a slow password hash would add nothing but cost on every machine request.
    """

    __tablename__ = "machine_credentials"

    key_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), index=True)
    # The agency's system user: what events, decisions and idempotency records name.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    secret_sha256: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class MessageKind(StrEnum):
    """What a message to an agency says."""

    INQUIRY_CREATED = "inquiry.created"
    INQUIRY_REPLIED = "inquiry.replied"  # the trader answered the agency's request
    INQUIRY_WITHDRAWN = "inquiry.withdrawn"  # the declaration was cancelled
    INQUIRY_LAPSED = "inquiry.lapsed"  # the trader did not answer the agency in time


class AgencyMessage(Base):
    """One message to an agency's system, written in the transaction of the change it tells
    of, and the record of its delivery (pushed and answered 2xx, or pulled and acknowledged).
    """

    __tablename__ = "agency_messages"
    __table_args__ = (
        # The pull inbox: an agency's unacknowledged messages in order.
        Index("ix_agency_messages_inbox", "agency_code", "delivered_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    kind: Mapped[str] = mapped_column(String(32))
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id"), index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class SecurityEvent(Base):
    """A refused machine request: bad credential or signature, a replay, another agency's
    inquiry, a body off the schema. Written in a transaction of its own, so it stays when
    the request's work is rolled back."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(48))
    agency_code: Mapped[str | None] = mapped_column(String(16), default=None)
    key_id: Mapped[str | None] = mapped_column(String(24), default=None)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(300))
    client: Mapped[str | None] = mapped_column(String(64), default=None)
    message_id: Mapped[str | None] = mapped_column(String(200), default=None)
    detail: Mapped[str] = mapped_column(Text)
