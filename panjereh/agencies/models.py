"""Agencies and inquiry types."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from panjereh.db import Base


class Agency(Base):
    """A government body that answers inquiries (or, for customs, releases the goods)."""

    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_fa: Mapped[str] = mapped_column(String(200))
    weekend: Mapped[str] = mapped_column(String(40))  # e.g. "THU FRI"
    published_service_time: Mapped[str] = mapped_column(String(200), default="")
    evidence: Mapped[str] = mapped_column(String(400), default="")


class InquiryType(Base):
    """One kind of answer an agency gives (a permit, a certificate, an approval)."""

    __tablename__ = "inquiry_types"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    name_en: Mapped[str] = mapped_column(String(200))
    name_fa: Mapped[str] = mapped_column(String(200))
    sla_business_days: Mapped[int] = mapped_column(Integer)
    trader_reply_business_days: Mapped[int] = mapped_column(Integer, default=10)
