"""The dashboard's tables: the projector's position, rollups, and what is open now.

Nothing here is written by the request that changes state: the projector fills these tables
from the event log, in the same transaction as it advances its position, so they are always
exactly the sum of the events up to ``dashboard_position.seq`` (and ``panjereh dashboard
rebuild`` can drop and refill them).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from panjereh.db import Base, UTCDateTime

MEASURES: tuple[str, ...] = (
    "received",
    "answered",
    "approved",
    "rejected",
    "on_time",
    "info_requests",
    "replies",
    "lapsed",
    "withdrawn",
    "agency_minutes",
    "elapsed_minutes",
    "paused_minutes",
    "escalations_1",
    "escalations_2",
    "escalations_3",
    "escalations_4",
    "cleared",
    "clearance_minutes",
    "capital_usd_minutes",
    "value_received_usd",
    "declarations_filed",
    "declarations_refused",
    "declarations_cancelled",
    "goods_capital_usd_minutes",
    "goods_value_filed_usd",
)
"""The counters of a rollup row, in the order the projector keeps them."""
HISTOGRAMS: tuple[str, ...] = ("hist_agency", "hist_elapsed", "hist_clearance")
"""Histograms of a rollup row: agency business minutes to answer, elapsed minutes to answer
(as the trader felt it), and minutes from filing to clearance."""


class DashboardPosition(Base):
    """The one row saying how far the projector has read the event log."""

    __tablename__ = "dashboard_position"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    event_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    projected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class DashboardRollup(Base):
    """Counters and histograms for one group over one period.

    ``dimension`` is ``all`` (the group is an agency, or the nation when ``agency`` is
    ``*``), ``type``, ``province``, ``office`` or ``chapter`` (``key`` names the value);
    ``agency`` is ``*`` for national figures. ``grain`` and ``period`` name the period: a
    Tehran day (``d``, a date ordinal), a week from Saturday (``w``, the Saturday's
    ordinal), a Gregorian month (``m``, ``yyyymm``), a Jalali month (``j``, ``yyyymm``) or all
    time (``a``, 0).
    """

    __tablename__ = "dashboard_rollups"

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(8), primary_key=True)
    agency: Mapped[str] = mapped_column(String(16), primary_key=True)
    period: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    answered: Mapped[int] = mapped_column(BigInteger, default=0)
    approved: Mapped[int] = mapped_column(BigInteger, default=0)
    rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    on_time: Mapped[int] = mapped_column(BigInteger, default=0)
    info_requests: Mapped[int] = mapped_column(BigInteger, default=0)
    replies: Mapped[int] = mapped_column(BigInteger, default=0)
    lapsed: Mapped[int] = mapped_column(BigInteger, default=0)
    withdrawn: Mapped[int] = mapped_column(BigInteger, default=0)
    agency_minutes: Mapped[int] = mapped_column(BigInteger, default=0)
    elapsed_minutes: Mapped[int] = mapped_column(BigInteger, default=0)
    paused_minutes: Mapped[int] = mapped_column(BigInteger, default=0)
    escalations_1: Mapped[int] = mapped_column(BigInteger, default=0)
    escalations_2: Mapped[int] = mapped_column(BigInteger, default=0)
    escalations_3: Mapped[int] = mapped_column(BigInteger, default=0)
    escalations_4: Mapped[int] = mapped_column(BigInteger, default=0)
    cleared: Mapped[int] = mapped_column(BigInteger, default=0)
    clearance_minutes: Mapped[int] = mapped_column(BigInteger, default=0)
    capital_usd_minutes: Mapped[int] = mapped_column(BigInteger, default=0)
    value_received_usd: Mapped[int] = mapped_column(BigInteger, default=0)
    declarations_filed: Mapped[int] = mapped_column(BigInteger, default=0)
    declarations_refused: Mapped[int] = mapped_column(BigInteger, default=0)
    declarations_cancelled: Mapped[int] = mapped_column(BigInteger, default=0)
    goods_capital_usd_minutes: Mapped[int] = mapped_column(BigInteger, default=0)
    goods_value_filed_usd: Mapped[int] = mapped_column(BigInteger, default=0)
    hist_agency: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    hist_elapsed: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    hist_clearance: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class DashboardOpenCell(Base):
    """What is open now in one finest group, and how far its capital-days are counted.

    ``agency`` ``-`` holds declarations (goods waiting, counted once per declaration) rather
    than inquiries. ``integrated_to`` is the instant (epoch minutes) up to which
    ``value_usd`` × time is already added to the rollups; the rest, to now, is added when read.
    """

    __tablename__ = "dashboard_open_cells"

    agency: Mapped[str] = mapped_column(String(16), primary_key=True)
    inquiry_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    province: Mapped[str] = mapped_column(String(8), primary_key=True)
    customs_office: Mapped[str] = mapped_column(String(16), primary_key=True)
    hs_chapter: Mapped[str] = mapped_column(String(2), primary_key=True)
    open: Mapped[int] = mapped_column(Integer, default=0)
    paused: Mapped[int] = mapped_column(Integer, default=0)
    value_usd: Mapped[int] = mapped_column(BigInteger, default=0)
    integrated_to: Mapped[int] = mapped_column(BigInteger, default=0)


class DashboardOpenInquiry(Base):
    """One open inquiry as the projector follows it: its group, value, clock and level."""

    __tablename__ = "dashboard_open_inquiries"
    __table_args__ = (
        Index("ix_dashboard_open_inquiries_overdue", "paused", "due_at"),
        Index("ix_dashboard_open_inquiries_agency_overdue", "agency", "paused", "due_at"),
    )

    inquiry_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    declaration_id: Mapped[int] = mapped_column(Integer)
    agency: Mapped[str] = mapped_column(String(16))
    inquiry_type: Mapped[str] = mapped_column(String(32))
    province: Mapped[str] = mapped_column(String(8))
    customs_office: Mapped[str] = mapped_column(String(16))
    hs_chapter: Mapped[str] = mapped_column(String(2))
    value_usd: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    segment_start: Mapped[datetime] = mapped_column(UTCDateTime())
    agency_minutes: Mapped[int] = mapped_column(Integer, default=0)
    paused_minutes: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[int] = mapped_column(Integer, default=0)


class DashboardOpenDeclaration(Base):
    """One declaration under inquiry: its goods' group and value, and when it was filed."""

    __tablename__ = "dashboard_open_declarations"

    declaration_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    province: Mapped[str] = mapped_column(String(8))
    customs_office: Mapped[str] = mapped_column(String(16))
    hs_chapter: Mapped[str] = mapped_column(String(2))
    value_usd: Mapped[int] = mapped_column(BigInteger)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DashboardReason(Base):
    """How often an agency gave one (normalised) reason to reject, per period."""

    __tablename__ = "dashboard_reasons"

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    agency: Mapped[str] = mapped_column(String(16), primary_key=True)
    period: Mapped[int] = mapped_column(Integer, primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class DashboardSignIn(Base):
    """How often a user signed in on one Tehran day (the adoption figures: active users and
    sign-ins by province and role). Written by the sign-in, one small upsert."""

    __tablename__ = "dashboard_sign_ins"

    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    role: Mapped[str] = mapped_column(String(20))
    province: Mapped[str] = mapped_column(String(8), default="")
    count: Mapped[int] = mapped_column(Integer, default=1)
