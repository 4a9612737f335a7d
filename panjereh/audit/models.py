"""Events and the head of their hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from panjereh.db import Base, BigId, JSONValue, UTCDateTime


class Event(Base):
    """One state change: who, when, what, the state before and after, chained to the previous."""

    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(Integer, default=None)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(48))
    declaration_id: Mapped[int | None] = mapped_column(Integer, index=True, default=None)
    inquiry_id: Mapped[int | None] = mapped_column(Integer, index=True, default=None)
    before: Mapped[str | None] = mapped_column(String(20), default=None)
    after: Mapped[str | None] = mapped_column(String(20), default=None)
    data: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ChainHead(Base):
    """The single row holding the newest event's sequence number and hash.

    Locking this row is what orders concurrent writers on PostgreSQL; on SQLite the
    database-wide write lock does it already.
    """

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
