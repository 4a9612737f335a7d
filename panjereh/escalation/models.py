"""Escalation policies and the steps that fired."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from panjereh.db import Base, JSONValue, UTCDateTime


class EscalationPolicyRecord(Base):
    """One version of the escalation ladder of one inquiry type."""

    __tablename__ = "escalation_policies"
    __table_args__ = (UniqueConstraint("inquiry_type", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_type: Mapped[str] = mapped_column(ForeignKey("inquiry_types.code"))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))


class EscalationFiring(Base):
    """A ladder step that fired for an inquiry: at most once per (inquiry, cycle, step)."""

    __tablename__ = "escalation_firings"
    __table_args__ = (UniqueConstraint("inquiry_id", "cycle", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id"), index=True)
    cycle: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fired_by: Mapped[str] = mapped_column(String(64))
