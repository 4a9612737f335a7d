"""What administrators add to the official calendar."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Date, ForeignKey, Integer, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from panjereh.db import Base, UTCDateTime


class WorkingWeekRecord(Base):
    """A change to one agency's working week, in force from a date (e.g. Thursdays added)."""

    __tablename__ = "agency_working_weeks"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    weekend: Mapped[str] = mapped_column(String(40))  # e.g. "THU FRI"
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)
    cutoff: Mapped[time] = mapped_column(Time)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))


class ClosureRecord(Base):
    """Whole days on which offices are closed: nationally, or in one province."""

    __tablename__ = "calendar_closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    province: Mapped[str | None] = mapped_column(String(8), default=None)
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))


class HolidayCorrectionRecord(Base):
    """A lunar holiday that fell on another day than the ``holidays`` package estimated."""

    __tablename__ = "holiday_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    moved_from: Mapped[date] = mapped_column(Date)
    moved_to: Mapped[date | None] = mapped_column(Date, default=None)
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))


class CalendarRevision(Base):
    """A counter bumped by every calendar change, so every process knows to rebuild."""

    __tablename__ = "calendar_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
