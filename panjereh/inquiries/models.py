"""Inquiries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from panjereh.db import Base, JSONValue, UTCDateTime


class Inquiry(Base):
    """One agency's answer that a declaration waits on.

    It keeps its own copy of why it exists (rule, rule-set version, reason) and of its service
    level and deadline, so that a later rule set or policy never rewrites history.
    """

    __tablename__ = "inquiries"
    __table_args__ = (
        Index("ix_inquiries_agency_state_due", "agency_code", "state", "due_at"),
        # The agency's whole open queue by deadline, across its two open states.
        Index("ix_inquiries_agency_due", "agency_code", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("declarations.id"), index=True)
    inquiry_type: Mapped[str] = mapped_column(ForeignKey("inquiry_types.code"))
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    # The declaration's province, copied: the office that answers works by its calendar.
    province: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(20))
    rule_set_version: Mapped[int] = mapped_column(Integer)
    rule_codes: Mapped[list[str]] = mapped_column(JSONValue)
    reason_en: Mapped[str] = mapped_column(Text)
    reason_fa: Mapped[str] = mapped_column(Text)
    item_lines: Mapped[list[int]] = mapped_column(JSONValue)
    sla_business_days: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    calendar_version: Mapped[str] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    decision_reason: Mapped[str | None] = mapped_column(Text, default=None)
    info_request: Mapped[dict[str, Any] | None] = mapped_column(JSONValue, default=None)
    # The service-level clock (see panjereh.sla.clock and panjereh.inquiries.clock): the whole
    # budget in business minutes; when the current running segment began; the budget left at
    # the start of the current segment (at running_since, or at paused_at while paused).
    budget_minutes: Mapped[int] = mapped_column(Integer)
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    remaining_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    trader_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The escalation ladder it took at creation (an immutable version of its type's policy),
    # and where the inquiry stands on it.
    policy_version: Mapped[int] = mapped_column(Integer)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    next_action_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - read once by the mapper
